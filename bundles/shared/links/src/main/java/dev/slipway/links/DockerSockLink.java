package dev.slipway.links;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The system docker.sock as a link to a user's Slipway socket. A link is Slipway's when it points
 * at {@code <some home>/<userSocket>} (e.g. {@code ~/.slipway/run/docker.sock}); a real socket or
 * another product's link at that place is left alone and reported. The link belongs to the user
 * whose home it points into ({@link #owner()}): the target is the record, and it survives the boot
 * rule that recreates the link.
 */
public final class DockerSockLink {

    private final Path link;
    private final Path userSocket;

    /**
     * @param link the system link, e.g. /var/run/docker.sock
     * @param userSocket the user's socket relative to the home directory
     */
    public DockerSockLink(Path link, Path userSocket) {
        if (userSocket.isAbsolute() || userSocket.normalize().startsWith("..")) {
            throw new IllegalArgumentException("the user socket must be relative to the home directory: " + userSocket);
        }
        this.link = link.toAbsolutePath().normalize();
        this.userSocket = userSocket.normalize();
    }

    public Path link() {
        return link;
    }

    public Path targetFor(Path home) {
        return home.resolve(userSocket).normalize();
    }

    /**
     * Points the link at {@code home}'s Slipway socket.
     *
     * @return {@code created}, {@code replaced} or {@code unchanged}
     */
    public String link(Path home) throws IOException {
        Path target = targetFor(home);
        Path real = realLink();
        Links.Existing existing = Links.inspect(real);
        if (existing instanceof Links.Other other) {
            throw new CliLinks.ConflictException(link + " is " + other.kind() + ", not Slipway's link; left alone");
        }
        if (existing instanceof Links.Link current) {
            if (current.target().equals(target)) {
                return "unchanged";
            }
            if (!isSlipways(current.target())) {
                throw new CliLinks.ConflictException(link + " links to " + current.target() + ", which is not a Slipway socket; left alone");
            }
        }
        Links.replaceAtomically(real, target);
        return existing instanceof Links.Absent ? "created" : "replaced";
    }

    /**
     * Whose Slipway link it is: the owner of the home directory it points into. Empty when there is
     * no Slipway link, or its home is gone (a stale link anyone may replace).
     */
    public Optional<String> owner() throws IOException {
        if (Links.inspect(realLink()) instanceof Links.Link current && isSlipways(current.target())
                && current.target().getNameCount() > userSocket.getNameCount()) {
            Path home = current.target().getRoot().resolve(
                    current.target().subpath(0, current.target().getNameCount() - userSocket.getNameCount()));
            try {
                return Optional.of(Files.getOwner(home, LinkOption.NOFOLLOW_LINKS).getName());
            } catch (NoSuchFileException gone) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Removes the link if it is Slipway's.
     *
     * @return {@code removed} or {@code absent}
     */
    public String unlink() throws IOException {
        Path real = realLink();
        Links.Existing existing = Links.inspect(real);
        if (existing instanceof Links.Absent) {
            return "absent";
        }
        if (existing instanceof Links.Link current && isSlipways(current.target())) {
            Files.delete(real);
            return "removed";
        }
        throw new CliLinks.ConflictException(link + " is not Slipway's link; left alone");
    }

    /** The link's name inside its directory's real path (/var/run is itself a link to /run on Linux). */
    private Path realLink() throws IOException {
        Path dir = link.getParent().toRealPath();
        Optional<String> problem = Links.unsafeDirectory(dir, System.getProperty("user.name"));
        if (problem.isPresent()) {
            throw new IOException("refusing to manage " + link + ": " + problem.get());
        }
        return dir.resolve(link.getFileName());
    }

    private boolean isSlipways(Path target) {
        return target.isAbsolute() && target.endsWith(userSocket) && target.normalize().equals(target);
    }
}
