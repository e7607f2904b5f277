package dev.slipway.networking.stack.component;

import dev.slipway.networking.stack.NetStack;

/** Inside this bundle: the running stack, for the namespace, command and status components. */
public interface StackHost {
    NetStack stack();
}
