/**
 * `getaddrinfo` and `getnameinfo`, run off the JavaScript thread so that
 * `/etc/hosts`, nsswitch and DNS are consulted without blocking the loop.
 *
 * Errors: `EAI_NONAME`/`EAI_NODATA` reject with `Deno.errors.NotFound`, other
 * `EAI_*` codes with an `Error`; both carry `code` (`"EAI_NONAME"`), `errno`
 * (the EAI number of this OS) and the `gai_strerror` text. `EAI_SYSTEM` comes
 * without its errno: the call ran on another thread, whose errno is not ours.
 *
 * This file validates the arguments and shapes the results; the calls and
 * the walk of the resolver's list are `lookupAddrInfo`/`lookupNameInfo` of
 * `ffi/sys.ts`.
 *
 * @module
 */
import {
  type AddrInfoEntry,
  describe,
  ipFamily,
  lookupAddrInfo,
  lookupNameInfo,
  lookupsSettled,
  type NetAddress,
  SOCK,
} from "../ffi/sys.ts";

export type { AddrInfoError } from "../ffi/sys.ts";
export { lookupsSettled };

/**
 * getaddrinfo flag: addresses for `bind()` (a `null` host gives the wildcard).
 *
 * @example
 * ```ts ignore
 * await getaddrinfo(null, 8080, { flags: AI_PASSIVE });
 * ```
 */
export const AI_PASSIVE: number = SOCK.AI_PASSIVE;
/**
 * getaddrinfo flag: report the canonical name in the first result.
 *
 * @example
 * ```ts ignore
 * const [first] = await getaddrinfo("localhost", null, { flags: AI_CANONNAME });
 * console.log(first.canonname);
 * ```
 */
export const AI_CANONNAME: number = SOCK.AI_CANONNAME;
/**
 * getaddrinfo flag: the host must be a numeric address (no lookup).
 *
 * @example
 * ```ts ignore
 * await getaddrinfo("::1", 80, { flags: AI_NUMERICHOST });
 * ```
 */
export const AI_NUMERICHOST: number = SOCK.AI_NUMERICHOST;
/**
 * getaddrinfo flag: the port must be numeric (no services lookup).
 *
 * @example
 * ```ts ignore
 * await getaddrinfo("localhost", "80", { flags: AI_NUMERICSERV });
 * ```
 */
export const AI_NUMERICSERV: number = SOCK.AI_NUMERICSERV;
/**
 * getaddrinfo flag: only families with a configured address on this host.
 *
 * @example
 * ```ts ignore
 * await getaddrinfo("example.com", 443, { flags: AI_ADDRCONFIG });
 * ```
 */
export const AI_ADDRCONFIG: number = SOCK.AI_ADDRCONFIG;
/**
 * getaddrinfo flag: with family `"inet6"`, report IPv4 addresses as IPv4-mapped.
 *
 * @example
 * ```ts ignore
 * await getaddrinfo("localhost", 80, { family: "inet6", flags: AI_V4MAPPED });
 * ```
 */
export const AI_V4MAPPED: number = SOCK.AI_V4MAPPED;
/**
 * getaddrinfo flag: with `AI_V4MAPPED`, report IPv6 and IPv4-mapped addresses.
 *
 * @example
 * ```ts ignore
 * await getaddrinfo("localhost", 80, { family: "inet6", flags: AI_V4MAPPED | AI_ALL });
 * ```
 */
export const AI_ALL: number = SOCK.AI_ALL;
/**
 * getnameinfo flag: the numeric host instead of a name.
 *
 * @example
 * ```ts ignore
 * await getnameinfo(addr, NI_NUMERICHOST);
 * ```
 */
export const NI_NUMERICHOST: number = SOCK.NI_NUMERICHOST;
/**
 * getnameinfo flag: the numeric port instead of a service name.
 *
 * @example
 * ```ts ignore
 * await getnameinfo(addr, NI_NUMERICSERV);
 * ```
 */
