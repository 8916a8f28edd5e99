/**
 * OS errors as this module throws them, whatever the OS: the error-code
 * name to `Deno.errors` class mapping, the building of an error carrying
 * `code`, `errno` and `syscall`, the test for one ({@linkcode isOSError}),
 * and {@linkcode describe}, the value describer every error message uses.
 *
 * This file imports nothing: the errno numbers of each OS live beside its
 * calls (`unix/errno.ts`, and on Windows `windows/`), which turn a number
 * into a code name and then call {@linkcode makeOSError}.
 *
 * @module
 */

/** An OS error as thrown by this module: a `Deno.errors.*` (or `Error`) with these fields. */
export interface OSError extends Error {
  /** The error's name, such as `"ECONNREFUSED"` (or a Windows error name). */
  code: string;
  /** The error's number on this OS (errno, or the Windows error code). */
  errno: number;
  /** The call that failed, such as `"epoll_ctl"`. */
  syscall: string;
}

/** A `Deno.errors` class (or `Error`). */
export type ErrorClass = new (message: string, options?: ErrorOptions) => Error;

const CLASSES: Readonly<Record<string, ErrorClass>> = {
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

const DESCRIPTIONS: Readonly<Record<string, string>> = {
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
 * The `Deno.errors` class for the error code `code` (`"ECONNREFUSED"` ->
 * `Deno.errors.ConnectionRefused`), or `Error` when none matches.
 *
 * @example
 * ```ts
 * import { errorClass } from "./os_error.ts";
 * console.log(errorClass("EPIPE") === Deno.errors.BrokenPipe); // true
 * ```
 */
export function errorClass(code: string): ErrorClass {
  return Object.hasOwn(CLASSES, code) ? CLASSES[code] : Error;
}

/**
 * Builds the error for the OS error `code`/`errno` from the call `syscall`;
 * `detail` (such as `"fd 7"`) goes into the message:
 * `"connect (fd 7) failed: connection refused (ECONNREFUSED, os error 111)"`.
 *
 * @example
 * ```ts
 * import { makeOSError } from "./os_error.ts";
 * const e = makeOSError("ECONNREFUSED", 111, "connect", "fd 7");
 * console.log(e instanceof Deno.errors.ConnectionRefused, e.code, e.errno); // true "ECONNREFUSED" 111
 * ```
 */
export function makeOSError(
  code: string,
  errno: number,
  syscall: string,
  detail?: string,
): OSError {
  const Ctor = errorClass(code);
  const what = Object.hasOwn(DESCRIPTIONS, code) ? DESCRIPTIONS[code] : `os error ${errno}`;
  const err = new Ctor(
    `${syscall}${detail ? ` (${detail})` : ""} failed: ${what} (${code}, os error ${errno})`,
  ) as OSError;
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  return err;
}

const DENO_ERRORS = Object.values(Deno.errors) as (new (...args: never[]) => Error)[];

/**
 * Whether `e` is an error from the OS (asyncio's `OSError`), as opposed to a
 * bug: an `Error` with a numeric `errno` and a string `code`, or an instance
 * of a `Deno.errors` class.
 *
 * @example
 * ```ts
 * import { isOSError, makeOSError } from "./os_error.ts";
 * console.log(isOSError(makeOSError("EPIPE", 32, "write"))); // true
 * console.log(isOSError(new TypeError("bad"))); // false
 * ```
 */
export function isOSError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  const errno = (e as { errno?: unknown }).errno;
  if (typeof errno === "number" && typeof (e as { code?: unknown }).code === "string") return true;
  for (const C of DENO_ERRORS) if (e instanceof C) return true;
  return false;
}

/**
 * An error of the same class as `e` (keeping `code`, `errno` and `syscall`)
 * with `message`, and `e` as its cause: asyncio's
 * `OSError(err.errno, "error while attempting to bind on address ...")`.
 *
 * @example
 * ```ts
 * import { makeOSError, rewordError } from "./os_error.ts";
 * const e = rewordError(makeOSError("EADDRINUSE", 98, "bind"), "error while binding");
 * console.log(e instanceof Deno.errors.AddrInUse, e.message); // true "error while binding"
 * ```
 */
export function rewordError(e: unknown, message: string): Error {
  if (!(e instanceof Error)) return new Error(message, { cause: e });
  const Ctor = e.constructor as ErrorClass;
  let out: Error;
  try {
    out = new Ctor(message, { cause: e });
  } catch {
    out = new Error(message, { cause: e });
  }
  for (const key of ["code", "errno", "syscall"] as const) {
    if (key in e) (out as unknown as Record<string, unknown>)[key] = (e as never)[key];
  }
  return out;
}

/**
 * A short, safe description of any value for error messages: strings quoted
 * (cut at 40 characters), bigints with `n`, functions by name, objects by
 * their constructor's name (never their contents).
 *
 * @example
 * ```ts
 * import { describe } from "./os_error.ts";
 * console.log(describe("x"), describe(3n), describe(new Uint8Array(1)), describe(null));
 * // "x" 3n Uint8Array null
 * ```
 */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "bigint") return `${v}n`;
  if (v === null || v === undefined || typeof v !== "object" && typeof v !== "function") {
    return String(v);
  }
  if (typeof v === "function") return `function ${v.name || "(anonymous)"}`;
  return (v as object).constructor?.name ?? "object";
}
