/**
 * Link mechanics shared by the helper (system locations, as root) and the runtime (the user's own
 * bin dir): atomic replacement, and never touching a link or file that is not Slipway's.
 */
@Export
@Version("1.0.0")
package dev.slipway.links;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
