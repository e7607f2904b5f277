package dev.slipway.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.process.poll.PolledSetting;

class PolledSettingTest {

    private String output = "a";
    private final CommandRunner runner = (command, timeout) -> new CommandRunner.Result(0, output, "");

    private PolledSetting<String, Consumer<String>> letters() {
        return new PolledSetting<String, Consumer<String>>("letters", runner, List.of("x"), Duration.ofSeconds(1), "",
                String::toUpperCase, Consumer::accept).start(false, Duration.ofSeconds(1), "unused");
    }

    @Test
    void tellsEveryListenerEachChangeUntilRemoved() {
        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();
        try (PolledSetting<String, Consumer<String>> setting = letters()) {
            assertEquals("A", setting.current(), "started without polling, it reads once");
            setting.add(first::add);
            Consumer<String> removed = second::add;
            setting.add(removed);
            output = "b";
            setting.refresh();
            setting.remove(removed);
            output = "c";
            setting.refresh();
            setting.refresh();
            assertEquals(List.of("B", "C"), first);
            assertEquals(List.of("B"), second);
        }
    }

    @Test
    void addAndTellHandsTheNewListenerTheCurrentValue() {
        List<String> heard = new ArrayList<>();
        try (PolledSetting<String, Consumer<String>> setting = letters()) {
            setting.addAndTell(heard::add);
            output = "b";
            setting.refresh();
            assertEquals(List.of("A", "B"), heard);
        }
    }
}
