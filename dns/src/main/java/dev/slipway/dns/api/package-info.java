/** Slipway's DNS server as seen by other bundles: the in-process answer API. */
@Export
@Version("1.0.0")
package dev.slipway.dns.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
