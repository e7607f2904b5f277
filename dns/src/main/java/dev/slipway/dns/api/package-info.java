/** Slipway's DNS server as seen by other bundles: the in-process answer API and the record whiteboard. */
@Export
@Version("1.2.0")
package dev.slipway.dns.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
