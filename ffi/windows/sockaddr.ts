/**
 * `SOCKADDR_IN` and `SOCKADDR_IN6` (ws2def.h, ws2ipdef.h) to and from the
 * seam's Deno-shaped addresses (`{ transport, hostname, port }`), the same
 * objects as `../unix/sockaddr.ts` makes. Windows's layout is Linux's with
 * `AF_INET6` = 23: a u16 family at 0, the port (big-endian) at 2; IPv4 at
 * 4 (16 bytes in all), IPv6 flowinfo (big-endian) at 4, the address at 8,
 * the scope id at 24 (28 bytes in all). There is no AF_UNIX here: a unix
 * address is refused with `Deno.errors.NotSupported` naming AF_UNIX.
 * Hostnames must be numeric (resolve names with `lookupAddrInfo`); an IPv6
 * literal may carry a `%scope` suffix, numeric or an interface name.
 *
 * @module
 */
import { describe } from "../os_error.ts";
import { ifNameToIndex } from "./socket.ts";

/**
 * A socket's address family (`"unix"` exists in the type only: Windows refuses it).
 *
 * @example
 * ```ts
 * import type { SocketFamily } from "./sockaddr.ts";
 * const f: SocketFamily = "inet6";
 * console.log(f); // "inet6"
 * ```
 */
export type SocketFamily = "inet" | "inet6" | "unix";
/**
 * A socket's type.
 *
 * @example
 * ```ts
 * import type { SocketType } from "./sockaddr.ts";
 * const t: SocketType = "dgram";
 * console.log(t); // "dgram"
 * ```
 */
export type SocketType = "stream" | "dgram" | "seqpacket";

/**
 * An IP address and port, shaped like `Deno.NetAddr`.
 *
 * @example
 * ```ts
 * import type { NetAddress } from "./sockaddr.ts";
 * const a: NetAddress = { transport: "udp", hostname: "::1", port: 53 };
 * console.log(a.port); // 53
 * ```
 */
export interface NetAddress {
  /** `"tcp"` for stream sockets, `"udp"` for datagram sockets. */
  transport: "tcp" | "udp";
  /** A numeric IPv4 or IPv6 address; IPv6 may end in `%scope` (`"fe80::1%2"`). */
  hostname: string;
  /** The port, 0 to 65535. */
  port: number;
  /** IPv6 flow information; present in decoded addresses only when not 0. */
  flowinfo?: number;
}

/**
 * A unix-domain socket address, shaped like `Deno.UnixAddr` (never made on Windows).
 *
 * @example
 * ```ts
 * import type { UnixAddress } from "./sockaddr.ts";
 * const a: UnixAddress = { transport: "unix", path: "C:\\x.sock" };
 * console.log(a.transport); // "unix"
 * ```
 */
export interface UnixAddress {
  /** `"unixpacket"` for `SOCK_SEQPACKET`, `"unix"` for stream and datagram sockets. */
  transport: "unix" | "unixpacket";
  /** A filesystem path. */
  path: string;
}

/**
 * Any socket address.
 *
 * @example
 * ```ts
 * import type { Address } from "./sockaddr.ts";
 * const a: Address = { transport: "tcp", hostname: "127.0.0.1", port: 80 };
 * console.log("hostname" in a); // true
 * ```
 */
export type Address = NetAddress | UnixAddress;

/**
 * The sockaddr layout facts the seam shares with Unix.
 *
 * @example
 * ```ts
 * import { HOST_LAYOUT, type SockaddrLayout } from "./sockaddr.ts";
 * const l: SockaddrLayout = HOST_LAYOUT;
 * console.log(l.bsd); // false
 * ```
 */
export interface SockaddrLayout {
  /** BSD layout (a length byte, then a one-byte family): never on Windows. */
  bsd: boolean;
  /** `AF_INET6` of the OS: 23 on Windows. */
  afInet6: number;
  /** The size of `sun_path` (afunix.h: 108; unused, AF_UNIX is refused). */
  sunPathSize: number;
  /** Whether abstract unix names exist: no. */
  abstract: boolean;
}

/**
 * The Windows sockaddr layout.
 *
 * @example
 * ```ts
 * import { HOST_LAYOUT } from "./sockaddr.ts";
 * console.log(HOST_LAYOUT.afInet6); // 23
 * ```
 */
export const HOST_LAYOUT: Readonly<SockaddrLayout> = Object.freeze({
  bsd: false,
  afInet6: 23,
  sunPathSize: 108,
  abstract: false,
});

/**
 * `AF_INET`; `AF_UNIX` (afunix.h's 1) is only recognised to be refused.
 *
 * @example
 * ```ts
 * import { AF_INET, AF_UNIX } from "./sockaddr.ts";
 * console.log(AF_INET, AF_UNIX); // 2 1
 * ```
 */
