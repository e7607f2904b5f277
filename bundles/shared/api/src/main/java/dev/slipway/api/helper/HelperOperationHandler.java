package dev.slipway.api.helper;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Serves operations inside the helper process. Register it as a service with {@value #OPERATION}
 * set to the operation name(s) it serves; the helper only ever dispatches operations that are in
 * {@link HelperSchema}, with parameters already validated.
 */
@ConsumerType
public interface HelperOperationHandler {

    /** Service property: the operation name(s) this handler serves (String or String[]). */
    String OPERATION = "slipway.helper.operation";

    /**
     * Performs the operation.
     *
     * @return the reply's result object (strings, numbers, booleans, lists and maps of them)
     * @throws HelperException with a code from {@link HelperErrors} when refused or failed; the
     *         system must then be unchanged
     */
    Map<String, Object> handle(HelperCall call) throws HelperException;
}
