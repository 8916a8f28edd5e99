/**
 * The Winsock side of the OS seam's contract (`../sys.ts`): the raw socket
 * calls in the shapes of `../unix/socket.ts`'s `sock()`, this OS's socket
 * numbers (`SOCK`), the error numbers by their POSIX names (`E`, the WSA
 * values), and the descriptor helpers (`checkFd`, `closeFd`, ...).
 *
 * A SOCKET is a 64-bit handle, but the seam passes descriptors as numbers.
 * SOCKET values are small kernel handles in practice (multiples of 4 below
 * 2^31, on Windows and under Wine), so a SOCKET is handed out as a number;
 * one above 2^53 - 1 (which a number cannot hold exactly) is closed at once
 * and refused with a `RangeError`. The parameters are declared `usize`, so
 * a number reaches the 64-bit register whole.
 *
 * The calls' `int` lengths are declared `usize`/`u32` as on Unix: on x64 the
 * callee reads the low 32 bits of the register or stack slot, exact for the
 * lengths the seam passes (at most 2^31 - 1). These symbols come from a
 * second `dlopen` of ws2_32.dll (the same module, counted twice by the
 * loader) so that their types are those of the Unix symbols; Winsock is
 * started first through {@linkcode ws2_32}.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { describe, type OSError } from "../os_error.ts";
import { WIN_ERRORS, winError, winErrorName } from "./errors.ts";
import { IS_WINDOWS, K32, kernel32, lastError } from "./kernel32.ts";
import { WS, ws2_32 } from "./ws2_32.ts";
import type { SocketConstants } from "../_socket_constants.ts";

export type { OSError };
export type { SocketConstants };

/**
 * The socket numbers of Windows (winsock2.h, ws2def.h, ws2ipdef.h,
 * ws2tcpip.h). `AF_UNIX`, `SOCK_NONBLOCK`, `SOCK_CLOEXEC`, `SO_REUSEPORT`,
 * `SO_NOSIGPIPE`, `MSG_DONTWAIT` and `MSG_NOSIGNAL` are 0: absent here
 * (sockets are made without inheritance and set nonblocking by FIONBIO;
 * Winsock never raises SIGPIPE).
 *
 * @example
 * ```ts
 * import { SOCK } from "./socket.ts";
 * console.log(SOCK.AF_INET6, SOCK.SOL_SOCKET.toString(16), SOCK.AF_UNIX); // 23 "ffff" 0
 * ```
 */
export const SOCK: Readonly<SocketConstants> = Object.freeze({
  AF_UNSPEC: 0,
  AF_UNIX: 0,
  AF_INET: 2,
  AF_INET6: 23,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0,
  SOCK_CLOEXEC: 0,
  SOL_SOCKET: 0xffff,
  SO_REUSEADDR: 0x0004,
  SO_TYPE: 0x1008,
  SO_ERROR: 0x1007,
  SO_BROADCAST: 0x0020,
  SO_SNDBUF: 0x1001,
  SO_RCVBUF: 0x1002,
  SO_KEEPALIVE: 0x0008,
  SO_LINGER: 0x0080,
  LINGER_SIZE: 4,
  SO_REUSEPORT: 0,
  SO_NOSIGPIPE: 0,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_IPV6: 41,
  TCP_NODELAY: 0x0001,
  IP_MULTICAST_TTL: 10,
  IP_MULTICAST_LOOP: 11,
  IP_ADD_MEMBERSHIP: 12,
  IP_DROP_MEMBERSHIP: 13,
  IPV6_MULTICAST_HOPS: 10,
  IPV6_MULTICAST_LOOP: 11,
  IPV6_JOIN_GROUP: 12,
  IPV6_LEAVE_GROUP: 13,
  IPV6_V6ONLY: 27,
  MSG_OOB: 0x1,
  MSG_PEEK: 0x2,
  MSG_TRUNC: 0x0100,
  MSG_DONTWAIT: 0,
  MSG_WAITALL: 0x8,
  MSG_NOSIGNAL: 0,
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  AI_PASSIVE: 0x01,
  AI_CANONNAME: 0x02,
  AI_NUMERICHOST: 0x04,
  AI_V4MAPPED: 0x0800,
  AI_ALL: 0x0100,
  AI_ADDRCONFIG: 0x0400,
  AI_NUMERICSERV: 0x08,
  NI_NUMERICHOST: 0x02,
  NI_NUMERICSERV: 0x08,
  NI_NOFQDN: 0x01,
  NI_NAMEREQD: 0x04,
  NI_DGRAM: 0x10,
  EAI: Object.freeze({
    EAI_AGAIN: 11002,
    EAI_BADFLAGS: 10022,
    EAI_FAIL: 11003,
    EAI_FAMILY: 10047,
    EAI_MEMORY: 8,
    EAI_NODATA: 11004,
    EAI_NONAME: 11001,
    EAI_SERVICE: 10109,
    EAI_SOCKTYPE: 10044,
  }),
  AI_ADDR_OFFSET: 32,
  AI_CANONNAME_OFFSET: 24,
  AI_NEXT_OFFSET: 40,
  ADDRINFO_SIZE: 48,
});

