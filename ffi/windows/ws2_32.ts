/**
 * ws2_32.dll (Winsock 2) and the mswsock extension functions. One lazy
 * `dlopen`; Winsock is started (`WSAStartup(2.2)`) exactly once, on the
 * first call of {@linkcode ws2_32}. The extension functions (AcceptEx,
 * ConnectEx, GetAcceptExSockaddrs, DisconnectEx, TransmitFile, WSARecvMsg)
 * come from `WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)`, looked up once
 * on the first call of {@linkcode mswsock}.
 *
 * SOCKET is `usize`: pass a bigint; results come back as number or bigint
 * (normalize with `BigInt()`), `INVALID_SOCKET` being 2^64-1. Elsewhere
 * than on Windows every getter throws `Deno.errors.NotSupported`.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { type OSError, winError } from "./errors.ts";
import { IS_WINDOWS } from "./kernel32.ts";
import { GUID, writeGuid, WSADATA_SIZE } from "./structs.ts";

const UNSUPPORTED = "ws2_32.dll (Winsock) is Windows only: on this OS use the sockets of ffi/unix";

/** The ws2_32 functions this module declares.
 * @example
 * ```ts
 * import { WS2_32_SYMBOLS } from "./ws2_32.ts";
 * console.log(WS2_32_SYMBOLS.WSASocketW.result); // "usize"
 * ```
 */
