package dev.slipway.dns.server;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of Slipway's DNS server, ConfigAdmin PID {@value #PID}. */
@ObjectClassDefinition(id = DnsConfig.PID, name = "Slipway DNS",
        description = "Built-in names, forwarding to the host's resolvers, who may ask.")
public @interface DnsConfig {

    String PID = "dev.slipway.dns";

    @AttributeDefinition(description = "Names answered with the host alias address")
    String[] hostNames() default {"host.docker.internal"};

    @AttributeDefinition(description = "The host alias address (the network stack maps it to the host's loopback)")
    String hostAddress() default "192.168.65.254";

    @AttributeDefinition(description = "The host alias's IPv6 address (the network stack maps it to the host's ::1); "
            + "empty = no AAAA answer for the host names")
    String hostAddress6() default "fd00:5e7a:1e55::254";

    @AttributeDefinition(description = "Names answered with the gateway address")
    String[] gatewayNames() default {"gateway.docker.internal"};

    @AttributeDefinition(description = "The gateway address")
    String gatewayAddress() default "192.168.65.1";

    @AttributeDefinition(description = "The gateway's IPv6 address; empty = no AAAA answer for the gateway names")
    String gatewayAddress6() default "fd00:5e7a:1e55::1";

    @AttributeDefinition(description = "Names answered with the Kubernetes API address")
    String[] kubernetesNames() default {"kubernetes.docker.internal"};

    @AttributeDefinition(description = "The Kubernetes API address")
    String kubernetesAddress() default "127.0.0.1";

    @AttributeDefinition(description = "Names of the guest itself; their address is contributed by the network stack "
            + "(the guest's lease) through the DnsRecordSource whiteboard; until then they answer with no data")
    String[] vmNames() default {"vm.docker.internal"};

    @AttributeDefinition(description = "TTL in seconds of built-in answers")
    int ttl() default 60;

    @AttributeDefinition(description = "Client networks that may ask (CIDR); everyone else is ignored")
    String[] allowedClients() default {"127.0.0.0/8", "::1/128", "192.168.65.0/24", "fd00:5e7a:1e55::/64", "fe80::/10"};

    @AttributeDefinition(description = "Upstream servers (IP or IP:port, [IPv6]:port) used instead of the host's resolvers; empty = the host's")
    String[] upstreams() default {};

    @AttributeDefinition(description = "Milliseconds to wait for one upstream server before trying the next")
    int upstreamTimeoutMs() default 1500;

    @AttributeDefinition(description = "Milliseconds after which a forwarded query is answered SERVFAIL")
    int queryTimeoutMs() default 4000;

    @AttributeDefinition(description = "Forwarded queries in flight at most; more are answered SERVFAIL")
    int maxInFlight() default 2048;

    @AttributeDefinition(description = "Answers kept in the cache at most (0 disables the cache)")
    int cacheEntries() default 10000;

    @AttributeDefinition(description = "Longest time in seconds a positive answer is cached")
    int cacheMaxTtl() default 3600;

    @AttributeDefinition(description = "Longest time in seconds a negative answer (NXDOMAIN, no data) is cached")
    int cacheNegativeMaxTtl() default 300;

    @AttributeDefinition(description = "Host address to listen on (UDP and TCP), e.g. 127.0.0.1:15353; "
            + "overrides the framework property slipway.dns-listen; empty = that property, or no host socket")
    String listen() default "";

    @AttributeDefinition(description = "Threads answering UDP on the host address, each with its own socket (SO_REUSEPORT)")
    int listenerThreads() default 2;

    @AttributeDefinition(description = "TCP client connections at most")
    int maxTcpConnections() default 128;
}
