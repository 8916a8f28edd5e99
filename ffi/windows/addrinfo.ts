/**
 * Name resolution on Windows for the seam: `GetAddrInfoW` and
 * `GetNameInfoW` run off the JS thread (their `nonblocking` twins), with the
 * entries decoded into the same objects as `../unix/addrinfo.ts` makes.
 * Both calls return their error (a WSA code) rather than leave it in
 * `WSAGetLastError()`, so nothing is read across threads.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { winError } from "./errors.ts";
import { IS_WINDOWS } from "./kernel32.ts";
import { ADDRINFOW, readAddrInfoW, wideString } from "./structs.ts";
import { decodeAddress, encodeAddress, type NetAddress, SOCKADDR_MAX } from "./sockaddr.ts";
import { SOCK } from "./socket.ts";

export type { NetAddress };
import { ws2_32 } from "./ws2_32.ts";

/**
 * An error from GetAddrInfoW or GetNameInfoW.
 *
 * @example
 * ```ts
 * import { type AddrInfoError, gaiError } from "./addrinfo.ts";
 * const e: AddrInfoError = gaiError(11001, "getaddrinfo", "x.invalid");
 * console.log(e.syscall); // "getaddrinfo"
 * ```
 */
export interface AddrInfoError extends Error {
  /** The EAI name, such as `"EAI_NONAME"` (the WSA name when no EAI name fits). */
  code: string;
  /** The WSA number (`EAI_NONAME` is WSAHOST_NOT_FOUND, 11001). */
  errno: number;
  /** `"getaddrinfo"` or `"getnameinfo"`. */
  syscall: string;
}

/**
 * The `hints` of a lookup, in this OS's numbers (`SOCK.AF_*`, `SOCK.SOCK_*`, `SOCK.AI_*`).
 *
 * @example
 * ```ts
 * import type { AddrInfoHints } from "./addrinfo.ts";
 * const h: AddrInfoHints = { flags: 0, family: 23, socktype: 1, protocol: 0 };
 * console.log(h.family); // 23
 * ```
 */
export interface AddrInfoHints {
  /** `ai_flags`: `AI_*` flags ORed together. */
  flags: number;
  /** `ai_family`: `AF_INET`, `AF_INET6` or `AF_UNSPEC`. */
  family: number;
  /** `ai_socktype`: a `SOCK_*` type, or 0 for all. */
  socktype: number;
  /** `ai_protocol`: a protocol number, or 0 for all. */
  protocol: number;
}

/**
 * One entry of the resolver's list (IPv4 and IPv6 entries only).
 *
 * @example
 * ```ts
 * import type { AddrInfoEntry } from "./addrinfo.ts";
 * const e: AddrInfoEntry = {
 *   family: "inet",
 *   socktype: 1,
 *   protocol: 6,
 *   canonname: "",
 *   address: { transport: "tcp", hostname: "127.0.0.1", port: 80 },
 * };
 * console.log(e.address.port); // 80
 * ```
 */
export interface AddrInfoEntry {
  /** The address family. */
  family: "inet" | "inet6";
  /** `ai_socktype`, in this OS's numbers (`SOCK.SOCK_STREAM`, ...). */
  socktype: number;
  /** `ai_protocol`. */
  protocol: number;
  /** `ai_canonname`, or `""`. */
  canonname: string;
  /** The address; `transport` is `"udp"` for datagram entries, else `"tcp"`. */
  address: NetAddress;
}

const nameInfoLib = lazyLibrary(
  "ws2_32.dll",
  {
    GetNameInfoWNB: {
      name: "GetNameInfoW",
      parameters: ["pointer", "i32", "pointer", "u32", "pointer", "u32", "i32"],
      result: "i32",
      nonblocking: true,
    },
  } as const,
  { available: IS_WINDOWS, unsupported: "GetNameInfoW is Windows only: on this OS use ffi/unix" },
);

const EAI_NAMES = new Map(Object.entries(SOCK.EAI).map(([k, v]) => [v, k]));
const MAX_ENTRIES = 4096;
const NI_MAXHOST = 1025, NI_MAXSERV = 32;

