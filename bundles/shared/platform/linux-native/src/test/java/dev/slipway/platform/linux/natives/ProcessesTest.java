package dev.slipway.platform.linux.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ProcessesTest {
    static final Map<String, String> ENVIRONMENT = Map.of("PATH", "/usr/bin:/bin", "LC_ALL", "C");

    @TempDir
    Path dir;

    @Test
    void theChildHoldsExactlyTheHandedDescriptors() throws IOException {
        Path out = dir.resolve("out");
        int devNull = FileDescriptors.open("/dev/null", FileDescriptors.O_RDONLY | FileDescriptors.O_CLOEXEC, 0);
        int output = FileDescriptors.open(out.toString(), FileDescriptors.O_WRONLY | FileDescriptors.O_CREAT
                | FileDescriptors.O_CLOEXEC, 0600);
        // neither handed nor close-on-exec: only the close of everything else keeps it from the child
        int leaked = FileDescriptors.open("/dev/null", FileDescriptors.O_RDONLY, 0);
        try {
            // the shell lists its own descriptors ($$): ls runs in a child of it, whose directory descriptor is not the shell's
            int pid = Processes.spawn(List.of("/bin/sh", "-c", "ls /proc/$$/fd; :"), ENVIRONMENT,
                    Map.of(0, devNull, 1, output, 2, output, 7, devNull));
            assertEquals(0, Processes.awaitExit(pid), Files.readString(out));
        } finally {
            FileDescriptors.closeQuietly(devNull);
            FileDescriptors.closeQuietly(output);
            FileDescriptors.closeQuietly(leaked);
        }
        Set<String> seen = Files.readAllLines(out).stream().map(String::strip).filter(l -> !l.isEmpty())
                .collect(Collectors.toSet());
        assertEquals(Set.of("0", "1", "2", "7"), seen);
    }

    @Test
    void theEnvironmentIsExactlyTheOneGiven() throws IOException {
        Path out = dir.resolve("env");
        int output = FileDescriptors.open(out.toString(), FileDescriptors.O_WRONLY | FileDescriptors.O_CREAT
                | FileDescriptors.O_CLOEXEC, 0600);
        try {
            int pid = Processes.spawn(List.of("env"), ENVIRONMENT, Map.of(1, output));
            assertEquals(0, Processes.awaitExit(pid));
        } finally {
            FileDescriptors.closeQuietly(output);
        }
        assertEquals(Set.of("PATH=/usr/bin:/bin", "LC_ALL=C"), Set.copyOf(Files.readAllLines(out)));
    }

    @Test
    void awaitExitGivesTheExitCodeOr128PlusTheSignal() throws IOException {
        assertEquals(7, Processes.awaitExit(Processes.spawn(List.of("/bin/sh", "-c", "exit 7"), ENVIRONMENT, Map.of())));
        assertEquals(0, Processes.awaitExit(Processes.spawn(List.of("true"), ENVIRONMENT, Map.of())));
        assertEquals(128 + 9, Processes.awaitExit(Processes.spawn(List.of("/bin/sh", "-c", "kill -9 $$"), ENVIRONMENT,
                Map.of())));
    }

    @Test
    void theChildLeadsANewSession() throws IOException {
        int pid = Processes.spawn(List.of("sleep", "20"), ENVIRONMENT, Map.of());
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            // pid (comm) state ppid pgrp session ...
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(Integer.toString(pid), fields[3], stat);
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            assertEquals(128 + 15, Processes.awaitExit(pid));
        }
    }

    @Test
    void aMissingProgramIsEnoent() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> Processes.spawn(List.of("slipway-no-such-program"),
                ENVIRONMENT, Map.of()));
        assertEquals(Errno.ENOENT, e.errno(), e.getMessage());
    }

    @Test
    void waitingForAProcessThatIsNoChildIsEchild() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> Processes.awaitExit(1));
        assertEquals(Errno.ECHILD, e.errno());
    }

    @Test
    void aChildDescriptorOutOfRangeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Processes.spawn(List.of("true"), ENVIRONMENT,
                Map.of(Processes.MAX_CHILD_DESCRIPTOR + 1, 0)));
    }
}
