/**
 * `createDatagramEndpoint()` (asyncio's `loop.create_datagram_endpoint()`):
 * makes a UDP or unix datagram socket, binds and/or connects it, resolving
 * host names off the JavaScript thread, and wraps it in a
 * datagram transport the loop kind makes.
 *
 * @module
 */
import { describe, ipFamily, PLATFORM, SOCK } from "../../ffi/sys.ts";
import { notSupported } from "../_platform_table.ts";
import { removeStaleSocket } from "./_stale_socket.ts";
import { type Address, type AddrInfo, Socket, type SocketFamily } from "../../net/mod.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { DatagramTransport } from "../../transports/base_transport.ts";
import type { LoopHooks } from "./loop_hooks.ts";
import type {
  AbstractEventLoop,
  DatagramEndpointAddress,
  DatagramEndpointOptions,
} from "../abstract_event_loop.ts";
import { checkFactory } from "../_check.ts";
import { isOSError } from "../../ffi/os_error.ts";

/** What `createDatagramEndpoint()` needs of a loop. */
export type DatagramEndpointLoop = Pick<
  AbstractEventLoop,
  "createFuture" | "getaddrinfo" | "sockConnect" | "callExceptionHandler"
>;

const WHAT = "createDatagramEndpoint()";
const IPPROTO_UDP = 17;

type Parsed =
  | { unix: true; path: string }
  | { unix: false; hostname: string; port: number; flowinfo?: number };

/** Checks a `localAddr`/`remoteAddr` and tells unix paths from host/port pairs. */
function parseAddress(addr: unknown, name: string): Parsed {
  if (addr === null || typeof addr !== "object") {
    throw new TypeError(
      `${WHAT}: ${name} must be { transport: "udp", hostname, port } or ` +
        `{ transport: "unix", path }, got ${describe(addr)}`,
    );
  }
  const a = addr as Record<string, unknown>;
  const t = a.transport;
  if (t !== undefined && t !== "udp" && t !== "unix" && t !== "unixpacket") {
    throw new TypeError(
      `${WHAT}: ${name} must be a datagram address: transport "udp", "unix" or "unixpacket" ` +
        `(or none), got transport ${describe(t)}`,
    );
  }
  if (t === "unix" || t === "unixpacket" || (t === undefined && "path" in a)) {
    if (typeof a.path !== "string") {
      throw new TypeError(`${WHAT}: ${name}.path must be a string, got ${describe(a.path)}`);
    }
    return { unix: true, path: a.path };
  }
  if (typeof a.hostname !== "string") {
    throw new TypeError(`${WHAT}: ${name}.hostname must be a string, got ${describe(a.hostname)}`);
  }
  const port = a.port;
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(`${WHAT}: ${name}.port must be an integer, got ${describe(port)}`);
  }
  if (port < 0 || port > 65535) {
    throw new RangeError(`${WHAT}: ${name}.port must be from 0 to 65535, got ${port}`);
  }
  const out: Parsed = { unix: false, hostname: a.hostname, port };
  if (typeof a.flowinfo === "number") out.flowinfo = a.flowinfo;
  return out;
}

