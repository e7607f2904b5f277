package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** PAC's date and time helpers, at fixed instants, through a script as a PAC file calls them. */
class PacTimeTest {
    /** Wednesday 15 March 2023, 23:30:15 UTC; in Berlin (UTC+1 in March) already Thursday 16 March, 00:30:15. */
    static final Instant LATE_WEDNESDAY_UTC = Instant.parse("2023-03-15T23:30:15Z");
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    static boolean eval(String call, Instant at, ZoneId zone) {
        PacScript pac = PacScript.compile("http://wpad/t.pac", "function FindProxyForURL(u, h) { return (" + call + ") ? 'yes' : 'no'; }",
                Map.<String, String>of()::get, "10.1.2.3", 300, new PacTime(Clock.fixed(at, zone), zone));
        return pac.find("http://a/", "a").equals("yes");
    }

    static boolean berlin(String call) {
        return eval(call, LATE_WEDNESDAY_UTC, BERLIN);
    }

    @Test
    void weekdayRange() {
        assertTrue(berlin("weekdayRange('THU')"));
        assertTrue(berlin("weekdayRange('WED', 'GMT')"), "GMT: still Wednesday");
        assertTrue(berlin("weekdayRange('MON', 'FRI')"));
        assertFalse(berlin("weekdayRange('SAT', 'SUN')"));
        assertTrue(berlin("weekdayRange('FRI', 'THU')"), "wraps around the week");
        assertFalse(berlin("weekdayRange('FRI', 'MON')"));
        assertTrue(berlin("weekdayRange('mon', 'fri')"), "names in any case");
    }

    @Test
    void dateRange() {
        assertTrue(berlin("dateRange(16)"));
        assertTrue(berlin("dateRange(15, 'GMT')"));
        assertTrue(berlin("dateRange('MAR')"));
        assertTrue(berlin("dateRange(2023)"));
        assertFalse(berlin("dateRange(2024)"));
        assertTrue(berlin("dateRange(1, 16)"));
        assertFalse(berlin("dateRange(17, 31)"));
        assertTrue(berlin("dateRange(25, 20)"), "days wrap around the month");
        assertTrue(berlin("dateRange('JAN', 'MAR')"));
        assertTrue(berlin("dateRange('NOV', 'MAR')"), "months wrap around the year");
        assertFalse(berlin("dateRange('APR', 'OCT')"));
        assertTrue(berlin("dateRange(2020, 2023)"));
        assertTrue(berlin("dateRange(16, 'MAR', 1, 'APR')"));
        assertFalse(berlin("dateRange(17, 'MAR', 1, 'APR')"));
        assertTrue(berlin("dateRange(1, 'DEC', 31, 'MAR')"), "day-month pairs wrap around the year");
        assertTrue(berlin("dateRange('FEB', 2023, 'JAN', 2024)"));
        assertFalse(berlin("dateRange('APR', 2023, 'JAN', 2024)"));
        assertTrue(berlin("dateRange(16, 'MAR', 2023, 16, 'MAR', 2023)"));
        assertFalse(berlin("dateRange(16, 'MAR', 2023, 16, 'MAR', 2023, 'GMT')"), "in UTC it is the 15th");
        assertTrue(berlin("dateRange(1, 'JAN', 2000, 31, 'DEC', 2099)"));
    }

    @Test
    void timeRange() {
        assertTrue(berlin("timeRange(0)"));
        assertTrue(berlin("timeRange(23, 'GMT')"));
        assertTrue(berlin("timeRange(0, 8)"));
        assertFalse(berlin("timeRange(9, 17)"));
        assertTrue(berlin("timeRange(22, 6)"), "wraps around midnight");
        assertTrue(berlin("timeRange(0, 30, 1, 0)"));
        assertFalse(berlin("timeRange(0, 31, 1, 0)"));
        assertTrue(berlin("timeRange(0, 30, 15, 0, 30, 15)"));
        assertFalse(berlin("timeRange(0, 30, 16, 0, 30, 59)"));
        assertTrue(berlin("timeRange(23, 0, 0, 23, 59, 59, 'GMT')"));
    }

    @Test
    void argumentsOfNoFormFailTheScriptWithAReason() {
        PacScript pac = PacScript.compile("http://wpad/t.pac", "function FindProxyForURL(u, h) { return dateRange(16, 'MAR', 2023) ? 'a' : 'b'; }",
                Map.<String, String>of()::get, "10.1.2.3", 300, new PacTime(Clock.fixed(LATE_WEDNESDAY_UTC, BERLIN), BERLIN));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pac.find("http://a/", "a"));
        assertTrue(e.getMessage().contains("dateRange takes"), e.getMessage());
        for (String bad : new String[] {"timeRange()", "timeRange(24)", "timeRange(1, 2, 3)", "timeRange(1.5)", "weekdayRange('XYZ')",
                "weekdayRange()", "dateRange('MAR', 5)", "dateRange(0)", "timeRange('x')"}) {
            assertThrows(IllegalStateException.class, () -> berlin(bad), bad);
        }
    }

    @Test
    void theSystemClockIsTheDefault() {
        PacScript pac = PacScript.compile("http://wpad/t.pac",
                "function FindProxyForURL(u, h) { return timeRange(0, 23) && weekdayRange('SUN', 'SAT') && dateRange(1, 31) ? 'a' : 'b'; }",
                Map.<String, String>of()::get, "10.1.2.3", 300);
        assertEquals("a", pac.find("http://a/", "a"));
    }
}
