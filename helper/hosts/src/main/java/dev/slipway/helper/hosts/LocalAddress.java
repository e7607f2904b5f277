package dev.slipway.helper.hosts;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.Comparator;
import java.util.Optional;

/**
 * The host's local IP address for host.docker.internal / gateway.docker.internal: the first IPv4
 * address of an interface that is up, not loopback, not point-to-point and not virtual, preferring
 * non-link-local addresses. Found by enumerating interfaces; nothing is sent anywhere.
 */
final class LocalAddress {

    private LocalAddress() {
    }

    static Optional<String> find() {
        try {
            return Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                    .filter(LocalAddress::usable)
                    .sorted(Comparator.comparingInt(NetworkInterface::getIndex))
                    .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
                    .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress())
                    .sorted(Comparator.comparing(InetAddress::isLinkLocalAddress))
                    .map(InetAddress::getHostAddress)
                    .findFirst();
        } catch (SocketException e) {
            return Optional.empty();
        }
    }

    private static boolean usable(NetworkInterface i) {
        try {
            return i.isUp() && !i.isLoopback() && !i.isPointToPoint() && !i.isVirtual();
        } catch (SocketException e) {
            return false;
        }
    }
}
