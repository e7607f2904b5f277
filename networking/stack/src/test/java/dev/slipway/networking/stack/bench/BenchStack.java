package dev.slipway.networking.stack.bench;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

/**
 * Runs the stack on a fresh network namespace for the benchmark script:
 * {@code BenchStack NAMESPACE MTU}. Prints "ready ADDRESS" once the namespace has its lease and
 * runs until its standard input closes; then removes the namespace.
 */
public final class BenchStack {
    private BenchStack() {}

    public static void main(String[] args) throws Exception {
        String name = args[0];
        int mtu = Integer.parseInt(args[1]);
        NetConfig config = NetConfig.builder().mtu(mtu).build();
        NetStack stack = new NetStack(config);
        GuestNamespace ns = new GuestNamespace(new ProcessCommandRunner(), name, "slwb0", config);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stack.close();
            ns.close();
            done.countDown();
        }));
        try {
            ns.start(stack);
        } catch (IOException e) {
            System.out.println("failed " + e.getMessage());
            System.exit(1);
        }
        System.out.println("ready " + ns.address());
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for the script to close our input
        }
        if (args.length > 2) {
            System.out.println(stack.status());
        }
        System.exit(0);
    }
}
