/**
 * Values read from an OS command now and then, for platform bundles that watch system settings, and
 * the proxy-settings and host-resolvers services built on them.
 */
@Export
@Version("1.2.0")
package dev.slipway.process.poll;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
