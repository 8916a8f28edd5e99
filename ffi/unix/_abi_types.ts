/**
 * The shape of the per-OS tables of `./_abi_linux.ts` and `./_abi_darwin.ts`:
 * the numbers that differ between Linux and macOS.
 *
 * @module
 */

import type { SocketConstants } from "../_socket_constants.ts";

/** The socket numbers that differ between Linux and macOS (0 where absent): the seam's shape. */
export type { SocketConstants };

/** The numbers of one Unix ABI (Linux glibc, or macOS libSystem) that `ffi/unix/` needs. */
export interface UnixAbi {
  /** errno numbers by name (`EAGAIN`, `EBADF`, ...). */
  errno: Readonly<Record<string, number>>;
  /** The second names in `errno` (`EWOULDBLOCK`), each with the name an error carries (`EAGAIN`). */
  errnoAliases: Readonly<Record<string, string>>;
  /** The socket constants. */
  socket: Readonly<SocketConstants>;
  /** `open(2)`/`fcntl(2)` flags that differ. */
  O_NONBLOCK: number;
  O_NOCTTY: number;
  O_CLOEXEC: number;
  /** `fcntl(2)` command. */
  F_DUPFD_CLOEXEC: number;
  /** `getrlimit(2)` resource. */
  RLIMIT_NOFILE: number;
  /** `posix_spawnattr_setflags` flag. */
  POSIX_SPAWN_SETSID: number;
  /** Whether libc has `eventfd(2)` (the waker's channel); its flags are O_CLOEXEC and O_NONBLOCK. */
  HAS_EVENTFD: boolean;
  /** Whether libc has `pipe2(2)`. */
  HAS_PIPE2: boolean;
  /** `struct timeval`'s `tv_usec` is 32 bits (then 4 bytes of padding). */
  TIMEVAL_USEC_32: boolean;
}