export const NI_NUMERICSERV: number = SOCK.NI_NUMERICSERV;
/**
 * getnameinfo flag: fail rather than return a numeric host.
 *
 * @example
 * ```ts ignore
 * await getnameinfo(addr, NI_NAMEREQD);
 * ```
 */
export const NI_NAMEREQD: number = SOCK.NI_NAMEREQD;
/**
 * getnameinfo flag: only the host part of local names.
 *
 * @example
 * ```ts ignore
 * await getnameinfo(addr, NI_NOFQDN);
 * ```
 */
export const NI_NOFQDN: number = SOCK.NI_NOFQDN;
/**
 * getnameinfo flag: look the port up as a datagram service (implied by `transport: "udp"`).
 *
 * @example
 * ```ts ignore
 * await getnameinfo(addr, NI_DGRAM);
 * ```
 */
export const NI_DGRAM: number = SOCK.NI_DGRAM;

/** The socket type of an address info entry. */
export type AddrInfoType = "stream" | "dgram" | "raw" | "seqpacket";

/** Options of {@linkcode getaddrinfo}. */
export interface GetaddrinfoOptions {
  /** Restrict to IPv4 (`"inet"`) or IPv6 (`"inet6"`); both (`"unspec"`) by default. */
  family?: "inet" | "inet6" | "unspec";
  /** Restrict to one socket type; all by default. */
  type?: AddrInfoType;
  /** Restrict to one protocol number (such as 6 for TCP); all by default. */
  proto?: number;
  /** `AI_*` flags ORed together. */
  flags?: number;
}

/** One result of {@linkcode getaddrinfo}. */
export interface AddrInfo {
  /** The address family. */
  family: "inet" | "inet6";
  /** The socket type. */
  type: AddrInfoType;
  /** The protocol number (6 TCP, 17 UDP). */
  proto: number;
  /** The canonical name (first entry with `AI_CANONNAME`), else `""`. */
  canonname: string;
  /** The address; `transport` is `"udp"` for datagram entries, else `"tcp"`. */
  address: NetAddress;
}

const TYPE_NUM: Record<AddrInfoType, number> = {
  stream: SOCK.SOCK_STREAM,
  dgram: SOCK.SOCK_DGRAM,
  raw: SOCK.SOCK_RAW,
  seqpacket: SOCK.SOCK_SEQPACKET,
};
function checkInt(v: unknown, max: number, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`getaddrinfo(): ${what} must be an integer, got ${describe(v)}`);
  }
  if (v < 0 || v > max) {
    throw new RangeError(`getaddrinfo(): ${what} must be 0 to ${max}, got ${v}`);
  }
  return v;
}

function typeOf(n: number): AddrInfoType {
  return n === SOCK.SOCK_DGRAM
    ? "dgram"
    : n === SOCK.SOCK_RAW
    ? "raw"
    : n === SOCK.SOCK_SEQPACKET
    ? "seqpacket"
    : "stream";
}

/**
 * Resolves `host` and `port`. A `null` host means the wildcard address
 * (`AI_PASSIVE` is added); `port` may be a number, a numeric string, a service
 * name (`"https"`) or `null` (port 0). Bad arguments throw at once.
 *
 * @example
 * ```ts
 * import { getaddrinfo } from "./getaddrinfo.ts";
 * const infos = await getaddrinfo("localhost", 80, { type: "stream" });
 * console.log(infos.map((i) => i.address.hostname)); // ["127.0.0.1", ...]
 * ```
 */
