/**
 * `getaddrinfo` and `getnameinfo` through libc, run off the JavaScript
 * thread (`nonblocking`) so that `/etc/hosts`, nsswitch and DNS are
 * consulted without blocking the loop; and the walk of the `struct
 * addrinfo` list the resolver returns (every pointer stays in this file).
 *
 * Errors: `EAI_NONAME`/`EAI_NODATA` reject with `Deno.errors.NotFound`, other
 * `EAI_*` codes with an `Error`; both carry `code` (`"EAI_NONAME"`), `errno`
 * (the EAI number of this OS) and the `gai_strerror` text. `EAI_SYSTEM` comes
 * without its errno: the call ran on another thread, whose errno is not ours.
 *
 * @module
 */
import {
  decodeAddress,
  encodeAddress,
  HOST_LAYOUT,
  type NetAddress,
  SOCKADDR_MAX,
} from "./sockaddr.ts";
import { cString, gaiStrerror, SOCK, sock } from "./socket.ts";

/** An error from getaddrinfo or getnameinfo. */
export interface AddrInfoError extends Error {
  /** The EAI name, such as `"EAI_NONAME"`. */
  code: string;
  /** The EAI number on this OS. */
  errno: number;
  /** `"getaddrinfo"` or `"getnameinfo"`. */
  syscall: string;
}

/** The `hints` of a lookup, in this OS's numbers (`SOCK.AF_*`, `SOCK.SOCK_*`, `SOCK.AI_*`). */
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

/** One entry of the resolver's list (IPv4 and IPv6 entries only). */
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

const EAI_NAMES = new Map(Object.entries(SOCK.EAI).map(([k, v]) => [v, k]));
const MAX_ENTRIES = 4096;
const NI_MAXHOST = 1025, NI_MAXSERV = 32;

function gaiError(rc: number, syscall: string, detail: string): AddrInfoError {
  const code = EAI_NAMES.get(rc) ?? `EAI_${rc}`;
  const text = code === "EAI_SYSTEM"
    ? "system error (its errno stayed on the resolver thread)"
    : gaiStrerror(rc);
  const Ctor = code === "EAI_NONAME" || code === "EAI_NODATA" ? Deno.errors.NotFound : Error;
  const err = new Ctor(`${syscall}(${detail}) failed: ${text} (${code})`) as AddrInfoError;
  err.code = code;
  err.errno = rc;
  err.syscall = syscall;
  return err;
}

// The resolver calls still running: a caller that stopped waiting (a cancelled
// createConnection) leaves one behind, holding the resolver's fds until it returns.
const inFlight = new Set<Promise<number>>();

/**
 * Resolves once every lookup started so far has returned from the resolver
 * thread, even those nobody awaits any more. For fd-leak checks.
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

/**
 * `getaddrinfo(node, service, hints)` off the JS thread, and the walk of its
 * list: the IPv4 and IPv6 entries (at most 4096), decoded, in the resolver's
 * order; the list is always freed. `host` and `service` must not contain NUL
 * (a `TypeError`); `detail` names the lookup in error messages. Rejects with
 * an {@linkcode AddrInfoError}.
 *
 * @example
 * ```ts
 * import { lookupAddrInfo } from "./addrinfo.ts";
 * import { SOCK } from "./socket.ts";
 * const hints = { flags: SOCK.AI_NUMERICHOST, family: SOCK.AF_INET, socktype: SOCK.SOCK_STREAM, protocol: 0 };
 * const [entry] = await lookupAddrInfo("127.0.0.1", "80", hints, "127.0.0.1, 80");
 * console.log(entry.address); // { transport: "tcp", hostname: "127.0.0.1", port: 80 }
 * ```
 */
export function lookupAddrInfo(
  host: string | null,
  service: string | null,
  hints: AddrInfoHints,
  detail: string,
): Promise<AddrInfoEntry[]> {
  // Off-heap copies: the resolver thread reads them after this function returns.
  const h = new Uint8Array(new ArrayBuffer(SOCK.ADDRINFO_SIZE));
  const hv = new DataView(h.buffer);
  hv.setInt32(0, hints.flags, true);
  hv.setInt32(4, hints.family, true);
  hv.setInt32(8, hints.socktype, true);
  hv.setInt32(12, hints.protocol, true);
  const node = host === null ? null : cString(host);
  const serv = service === null ? null : cString(service);
  return resolve(node, serv, h, detail);
}

