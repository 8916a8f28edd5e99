/**
 * Windows error codes as this module throws them: Win32 and Winsock codes
 * (one number space: `ERROR_*` below 10000, `WSAE*` and `WSA*` from 10000)
 * and NTSTATUS values, each with its name, a `Deno.errors` class and a short
 * description, and the building of an error carrying `code` (the Windows
 * name, such as `"WSAECONNREFUSED"`), `errno` (the number) and `syscall`.
 *
 * The tables are pure data and run anywhere. Reading the failing call's
 * error (`GetLastError`, `WSAGetLastError`) is done beside the calls, in
 * `./kernel32.ts` and `./ws2_32.ts`.
 *
 * @module
 */
import type { ErrorClass, OSError } from "../os_error.ts";

export type { ErrorClass, OSError } from "../os_error.ts";

/** One known code: its name, the `Deno.errors` class it maps to, and what it means.
 * @example
 * ```ts
 * import { type WinErrorInfo, winErrorInfos } from "./errors.ts";
 * const info: WinErrorInfo = winErrorInfos().find((i) => i.code === 109)!;
 * console.log(info.name, info.errorClass === Deno.errors.BrokenPipe); // ERROR_BROKEN_PIPE true
 * ```
 */
export interface WinErrorInfo {
  /** The Windows name, such as `"ERROR_BROKEN_PIPE"` or `"STATUS_CANCELLED"`. */
  name: string;
  /** The number (for NTSTATUS: the unsigned 32-bit value). */
  code: number;
  /** The class of the error built for it (`Error` where Deno has none). */
  errorClass: ErrorClass;
  /** A short lower-case description, as used in error messages. */
  description: string;
}

const D = Deno.errors;
type Row = readonly [name: string, code: number, cls: ErrorClass, description: string];

