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

/**
 * An OS error as thrown by this module: a `Deno.errors.*` (a `TypeError` or
 * `RangeError` for EINVAL, a plain `Error` where no class fits) with these fields.
 */
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

// The closest class for each errno name of Linux and macOS (decisions.md B2).
// EINVAL is a TypeError, as Deno itself throws for the kernel's InvalidInput;
// a call site that knows which argument was refused says so in the message
// (and may choose RangeError). Names absent here (EMFILE, ENOMEM, EIO,
// ENOSPC, EMSGSIZE, ...) have no matching class: they stay a plain `Error`,
// still with `code`, `errno` and `syscall`.
const CLASSES: Readonly<Record<string, ErrorClass>> = {
  // Permission
  EPERM: Deno.errors.PermissionDenied,
  EACCES: Deno.errors.PermissionDenied,
  EROFS: Deno.errors.PermissionDenied,
  EKEYEXPIRED: Deno.errors.PermissionDenied,
  EKEYREVOKED: Deno.errors.PermissionDenied,
  EKEYREJECTED: Deno.errors.PermissionDenied,
  EAUTH: Deno.errors.PermissionDenied,
  ENEEDAUTH: Deno.errors.PermissionDenied,
  ENOTCAPABLE: Deno.errors.PermissionDenied,
  // Something named does not exist
  ENOENT: Deno.errors.NotFound,
  ESRCH: Deno.errors.NotFound,
  ECHILD: Deno.errors.NotFound,
  ENXIO: Deno.errors.NotFound,
  ENODEV: Deno.errors.NotFound,
  ENOMSG: Deno.errors.NotFound,
  EIDRM: Deno.errors.NotFound,
  ENODATA: Deno.errors.NotFound,
  ENOATTR: Deno.errors.NotFound,
  ENOKEY: Deno.errors.NotFound,
  ENOMEDIUM: Deno.errors.NotFound,
  ENOPOLICY: Deno.errors.NotFound,
  // A bad argument
  EINVAL: TypeError,
  // Files
  EEXIST: Deno.errors.AlreadyExists,
  EISDIR: Deno.errors.IsADirectory,
  ENOTDIR: Deno.errors.NotADirectory,
  ELOOP: Deno.errors.FilesystemLoop,
  EBUSY: Deno.errors.Busy,
  ETXTBSY: Deno.errors.Busy,
  // The fd
  EBADF: Deno.errors.BadResource,
  EBADFD: Deno.errors.BadResource,
  ESTALE: Deno.errors.BadResource,
  // Would block, interrupted, timed out (Python's BlockingIOError takes EALREADY too)
  EAGAIN: Deno.errors.WouldBlock,
  EWOULDBLOCK: Deno.errors.WouldBlock,
  EINPROGRESS: Deno.errors.WouldBlock,
  EALREADY: Deno.errors.WouldBlock,
  EINTR: Deno.errors.Interrupted,
  ERESTART: Deno.errors.Interrupted,
  ETIMEDOUT: Deno.errors.TimedOut,
  ETIME: Deno.errors.TimedOut,
  // Connections (Python's BrokenPipeError takes ESHUTDOWN too)
  ECONNREFUSED: Deno.errors.ConnectionRefused,
  ECONNRESET: Deno.errors.ConnectionReset,
  ENETRESET: Deno.errors.ConnectionReset,
  ECONNABORTED: Deno.errors.ConnectionAborted,
  ENOTCONN: Deno.errors.NotConnected,
  EDESTADDRREQ: Deno.errors.NotConnected,
  EISCONN: Deno.errors.AlreadyExists,
  EPIPE: Deno.errors.BrokenPipe,
  ESHUTDOWN: Deno.errors.BrokenPipe,
  EADDRINUSE: Deno.errors.AddrInUse,
  EADDRNOTAVAIL: Deno.errors.AddrNotAvailable,
  ENETUNREACH: Deno.errors.NetworkUnreachable,
  EHOSTUNREACH: Deno.errors.NetworkUnreachable,
  ENETDOWN: Deno.errors.NetworkUnreachable,
  EHOSTDOWN: Deno.errors.NetworkUnreachable,
  ENONET: Deno.errors.NetworkUnreachable,
  // This fd, socket or system does not do that
  ENOSYS: Deno.errors.NotSupported,
  ENOTSUP: Deno.errors.NotSupported,
  EOPNOTSUPP: Deno.errors.NotSupported,
  EAFNOSUPPORT: Deno.errors.NotSupported,
  EPFNOSUPPORT: Deno.errors.NotSupported,
  EPROTONOSUPPORT: Deno.errors.NotSupported,
  ESOCKTNOSUPPORT: Deno.errors.NotSupported,
  EPROTOTYPE: Deno.errors.NotSupported,
  ENOPROTOOPT: Deno.errors.NotSupported,
  ENOTSOCK: Deno.errors.NotSupported,
  ENOTTY: Deno.errors.NotSupported,
  ESPIPE: Deno.errors.NotSupported,
  EXDEV: Deno.errors.NotSupported,
  EBADARCH: Deno.errors.NotSupported,
  // Data that breaks a protocol or a format
  EPROTO: Deno.errors.InvalidData,
  EBADMSG: Deno.errors.InvalidData,
  EILSEQ: Deno.errors.InvalidData,
  ENOEXEC: Deno.errors.InvalidData,
  EBADEXEC: Deno.errors.InvalidData,
  EBADMACHO: Deno.errors.InvalidData,
};

