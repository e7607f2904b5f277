package dev.slipway.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.process.poll.PolledCommand;

class PolledCommandTest {

    private String output = "a";
    private boolean fail;
    private final CommandRunner runner = (command, timeout) -> {
        if (fail) {
            throw new IOException("did not finish");
        }
        return new CommandRunner.Result(output.equals("exit") ? 1 : 0, output, "boom");
    };

    @Test
    void tellsOnlyChangesAndKeepsTheLastValueWhenTheCommandFails() {
        List<String> heard = new ArrayList<>();
        try (PolledCommand<String> value = new PolledCommand<>("letters", runner, List.of("x"), Duration.ofSeconds(1), "",
                String::toUpperCase, heard::add)) {
            value.refresh();
            value.refresh();
            assertEquals("A", value.current());
            fail = true;
            value.refresh();
            assertEquals("A", value.current(), "a failing run keeps the last value");
            fail = false;
            output = "exit";
            value.refresh();
            assertEquals("A", value.current(), "a non-zero exit keeps the last value");
            output = "b";
            value.refresh();
            assertEquals(List.of("A", "B"), heard);
        }
    }

    @Test
    void aParserThatThrowsKeepsTheLastValue() {
        try (PolledCommand<Integer> value = new PolledCommand<>("numbers", runner, List.of("x"), Duration.ofSeconds(1), 7,
                Integer::parseInt, v -> { })) {
            value.refresh();
            assertEquals(7, value.current());
        }
    }
}
