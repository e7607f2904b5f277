package dev.slipway.networking.ports;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.slipway.api.helper.HelperSchema;
import dev.slipway.dns.server.DnsConfig;
import dev.slipway.dns.server.DnsServer;
import dev.slipway.dns.server.DnsStats;
import dev.slipway.helperclient.SocketHelperClient;
import dev.slipway.networking.stack.component.NetworkService;

/**
 * The runtime's side of {@link EngineMemberRuntimeRootTest}, run as a member of the helper's group:
 * the network component on {@code RUN/vm.sock} (its VM network card from the helper), the DNS server, the port forwarder and the docker
 * integration (engine channel {@code RUN/engine.sock}, {@code RUN/docker.sock}, the {@code slipway}
 * context in DOCKER_CONFIG), all with the real helper client. With {@code start} it also creates and
 * starts the VM through the helper, as {@code slipway vm start} does; without, it comes back to a VM
 * that runs. Prints {@code UP}, then serves until stdin closes.
 *
 * <p>Arguments: HELPER_SOCKET RUN_DIR DOCKER_CONFIG [start]
 */
public final class EngineRuntimeMain {

    public static void main(String[] args) throws Exception {
        Path helperSocket = Path.of(args[0]);
        Path run = Path.of(args[1]);
        Path dockerConfig = Path.of(args[2]);
        boolean start = args.length > 3 && args[3].equals("start");
        SocketHelperClient helper = new SocketHelperClient(helperSocket, Duration.ofSeconds(20));
        NetworkService network = new NetworkService(Fakes.context(), Map.of("vmSocket", run.resolve("vm.sock").toString()));
        DnsServer dns = new DnsServer(new DnsStats(), EngineLab.defaults(DnsConfig.class));
        Method bindDns = NetworkService.class.getDeclaredMethod("bindDns", dev.slipway.dns.api.DnsService.class);
        bindDns.setAccessible(true);
        bindDns.invoke(network, dns);
        Method bindHelper = NetworkService.class.getDeclaredMethod("bindHelper", dev.slipway.api.helper.HelperClient.class);
        bindHelper.setAccessible(true);
        bindHelper.invoke(network, helper);
        PortForwarder forwarder = new PortForwarder(Fakes.configAdmin(new HashMap<>()));
        forwarder.bindHelper(helper);
        forwarder.bindConnector(network);
        Files.createDirectories(dockerConfig);
        Map<String, Object> p = new HashMap<>();
        p.put("socket", run.resolve("docker.sock").toString());
        p.put("engineChannel", run.resolve("engine.sock").toString());
        p.put("dockerConfig", dockerConfig.toString());
        DockerIntegration docker = new DockerIntegration(Fakes.context(), p, forwarder);
        docker.bindHelper(helper);
        if (start) {
            Map<String, String> vm = Map.of(HelperSchema.PARAM_NAME, HelperSchema.VM_NAME);
            System.out.println("CREATED " + helper.call(HelperSchema.VM_CREATE, vm));
            System.out.println("STARTED " + helper.call(HelperSchema.VM_START, vm));
        }
        System.out.println("UP");
        System.out.flush();
        while (System.in.read() >= 0) {
            // the test closes stdin when this runtime is to stop
        }
        docker.deactivate();
        forwarder.deactivate();
        Fakes.stop(network);
        Method deactivate = DnsServer.class.getDeclaredMethod("deactivate");
        deactivate.setAccessible(true);
        deactivate.invoke(dns);
        System.out.println("DOWN");
        System.out.flush();
    }
}