// What each code means: glibc's strerror() text, lower-cased (macOS-only codes as xnu's
// <sys/errno.h> words them).
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ESRCH: "no such process",
  EINTR: "interrupted system call",
  EIO: "input/output error",
  ENXIO: "no such device or address",
  E2BIG: "argument list too long",
  ENOEXEC: "exec format error",
  EBADF: "bad file descriptor",
  ECHILD: "no child processes",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "cannot allocate memory",
  EACCES: "permission denied",
  EFAULT: "bad address",
  ENOTBLK: "block device required",
  EBUSY: "device or resource busy",
  EEXIST: "file exists",
  EXDEV: "invalid cross-device link",
  ENODEV: "no such device",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EINVAL: "invalid argument",
  ENFILE: "too many open files in system",
  EMFILE: "too many open files",
  ENOTTY: "inappropriate ioctl for device",
  ETXTBSY: "text file busy",
  EFBIG: "file too large",
  ENOSPC: "no space left on device",
  ESPIPE: "illegal seek",
  EROFS: "read-only file system",
  EMLINK: "too many links",
  EPIPE: "broken pipe",
  EDOM: "numerical argument out of domain",
  ERANGE: "numerical result out of range",
  EDEADLK: "resource deadlock avoided",
  ENAMETOOLONG: "file name too long",
  ENOLCK: "no locks available",
  ENOSYS: "function not implemented",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many levels of symbolic links",
  ENOMSG: "no message of desired type",
  EIDRM: "identifier removed",
  ECHRNG: "channel number out of range",
  EL2NSYNC: "level 2 not synchronized",
  EL3HLT: "level 3 halted",
  EL3RST: "level 3 reset",
  ELNRNG: "link number out of range",
  EUNATCH: "protocol driver not attached",
  ENOCSI: "no CSI structure available",
  EL2HLT: "level 2 halted",
  EBADE: "invalid exchange",
  EBADR: "invalid request descriptor",
  EXFULL: "exchange full",
  ENOANO: "no anode",
  EBADRQC: "invalid request code",
  EBADSLT: "invalid slot",
  EBFONT: "bad font file format",
  ENOSTR: "device not a stream",
  ENODATA: "no data available",
  ETIME: "timer expired",
  ENOSR: "out of streams resources",
  ENONET: "machine is not on the network",
  ENOPKG: "package not installed",
  EREMOTE: "object is remote",
  ENOLINK: "link has been severed",
  EADV: "advertise error",
  ESRMNT: "srmount error",
  ECOMM: "communication error on send",
  EPROTO: "protocol error",
  EMULTIHOP: "multihop attempted",
  EDOTDOT: "RFS specific error",
  EBADMSG: "bad message",
  EOVERFLOW: "value too large for defined data type",
  ENOTUNIQ: "name not unique on network",
  EBADFD: "file descriptor in bad state",
  EREMCHG: "remote address changed",
  ELIBACC: "can not access a needed shared library",
  ELIBBAD: "accessing a corrupted shared library",
  ELIBSCN: ".lib section in a.out corrupted",
  ELIBMAX: "attempting to link in too many shared libraries",
  ELIBEXEC: "cannot exec a shared library directly",
  EILSEQ: "invalid or incomplete multibyte or wide character",
  ERESTART: "interrupted system call should be restarted",
  ESTRPIPE: "streams pipe error",
  EUSERS: "too many users",
  ENOTSOCK: "socket operation on non-socket",
  EDESTADDRREQ: "destination address required",
  EMSGSIZE: "message too long",
  EPROTOTYPE: "protocol wrong type for socket",
  ENOPROTOOPT: "protocol not available",
  EPROTONOSUPPORT: "protocol not supported",
  ESOCKTNOSUPPORT: "socket type not supported",
  EOPNOTSUPP: "operation not supported",
  EPFNOSUPPORT: "protocol family not supported",
  EAFNOSUPPORT: "address family not supported by protocol",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  ENETDOWN: "network is down",
  ENETUNREACH: "network is unreachable",
  ENETRESET: "network dropped connection on reset",
  ECONNABORTED: "software caused connection abort",
  ECONNRESET: "connection reset by peer",
  ENOBUFS: "no buffer space available",
  EISCONN: "transport endpoint is already connected",
  ENOTCONN: "transport endpoint is not connected",
  ESHUTDOWN: "cannot send after transport endpoint shutdown",
  ETOOMANYREFS: "too many references: cannot splice",
  ETIMEDOUT: "connection timed out",
  ECONNREFUSED: "connection refused",
  EHOSTDOWN: "host is down",
  EHOSTUNREACH: "no route to host",
  EALREADY: "operation already in progress",
  EINPROGRESS: "operation now in progress",
  ESTALE: "stale file handle",
  EUCLEAN: "structure needs cleaning",
  ENOTNAM: "not a XENIX named type file",
  ENAVAIL: "no XENIX semaphores available",
  EISNAM: "is a named type file",
  EREMOTEIO: "remote I/O error",
  EDQUOT: "disk quota exceeded",
  ENOMEDIUM: "no medium found",
  EMEDIUMTYPE: "wrong medium type",
  ECANCELED: "operation canceled",
  ENOKEY: "required key not available",
  EKEYEXPIRED: "key has expired",
  EKEYREVOKED: "key has been revoked",
  EKEYREJECTED: "key was rejected by service",
  EOWNERDEAD: "owner died",
  ENOTRECOVERABLE: "state not recoverable",
  ERFKILL: "operation not possible due to RF-kill",
  EHWPOISON: "memory page has hardware error",
  EWOULDBLOCK: "resource temporarily unavailable",
  EDEADLOCK: "resource deadlock avoided",
  ENOTSUP: "operation not supported",
  EPROCLIM: "too many processes",
  EBADRPC: "RPC struct is bad",
  ERPCMISMATCH: "RPC version wrong",
  EPROGUNAVAIL: "RPC program not available",
  EPROGMISMATCH: "program version wrong",
  EPROCUNAVAIL: "bad procedure for program",
  EFTYPE: "inappropriate file type or format",
  EAUTH: "authentication error",
  ENEEDAUTH: "need authenticator",
  EPWROFF: "device power is off",
  EDEVERR: "device error",
  EBADEXEC: "bad executable (or shared library)",
  EBADARCH: "bad CPU type in executable",
  ESHLIBVERS: "shared library version mismatch",
  EBADMACHO: "malformed Mach-o file",
  ENOATTR: "attribute not found",
  ENOPOLICY: "policy not found",
  EQFULL: "interface output queue is full",
  ENOTCAPABLE: "capabilities insufficient",
};