// Win32 and Winsock codes (winerror.h). A WSAE* code gets the class
// ffi/os_error.ts gives its errno twin (WSAEINVAL and ERROR_INVALID_PARAMETER
// a TypeError as EINVAL, WSAEALREADY WouldBlock, WSAENOTSOCK NotSupported,
// WSAEISCONN AlreadyExists; EMFILE, ENOBUFS, EMSGSIZE plain Error); the
// Windows-only ones follow CPython's errmap and Rust's decode_error_kind.
const WIN32_ROWS: readonly Row[] = [
  ["ERROR_SUCCESS", 0, Error, "the operation completed successfully"],
  ["ERROR_INVALID_FUNCTION", 1, Error, "incorrect function"],
  ["ERROR_FILE_NOT_FOUND", 2, D.NotFound, "the system cannot find the file specified"],
  ["ERROR_PATH_NOT_FOUND", 3, D.NotFound, "the system cannot find the path specified"],
  ["ERROR_TOO_MANY_OPEN_FILES", 4, Error, "the system cannot open the file"],
  ["ERROR_ACCESS_DENIED", 5, D.PermissionDenied, "access is denied"],
  ["ERROR_INVALID_HANDLE", 6, D.BadResource, "the handle is invalid"],
  ["ERROR_NOT_ENOUGH_MEMORY", 8, Error, "not enough memory resources"],
  ["ERROR_INVALID_ACCESS", 12, Error, "the access code is invalid"],
  ["ERROR_INVALID_DATA", 13, D.InvalidData, "the data is invalid"],
  ["ERROR_OUTOFMEMORY", 14, Error, "not enough memory resources"],
  ["ERROR_GEN_FAILURE", 31, Error, "a device attached to the system is not functioning"],
  ["ERROR_SHARING_VIOLATION", 32, D.Busy, "the file is being used by another process"],
  ["ERROR_HANDLE_EOF", 38, D.UnexpectedEof, "reached the end of the file"],
  ["ERROR_NOT_SUPPORTED", 50, D.NotSupported, "the request is not supported"],
  [
    "ERROR_NETNAME_DELETED",
    64,
    D.ConnectionReset,
    "the specified network name is no longer available",
  ],
  ["ERROR_FILE_EXISTS", 80, D.AlreadyExists, "the file exists"],
  ["ERROR_INVALID_PARAMETER", 87, TypeError, "the parameter is incorrect"],
  ["ERROR_BROKEN_PIPE", 109, D.BrokenPipe, "the pipe has been ended"],
  ["ERROR_BUFFER_OVERFLOW", 111, Error, "the file name is too long"],
  [
    "ERROR_CALL_NOT_IMPLEMENTED",
    120,
    D.NotSupported,
    "this function is not supported on this system",
  ],
  ["ERROR_SEM_TIMEOUT", 121, D.TimedOut, "the semaphore timeout period has expired"],
  ["ERROR_INSUFFICIENT_BUFFER", 122, Error, "the data area passed to a system call is too small"],
  [
    "ERROR_INVALID_NAME",
    123,
    Error,
    "the file name, directory name, or volume label syntax is incorrect",
  ],
  [
    "ERROR_ALREADY_EXISTS",
    183,
    D.AlreadyExists,
    "cannot create a file when that file already exists",
  ],
  ["ERROR_PIPE_BUSY", 231, D.Busy, "all pipe instances are busy"],
  ["ERROR_NO_DATA", 232, D.BrokenPipe, "the pipe is being closed"],
  ["ERROR_PIPE_NOT_CONNECTED", 233, D.BrokenPipe, "no process is on the other end of the pipe"],
  ["ERROR_MORE_DATA", 234, Error, "more data is available"],
  ["WAIT_TIMEOUT", 258, D.TimedOut, "the wait operation timed out"],
  ["ERROR_NO_MORE_ITEMS", 259, Error, "no more data is available"],
  ["ERROR_DIRECTORY", 267, D.NotADirectory, "the directory name is invalid"],
  ["ERROR_PIPE_CONNECTED", 535, Error, "there is a process on other end of the pipe"],
  ["ERROR_PIPE_LISTENING", 536, Error, "waiting for a process to open the other end of the pipe"],
  ["ERROR_ABANDONED_WAIT_0", 735, Error, "the wait was abandoned: the port was closed"],
  ["ERROR_OPERATION_ABORTED", 995, Error, "the I/O operation has been aborted"],
  ["ERROR_IO_INCOMPLETE", 996, Error, "overlapped I/O event is not in a signaled state"],
  ["ERROR_IO_PENDING", 997, Error, "overlapped I/O operation is in progress"],
  ["ERROR_NOACCESS", 998, Error, "invalid access to memory location"],
  ["ERROR_NOT_FOUND", 1168, D.NotFound, "element not found"],
  [
    "ERROR_CONNECTION_REFUSED",
    1225,
    D.ConnectionRefused,
    "the remote computer refused the network connection",
  ],
  ["ERROR_GRACEFUL_DISCONNECT", 1226, Error, "the network connection was gracefully closed"],
  [
    "ERROR_ADDRESS_ALREADY_ASSOCIATED",
    1227,
    D.AddrInUse,
    "the network transport endpoint already has an address",
  ],
  [
    "ERROR_ADDRESS_NOT_ASSOCIATED",
    1228,
    D.NotConnected,
    "an address has not yet been associated with the endpoint",
  ],
  [
    "ERROR_CONNECTION_INVALID",
    1229,
    D.NotConnected,
    "an operation was attempted on a nonexistent network connection",
  ],
  [
    "ERROR_CONNECTION_ACTIVE",
    1230,
    Error,
    "an invalid operation was attempted on an active network connection",
  ],
  [
    "ERROR_NETWORK_UNREACHABLE",
    1231,
    D.NetworkUnreachable,
    "the network location cannot be reached",
  ],
  ["ERROR_HOST_UNREACHABLE", 1232, D.NetworkUnreachable, "the network location cannot be reached"],
  [
    "ERROR_PROTOCOL_UNREACHABLE",
    1233,
    D.NetworkUnreachable,
    "the network location cannot be reached",
  ],
  [
    "ERROR_PORT_UNREACHABLE",
    1234,
    D.ConnectionRefused,
    "no service is operating at the destination port",
  ],
  ["ERROR_REQUEST_ABORTED", 1235, Error, "the request has been aborted"],
  [
    "ERROR_CONNECTION_ABORTED",
    1236,
    D.ConnectionAborted,
    "the network connection was aborted by the local system",
  ],
  ["ERROR_NO_SYSTEM_RESOURCES", 1450, Error, "insufficient system resources"],
  ["ERROR_TIMEOUT", 1460, D.TimedOut, "the operation returned because the timeout period expired"],
  // Winsock
  ["WSAEINTR", 10004, D.Interrupted, "a blocking operation was interrupted"],
  ["WSAEBADF", 10009, D.BadResource, "the file handle supplied is not valid"],
  ["WSAEACCES", 10013, D.PermissionDenied, "permission denied"],
  ["WSAEFAULT", 10014, Error, "bad address"],
  ["WSAEINVAL", 10022, TypeError, "invalid argument"],
  ["WSAEMFILE", 10024, Error, "too many open sockets"],
  ["WSAEWOULDBLOCK", 10035, D.WouldBlock, "resource temporarily unavailable"],
  ["WSAEINPROGRESS", 10036, D.WouldBlock, "operation now in progress"],
  ["WSAEALREADY", 10037, D.WouldBlock, "operation already in progress"],
  ["WSAENOTSOCK", 10038, D.NotSupported, "socket operation on non-socket"],
  ["WSAEDESTADDRREQ", 10039, D.NotConnected, "destination address required"],
  ["WSAEMSGSIZE", 10040, Error, "message too long"],
  ["WSAEPROTOTYPE", 10041, D.NotSupported, "protocol wrong type for socket"],
  ["WSAENOPROTOOPT", 10042, D.NotSupported, "bad protocol option"],
  ["WSAEPROTONOSUPPORT", 10043, D.NotSupported, "protocol not supported"],
  ["WSAESOCKTNOSUPPORT", 10044, D.NotSupported, "socket type not supported"],
  ["WSAEOPNOTSUPP", 10045, D.NotSupported, "operation not supported"],
  ["WSAEPFNOSUPPORT", 10046, D.NotSupported, "protocol family not supported"],
  ["WSAEAFNOSUPPORT", 10047, D.NotSupported, "address family not supported by protocol family"],
  ["WSAEADDRINUSE", 10048, D.AddrInUse, "address already in use"],
  ["WSAEADDRNOTAVAIL", 10049, D.AddrNotAvailable, "cannot assign requested address"],
  ["WSAENETDOWN", 10050, D.NetworkUnreachable, "network is down"],
  ["WSAENETUNREACH", 10051, D.NetworkUnreachable, "network is unreachable"],
  ["WSAENETRESET", 10052, D.ConnectionReset, "network dropped connection on reset"],
  ["WSAECONNABORTED", 10053, D.ConnectionAborted, "software caused connection abort"],
  ["WSAECONNRESET", 10054, D.ConnectionReset, "connection reset by peer"],
  ["WSAENOBUFS", 10055, Error, "no buffer space available"],
  ["WSAEISCONN", 10056, D.AlreadyExists, "socket is already connected"],
  ["WSAENOTCONN", 10057, D.NotConnected, "socket is not connected"],
  ["WSAESHUTDOWN", 10058, D.BrokenPipe, "cannot send after socket shutdown"],
  ["WSAETOOMANYREFS", 10059, Error, "too many references"],
  ["WSAETIMEDOUT", 10060, D.TimedOut, "connection timed out"],
  ["WSAECONNREFUSED", 10061, D.ConnectionRefused, "connection refused"],
  ["WSAELOOP", 10062, D.FilesystemLoop, "cannot translate name"],
  ["WSAENAMETOOLONG", 10063, Error, "name too long"],
  ["WSAEHOSTDOWN", 10064, D.NetworkUnreachable, "host is down"],
  ["WSAEHOSTUNREACH", 10065, D.NetworkUnreachable, "no route to host"],
  ["WSAENOTEMPTY", 10066, Error, "directory not empty"],
  ["WSAEPROCLIM", 10067, Error, "too many processes"],
  ["WSAEUSERS", 10068, Error, "user quota exceeded"],
  ["WSAEDQUOT", 10069, Error, "disk quota exceeded"],
  ["WSAESTALE", 10070, D.BadResource, "stale file handle reference"],
  ["WSAEREMOTE", 10071, Error, "item is remote"],
  ["WSASYSNOTREADY", 10091, Error, "network subsystem is unavailable"],
  ["WSAVERNOTSUPPORTED", 10092, D.NotSupported, "Winsock version out of range"],
  ["WSANOTINITIALISED", 10093, Error, "WSAStartup not yet performed"],
  ["WSAEDISCON", 10101, Error, "graceful shutdown in progress"],
  ["WSAENOMORE", 10102, Error, "no more results"],
  ["WSAECANCELLED", 10103, Error, "call has been canceled"],
  ["WSAEINVALIDPROCTABLE", 10104, Error, "procedure call table is invalid"],
  ["WSAEINVALIDPROVIDER", 10105, Error, "invalid service provider version number"],
  ["WSAEPROVIDERFAILEDINIT", 10106, Error, "unable to initialize a service provider"],
  ["WSASYSCALLFAILURE", 10107, Error, "system call failure"],
  ["WSASERVICE_NOT_FOUND", 10108, D.NotFound, "service not found"],
  ["WSATYPE_NOT_FOUND", 10109, D.NotFound, "class type not found"],
  ["WSA_E_NO_MORE", 10110, Error, "no more results"],
  ["WSA_E_CANCELLED", 10111, Error, "call was canceled"],
  ["WSAEREFUSED", 10112, D.ConnectionRefused, "database query was refused"],
  ["WSAHOST_NOT_FOUND", 11001, D.NotFound, "no such host is known"],
  ["WSATRY_AGAIN", 11002, Error, "temporary failure in name resolution"],
  ["WSANO_RECOVERY", 11003, Error, "non-recoverable failure in name resolution"],
  ["WSANO_DATA", 11004, D.NotFound, "no data record of the requested type"],
];

