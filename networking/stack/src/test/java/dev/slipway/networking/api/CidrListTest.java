package dev.slipway.networking.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

class CidrListTest {
    private final CidrList metadata = CidrList.cloudMetadata();

    private boolean refused(String address) throws Exception {
        return metadata.contains(InetAddress.getByName(address));
    }

    @Test
    void theCloudListMatchesEveryEntryAndNothingBeside() throws Exception {
        for (String a : new String[] {"169.254.169.254", "169.254.0.0", "169.254.255.255", "100.100.100.200", "fd00:ec2::254",
                "168.63.129.16", "fe80::1", "febf:ffff::1"}) {
            assertTrue(refused(a), a);
        }
        for (String a : new String[] {"127.0.0.1", "169.253.255.255", "169.255.0.0", "100.100.100.201", "168.63.129.17",
                "fd00:ec2::253", "fec0::1", "::1", "192.168.65.254", "8.8.8.8"}) {
            assertFalse(refused(a), a);
        }
    }

    @Test
    void ipv4InsideIpv6MatchesTheIpv4Blocks() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(InetAddress.getByName("169.254.169.254").getAddress(), 0, mapped, 12, 4);
        assertTrue(metadata.containsIpv6(0, ((long) 0xffff << 32) | 0xa9fea9feL));
        assertTrue(refused("64:ff9b::a9fe:a9fe"), "NAT64 form of 169.254.169.254");
        assertTrue(refused("64:ff9b::6464:64c8"), "NAT64 form of 100.100.100.200");
        assertFalse(refused("64:ff9b::808:808"));
        CidrList mappedEntry = CidrList.parse("::ffff:10.0.0.0/104");
        assertTrue(mappedEntry.containsIpv4(0x0a01_0203));
    }

    @Test
    void withoutDropsTheEntriesInsideTheGivenBlocks() {
        CidrList l = CidrList.parse("169.254.169.254,169.254.0.0/16,169.0.0.0/8,fe80::/10,fe80::1,fe00::/7,100.100.100.200");
        assertEquals("169.0.0.0/8,fe00::/7,100.100.100.200", l.without(CidrList.parse(CidrList.LINK_LOCAL)).toString());
    }

    @Test
    void onlyLiteralsAndPrefixesInRangeAreAccepted() {
        for (String bad : new String[] {"metadata.google.internal", "10.0.0.0/33", "fe80::/129", "999.1.1.1", "10.0.0/8", "fe80::/x",
                "fe80::1%eth0"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> CidrList.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        assertTrue(CidrList.parse(" ").isEmpty());
        assertEquals(CidrList.cloudMetadata(), CidrList.parse(CidrList.cloudMetadata().toString()));
        assertTrue(CidrList.parse("0.0.0.0/0").containsIpv4(0x7f00_0001));
        assertTrue(CidrList.parse("::/0").containsIpv6(0x2001_0db8_0000_0000L, 1));
        assertTrue(CidrList.parse("2001:db8::/65").containsIpv6(0x2001_0db8_0000_0000L, 0x7fff_ffff_ffff_ffffL));
        assertFalse(CidrList.parse("2001:db8::/65").containsIpv6(0x2001_0db8_0000_0000L, 0x8000_0000_0000_0000L));
    }
}
