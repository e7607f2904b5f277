package dev.slipway.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

class PrerequisitesTest {

    @Test
    void aMissingCommandSkipsWithThePackageToInstall() {
        TestAbortedException e = assertThrows(TestAbortedException.class, () -> Prerequisites.assumeCommands("sh", "nft-not-here"));
        assertEquals("Assumption failed: needs nft-not-here: apt-get install -y nft-not-here", e.getMessage());
        assertEquals("nftables", Prerequisites.packageOf("nft"));
        assertEquals("iproute2", Prerequisites.packageOf("ip"));
    }

    @Test
    void notBeingRootSkipsSayingWhatNeedsIt() {
        String me = System.getProperty("user.name");
        System.setProperty("user.name", "nobody-in-particular");
        try {
            TestAbortedException e = assertThrows(TestAbortedException.class, () -> Prerequisites.assumeRoot("creates users with useradd"));
            assertEquals("Assumption failed: needs root (CI runs as root): creates users with useradd", e.getMessage());
            e = assertThrows(TestAbortedException.class, () -> Prerequisites.assumeNamespaces("ip"));
            assertEquals("Assumption failed: needs root for network namespaces and tap devices: run the tests as root (CI does)", e.getMessage());
            e = assertThrows(TestAbortedException.class, () -> TestUsers.create("slwx", "creates users"));
            assertEquals("Assumption failed: needs root (CI runs as root): creates users", e.getMessage());
        } finally {
            System.setProperty("user.name", me);
        }
    }
}
