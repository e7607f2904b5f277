package dev.slipway.sysplan;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlanRunner;
import dev.slipway.api.platform.CommandRunner;

/**
 * Applies plans step by step. Files are written to a temp file beside the target, synced and
 * renamed into place (never through a link); removals delete files and links, never directories.
 */
@Component(service = SystemPlanRunner.class)
public final class PlanRunner implements SystemPlanRunner {

    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private final CommandRunner commands;

    @Activate
    public PlanRunner(@Reference CommandRunner commands) {
        this.commands = commands;
    }

    @Override
    public void apply(SystemPlan plan) throws IOException {
        for (SystemPlan.Step step : plan.steps()) {
            if (step instanceof SystemPlan.WriteFile write) {
                write(write);
            } else if (step instanceof SystemPlan.RunCommand run) {
                CommandRunner.Result result = commands.run(run.command(), COMMAND_TIMEOUT);
                if (!result.succeeded() && !run.mayFail()) {
                    throw new IOException(String.join(" ", run.command()) + " failed with exit code " + result.exitCode()
                            + ": " + result.stderr().strip());
                }
            } else if (step instanceof SystemPlan.RemoveFile remove) {
                if (Files.isDirectory(remove.path(), LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException(remove.path() + " is a directory; a plan removes only files and links");
                }
                Files.deleteIfExists(remove.path());
            }
        }
    }

    private static void write(SystemPlan.WriteFile write) throws IOException {
        Path target = write.path().toAbsolutePath();
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling("." + target.getFileName() + ".slipway-new");
        Files.deleteIfExists(temp);
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString(symbolic(write.mode()));
        boolean posix = target.getFileSystem().supportedFileAttributeViews().contains("posix");
        try (FileChannel channel = posix
                ? FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                        PosixFilePermissions.asFileAttribute(mode))
                : FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buffer = ByteBuffer.wrap(write.content().getBytes(StandardCharsets.UTF_8));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        if (posix) {
            Files.setPosixFilePermissions(temp, mode); // the umask may have cut the create mode
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** {@code 0644} -> {@code rw-r--r--}. */
    static String symbolic(String octal) {
        int mode = Integer.parseInt(octal, 8);
        StringBuilder out = new StringBuilder();
        for (int shift = 6; shift >= 0; shift -= 3) {
            int bits = (mode >> shift) & 7;
            out.append((bits & 4) != 0 ? 'r' : '-').append((bits & 2) != 0 ? 'w' : '-').append((bits & 1) != 0 ? 'x' : '-');
        }
        return out.toString();
    }
}
