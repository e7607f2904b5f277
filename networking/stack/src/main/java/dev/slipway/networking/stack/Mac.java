package dev.slipway.networking.stack;

/** 48-bit MAC addresses held in longs. */
public final class Mac {
    public static final long BROADCAST = 0xffff_ffff_ffffL;

    private Mac() {}

    public static long parse(String text) {
        String[] parts = text.trim().split("[:-]", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        long v = 0;
        for (String p : parts) {
            int octet;
            try {
                octet = Integer.parseInt(p, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            if (p.length() > 2 || octet < 0) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            v = v << 8 | octet;
        }
        return v;
    }

    public static String toString(long mac) {
        StringBuilder s = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            int octet = (int) (mac >>> (8 * i)) & 255;
            s.append(Character.forDigit(octet >> 4, 16)).append(Character.forDigit(octet & 15, 16));
            if (i > 0) {
                s.append(':');
            }
        }
        return s.toString();
    }

    /** Multicast or broadcast: the group bit of the first octet. */
    public static boolean isGroup(long mac) {
        return (mac & 0x0100_0000_0000L) != 0;
    }
}
