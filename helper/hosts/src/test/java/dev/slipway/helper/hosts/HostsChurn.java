package dev.slipway.helper.hosts;

import java.nio.file.Path;
import java.util.Optional;

import dev.slipway.api.helper.HostsConventions.WriteStrategy;

/**
 * Child process for the kill -9 test: rewrites the hosts file given as argument in a tight loop,
 * alternately adding and removing Slipway's block, until it is killed. Prints "ready" once the
 * first update is on disk, so the parent kills it in the middle of the loop, not during start-up.
 */
public final class HostsChurn {

    private HostsChurn() {
    }

    public static void main(String[] args) throws Exception {
        HostsFile file = new HostsFile(Path.of(args[0]), WriteStrategy.valueOf(args[1]));
        long deadline = System.nanoTime() + 30_000_000_000L; // never outlive a test run by much
        boolean add = true;
        boolean announced = false;
        while (System.nanoTime() < deadline) {
            if (add) {
                file.update(c -> c.withBlock(HostsOperations.entries(c, Optional.of("10.9.8.7")), "\n"));
            } else {
                file.update(HostsContent::withoutBlock);
            }
            add = !add;
            if (!announced) {
                System.out.println("ready");
                System.out.flush();
                announced = true;
            }
        }
    }
}
