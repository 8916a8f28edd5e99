/**
 * `struct sockaddr_in`, `sockaddr_in6` and `sockaddr_un` to and from
 * Deno-shaped addresses (`{ transport, hostname, port }`, `{ transport, path }`).
 *
 * Layouts (all integers little-endian host order unless noted):
 *
 * | struct         | Linux                                   | macOS                                      |
 * |----------------|-----------------------------------------|--------------------------------------------|
 * | header         | u16 family at 0                         | u8 length at 0, u8 family at 1             |
 * | `sockaddr_in`  | 16 bytes: port (big-endian) at 2, address at 4, 8 zero bytes | same             |
 * | `sockaddr_in6` | 28 bytes: port (BE) at 2, flowinfo (BE) at 4, address at 8, scope id at 24 | same |
 * | `sockaddr_un`  | 110 bytes: path at 2 (108 bytes)        | 106 bytes: path at 2 (104 bytes)           |
 *
 * Linux abstract unix names start with a NUL byte; they are shown to users as
 * a path beginning with `"\0"`. Hostnames must be numeric here (use
 * `getaddrinfo` to resolve names); an IPv6 literal may carry a `%scope`
 * suffix, numeric or an interface name.
 *
 * @module
 */
import { describe } from "../os_error.ts";
import { DARWIN } from "./_abi.ts";
import { ifNameToIndex } from "./socket.ts";
import {
  type Address,
  decodeNetAddress,
  encodeInetWith,
  encodeNetAddress,
  familyOf as familyAt,
  type NameToIndex,
  type SockaddrLayout,
  type SocketFamily,
  type SocketType,
  writeHeader,
} from "../_sockaddr_inet.ts";

export type {
  Address,
  NetAddress,
  SockaddrLayout,
  SocketFamily,
  SocketType,
  UnixAddress,
} from "../_sockaddr_inet.ts";
export {
  addressToString,
  formatIPv4,
  formatIPv6,
  ipFamily,
  parseIPv4,
  parseIPv6,
  SOCKADDR_IN6_SIZE,
  SOCKADDR_IN_SIZE,
  SOCKADDR_MAX,
} from "../_sockaddr_inet.ts";

/** The Linux sockaddr layout. */
export const LINUX_LAYOUT: Readonly<SockaddrLayout> = {
  bsd: false,
  afInet6: 10,
  sunPathSize: 108,
  abstract: true,
};
/** The macOS sockaddr layout. */
export const DARWIN_LAYOUT: Readonly<SockaddrLayout> = {
  bsd: true,
  afInet6: 30,
  sunPathSize: 104,
  abstract: false,
};
/** The layout of the running OS. */
export const HOST_LAYOUT: Readonly<SockaddrLayout> = DARWIN ? DARWIN_LAYOUT : LINUX_LAYOUT;

/** `AF_UNIX` and `AF_INET` (the same on Linux and macOS). */
export const AF_UNIX = 1, AF_INET = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---- encoding ---------------------------------------------------------------

// An interface name in an IPv6 scope is looked up only for this OS's own layout.
const namesFor = (layout: SockaddrLayout): NameToIndex =>
  layout === HOST_LAYOUT ? ifNameToIndex : null;

/**
 * Writes `hostname`/`port` as a `sockaddr_in` or `sockaddr_in6` of `family`
 * into `buf` (at least {@linkcode SOCKADDR_MAX} bytes) and returns its length.
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
  return encodeInetWith(buf, family, hostname, port, what, flowinfo, layout, namesFor(layout));
}

/**
 * Writes `path` as a `sockaddr_un` into `buf` and returns its length: the
 * header, the path and its NUL when it fits; an abstract name (`"\0..."`,
 * Linux) without a NUL; `""` as the bare header (Linux autobind).
 */
export function encodeUnix(
  buf: Uint8Array,
  path: unknown,
  what: string,
  layout: SockaddrLayout = HOST_LAYOUT,
): number {
  if (typeof path !== "string") {
    throw new TypeError(`${what}: path must be a string, got ${describe(path)}`);
  }
  const bytes = encoder.encode(path);
  const abstract = bytes.length > 0 && bytes[0] === 0;
  if (abstract && !layout.abstract) {
    throw new TypeError(`${what}: abstract unix socket names ("\\0...") exist only on Linux`);
  }
  if (!abstract && bytes.includes(0)) {
    throw new TypeError(`${what}: path must not contain NUL bytes: ${describe(path)}`);
  }
  if (bytes.length > layout.sunPathSize) {
    throw new RangeError(
      `${what}: unix socket path is ${bytes.length} bytes; the limit is ${layout.sunPathSize} ` +
        `(sizeof sun_path)`,
    );
  }
  const size = 2 + layout.sunPathSize;
  buf.fill(0, 0, size);
  buf.set(bytes, 2);
  const len = abstract ? 2 + bytes.length : Math.min(size, 2 + bytes.length + (bytes.length && 1));
  writeHeader(buf, AF_UNIX, len, layout);
  return len;
}

/**
 * Validates `addr` for a socket of `family` and `type` and writes it into
 * `buf`; returns the sockaddr length. `what` names the caller in errors.
 * Inet sockets want `"tcp"` (stream) or `"udp"` (dgram); unix sockets accept
 * `"unix"` or `"unixpacket"` (Deno calls unix datagram sockets `"unixpacket"`).
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
    if (t !== "unix" && t !== "unixpacket") {
      throw new TypeError(
        `${what}: a unix socket wants { transport: "unix", path }, got transport ${describe(t)}`,
      );
    }
    return encodeUnix(buf, a.path, what, layout);
  }
  return encodeNetAddress(a, family, type, buf, what, layout, namesFor(layout));
}

// ---- decoding ---------------------------------------------------------------

/** The address family number in the sockaddr at `buf`. */
export function familyOf(buf: Uint8Array, layout: SockaddrLayout = HOST_LAYOUT): number {
  return familyAt(buf, layout);
}

/**
 * The Deno-shaped address of the `len`-byte sockaddr in `buf`, for a socket
 * of `type`; `null` when it holds no family (as recvfrom reports for a
 * connected stream socket). A unix sockaddr without a path gives `path: ""`.
 */
export function decodeAddress(
  buf: Uint8Array,
  len: number,
  type: SocketType,
  layout: SockaddrLayout = HOST_LAYOUT,
): Address | null {
  if (len < 2) return null;
  const inet = decodeNetAddress(buf, len, type, layout);
  if (inet !== null) return inet;
  const family = familyAt(buf, layout);
  if (family === 0) return null; // AF_UNSPEC: no address was written
  if (family === AF_UNIX) {
    const end = Math.min(len, 2 + layout.sunPathSize);
    let path: string;
    if (end > 2 && buf[2] === 0 && layout.abstract) {
      path = "\0" + decoder.decode(buf.subarray(3, end));
    } else {
      let stop = 2;
      while (stop < end && buf[stop] !== 0) stop++;
      path = decoder.decode(buf.subarray(2, stop));
    }
    return { transport: type === "seqpacket" ? "unixpacket" : "unix", path };
  }
  throw new Deno.errors.NotSupported(
    `unsupported address family ${family} (${len} bytes); only inet, inet6 and unix are decoded`,
  );
}
