package dev.slipway.net.component;

import dev.slipway.net.stack.NetStack;

/** Inside this bundle: the running stack, for the namespace, command and status components. */
public interface StackHost {
    NetStack stack();
}