/**
 * The error of a failed GetAddrInfoW/GetNameInfoW (`rc` its WSA code):
 * `NotFound` for EAI_NONAME and EAI_NODATA, else the class of the WSA code
 * (or `Error`); `code` the EAI name.
 *
 * @example
 * ```ts
 * import { gaiError } from "./addrinfo.ts";
 * const e = gaiError(11001, "getaddrinfo", "nowhere.invalid");
 * console.log(e instanceof Deno.errors.NotFound, e.code); // true "EAI_NONAME"
 * ```
 */
export function gaiError(rc: number, syscall: string, detail: string): AddrInfoError {
  const win = winError(rc, syscall, detail);
  const code = EAI_NAMES.get(rc) ?? win.code;
  const Ctor = code === "EAI_NONAME" || code === "EAI_NODATA"
    ? Deno.errors.NotFound
    : win.constructor as new (m: string) => Error;
  const text = code === win.code ? win.message : `${win.message}: ${code}`;
  const err = new Ctor(text) as AddrInfoError;
  err.code = code;
  err.errno = rc;
  err.syscall = syscall;
  return err;
}

const inFlight = new Set<Promise<number>>();

/**
 * Resolves once every lookup started so far has returned from the resolver
 * thread, even those nobody awaits any more.
 *
 * @example
 * ```ts
 * import { lookupsSettled } from "./addrinfo.ts";
 * await lookupsSettled();
 * ```
 */
