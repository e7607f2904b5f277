/**
 * The state hand-over between the outgoing and the incoming version of a bundle that the deploy
 * bundle updates live. It lives here, in the API bundle, because the contract must not change with
 * the bundles that use it: both versions of an updated bundle wire to this one copy. Everything
 * handed over is a JDK type (channels, descriptors, strings, numbers, maps, lists), so the two
 * versions' class loaders never need each other's classes.
 */
@Export
@Version("1.1.0")
package dev.slipway.api.handover;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