export const AF_UNIX = 1, AF_INET = 2;
/**
 * A buffer size that holds any socket address of the supported families (SOCKADDR_STORAGE).
 *
 * @example
 * ```ts
 * import { SOCKADDR_MAX } from "./sockaddr.ts";
 * console.log(SOCKADDR_MAX); // 128
 * ```
 */
export const SOCKADDR_MAX = 128;
/**
 * `sizeof(SOCKADDR_IN)`, `sizeof(SOCKADDR_IN6)`.
 *
 * @example
 * ```ts
 * import { SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE } from "./sockaddr.ts";
 * console.log(SOCKADDR_IN_SIZE, SOCKADDR_IN6_SIZE); // 16 28
 * ```
 */
export const SOCKADDR_IN_SIZE = 16, SOCKADDR_IN6_SIZE = 28;

/**
 * The message for a unix address or socket on Windows.
 *
 * @example
 * ```ts
 * import { NO_AF_UNIX } from "./sockaddr.ts";
 * console.log(NO_AF_UNIX.includes("AF_UNIX")); // true
 * ```
 */
export const NO_AF_UNIX: string =
  "AF_UNIX sockets (unix addresses) are not supported on Windows by @aio/loop: use an inet " +
  "or inet6 socket over loopback";

// ---- numeric IP literals ----------------------------------------------------

