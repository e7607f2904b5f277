package dev.slipway.launcher;

import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Runs one command served by the run's bundles: the {@code dev.slipway.api.control.ControlCommand}
 * service registered under {@code slipway.command=NAME}, as the control API would. The launcher sits
 * outside the framework and does not see the API's classes, so the call goes through reflection on
 * the interface's two public shapes: {@code execute(List<String>)} and the result's {@code out()},
 * {@code err()} and {@code exitCode()}.
 */
final class OneShotCommand {

    static final String COMMAND_INTERFACE = "dev.slipway.api.control.ControlCommand";
    static final String NAME_PROPERTY = "slipway.command";
    /** Components register once their references are satisfied, which may be just after the bundles started. */
    static final Duration WAIT = Duration.ofSeconds(20);

    private final BundleContext context;
    private final PrintStream out;
    private final PrintStream err;

    OneShotCommand(BundleContext context, PrintStream out, PrintStream err) {
        this.context = context;
        this.out = out;
        this.err = err;
    }

    int run(List<String> command) throws InterruptedException {
        String name = command.get(0);
        if (!name.matches("[a-z][a-z0-9-]*")) {
            err.println("slipway: not a command name: " + name.replaceAll("\\p{Cntrl}", "?"));
            return Launcher.EXIT_USAGE;
        }
        Filter filter;
        try {
            filter = context.createFilter("(&(objectClass=" + COMMAND_INTERFACE + ")(" + NAME_PROPERTY + "=" + name + "))");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context, filter, null);
        tracker.open();
        try {
            Object service = tracker.waitForService(WAIT.toMillis());
            if (service == null) {
                err.println("slipway: no bundle of this run serves the command '" + name + "' (waited " + WAIT.toSeconds() + " s)");
                return 1;
            }
            // the interface's method, not the implementation's: the implementing class need not be public
            Method execute = service.getClass().getClassLoader().loadClass(COMMAND_INTERFACE).getMethod("execute", List.class);
            Object result = execute.invoke(service, List.copyOf(command.subList(1, command.size())));
            print(out, (String) result.getClass().getMethod("out").invoke(result));
            print(err, (String) result.getClass().getMethod("err").invoke(result));
            return (Integer) result.getClass().getMethod("exitCode").invoke(result);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            err.println("slipway: " + name + ": " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()));
            return 1;
        } catch (ReflectiveOperationException | ClassCastException e) {
            err.println("slipway: the command '" + name + "' does not have the ControlCommand shape: " + e);
            return 1;
        } finally {
            tracker.close();
        }
    }

    private static void print(PrintStream stream, String text) {
        if (text != null && !text.isEmpty()) {
            stream.print(text.endsWith("\n") ? text : text + "\n");
            stream.flush();
        }
    }
}