// NTSTATUS values (ntstatus.h), with the Win32 code RtlNtStatusToDosError gives.
type NtRow = readonly [name: string, status: number, win32: number, description: string];
const NTSTATUS_ROWS: readonly NtRow[] = [
  ["STATUS_SUCCESS", 0x00000000, 0, "success"],
  ["STATUS_TIMEOUT", 0x00000102, 1460, "the wait timed out"],
  ["STATUS_PENDING", 0x00000103, 997, "the operation is in progress"],
  ["STATUS_BUFFER_OVERFLOW", 0x80000005, 234, "the data was too large for the buffer"],
  ["STATUS_UNSUCCESSFUL", 0xC0000001, 31, "the operation was unsuccessful"],
  ["STATUS_NOT_IMPLEMENTED", 0xC0000002, 1, "the requested operation is not implemented"],
  ["STATUS_INVALID_HANDLE", 0xC0000008, 6, "an invalid handle was specified"],
  ["STATUS_INVALID_PARAMETER", 0xC000000D, 87, "an invalid parameter was passed"],
  ["STATUS_END_OF_FILE", 0xC0000011, 38, "the end of the file was reached"],
  ["STATUS_NO_MEMORY", 0xC0000017, 8, "not enough virtual memory"],
  ["STATUS_ACCESS_DENIED", 0xC0000022, 5, "access denied"],
  ["STATUS_BUFFER_TOO_SMALL", 0xC0000023, 122, "the buffer is too small"],
  ["STATUS_OBJECT_NAME_NOT_FOUND", 0xC0000034, 2, "the object name is not found"],
  ["STATUS_PIPE_BUSY", 0xC00000AE, 231, "all pipe instances are busy"],
  ["STATUS_PIPE_DISCONNECTED", 0xC00000B0, 233, "the pipe is disconnected"],
  ["STATUS_IO_TIMEOUT", 0xC00000B5, 121, "the I/O operation timed out"],
  ["STATUS_NOT_SUPPORTED", 0xC00000BB, 50, "the request is not supported"],
  ["STATUS_CANCELLED", 0xC0000120, 995, "the I/O request was cancelled"],
  ["STATUS_LOCAL_DISCONNECT", 0xC000013B, 64, "the transport connection was disconnected locally"],
  [
    "STATUS_REMOTE_DISCONNECT",
    0xC000013C,
    64,
    "the transport connection was disconnected by the peer",
  ],
  ["STATUS_PIPE_BROKEN", 0xC000014B, 109, "the pipe has been ended"],
  ["STATUS_CONNECTION_RESET", 0xC000020D, 64, "the connection was reset by the peer"],
  ["STATUS_NOT_FOUND", 0xC0000225, 1168, "the object was not found"],
  ["STATUS_CONNECTION_REFUSED", 0xC0000236, 1225, "the remote system refused the connection"],
  ["STATUS_NETWORK_UNREACHABLE", 0xC000023C, 1231, "the network is unreachable"],
  ["STATUS_HOST_UNREACHABLE", 0xC000023D, 1232, "the host is unreachable"],
  ["STATUS_PORT_UNREACHABLE", 0xC000023F, 1234, "no service is operating at the destination port"],
  ["STATUS_CONNECTION_ABORTED", 0xC0000241, 1236, "the connection was aborted by the local system"],
];

