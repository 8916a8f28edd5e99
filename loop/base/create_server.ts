/**
 * `createServer` (asyncio's `loop.create_server()`): TCP listening sockets
 * on one or more hosts (every interface when none is given), IPv4 and IPv6
 * apart, wrapped in a `Server`.
 *
 * @module
 */
import { type AddrInfo, AI_PASSIVE, Socket } from "../../net/mod.ts";
import { OS_FAMILY } from "../../ffi/sys.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { CreateServerOptions } from "../connection_options.ts";
import { resolveWith } from "./create_connection.ts";
import { planTls, type TlsPlan, tlsServerFactory } from "./_ssl_connect.ts";
import { errorText, rewordError } from "../_os_error.ts";
import type { LoopHooks } from "./loop_hooks.ts";
import { DEFAULT_BACKLOG, openServer, type Server, type ServerLoop } from "./server.ts";
import { checkFactory, checkOptions } from "../_check.ts";

function describeInfo(info: AddrInfo): string {
  const { hostname, port } = info.address;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Makes the listening sockets and the `Server`. Backs `loop.createServer()`.
 *
 * @example
 * ```ts ignore
 * const server = await createServer(loop, hooks, () => new Echo(), { host: "127.0.0.1", port: 8888 });
 * ```
 */
export async function createServer<P extends StreamProtocol>(
  loop: ServerLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  options: CreateServerOptions = {},
): Promise<Server> {
  const what = "createServer()";
  checkFactory(protocolFactory, what);
  checkOptions(options, what);
  const tls = planTls(options, true, null, what);
  try {
    return await listen(loop, hooks, protocolFactory, options, tls);
  } catch (e) {
    tls?.ssl.release();
    throw e;
  }
}

async function listen<P extends StreamProtocol>(
  loop: ServerLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  options: CreateServerOptions,
  tls: TlsPlan | null,
): Promise<Server> {
  const what = "createServer()";
  const { host, port, sock: given } = options;
  let sockets: Socket[];
  if (host != null || port != null) {
    if (given !== undefined) {
      throw new TypeError(`${what}: host/port and sock can not be specified at the same time`);
    }
    const reuseAddress = options.reuseAddress ?? OS_FAMILY === "unix";
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
  // With TLS, the server's context lives until its last listening socket is closed.
  let open = sockets.length;
  return await openServer(
    loop,
    sockets,
    tls === null ? protocolFactory : tlsServerFactory(loop, protocolFactory, tls),
    {
      backlog: options.backlog ?? DEFAULT_BACKLOG,
      acceptRetryDelay: options.acceptRetryDelay,
      noDelay: options.noDelay,
      serving: hooks,
      onSocketClosed: tls === null ? undefined : () => {
        if (--open === 0) tls.ssl.release();
      },
    },
    options.startServing,
    () => {
      if (given === undefined) { for (const s of sockets) s.close(); }
    },
  );
}
