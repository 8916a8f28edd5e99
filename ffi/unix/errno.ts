/**
 * errno for this OS: names and numbers, and the conversion of a failed call
 * into the matching `Deno.errors` class carrying `code`, `errno` and `syscall`.
 *
 * @module
 */
import { DARWIN_ERRNO } from "../darwin/errno.ts";
import { LINUX_ERRNO } from "../linux/errno.ts";

/** errno numbers of the running OS, by name (`E.EAGAIN`, `E.EBADF`, ...). */
export const E: Readonly<Record<string, number>> = Deno.build.os === "darwin"
  ? DARWIN_ERRNO
  : LINUX_ERRNO;

const NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(E)) if (!NAMES.has(num)) NAMES.set(num, name);

/** The symbolic name of errno `n` on this OS, or `"E<n>"` when unknown. */
export function errnoName(n: number): string {
  return NAMES.get(n) ?? `E${n}`;
}

/** An OS error as thrown by this module: a `Deno.errors.*` (or `Error`) with these fields. */
export interface OSError extends Error {
  /** The errno name, such as `"ECONNREFUSED"`. */
  code: string;
  /** The errno number on this OS. */
  errno: number;
  /** The call that failed, such as `"epoll_ctl"`. */
  syscall: string;
}

type ErrorCtor = new (message: string) => Error;

const CLASSES: Record<string, ErrorCtor> = {
  ENOENT: Deno.errors.NotFound,
  EPERM: Deno.errors.PermissionDenied,
  EACCES: Deno.errors.PermissionDenied,
  ECONNREFUSED: Deno.errors.ConnectionRefused,
  ECONNRESET: Deno.errors.ConnectionReset,
  ECONNABORTED: Deno.errors.ConnectionAborted,
  ENOTCONN: Deno.errors.NotConnected,
  EADDRINUSE: Deno.errors.AddrInUse,
  EADDRNOTAVAIL: Deno.errors.AddrNotAvailable,
  EPIPE: Deno.errors.BrokenPipe,
  EEXIST: Deno.errors.AlreadyExists,
  EAGAIN: Deno.errors.WouldBlock,
  EINPROGRESS: Deno.errors.WouldBlock,
  ETIMEDOUT: Deno.errors.TimedOut,
  EINTR: Deno.errors.Interrupted,
  EBADF: Deno.errors.BadResource,
  EBUSY: Deno.errors.Busy,
  ENOTSUP: Deno.errors.NotSupported,
  EOPNOTSUPP: Deno.errors.NotSupported,
  EAFNOSUPPORT: Deno.errors.NotSupported,
  EPROTONOSUPPORT: Deno.errors.NotSupported,
  ENOSYS: Deno.errors.NotSupported,
  EISDIR: Deno.errors.IsADirectory,
  ENOTDIR: Deno.errors.NotADirectory,
  ELOOP: Deno.errors.FilesystemLoop,
  ENETUNREACH: Deno.errors.NetworkUnreachable,
  EHOSTUNREACH: Deno.errors.NetworkUnreachable,
};

const DESCRIPTIONS: Record<string, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ESRCH: "no such process",
  EINTR: "interrupted system call",
  EBADF: "bad file descriptor",
  ECHILD: "no child processes",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "cannot allocate memory",
  EACCES: "permission denied",
  EEXIST: "file exists",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EINVAL: "invalid argument",
  ENFILE: "too many open files in system",
  EMFILE: "too many open files",
  ENOSPC: "no space left on device",
  EPIPE: "broken pipe",
  ENOSYS: "function not implemented",
  ENOTSOCK: "socket operation on non-socket",
  EMSGSIZE: "message too long",
  ENOPROTOOPT: "protocol not available",
  EOPNOTSUPP: "operation not supported",
  ENOTSUP: "operation not supported",
  EAFNOSUPPORT: "address family not supported by protocol",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  ENETUNREACH: "network is unreachable",
  ECONNABORTED: "software caused connection abort",
  ECONNRESET: "connection reset by peer",
  ENOBUFS: "no buffer space available",
  EISCONN: "transport endpoint is already connected",
  ENOTCONN: "transport endpoint is not connected",
  ETIMEDOUT: "connection timed out",
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "no route to host",
  EALREADY: "operation already in progress",
  EINPROGRESS: "operation now in progress",
  ELOOP: "too many levels of symbolic links",
};

/**
 * Builds the error for errno `errno` from the call `syscall`; `detail` (such
 * as `"fd 7"`) goes into the message.
 */
export function osError(errno: number, syscall: string, detail?: string): OSError {
  const code = errnoName(errno);
  const Ctor = CLASSES[code] ?? Error;
  const what = DESCRIPTIONS[code] ?? `os error ${errno}`;
  const err = new Ctor(
    `${syscall}${detail ? ` (${detail})` : ""} failed: ${what} (${code}, os error ${errno})`,
  ) as OSError;
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  return err;
}