export function getaddrinfo(
  host: string | null,
  port: number | string | null,
  options: GetaddrinfoOptions = {},
): Promise<AddrInfo[]> {
  if (host !== null && typeof host !== "string") {
    throw new TypeError(`getaddrinfo(): host must be a string or null, got ${describe(host)}`);
  }
  if (typeof host === "string" && host.length > 1024) {
    throw new RangeError(`getaddrinfo(): host is ${host.length} characters; the limit is 1024`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`getaddrinfo(): options must be an object, got ${describe(options)}`);
  }
  let flags = options.flags === undefined ? 0 : checkInt(options.flags, 0x7fffffff, "flags");
  let service: string | null = null;
  if (typeof port === "number") {
    service = String(checkInt(port, 65535, "port"));
    flags |= SOCK.AI_NUMERICSERV;
  } else if (typeof port === "string") {
    if (/^[0-9]+$/.test(port)) service = String(checkInt(Number(port), 65535, "port"));
    else if (/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/.test(port)) service = port;
    else {throw new TypeError(
        `getaddrinfo(): port is not a number or service name: ${describe(port)}`,
      );}
  } else if (port !== null) {
    throw new TypeError(
      `getaddrinfo(): port must be a number, string or null, got ${describe(port)}`,
    );
  }
  if (host === null && service === null) {
    throw new TypeError("getaddrinfo(): host and port cannot both be null");
  }
  if (host === null) flags |= SOCK.AI_PASSIVE;
  const { family = "unspec", type, proto = 0 } = options;
  const af = family === "inet"
    ? SOCK.AF_INET
    : family === "inet6"
    ? SOCK.AF_INET6
    : family === "unspec"
    ? SOCK.AF_UNSPEC
    : -1;
  if (af < 0) {
    throw new TypeError(
      `getaddrinfo(): family must be "inet", "inet6" or "unspec", got ${describe(family)}`,
    );
  }
  if (type !== undefined && !Object.hasOwn(TYPE_NUM, type)) {
    throw new TypeError(
      `getaddrinfo(): type must be "stream", "dgram", "raw" or "seqpacket", got ${describe(type)}`,
    );
  }
  checkInt(proto, 0x7fffffff, "proto");
  const hints = {
    flags,
    family: af,
    socktype: type === undefined ? 0 : TYPE_NUM[type],
    protocol: proto,
  };
  const detail = `${describe(host)}, ${describe(port)}`;
  return lookupAddrInfo(host, service, hints, detail).then(toAddrInfos);
}

function toAddrInfos(entries: AddrInfoEntry[]): AddrInfo[] {
  return entries.map((e) => ({
    family: e.family,
    type: typeOf(e.socktype),
    proto: e.protocol,
    canonname: e.canonname,
    address: e.address,
  }));
}

/**
 * The host name and service name of `addr` (a numeric address; the scope of
 * an IPv6 link-local address may be given as `%n`). `transport: "udp"` looks
 * the port up as a datagram service.
 *
 * @example
 * ```ts
 * import { getnameinfo, NI_NUMERICSERV } from "./getaddrinfo.ts";
 * const [host, port] = await getnameinfo(
 *   { transport: "tcp", hostname: "127.0.0.1", port: 80 },
 *   NI_NUMERICSERV,
 * );
 * console.log(host, port); // "localhost" "80"
 * ```
 */
export function getnameinfo(addr: NetAddress, flags = 0): Promise<[string, string]> {
  if (addr === null || typeof addr !== "object") {
    throw new TypeError(`getnameinfo(): address must be an object, got ${describe(addr)}`);
  }
  if (typeof addr.hostname !== "string") {
    throw new TypeError(`getnameinfo(): hostname must be a string, got ${describe(addr.hostname)}`);
  }
  const family = ipFamily(addr.hostname);
  if (family === null) {
    throw new TypeError(
      `getnameinfo(): hostname must be a numeric IPv4 or IPv6 address, got ${
        describe(addr.hostname)
      }`,
    );
  }
  if (typeof flags !== "number" || !Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff) {
    throw new TypeError(
      `getnameinfo(): flags must be a non-negative integer, got ${describe(flags)}`,
    );
  }
  const dgram = addr.transport === "udp";
  return lookupNameInfo(
    { ...addr, transport: dgram ? "udp" : "tcp" },
    family,
    flags | (dgram ? SOCK.NI_DGRAM : 0),
    `${addr.hostname}, ${addr.port}`,
  );
}
