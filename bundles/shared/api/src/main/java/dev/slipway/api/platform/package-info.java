/** What differs between operating systems, provided by exactly one platform bundle. */
@Export
@Version("1.1.0")
package dev.slipway.api.platform;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
