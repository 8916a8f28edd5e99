/**
 * `Server`: the listening sockets made by `createServer`/`createUnixServer`
 * and the connections they accepted (asyncio's `base_events.Server`, with
 * the accept loop of `selector_events._accept_connection`).
 *
 * @module
 */
import type { Socket } from "../../net/mod.ts";
import type { Transport } from "../../transports/base_transport.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { AbstractServer, ServeForeverOptions } from "../abstract_server.ts";
import { CancelledError } from "../errors.ts";
import type { Future } from "../future.ts";
import { cancelOnAbort, checkSignal } from "../_signal.ts";
import type { ServerHooks, ServingHooks, ServingTarget } from "./loop_hooks.ts";

/**
 * How long accepting pauses after `EMFILE`/`ENFILE`/`ENOBUFS`/`ENOMEM`, in
 * ms (asyncio's `ACCEPT_RETRY_DELAY`, 1 s).
 *
 * @example
 * ```ts
 * import { ACCEPT_RETRY_DELAY_MS } from "./server.ts";
 * console.log(ACCEPT_RETRY_DELAY_MS); // 1000
 * ```
 */
export const ACCEPT_RETRY_DELAY_MS = 1000;

/**
 * The default `backlog` of `listen()` (asyncio's 100); also the most
 * connections accepted per readiness event.
 *
 * @example
 * ```ts
 * import { DEFAULT_BACKLOG } from "./server.ts";
 * console.log(DEFAULT_BACKLOG); // 100
 * ```
 */
export const DEFAULT_BACKLOG = 100;

/** What a server needs of its loop. */
export type ServerLoop = AbstractEventLoop;

/** A function that makes a protocol for each accepted connection. */
export type ProtocolFactory<P extends StreamProtocol = StreamProtocol> = () => P;

/** Options of {@linkcode Server}'s constructor (the loop's `createServer` fills them in). */
export interface ServerOptions {
  /** `listen()` backlog and the most accepts per readiness event (default 100). */
  backlog?: number;
  /** The pause after running out of fds, in ms (default {@linkcode ACCEPT_RETRY_DELAY_MS}). */
  acceptRetryDelay?: number;
  /** Set `TCP_NODELAY` on accepted TCP connections (default `true`). */
  noDelay?: boolean;
  /** Called with each listening socket after `close()` closed it (unix path cleanup). */
  onSocketClosed?: (sock: Socket) => void;
  /** How the loop kind accepts on a socket (the loop's `createServer` passes its own). */
  serving: ServingHooks;
}

/**
 * The end of `createServer`/`createUnixServer`: makes the server over
 * `sockets` (calling `onFailure` to close what the caller opened when that
 * throws), then starts serving unless `startServing` is `false` (closing
 * the server when that fails).
 */
export async function openServer(
  loop: ServerLoop,
  sockets: Socket[],
  protocolFactory: ProtocolFactory,
  options: ServerOptions,
  startServing: boolean | undefined,
  onFailure: () => void,
): Promise<Server> {
  let server: Server;
  try {
    server = new Server(loop, sockets, protocolFactory, options);
  } catch (e) {
    onFailure();
    throw e;
  }
  if (startServing ?? true) {
    try {
      await server.startServing();
    } catch (e) {
      server.close();
      throw e;
    }
  }
  return server;
}

/**
 * A server: listening sockets and their connections. `close()` stops
 * listening; `waitClosed()` resolves once it is closed and every connection
 * is gone. `await using server = ...` closes and waits.
 *
 * @example
 * ```ts ignore
 * await using server = await loop.createServer(() => new Echo(), { host: "127.0.0.1", port: 0 });
 * console.log(server.sockets[0].getsockname());
 * ```
 */
export class Server implements AbstractServer {
  #loop: ServerLoop;
  #sockets: Socket[] | null;
  #onSocketClosed: ((sock: Socket) => void) | undefined;
  #clients = new Set<Transport>();
  #waiters: Future<void>[] | null = [];
  #serving = false;
  #servingForever: Future<void> | null = null;
  #loopServing: ServingHooks;
  // What the loop kind's accept machinery reads (asyncio passes the server itself).
  #target: ServingTarget;

