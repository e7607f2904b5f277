package dev.slipway.api.helper;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one schema of the helper protocol: every operation the helper may perform and every
 * parameter each one takes. Nothing outside it is accepted, whatever bundles run in the helper.
 * No parameter is a free-form string: every path, file name, link target and command is fixed by
 * the helper from its install-time configuration.
 *
 * <p>Later protocol additions add operations and parameter types here in a minor version of this package.
 */
public final class HelperSchema {

    public static final String VERSION = "version";
    public static final String HEALTH = "health";
    public static final String HOSTS_ENSURE = "hosts.ensure";
    public static final String HOSTS_REMOVE = "hosts.remove";
    public static final String SYMLINKS_INSTALL = "symlinks.install";
    public static final String SYMLINKS_REMOVE = "symlinks.remove";
    public static final String DOCKERSOCK_LINK = "dockersock.link";
    public static final String DOCKERSOCK_UNLINK = "dockersock.unlink";
    public static final String UNINSTALL = "uninstall";
    public static final String VM_CREATE = "vm.create";
    public static final String VM_START = "vm.start";
    public static final String VM_STOP = "vm.stop";
    public static final String VM_DESTROY = "vm.destroy";
    public static final String VM_STATUS = "vm.status";
    public static final String VM_MOVE_DISK = "vm.move-disk";
    /**
     * A new connection to the running VM's engine channel, passed to the caller as a descriptor (a
     * runtime that started again gets the engine back without a VM restart). Takes only the VM's name.
     */
    public static final String VM_ATTACH_ENGINE = "vm.attach-engine";
    /**
     * A new connection to the running VM's network card (QEMU's stream netdev listening in the
     * helper's own directory), passed to the caller as a descriptor: the runtime's network stack
     * attaches it as the VM's link, at every start and again after a restart of the runtime or of
     * its network component. Takes only the VM's name.
     */
    public static final String VM_ATTACH_NETWORK = "vm.attach-network";

    /** Parameter of {@code vm.*}: the VM's name; the helper manages exactly one VM, {@value #VM_NAME}. */
    public static final String PARAM_NAME = "name";
    public static final String VM_NAME = "slipway-vm";
    /**
     * Parameter of {@code vm.move-disk}: the directory the disk moves into. The only client path the
     * protocol has; the handler re-checks the whole chain (no link, trusted owner, not writable by
     * others) on opened directories immediately before moving, and the directory itself must be the
     * caller's own or on the install's allow-list ({@link HelperSettings#VM_DISK_DIRS}).
     */
    public static final String PARAM_DESTINATION = "destination";
    public static final String POLICY_STORE = "policy.store";
    public static final String POLICY_READ = "policy.read";

    /** Parameter of {@code policy.*}: which policy. */
    public static final String PARAM_POLICY = "policy";
    public static final String POLICY_REGISTRY_ACCESS = "registry-access";
    /** Parameter of {@code policy.store}: the signed policy document, base64. */
    public static final String PARAM_DOCUMENT = "document";
    /** The largest signed policy document, decoded; it must fit one protocol message in base64. */
    public static final int MAX_POLICY_BYTES = 32 * 1024;

    /**
     * Binds a privileged port (below 1024) for the caller and passes the bound socket back with
     * SCM_RIGHTS on the caller's connection; the helper never carries the port's traffic.
     */
    public static final String PORTS_BIND = "ports.bind";
    /** Parameter of {@code ports.bind}: {@code tcp} or {@code udp}. */
    public static final String PARAM_PROTOCOL = "protocol";
    /** Parameter of {@code ports.bind}: an IP literal the helper's allow-list permits. */
    public static final String PARAM_ADDRESS = "address";
    /** Parameter of {@code ports.bind}: 1 to {@value #MAX_PRIVILEGED_PORT}, as decimal text. */
    public static final String PARAM_PORT = "port";
    /** Parameter of {@code ports.bind}: {@code true} to allow the all-addresses address (0.0.0.0 or ::). */
    public static final String PARAM_ALL_ADDRESSES = "allAddresses";
    public static final int MAX_PRIVILEGED_PORT = 1023;

    /** Parameter of {@code symlinks.*}: which bin dir. */
    public static final String PARAM_LOCATION = "location";
    public static final String LOCATION_SYSTEM = "system";

    /** The type of a parameter value: checks a decoded JSON value (String, Long, Boolean). */
    public interface ParamType {
        /** Empty when {@code value} is acceptable, otherwise why not. */
        Optional<String> problem(Object value);

