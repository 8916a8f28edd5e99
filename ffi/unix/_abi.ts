/**
 * The one Linux/macOS switch of `ffi/unix/`: which OS this is, and the
 * numbers of its ABI (errno, socket constants, a few flags). Every other
 * file of `ffi/unix/` asks this one instead of reading `Deno.build.os`.
 * FreeBSD and other non-macOS systems get the Linux tables, as before.
 *
 * @module
 */
import type { UnixAbi } from "./_abi_types.ts";
import { DARWIN_ABI } from "./_abi_darwin.ts";
import { LINUX_ABI } from "./_abi_linux.ts";

export type { SocketConstants, UnixAbi } from "./_abi_types.ts";

/** The OS, as Deno names it. */
export const OS: typeof Deno.build.os = Deno.build.os;
/** The CPU architecture, as Deno names it. */
export const ARCH: typeof Deno.build.arch = Deno.build.arch;
/** Whether this is macOS (libSystem, the BSD layouts). */
export const DARWIN: boolean = OS === "darwin";
/** Whether this is Linux. */
export const LINUX: boolean = OS === "linux";
/** Whether the POSIX bindings of `ffi/unix/` are meant for this OS (Linux, macOS, FreeBSD). */
export const UNIX: boolean = LINUX || DARWIN || OS === "freebsd";
/** Whether this OS has kqueue (macOS, FreeBSD). */
export const HAS_KQUEUE: boolean = DARWIN || OS === "freebsd";
/** Whether this OS has epoll (Linux). */
export const HAS_EPOLL: boolean = LINUX;

/** The ABI numbers of the running OS. */
export const ABI: Readonly<UnixAbi> = DARWIN ? DARWIN_ABI : LINUX_ABI;

/** The path of the C library for this OS. */
export const LIBC_PATH: string = DARWIN ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";
