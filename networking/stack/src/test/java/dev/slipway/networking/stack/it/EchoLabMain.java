package dev.slipway.networking.stack.it;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.transport.LinkHandover;
import dev.slipway.process.ProcessCommandRunner;

/**
 * The stack and its guest namespace in a child JVM, started by {@code ip netns exec} inside the
 * test's "host" namespace (whose ping_group_range the test sets). Prints {@code ready ADDRESS},
 * then answers {@code status} with the stack's ICMP status, {@code update MILLIS} by replacing the
 * stack with a new one that takes its state as a live update does, {@code MILLIS} after the old one
 * stopped ({@code updated ECHO_FLOWS_TAKEN FAILURES}), and ends on {@code quit} or end of input.
 */
public final class EchoLabMain {
    private EchoLabMain() {
    }

    public static void main(String[] args) throws Exception {
        NetConfig config = NetConfig.defaults();
        NetStack stack = new NetStack(config);
        try (GuestNamespace guest = new GuestNamespace(new ProcessCommandRunner(), args[0], args[1], config)) {
            guest.start(stack);
            System.out.println("ready " + guest.address());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null && !line.equals("quit"); ) {
                if (line.equals("status")) {
                    System.out.println("status " + stack.status().get("icmp"));
                } else if (line.startsWith("update ")) {
                    NetStack.HandOver handed = stack.handOver();
                    Thread.sleep(Long.parseLong(line.substring(7)));
                    NetStack next = new NetStack(config);
                    List<String> failures = new ArrayList<>();
                    next.adoptFlows(handed.tcp(), handed.udp(), failures);
                    for (Supplier<Map<String, Object>> link : handed.links()) {
                        Map<String, Object> description = link.get();
                        next.attach(LinkHandover.adopt(description, config.mtu()), LinkHandover.held(description));
                    }
                    next.restoreLeases(handed.leases());
                    int echo = next.adoptEchoFlows(handed.echoFlows(), failures);
                    next.resumeAdoptedFlows();
                    stack.close();
                    stack = next;
                    System.out.println("updated " + echo + " " + failures);
                }
            }
        } finally {
            stack.close();
        }
        System.out.println("stopped");
    }
}
