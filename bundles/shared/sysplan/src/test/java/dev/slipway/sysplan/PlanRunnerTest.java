package dev.slipway.sysplan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.platform.CommandRunner;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class PlanRunnerTest {

    @TempDir
    Path dir;

    @Test
    void stepsRunInOrderWithModesAndCommandsThroughTheCommandRunner() throws IOException {
        List<List<String>> ran = new ArrayList<>();
        CommandRunner recorder = (command, timeout) -> {
            ran.add(command);
            return new CommandRunner.Result(0, "", "");
        };
        Path unit = dir.resolve("etc/systemd/system/slipway-helper.service");
        Path old = dir.resolve("old.conf");
        Files.writeString(old, "x");
        new PlanRunner(recorder).apply(SystemPlan.of(List.of(
                new SystemPlan.WriteFile(unit, "[Unit]\n", "0644"),
                new SystemPlan.RunCommand(List.of("systemctl", "daemon-reload"), false),
                new SystemPlan.RemoveFile(old))));
        assertEquals("[Unit]\n", Files.readString(unit));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(unit)));
        assertEquals(List.of(List.of("systemctl", "daemon-reload")), ran);
        assertFalse(Files.exists(old));
    }

    @Test
    void aFailingCommandStopsThePlanUnlessItMayFail() {
        CommandRunner failing = (command, timeout) -> new CommandRunner.Result(3, "", "no such unit");
        PlanRunner runner = new PlanRunner(failing);
        IOException e = assertThrows(IOException.class, () -> runner.apply(SystemPlan.of(List.of(
                new SystemPlan.RunCommand(List.of("systemctl", "stop", "x"), false),
                new SystemPlan.WriteFile(dir.resolve("after"), "", "0644")))));
        assertTrue(e.getMessage().contains("no such unit"));
        assertFalse(Files.exists(dir.resolve("after")));
    }

    @Test
    void aFileIsNotWrittenThroughALink() throws IOException {
        Path victim = dir.resolve("victim");
        Files.writeString(victim, "keep");
        Path link = dir.resolve("unit");
        Files.createSymbolicLink(link, victim);
        new PlanRunner((c, t) -> new CommandRunner.Result(0, "", "")).apply(SystemPlan.of(List.of(
                new SystemPlan.WriteFile(link, "new", "0600"))));
        assertEquals("keep", Files.readString(victim));
        assertEquals("new", Files.readString(link));
        assertFalse(Files.isSymbolicLink(link));
    }

    @Test
    void modesAreConvertedFromOctal() {
        assertEquals("rw-r--r--", PlanRunner.symbolic("0644"));
        assertEquals("rwxr-x---", PlanRunner.symbolic("750"));
    }
}