function checkOptions(options: unknown): DatagramEndpointOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${WHAT}: options must be an object, got ${describe(options)}`);
  }
  const o = options as DatagramEndpointOptions & { reuseAddress?: unknown };
  if (o.reuseAddress !== undefined) {
    throw new TypeError(
      `${WHAT}: reuseAddress is not supported: SO_REUSEADDR on a UDP socket lets any other ` +
        `process bind the same address and receive its datagrams (asyncio refuses it since ` +
        `Python 3.8.1 for that security reason). Use reusePort, which the kernel grants only ` +
        `to sockets of the same user.`,
    );
  }
  const f = o.family;
  if (f !== undefined && f !== "inet" && f !== "inet6" && f !== "unix" && f !== "unspec") {
    throw new TypeError(
      `${WHAT}: family must be "inet", "inet6", "unix" or "unspec", got ${describe(f)}`,
    );
  }
  for (const k of ["reusePort", "allowBroadcast"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") {
      throw new TypeError(`${WHAT}: ${k} must be a boolean, got ${describe(o[k])}`);
    }
  }
  for (const k of ["proto", "flags"] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0)) {
      throw new TypeError(`${WHAT}: ${k} must be a non-negative integer, got ${describe(v)}`);
    }
  }
  return o;
}

function setReusePort(sock: Socket): void {
  try {
    sock.setsockopt("SO_REUSEPORT", true);
  } catch (e) {
    throw new Deno.errors.NotSupported(
      `${WHAT}: reusePort is not supported on ${PLATFORM} (setting SO_REUSEPORT failed: ${
        (e as Error).message
      })`,
    );
  }
}

async function resolve(
  loop: DatagramEndpointLoop,
  addr: Parsed & { unix: false },
  family: "inet" | "inet6" | "unspec",
  proto: number,
  flags: number,
): Promise<AddrInfo[]> {
  // A numeric address needs no lookup (asyncio's _ipaddr_info).
  const literal = ipFamily(addr.hostname);
  if (literal !== null && (family === "unspec" || family === literal)) {
    const address: Address = { transport: "udp", hostname: addr.hostname, port: addr.port };
    if (addr.flowinfo !== undefined) address.flowinfo = addr.flowinfo;
    return [{
      family: literal,
      type: "dgram",
      proto: proto || IPPROTO_UDP,
      canonname: "",
      address,
    }];
  }
  const infos = await loop.getaddrinfo(addr.hostname, addr.port, {
    family,
    type: "dgram",
    proto,
    flags,
  });
  if (infos.length === 0) {
    throw new Deno.errors.NotFound(
      `${WHAT}: getaddrinfo() returned no address for ${addr.hostname}`,
    );
  }
  return infos;
}

interface Candidate {
  family: SocketFamily;
  proto: number;
  local: Address | null;
  remote: Address | null;
}

/** Unix datagram sockets where the OS has no AF_UNIX (Windows): the platform table's error. */
function refuseUnixWithoutAfUnix(loop: DatagramEndpointLoop): void {
  if (SOCK.AF_UNIX === 0) {
    throw notSupported(
      "createDatagramEndpoint",
      loop,
      "no AF_UNIX datagram sockets here: use UDP on loopback",
    );
  }
}

/** asyncio's pairing: local and remote addresses joined by (family, proto), in order. */
async function candidates(
  loop: DatagramEndpointLoop,
  local: Parsed | null,
  remote: Parsed | null,
  o: DatagramEndpointOptions,
): Promise<Candidate[]> {
  const proto = o.proto ?? 0;
  if (local === null && remote === null) {
    if (o.family === undefined || o.family === "unspec") {
      throw new TypeError(
        `${WHAT}: unexpected address family: give family ("inet", "inet6" or "unix"), ` +
          `localAddr or remoteAddr`,
      );
    }
    if (o.family === "unix") refuseUnixWithoutAfUnix(loop);
    return [{ family: o.family, proto, local: null, remote: null }];
  }
  const unix = (local ?? remote)!.unix;
  if ((local !== null && local.unix !== unix) || (remote !== null && remote.unix !== unix)) {
    throw new TypeError(`${WHAT}: localAddr and remoteAddr must both be unix or both be udp`);
  }
  if (unix) {
    if (o.family !== undefined && o.family !== "unix" && o.family !== "unspec") {
      throw new TypeError(`${WHAT}: a unix address needs family "unix", got "${o.family}"`);
    }
    refuseUnixWithoutAfUnix(loop); // after the argument checks, as every refusal
    const toAddr = (p: Parsed | null): Address | null =>
      p === null ? null : { transport: "unix", path: (p as { path: string }).path };
    if (local !== null) removeStaleSocket(loop, (local as { path: string }).path);
    return [{ family: "unix", proto, local: toAddr(local), remote: toAddr(remote) }];
  }
  if (o.family === "unix") {
    throw new TypeError(`${WHAT}: family "unix" needs { transport: "unix", path } addresses`);
  }
  const family = o.family ?? "unspec";
  const flags = o.flags ?? 0;
  const byKey = new Map<string, Candidate>();
  const pairs: [Parsed | null, "local" | "remote"][] = [[local, "local"], [remote, "remote"]];
  for (const [addr, side] of pairs) {
    if (addr === null) continue;
    for (
      const info of await resolve(loop, addr as Parsed & { unix: false }, family, proto, flags)
    ) {
      const key = `${info.family}/${info.proto}`;
      let c = byKey.get(key);
      if (c === undefined) {
        byKey.set(key, c = { family: info.family, proto: info.proto, local: null, remote: null });
      }
      c[side] ??= info.address;
    }
  }
  const usable = [...byKey.values()].filter((c) =>
    (local === null || c.local !== null) && (remote === null || c.remote !== null)
  );
  if (usable.length === 0) {
    throw new TypeError(
      `${WHAT}: can not get address information: localAddr and remoteAddr resolve to no ` +
        `common address family`,
    );
  }
  return usable;
}

/** Makes, binds and connects the socket of the first candidate that works. */
async function openSocket(
  loop: DatagramEndpointLoop,
  list: Candidate[],
  o: DatagramEndpointOptions,
): Promise<[Socket, Address | null]> {
  const errors: unknown[] = [];
  for (const c of list) {
    let sock: Socket | null = null;
    try {
      sock = new Socket({ family: c.family, type: "dgram", proto: c.proto });
      if (o.reusePort) setReusePort(sock);
      if (o.allowBroadcast) sock.setsockopt("SO_BROADCAST", true);
      if (c.local !== null) sock.bind(c.local);
      // With allowBroadcast the socket stays unconnected (asyncio): replies may come from anyone.
      if (c.remote !== null && !o.allowBroadcast) await loop.sockConnect(sock, c.remote);
      return [sock, c.remote];
    } catch (e) {
      sock?.close();
      if (!isOSError(e)) throw e;
      errors.push(e);
    }
  }
  throw errors[0];
}

/**
 * Opens a datagram endpoint on `loop` (asyncio's
 * `loop.create_datagram_endpoint()`); backs
 * `BaseEventLoop.createDatagramEndpoint()`. Resolves once the
 * protocol's `connectionMade()` ran.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await createDatagramEndpoint(loop, hooks, () => new Echo(), {
 *   localAddr: { transport: "udp", hostname: "127.0.0.1", port: 9999 },
 * });
 * ```
 */
