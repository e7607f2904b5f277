/**
 * The local control API's extension points: bundles contribute CLI commands, HTTP routes and
 * status sections as whiteboard services; the control bundle serves them on the control socket.
 */
@Export
@Version("1.2.0")
package dev.slipway.api.control;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