// ---- errors -------------------------------------------------------------------

/**
 * The error numbers by their POSIX names, in Windows's (WSA) values, for
 * comparing with {@linkcode errno}: `E.EAGAIN` and `E.EWOULDBLOCK` are
 * WSAEWOULDBLOCK (10035), what a nonblocking call that would block (a
 * nonblocking `connect` included) reports; `E.EBADF` is WSAENOTSOCK (10038),
 * what a call on a closed SOCKET reports. `EPIPE` is WSAESHUTDOWN.
 *
 * @example
 * ```ts
 * import { E } from "./socket.ts";
 * console.log(E.EAGAIN, E.ECONNREFUSED, E.EBADF); // 10035 10061 10038
 * ```
 */
export const E: Readonly<Record<string, number>> = Object.freeze({
  EINTR: 10004,
  EBADF: 10038,
  EACCES: 10013,
  EFAULT: 10014,
  EINVAL: 10022,
  EMFILE: 10024,
  EAGAIN: 10035,
  EWOULDBLOCK: 10035,
  EINPROGRESS: 10036,
  EALREADY: 10037,
  ENOTSOCK: 10038,
  EDESTADDRREQ: 10039,
  EMSGSIZE: 10040,
  EPROTOTYPE: 10041,
  ENOPROTOOPT: 10042,
  EPROTONOSUPPORT: 10043,
  ESOCKTNOSUPPORT: 10044,
  EOPNOTSUPP: 10045,
  ENOTSUP: 10045,
  EPFNOSUPPORT: 10046,
  EAFNOSUPPORT: 10047,
  EADDRINUSE: 10048,
  EADDRNOTAVAIL: 10049,
  ENETDOWN: 10050,
  ENETUNREACH: 10051,
  ENETRESET: 10052,
  ECONNABORTED: 10053,
  ECONNRESET: 10054,
  ENOBUFS: 10055,
  EISCONN: 10056,
  ENOTCONN: 10057,
  ESHUTDOWN: 10058,
  EPIPE: 10058,
  ETOOMANYREFS: 10059,
  ETIMEDOUT: 10060,
  ECONNREFUSED: 10061,
  ELOOP: 10062,
  ENAMETOOLONG: 10063,
  EHOSTDOWN: 10064,
  EHOSTUNREACH: 10065,
  ENOTEMPTY: 10066,
});

/**
 * The Windows name of error number `n` (`10061` → `"WSAECONNREFUSED"`),
 * or `"WINERROR_<n>"` for one the tables lack.
 *
 * @example
 * ```ts
 * import { errnoName } from "./socket.ts";
 * console.log(errnoName(10035)); // "WSAEWOULDBLOCK"
 * ```
 */
export function errnoName(n: number): string {
  return winErrorName(n);
}

