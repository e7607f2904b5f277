package dev.slipway.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;

/**
 * Fakes of framework interfaces for tests: a proxy that forwards each call to the method of the
 * same name and parameter types on a plain object, and fails loudly on any call the object does
 * not implement, so a test never passes on a silently defaulted answer.
 */
public final class Fake {

    private Fake() {}

    /** A {@code type} whose calls go to the methods of the same name and parameter types on {@code implementation}. */
    public static <T> T of(Class<T> type, Object implementation) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "equals":
                    if (method.getParameterCount() == 1) {
                        return proxy == args[0];
                    }
                    break;
                case "hashCode":
                    if (method.getParameterCount() == 0) {
                        return System.identityHashCode(proxy);
                    }
                    break;
                case "toString":
                    if (method.getParameterCount() == 0) {
                        return "fake " + type.getSimpleName() + " " + implementation;
                    }
                    break;
                default:
                    break;
            }
            Method target = find(implementation.getClass(), method);
            if (target == null) {
                throw new UnsupportedOperationException("the fake " + type.getSimpleName() + " does not implement "
                        + method.getName() + Arrays.toString(method.getParameterTypes()));
            }
            target.setAccessible(true);
            try {
                return target.invoke(implementation, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }

    private static Method find(Class<?> type, Method method) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Method candidate : c.getDeclaredMethods()) {
                if (candidate.getName().equals(method.getName())
                        && Arrays.equals(candidate.getParameterTypes(), method.getParameterTypes())) {
                    return candidate;
                }
            }
        }
        return null;
    }
}
