/**
 * `createConnection` and `connectAcceptedSocket` (asyncio's
 * `loop.create_connection()` and `loop.connect_accepted_socket()`):
 * resolve, connect (one address after another, or staggered Happy Eyeballs),
 * then wrap the socket in a stream transport.
 *
 * @module
 */
import { type AddrInfo, getaddrinfo, type GetaddrinfoOptions, Socket } from "../../net/mod.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type {
  ConnectAcceptedSocketOptions,
  CreateConnectionOptions,
  TransportAndProtocol,
} from "../connection_options.ts";
import { CancelledError } from "../errors.ts";
import { cancelledError, cancelOnAbort, checkSignal } from "../_signal.ts";
import { connectionFailure, errorText, rewordError } from "../_os_error.ts";
import { staggeredRace } from "./_staggered.ts";
import type { LoopHooks } from "./loop_hooks.ts";
import { checkFactory, checkOptions } from "../_check.ts";
import { planTls, type TlsPlan, tlsProtocol, tlsServerFactory } from "./_ssl_connect.ts";

// For the unix sockets (loop/unix/), which cannot import this folder's private files.
export { planTls, type TlsPlan, tlsServerFactory };

/** What the connection calls need of a loop. */
export type ConnectionLoop = Pick<
  AbstractEventLoop,
  | "createFuture"
  | "callLater"
  | "callSoon"
  | "callExceptionHandler"
  | "getDebug"
  | "isClosed"
  | "sockConnect"
  | "getaddrinfo"
>;

const cancelled = (signal: AbortSignal): CancelledError =>
  cancelledError(signal, "createConnection()");

/** Waits for `p`, or rejects with `CancelledError` as soon as `signal` aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(cancelled(signal));
  }
  const { promise, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(cancelled(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  p.catch(() => {}); // its failure after an abort is nobody's concern
  return Promise.race([p, promise]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** The loop's `getaddrinfo` when it has one (tests may replace it), else the module's. */
export function resolveWith(
  loop: object,
  host: string | null,
  port: number | string | null,
  options: GetaddrinfoOptions,
): Promise<AddrInfo[]> {
  const own = (loop as { getaddrinfo?: unknown }).getaddrinfo;
  if (typeof own === "function") {
    return (own as typeof getaddrinfo).call(loop, host, port, options);
  }
  return getaddrinfo(host, port, options);
}

/**
 * asyncio's `_interleave_addrinfos`: `firstFamilyCount` addresses of the
 * first family, then the families alternate.
 */
