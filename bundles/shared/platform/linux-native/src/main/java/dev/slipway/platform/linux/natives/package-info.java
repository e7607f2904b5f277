/**
 * Slipway's calls into Linux's libc, in one place: descriptor passing (SCM_RIGHTS), Unix and Internet
 * sockets Java cannot make, tap devices and files opened by descriptor. Every call reports failure as
 * an {@link dev.slipway.platform.linux.natives.ErrnoException} naming the error; nothing here exposes
 * a JNA type.
 *
 * <p>The bundle resolves on Linux only. Bundles that use it import this package with
 * {@code resolution:=optional} and reach it only on their Linux paths; {@link Natives#available()}
 * says whether the calls can be made.
 */
@Export
@Version("1.0.0")
package dev.slipway.platform.linux.natives;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
