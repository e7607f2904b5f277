/** The user's proxy settings as the operating system and the environment give them. */
@Export
@Version("1.0.0")
package dev.slipway.api.proxy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