const BY_CODE = new Map<number, WinErrorInfo>();
const BY_NAME = new Map<string, WinErrorInfo>();
for (const [name, code, errorClass, description] of WIN32_ROWS) {
  const info: WinErrorInfo = Object.freeze({ name, code, errorClass, description });
  BY_CODE.set(code, info);
  BY_NAME.set(name, info);
}
const NT_BY_STATUS = new Map<number, WinErrorInfo & { win32: number }>();
for (const [name, code, win32, description] of NTSTATUS_ROWS) {
  const errorClass = BY_CODE.get(win32)?.errorClass ?? Error;
  NT_BY_STATUS.set(code, Object.freeze({ name, code, win32, errorClass, description }));
}

/**
 * Win32 and Winsock error numbers by name (`WIN_ERRORS.WSAECONNREFUSED === 10061`).
 *
 * @example
 * ```ts
 * import { WIN_ERRORS } from "./errors.ts";
 * console.log(WIN_ERRORS.ERROR_IO_PENDING, WIN_ERRORS.WSAEWOULDBLOCK); // 997 10035
 * ```
 */
export const WIN_ERRORS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(WIN32_ROWS.map(([name, code]) => [name, code])),
);

/**
 * NTSTATUS values by name, unsigned (`NTSTATUS.STATUS_CANCELLED === 0xC0000120`).
 *
 * @example
 * ```ts
 * import { NTSTATUS } from "./errors.ts";
 * console.log(NTSTATUS.STATUS_PENDING === 0x103); // true
 * ```
 */
