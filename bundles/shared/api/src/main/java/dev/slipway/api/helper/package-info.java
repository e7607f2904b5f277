/**
 * The privileged helper's contract: the wire protocol's constants, the one schema of allow-listed
 * operations, the handler whiteboard inside the helper, the client service used by the runtime,
 * and the OS facts the helper needs from the platform bundles (accounts, hosts-file conventions,
 * service definitions) and the POSIX rule for a trusted location.
 */
@Export
@Version("2.4.0")
package dev.slipway.api.helper;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
