/** Values read from an OS command now and then, for platform bundles that watch system settings. */
@Export
@Version("1.1.0")
package dev.slipway.process.poll;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