export const NTSTATUS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(NTSTATUS_ROWS.map(([name, code]) => [name, code])),
);

/**
 * Every Win32/Winsock code this module names, with its class and description.
 *
 * @example
 * ```ts
 * import { winErrorInfos } from "./errors.ts";
 * console.log(winErrorInfos().some((i) => i.name === "ERROR_BROKEN_PIPE")); // true
 * ```
 */
export function winErrorInfos(): WinErrorInfo[] {
  return [...BY_CODE.values()];
}

/**
 * Every NTSTATUS value this module names, with the Win32 code
 * `RtlNtStatusToDosError` turns it into.
 *
 * @example
 * ```ts
 * import { ntstatusInfos } from "./errors.ts";
 * console.log(ntstatusInfos().find((i) => i.name === "STATUS_CANCELLED")?.win32); // 995
 * ```
 */
export function ntstatusInfos(): (WinErrorInfo & { win32: number })[] {
  return [...NT_BY_STATUS.values()];
}

/**
 * The name of the Win32 or Winsock error `code` (`10061` -> `"WSAECONNREFUSED"`),
 * or `"WINERROR_<code>"` when unknown.
 *
 * @example
 * ```ts
 * import { winErrorName } from "./errors.ts";
 * console.log(winErrorName(109), winErrorName(10061)); // ERROR_BROKEN_PIPE WSAECONNREFUSED
 * ```
 */
export function winErrorName(code: number): string {
  return BY_CODE.get(code)?.name ?? `WINERROR_${code}`;
}

/**
 * The `Deno.errors` class for a Win32/Winsock error name or number
 * (`"WSAECONNREFUSED"` or `10061` -> `Deno.errors.ConnectionRefused`), or `Error`.
 *
 * @example
 * ```ts
 * import { winErrorClass } from "./errors.ts";
 * console.log(winErrorClass("ERROR_BROKEN_PIPE") === Deno.errors.BrokenPipe); // true
 * console.log(winErrorClass(10035) === Deno.errors.WouldBlock); // true
 * ```
 */
