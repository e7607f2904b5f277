package dev.slipway.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.osgi.framework.BundleContext;

/** The shell server with Gogo's own command processor, on a real socket in a temporary runtime directory. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ShellServerTest {

    /** Commands of the {@code test} scope. */
    public static final class Commands {
        public String echo(String... words) {
            return String.join(" ", words);
        }

        public void say(String text) {
            System.out.println("said: " + text);
        }

        public void fail() throws IOException {
            throw new IOException("disk on fire");
        }
    }

    @TempDir
    Path tmp;

    private ThreadIOImpl threadIO;
    private CommandProcessorImpl processor;
    private Path runtimeDir;
    private Path socket;
    private ShellServer server;

    @BeforeEach
    void start() throws IOException {
        threadIO = new ThreadIOImpl();
        threadIO.start();
        processor = new CommandProcessorImpl(threadIO);
        processor.addCommand("test", new Commands());
        runtimeDir = tmp.resolve("run");
        socket = runtimeDir.resolve(ShellServer.SOCKET_NAME);
        server = new ShellServer(runtimeDir, processor);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.deactivate();
        }
        processor.stop();
        threadIO.stop();
    }

    // --- the socket ---

    @Test
    void theSocketIsReadableAndWritableByTheOwnerAloneInAnOwnerOnlyDirectory() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(runtimeDir)));
    }

    @Test
    void aStaleSocketOfAPreviousRunIsReplaced() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("stale"));
        try (ServerSocketChannel previous = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            previous.bind(UnixDomainSocketAddress.of(dir.resolve(ShellServer.SOCKET_NAME)));
        }
        ShellServer second = new ShellServer(dir, processor);
        try (ShellClient client = ShellClient.connect(dir.resolve(ShellServer.SOCKET_NAME))) {
            assertEquals(ShellClient.PROMPT, client.untilPrompt());
        } finally {
            second.deactivate();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "directory", "symlink"})
    void somethingOtherThanASocketAtTheSocketPathIsNeverReplaced(String kind) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("taken-" + kind));
        Path taken = dir.resolve(ShellServer.SOCKET_NAME);
        switch (kind) {
            case "file" -> Files.writeString(taken, "precious");
            case "directory" -> Files.createDirectory(taken);
            default -> Files.createSymbolicLink(taken, Files.writeString(tmp.resolve("target-" + kind), "precious"));
        }
        IOException refused = assertThrows(IOException.class, () -> new ShellServer(dir, processor));
        assertTrue(refused.getMessage().contains("refusing to replace it"), refused.getMessage());
        assertTrue(Files.exists(taken, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void withoutTheRuntimeDirectoryPropertyTheServerDoesNotStart() {
        BundleContext noProperties = (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getProperty")) {
                        return null;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ShellServer(noProperties, processor));
        assertTrue(e.getMessage().contains("slipway.runtime.dir"));
    }

    @Test
    void deactivationEndsLiveSessionsAndRemovesTheSocket() throws Exception {
        try (ShellClient client = ShellClient.connect(socket)) {
            client.untilPrompt();
            server.deactivate();
            server = null;
            assertEquals("", client.toEnd());
        }
        assertFalse(Files.exists(socket));
    }

    // --- a session ---

    @Test
    void aSessionPromptsAndRunsOneCommandPerLine() throws IOException {
        try (ShellClient client = ShellClient.connect(socket)) {
            assertEquals(ShellClient.PROMPT, client.untilPrompt());
            assertEquals("hello world\n", client.run("test:echo hello world"));
            assertEquals("again\n", client.run("echo again"));
        }
    }

    @Test
    void whatACommandPrintsReachesTheClient() throws IOException {
        try (ShellClient client = ShellClient.connect(socket)) {
            client.untilPrompt();
            assertEquals("said: hi\n", client.run("test:say hi"));
        }
    }

    @Test
    void aFailingCommandIsReportedAndTheSessionGoesOn() throws IOException {
        try (ShellClient client = ShellClient.connect(socket)) {
            client.untilPrompt();
            assertEquals("gogo: IOException: disk on fire\n", client.run("test:fail"));
            assertEquals("still here\n", client.run("test:echo still here"));
        }
    }

    @Test
    void anUnknownCommandOrBadSyntaxIsReportedAndTheSessionGoesOn() throws IOException {
        try (ShellClient client = ShellClient.connect(socket)) {
            client.untilPrompt();
            String unknown = client.run("no-such-command");
            assertTrue(unknown.startsWith("gogo: ") && unknown.contains("no-such-command"), unknown);
            String syntax = client.run("test:echo (unclosed");
            assertTrue(syntax.startsWith("gogo: "), syntax);
            assertEquals("ok\n", client.run("test:echo ok"));
        }
    }

    @Test
    void blankLinesOnlyPromptAgain() throws IOException {
        try (ShellClient client = ShellClient.connect(socket)) {
            client.untilPrompt();
            assertEquals("", client.run(""));
            assertEquals("", client.run("   \t "));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"exit", "quit", "  exit  "})
    void exitOrQuitEndsTheSession(String line) throws IOException {
        try (ShellClient client = ShellClient.connect(socket)) {
            client.untilPrompt();
            // One write: a second write after the server has closed could meet a broken pipe.
            client.send(line + "\ntest:echo never run");
            assertEquals("", client.toEnd());
        }
    }

    @Test
    void theEndOfInputEndsTheSession() throws IOException {
        try (ShellClient client = ShellClient.connect(socket)) {
            client.untilPrompt();
            client.send("test:echo last");
            client.endInput();
            assertEquals("last\n" + ShellClient.PROMPT, client.toEnd());
        }
    }

    @Test
    void eachConnectionHasASessionOfItsOwn() throws IOException {
        try (ShellClient a = ShellClient.connect(socket); ShellClient b = ShellClient.connect(socket)) {
            a.untilPrompt();
            b.untilPrompt();
            a.run("x = alpha");
            b.run("x = beta");
            assertEquals("alpha\n", a.run("test:echo $x"));
            assertEquals("beta\n", b.run("test:echo $x"));
        }
    }

    // --- several sessions ---

    @Test
    void atMostFourSessionsRunAtOnceAndAFreedPlaceIsTakenAgain() throws Exception {
        List<ShellClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                ShellClient client = ShellClient.connect(socket);
                open.add(client);
                client.untilPrompt();
            }
            try (ShellClient fifth = ShellClient.connect(socket)) {
                assertEquals("slipway shell: too many sessions (at most 4)\n", fifth.toEnd());
            }
            open.get(0).send("exit");
            assertEquals("", open.get(0).toEnd());
            // the session's thread returns to the pool just after the connection closes: try a bounded number of times
            String answer = "";
            for (int attempt = 0; attempt < 200 && !answer.equals(ShellClient.PROMPT); attempt++) {
                try (ShellClient next = ShellClient.connect(socket)) {
                    answer = next.until(" ");
                    if (!answer.equals(ShellClient.PROMPT)) {
                        next.toEnd();
                        Thread.sleep(10);
                    }
                }
            }
            assertEquals(ShellClient.PROMPT, answer);
        } finally {
            for (ShellClient client : open) {
                client.close();
            }
        }
    }

    @Test
    void clientsThatVanishWithoutExitFreeTheirPlaces() throws Exception {
        for (int i = 0; i < 4; i++) {
            try (ShellClient client = ShellClient.connect(socket)) {
                client.untilPrompt();
                client.send("test:echo half a sess"); // and gone, without reading the answer or saying exit
            }
        }
        // each session notices its client is gone and frees its thread: four new ones fit again, within a bounded number of tries
        List<ShellClient> fresh = new ArrayList<>();
        try {
            for (int attempt = 0; attempt < 400 && fresh.size() < 4; attempt++) {
                ShellClient client = ShellClient.connect(socket);
                if (client.until(" ").equals(ShellClient.PROMPT)) {
                    fresh.add(client);
                } else {
                    client.close();
                    Thread.sleep(10);
                }
            }
            assertEquals(4, fresh.size());
            for (ShellClient client : fresh) {
                assertEquals("fine\n", client.run("test:echo fine"));
            }
        } finally {
            for (ShellClient client : fresh) {
                client.close();
            }
        }
    }

    @Test
    void concurrentSessionsEachGetTheirOwnAnswers() throws Exception {
        ExecutorService users = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Void>> sessions = new ArrayList<>();
            for (int user = 0; user < 4; user++) {
                String name = "user" + user;
                sessions.add(() -> {
                    try (ShellClient client = ShellClient.connect(socket)) {
                        client.untilPrompt();
                        for (int i = 0; i < 25; i++) {
                            assertEquals(name + " " + i + "\n", client.run("test:echo " + name + " " + i));
                        }
                        client.send("exit");
                        client.toEnd();
                    }
                    return null;
                });
            }
            for (Future<Void> session : users.invokeAll(sessions)) {
                session.get();
            }
        } finally {
            users.shutdownNow();
        }
    }
}