/**
 * The `Deno.errors` class for the error code `code` (`"ECONNREFUSED"` ->
 * `Deno.errors.ConnectionRefused`), `TypeError` for `"EINVAL"`, or `Error`
 * when none matches.
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
 * With `as`, the error is of that class instead: a call site that knows
 * which argument the kernel refused turns EINVAL into a `TypeError` or
 * `RangeError` naming it, and callers can still match on `code`.
 *
 * @example
 * ```ts
 * import { makeOSError, rewordError } from "./os_error.ts";
 * const e = rewordError(makeOSError("EADDRINUSE", 98, "bind"), "error while binding");
 * console.log(e instanceof Deno.errors.AddrInUse, e.message); // true "error while binding"
 * const r = rewordError(makeOSError("EINVAL", 22, "setsockopt"), "bad TTL (EINVAL)", RangeError);
 * console.log(r instanceof RangeError, (r as { code?: string }).code); // true "EINVAL"
 * ```
 */
export function rewordError(e: unknown, message: string, as?: ErrorClass): Error {
  if (!(e instanceof Error)) return new (as ?? Error)(message, { cause: e });
  const Ctor = as ?? e.constructor as ErrorClass;
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
 * their constructor's name (never their contents); it never throws, even for a
 * Proxy or a throwing getter.
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
  // A getter or a Proxy runs the caller's code here: describing never throws.
  try {
    if (typeof v === "function") {
      const name = v.name;
      return `function ${typeof name === "string" && name !== "" ? name : "(anonymous)"}`;
    }
    const name = (v as object).constructor?.name;
    return typeof name === "string" && name !== "" ? name : "object";
  } catch {
    return typeof v === "function" ? "function" : "object";
  }
}
