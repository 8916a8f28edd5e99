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
import {
  type Address,
  decodeNetAddress,
  encodeInetWith,
  encodeNetAddress,
  familyOf as familyAt,
  type SockaddrLayout,
  type SocketFamily,
  type SocketType,
} from "../_sockaddr_inet.ts";
import { ifNameToIndex } from "./socket.ts";

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

// An interface name in an IPv6 scope is looked up only for this OS's own layout.
const namesFor = (layout: SockaddrLayout) => layout === HOST_LAYOUT ? ifNameToIndex : null;

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
  return encodeInetWith(buf, family, hostname, port, what, flowinfo, layout, namesFor(layout));
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
  if (family === "unix") throw new Deno.errors.NotSupported(`${what}: ${NO_AF_UNIX}`);
  return encodeNetAddress(
    addr as Record<string, unknown>,
    family,
    type,
    buf,
    what,
    layout,
    namesFor(layout),
  );
}

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
  return familyAt(buf, layout);
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
  const inet = decodeNetAddress(buf, len, type, layout);
  if (inet !== null) return inet;
  const family = familyAt(buf, layout);
  if (family === 0) return null; // AF_UNSPEC: no address was written
  if (family === AF_UNIX) throw new Deno.errors.NotSupported(NO_AF_UNIX);
  throw new Deno.errors.NotSupported(
    `unsupported address family ${family} (${len} bytes); only inet and inet6 are decoded on Windows`,
  );
}
