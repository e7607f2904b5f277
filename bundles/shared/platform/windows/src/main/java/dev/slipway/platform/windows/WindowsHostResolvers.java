package dev.slipway.platform.windows;

import java.time.Duration;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;
import dev.slipway.process.poll.PolledHostResolvers;

/**
 * The DNS servers of the connected network adapters and the NRPT's per-domain servers, from
 * PowerShell's DnsClient module; asked again every {@value #POLL_SECONDS} seconds (PowerShell
 * takes a while to start, so less often than on the other systems).
 */
@Component(service = HostResolvers.class, immediate = true)
public final class WindowsHostResolvers extends PolledHostResolvers {

    static final int POLL_SECONDS = 10;
    /** Prints the lines {@link DnsClientOutput} reads; locale-independent, unlike ipconfig /all. */
    static final String SCRIPT = String.join("; ",
            "$ErrorActionPreference = 'SilentlyContinue'",
            "Get-NetAdapter | Where-Object Status -eq 'Up' | ForEach-Object {"
                    + " $i = $_.ifIndex;"
                    + " $m = (Get-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4).InterfaceMetric;"
                    + " Get-DnsClientServerAddress -InterfaceIndex $i | ForEach-Object {"
                    + " 'server|{0}|{1}|{2}|{3}' -f $i, $m, $_.AddressFamily, ($_.ServerAddresses -join ',') } }",
            "Get-DnsClientNrptPolicy | ForEach-Object {"
                    + " 'nrpt|{0}|{1}' -f ($_.Namespace -join ','), ($_.NameServers -join ',') }");
    static final List<String> COMMAND = List.of("powershell.exe", "-NoProfile", "-NonInteractive", "-Command", SCRIPT);

    @Activate
    public WindowsHostResolvers(@Reference CommandRunner commands) {
        this(commands, true);
    }

    WindowsHostResolvers(CommandRunner commands, boolean poll) {
        super("the DNS servers from PowerShell", commands, COMMAND, Duration.ofSeconds(20), DnsClientOutput::parse, poll, Duration.ofSeconds(POLL_SECONDS),
                "slipway-dns-client");
    }
}