const WSAENOTSOCK = WIN_ERRORS.WSAENOTSOCK ?? 10038;
const WSAEINVAL = WIN_ERRORS.WSAEINVAL ?? 10022;
// WSAPROTOCOL_INFOW (winsock2.h): 628 bytes, iAddressFamily at offset 76.
const SO_PROTOCOL_INFOW = 0x2005;
const PROTOCOL_INFO_SIZE = 628;
const PROTOCOL_INFO_FAMILY = 76;
const protocolInfo = new Uint8Array(PROTOCOL_INFO_SIZE);
const protocolInfoLen = new Uint8Array(4);

/** The address family of SOCKET `fd` from `SO_PROTOCOL_INFOW`, or -1. */
function protocolFamily(
  n: Pick<SocketSymbols, "getsockopt">,
  fd: number,
): number {
  new DataView(protocolInfoLen.buffer).setInt32(0, PROTOCOL_INFO_SIZE, true);
  if (n.getsockopt(fd, SOCK.SOL_SOCKET, SO_PROTOCOL_INFOW, protocolInfo, protocolInfoLen) !== 0) {
    return -1;
  }
  return new DataView(protocolInfo.buffer).getInt32(PROTOCOL_INFO_FAMILY, true);
}

/**
 * The error for Windows error `errno` of the call `syscall` (a
 * `Deno.errors.*` carrying `code`, `errno`, `syscall`), as
 * `./errors.ts`'s `winError` builds it, except that WSAENOTSOCK is a
 * `BadResource`: on Windows it is what a closed SOCKET gives, where Unix
 * gives EBADF.
 *
 * @example
 * ```ts
 * import { osError } from "./socket.ts";
 * const e = osError(10038, "recv", "socket 812");
 * console.log(e instanceof Deno.errors.BadResource, e.code); // true "WSAENOTSOCK"
 * ```
 */
export function osError(errno: number, syscall: string, detail?: string): OSError {
  const e = winError(errno, syscall, detail);
  if (errno !== WSAENOTSOCK) return e;
  const b = new Deno.errors.BadResource(e.message) as OSError;
  b.code = e.code;
  b.errno = e.errno;
  b.syscall = e.syscall;
  return b;
}

/**
 * The error number the last failed Winsock call of this thread left
 * (`WSAGetLastError()`). Read it right after that call.
 *
 * @example
 * ```ts
 * import { errno, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   if (sock().listen(0x7777, 1) < 0) console.log(errno()); // 10038
 * }
 * ```
 */
export function errno(): number {
  return ws2_32().WSAGetLastError();
}

// ---- descriptors --------------------------------------------------------------

/**
 * `fd` if it is a plausible SOCKET number (an integer from 0 to 2^53 - 1),
 * else a `TypeError`/`RangeError` naming `what`. Nothing reaches Winsock
 * before this check.
 *
 * @example
 * ```ts
 * import { checkFd } from "./socket.ts";
 * console.log(checkFd(412)); // 412
 * try { checkFd(-1); } catch (e) { console.log(e instanceof RangeError); } // true
 * ```
 */