export const WS2_32_SYMBOLS = {
  WSAStartup: { parameters: ["u16", "buffer"], result: "i32" },
  WSACleanup: { parameters: [], result: "i32" },
  WSAGetLastError: { parameters: [], result: "i32" },
  WSASetLastError: { parameters: ["i32"], result: "void" },
  WSASocketW: { parameters: ["i32", "i32", "i32", "pointer", "u32", "u32"], result: "usize" },
  closesocket: { parameters: ["usize"], result: "i32" },
  bind: { parameters: ["usize", "buffer", "i32"], result: "i32" },
  listen: { parameters: ["usize", "i32"], result: "i32" },
  connect: { parameters: ["usize", "buffer", "i32"], result: "i32" },
  accept: { parameters: ["usize", "buffer", "buffer"], result: "usize" },
  getsockname: { parameters: ["usize", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["usize", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["usize", "i32", "i32", "buffer", "i32"], result: "i32" },
  getsockopt: { parameters: ["usize", "i32", "i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["usize", "i32"], result: "i32" },
  ioctlsocket: { parameters: ["usize", "u32", "buffer"], result: "i32" },
  recv: { parameters: ["usize", "buffer", "i32", "i32"], result: "i32" },
  send: { parameters: ["usize", "buffer", "i32", "i32"], result: "i32" },
  recvfrom: { parameters: ["usize", "buffer", "i32", "i32", "buffer", "buffer"], result: "i32" },
  sendto: { parameters: ["usize", "buffer", "i32", "i32", "buffer", "i32"], result: "i32" },
  select: { parameters: ["i32", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  // Off the JS thread: the four buffers must stay untouched until the promise settles.
  selectAsync: {
    name: "select",
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  WSAIoctl: {
    parameters: ["usize", "u32", "buffer", "u32", "buffer", "u32", "buffer", "pointer", "pointer"],
    result: "i32",
  },
  WSARecv: {
    parameters: ["usize", "pointer", "u32", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  WSASend: {
    parameters: ["usize", "pointer", "u32", "pointer", "u32", "pointer", "pointer"],
    result: "i32",
  },
  WSARecvFrom: {
    parameters: [
      "usize",
      "pointer",
      "u32",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
    ],
    result: "i32",
  },
  WSASendTo: {
    parameters: [
      "usize",
      "pointer",
      "u32",
      "pointer",
      "u32",
      "pointer",
      "i32",
      "pointer",
      "pointer",
    ],
    result: "i32",
  },
  WSAConnect: {
    parameters: ["usize", "buffer", "i32", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  GetAddrInfoW: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  GetAddrInfoWNB: {
    name: "GetAddrInfoW",
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  FreeAddrInfoW: { parameters: ["pointer"], result: "void" },
  GetNameInfoW: {
    parameters: ["buffer", "i32", "buffer", "u32", "buffer", "u32", "i32"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The ws2_32 symbols object {@linkcode ws2_32} returns.
 * @example
 * ```ts
 * import { type Ws2Symbols, ws2_32 } from "./ws2_32.ts";
 * if (Deno.build.os === "windows") {
 *   const w: Ws2Symbols = ws2_32();
 *   console.log(typeof w.select); // "function"
 * }
 * ```
 */
export type Ws2Symbols = Deno.DynamicLibrary<typeof WS2_32_SYMBOLS>["symbols"];

const rawWs2 = lazyLibrary("ws2_32.dll", WS2_32_SYMBOLS, {
  available: IS_WINDOWS,
  unsupported: UNSUPPORTED,
});

let started = false;

/**
 * The ws2_32.dll symbols (Deno's own functions, untouched), with Winsock
 * started: the first call opens the library and calls `WSAStartup(2.2)`
 * (throwing its error if it fails); later calls only return the symbols.
 * Throws `Deno.errors.NotSupported` elsewhere than on Windows.
 *
 * @example
 * ```ts
 * import { WS, ws2_32 } from "./ws2_32.ts";
 * if (Deno.build.os === "windows") {
 *   const w = ws2_32();
 *   const s = BigInt(w.WSASocketW(WS.AF_INET, WS.SOCK_STREAM, WS.IPPROTO_TCP, null, 0, WS.WSA_FLAG_OVERLAPPED));
 *   console.log(s !== WS.INVALID_SOCKET); // true
 *   w.closesocket(s);
 * }
 * ```
 */
export function ws2_32(): Ws2Symbols {
  const s = rawWs2();
  if (!started) {
    const data = new Uint8Array(WSADATA_SIZE);
    const rc = s.WSAStartup(0x0202, data);
    if (rc !== 0) throw winError(rc, "WSAStartup", "Winsock 2.2");
    started = true;
  }
  return s;
}

/**
 * Whether this process has started Winsock through {@linkcode ws2_32}
 * (`WSAStartup` ran, once, and succeeded).
 *
 * @example
 * ```ts
 * import { winsockStarted } from "./ws2_32.ts";
 * console.log(typeof winsockStarted()); // "boolean"
 * ```
 */
export function winsockStarted(): boolean {
  return started;
}

/**
 * The error of the Winsock call `syscall` that just failed: reads
 * `WSAGetLastError()` at once, so call it straight after the failing call
 * (never after a `nonblocking` one; those return their error instead).
 *
 * @example
 * ```ts
 * import { wsaLastError, ws2_32 } from "./ws2_32.ts";
 * if (Deno.build.os === "windows") {
 *   if (ws2_32().closesocket(0x7777n) !== 0) console.log(wsaLastError("closesocket").code); // "WSAENOTSOCK"
 * }
 * ```
 */
export function wsaLastError(syscall: string, detail?: string): OSError {
  return winError(rawWs2().WSAGetLastError(), syscall, detail);
}

/**
 * Winsock constants (Windows values: `AF_INET6` is 23, `SOL_SOCKET` 0xFFFF).
 *
 * @example
 * ```ts
 * import { WS } from "./ws2_32.ts";
 * console.log(WS.AF_INET6, WS.FIONBIO.toString(16)); // 23 "8004667e"
 * ```
 */
export const WS = {
  INVALID_SOCKET: 0xFFFF_FFFF_FFFF_FFFFn,
  SOCKET_ERROR: -1,
  AF_UNSPEC: 0,
  AF_INET: 2,
  AF_INET6: 23,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_IPV6: 41,
  SOL_SOCKET: 0xFFFF,
  SO_REUSEADDR: 0x0004,
  SO_KEEPALIVE: 0x0008,
  SO_BROADCAST: 0x0020,
  SO_LINGER: 0x0080,
  SO_EXCLUSIVEADDRUSE: -5,
  SO_SNDBUF: 0x1001,
  SO_RCVBUF: 0x1002,
  SO_ERROR: 0x1007,
  SO_TYPE: 0x1008,
  SO_UPDATE_ACCEPT_CONTEXT: 0x700B,
  SO_UPDATE_CONNECT_CONTEXT: 0x7010,
  TCP_NODELAY: 0x0001,
  IPV6_V6ONLY: 27,
  FIONBIO: 0x8004667E,
  FIONREAD: 0x4004667F,
  SIO_GET_EXTENSION_FUNCTION_POINTER: 0xC8000006,
  SIO_BASE_HANDLE: 0x48000022,
  SIO_BSP_HANDLE: 0x4800001B,
  SIO_BSP_HANDLE_SELECT: 0x4800001C,
  SIO_BSP_HANDLE_POLL: 0x4800001D,
  SIO_UDP_CONNRESET: 0x9800000C,
  WSA_FLAG_OVERLAPPED: 0x01,
  WSA_FLAG_NO_HANDLE_INHERIT: 0x80,
  SD_RECEIVE: 0,
  SD_SEND: 1,
  SD_BOTH: 2,
  SOMAXCONN: 0x7FFF_FFFF,
  MSG_OOB: 1,
  MSG_PEEK: 2,
  AI_PASSIVE: 1,
  AI_CANONNAME: 2,
  AI_NUMERICHOST: 4,
  NI_NUMERICHOST: 2,
  NI_NUMERICSERV: 8,
  TF_DISCONNECT: 1,
  TF_REUSE_SOCKET: 2,
} as const;

// ---- mswsock extension functions ------------------------------------------------

/**
 * The GUIDs of the mswsock extension functions (`WSAID_*`).
 *
 * @example
 * ```ts
 * import { MSWSOCK_GUIDS } from "./ws2_32.ts";
 * console.log(MSWSOCK_GUIDS.AcceptEx); // "b5367df1-cbac-11cf-95ca-00805f48a192"
 * ```
 */
export const MSWSOCK_GUIDS = {
  AcceptEx: "b5367df1-cbac-11cf-95ca-00805f48a192",
  GetAcceptExSockaddrs: "b5367df2-cbac-11cf-95ca-00805f48a192",
  ConnectEx: "25a207b9-ddf3-4660-8ee9-76e58c74063e",
  DisconnectEx: "7fda2e11-8630-436f-a031-f536a6eec157",
  TransmitFile: "b5367df0-cbac-11cf-95ca-00805f48a192",
  WSARecvMsg: "f689d7c8-6f1f-436b-8a53-e54fe351c322",
} as const;

/** The FFI signatures of the mswsock extension functions.
 * @example
 * ```ts
 * import { MSWSOCK_SYMBOLS } from "./ws2_32.ts";
 * console.log(MSWSOCK_SYMBOLS.AcceptEx.parameters.length); // 8
 * ```
 */
export const MSWSOCK_SYMBOLS = {
  /** (listen, accept, outBuf, recvLen, localLen, remoteLen, bytes*, ov) → BOOL */
  AcceptEx: {
    parameters: ["usize", "usize", "pointer", "u32", "u32", "u32", "pointer", "pointer"],
    result: "i32",
  },
  /** (outBuf, recvLen, localLen, remoteLen, local**, localLen*, remote**, remoteLen*) */
  GetAcceptExSockaddrs: {
    parameters: ["pointer", "u32", "u32", "u32", "pointer", "pointer", "pointer", "pointer"],
    result: "void",
  },
  /** (s, name, namelen, sendBuf, sendLen, sent*, ov) → BOOL */
  ConnectEx: {
    parameters: ["usize", "pointer", "i32", "pointer", "u32", "pointer", "pointer"],
    result: "i32",
  },
  /** (s, ov, flags, reserved) → BOOL */
  DisconnectEx: { parameters: ["usize", "pointer", "u32", "u32"], result: "i32" },
  /** (s, hFile, bytes, perSend, ov, buffers, flags) → BOOL */
  TransmitFile: {
    parameters: ["usize", "pointer", "u32", "u32", "pointer", "pointer", "u32"],
    result: "i32",
  },
  /** (s, WSAMSG*, bytes*, ov, routine) → int */
  WSARecvMsg: {
    parameters: ["usize", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
} as const satisfies Record<keyof typeof MSWSOCK_GUIDS, Deno.UnsafeCallbackDefinition>;

/** The mswsock extension functions, callable as `fns.AcceptEx.call(...)`.
 * @example
 * ```ts
 * import { type MswsockFunctions, mswsock } from "./ws2_32.ts";
 * if (Deno.build.os === "windows") {
 *   const fns: MswsockFunctions = mswsock();
 *   console.log(typeof fns.ConnectEx.call); // "function"
 * }
 * ```
 */
export type MswsockFunctions = {
  readonly [K in keyof typeof MSWSOCK_SYMBOLS]: Deno.UnsafeFnPointer<(typeof MSWSOCK_SYMBOLS)[K]>;
};

/**
 * The address of the extension function `guid` for socket `s`, through
 * `WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)` (with a non-NULL
 * bytes-returned pointer: Wine fails without one). Throws the Winsock error,
 * or an `Error` if the provider returned NULL.
 *
 * @example
 * ```ts
 * import { extensionFunction, MSWSOCK_GUIDS, WS, ws2_32 } from "./ws2_32.ts";
 * if (Deno.build.os === "windows") {
 *   const s = BigInt(ws2_32().WSASocketW(WS.AF_INET, WS.SOCK_STREAM, 0, null, 0, WS.WSA_FLAG_OVERLAPPED));
 *   console.log(extensionFunction(s, MSWSOCK_GUIDS.ConnectEx) !== 0n); // true
 *   ws2_32().closesocket(s);
 * }
 * ```
 */
export function extensionFunction(s: bigint, guid: string): bigint {
  const w = ws2_32();
  const id = new Uint8Array(GUID.SIZE);
  writeGuid(id, 0, guid);
  const out = new BigUint64Array(1);
  const returned = new Uint32Array(1);
  const rc = w.WSAIoctl(
    s,
    WS.SIO_GET_EXTENSION_FUNCTION_POINTER,
    id,
    GUID.SIZE,
    new Uint8Array(out.buffer),
    8,
    new Uint8Array(returned.buffer),
    null,
    null,
  );
  if (rc !== 0) throw wsaLastError("WSAIoctl", `SIO_GET_EXTENSION_FUNCTION_POINTER ${guid}`);
  if (out[0] === 0n || returned[0] !== 8) {
    throw new Error(`WSAIoctl gave no function for ${guid} (${returned[0]} bytes)`);
  }
  return out[0];
}

let extensions: MswsockFunctions | undefined;

/**
 * The mswsock extension functions of the base (MSAFD) provider, looked up
 * once through a throwaway overlapped TCP socket and kept. (A socket of a
 * layered provider may need its own: see {@linkcode extensionFunction}.)
 *
 * @example
 * ```ts
 * import { mswsock } from "./ws2_32.ts";
 * if (Deno.build.os === "windows") console.log(typeof mswsock().AcceptEx.call); // "function"
 * ```
 */
export function mswsock(): MswsockFunctions {
  if (extensions !== undefined) return extensions;
  const w = ws2_32();
  const s = BigInt(
    w.WSASocketW(
      WS.AF_INET,
      WS.SOCK_STREAM,
      WS.IPPROTO_TCP,
      null,
      0,
      WS.WSA_FLAG_OVERLAPPED | WS.WSA_FLAG_NO_HANDLE_INHERIT,
    ),
  );
  if (s === WS.INVALID_SOCKET) throw wsaLastError("WSASocketW", "for the extension functions");
  try {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(MSWSOCK_GUIDS) as (keyof typeof MSWSOCK_GUIDS)[]) {
      const addr = extensionFunction(s, MSWSOCK_GUIDS[name]);
      out[name] = new Deno.UnsafeFnPointer(Deno.UnsafePointer.create(addr)!, MSWSOCK_SYMBOLS[name]);
    }
    extensions = Object.freeze(out) as unknown as MswsockFunctions;
    return extensions;
  } finally {
    w.closesocket(s);
  }
}
