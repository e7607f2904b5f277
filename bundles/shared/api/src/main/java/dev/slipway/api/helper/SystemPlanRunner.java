package dev.slipway.api.helper;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;

/** Applies a {@link SystemPlan}: its steps in order, commands through the CommandRunner. */
@ProviderType
public interface SystemPlanRunner {

    /**
     * Applies every step in order; stops at the first failing step that may not fail.
     *
     * @throws IOException naming the step that failed
     */
    void apply(SystemPlan plan) throws IOException;
}
