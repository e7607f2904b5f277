package dev.slipway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunSpecTest {

    @TempDir
    Path dir;

    @Test
    void readsRunBundlesWithRangesAndRunPropertiesAcrossContinuationLines() throws IOException {
        Path bndrun = dir.resolve("x.bndrun");
        Files.writeString(bndrun, """
                # comment
                -runproperties: \\
                    a.b=1,\\
                    quoted='x,y'
                -runbundles: \\
                    org.example.one;version='[1.2,2)',\\
                    org.example.two;version=latest,\\
                    org.example.three
                """);
        RunSpec spec = RunSpec.read(bndrun);
        assertEquals(List.of(new RunSpec.Requirement("org.example.one", "[1.2,2)"),
                new RunSpec.Requirement("org.example.two", null), new RunSpec.Requirement("org.example.three", null)), spec.bundles());
        assertEquals("1", spec.properties().get("a.b"));
        assertEquals("x,y", spec.properties().get("quoted"));
    }

    @Test
    void aBndrunWithoutBundlesIsAClearError() throws IOException {
        Path bndrun = dir.resolve("empty.bndrun");
        Files.writeString(bndrun, "-runfw: org.apache.felix.framework\n");
        IOException e = assertThrows(IOException.class, () -> RunSpec.read(bndrun));
        assertTrue(e.getMessage().contains("no -runbundles"), e.getMessage());
    }

    @Test
    void theRealRuntimeBndrunParses() throws IOException {
        RunSpec spec = RunSpec.read(Path.of("../../cnf/slipway.bndrun"));
        assertTrue(spec.bundles().stream().anyMatch(r -> r.symbolicName().equals("dev.slipway.platform.linux")));
        assertTrue(spec.bundles().stream().anyMatch(r -> r.symbolicName().equals("org.apache.felix.scr")));
    }

    @Test
    void splitListKeepsQuotedCommas() {
        assertEquals(List.of("a;version='[1,2)'", "b"), RunSpec.splitList(" a;version='[1,2)' , b ,, "));
    }
}
