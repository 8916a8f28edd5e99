/**
 * What the sockaddr code of every OS family shares: the address types, numeric
 * IP literals in and out, and `sockaddr_in`/`sockaddr_in6` encoded and decoded
 * for a given layout (the header and `AF_INET6` differ: Linux, BSD, Windows).
 * Pure data: no OS call; an IPv6 scope given as an interface name is resolved
 * by the caller's `nameToIndex`.
 *
 * @module
 */
import { describe } from "./os_error.ts";

/** A socket's address family. */
export type SocketFamily = "inet" | "inet6" | "unix";
/** A socket's type. */
export type SocketType = "stream" | "dgram" | "seqpacket";

/** An IP address and port, shaped like `Deno.NetAddr`. */
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

/** A unix-domain socket address, shaped like `Deno.UnixAddr`. */
export interface UnixAddress {
  /** `"unixpacket"` for `SOCK_SEQPACKET`, `"unix"` for stream and datagram sockets. */
  transport: "unix" | "unixpacket";
  /** A filesystem path, `""` when unnamed, or a Linux abstract name starting with `"\0"`. */
  path: string;
}

/** Any socket address. */
export type Address = NetAddress | UnixAddress;

/** What differs between the Linux and BSD (macOS) sockaddr layouts. */
export interface SockaddrLayout {
  /** BSD layout: a length byte, then a one-byte family. */
  bsd: boolean;
  /** `AF_INET6` of the OS. */
  afInet6: number;
  /** The size of `sun_path`. */
  sunPathSize: number;
  /** Whether abstract unix names exist. */
  abstract: boolean;
}

/** `AF_INET` (2 on Linux, macOS and Windows). */
export const AF_INET = 2;
/** A buffer size that holds any sockaddr of these families. */
export const SOCKADDR_MAX = 128;
/** `sizeof(struct sockaddr_in)` and `sizeof(struct sockaddr_in6)`. */
export const SOCKADDR_IN_SIZE = 16, SOCKADDR_IN6_SIZE = 28;

// ---- numeric IP literals ----------------------------------------------------

const V4_PART = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * Parses dotted-quad `s` into 4 bytes at `out[off]`; false when `s` is not one.
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "./_sockaddr_inet.ts";
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
 * import { parseIPv6 } from "./_sockaddr_inet.ts";
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
 * import { formatIPv4 } from "./_sockaddr_inet.ts";
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
 * import { formatIPv6 } from "./_sockaddr_inet.ts";
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
 * import { ipFamily } from "./_sockaddr_inet.ts";
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

/** Writes the sockaddr header (family, and the length byte of the BSD layout). */
export function writeHeader(
  buf: Uint8Array,
  family: number,
  len: number,
  layout: SockaddrLayout,
): void {
  if (layout.bsd) {
    buf[0] = len;
    buf[1] = family;
  } else {
    buf[0] = family & 0xff;
    buf[1] = family >> 8;
  }
}

/** Resolves an interface name to its index (0: no such interface), or `null` where names are not looked up. */
export type NameToIndex = ((name: string) => number) | null;

function scopeId(scope: string, what: string, nameToIndex: NameToIndex): number {
  if (/^[0-9]{1,10}$/.test(scope)) {
    const n = Number(scope);
    if (n <= 0xffffffff) return n;
  } else if (nameToIndex !== null && /^[A-Za-z0-9_.:-]{1,15}$/.test(scope)) {
    const n = nameToIndex(scope);
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
 * in `layout` into `buf` (at least {@linkcode SOCKADDR_MAX} bytes) and
 * returns its length.
 */
export function encodeInetWith(
  buf: Uint8Array,
  family: "inet" | "inet6",
  hostname: unknown,
  port: unknown,
  what: string,
  flowinfo: unknown,
  layout: SockaddrLayout,
  nameToIndex: NameToIndex,
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
    writeHeader(buf, AF_INET, SOCKADDR_IN_SIZE, layout);
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
  const scope = pct === -1 ? 0 : scopeId(hostname.slice(pct + 1), what, nameToIndex);
  writeHeader(buf, layout.afInet6, SOCKADDR_IN6_SIZE, layout);
  buf[2] = p >> 8;
  buf[3] = p & 0xff;
  new DataView(buf.buffer, buf.byteOffset).setUint32(4, flowinfo, false);
  new DataView(buf.buffer, buf.byteOffset).setUint32(24, scope, true);
  return SOCKADDR_IN6_SIZE;
}

/**
 * Checks an inet address object for a socket of `family` and `type` (`"tcp"`
 * for stream, `"udp"` for dgram) and encodes it; returns the sockaddr length.
 */
export function encodeNetAddress(
  a: Record<string, unknown>,
  family: "inet" | "inet6",
  type: SocketType,
  buf: Uint8Array,
  what: string,
  layout: SockaddrLayout,
  nameToIndex: NameToIndex,
): number {
  const want = type === "dgram" ? "udp" : "tcp";
  if (a.transport !== want) {
    throw new TypeError(
      `${what}: a ${family} ${type} socket wants { transport: "${want}", hostname, port }, ` +
        `got transport ${describe(a.transport)}`,
    );
  }
  return encodeInetWith(
    buf,
    family,
    a.hostname,
    a.port,
    what,
    a.flowinfo ?? 0,
    layout,
    nameToIndex,
  );
}

// ---- decoding ---------------------------------------------------------------

/** The address family number in the sockaddr at `buf`. */
export function familyOf(buf: Uint8Array, layout: SockaddrLayout): number {
  return layout.bsd ? buf[1] : buf[0] | buf[1] << 8;
}

/**
 * The inet or inet6 address of the `len`-byte sockaddr in `buf` for a socket
 * of `type`, or `null` when it holds another family.
 */
export function decodeNetAddress(
  buf: Uint8Array,
  len: number,
  type: SocketType,
  layout: SockaddrLayout,
): NetAddress | null {
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
  return null;
}

/** A short text of `addr` for messages: `127.0.0.1:80`, `[::1]:80`, a path. */
export function addressToString(addr: Address): string {
  if ("path" in addr) return JSON.stringify(addr.path);
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
