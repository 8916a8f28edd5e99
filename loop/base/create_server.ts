/**
 * `createServer` (asyncio's `loop.create_server()`): TCP listening sockets
 * on one or more hosts (every interface when none is given), IPv4 and IPv6
 * apart, wrapped in a `Server`.
 *
 * @module
 */
import { type AddrInfo, AI_PASSIVE, Socket } from "../../net/mod.ts";
import type { StreamProtocol } from "../selector/socket_transport.ts";
import { refuseSsl, resolveWith } from "./create_connection.ts";
import { errorText, rewordError } from "../_os_error.ts";
import { DEFAULT_BACKLOG, openServer, type Server, type ServerLoop } from "./server.ts";

/**
 * Options of `createServer(protocolFactory, options)`: asyncio's
 * `create_server(protocol_factory, host, port, **kwargs)` with `host` and
 * `port` in the options object.
 */
export interface CreateServerOptions {
  /**
   * The host(s) to listen on: a name or numeric address, several of them,
   * or `null`/`undefined`/`""` for every interface (IPv4 and IPv6).
   */
  host?: string | readonly string[] | null;
  /** The port (0 or omitted: one the OS picks, per socket). */
  port?: number | string | null;
  /** Only IPv4 (`"inet"`) or IPv6 (`"inet6"`); both by default. */
  family?: "inet" | "inet6" | "unspec";
  /** getaddrinfo's `AI_*` flags (default `AI_PASSIVE`). */
  flags?: number;
  /** A bound stream socket to listen on instead of `host`/`port`. */
  sock?: Socket;
  /** `listen()` backlog, and the most connections accepted per readiness event (default 100). */
  backlog?: number;
  /** `SO_REUSEADDR` (default `true` on Unix, as asyncio). */
  reuseAddress?: boolean;
  /** `SO_REUSEPORT`: several sockets may listen on the port. */
  reusePort?: boolean;
  /** `SO_KEEPALIVE` on the listening sockets (asyncio 3.13's `keep_alive`). */
  keepAlive?: boolean;
  /** Start accepting at once (default `true`); otherwise call `server.startServing()`. */
  startServing?: boolean;
  /** Set `TCP_NODELAY` on accepted connections (default `true`). */
  noDelay?: boolean;
  /** The pause in ms after accept() ran out of fds (default 1000, asyncio's 1 s). */
  acceptRetryDelay?: number;
  /** TLS is not supported yet: anything but `undefined`/`null`/`false` throws `NotSupported`. */
  ssl?: unknown;
}

function describeInfo(info: AddrInfo): string {
  const { hostname, port } = info.address;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Makes the listening sockets and the `Server`. Backs `loop.createServer()`.
 *
 * @example
 * ```ts ignore
 * const server = await createServer(loop, () => new Echo(), { host: "127.0.0.1", port: 8888 });
 * ```
 */
export async function createServer<P extends StreamProtocol>(
  loop: ServerLoop,
  protocolFactory: () => P,
  options: CreateServerOptions = {},
): Promise<Server> {
  const what = "createServer()";
  if (typeof protocolFactory !== "function") {
    throw new TypeError(
      `${what}: protocolFactory must be a function, got ${typeof protocolFactory}`,
    );
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${what}: options must be an object`);
  }
  refuseSsl(options.ssl, what);
  const { host, port, sock: given } = options;
  let sockets: Socket[];
  if (host != null || port != null) {
    if (given !== undefined) {
      throw new TypeError(`${what}: host/port and sock can not be specified at the same time`);
    }
    const reuseAddress = options.reuseAddress ?? Deno.build.os !== "windows";
    const hosts: (string | null)[] = host === "" || host == null
      ? [null]
      : typeof host === "string"
      ? [host]
      : [...host];
    const lists = await Promise.all(hosts.map((h) =>
      resolveWith(loop, h, port ?? null, {
        family: options.family ?? "unspec",
        type: "stream",
        flags: options.flags ?? AI_PASSIVE,
      })
    ));
    // asyncio puts them in a set: drop duplicates, keep the order.
    const seen = new Set<string>();
    const infos = lists.flat().filter((i) => {
      const key = `${i.family} ${describeInfo(i)}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    sockets = [];
    let completed = false;
    try {
      for (const info of infos) {
        let sock: Socket;
        try {
          sock = new Socket({ family: info.family, type: "stream", proto: info.proto });
        } catch {
          continue; // a family this host cannot make sockets of
        }
        sockets.push(sock);
        if (reuseAddress) sock.setsockopt("SO_REUSEADDR", true);
        if (options.reusePort) sock.setsockopt("SO_REUSEPORT", true);
        if (options.keepAlive) sock.setsockopt("SO_KEEPALIVE", true);
        // Linux listens on IPv4 too through an IPv6 socket unless told not to; the IPv4
        // address has its own socket here.
        if (info.family === "inet6") sock.setsockopt("IPV6_V6ONLY", true);
        try {
          sock.bind(info.address);
        } catch (e) {
          if ((e as { code?: string }).code === "EADDRNOTAVAIL") {
            // The family is not enabled here (bpo-30945): skip the address.
            sockets.pop();
            sock.close();
            continue;
          }
          throw rewordError(
            e,
            `error while attempting to bind on address ${describeInfo(info)}: ${
              errorText(e).toLowerCase()
            }`,
          );
        }
      }
      if (sockets.length === 0) {
        throw new Error(
          `could not bind on any address out of [${infos.map(describeInfo).join(", ")}]`,
        );
      }
      completed = true;
    } finally {
      if (!completed) { for (const s of sockets) s.close(); }
    }
  } else {
    if (given === undefined) {
      throw new TypeError(`${what}: neither host/port nor sock were specified`);
    }
    if (!(given instanceof Socket) || given.type !== "stream") {
      throw new TypeError(`${what}: a stream Socket was expected`);
    }
    sockets = [given];
  }
  for (const s of sockets) if (s.getBlocking()) s.setBlocking(false);
  return await openServer(
    loop,
    sockets,
    protocolFactory,
    {
      backlog: options.backlog ?? DEFAULT_BACKLOG,
      acceptRetryDelay: options.acceptRetryDelay,
      noDelay: options.noDelay,
    },
    options.startServing,
    () => {
      if (given === undefined) { for (const s of sockets) s.close(); }
    },
  );
}