        /**
         * Whether values of this type are paths the handler checks itself; every other parameter
         * holding something path-like is refused before it reaches a handler.
         */
        default boolean acceptsPath() {
            return false;
        }
    }

    /** A string that must be one of a fixed set of words. */
    public record OneOf(Set<String> values, String hint) implements ParamType {
        public OneOf {
            values = Set.copyOf(new LinkedHashSet<>(values));
        }

        @Override
        public Optional<String> problem(Object value) {
            if (!(value instanceof String s)) {
                return Optional.of("must be a string, one of " + sorted());
            }
            if (!values.contains(s)) {
                return Optional.of("must be one of " + sorted() + (hint.isEmpty() ? "" : "; " + hint));
            }
            return Optional.empty();
        }

        private List<String> sorted() {
            return values.stream().sorted().toList();
        }
    }

    /**
     * A client-chosen directory: absolute, already normal (no {@code .}, {@code ..}, empty or
     * repeated separators), printable, bounded in length. Only its syntax is checked here; the
     * handler checks what is on disk.
     */
    public record CheckedDirectory(int maxLength) implements ParamType {
        @Override
        public Optional<String> problem(Object value) {
            if (!(value instanceof String s)) {
                return Optional.of("must be a string holding an absolute directory path");
            }
            if (s.isEmpty() || s.length() > maxLength) {
                return Optional.of("must be 1 to " + maxLength + " characters");
            }
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < 0x20 || c == 0x7f || c == '\\') {
                    return Optional.of("must not hold control characters or backslashes");
                }
            }
            if (!s.startsWith("/")) {
                return Optional.of("must be an absolute path");
            }
            if (s.equals("/")) {
                return Optional.of("must not be the root directory");
            }
            if (s.endsWith("/") || s.contains("//")) {
                return Optional.of("must not hold empty path components");
            }
            for (String part : s.substring(1).split("/")) {
                if (part.equals(".") || part.equals("..")) {
                    return Optional.of("must not hold . or .. components");
                }
            }
            return Optional.empty();
        }

        @Override
        public boolean acceptsPath() {
            return true;
        }
    }

    /**
     * Base64 of at most {@code maxBytes} bytes: opaque data that the handler checks itself (a
     * signed document), never a path, a name or a command.
     */
    public record Base64Blob(int maxBytes) implements ParamType {
        @Override
        public Optional<String> problem(Object value) {
            if (!(value instanceof String s)) {
                return Optional.of("must be a base64 string");
            }
            if (s.length() > (maxBytes + 2) / 3 * 4) {
                return Optional.of("must decode to at most " + maxBytes + " bytes");
            }
            try {
                java.util.Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                return Optional.of("must be base64: " + e.getMessage());
            }
            return Optional.empty();
        }
    }

    /** An IPv4 or IPv6 address literal (never a name: nothing is looked up). Only its syntax is checked here. */
    public record AddressLiteral() implements ParamType {
        @Override
        public Optional<String> problem(Object value) {
            if (!(value instanceof String s)) {
                return Optional.of("must be a string holding an IP address");
            }
            if (s.length() > 45) {
                return Optional.of("must be at most 45 characters");
            }
            if (s.matches("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}")) {
                return Optional.empty();
            }
            if (s.matches("[0-9a-fA-F:]*:[0-9a-fA-F:]*") && s.length() >= 2) {
                return Optional.empty();
            }
            return Optional.of("must be an IPv4 or IPv6 address literal");
        }
    }

    /** Decimal text of an integer from {@code min} to {@code max}, without sign or leading zeros. */
    public record IntegerRange(int min, int max) implements ParamType {
        @Override
        public Optional<String> problem(Object value) {
            if (!(value instanceof String s) || !s.matches("[1-9][0-9]{0,9}|0")) {
                return Optional.of("must be decimal text from " + min + " to " + max);
            }
            long n = Long.parseLong(s);
            if (n < min || n > max) {
                return Optional.of("must be from " + min + " to " + max);
            }
            return Optional.empty();
        }
    }

    /** One parameter of an operation. */
    public record Param(String name, ParamType type, boolean required) {}

    /**
     * One allow-listed operation.
     *
     * @param mutating whether it changes the system (audited with its outcome either way; a
     *        mutating operation is refused when the audit log cannot be written)
     */
    public record Operation(String name, Map<String, Param> params, boolean mutating, String summary) {
        public Operation {
            params = Map.copyOf(params);
        }
    }

    private static final OneOf LOCATION = new OneOf(Set.of(LOCATION_SYSTEM),
            "links in the user's own bin dir need no privilege; the runtime makes them as the user");

    private static final OneOf VM = new OneOf(Set.of(VM_NAME),
            "the helper manages exactly one VM and no other");

    private static final Param VM_NAME_PARAM = new Param(PARAM_NAME, VM, true);
    private static final OneOf POLICY = new OneOf(Set.of(POLICY_REGISTRY_ACCESS), "");

    private static final Map<String, Operation> OPERATIONS = build(
            op(VERSION, false, "the helper's protocol and build version"),
            op(HEALTH, false, "whether the helper is serving, and what it serves"),
            op(HOSTS_ENSURE, true, "write Slipway's block into the system hosts file"),
            op(HOSTS_REMOVE, true, "remove Slipway's block from the system hosts file"),
            op(SYMLINKS_INSTALL, true, "link the CLI tools into the system bin dir",
                    new Param(PARAM_LOCATION, LOCATION, true)),
            op(SYMLINKS_REMOVE, true, "remove Slipway's CLI links from the system bin dir",
                    new Param(PARAM_LOCATION, LOCATION, true)),
            op(DOCKERSOCK_LINK, true, "link the system docker.sock to the caller's Slipway socket"),
            op(DOCKERSOCK_UNLINK, true, "remove the system docker.sock link if it is Slipway's"),
            op(VM_CREATE, true, "create the VM's disk and state in the helper's VM directory", VM_NAME_PARAM),
            op(VM_START, true, "boot the VM and tell the caller's Slipway runtime to attach its network card", VM_NAME_PARAM),
            op(VM_STOP, true, "stop the VM", VM_NAME_PARAM),
            op(VM_DESTROY, true, "stop the VM and delete its disk and state", VM_NAME_PARAM),
            op(VM_STATUS, false, "whether the VM exists and runs, where its disk and console log are", VM_NAME_PARAM),
            op(VM_ATTACH_ENGINE, true, "pass the caller a new connection to the running VM's engine channel", VM_NAME_PARAM),
            op(VM_ATTACH_NETWORK, true, "pass the caller a new connection to the running VM's network card", VM_NAME_PARAM),
            op(VM_MOVE_DISK, true, "move the stopped VM's disk into a trusted directory", VM_NAME_PARAM,
                    new Param(PARAM_DESTINATION, new CheckedDirectory(1024), true)),
            op(POLICY_STORE, true, "store a policy signed by the organisation's key (checked against the key set at install)",
                    new Param(PARAM_POLICY, POLICY, true), new Param(PARAM_DOCUMENT, new Base64Blob(MAX_POLICY_BYTES), true)),
            op(POLICY_READ, false, "the stored signed policy, as stored",
                    new Param(PARAM_POLICY, POLICY, true)),
            op(PORTS_BIND, true, "bind a port below 1024 on an allowed address and pass the socket to the caller",
                    new Param(PARAM_PROTOCOL, new OneOf(Set.of("tcp", "udp"), ""), true),
                    new Param(PARAM_ADDRESS, new AddressLiteral(), true),
                    new Param(PARAM_PORT, new IntegerRange(1, MAX_PRIVILEGED_PORT), true),
                    new Param(PARAM_ALL_ADDRESSES, new OneOf(Set.of("true", "false"), ""), false)),
            op(UNINSTALL, true, "undo every change the helper made and remove the helper service"));

    private HelperSchema() {
    }

    /** The operation named {@code name}, if it is allow-listed. */
    public static Optional<Operation> operation(String name) {
        return Optional.ofNullable(OPERATIONS.get(name));
    }

    /** Every allow-listed operation, in a stable order. */
    public static Map<String, Operation> operations() {
        return OPERATIONS;
    }

    private static Operation op(String name, boolean mutating, String summary, Param... params) {
        Map<String, Param> map = new LinkedHashMap<>();
        for (Param p : params) {
            map.put(p.name(), p);
        }
        return new Operation(name, map, mutating, summary);
    }

    private static Map<String, Operation> build(Operation... ops) {
        Map<String, Operation> map = new LinkedHashMap<>();
        for (Operation o : ops) {
            map.put(o.name(), o);
        }
        return java.util.Collections.unmodifiableMap(map);
    }
}