export async function lookupsSettled(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

// Holds buffers past the off-thread call so the collector cannot free them early.
function keepAlive(..._: unknown[]): void {}

function wide(s: string, what: string): Uint8Array<ArrayBuffer> {
  if (s.includes("\0")) throw new TypeError(`${what} must not contain NUL: ${JSON.stringify(s)}`);
  return wideString(s);
}

function readWide(p: Deno.PointerValue): string {
  if (p === null) return "";
  const v = new Deno.UnsafePointerView(p);
  const units: number[] = [];
  for (let i = 0; i < 4096; i++) {
    const u = v.getUint16(i * 2);
    if (u === 0) break;
    units.push(u);
  }
  return String.fromCharCode(...units);
}

/**
 * `GetAddrInfoW(node, service, hints)` off the JS thread, and the walk of
 * its list: the IPv4 and IPv6 entries (at most 4096), decoded, in the
 * resolver's order; the list is always freed (`FreeAddrInfoW`). `host` and
 * `service` must not contain NUL (a `TypeError`); `detail` names the lookup
 * in error messages. Rejects with an {@linkcode AddrInfoError}.
 *
 * @example
 * ```ts
 * import { lookupAddrInfo } from "./addrinfo.ts";
 * import { SOCK } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const hints = { flags: SOCK.AI_NUMERICHOST, family: SOCK.AF_INET, socktype: SOCK.SOCK_STREAM, protocol: 0 };
 *   const [entry] = await lookupAddrInfo("127.0.0.1", "80", hints, "127.0.0.1, 80");
 *   console.log(entry.address); // { transport: "tcp", hostname: "127.0.0.1", port: 80 }
 * }
 * ```
 */
export function lookupAddrInfo(
  host: string | null,
  service: string | null,
  hints: AddrInfoHints,
  detail: string,
): Promise<AddrInfoEntry[]> {
  const h = new Uint8Array(new ArrayBuffer(ADDRINFOW.SIZE));
  const hv = new DataView(h.buffer);
  hv.setInt32(ADDRINFOW.ai_flags, hints.flags, true);
  hv.setInt32(ADDRINFOW.ai_family, hints.family, true);
  hv.setInt32(ADDRINFOW.ai_socktype, hints.socktype, true);
  hv.setInt32(ADDRINFOW.ai_protocol, hints.protocol, true);
  const node = host === null ? null : wide(host, "host");
  const serv = service === null ? null : wide(service, "service");
  return resolve(node, serv, h, detail);
}

async function resolve(
  node: Uint8Array<ArrayBuffer> | null,
  serv: Uint8Array<ArrayBuffer> | null,
  hints: Uint8Array<ArrayBuffer>,
  detail: string,
): Promise<AddrInfoEntry[]> {
  const w = ws2_32();
  const res = new BigUint64Array(new ArrayBuffer(8));
  const call = w.GetAddrInfoWNB(
    node === null ? null : Deno.UnsafePointer.of(node),
    serv === null ? null : Deno.UnsafePointer.of(serv),
    Deno.UnsafePointer.of(hints),
    Deno.UnsafePointer.of(res),
  );
  inFlight.add(call);
  let rc: number;
  try {
    rc = await call;
  } finally {
    inFlight.delete(call);
  }
  keepAlive(node, serv, hints, res);
  const first = Deno.UnsafePointer.create(res[0]);
  try {
    if (rc !== 0) throw gaiError(rc, "getaddrinfo", detail);
    const out: AddrInfoEntry[] = [];
    const ai = new Uint8Array(ADDRINFOW.SIZE);
    const tmp = new Uint8Array(SOCKADDR_MAX);
    let p = first;
    for (let i = 0; p !== null && i < MAX_ENTRIES; i++) {
      new Deno.UnsafePointerView(p).copyInto(ai);
      const f = readAddrInfoW(ai, 0);
      p = Deno.UnsafePointer.create(f.next);
      if (f.addr === 0n || f.addrlen > SOCKADDR_MAX) continue;
      if (f.family !== SOCK.AF_INET && f.family !== SOCK.AF_INET6) continue;
      tmp.fill(0);
      new Deno.UnsafePointerView(Deno.UnsafePointer.create(f.addr)!).copyInto(
        tmp.subarray(0, f.addrlen),
      );
      const dgram = f.socktype === SOCK.SOCK_DGRAM;
      const address = decodeAddress(tmp, f.addrlen, dgram ? "dgram" : "stream");
      if (address === null || !("hostname" in address)) continue;
      out.push({
        family: f.family === SOCK.AF_INET ? "inet" : "inet6",
        socktype: f.socktype,
        // Windows leaves ai_protocol 0 when the hints do; glibc and macOS name it: do so too.
        protocol: f.protocol !== 0
          ? f.protocol
          : f.socktype === SOCK.SOCK_STREAM
          ? SOCK.IPPROTO_TCP
          : f.socktype === SOCK.SOCK_DGRAM
          ? SOCK.IPPROTO_UDP
          : 0,
        canonname: readWide(Deno.UnsafePointer.create(f.canonname)),
        address,
      });
    }
    return out;
  } finally {
    if (first !== null) w.FreeAddrInfoW(first);
  }
}

/**
 * `GetNameInfoW()` of `addr` (a numeric address of `family`; `"udp"`
 * encodes it as a datagram address) off the JS thread: `[host, service]`.
 * `flags` are `NI_*` flags in this OS's numbers; `detail` names the lookup
 * in error messages. Throws `TypeError`/`RangeError` for an address that
 * cannot be encoded; rejects with an {@linkcode AddrInfoError}.
 *
 * @example
 * ```ts
 * import { lookupNameInfo } from "./addrinfo.ts";
 * import { SOCK } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const addr = { transport: "tcp" as const, hostname: "127.0.0.1", port: 80 };
 *   const [, port] = await lookupNameInfo(addr, "inet", SOCK.NI_NUMERICSERV, "127.0.0.1, 80");
 *   console.log(port); // "80"
 * }
 * ```
 */
export function lookupNameInfo(
  addr: NetAddress,
  family: "inet" | "inet6",
  flags: number,
  detail: string,
): Promise<[string, string]> {
  const sa = new Uint8Array(new ArrayBuffer(SOCKADDR_MAX));
  const len = encodeAddress(
    addr,
    family,
    addr.transport === "udp" ? "dgram" : "stream",
    sa,
    "getnameinfo()",
  );
  return nameinfo(sa, len, flags, detail);
}

async function nameinfo(
  sa: Uint8Array<ArrayBuffer>,
  len: number,
  flags: number,
  detail: string,
): Promise<[string, string]> {
  ws2_32(); // Winsock started
  const host = new Uint16Array(new ArrayBuffer(NI_MAXHOST * 2));
  const serv = new Uint16Array(new ArrayBuffer(NI_MAXSERV * 2));
  const rc = await nameInfoLib().GetNameInfoWNB(
    Deno.UnsafePointer.of(sa),
    len,
    Deno.UnsafePointer.of(host),
    NI_MAXHOST,
    Deno.UnsafePointer.of(serv),
    NI_MAXSERV,
    flags,
  );
  keepAlive(sa, host, serv);
  if (rc !== 0) throw gaiError(rc, "getnameinfo", detail);
  return [units(host), units(serv)];
}

function units(a: Uint16Array): string {
  const end = a.indexOf(0);
  return String.fromCharCode(...a.subarray(0, end < 0 ? a.length : end));
}
