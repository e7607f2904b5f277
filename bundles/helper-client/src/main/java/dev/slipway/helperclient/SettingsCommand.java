package dev.slipway.helperclient;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.UserCliLinks;

/**
 * {@code slipway settings list|set KEY VALUE}. Settings that change the system say so ("requires
 * password" in Docker Desktop's words) and are applied by asking the helper, whose group
 * membership is the authorization: this command never elevates by itself.
 */
@Component(property = {ControlCommand.NAME + "=settings",
        ControlCommand.SUMMARY + "=show or change settings; those marked 'needs the helper' are applied by the privileged helper"})
public final class SettingsCommand implements ControlCommand {

    /** One setting: its values and whether any value needs the helper. */
    record Setting(String key, List<String> values, boolean needsHelper, String description) {}

    static final Map<String, Setting> SETTINGS = settings(
            new Setting("cli.location", List.of("system", "user"), true,
                    "where the CLI tools are linked: system = /usr/local/bin (needs the helper), user = your Slipway bin dir"),
            new Setting("docker.socket", List.of("on", "off"), true,
                    "the system docker.sock link to your Slipway socket, re-created at boot (needs the helper)"),
            new Setting("hosts.entries", List.of("on", "off"), true,
                    "Slipway's block in the system hosts file (needs the helper)"));

    private final HelperClient helper;
    private final UserCliLinks userLinks;

    @Activate
    public SettingsCommand(@Reference HelperClient helper, @Reference UserCliLinks userLinks) {
        this.helper = helper;
        this.userLinks = userLinks;
    }

    private static Map<String, Setting> settings(Setting... all) {
        Map<String, Setting> map = new LinkedHashMap<>();
        for (Setting s : all) {
            map.put(s.key(), s);
        }
        return map;
    }

    @Override
    public CommandResult execute(List<String> args) throws Exception {
        if (args.size() == 1 && args.get(0).equals("list")) {
            return CommandResult.ok(list());
        }
        if (args.size() != 3 || !args.get(0).equals("set")) {
            return CommandResult.usage("usage: slipway settings list\n       slipway settings set KEY VALUE\n" + list());
        }
        Setting setting = SETTINGS.get(args.get(1));
        String value = args.get(2);
        if (setting == null) {
            return CommandResult.usage("unknown setting " + args.get(1) + "\n" + list());
        }
        if (!setting.values().contains(value)) {
            return CommandResult.usage(setting.key() + " is one of " + String.join(", ", setting.values()));
        }
        return switch (setting.key()) {
            case "cli.location" -> cliLocation(value);
            case "docker.socket" -> viaHelper(value.equals("on") ? HelperSchema.DOCKERSOCK_LINK : HelperSchema.DOCKERSOCK_UNLINK, Map.of());
            default -> viaHelper(value.equals("on") ? HelperSchema.HOSTS_ENSURE : HelperSchema.HOSTS_REMOVE, Map.of());
        };
    }

    private static String list() {
        StringBuilder out = new StringBuilder();
        for (Setting s : SETTINGS.values()) {
            out.append(String.format("%-14s %-12s %s%s%n", s.key(), String.join("|", s.values()),
                    s.needsHelper() ? "[needs the helper] " : "", s.description()));
        }
        return out.toString();
    }

    private CommandResult cliLocation(String value) throws IOException {
        Map<String, String> system = Map.of(HelperSchema.PARAM_LOCATION, HelperSchema.LOCATION_SYSTEM);
        if (value.equals("system")) {
            CommandResult result = viaHelper(HelperSchema.SYMLINKS_INSTALL, system);
            if (result.exitCode() == 0) {
                userLinks.remove();
            }
            return result;
        }
        Map<String, String> links = userLinks.install();
        StringBuilder out = new StringBuilder("linked in " + userLinks.binDir() + ": " + links
                + "\nadd it to PATH, e.g. export PATH=\"" + userLinks.binDir() + ":$PATH\"\n");
        try {
            helper.call(HelperSchema.SYMLINKS_REMOVE, system);
            out.append("removed Slipway's links from the system bin dir\n");
        } catch (HelperException e) {
            out.append("system links not removed (the helper is needed for that): ").append(e.getMessage()).append('\n');
        }
        return CommandResult.ok(out.toString());
    }

    private CommandResult viaHelper(String operation, Map<String, String> params) {
        String notice = "this setting changes the system: asking the privileged helper (" + operation + ")\n";
        try {
            Map<String, Object> result = helper.call(operation, params);
            return CommandResult.ok(notice + "done: " + result + "\n");
        } catch (HelperException e) {
            return new CommandResult(notice, operation + " failed [" + e.code() + "]: " + e.getMessage() + "\n", 1);
        }
    }
}