export function winErrorClass(code: string | number): ErrorClass {
  const info = typeof code === "number" ? BY_CODE.get(code) : BY_NAME.get(code);
  return info?.errorClass ?? Error;
}

/**
 * The name of the NTSTATUS `status` (`0xC0000120` -> `"STATUS_CANCELLED"`), or
 * `"NTSTATUS_0x<hex>"` when unknown. Negative (signed) values are accepted.
 *
 * @example
 * ```ts
 * import { ntstatusName } from "./errors.ts";
 * console.log(ntstatusName(0xC0000236)); // STATUS_CONNECTION_REFUSED
 * ```
 */
export function ntstatusName(status: number): string {
  const s = status >>> 0;
  return NT_BY_STATUS.get(s)?.name ??
    `NTSTATUS_0x${s.toString(16).toUpperCase().padStart(8, "0")}`;
}

/**
 * The Win32 code for the NTSTATUS `status`, as `RtlNtStatusToDosError` gives
 * it for the values this module names (`STATUS_CANCELLED` -> 995), or
 * `undefined` for others (call `RtlNtStatusToDosError` then).
 *
 * @example
 * ```ts
 * import { ntstatusToWin32 } from "./errors.ts";
 * console.log(ntstatusToWin32(0xC0000120)); // 995
 * ```
 */
export function ntstatusToWin32(status: number): number | undefined {
  return NT_BY_STATUS.get(status >>> 0)?.win32;
}

/**
 * Whether NTSTATUS `status` is an error (its two top bits are 11):
 * `STATUS_PENDING` and `STATUS_BUFFER_OVERFLOW` (a warning) are not.
 *
 * @example
 * ```ts
 * import { isNtError } from "./errors.ts";
 * console.log(isNtError(0xC0000120), isNtError(0x103)); // true false
 * ```
 */
export function isNtError(status: number): boolean {
  return (status >>> 30) === 3;
}

function build(
  Ctor: ErrorClass,
  code: string,
  errno: number,
  what: string,
  syscall: string,
  detail: string | undefined,
): OSError {
  const err = new Ctor(
    `${syscall}${detail ? ` (${detail})` : ""} failed: ${what} (${code}, os error ${errno})`,
  ) as OSError;
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  return err;
}

/**
 * Builds the error for the Win32 or Winsock error `errno` from the call
 * `syscall`; `detail` (such as `"socket 812"`) goes into the message:
 * `"connect (socket 812) failed: connection refused (WSAECONNREFUSED, os error 10061)"`.
 * The number must have been read at once after the failing call (see
 * `lastError` in `./kernel32.ts`, `wsaLastError` in `./ws2_32.ts`).
 *
 * @example
 * ```ts
 * import { winError } from "./errors.ts";
 * const e = winError(10061, "connect", "socket 812");
 * console.log(e instanceof Deno.errors.ConnectionRefused, e.code, e.errno); // true "WSAECONNREFUSED" 10061
 * ```
 */
export function winError(errno: number, syscall: string, detail?: string): OSError {
  const info = BY_CODE.get(errno);
  return build(
    info?.errorClass ?? Error,
    info?.name ?? `WINERROR_${errno}`,
    errno,
    info?.description ?? `os error ${errno}`,
    syscall,
    detail,
  );
}

/**
 * Builds the error for the NTSTATUS `status` from the call `syscall` (or
 * the completion it came in): `code` is the STATUS_ name, `errno` the
 * unsigned status, the class that of the Win32 code it maps to.
 *
 * @example
 * ```ts
 * import { ntstatusError } from "./errors.ts";
 * const e = ntstatusError(0xC0000236, "ConnectEx");
 * console.log(e instanceof Deno.errors.ConnectionRefused, e.code); // true "STATUS_CONNECTION_REFUSED"
 * ```
 */
export function ntstatusError(status: number, syscall: string, detail?: string): OSError {
  const s = status >>> 0;
  const info = NT_BY_STATUS.get(s);
  return build(
    info?.errorClass ?? Error,
    ntstatusName(s),
    s,
    info?.description ?? `NTSTATUS 0x${s.toString(16)}`,
    syscall,
    detail,
  );
}