  /** Wraps bound stream `sockets`; the loop's `createServer` is the usual way to make one. */
  constructor(
    loop: ServerLoop,
    sockets: Socket[],
    protocolFactory: ProtocolFactory,
    options: ServerOptions,
  ) {
    if (typeof protocolFactory !== "function") {
      throw new TypeError("Server: protocolFactory must be a function");
    }
    const { backlog = DEFAULT_BACKLOG, acceptRetryDelay = ACCEPT_RETRY_DELAY_MS } = options;
    if (!Number.isInteger(backlog) || backlog < 0) {
      throw new RangeError(`Server: backlog must be a non-negative integer, got ${backlog}`);
    }
    if (typeof acceptRetryDelay !== "number" || !(acceptRetryDelay >= 0)) {
      throw new RangeError(`Server: acceptRetryDelay must be >= 0 ms, got ${acceptRetryDelay}`);
    }
    this.#loop = loop;
    this.#sockets = [...sockets];
    this.#onSocketClosed = options.onSocketClosed;
    this.#loopServing = options.serving;
    const hooks: ServerHooks = {
      attach: (t) => void this.#clients.add(t),
      detach: (t) => this.#detach(t),
    };
    this.#target = {
      protocolFactory,
      backlog,
      acceptRetryDelay,
      noDelay: options.noDelay ?? true,
      hooks,
      isServing: () => this.#serving,
    };
  }

  /**
   * The loop the server runs on.
   *
   * @example
   * ```ts ignore
   * console.log(server.getLoop() === loop); // true
   * ```
   */
  getLoop(): AbstractEventLoop {
    return this.#loop;
  }

  /**
   * Whether the server accepts connections.
   *
   * @example
   * ```ts ignore
   * console.log(server.isServing());
   * ```
   */
  isServing(): boolean {
    return this.#serving;
  }

  /**
   * The listening sockets (a copy; empty once closed).
   *
   * @example
   * ```ts ignore
   * for (const sock of server.sockets) console.log(sock.getsockname());
   * ```
   */
  get sockets(): readonly Socket[] {
    return this.#sockets === null ? [] : [...this.#sockets];
  }

  /**
   * Starts accepting (`listen()`, then watching the sockets) if it was made
   * with `startServing: false`; does nothing when already serving.
   *
   * @example
   * ```ts ignore
   * await server.startServing();
   * ```
   */
  startServing(): Promise<void> {
    try {
      this.#start();
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve();
  }

  // asyncio's _start_serving.
  #start(): void {
    if (this.#serving) return;
    if (this.#sockets === null) throw new Error(`${this} is closed`);
    this.#serving = true;
    for (const sock of this.#sockets) {
      sock.listen(this.#target.backlog);
      this.#loopServing.startServing(this.#target, sock);
    }
  }

  #detach(transport: Transport): void {
    this.#clients.delete(transport);
    if (this.#clients.size === 0 && this.#sockets === null) this.#wakeup();
  }

  #wakeup(): void {
    const waiters = this.#waiters;
    this.#waiters = null;
    if (waiters === null) return;
    for (const w of waiters) if (!w.done()) w.setResult(undefined);
  }

  /**
   * Stops listening and closes the listening sockets; open connections stay
   * (see `closeClients()`/`abortClients()`). Calling it again does nothing.
   *
   * @example
   * ```ts ignore
   * server.close();
   * await server.waitClosed();
   * ```
   */
  close(): void {
    const sockets = this.#sockets;
    if (sockets === null) return;
    this.#sockets = null;
    for (const sock of sockets) {
      this.#loopServing.stopServing(sock);
      sock.close();
      this.#onSocketClosed?.(sock);
    }
    this.#serving = false;
    const forever = this.#servingForever;
    if (forever !== null && !forever.done()) {
      forever.cancel();
      this.#servingForever = null;
    }
    if (this.#clients.size === 0) this.#wakeup();
  }

  /**
   * Closes every connection of the server (their buffers are still sent).
   *
   * @example
   * ```ts ignore
   * server.close();
   * server.closeClients();
   * ```
   */
  closeClients(): void {
    for (const t of [...this.#clients]) t.close();
  }

  /**
   * Aborts every connection of the server (buffers are dropped).
   *
   * @example
   * ```ts ignore
   * server.abortClients();
   * ```
   */
  abortClients(): void {
    for (const t of [...this.#clients]) t.abort();
  }

  /**
   * Resolves once the server is closed and all its connections are gone.
   *
   * @example
   * ```ts ignore
   * server.close();
   * await server.waitClosed();
   * ```
   */
  async waitClosed(): Promise<void> {
    if (this.#waiters === null) return;
    const waiter = this.#loop.createFuture<void>();
    this.#waiters.push(waiter);
    await waiter;
  }

  /**
   * Serves until closed or `signal` aborts, then closes and waits for the
   * server; it always ends by rejecting with `CancelledError` (asyncio's
   * `serve_forever()` raises it too).
   *
   * @example
   * ```ts ignore
   * const ac = new AbortController();
   * const forever = server.serveForever({ signal: ac.signal });
   * ac.abort();
   * await forever.catch(() => {}); // CancelledError
   * ```
   */
  async serveForever(options: ServeForeverOptions = {}): Promise<void> {
    checkSignal(options.signal, "serveForever");
    if (this.#servingForever !== null) {
      throw new Error(`${this} is already being awaited on serveForever()`);
    }
    if (this.#sockets === null) throw new Error(`${this} is closed`);
    this.#start();
    const fut = this.#servingForever = this.#loop.createFuture<void>();
    cancelOnAbort(fut, options.signal);
    try {
      await fut;
    } catch (e) {
      if (e instanceof CancelledError) {
        this.close();
        await this.waitClosed();
      }
      throw e;
    } finally {
      if (this.#servingForever === fut) this.#servingForever = null;
    }
  }

  /**
   * Closes the server and waits for it (for `await using`).
   *
   * @example
   * ```ts ignore
   * await using server = await loop.createServer(factory, { port: 0 });
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.waitClosed();
  }

  /**
   * A short description with the listening addresses.
   *
   * @example
   * ```ts ignore
   * console.log(String(server)); // "<Server sockets=[127.0.0.1:8888]>"
   * ```
   */
  toString(): string {
    const names = (this.#sockets ?? []).map((s) => {
      try {
        const a = s.getsockname();
        return "path" in a ? JSON.stringify(a.path) : `${a.hostname}:${a.port}`;
      } catch {
        return `fd ${s.fileno()}`;
      }
    });
    return `<Server sockets=[${names.join(", ")}]>`;
  }
}
