package dev.slipway.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.slipway.api.platform.CommandRunner.Result;

class ProcessCommandRunnerTest {

    private final ProcessCommandRunner runner = new ProcessCommandRunner();

    @Test
    void capturesOutputAndExitCodeWithoutAShell() throws IOException {
        Result result = runner.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(10));
        assertEquals(3, result.exitCode());
        assertEquals("out\n", result.stdout());
        assertEquals("err\n", result.stderr());
    }

    @Test
    void argumentsAreNotInterpretedByAShell() throws IOException {
        Result result = runner.run(List.of("echo", "$(id)", ";", "ls"), Duration.ofSeconds(10));
        assertEquals("$(id) ; ls\n", result.stdout());
    }

    @Test
    void aCommandThatOverrunsIsKilled() {
        IOException e = assertThrows(IOException.class, () -> runner.run(List.of("sleep", "30"), Duration.ofMillis(200)));
        assertTrue(e.getMessage().contains("killed"), e.getMessage());
    }

    @Test
    void aMissingProgramIsAClearError() {
        assertThrows(IOException.class, () -> runner.run(List.of("/nonexistent/slipway-no-such-tool"), Duration.ofSeconds(5)));
    }
}