export async function createDatagramEndpoint<P extends DatagramProtocol>(
  loop: DatagramEndpointLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  options?: DatagramEndpointOptions,
): Promise<[DatagramTransport, P]> {
  checkFactory(protocolFactory, WHAT);
  const o = checkOptions(options);
  let sock: Socket;
  let remote: Address | null = null;
  if (o.sock !== undefined) {
    if (!(o.sock instanceof Socket) || o.sock.type !== "dgram") {
      throw new TypeError(`${WHAT}: a "dgram" Socket was expected, got ${describe(o.sock)}`);
    }
    const modifiers = [
      "localAddr",
      "remoteAddr",
      "family",
      "proto",
      "flags",
      "reusePort",
      "allowBroadcast",
    ] as const;
    const problems = modifiers.filter((k) => o[k]);
    if (problems.length > 0) {
      throw new TypeError(
        `${WHAT}: socket modifier options can not be used when sock is given (${
          problems.join(", ")
        })`,
      );
    }
    sock = o.sock;
    sock.setBlocking(false);
  } else {
    const local = o.localAddr == null ? null : parseAddress(o.localAddr, "localAddr");
    const remote0 = o.remoteAddr == null ? null : parseAddress(o.remoteAddr, "remoteAddr");
    [sock, remote] = await openSocket(loop, await candidates(loop, local, remote0, o), o);
  }
  let protocol: P;
  try {
    protocol = protocolFactory();
  } catch (e) {
    sock.close();
    throw e;
  }
  const waiter = loop.createFuture<void>();
  const transport = hooks.makeDatagramTransport(sock, protocol, {
    address: remote,
    waiter,
  });
  try {
    await waiter;
  } catch (e) {
    transport.close();
    throw e;
  }
  return [transport, protocol];
}

export type { DatagramEndpointAddress, DatagramEndpointOptions };
