package dev.slipway.networking.stack.it;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.process.ProcessCommandRunner;

/**
 * The stack and its guest namespace in a child JVM, started by {@code ip netns exec} inside the
 * test's "host" namespace (whose ping_group_range the test sets). Prints {@code ready ADDRESS},
 * then answers {@code status} with the stack's ICMP status and ends on {@code quit} or end of input.
 */
public final class EchoLabMain {
    private EchoLabMain() {
    }

    public static void main(String[] args) throws Exception {
        NetConfig config = NetConfig.defaults();
        try (NetStack stack = new NetStack(config);
                GuestNamespace guest = new GuestNamespace(new ProcessCommandRunner(), args[0], args[1], config)) {
            guest.start(stack);
            System.out.println("ready " + guest.address());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null && !line.equals("quit"); ) {
                if (line.equals("status")) {
                    System.out.println("status " + stack.status().get("icmp"));
                }
            }
        }
        System.out.println("stopped");
    }
}
