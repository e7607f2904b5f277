package dev.slipway.helper.policystore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;

/**
 * {@code policy.store} and {@code policy.read}: one file per policy in a directory the helper
 * owns (root, 0755; files 0644), so users can read a policy but not change it. The helper stores
 * only documents signed with the organisation's key from the install configuration: a user who
 * may talk to the helper still cannot store a policy of their own, nor bring back an older signed
 * policy: once one is stored, a new one must be {@code issued} strictly later.
 */
@Component(property = {HelperOperationHandler.OPERATION + "=" + HelperSchema.POLICY_STORE,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.POLICY_READ})
public final class PolicyStoreOperations implements HelperOperationHandler {
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwxr-xr-x");

    private final Path dir;
    private final Optional<String> key;

    @Activate
    public PolicyStoreOperations(@Reference HelperSettings settings, @Reference HelperServiceDefinitions definitions) {
        this(settings.get(HelperSettings.POLICY_DIR).map(Path::of)
                .orElse(definitions.configFile().toAbsolutePath().getParent().resolve("policy")),
                settings.get(HelperSettings.POLICY_PUBLIC_KEY));
    }

    PolicyStoreOperations(Path dir, Optional<String> key) {
        this.dir = dir;
        this.key = key;
    }

    @Override
    public Map<String, Object> handle(HelperCall call) throws HelperException {
        String name = (String) call.params().get(HelperSchema.PARAM_POLICY);
        if (!HelperSchema.POLICY_REGISTRY_ACCESS.equals(name)) {
            throw new HelperException(HelperErrors.INVALID, "unknown policy " + name);
        }
        Path file = dir.resolve(name + ".json");
        try {
            if (call.operation().equals(HelperSchema.POLICY_READ)) {
                return read(file);
            }
            if (call.operation().equals(HelperSchema.POLICY_STORE)) {
                return store(file, Base64.getDecoder().decode((String) call.params().get(HelperSchema.PARAM_DOCUMENT)));
            }
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "policy " + name + ": " + e.getMessage());
        }
        throw new HelperException(HelperErrors.UNAVAILABLE, call.operation() + " is not a policy operation");
    }

    private Map<String, Object> read(Path file) throws IOException {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return Map.of("present", true, HelperSchema.PARAM_DOCUMENT, Base64.getEncoder().encodeToString(bytes));
        } catch (NoSuchFileException e) {
            return Map.of("present", false);
        }
    }

    /** A signed policy is only ever replaced by one issued later, so an old one cannot be replayed. */
    private static void refuseUnlessNewer(Optional<Instant> issued, Optional<Instant> stored) throws HelperException {
        if (issued.isEmpty()) {
            throw new HelperException(HelperErrors.INVALID, "refused: the policy has no \"issued\" time, so it cannot be"
                    + " shown newer than the stored one; nothing was stored");
        }
        if (stored.isPresent() && !issued.get().isAfter(stored.get())) {
            throw new HelperException(HelperErrors.INVALID, "refused: the policy was issued " + issued.get()
                    + ", not after the stored one (issued " + stored.get() + "); nothing was stored");
        }
    }

    /** The stored policy's issued time; empty when it has none or cannot be read (then any newer policy may replace it). */
    private static Optional<Instant> storedIssued(byte[] stored) {
        try {
            return SignedEnvelope.parse(stored).issued();
        } catch (GeneralSecurityException e) {
            return Optional.empty();
        }
    }

    private Map<String, Object> store(Path file, byte[] document) throws IOException, HelperException {
        if (key.isEmpty()) {
            throw new HelperException(HelperErrors.FAILED, "no policy key was set at install ("
                    + HelperSettings.POLICY_PUBLIC_KEY + "); nothing was stored");
        }
        Optional<Instant> issued;
        try {
            PublicKey publicKey = SignedEnvelope.publicKey(key.get());
            issued = SignedEnvelope.verify(document, publicKey).issued();
        } catch (GeneralSecurityException e) {
            throw new HelperException(HelperErrors.INVALID, "refused: " + e.getMessage() + "; nothing was stored");
        }
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] stored = Files.readAllBytes(file);
            if (java.util.Arrays.equals(stored, document)) {
                return Map.of("changed", false);
            }
            refuseUnlessNewer(issued, storedIssued(stored));
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR));
        }
        if (Files.isSymbolicLink(dir) || Files.isSymbolicLink(file)) {
            throw new IOException("a symbolic link is in the way; nothing was stored");
        }
        Path temp = Files.createTempFile(dir, ".policy-", ".tmp", PosixFilePermissions.asFileAttribute(FILE));
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(document));
                ch.force(true);
            }
            Files.setPosixFilePermissions(temp, FILE);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        return Map.of("changed", true);
    }
}
