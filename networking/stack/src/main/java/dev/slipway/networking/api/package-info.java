/** Slipway's network stack as seen by other bundles. */
@Export
@Version("2.2.0")
package dev.slipway.networking.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
