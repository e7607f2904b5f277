package dev.slipway.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.google.gson.JsonParser;

/** The {@code slipway} command line against no runtime, a stale one, or a scripted control API on a real socket. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MainTest {

    @TempDir
    Path tmp;

    private Path home;
    private Path runtimeDir;
    private Path controlSocket;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() {
        home = tmp.resolve("home");
        runtimeDir = tmp.resolve("run");
        controlSocket = runtimeDir.resolve("control.sock");
    }

    private int run(String... args) {
        return run(new ByteArrayInputStream(new byte[0]), args);
    }

    private int run(InputStream in, String... args) {
        Map<String, String> env = Map.of("HOME", tmp.toString(), "SLIPWAY_HOME", home.toString(),
                "SLIPWAY_RUNTIME_DIR", runtimeDir.toString());
        return new Main(in, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                env, tmp.resolve("dist")).run(List.of(args));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private FakeRuntime runtime(FakeRuntime.Handler handler) throws IOException {
        return FakeRuntime.serve(controlSocket, handler);
    }

    private FakeRuntime runtimeWithStatus(String status) throws IOException {
        return runtime(request -> request.path().equals("/status") ? FakeRuntime.Reply.json(200, status)
                : FakeRuntime.Reply.json(404, "{\"error\":\"no such endpoint\"}"));
    }

    private static final String READY = """
            {"ready":true,"uptimeMs":61500,"pid":4242,"java":"17","memory":{},
             "bundles":[{"id":0,"symbolicName":"org.apache.felix.framework","version":"7.0.5","state":"ACTIVE"},
                        {"id":7,"symbolicName":"dev.slipway.platform.macos","version":"0.1.0","state":"INSTALLED",
                         "missing":["osgi.native; (osgi.native.osname~=macosx)"],"otherPlatform":true}],
             "components":[{"name":"dev.slipway.control.ControlServer","bundle":"dev.slipway.control","enabled":true,"state":"ACTIVE"}],
             "net":{"tcp":3}}""";

    private static final String NOT_READY = """
            {"ready":false,"uptimeMs":2000,"pid":4242,"java":"17","memory":{},
             "bundles":[{"id":0,"symbolicName":"org.apache.felix.framework","version":"7.0.5","state":"ACTIVE"},
                        {"id":3,"symbolicName":"dev.slipway.fragment","version":"1.0.0","state":"RESOLVED","fragment":true},
                        {"id":9,"symbolicName":"dev.slipway.broken","version":"1.0.0","state":"INSTALLED",
                         "missing":["osgi.wiring.package; (osgi.wiring.package=org.gone)"]}],
             "components":[{"name":"dev.slipway.helper.vm.VmManager","bundle":"dev.slipway.helper.vm","enabled":true,"state":"UNSATISFIED_REFERENCE",
                            "unsatisfiedReferences":["platform null"]},
                           {"name":"dev.slipway.dns.Dns","bundle":"dev.slipway.dns","enabled":true,"state":"FAILED_ACTIVATION",
                            "failure":"java.net.BindException: in use"}]}""";

    // --- help ---

    @ParameterizedTest
    @ValueSource(strings = {"", "help", "--help", "-h"})
    void helpWithoutARuntimeListsTheBuiltInCommands(String word) {
        int code = word.isEmpty() ? run() : run(word);
        assertEquals(0, code);
        assertTrue(out().startsWith("usage: slipway COMMAND [ARGS]"), out());
        for (String command : List.of("up [-d]", "down", "status [--json]", "bundles", "deploy FILE.jar", "shell")) {
            assertTrue(out().contains("  " + command), command);
        }
        assertTrue(out().contains("(more commands are listed while the runtime runs)"));
    }

    @Test
    void helpWithARuntimeListsTheCommandsItServes() throws Exception {
        try (FakeRuntime runtime = runtime(request -> FakeRuntime.Reply.json(200,
                "[{\"name\":\"dns\",\"summary\":\"resolve names\"},{\"name\":\"vm\",\"summary\":\"\"}]"))) {
            assertEquals(0, run("help"));
        }
        assertTrue(out().contains("served by the running runtime:\n  dns" + " ".repeat(27) + "resolve names\n  vm"), out());
        assertFalse(out().contains("more commands are listed"));
    }

    // --- status, bundles ---

    @Test
    void statusWithoutARuntimeSaysSoWithExitCodeThree() {
        assertEquals(Main.NOT_RUNNING, run("status"));
        assertEquals("Slipway is not running\n", out());
    }

    @Test
    void statusAsJsonWithoutARuntimeIsStillJson() {
        assertEquals(Main.NOT_RUNNING, run("status", "--json"));
        assertEquals(JsonParser.parseString("{\"ready\":false,\"running\":false}"), JsonParser.parseString(out()));
    }

    @Test
    void statusOfAReadyRuntimeSummarisesItAndPrintsTheContributedSections() throws Exception {
        try (FakeRuntime runtime = runtimeWithStatus(READY)) {
            assertEquals(0, run("status"));
        }
        assertEquals("""
                Slipway is ready (pid 4242, up 1m1.5s): 2 bundles, 1 active, 1 for other platforms
                net: {"tcp":3}
                """, out());
    }

    @Test
    void statusOfARuntimeThatIsNotReadyNamesWhatIsWrongAndExitsWithOne() throws Exception {
        try (FakeRuntime runtime = runtimeWithStatus(NOT_READY)) {
            assertEquals(1, run("status"));
        }
        assertEquals("""
                Slipway is NOT ready (pid 4242, up 2s): 3 bundles, 1 active, 0 for other platforms
                  bundle dev.slipway.broken 1.0.0 is INSTALLED, missing ["osgi.wiring.package; (osgi.wiring.package=org.gone)"]
                  component dev.slipway.helper.vm.VmManager is UNSATISFIED_REFERENCE, waiting for ["platform null"]
                  component dev.slipway.dns.Dns is FAILED_ACTIVATION: java.net.BindException: in use
                """, out());
    }

    @Test
    void statusAsJsonIsTheRuntimesDocumentPrettyPrinted() throws Exception {
        try (FakeRuntime runtime = runtimeWithStatus(NOT_READY)) {
            assertEquals(0, run("status", "--json"));
        }
        assertEquals(JsonParser.parseString(NOT_READY), JsonParser.parseString(out()));
        assertTrue(out().contains("\n  \"ready\": false"), out());
    }

    @Test
    void bundlesAreListedAsATable() throws Exception {
        try (FakeRuntime runtime = runtimeWithStatus(READY)) {
            assertEquals(0, run("bundles"));
        }
        assertEquals("""
                  ID  STATE        VERSION                 SYMBOLIC NAME
                   0  ACTIVE       7.0.5                   org.apache.felix.framework
                   7  OTHER-OS     0.1.0                   dev.slipway.platform.macos
                """, out());
    }

    @Test
    void bundlesWithoutARuntimeTellsHowToStartIt() {
        assertEquals(Main.NOT_RUNNING, run("bundles"));
        assertEquals("slipway: Slipway is not running (no control socket at " + controlSocket + "); start it with: slipway up -d\n", err());
    }

    @Test
    void aStaleControlSocketCountsAsNotRunning() throws Exception {
        Files.createDirectories(runtimeDir);
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(controlSocket));
        }
        assertEquals(Main.NOT_RUNNING, run("bundles"));
        assertTrue(err().contains("nothing accepts on " + controlSocket), err());
    }

    // --- commands served by the runtime ---

    @Test
    void anyOtherCommandIsForwardedWithItsArgumentsAndItsOutputAndExitCodeAreReplayed() throws Exception {
        try (FakeRuntime runtime = runtime(request -> FakeRuntime.Reply.json(200,
                "{\"out\":\"line one\\nline two\",\"err\":\"careful\\n\",\"exitCode\":5}"))) {
            assertEquals(5, run("dns", "lookup", "--type", "AAAA", "example.test"));
            assertEquals("/commands/dns", runtime.requests.get(0).path());
            assertEquals(JsonParser.parseString("{\"args\":[\"lookup\",\"--type\",\"AAAA\",\"example.test\"]}"),
                    JsonParser.parseString(runtime.requests.get(0).body()));
        }
        assertEquals("line one\nline two\n", out(), "a missing final newline is added");
        assertEquals("careful\n", err());
    }

    @Test
    void emptyOutputPrintsNothing() throws Exception {
        try (FakeRuntime runtime = runtime(request -> FakeRuntime.Reply.json(200, "{\"out\":\"\",\"err\":\"\",\"exitCode\":0}"))) {
            assertEquals(0, run("vm", "start"));
        }
        assertEquals("", out());
        assertEquals("", err());
    }

    @Test
    void aCommandTheRuntimeDoesNotKnowIsAUsageError() throws Exception {
        try (FakeRuntime runtime = runtime(request -> FakeRuntime.Reply.json(404, "{\"error\":\"unknown command: nope\"}"))) {
            assertEquals(2, run("nope"));
        }
        assertEquals("slipway: unknown command 'nope' (see slipway help)\n", err());
    }

    @Test
    void dockerEnvWithNoEngineConfiguredSaysWhatIsMissing() throws Exception {
        try (FakeRuntime runtime = runtime(request -> FakeRuntime.Reply.json(404, "{\"error\":\"unknown command: docker-env\"}"))) {
            assertEquals(1, run("docker-env"));
        }
        assertTrue(err().startsWith("slipway: docker-env: no docker engine is configured: write guest=GUESTIP:PORT"), err());
        assertTrue(err().contains("dev.slipway.docker.cfg"), err());
        assertFalse(err().contains("unknown command"), err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"vm", "helper"})
    void helperCommandsTheRuntimeDoesNotServeSayWhichBundleIsMissing(String command) throws Exception {
        try (FakeRuntime runtime = runtime(request -> FakeRuntime.Reply.json(404, "{\"error\":\"unknown command: " + command + "\"}"))) {
            assertEquals(1, run(command, "status"));
        }
        assertTrue(err().startsWith("slipway: " + command + ": no helper client is active in this runtime (bundle dev.slipway.helperclient"), err());
        assertFalse(err().contains("unknown command"), err());
    }

    @Test
    void dockerEnvWithoutARuntimeSaysWhatItNeeds() {
        assertEquals(Main.NOT_RUNNING, run("docker-env"));
        assertTrue(err().contains("start it with: slipway up -d (docker-env needs a running runtime with a docker engine configured)"), err());
    }

    @Test
    void helperWithoutARuntimeInADistributionWithoutTheInstallRunSaysSo() {
        assertEquals(Main.NOT_RUNNING, run("helper", "status"));
        assertTrue(err().contains("helper is served without a runtime only by a distribution with conf/install.bndrun"), err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--version", "version"})
    void versionNeedsNoRuntime(String flag) {
        assertEquals(0, run(flag));
        assertTrue(out().startsWith("slipway "), out());
        assertEquals("", err());
    }

    @Test
    void helpListsTheCommandsThatAreAlwaysThere() {
        assertEquals(0, run("help"));
        for (String command : List.of("docker-env", "vm start|stop|status|logs", "helper status|install|uninstall", "--version")) {
            assertTrue(out().contains(command), out());
        }
    }

    @Test
    void aRefusedCommandPrintsTheRuntimesErrorAndExitsWithOne() throws Exception {
        try (FakeRuntime runtime = runtime(request -> FakeRuntime.Reply.json(413, "{\"error\":\"request body larger than 1048576 bytes\"}"))) {
            assertEquals(1, run("dns", "x"));
        }
        assertEquals("slipway: dns: request body larger than 1048576 bytes\n", err());
    }

    @Test
    void anAnswerThatIsNotJsonIsReportedNotThrown() throws Exception {
        try (FakeRuntime runtime = runtime(request -> new FakeRuntime.Reply(500, "text/html", "<h1>oops</h1>"))) {
            assertEquals(1, run("dns"));
        }
        assertTrue(err().startsWith("slipway: dns: the control API answered 500 with something that is not JSON"), err());
    }

    @Test
    void aForwardedCommandWithoutARuntimeSaysItIsNotRunning() {
        assertEquals(Main.NOT_RUNNING, run("dns", "lookup"));
        assertTrue(err().startsWith("slipway: Slipway is not running"), err());
    }

    // --- deploy ---

    private Path bundleJar(String name, Map<String, String> headers) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        headers.forEach((k, v) -> manifest.getMainAttributes().putValue(k, v));
        Path jar = tmp.resolve("in/" + name);
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.putNextEntry(new ZipEntry("dev/slipway/Thing.class"));
            out.write(new byte[] {(byte) 0xca, (byte) 0xfe});
        }
        return jar;
    }

    private Path validBundle() throws IOException {
        return bundleJar("thing.jar", Map.of("Bundle-ManifestVersion", "2", "Bundle-SymbolicName", "dev.slipway.thing;singleton:=true",
                "Bundle-Version", "1.2.3"));
    }

    private List<Path> deployed() throws IOException {
        Path deploy = home.resolve("deploy");
        if (!Files.isDirectory(deploy)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(deploy)) {
            return files.toList();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a.jar b.jar"})
    void deployTakesExactlyOneFile(String args) throws IOException {
        assertEquals(2, args.isEmpty() ? run("deploy") : run(("deploy " + args).split(" ")));
        assertEquals("slipway: usage: slipway deploy FILE.jar\n", err());
        assertEquals(List.of(), deployed());
    }

    @Test
    void deployingAFileThatDoesNotExistOrIsADirectoryDeploysNothing() throws IOException {
        assertEquals(1, run("deploy", tmp.resolve("missing.jar").toString()));
        assertEquals("slipway: " + tmp.resolve("missing.jar") + " is not a file; nothing was deployed\n", err());
        assertEquals(1, run("deploy", tmp.toString()));
        assertEquals(List.of(), deployed());
    }

    @Test
    void deployingAFileThatIsNotAJarDeploysNothing() throws IOException {
        Path text = Files.writeString(tmp.resolve("notes.jar"), "just some text");
        assertEquals(1, run("deploy", text.toString()));
        assertTrue(err().startsWith("slipway: " + text + " is not a jar file ("), err());
        assertTrue(err().endsWith("); nothing was deployed\n"), err());
        assertEquals(List.of(), deployed());
    }

    @Test
    void deployingAJarThatIsNotAnOsgiBundleDeploysNothing() throws IOException {
        List<Path> jars = List.of(
                bundleJar("plain.jar", Map.of("Main-Class", "x.Y")),
                bundleJar("r3.jar", Map.of("Bundle-SymbolicName", "old.style")),
                bundleJar("nameless.jar", Map.of("Bundle-ManifestVersion", "2", "Bundle-Version", "1.0.0")));
        for (Path jar : jars) {
            err.reset();
            assertEquals(1, run("deploy", jar.toString()), jar.toString());
            assertTrue(err().startsWith("slipway: " + jar + " is not an OSGi bundle"), err());
        }
        assertEquals(List.of(), deployed());
    }

    @Test
    void deployingWhileTheRuntimeIsDownLeavesTheBundleForItsNextStart() throws IOException {
        Path jar = validBundle();
        assertEquals(0, run("deploy", jar.toString()));
        Path target = home.resolve("deploy/dev.slipway.thing-1.2.3.jar");
        assertEquals(List.of(target), deployed());
        assertArrayEquals(Files.readAllBytes(jar), Files.readAllBytes(target));
        try (Stream<Path> staging = Files.list(home.resolve("staging"))) {
            assertEquals(0, staging.count(), "nothing is left half-way");
        }
        assertEquals("deployed dev.slipway.thing 1.2.3 to " + home.resolve("deploy") + "\n"
                + "Slipway is not running; the bundle starts with the runtime\n", out());
    }

    @Test
    void deployingTheSameVersionAgainReplacesTheFile() throws IOException {
        Path jar = validBundle();
        assertEquals(0, run("deploy", jar.toString()));
        Files.writeString(home.resolve("deploy/dev.slipway.thing-1.2.3.jar"), "an older build");
        assertEquals(0, run("deploy", jar.toString()));
        assertArrayEquals(Files.readAllBytes(jar), Files.readAllBytes(home.resolve("deploy/dev.slipway.thing-1.2.3.jar")));
    }

    @Test
    void deployingToARunningRuntimeWaitsUntilTheBundleIsActive() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        try (FakeRuntime runtime = runtime(request -> {
            String state = polls.incrementAndGet() < 3 ? "INSTALLED" : "ACTIVE";
            return FakeRuntime.Reply.json(200, "{\"bundles\":[{\"id\":1,\"symbolicName\":\"dev.slipway.thing\",\"version\":\"1.2.2\","
                    + "\"state\":\"ACTIVE\"},{\"id\":12,\"symbolicName\":\"dev.slipway.thing\",\"version\":\"1.2.3\",\"state\":\"" + state + "\"}]}");
        })) {
            assertEquals(0, run("deploy", validBundle().toString()));
        }
        assertTrue(polls.get() >= 3);
        assertTrue(out().endsWith("dev.slipway.thing 1.2.3 is ACTIVE\n"), out());
    }

    // --- up, down, shell ---

    @Test
    void upRefusesToStartASecondRuntime() throws Exception {
        try (FakeRuntime runtime = runtimeWithStatus(READY)) {
            assertEquals(1, run("up", "-d"));
        }
        assertEquals("slipway: Slipway is already running (pid 4242); stop it with ./slipway down\n", err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"stray", "--Bad", "--"})
    void upWithABadOptionIsAUsageErrorAndStartsNothing(String option) {
        assertEquals(2, run("up", "-d", option));
        assertTrue(err().startsWith("slipway: "), err());
        assertTrue(err().contains("'" + option + "'") || err().contains("'" + option), err());
        assertFalse(Files.exists(runtimeDir.resolve("slipway.log")));
    }

    @Test
    void downWithoutARuntimeRemovesWhatADeadOneLeftBehind() throws IOException {
        Files.createDirectories(runtimeDir);
        Files.writeString(runtimeDir.resolve("slipway.pid"), "not a pid\n");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(controlSocket));
        }
        Files.writeString(runtimeDir.resolve("shell.sock"), "");
        Files.writeString(runtimeDir.resolve("keep.txt"), "not ours to remove");
        assertEquals(0, run("down"));
        assertEquals(List.of("keep.txt"), Files.list(runtimeDir).map(p -> p.getFileName().toString()).toList());
        assertTrue(out().contains("removed stale " + controlSocket), out());
        assertTrue(out().endsWith("Slipway is not running\n"), out());
    }

    @Test
    void downAsksTheRuntimeToShutDownAndWaitsForItsProcessToEnd() throws Exception {
        Process finished = new ProcessBuilder("true").start();
        finished.waitFor();
        long pid = finished.pid();
        try (FakeRuntime runtime = runtime(request -> request.path().equals("/status")
                ? FakeRuntime.Reply.json(200, "{\"pid\":" + pid + "}")
                : FakeRuntime.Reply.json(202, "{\"stopping\":true}"))) {
            assertEquals(0, run("down"));
            assertEquals(List.of("GET /status", "POST /shutdown"),
                    runtime.requests.stream().map(r -> r.method() + " " + r.path()).toList());
        }
        assertEquals("Slipway stopped\n", out());
    }

    @Test
    void downStopsARuntimeThatNoLongerAnswersOnItsSocket() throws Exception {
        Process hung = new ProcessBuilder("sleep", "120").start();
        try {
            Files.createDirectories(runtimeDir);
            Files.writeString(runtimeDir.resolve("slipway.pid"), hung.pid() + "\n");
            assertEquals(0, run("down"));
            // down saw it gone (a zombie counts as gone); this JVM's reaper may record its end a moment later
            assertTrue(hung.waitFor(5, java.util.concurrent.TimeUnit.SECONDS), "the hung runtime was stopped");
            assertEquals("slipway: the runtime (pid " + hung.pid() + ") does not answer on its control socket; stopping it\n", err());
        } finally {
            hung.destroyForcibly();
        }
    }

    @Test
    void shellWithoutARuntimeSaysItIsNotRunning() {
        assertEquals(Main.NOT_RUNNING, run("shell"));
        assertTrue(err().contains("no shell socket at " + runtimeDir.resolve("shell.sock")), err());
    }

    @Test
    void shellRelaysInputToTheRuntimesShellAndItsOutputBack() throws Exception {
        Files.createDirectories(runtimeDir);
        try (ServerSocketChannel shell = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            shell.bind(UnixDomainSocketAddress.of(runtimeDir.resolve("shell.sock")));
            Thread session = new Thread(() -> {
                try (SocketChannel c = shell.accept();
                     var reader = new java.io.BufferedReader(new java.io.InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8))) {
                    OutputStream o = Channels.newOutputStream(c);
                    o.write("g! ".getBytes(StandardCharsets.UTF_8));
                    for (String line; (line = reader.readLine()) != null && !line.equals("exit"); ) {
                        o.write(("you said: " + line + "\ng! ").getBytes(StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // the test fails on the output instead
                }
            });
            session.start();
            assertEquals(0, run(new ByteArrayInputStream("lb\nexit\n".getBytes(StandardCharsets.UTF_8)), "shell"));
            session.join(10_000);
        }
        assertEquals("g! you said: lb\ng! ", out());
    }
}
