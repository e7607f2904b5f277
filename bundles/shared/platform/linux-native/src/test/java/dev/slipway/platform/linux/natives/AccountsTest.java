package dev.slipway.platform.linux.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class AccountsTest {
    @Test
    void rootIsUidAndGidZero() throws IOException {
        assertEquals(new Accounts.Account("root", 0, 0), Accounts.lookup("root").orElseThrow());
    }

    @Test
    void aMissingAccountIsEmpty() throws IOException {
        assertTrue(Accounts.lookup("slipway-no-such-account").isEmpty());
        assertTrue(Accounts.lookup("").isEmpty());
    }

    @Test
    void theEffectiveUidIsTheOneProcfsShows() throws IOException {
        assertEquals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"), Accounts.effectiveUid());
    }
}