async function resolve(
  node: Uint8Array | null,
  serv: Uint8Array | null,
  hints: Uint8Array,
  detail: string,
): Promise<AddrInfoEntry[]> {
  const s = sock();
  const res = new BigUint64Array(new ArrayBuffer(8));
  const call = s.getaddrinfo(node, serv, hints, res);
  inFlight.add(call);
  let rc: number;
  try {
    rc = await call;
  } finally {
    inFlight.delete(call);
  }
  keepAlive(node, serv, hints);
  const first = Deno.UnsafePointer.create(res[0]);
  try {
    if (rc !== 0) throw gaiError(rc, "getaddrinfo", detail);
    const out: AddrInfoEntry[] = [];
    const tmp = new Uint8Array(SOCKADDR_MAX);
    let p = first;
    for (let i = 0; p !== null && i < MAX_ENTRIES; i++) {
      const v = new Deno.UnsafePointerView(p);
      const family = v.getInt32(4);
      const socktype = v.getInt32(8);
      const protocol = v.getInt32(12);
      const addrlen = v.getUint32(16);
      const addrP = v.getPointer(SOCK.AI_ADDR_OFFSET);
      const canonP = v.getPointer(SOCK.AI_CANONNAME_OFFSET);
      p = v.getPointer(SOCK.AI_NEXT_OFFSET);
      if (addrP === null || addrlen > SOCKADDR_MAX) continue;
      if (family !== SOCK.AF_INET && family !== SOCK.AF_INET6) continue;
      tmp.fill(0);
      new Deno.UnsafePointerView(addrP).copyInto(tmp.subarray(0, addrlen));
      const dgram = socktype === SOCK.SOCK_DGRAM;
      const address = decodeAddress(tmp, addrlen, dgram ? "dgram" : "stream");
      if (address === null || !("hostname" in address)) continue;
      out.push({
        family: family === SOCK.AF_INET ? "inet" : "inet6",
        socktype,
        protocol,
        canonname: canonP === null ? "" : Deno.UnsafePointerView.getCString(canonP),
        address,
      });
    }
    return out;
  } finally {
    if (first !== null) s.freeaddrinfo(first);
  }
}

/**
 * `getnameinfo()` of `addr` (a numeric address of `family`; `"udp"` encodes
 * it as a datagram address) off the JS thread: `[host, service]`. `flags`
 * are `NI_*` flags in this OS's numbers; `detail` names the lookup in error
 * messages. Throws `TypeError`/`RangeError` for an address that cannot be
 * encoded; rejects with an {@linkcode AddrInfoError}.
 *
 * @example
 * ```ts
 * import { lookupNameInfo } from "./addrinfo.ts";
 * import { SOCK } from "./socket.ts";
 * const addr = { transport: "tcp" as const, hostname: "127.0.0.1", port: 80 };
 * const [, port] = await lookupNameInfo(addr, "inet", SOCK.NI_NUMERICSERV, "127.0.0.1, 80");
 * console.log(port); // "80"
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
    HOST_LAYOUT,
  );
  return nameinfo(sa, len, flags, detail);
}

async function nameinfo(
  sa: Uint8Array,
  len: number,
  flags: number,
  detail: string,
): Promise<[string, string]> {
  const host = new Uint8Array(new ArrayBuffer(NI_MAXHOST));
  const serv = new Uint8Array(new ArrayBuffer(NI_MAXSERV));
  const rc = await sock().getnameinfo(sa, len, host, NI_MAXHOST, serv, NI_MAXSERV, flags);
  keepAlive(sa);
  if (rc !== 0) throw gaiError(rc, "getnameinfo", detail);
  return [cText(host), cText(serv)];
}

function cText(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 ? b.length : end));
}
