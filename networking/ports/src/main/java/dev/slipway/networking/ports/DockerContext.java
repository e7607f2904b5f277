package dev.slipway.networking.ports;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The docker CLI's context store, written the way the CLI writes it: a context named N lives in
 * {@code CONFIG/contexts/meta/<sha256 of N>/meta.json}; the current one is {@code currentContext}
 * in {@code CONFIG/config.json}. Only Slipway's own context and that one field are ever written;
 * every other byte of the user's configuration is kept.
 */
final class DockerContext {
    private final Path configDir;

    DockerContext(Path configDir) {
        this.configDir = configDir;
    }

    static String directoryName(String context) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(context.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }

    Path metaFile(String context) {
        return configDir.resolve("contexts").resolve("meta").resolve(directoryName(context)).resolve("meta.json");
    }

    /** Writes (or rewrites) the context {@code name} pointing at {@code dockerHost}. */
    void write(String name, String description, String dockerHost) throws IOException {
        JsonObject docker = new JsonObject();
        docker.addProperty("Host", dockerHost);
        docker.addProperty("SkipTLSVerify", false);
        JsonObject endpoints = new JsonObject();
        endpoints.add("docker", docker);
        JsonObject metadata = new JsonObject();
        metadata.addProperty("Description", description);
        JsonObject meta = new JsonObject();
        meta.addProperty("Name", name);
        meta.add("Metadata", metadata);
        meta.add("Endpoints", endpoints);
        Path file = metaFile(name);
        Files.createDirectories(file.getParent());
        replace(file, meta.toString());
    }

    /** The current context's name, or null when config.json names none (the CLI's "default"). */
    String current() throws IOException {
        JsonObject config = config();
        JsonElement c = config.get("currentContext");
        return c == null || c.isJsonNull() || c.getAsString().isEmpty() ? null : c.getAsString();
    }

    /** Sets (or, with null, removes) {@code currentContext}, keeping the rest of config.json as it is. */
    void makeCurrent(String name) throws IOException {
        JsonObject config = config();
        if (name == null) {
            config.remove("currentContext");
        } else {
            config.addProperty("currentContext", name);
        }
        Files.createDirectories(configDir);
        replace(configDir.resolve("config.json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(config));
    }

    private JsonObject config() throws IOException {
        Path file = configDir.resolve("config.json");
        if (!Files.exists(file)) {
            return new JsonObject();
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            return new JsonObject();
        }
        JsonElement e;
        try {
            e = JsonParser.parseString(text);
        } catch (com.google.gson.JsonParseException ex) {
            throw new IOException(file + " is not valid JSON; it is left as it is: " + ex.getMessage());
        }
        if (!e.isJsonObject()) {
            throw new IOException(file + " is not a JSON object; it is left as it is");
        }
        return e.getAsJsonObject();
    }

    /** Writes through a temporary file and a rename, so a crash leaves the old file or the new one. */
    private static void replace(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".slipway-tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
