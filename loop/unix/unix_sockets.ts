/**
 * `createUnixConnection` and `createUnixServer` (asyncio's
 * `loop.create_unix_connection()`/`create_unix_server()`): unix-domain
 * stream sockets on a filesystem path or a Linux abstract name (`"\0..."`).
 *
 * Permissions: removing a stale socket file and cleaning the file up on
 * close use `Deno.lstatSync`/`Deno.statSync`/`Deno.removeSync`, so they
 * need `--allow-read` and `--allow-write` for the path. Without them the
 * server still works: the stale-file check is reported through the
 * exception handler (asyncio logs it) and the file is left in place.
 *
 * @module
 */
import { Socket } from "../../net/mod.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type {
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
  TransportAndProtocol,
} from "../connection_options.ts";
import {
  type ConnectionLoop,
  createConnectionTransport,
  planTls,
  type TlsPlan,
  tlsServerFactory,
} from "../base/create_connection.ts";
import type { LoopHooks } from "../base/loop_hooks.ts";
import { DEFAULT_BACKLOG, openServer, type Server, type ServerLoop } from "../base/server.ts";
import { cancelledError, checkSignal } from "../_signal.ts";
import { rewordError } from "../_os_error.ts";
import { removeStaleSocket } from "../base/_stale_socket.ts";
import { checkFactory } from "../_check.ts";

function checkPath(path: unknown, what: string): asserts path is string | null | undefined {
  if (path !== null && path !== undefined && typeof path !== "string") {
    throw new TypeError(`${what}: path must be a string, got ${typeof path}`);
  }
}

function isAbstract(path: string): boolean {
  return path.length > 0 && path.charCodeAt(0) === 0;
}

/**
 * Connects to the unix socket at `path` and wraps it in a transport.
 * Backs `loop.createUnixConnection()`.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await createUnixConnection(loop, hooks, () => new P(), "/tmp/app.sock");
 * ```
 */
export async function createUnixConnection<P extends StreamProtocol>(
  loop: ConnectionLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  path?: string | null,
  options: CreateUnixConnectionOptions = {},
): Promise<TransportAndProtocol<P>> {
  const what = "createUnixConnection()";
  checkFactory(protocolFactory, what);
  checkPath(path, what);
  checkSignal(options.signal, "createUnixConnection");
  const { signal } = options;
  if (signal?.aborted) {
    throw cancelledError(signal, what);
  }
  // asyncio: a unix connection has no host, so TLS needs serverHostname.
  const tls = planTls(options, false, null, what);
  try {
    return await connectUnix(loop, hooks, protocolFactory, path, options, tls);
  } finally {
    tls?.ssl.release(); // a connection made holds its own reference
  }
}

async function connectUnix<P extends StreamProtocol>(
  loop: ConnectionLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  path: string | null | undefined,
  options: CreateUnixConnectionOptions,
  tls: TlsPlan | null,
): Promise<TransportAndProtocol<P>> {
  const what = "createUnixConnection()";
  const { signal } = options;
  if (path != null) {
    if (options.sock !== undefined) {
      throw new TypeError(`${what}: path and sock can not be specified at the same time`);
    }
    const sock = new Socket({ family: "unix", type: "stream" });
    try {
      await loop.sockConnect(sock, { transport: "unix", path }, { signal });
    } catch (e) {
      sock.close();
      throw e;
    }
    return await createConnectionTransport(loop, hooks, sock, protocolFactory, {
      signal,
      own: true,
      tls,
    });
  }
  const sock = options.sock;
  if (sock === undefined) throw new TypeError(`${what}: no path and sock were specified`);
  if (!(sock instanceof Socket) || sock.family !== "unix" || sock.type !== "stream") {
    throw new TypeError(`${what}: a unix stream Socket was expected`);
  }
  return await createConnectionTransport(loop, hooks, sock, protocolFactory, { signal, tls });
}

/**
 * Listens on the unix socket `path` (removing a stale socket file first)
 * and returns the `Server`. Backs `loop.createUnixServer()`.
 *
 * @example
 * ```ts ignore
 * const server = await createUnixServer(loop, hooks, () => new Echo(), "/tmp/app.sock");
 * ```
 */
export async function createUnixServer<P extends StreamProtocol>(
  loop: ServerLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  path?: string | null,
  options: CreateUnixServerOptions = {},
): Promise<Server> {
  const what = "createUnixServer()";
  checkFactory(protocolFactory, what);
  checkPath(path, what);
  const tls = planTls(options, true, null, what);
  try {
    return await listenUnix(loop, hooks, protocolFactory, path, options, tls);
  } catch (e) {
    tls?.ssl.release();
    throw e;
  }
}

async function listenUnix<P extends StreamProtocol>(
  loop: ServerLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  path: string | null | undefined,
  options: CreateUnixServerOptions,
  tls: TlsPlan | null,
): Promise<Server> {
  const what = "createUnixServer()";
  let sock: Socket;
  const own = path != null;
  if (path != null) {
    if (options.sock !== undefined) {
      throw new TypeError(`${what}: path and sock can not be specified at the same time`);
    }
    sock = new Socket({ family: "unix", type: "stream" });
    removeStaleSocket(loop, path);
    try {
      sock.bind({ transport: "unix", path });
    } catch (e) {
      sock.close();
      if ((e as { code?: string }).code === "EADDRINUSE") {
        throw rewordError(e, `Address ${JSON.stringify(path)} is already in use`);
      }
      throw e;
    }
  } else {
    if (options.sock === undefined) {
      throw new TypeError(`${what}: path was not specified, and no sock specified`);
    }
    sock = options.sock;
    if (!(sock instanceof Socket) || sock.family !== "unix" || sock.type !== "stream") {
      throw new TypeError(`${what}: a unix stream Socket was expected`);
    }
  }
  // Remember the file's inode: close() removes the file only if it is still ours.
  let onSocketClosed: ((s: Socket) => void) | undefined;
  if (options.cleanupSocket ?? true) {
    let bound = "";
    try {
      const name = sock.getsockname();
      bound = "path" in name ? name.path : "";
    } catch { /* not bound: nothing to clean */ }
    if (bound !== "" && !isAbstract(bound)) {
      try {
        const ino = Deno.statSync(bound).ino;
        onSocketClosed = () => {
          try {
            if (Deno.statSync(bound).ino === ino) Deno.removeSync(bound);
          } catch (e) {
            if (!(e instanceof Deno.errors.NotFound)) {
              loop.callExceptionHandler({
                message: `Unable to clean up listening UNIX socket ${JSON.stringify(bound)}`,
                exception: e,
              });
            }
          }
        };
      } catch { /* no file, or no permission to look: leave it */ }
    }
  }
  if (sock.getBlocking()) sock.setBlocking(false);
  const cleanup = onSocketClosed;
  return await openServer(
    loop,
    [sock],
    tls === null ? protocolFactory : tlsServerFactory(loop, protocolFactory, tls),
    {
      backlog: options.backlog ?? DEFAULT_BACKLOG,
      acceptRetryDelay: options.acceptRetryDelay,
      onSocketClosed: tls === null ? cleanup : (s) => {
        cleanup?.(s);
        tls.ssl.release();
      },
      serving: hooks,
    },
    options.startServing,
    () => {
      if (own) sock.close();
    },
  );
}
