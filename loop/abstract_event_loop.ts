/**
 * `AbstractEventLoop`: the methods every loop has (asyncio's
 * `events.AbstractEventLoop`), and the types of their signatures.
 *
 * @module
 */
import type { Callback, Handle, TimerHandle } from "./handle.ts";
import type { Future } from "./future.ts";
import type { Task } from "./task.ts";
import type { FileObj, HasFileno } from "../selectors/mod.ts";
import type {
  Address,
  AddrInfo,
  GetaddrinfoOptions,
  NetAddress,
  Socket,
  SocketFamily,
} from "../net/mod.ts";
import type {
  DatagramTransport,
  ReadTransport,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from "../transports/base_transport.ts";
import type { BaseProtocol } from "../transports/protocol.ts";
import type { DatagramProtocol } from "../transports/datagram_protocol.ts";
import type { StreamProtocol } from "../transports/stream_protocol.ts";
import type { SubprocessProtocol } from "../transports/subprocess_protocol.ts";
import type {
  ConnectAcceptedSocketOptions,
  CreateConnectionOptions,
  CreateServerOptions,
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
  SSLOption,
  StartTlsOptions,
} from "./connection_options.ts";
import type { AbstractServer } from "./abstract_server.ts";
import type { SubprocessOptions } from "./subprocess_options.ts";

/**
 * What the pipe methods take: an fd, or an object with `fileno()` (a
 * `Socket`; Deno's `FsFile` hides its fd).
 */
export type PipeFileObj = number | HasFileno;

/**
 * What an exception handler receives, shaped as asyncio's context dict:
 * `message` always, then whichever of the other keys apply.
 */
export interface ExceptionContext {
  /** What went wrong, e.g. `"Exception in callback tick()"`. */
  message: string;
  /** The error thrown, if any. */
  exception?: unknown;
  /** The future involved. */
  future?: Future<unknown>;
  /** The task involved. */
  task?: Task<unknown>;
  /** The handle whose callback threw. */
  handle?: Handle;
  /** The protocol involved. */
  protocol?: unknown;
  /** The transport involved. */
  transport?: unknown;
  /** The socket involved. */
  socket?: unknown;
  /** Where the object involved was made (debug mode). */
  sourceTraceback?: string;
  /** Where the handle being run was made (debug mode). */
  handleTraceback?: string;
  /** Anything else a caller adds. */
  [key: string]: unknown;
}

/** An exception handler: called as asyncio calls it, `(loop, context)`. */
export type ExceptionHandler = (loop: AbstractEventLoop, context: ExceptionContext) => void;

/**
 * What `createTask()` runs: an async function given the task's AbortSignal,
 * which `task.cancel()` aborts.
 */
export type CoroutineFunction<T> = (signal: AbortSignal) => PromiseLike<T> | T;

/** Options of `createTask()`. */
export interface TaskOptions {
  /** The task's name; `"Task-<n>"` when omitted. */
  name?: string;
}

/** Anything the loop can wait for: a `Future`, a `Task`, a promise or another thenable. */
export type Awaitable<T> = PromiseLike<T>;

/**
 * Options of a loop's constructor.
 */
export interface EventLoopOptions {
  /** Starts in debug mode: slow callbacks are reported and handles keep their stack. */
  debug?: boolean;
  /** The loop's clock in ms (default `performance.now`); inject one to fake time in tests. */
  clock?: () => number;
  /** The clock's resolution in ms; measured for the default clock, 0.001 for an injected one. */
  clockResolution?: number;
  /**
   * How finely a wait can end, in ms; the OS's for the default clock (on
   * Windows the system timer's), `clockResolution` for an injected one.
   */
  timerResolution?: number;
}

/**
 * Options of the `sock*` calls (`sockRecv()`, `sockSendall()`, ...).
 *
 * @example
 * ```ts ignore
 * const ac = new AbortController();
 * const pending = loop.sockRecv(sock, 1024, { signal: ac.signal } satisfies SockOptions);
 * ac.abort(); // pending rejects with CancelledError; the fd is no longer watched
 * ```
 */
export interface SockOptions {
  /** Aborting it cancels the call: it rejects with `CancelledError` and stops waiting on the fd. */
  signal?: AbortSignal;
}

/**
 * What `sockSendfile()` sends: a path (a string or a `file:` URL), opened
 * for the call and closed after it, or an open fd (a file HANDLE on Windows)
 * the caller owns, left open.
 */
export type SendfileFile = string | URL | number;

/**
 * Options of `sockSendfile()` (asyncio's `offset`, `count` and `fallback`).
 *
 * @example
 * ```ts ignore
 * const sent = await loop.sockSendfile(sock, "/var/www/index.html", {
 *   offset: 0,
 *   count: 4096,
 *   fallback: true,
 * } satisfies SendfileOptions);
 * ```
 */
export interface SendfileOptions extends SockOptions {
  /** Where in the file to start, in bytes (default 0; the fd's own position is not used). */
  offset?: number;
  /** How many bytes to send at most (default: up to the end of the file); a positive integer. */
  count?: number | null;
  /**
   * Whether to read and send the file in chunks when the loop or the file has no native
   * sendfile (default true); false makes that case reject with `NotSupported` saying why.
   */
  fallback?: boolean;
}

/**
 * A `localAddr`/`remoteAddr` of `createDatagramEndpoint()`: a Deno-shaped
 * address, or a host name and port to resolve (the `transport` may be
 * omitted: `{ hostname: "localhost", port: 53 }`).
 */
export type DatagramEndpointAddress =
  | Address
  | { transport?: "udp"; hostname: string; port: number; flowinfo?: number }
  | { transport?: "unix" | "unixpacket"; path: string };

/**
 * Options of `createDatagramEndpoint()` (asyncio's keyword arguments).
 *
 * @example
 * ```ts ignore
 * const options: DatagramEndpointOptions = {
 *   localAddr: { transport: "udp", hostname: "0.0.0.0", port: 5353 },
 *   reusePort: true,
 * };
 * const [transport] = await loop.createDatagramEndpoint(() => new MyProtocol(), options);
 * ```
 */
export interface DatagramEndpointOptions {
  /** Bind to this address (a host name is resolved; a unix path's stale socket file is removed). */
  localAddr?: DatagramEndpointAddress | null;
  /** Connect to this address: `sendto()` then needs no address and `errorReceived()` gets ICMP errors. */
  remoteAddr?: DatagramEndpointAddress | null;
  /** The address family; inferred from the addresses when omitted (required without them). */
  family?: SocketFamily | "unspec";
  /** The protocol number; 0 (UDP) by default. */
  proto?: number;
  /** `AI_*` flags for resolving the addresses. */
  flags?: number;
  /** Set `SO_REUSEPORT`: several sockets may bind the same address (`NotSupported` where the OS lacks it). */
  reusePort?: boolean;
  /** Set `SO_BROADCAST`; the socket is then not connected even with `remoteAddr`. */
  allowBroadcast?: boolean;
  /** Use this `"dgram"` socket (bound or connected already) instead; excludes the other options. */
  sock?: Socket;
  /**
   * Refused with a `TypeError`, as asyncio (3.11+) refuses `reuse_address`:
   * `SO_REUSEADDR` on UDP lets other processes receive the endpoint's datagrams.
   */
  reuseAddress?: never;
}

/**
 * The interface of every event loop (asyncio's `AbstractEventLoop`), in
 * milliseconds.
 *
 * @example
 * ```ts
 * import { type AbstractEventLoop, SelectorEventLoop } from "@aio/loop";
 * using loop: AbstractEventLoop = new SelectorEventLoop();
 * loop.callSoon(() => loop.stop());
 * await loop.runForever();
 * ```
 */
export interface AbstractEventLoop extends Disposable {
  /** Runs until `stop()` is called. */
  runForever(): Promise<void>;
  /** Runs until `future` is done; returns its result or throws its error. */
  runUntilComplete<T>(future: Awaitable<T> | CoroutineFunction<T>): Promise<T>;
  /** Stops the loop after the current iteration. */
  stop(): void;
  /** Whether the loop is running. */
  isRunning(): boolean;
  /** Whether the loop was closed. */
  isClosed(): boolean;
  /** Closes the loop; it must not be running. */
  close(): void;

  /**
   * Calls `callback(...args)` on the next iteration. A callback whose one
   * parameter may be left out (a Promise's `resolve`) needs no arguments.
   */
  callSoon(callback: (value?: undefined) => unknown): Handle;
  /** Calls `callback(...args)` on the next iteration. */
  callSoon<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle;
  /** Like `callSoon()`; also wakes the loop (asyncio's thread-safe variant). */
  callSoonThreadsafe(callback: (value?: undefined) => unknown): Handle;
  /** Like `callSoon()`; also wakes the loop (asyncio's thread-safe variant). */
  callSoonThreadsafe<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle;
  /**
   * Calls `callback(...args)` after `delayMs`; `new Promise((r) =>
   * loop.callLater(10, r))` type-checks, as with `setTimeout`.
   */
  callLater(delayMs: number, callback: (value?: undefined) => unknown): TimerHandle;
  /** Calls `callback(...args)` after `delayMs`. */
  callLater<A extends unknown[]>(delayMs: number, callback: Callback<A>, ...args: A): TimerHandle;
  /** Calls `callback(...args)` at loop time `when` (ms). */
  callAt(when: number, callback: (value?: undefined) => unknown): TimerHandle;
  /** Calls `callback(...args)` at loop time `when` (ms). */
  callAt<A extends unknown[]>(when: number, callback: Callback<A>, ...args: A): TimerHandle;
  /** The loop's monotonic clock, in ms. */
  time(): number;
  /** The resolution of `time()`, in ms. */
  readonly clockResolution: number;
  /**
   * How finely a wait of the loop can end, in ms: on Windows the system
   * timer's resolution (usually 15.625 ms); elsewhere `clockResolution`.
   */
  readonly timerResolution: number;

  /** Makes a `Future` bound to this loop. */
  createFuture<T = unknown>(): Future<T>;
  /** Runs `coro` as a `Task`, starting on the loop's next iteration. */
  createTask<T>(coro: CoroutineFunction<T>, options?: TaskOptions): Task<T>;

  /**
   * Calls `callback(...args)` whenever `fileobj` is readable; replaces an earlier reader. A
   * fileobj that is not an fd, or a callback that is not a function, throws `TypeError`
   * (`RangeError` for an fd out of range) before anything else, even on a closed loop.
   */
  addReader<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle;
  /** Stops watching `fileobj` for reading; returns whether it was watched (junk throws). */
  removeReader(fileobj: FileObj): boolean;
  /** Calls `callback(...args)` whenever `fileobj` is writable; replaces an earlier writer. */
  addWriter<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle;
  /** Stops watching `fileobj` for writing; returns whether it was watched (junk throws). */
  removeWriter(fileobj: FileObj): boolean;

  /** Calls `callback(...args)` on the loop whenever signal `sig` arrives (Unix only). */
  addSignalHandler<A extends unknown[]>(sig: Deno.Signal, callback: Callback<A>, ...args: A): void;
  /** Removes the handler of signal `sig`; returns whether there was one. */
  removeSignalHandler(sig: Deno.Signal): boolean;

  /** Receives up to `nbytes` bytes from the nonblocking `sock` (empty at end of stream). */
  sockRecv(sock: Socket, nbytes: number, options?: SockOptions): Promise<Uint8Array>;
  /** Receives into `buf`; resolves to the byte count (0 at end of stream). */
  sockRecvInto(sock: Socket, buf: Uint8Array, options?: SockOptions): Promise<number>;
  /** Receives a datagram of up to `bufsize` bytes and its sender's address. */
  sockRecvfrom(
    sock: Socket,
    bufsize: number,
    options?: SockOptions,
  ): Promise<[Uint8Array, Address]>;
  /** Receives a datagram into `buf` (at most `nbytes`): the byte count and the sender. */
  sockRecvfromInto(
    sock: Socket,
    buf: Uint8Array,
    nbytes?: number,
    options?: SockOptions,
  ): Promise<[number, Address]>;
  /** Sends all of `data`, waiting for writability as needed. */
  sockSendall(sock: Socket, data: Uint8Array, options?: SockOptions): Promise<void>;
  /** Sends the datagram `data` to `address`; resolves to the bytes sent. */
  sockSendto(
    sock: Socket,
    data: Uint8Array,
    address: Address,
    options?: SockOptions,
  ): Promise<number>;
  /** Connects `sock` to `address`, resolving a host name first. */
  sockConnect(sock: Socket, address: Address, options?: SockOptions): Promise<void>;
  /** Accepts a connection on the listening `sock`: the new socket and the peer's address. */
  sockAccept(sock: Socket, options?: SockOptions): Promise<[Socket, Address]>;
  /**
   * Sends the regular file `file` (a path, or an open fd/HANDLE the caller
   * owns) on the connected, nonblocking stream socket `sock`: natively
   * (`sendfile(2)`, TransmitFile) where the loop can, else read and sent in
   * chunks (unless `fallback` is false). Resolves to the bytes sent; an fd
   * is left positioned at `offset` + the bytes sent.
   */
  sockSendfile(sock: Socket, file: SendfileFile, options?: SendfileOptions): Promise<number>;
  /** Resolves `host` and `port` off the JavaScript thread. */
  getaddrinfo(
    host: string | null,
    port: number | string | null,
    options?: GetaddrinfoOptions,
  ): Promise<AddrInfo[]>;
  /** The host and service names of `addr`. */
  getnameinfo(addr: NetAddress, flags?: number): Promise<[string, string]>;
  /** Opens a UDP or unix datagram endpoint: the transport and the protocol `protocolFactory` made. */
  createDatagramEndpoint<P extends DatagramProtocol>(
    protocolFactory: () => P,
    options?: DatagramEndpointOptions,
  ): Promise<[DatagramTransport, P]>;
  /** Connects to `options.host`/`options.port` (or wraps `options.sock`): `[transport, protocol]`. */
  createConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    options?: CreateConnectionOptions,
  ): Promise<[Transport, P]>;
  /** Listens on `options.host`(s)/`options.port` (or `options.sock`) and serves connections. */
  createServer<P extends StreamProtocol>(
    protocolFactory: () => P,
    options?: CreateServerOptions,
  ): Promise<AbstractServer>;
  /** Connects to the unix socket `path` (or wraps `options.sock`). */
  createUnixConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    path?: string | null,
    options?: CreateUnixConnectionOptions,
  ): Promise<[Transport, P]>;
  /** Listens on the unix socket `path` (or `options.sock`). */
  createUnixServer<P extends StreamProtocol>(
    protocolFactory: () => P,
    path?: string | null,
    options?: CreateUnixServerOptions,
  ): Promise<AbstractServer>;
  /**
   * Upgrades the open connection `transport` (whose protocol is `protocol`)
   * to TLS: resolves to the new transport once the handshake completed.
   */
  startTls(
    transport: Transport,
    protocol: StreamProtocol,
    ssl: SSLOption,
    options?: StartTlsOptions,
  ): Promise<Transport>;
  /** Wraps an accepted stream socket in a transport. */
  connectAcceptedSocket<P extends StreamProtocol>(
    protocolFactory: () => P,
    sock: Socket,
    options?: ConnectAcceptedSocketOptions,
  ): Promise<[Transport, P]>;
  /** Wraps the read end of a pipe, FIFO, socket or character device (an fd or `fileno()` object). */
  connectReadPipe<P extends StreamProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj,
  ): Promise<[ReadTransport, P]>;
  /** Wraps the write end of a pipe, FIFO, socket or character device (an fd or `fileno()` object). */
  connectWritePipe<P extends BaseProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj,
  ): Promise<[WriteTransport, P]>;
  /** Starts `args[0]` with the arguments `args` (posix_spawn): `[transport, protocol]`. */
  subprocessExec<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    args: readonly string[],
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]>;
  /** Runs the shell command `cmd` with `/bin/sh -c`: `[transport, protocol]`. */
  subprocessShell<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    cmd: string,
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]>;

  /** Sets the exception handler; `null` restores the default one. */
  setExceptionHandler(handler: ExceptionHandler | null): void;
  /** The exception handler, or `null` for the default one. */
  getExceptionHandler(): ExceptionHandler | null;
  /** The default handler: reports `context` through `console.error`. */
  defaultExceptionHandler(context: ExceptionContext): void;
  /** Calls the exception handler with `context`. */
  callExceptionHandler(context: ExceptionContext): void;
  /** Whether the loop is in debug mode. */
  getDebug(): boolean;
  /** Turns debug mode on or off. */
  setDebug(enabled: boolean): void;
  /** In debug mode, callbacks slower than this many ms are reported. */
  slowCallbackDuration: number;
}