export function interleaveAddrinfos(infos: AddrInfo[], firstFamilyCount = 1): AddrInfo[] {
  const byFamily = new Map<string, AddrInfo[]>();
  for (const info of infos) {
    let list = byFamily.get(info.family);
    if (list === undefined) byFamily.set(info.family, list = []);
    list.push(info);
  }
  const lists = [...byFamily.values()];
  const out: AddrInfo[] = [];
  if (firstFamilyCount > 1 && lists.length > 0) {
    out.push(...lists[0].splice(0, firstFamilyCount - 1));
  }
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/**
 * Wraps the connected `sock` in a transport with a new protocol and waits
 * until `connectionMade()` ran (asyncio's `_create_connection_transport`).
 * On failure the transport (and so the socket) is closed; when the
 * protocol factory throws, the socket is closed only if `own` is set.
 */
export async function createConnectionTransport<P extends StreamProtocol>(
  loop: ConnectionLoop,
  hooks: LoopHooks,
  sock: Socket,
  protocolFactory: () => P,
  options: { noDelay?: boolean; signal?: AbortSignal; own?: boolean; tls?: TlsPlan | null } = {},
): Promise<TransportAndProtocol<P>> {
  const waiter = loop.createFuture<void>();
  const tls = options.tls ?? null;
  let protocol: P, transport: TransportAndProtocol<P>[0];
  let appTransport: TransportAndProtocol<P>[0] | null = null;
  try {
    if (sock.getBlocking()) sock.setBlocking(false);
    protocol = protocolFactory();
    if (tls === null) {
      transport = hooks.makeSocketTransport(sock, protocol, { waiter, noDelay: options.noDelay });
    } else {
      // asyncio's _make_ssl_transport: the TLS layer is the socket transport's protocol.
      const ssl = tlsProtocol(loop, protocol, tls, waiter, true, () => tls.ssl.release());
      appTransport = ssl.appTransport;
      transport = hooks.makeSocketTransport(sock, ssl, { waiter: null, noDelay: options.noDelay });
    }
  } catch (e) {
    if (options.own) sock.close();
    if (appTransport === null) tls?.ssl.release();
    throw e;
  }
  cancelOnAbort(waiter, options.signal);
  try {
    await waiter;
  } catch (e) {
    transport.close();
    throw e;
  }
  return [appTransport ?? transport, protocol];
}

/** One attempt (asyncio's `_connect_sock`): a socket bound as asked, then connected. */
async function connectSock(
  loop: ConnectionLoop,
  errors: unknown[][],
  info: AddrInfo,
  localInfos: AddrInfo[] | null,
  signal: AbortSignal | undefined,
): Promise<Socket> {
  const mine: unknown[] = [];
  errors.push(mine);
  let sock: Socket | undefined;
  try {
    sock = new Socket({ family: info.family, type: "stream", proto: info.proto });
    if (localInfos !== null) {
      let bound = false;
      for (const local of localInfos) {
        if (local.family !== info.family) continue; // skip the other family's addresses
        try {
          sock.bind(local.address);
          bound = true;
          break;
        } catch (e) {
          const where = `${local.address.hostname}:${local.address.port}`;
          mine.push(rewordError(
            e,
            `error while attempting to bind on address ${where}: ${errorText(e).toLowerCase()}`,
          ));
        }
      }
      if (!bound) {
        throw mine.pop() ?? new Error(`no matching local address with family=${info.family} found`);
      }
    }
    await loop.sockConnect(sock, info.address, { signal });
    return sock;
  } catch (e) {
    if (!(e instanceof CancelledError) && !mine.includes(e)) mine.push(e);
    sock?.close();
    throw e;
  }
}

/**
 * Connects to `options.host`/`options.port` (or wraps `options.sock`) and
 * resolves to `[transport, protocol]` once the protocol's
 * `connectionMade()` ran. Addresses from `getaddrinfo` are tried in order,
 * or staggered by `happyEyeballsDelay`. Backs `loop.createConnection()`.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await createConnection(loop, hooks, () => new MyProtocol(), {
 *   host: "localhost",
 *   port: 8080,
 *   happyEyeballsDelay: 250,
 * });
 * ```
 */
export async function createConnection<P extends StreamProtocol>(
  loop: ConnectionLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  options: CreateConnectionOptions = {},
): Promise<TransportAndProtocol<P>> {
  const what = "createConnection()";
  checkFactory(protocolFactory, what);
  checkOptions(options, what);
  const { host, signal } = options;
  checkSignal(signal, "createConnection");
  if (signal?.aborted) throw cancelled(signal);
  const tls = planTls(options, false, host ?? null, what);
  try {
    return await connect(loop, hooks, protocolFactory, options, tls);
  } finally {
    tls?.ssl.release(); // a connection made holds its own reference
  }
}

async function connect<P extends StreamProtocol>(
  loop: ConnectionLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  options: CreateConnectionOptions,
  tls: TlsPlan | null,
): Promise<TransportAndProtocol<P>> {
  const what = "createConnection()";
  const { host, port, sock: given, signal, noDelay } = options;
  if (host != null || port != null) {
    if (given !== undefined) {
      throw new TypeError(`${what}: host/port and sock can not be specified at the same time`);
    }
    let interleave = options.interleave;
    const delay = options.happyEyeballsDelay ?? null;
    if (delay !== null && (typeof delay !== "number" || !(delay >= 0))) {
      throw new RangeError(`${what}: happyEyeballsDelay must be a number of ms >= 0`);
    }
    if (delay !== null && interleave === undefined) interleave = 1;
    const gai: GetaddrinfoOptions = {
      family: options.family ?? "unspec",
      type: "stream",
      proto: options.proto ?? 0,
      flags: options.flags ?? 0,
    };
    const lookups: Promise<AddrInfo[]>[] = [resolveWith(loop, host ?? null, port ?? null, gai)];
    const local = options.localAddr;
    if (local !== undefined && local !== null) {
      if (typeof local !== "object" || typeof local.hostname !== "string") {
        throw new TypeError(`${what}: localAddr must be { hostname, port }`);
      }
      lookups.push(resolveWith(loop, local.hostname, local.port ?? 0, gai));
    }
    const [infos, localInfos = null] = await raceAbort(Promise.all(lookups), signal);
    if (infos.length === 0) throw new Error(`${what}: getaddrinfo() returned an empty list`);
    if (localInfos !== null && localInfos.length === 0) {
      throw new Error(`${what}: getaddrinfo() returned an empty list for localAddr`);
    }
    const order = interleave ? interleaveAddrinfos(infos, interleave) : infos;
    const errors: unknown[][] = [];
    let connected: Socket | undefined;
    if (delay === null) {
      for (const info of order) {
        try {
          connected = await connectSock(loop, errors, info, localInfos, signal);
          break;
        } catch (e) {
          if (e instanceof CancelledError) throw e;
        }
      }
    } else {
      const race = await staggeredRace(
        loop,
        order.map((info) => (s: AbortSignal) => {
          const both = signal === undefined ? s : AbortSignal.any([s, signal]);
          return connectSock(loop, errors, info, localInfos, both);
        }),
        delay,
        { signal, discard: (late) => late.close() },
      );
      connected = race.result;
    }
    if (connected === undefined) {
      if (signal?.aborted) throw cancelled(signal);
      throw connectionFailure(errors.flat(), options.allErrors ?? false);
    }
    return await createConnectionTransport(loop, hooks, connected, protocolFactory, {
      noDelay,
      signal,
      own: true,
      tls,
    });
  }
  if (given === undefined) {
    throw new TypeError(`${what}: host and port were not specified and no sock specified`);
  }
  if (!(given instanceof Socket) || given.type !== "stream") {
    throw new TypeError(`${what}: a stream Socket was expected`);
  }
  return await createConnectionTransport(loop, hooks, given, protocolFactory, {
    noDelay,
    signal,
    tls,
  });
}

/**
 * Wraps an accepted (or otherwise connected) stream socket in a transport
 * (asyncio's `connect_accepted_socket`). Backs
 * `loop.connectAcceptedSocket()`.
 *
 * @example
 * ```ts ignore
 * const [conn] = server.accept();
 * const [transport, protocol] = await connectAcceptedSocket(loop, hooks, () => new MyProtocol(), conn);
 * ```
 */
export async function connectAcceptedSocket<P extends StreamProtocol>(
  loop: ConnectionLoop,
  hooks: LoopHooks,
  protocolFactory: () => P,
  sock: Socket,
  options: ConnectAcceptedSocketOptions = {},
): Promise<TransportAndProtocol<P>> {
  const what = "connectAcceptedSocket()";
  checkFactory(protocolFactory, what);
  checkOptions(options, what);
  if (!(sock instanceof Socket) || sock.type !== "stream") {
    throw new TypeError(`${what}: a stream Socket was expected`);
  }
  // An accepted socket is the server's side (asyncio: server_side=True).
  const tls = planTls(options, true, null, what);
  return await createConnectionTransport(loop, hooks, sock, protocolFactory, {
    noDelay: options.noDelay,
    tls,
  }).finally(() => tls?.ssl.release()); // the connection holds its own reference
}