const V4_PART = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * Parses dotted-quad `s` into 4 bytes at `out[off]`; false when `s` is not one.
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "./sockaddr.ts";
 * const b = new Uint8Array(4);
 * console.log(parseIPv4("127.0.0.1", b), b[0]); // true 127
 * ```
 */
export function parseIPv4(s: string, out: Uint8Array, off = 0): boolean {
  if (s.length < 7 || s.length > 15) return false;
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (const p of parts) if (!V4_PART.test(p) || Number(p) > 255) return false;
  for (let i = 0; i < 4; i++) out[off + i] = Number(parts[i]);
  return true;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const v4tmp = new Uint8Array(4);

function groups(part: string, v4Last: boolean): number[] | null {
  if (part === "") return [];
  const pieces = part.split(":");
  const out: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if (HEX_GROUP.test(p)) out.push(parseInt(p, 16));
    else if (v4Last && i === pieces.length - 1 && parseIPv4(p, v4tmp)) {
      out.push(v4tmp[0] << 8 | v4tmp[1], v4tmp[2] << 8 | v4tmp[3]);
    } else return null;
  }
  return out;
}

/**
 * Parses IPv6 literal `s` (no scope) into 16 bytes at `out[off]`; false when invalid.
 *
 * @example
 * ```ts
 * import { parseIPv6 } from "./sockaddr.ts";
 * const b = new Uint8Array(16);
 * console.log(parseIPv6("::1", b), b[15]); // true 1
 * ```
 */
export function parseIPv6(s: string, out: Uint8Array, off = 0): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const dbl = s.indexOf("::");
  if (dbl !== -1 && s.indexOf("::", dbl + 1) !== -1) return false;
  let g: number[];
  if (dbl === -1) {
    const all = groups(s, true);
    if (all === null || all.length !== 8) return false;
    g = all;
  } else {
    const head = groups(s.slice(0, dbl), false);
    const tail = groups(s.slice(dbl + 2), true);
    if (head === null || tail === null || head.length + tail.length > 7) return false;
    g = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  }
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = g[i] >> 8;
    out[off + 2 * i + 1] = g[i] & 0xff;
  }
  return true;
}

/**
 * The dotted-quad text of the 4 bytes at `b[off]`.
 *
 * @example
 * ```ts
 * import { formatIPv4 } from "./sockaddr.ts";
 * console.log(formatIPv4(new Uint8Array([10, 0, 0, 1]))); // "10.0.0.1"
 * ```
 */
export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * The RFC 5952 text of the 16 bytes at `b[off]` (IPv4-mapped shown dotted).
 *
 * @example
 * ```ts
 * import { formatIPv6 } from "./sockaddr.ts";
 * const b = new Uint8Array(16);
 * b[15] = 1;
 * console.log(formatIPv6(b)); // "::1"
 * ```
 */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b[off + 2 * i] << 8 | b[off + 2 * i + 1]);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  // The longest run of two or more zero groups, the first one on a tie.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best === -1) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/**
 * `"inet"` or `"inet6"` when `hostname` is a numeric IP literal (IPv6 may carry `%scope`).
 *
 * @example
 * ```ts
 * import { ipFamily } from "./sockaddr.ts";
 * console.log(ipFamily("::1"), ipFamily("localhost")); // "inet6" null
 * ```
 */
export function ipFamily(hostname: string): "inet" | "inet6" | null {
  const tmp = new Uint8Array(16);
  if (parseIPv4(hostname, tmp)) return "inet";
  const pct = hostname.indexOf("%");
  return parseIPv6(pct === -1 ? hostname : hostname.slice(0, pct), tmp) ? "inet6" : null;
}

// ---- encoding ---------------------------------------------------------------

function header(buf: Uint8Array, family: number, len: number, layout: SockaddrLayout): void {
  if (layout.bsd) {
    buf[0] = len;
    buf[1] = family;
  } else {
    buf[0] = family & 0xff;
    buf[1] = family >> 8;
  }
}

function scopeId(scope: string, what: string, layout: SockaddrLayout): number {
  if (/^[0-9]{1,10}$/.test(scope)) {
    const n = Number(scope);
    if (n <= 0xffffffff) return n;
  } else if (layout === HOST_LAYOUT && /^[A-Za-z0-9_.:-]{1,15}$/.test(scope)) {
    const n = ifNameToIndex(scope);
    if (n !== 0) return n;
    throw new TypeError(`${what}: no network interface named ${JSON.stringify(scope)}`);
  }
  throw new TypeError(`${what}: invalid IPv6 scope ${JSON.stringify(scope)}`);
}

function checkPort(port: unknown, what: string): number {
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(`${what}: port must be an integer, got ${describe(port)}`);
  }
  if (port < 0 || port > 65535) {
    throw new RangeError(`${what}: port must be between 0 and 65535, got ${port}`);
  }
  return port;
}

/**
 * Writes `hostname`/`port` as a `sockaddr_in` or `sockaddr_in6` of `family`
 * into `buf` (at least {@linkcode SOCKADDR_MAX} bytes) and returns its length.
 *
 * @example
 * ```ts
 * import { encodeInet, SOCKADDR_MAX } from "./sockaddr.ts";
 * const buf = new Uint8Array(SOCKADDR_MAX);
 * console.log(encodeInet(buf, "inet6", "::1", 80, "example"), buf[0]); // 28 23
 * ```
 */
export function encodeInet(
  buf: Uint8Array,
  family: "inet" | "inet6",
  hostname: unknown,
  port: unknown,
  what: string,
  flowinfo: unknown = 0,
  layout: SockaddrLayout = HOST_LAYOUT,
): number {
  if (typeof hostname !== "string") {
    throw new TypeError(`${what}: hostname must be a string, got ${describe(hostname)}`);
  }
  checkPort(port, what);
  if (
    typeof flowinfo !== "number" || !Number.isInteger(flowinfo) || flowinfo < 0 ||
    flowinfo > 0xfffff
  ) {
    throw new RangeError(`${what}: flowinfo must be an integer from 0 to 0xfffff`);
  }
  buf.fill(0, 0, SOCKADDR_IN6_SIZE);
  const p = port as number;
  if (family === "inet") {
    if (!parseIPv4(hostname, buf, 4)) {
      const hint = ipFamily(hostname) === "inet6"
        ? "it is an IPv6 address; use an inet6 socket"
        : "resolve names with getaddrinfo() first";
      throw new TypeError(
        `${what}: hostname must be a numeric IPv4 address for an inet socket, got ${
          describe(hostname)
        } (${hint})`,
      );
    }
    header(buf, AF_INET, SOCKADDR_IN_SIZE, layout);
    buf[2] = p >> 8;
    buf[3] = p & 0xff;
    return SOCKADDR_IN_SIZE;
  }
  const pct = hostname.indexOf("%");
  const literal = pct === -1 ? hostname : hostname.slice(0, pct);
  if (!parseIPv6(literal, buf, 8)) {
    const hint = parseIPv4(hostname, v4tmp)
      ? `it is an IPv4 address; use an inet socket or "::ffff:${hostname}"`
      : "resolve names with getaddrinfo() first";
    throw new TypeError(
      `${what}: hostname must be a numeric IPv6 address for an inet6 socket, got ${
        describe(hostname)
      } (${hint})`,
    );
  }
  const scope = pct === -1 ? 0 : scopeId(hostname.slice(pct + 1), what, layout);
  header(buf, layout.afInet6, SOCKADDR_IN6_SIZE, layout);
  buf[2] = p >> 8;
  buf[3] = p & 0xff;
  new DataView(buf.buffer, buf.byteOffset).setUint32(4, flowinfo, false);
  new DataView(buf.buffer, buf.byteOffset).setUint32(24, scope, true);
  return SOCKADDR_IN6_SIZE;
}

/**
 * Validates `addr` for a socket of `family` and `type` and writes it into
 * `buf`; returns the sockaddr length. `what` names the caller in errors.
 * Inet sockets want `"tcp"` (stream) or `"udp"` (dgram); unix sockets accept
 * `"unix"` or `"unixpacket"` (Deno calls unix datagram sockets `"unixpacket"`).
 *
 * @example
 * ```ts
 * import { encodeAddress, SOCKADDR_MAX } from "./sockaddr.ts";
 * const buf = new Uint8Array(SOCKADDR_MAX);
 * const len = encodeAddress({ transport: "tcp", hostname: "127.0.0.1", port: 8080 }, "inet", "stream", buf, "example");
 * console.log(len, buf[2], buf[3]); // 16 31 144
 * ```
 */
export function encodeAddress(
  addr: unknown,
  family: SocketFamily,
  type: SocketType,
  buf: Uint8Array,
  what: string,
  layout: SockaddrLayout = HOST_LAYOUT,
): number {
  if (addr === null || typeof addr !== "object") {
    throw new TypeError(`${what}: address must be an object, got ${describe(addr)}`);
  }
  const a = addr as Record<string, unknown>;
  const t = a.transport;
  if (family === "unix") {
    throw new Deno.errors.NotSupported(`${what}: ${NO_AF_UNIX}`);
  }
  const want = type === "dgram" ? "udp" : "tcp";
  if (t !== want) {
    throw new TypeError(
      `${what}: a ${family} ${type} socket wants { transport: "${want}", hostname, port }, ` +
        `got transport ${describe(t)}`,
    );
  }
  return encodeInet(buf, family, a.hostname, a.port, what, a.flowinfo ?? 0, layout);
}

// ---- decoding ---------------------------------------------------------------

/**
 * The address family number in the sockaddr at `buf`.
 *
 * @example
 * ```ts
 * import { encodeAddress, familyOf, SOCKADDR_MAX } from "./sockaddr.ts";
 * const buf = new Uint8Array(SOCKADDR_MAX);
 * encodeAddress({ transport: "udp", hostname: "::1", port: 53 }, "inet6", "dgram", buf, "example");
 * console.log(familyOf(buf)); // 23
 * ```
 */
export function familyOf(buf: Uint8Array, layout: SockaddrLayout = HOST_LAYOUT): number {
  return layout.bsd ? buf[1] : buf[0] | buf[1] << 8;
}

/**
 * The Deno-shaped address of the `len`-byte sockaddr in `buf`, for a socket
 * of `type`; `null` when it holds no family (as recvfrom reports for a
 * connected stream socket). A unix sockaddr without a path gives `path: ""`.
 *
 * @example
 * ```ts
 * import { decodeAddress } from "./sockaddr.ts";
 * const buf = new Uint8Array([2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
 * console.log(decodeAddress(buf, 16, "stream")); // { transport: "tcp", hostname: "127.0.0.1", port: 80 }
 * ```
 */
export function decodeAddress(
  buf: Uint8Array,
  len: number,
  type: SocketType,
  layout: SockaddrLayout = HOST_LAYOUT,
): Address | null {
  if (len < 2) return null;
  const family = familyOf(buf, layout);
  if (family === AF_INET && len >= SOCKADDR_IN_SIZE) {
    return {
      transport: type === "dgram" ? "udp" : "tcp",
      hostname: formatIPv4(buf, 4),
      port: buf[2] << 8 | buf[3],
    };
  }
  if (family === layout.afInet6 && len >= SOCKADDR_IN6_SIZE) {
    const dv = new DataView(buf.buffer, buf.byteOffset);
    const scope = dv.getUint32(24, true);
    const flowinfo = dv.getUint32(4, false);
    const out: NetAddress = {
      transport: type === "dgram" ? "udp" : "tcp",
      hostname: scope === 0 ? formatIPv6(buf, 8) : `${formatIPv6(buf, 8)}%${scope}`,
      port: buf[2] << 8 | buf[3],
    };
    if (flowinfo !== 0) out.flowinfo = flowinfo;
    return out;
  }
  if (family === AF_UNIX) throw new Deno.errors.NotSupported(NO_AF_UNIX);
  throw new Deno.errors.NotSupported(
    `unsupported address family ${family} (${len} bytes); only inet and inet6 are decoded on Windows`,
  );
}

/**
 * A short text of `addr` for messages: `127.0.0.1:80`, `[::1]:80`, a path.
 *
 * @example
 * ```ts
 * import { addressToString } from "./sockaddr.ts";
 * console.log(addressToString({ transport: "tcp", hostname: "::1", port: 80 })); // "[::1]:80"
 * ```
 */
export function addressToString(addr: Address): string {
  if ("path" in addr) return JSON.stringify(addr.path);
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