export function checkFd(fd: unknown, what = "fd"): number {
  if (typeof fd !== "number" || !Number.isInteger(fd)) {
    throw new TypeError(`${what} must be an integer SOCKET, got ${describe(fd)}`);
  }
  if (fd < 0 || fd > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${what} must be a SOCKET between 0 and 2^53 - 1, got ${fd}`);
  }
  return fd === 0 ? 0 : fd;
}

/**
 * A SOCKET returned by WSASocketW/accept as a number: -1 for
 * INVALID_SOCKET (the error stays in `WSAGetLastError()`), the value when it
 * fits in a number exactly; one above 2^53 - 1 is closed and refused with a
 * `RangeError` (Windows and Wine hand out small handles: never seen).
 *
 * @example
 * ```ts
 * import { socketNumber } from "./socket.ts";
 * console.log(socketNumber(412, "accept"), socketNumber(0xFFFF_FFFF_FFFF_FFFFn, "accept")); // 412 -1
 * ```
 */
export function socketNumber(s: number | bigint, syscall: string): number {
  if (typeof s === "number") {
    if (Number.isSafeInteger(s) && s >= 0) return s;
    throw new RangeError(`${syscall} returned SOCKET ${s}, which is not a safe integer`);
  }
  if (s === WS.INVALID_SOCKET) return -1;
  if (s <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(s);
  if (IS_WINDOWS) ws2_32().closesocket(s);
  throw new RangeError(
    `${syscall} returned SOCKET ${s}, above 2^53 - 1: it cannot be held as a number ` +
      `(the socket was closed)`,
  );
}

// ---- the socket calls -----------------------------------------------------------

const SYMBOLS = {
  bind: { parameters: ["usize", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["usize", "i32"], result: "i32" },
  accept: { parameters: ["usize", "buffer", "buffer"], result: "usize" },
  connect: { parameters: ["usize", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["usize", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["usize", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["usize", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["usize", "i32", "i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["usize", "i32"], result: "i32" },
  send: { parameters: ["usize", "buffer", "usize", "i32"], result: "i32" },
  recv: { parameters: ["usize", "buffer", "usize", "i32"], result: "i32" },
  sendto: { parameters: ["usize", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: { parameters: ["usize", "buffer", "usize", "i32", "buffer", "buffer"], result: "i32" },
  closesocket: { parameters: ["usize"], result: "i32" },
  ioctlsocket: { parameters: ["usize", "u32", "buffer"], result: "i32" },
  select: { parameters: ["i32", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * A buffer argument of the socket calls (Deno's `"buffer"` type).
 *
 * @example
 * ```ts
 * import type { Buf } from "./socket.ts";
 * const b: Buf = new Uint8Array(4);
 * console.log(b.byteLength); // 4
 * ```
 */
export type Buf = AllowSharedBufferSource | null;

/**
 * The socket calls {@linkcode sock} returns: those of the Unix `sock()`
 * with the same parameters (a SOCKET as a number), each returning -1 on
 * failure (read {@linkcode errno} at once), plus `closesocket`,
 * `ioctlsocket` and `select`. `accept4` is `null` (Windows has none).
 * (The SOCKET parameters are `usize` in the FFI table; Deno takes a number
 * for them at run time, and the types here say number as Unix's do.)
 *
 * @example
 * ```ts
 * import { type SocketSymbols, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const s: SocketSymbols = sock();
 *   console.log(s.accept4); // null
 * }
 * ```
 */
export interface SocketSymbols {
  /** `WSASocketW(domain, type, protocol, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)`: a SOCKET, or -1. */
  readonly socket: (domain: number, type: number, protocol: number) => number;
  /** `bind(s, addr, len)`. */
  readonly bind: (fd: number, addr: Buf, len: number) => number;
  /** `listen(s, backlog)`. */
  readonly listen: (fd: number, backlog: number) => number;
  /** `accept(s, addr, addrlen)`: the new SOCKET (not inheritable), or -1. */
  readonly accept: (fd: number, addr: Buf, addrlen: Buf) => number;
  /** Absent on Windows. */
  readonly accept4: null;
  /** `connect(s, addr, len)`: 0, or -1 (WSAEWOULDBLOCK when nonblocking and under way). */
  readonly connect: (fd: number, addr: Buf, len: number) => number;
  /** `getsockname(s, addr, addrlen)`. */
  readonly getsockname: (fd: number, addr: Buf, addrlen: Buf) => number;
  /** `getpeername(s, addr, addrlen)`. */
  readonly getpeername: (fd: number, addr: Buf, addrlen: Buf) => number;
  /** `setsockopt(s, level, name, value, len)`. */
  readonly setsockopt: (fd: number, level: number, name: number, v: Buf, len: number) => number;
  /** `getsockopt(s, level, name, value, len*)`. */
  readonly getsockopt: (fd: number, level: number, name: number, v: Buf, len: Buf) => number;
  /** `shutdown(s, how)` (SD_RECEIVE 0, SD_SEND 1, SD_BOTH 2). */
  readonly shutdown: (fd: number, how: number) => number;
  /** `send(s, buf, len, flags)`: bytes sent, or -1. */
  readonly send: (fd: number, buf: Buf, len: bigint, flags: number) => number;
  /** `recv(s, buf, len, flags)`: bytes read, 0 at EOF, or -1. */
  readonly recv: (fd: number, buf: Buf, len: bigint, flags: number) => number;
  /** `sendto(s, buf, len, flags, addr, addrlen)`. */
  readonly sendto: (
    fd: number,
    buf: Buf,
    len: bigint,
    flags: number,
    addr: Buf,
    addrlen: number,
  ) => number;
  /** `recvfrom(s, buf, len, flags, addr, addrlen*)`. */
  readonly recvfrom: (
    fd: number,
    buf: Buf,
    len: bigint,
    flags: number,
    addr: Buf,
    addrlen: Buf,
  ) => number;
  /** `closesocket(s)`: 0, or -1. */
  readonly closesocket: (fd: number) => number;
  /** `ioctlsocket(s, cmd, arg*)`: 0, or -1. */
  readonly ioctlsocket: (fd: number, cmd: number, arg: Buf) => number;
  /** `select(0, read, write, except, timeout)` on counted fd_sets: the count ready, or -1. */
  readonly select: (nfds: number, r: Buf, w: Buf, x: Buf, timeout: Buf) => number;
}

const raw = lazyLibrary("ws2_32.dll", SYMBOLS, {
  available: IS_WINDOWS,
  unsupported: "the Winsock socket bindings are Windows only: on this OS use ffi/unix",
});

let symbols: SocketSymbols | undefined;

/**
 * The message of `socket()` for AF_UNIX (or AF_UNSPEC, which stands for it in `SOCK`).
 *
 * @example
 * ```ts
 * import { AF_UNIX_UNSUPPORTED } from "./socket.ts";
 * console.log(AF_UNIX_UNSUPPORTED.startsWith("AF_UNIX")); // true
 * ```
 */
export const AF_UNIX_UNSUPPORTED: string =
  "AF_UNIX sockets are not supported on Windows by @aio/loop (SOCK.AF_UNIX is 0): use " +
  "AF_INET or AF_INET6 over loopback";

function makeSymbols(): SocketSymbols {
  const w = ws2_32(); // starts Winsock once
  const r = raw();
  const flags = WS.WSA_FLAG_OVERLAPPED | WS.WSA_FLAG_NO_HANDLE_INHERIT;
  // The SOCKET parameters are usize: Deno takes numbers for them at run time.
  const n = r as unknown as Omit<SocketSymbols, "socket" | "accept" | "accept4">;
  const socket = (domain: number, type: number, protocol: number): number => {
    if (domain === SOCK.AF_UNIX || domain === 1) {
      throw new Deno.errors.NotSupported(AF_UNIX_UNSUPPORTED);
    }
    const s = socketNumber(w.WSASocketW(domain, type, protocol, null, 0, flags), "WSASocketW");
    if (s < 0) return s;
    nonBlocking.delete(s); // a new SOCKET blocks; its number may be reused
    live.add(s);
    return s;
  };
  const accept = (fd: number, addr: Buf, addrlen: Buf): number => {
    const s = socketNumber(r.accept(BigInt(fd), addr, addrlen), "accept");
    if (s < 0) return s;
    // An accepted SOCKET takes the listener's FIONBIO mode.
    if (nonBlocking.has(fd)) nonBlocking.add(s);
    else nonBlocking.delete(s);
    // Sockets from accept() are inheritable: clear it, as CPython does.
    const h = Deno.UnsafePointer.create(BigInt(s));
    if (kernel32().SetHandleInformation(h, K32.HANDLE_FLAG_INHERIT, 0) === 0) {
      const e = lastError("SetHandleInformation", `accepted socket ${s}`);
      n.closesocket(s);
      throw e;
    }
    live.add(s);
    return s;
  };
  // POSIX gives an unbound socket's family with a zero address and port; Winsock refuses
  // (WSAEINVAL). Answer as POSIX does, the family read from SO_PROTOCOL_INFOW.
  const getsockname = (fd: number, addr: Buf, addrlen: Buf): number => {
    const rc = n.getsockname(fd, addr, addrlen);
    if (
      rc === 0 || errno() !== WSAEINVAL || !ArrayBuffer.isView(addr) || !ArrayBuffer.isView(addrlen)
    ) {
      return rc;
    }
    const af = protocolFamily(n, fd);
    const size = af === SOCK.AF_INET ? 16 : af === SOCK.AF_INET6 ? 28 : -1;
    const out = new Uint8Array(addr.buffer, addr.byteOffset, addr.byteLength);
    const lenView = new DataView(addrlen.buffer, addrlen.byteOffset, addrlen.byteLength);
    if (
      size < 0 || lenView.byteLength < 4 || lenView.getInt32(0, true) < size ||
      out.byteLength < size
    ) {
      w.WSASetLastError(WSAEINVAL);
      return -1;
    }
    out.fill(0, 0, size);
    new DataView(out.buffer, out.byteOffset, size).setUint16(0, af, true);
    lenView.setInt32(0, size, true);
    return 0;
  };
  const closesocket = (fd: number): number => {
    const rc = n.closesocket(fd);
    if (rc === 0) {
      live.delete(fd);
      nonBlocking.delete(fd);
    }
    return rc;
  };
  return Object.freeze({ ...n, socket, accept, accept4: null, closesocket, getsockname });
}

/**
 * The socket calls, Winsock started and the library opened on first call.
 * Throws `Deno.errors.NotSupported` elsewhere than on Windows.
 *
 * @example
 * ```ts
 * import { SOCK, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const fd = sock().socket(SOCK.AF_INET, SOCK.SOCK_STREAM, 0);
 *   console.log(fd > 0); // true
 *   sock().closesocket(fd);
 * }
 * ```
 */
export function sock(): SocketSymbols {
  return symbols ??= makeSymbols();
}

/**
 * Closes SOCKET `fd` (`closesocket`); throws `BadResource` (WSAENOTSOCK)
 * for one already closed.
 *
 * @example
 * ```ts
 * import { closeFd, SOCK, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") closeFd(sock().socket(SOCK.AF_INET, SOCK.SOCK_DGRAM, 0));
 * ```
 */
export function closeFd(fd: number): void {
  checkFd(fd);
  if (sock().closesocket(fd) !== 0) throw osError(errno(), "closesocket", `socket ${fd}`);
}

// The SOCKETs made through sock() (socket(), accept()) and not closed through it yet.
const live = new Set<number>();

/**
 * The SOCKETs this process made through {@linkcode sock} (`socket()`,
 * `accept()`) that are still open, lowest first: what a leak check counts
 * (walking the handle table would have to query pipe handles, which can
 * block or, under Wine, disturb I/O another thread has pending on them).
 *
 * @example
 * ```ts
 * import { openSockets, SOCK, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const fd = sock().socket(SOCK.AF_INET, SOCK.SOCK_STREAM, 0);
 *   console.log(openSockets().includes(fd)); // true
 *   sock().closesocket(fd);
 *   console.log(openSockets().includes(fd)); // false
 * }
 * ```
 */
export function openSockets(): number[] {
  const k = kernel32();
  for (const fd of live) {
    // Closed behind our back (a raw closesocket): its number is no longer ours.
    if (k.GetHandleInformation(Deno.UnsafePointer.create(BigInt(fd)), handleFlags) === 0) {
      live.delete(fd);
    }
  }
  return [...live].sort((a, b) => a - b);
}

const optBuf = new Uint8Array(4);
const optLen = new Uint8Array(4);
const handleFlags = new Uint8Array(4);

/**
 * Whether `fd` is an open handle of this process, a SOCKET or any other
 * (`GetHandleInformation` works): a closed one, or a number that is no
 * handle, is `false`.
 *
 * @example
 * ```ts
 * import { isOpenFd } from "./socket.ts";
 * if (Deno.build.os === "windows") console.log(isOpenFd(0x7777)); // false
 * ```
 */
export function isOpenFd(fd: number): boolean {
  checkFd(fd);
  // Any handle: a socket call on a pipe handle is an ioctl on it (see fileKind).
  return kernel32().GetHandleInformation(Deno.UnsafePointer.create(BigInt(fd)), handleFlags) !== 0;
}

/**
 * What an fd refers to, as the Unix `fileKind` names it (on Windows: a
 * socket, a disk file, a character device, a pipe, or unknown).
 *
 * @example
 * ```ts
 * import type { FileKind } from "./socket.ts";
 * const k: FileKind = "socket";
 * console.log(k); // "socket"
 * ```
 */
export type FileKind =
  | "file"
  | "directory"
  | "socket"
  | "fifo"
  | "character"
  | "block"
  | "symlink"
  | "unknown";

// GetFileType's answers (winbase.h); a SOCKET reads as a pipe there.
const FILE_TYPE_PIPE = 3;
const FILE_TYPES: Readonly<Record<number, FileKind>> = { 1: "file", 2: "character", 3: "fifo" };

/**
 * What handle `fd` is: `"socket"` for an open SOCKET (`getsockopt(SO_TYPE)`
 * works), else what `GetFileType` says (`"file"` for a disk file,
 * `"character"` for a console or other character device, `"fifo"` for a
 * pipe, `"unknown"`); `BadResource` for a closed SOCKET or a number that is
 * no handle of this process.
 *
 * @example
 * ```ts
 * import { fileKind, SOCK, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const fd = sock().socket(SOCK.AF_INET, SOCK.SOCK_STREAM, 0);
 *   console.log(fileKind(fd)); // "socket"
 *   sock().closesocket(fd);
 * }
 * ```
 */
export function fileKind(fd: number): FileKind {
  checkFd(fd);
  const k = kernel32();
  const h = Deno.UnsafePointer.create(BigInt(fd));
  k.SetLastError(0);
  const t = k.GetFileType(h);
  if (t === 0) {
    const err = k.GetLastError();
    // GetFileType fails on handles that are no file (an event, a process): still a handle.
    if (err !== 0 && k.GetHandleInformation(h, handleFlags) === 0) {
      throw winError(
        err,
        "GetFileType",
        `${fd}: neither an open socket nor a handle of this process`,
      );
    }
    return "unknown";
  }
  if (t !== FILE_TYPE_PIPE) return FILE_TYPES[t] ?? "unknown";
  // Sockets read as pipes too: only a socket call tells them apart. (On a pipe with
  // synchronous I/O pending in another thread that call can wait, or under Wine disturb it.)
  new DataView(optLen.buffer).setInt32(0, 4, true);
  if (sock().getsockopt(fd, SOCK.SOL_SOCKET, SOCK.SO_TYPE, optBuf, optLen) === 0) return "socket";
  const e = errno();
  if (e !== WSAENOTSOCK) throw osError(e, "getsockopt", `socket ${fd}, SO_TYPE`);
  return "fifo";
}

const fionbio = new Uint32Array(1);
// Winsock cannot report FIONBIO: the mode of every SOCKET set through here is kept.
const nonBlocking = new Set<number>();

/**
 * `setNonBlocking(fd, on = true)`: sets or clears nonblocking mode
 * (`ioctlsocket(FIONBIO)`).
 *
 * @example
 * ```ts
 * import { SOCK, setNonBlocking, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const fd = sock().socket(SOCK.AF_INET, SOCK.SOCK_STREAM, 0);
 *   setNonBlocking(fd);
 *   sock().closesocket(fd);
 * }
 * ```
 */
export function setNonBlocking(fd: number, on = true): void {
  checkFd(fd);
  fionbio[0] = on ? 1 : 0;
  if (sock().ioctlsocket(fd, WS.FIONBIO, new Uint8Array(fionbio.buffer)) !== 0) {
    throw osError(errno(), "ioctlsocket(FIONBIO)", `socket ${fd}`);
  }
  if (on) nonBlocking.add(fd);
  else nonBlocking.delete(fd);
}

/**
 * Whether SOCKET `fd` is in nonblocking mode. Winsock cannot read FIONBIO
 * back, so this reports the mode last set through {@linkcode setNonBlocking}
 * (a SOCKET made elsewhere, e.g. by a C library, reads as blocking until
 * then); `BadResource` for a closed one.
 *
 * @example
 * ```ts
 * import { isNonBlocking, SOCK, setNonBlocking, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const fd = sock().socket(SOCK.AF_INET, SOCK.SOCK_STREAM, 0);
 *   setNonBlocking(fd);
 *   console.log(isNonBlocking(fd)); // true
 *   sock().closesocket(fd);
 * }
 * ```
 */
export function isNonBlocking(fd: number): boolean {
  fileKind(fd); // BadResource for a closed SOCKET, as Unix's EBADF
  return nonBlocking.has(fd);
}

/**
 * `setCloseOnExec(fd, on = true)`: makes the SOCKET not inherited by child
 * processes (`SetHandleInformation(HANDLE_FLAG_INHERIT)`), or inherited
 * again with `on = false`.
 *
 * @example
 * ```ts
 * import { SOCK, setCloseOnExec, sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const fd = sock().socket(SOCK.AF_INET, SOCK.SOCK_STREAM, 0);
 *   setCloseOnExec(fd);
 *   sock().closesocket(fd);
 * }
 * ```
 */
export function setCloseOnExec(fd: number, on = true): void {
  checkFd(fd);
  const h = Deno.UnsafePointer.create(BigInt(fd));
  if (kernel32().SetHandleInformation(h, K32.HANDLE_FLAG_INHERIT, on ? 0 : 1) === 0) {
    throw lastError("SetHandleInformation", `socket ${fd}`);
  }
}

const iphlpapi = lazyLibrary(
  "iphlpapi.dll",
  { if_nametoindex: { parameters: ["buffer"], result: "u32" } } as const,
  { available: IS_WINDOWS, unsupported: "iphlpapi.dll is Windows only" },
);

/**
 * The index of network interface `name` (`if_nametoindex` of iphlpapi.dll,
 * for IPv6 scopes), or 0 when there is none.
 *
 * @example
 * ```ts
 * import { ifNameToIndex } from "./socket.ts";
 * if (Deno.build.os === "windows") console.log(ifNameToIndex("no-such-interface")); // 0
 * ```
 */
export function ifNameToIndex(name: string): number {
  if (name.length === 0 || name.length > 255) return 0;
  const bytes = new TextEncoder().encode(name);
  if (bytes.includes(0)) return 0;
  const c = new Uint8Array(bytes.length + 1);
  c.set(bytes);
  return iphlpapi().if_nametoindex(c);
}

/**
 * `socketpair(AF_UNIX)`: Windows has none that Winsock `select()` and the
 * rest of this package can use, so this always throws `NotSupported` (use a
 * loopback TCP pair, as `net/socketpair.ts` makes on Windows).
 *
 * @example
 * ```ts
 * import { unixSocketPair } from "./socket.ts";
 * try {
 *   unixSocketPair();
 * } catch (e) {
 *   console.log(e instanceof Deno.errors.NotSupported); // true
 * }
 * ```
 */
export function unixSocketPair(_type?: number): [number, number] {
  throw new Deno.errors.NotSupported(AF_UNIX_UNSUPPORTED);
}
