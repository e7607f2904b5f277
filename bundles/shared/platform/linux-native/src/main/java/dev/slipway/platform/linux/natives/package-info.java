/**
 * Slipway's calls into Linux's libc, in one place: descriptor passing (SCM_RIGHTS), Unix and Internet
 * sockets Java cannot make and their peer's uid, received sockets as Java channels, unprivileged ping sockets and an epoll set a
 * selector can watch, tap devices, files opened by descriptor, accounts, and programs started holding exactly chosen descriptors ({@link dev.slipway.platform.linux.natives.Processes},
 * glibc 2.34 or later). Every call reports failure as an
 * {@link dev.slipway.platform.linux.natives.ErrnoException} naming the error; nothing here exposes a
 * JNA type.
 *
 * <p>The bundle resolves on Linux only. Bundles that use it import this package with
 * {@code resolution:=optional} and reach it only on their Linux paths; {@link Natives#available()}
 * says whether the calls can be made.
 */
@Export
@Version("1.5.0")
package dev.slipway.platform.linux.natives;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
