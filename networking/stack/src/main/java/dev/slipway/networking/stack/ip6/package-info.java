/**
 * IPv6 for the guest network: the header and extension-header walk with limits, neighbour
 * discovery, router advertisements (prefix, RDNSS, MTU), ICMPv6 echo and errors, stateless DHCPv6
 * and fragment reassembly. Private to the stack bundle.
 */
package dev.slipway.networking.stack.ip6;
