/**
 * `SelectorEventLoop`: `BaseEventLoop` plus readiness I/O over a
 * `BaseSelector` (asyncio's `selector_events.BaseSelectorEventLoop`).
 *
 * @module
 */
import {
  BaseSelector,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  type FileObj,
  type SelectorKey,
  type SelectResult,
} from "../../selectors/mod.ts";
import type {
  DatagramEndpointOptions,
  EventLoopOptions,
  SockOptions,
} from "../abstract_event_loop.ts";
import {
  type Address,
  type AddrInfo,
  getaddrinfo,
  type GetaddrinfoOptions,
  getnameinfo,
  type NetAddress,
  type Socket,
} from "../../net/mod.ts";
import * as ops from "./sock_ops.ts";
import { BaseEventLoop } from "../base/base_event_loop.ts";
import { type Callback, Handle } from "../handle.ts";
import { SignalHandlers } from "../unix/signal_handlers.ts";
import { createDatagramEndpoint } from "../base/create_datagram_endpoint.ts";
import type { SelectorDatagramTransport } from "./datagram_transport.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { Transport } from "../../transports/base_transport.ts";
import type { StreamProtocol } from "./socket_transport.ts";
import {
  connectAcceptedSocket,
  type ConnectAcceptedSocketOptions,
  createConnection,
  type CreateConnectionOptions,
} from "../base/create_connection.ts";
import { createServer, type CreateServerOptions } from "../base/create_server.ts";
import type { Server } from "../base/server.ts";
import {
  createUnixConnection,
  type CreateUnixConnectionOptions,
  createUnixServer,
  type CreateUnixServerOptions,
} from "../unix/unix_sockets.ts";
import { connectReadPipe, connectWritePipe, type PipeFileObj } from "../unix/pipes.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { UnixReadPipeTransport } from "../unix/read_pipe_transport.ts";
import type { UnixWritePipeTransport } from "../unix/write_pipe_transport.ts";
import {
  _detachLoopFromWatchers,
  subprocessExec,
  type SubprocessOptions,
  subprocessShell,
} from "../unix/subprocess.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import type { UnixSubprocessTransport } from "../unix/subprocess_transport.ts";

/** What the loop keeps in a selector key: the reader and writer handles of the fd. */
class Watchers {
  constructor(public reader: Handle | null, public writer: Handle | null) {}
}

// Lenient: only finds an existing key; register() does the checking and the error messages.
function toFd(fileobj: FileObj): number {
  if (typeof fileobj === "number") return fileobj;
  try {
    const fileno = (fileobj as { fileno?: unknown } | null)?.fileno;
    return typeof fileno === "function" ? fileno.call(fileobj) : -1;
  } catch {
    return -1;
  }
}

/**
 * asyncio's `SelectorEventLoop`: an event loop that watches fds with a
 * selector (`DefaultSelector` unless one is given). Closing the loop
 * closes the selector.
 *
 * @example
 * ```ts
 * import { PollSelector, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop(new PollSelector());
 * loop.callSoon(() => loop.stop());
 * await loop.runForever();
 * ```
 */
export class SelectorEventLoop extends BaseEventLoop {
  #selector: BaseSelector;
  // Keys whose watchers were dropped by _release(): settled before the next poll.
  #released: SelectorKey[] = [];
  #signals: SignalHandlers | null = null;

  /** Makes a loop over a new `DefaultSelector`. */
  constructor(options?: EventLoopOptions);
  /** Makes a loop over `selector` (a new `DefaultSelector` when `null`). */
  constructor(selector: BaseSelector | null | undefined, options?: EventLoopOptions);
  constructor(
    selectorOrOptions?: BaseSelector | EventLoopOptions | null,
    options?: EventLoopOptions,
  ) {
    const selector = selectorOrOptions instanceof BaseSelector ? selectorOrOptions : null;
    if (selector === null && selectorOrOptions != null) {
      if (options !== undefined || typeof selectorOrOptions !== "object") {
        throw new TypeError("SelectorEventLoop() takes a BaseSelector, then options");
      }
      options = selectorOrOptions as EventLoopOptions;
    }
    super(options);
    this.#selector = selector ?? new DefaultSelector();
  }

  /**
   * The selector the loop waits with.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.selector.name); // "epoll" on Linux
   * ```
   */
  get selector(): BaseSelector {
    return this.#selector;
  }

  /**
   * Closes the loop and its selector (with its wakeup fds).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * const loop = new SelectorEventLoop();
   * loop.close();
   * ```
   */
  override close(): void {
    if (this.isClosed()) return;
    this.#released.length = 0;
    super.close();
    this.#signals?.clear();
    // Children still running can no longer be reported: they are killed and reaped.
    if (Deno.build.os !== "windows") _detachLoopFromWatchers(this);
    this.#selector.close();
  }

  /**
   * Calls `callback(...args)` on the loop whenever signal `sig` (Deno's
   * name, such as `"SIGUSR1"`) arrives, waking the loop if it waits. One
   * handler per signal: a new one replaces the old. Async functions are
   * refused (`TypeError`), as are SIGKILL and SIGSTOP (`NotSupported`) and
   * unknown names (`RangeError`). Closing the loop removes its handlers.
   * Unix only: `NotSupported` on Windows.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * if (Deno.build.os !== "windows") {
   *   loop.addSignalHandler("SIGUSR1", () => loop.stop());
   *   setTimeout(() => Deno.kill(Deno.pid, "SIGUSR1"), 10);
   *   await loop.runForever();
   *   loop.removeSignalHandler("SIGUSR1");
   * }
   * ```
   */
  addSignalHandler<A extends unknown[]>(sig: Deno.Signal, callback: Callback<A>, ...args: A): void {
    (this.#signals ??= new SignalHandlers(this)).add(sig, callback as Callback, args);
  }

  /**
   * Removes the handler of signal `sig`; returns whether there was one.
   * Without a handler, Deno restores the signal's default action.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * if (Deno.build.os !== "windows") {
   *   console.log(loop.removeSignalHandler("SIGUSR1")); // false
   * }
   * ```
   */
  removeSignalHandler(sig: Deno.Signal): boolean {
    return (this.#signals ??= new SignalHandlers(this)).remove(sig);
  }

  /** Polls the selector without waiting. */
  protected _poll(): void {
    if (this.#released.length > 0) this.#flushReleased();
    const events = this.#selector.select(0);
    if (events.length > 0) this.#processEvents(events);
  }

  /** Waits with the selector off the JS thread. */
  protected async _wait(timeoutMs: number | null): Promise<boolean> {
    if (this.#released.length > 0) this.#flushReleased();
    const events = await this.#selector.selectAsync(timeoutMs);
    if (events.length === 0 || this.isClosed()) return false;
    this.#processEvents(events);
    return true;
  }

  /** Waits with the selector on the JS thread. */
  protected _waitBriefly(timeoutMs: number): boolean {
    if (this.#released.length > 0) this.#flushReleased();
    const events = this.#selector.select(timeoutMs);
    if (events.length === 0) return false;
    this.#processEvents(events);
    return true;
  }

  /** Wakes a pending `selectAsync()`. */
  protected _wakeup(): void {
    this.#selector.wakeup();
  }

  #processEvents(events: SelectResult): void {
    for (let i = 0; i < events.length; i++) {
      const [key, mask] = events[i];
      const w = key.data as Watchers;
      if ((mask & EVENT_READ) !== 0 && w.reader !== null) {
        if (w.reader.cancelled()) this.removeReader(key.fileobj);
        else this._addCallback(w.reader);
      }
      if ((mask & EVENT_WRITE) !== 0 && w.writer !== null) {
        if (w.writer.cancelled()) this.removeWriter(key.fileobj);
        else this._addCallback(w.writer);
      }
    }
  }

  #add(
    fileobj: FileObj,
    event: number,
    callback: Callback,
    args: unknown[],
    method: string,
  ): Handle {
    if (this.isClosed()) throw new Error("Event loop is closed");
    if (typeof callback !== "function") {
      throw new TypeError(`a callable object was expected by ${method}(), got ${typeof callback}`);
    }
    const handle = new Handle(callback, { loop: this, args });
    let key = this.#selector.getMap().get(toFd(fileobj));
    if (key !== undefined && key.fileobj !== fileobj) {
      // Another object on the same fd number: the registered one may have been
      // closed (taking its kernel registration with it) and the number reused.
      const w = key.data as Watchers;
      this.#selector.unregister(key.fileobj);
      const live = (w.reader !== null ? EVENT_READ : 0) | (w.writer !== null ? EVENT_WRITE : 0);
      key = live === 0 ? undefined : this.#selector.register(fileobj, live, w);
    }
    if (key === undefined) {
      const w = event === EVENT_READ ? new Watchers(handle, null) : new Watchers(null, handle);
      this.#selector.register(fileobj, event, w);
      return handle;
    }
    const w = key.data as Watchers;
    const old = event === EVENT_READ ? w.reader : w.writer;
    if ((key.events & event) === 0) this.#selector.modify(fileobj, key.events | event, w);
    if (event === EVENT_READ) w.reader = handle;
    else w.writer = handle;
    old?.cancel();
    return handle;
  }

  /**
   * Drops the reader (or writer) of `fileobj` at once but keeps its kernel
   * registration until just before the next poll, so that a watch released
   * and added again within one iteration (a `sock*` call completing, then
   * the next one waiting) costs no syscall.
   */
  _release(fileobj: FileObj, write: boolean): void {
    const key = this.isClosed() ? undefined : this.#selector.getMap().get(toFd(fileobj));
    if (key === undefined || key.fileobj !== fileobj) {
      if (write) this.removeWriter(fileobj);
      else this.removeReader(fileobj);
      return;
    }
    const w = key.data as Watchers;
    const old = write ? w.writer : w.reader;
    if (write) w.writer = null;
    else w.reader = null;
    old?.cancel();
    this.#released.push(key);
  }

  #flushReleased(): void {
    const released = this.#released, map = this.#selector.getMap();
    for (let i = 0; i < released.length; i++) {
      const key = released[i];
      const now = map.get(key.fd);
      if (now === undefined || now.fileobj !== key.fileobj) continue;
      const w = now.data as Watchers;
      const wanted = (w.reader !== null ? EVENT_READ : 0) | (w.writer !== null ? EVENT_WRITE : 0);
      if (wanted === now.events) continue;
      try {
        if (wanted === 0) this.#selector.unregister(now.fileobj);
        else this.#selector.modify(now.fileobj, wanted, w);
      } catch {
        // The fd was closed meanwhile: the kernel dropped it; modify() unregistered it.
      }
    }
    released.length = 0;
  }

  #remove(fileobj: FileObj, event: number): boolean {
    if (this.isClosed()) return false;
    const key = this.#selector.getMap().get(toFd(fileobj));
    if (key === undefined) return false;
    const w = key.data as Watchers;
    const old = event === EVENT_READ ? w.reader : w.writer;
    const mask = key.events & ~event;
    if (mask === 0) this.#selector.unregister(fileobj);
    else if (mask !== key.events) this.#selector.modify(fileobj, mask, w);
    if (event === EVENT_READ) w.reader = null;
    else w.writer = null;
    if (old === null) return false;
    old.cancel();
    return true;
  }

  /**
   * Calls `callback(...args)` whenever `fileobj` (an fd or an object with
   * `fileno()`) is readable; a second call for the same fd replaces the
   * callback. Returns the handle (cancelling it stops the watch at the next event). Regular files and directories are refused (use Deno's file
   * APIs); a closed or invalid fd throws.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, Socket } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * using sock = new Socket(); // any fd: a socket, a pipe, a TTY, an eventfd ...
   * loop.addReader(sock, () => loop.stop());
   * loop.removeReader(sock);
   * ```
   */
  addReader<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle {
    return this.#add(fileobj, EVENT_READ, callback as Callback, args, "addReader");
  }

  /**
   * Stops watching `fileobj` for reading; returns whether a reader was set.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeReader(0)); // false
   * ```
   */
  removeReader(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_READ);
  }

  /**
   * Calls `callback(...args)` whenever `fileobj` is writable; a second call
   * for the same fd replaces the callback.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, Socket } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * using sock = new Socket();
   * loop.addWriter(sock, () => loop.removeWriter(sock));
   * loop.removeWriter(sock);
   * ```
   */
  addWriter<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle {
    return this.#add(fileobj, EVENT_WRITE, callback as Callback, args, "addWriter");
  }

  /**
   * Stops watching `fileobj` for writing; returns whether a writer was set.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeWriter(1)); // false
   * ```
   */
  removeWriter(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_WRITE);
  }

  /**
   * Receives up to `nbytes` bytes from the nonblocking `sock`; an empty
   * array means end of stream. Tries `recv` at once and waits for
   * readability only when there is nothing to read. Aborting
   * `options.signal` rejects with `CancelledError` and stops watching the fd.
   * Calls waiting on the same socket are served in order.
   *
   * @example An echo server and its client on one loop
   * ```ts
   * import { SelectorEventLoop, Socket } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * using server = new Socket();
   * server.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
   * server.listen();
   * const echo = loop.createTask(async () => {
   *   const [conn] = await loop.sockAccept(server);
   *   using _ = conn;
   *   for (;;) {
   *     const data = await loop.sockRecv(conn, 4096);
   *     if (data.length === 0) return; // the client closed
   *     await loop.sockSendall(conn, data);
   *   }
   * });
   * const reply = await loop.runUntilComplete(async () => {
   *   using client = new Socket();
   *   await loop.sockConnect(client, server.getsockname());
   *   await loop.sockSendall(client, new TextEncoder().encode("ping"));
   *   return new TextDecoder().decode(await loop.sockRecv(client, 4096));
   * });
   * await loop.runUntilComplete(echo);
   * console.log(reply); // ping
   * ```
   */
  sockRecv(sock: Socket, nbytes: number, options?: SockOptions): Promise<Uint8Array> {
    return ops.sockRecv(this, sock, nbytes, options);
  }

  /**
   * Receives into `buf`; resolves to the byte count (0 at end of stream).
   *
   * @example
   * ```ts ignore
   * const buf = new Uint8Array(65536);
   * const n = await loop.sockRecvInto(sock, buf);
   * console.log(buf.subarray(0, n));
   * ```
   */
  sockRecvInto(sock: Socket, buf: Uint8Array, options?: SockOptions): Promise<number> {
    return ops.sockRecvInto(this, sock, buf, options);
  }

  /**
   * Receives a datagram of up to `bufsize` bytes and its sender's address.
   *
   * @example
   * ```ts ignore
   * const [data, from] = await loop.sockRecvfrom(udp, 2048);
   * await loop.sockSendto(udp, data, from);
   * ```
   */
  sockRecvfrom(
    sock: Socket,
    bufsize: number,
    options?: SockOptions,
  ): Promise<[Uint8Array, Address]> {
    return ops.sockRecvfrom(this, sock, bufsize, options);
  }

  /**
   * Receives a datagram into `buf` (at most `nbytes`, all of `buf` when
   * omitted): the byte count and the sender's address.
   *
   * @example
   * ```ts ignore
   * const buf = new Uint8Array(2048);
   * const [n, from] = await loop.sockRecvfromInto(udp, buf);
   * ```
   */
  sockRecvfromInto(
    sock: Socket,
    buf: Uint8Array,
    nbytes?: number,
    options?: SockOptions,
  ): Promise<[number, Address]> {
    return ops.sockRecvfromInto(this, sock, buf, nbytes, options);
  }

  /**
   * Sends all of `data`: what the kernel takes at once, then the rest as
   * the socket becomes writable. `data` must not change until the promise
   * settles. On an error or a cancel, part of `data` may have been sent.
   *
   * @example
   * ```ts ignore
   * await loop.sockSendall(sock, new TextEncoder().encode("hello"));
   * ```
   */
  sockSendall(sock: Socket, data: Uint8Array, options?: SockOptions): Promise<void> {
    return ops.sockSendall(this, sock, data, options);
  }

  /**
   * Sends the datagram `data` to `address`; resolves to the bytes sent.
   *
   * @example
   * ```ts ignore
   * await loop.sockSendto(udp, data, { transport: "udp", hostname: "127.0.0.1", port: 5353 });
   * ```
   */
  sockSendto(
    sock: Socket,
    data: Uint8Array,
    address: Address,
    options?: SockOptions,
  ): Promise<number> {
    return ops.sockSendto(this, sock, data, address, options);
  }

  /**
   * Connects `sock` to `address`. A host name is resolved first (for the
   * socket's family and type; the first address is used). A refused
   * connection rejects with `Deno.errors.ConnectionRefused`.
   *
   * @example
   * ```ts ignore
   * using sock = new Socket();
   * await loop.sockConnect(sock, { transport: "tcp", hostname: "localhost", port: 8080 });
   * ```
   */
  sockConnect(sock: Socket, address: Address, options?: SockOptions): Promise<void> {
    return ops.sockConnect(this, sock, address, options);
  }

  /**
   * Accepts a connection on the listening, nonblocking `sock`: the new
   * nonblocking socket and the peer's address.
   *
   * @example An echo server that serves each client in its own task
   * ```ts ignore
   * import { SelectorEventLoop, Socket } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * using server = new Socket();
   * server.setsockopt("SO_REUSEADDR", true);
   * server.bind({ transport: "tcp", hostname: "127.0.0.1", port: 8007 });
   * server.listen();
   * await loop.runUntilComplete(async (signal) => {
   *   for (;;) {
   *     const [conn] = await loop.sockAccept(server, { signal });
   *     loop.createTask(async () => {
   *       using _ = conn;
   *       let data;
   *       while ((data = await loop.sockRecv(conn, 65536)).length > 0) {
   *         await loop.sockSendall(conn, data);
   *       }
   *     });
   *   }
   * });
   * ```
   */
  sockAccept(sock: Socket, options?: SockOptions): Promise<[Socket, Address]> {
    return ops.sockAccept(this, sock, options);
  }

  /**
   * Resolves `host` and `port` off the JavaScript thread (see `getaddrinfo`
   * of `net/`).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const infos = await loop.getaddrinfo("localhost", 80, { type: "stream" });
   * console.log(infos[0].address); // { transport: "tcp", hostname: "127.0.0.1", port: 80 }
   * ```
   */
  getaddrinfo(
    host: string | null,
    port: number | string | null,
    options?: GetaddrinfoOptions,
  ): Promise<AddrInfo[]> {
    return getaddrinfo(host, port, options);
  }

  /**
   * The host and service names of `addr`, looked up off the JavaScript thread.
   *
   * @example
   * ```ts
   * import { NI_NUMERICSERV, SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const [host, port] = await loop.getnameinfo(
   *   { transport: "tcp", hostname: "127.0.0.1", port: 80 },
   *   NI_NUMERICSERV,
   * );
   * ```
   */
  getnameinfo(addr: NetAddress, flags?: number): Promise<[string, string]> {
    return getnameinfo(addr, flags);
  }

  /**
   * Opens a stream connection (asyncio's `create_connection()`, with `host`
   * and `port` in `options`): resolves the host, tries each address in turn
   * (or staggered by `happyEyeballsDelay` ms), and resolves to
   * `[transport, protocol]` once the protocol's `connectionMade()` ran.
   * `TCP_NODELAY` is set unless `noDelay: false`. `ssl` throws `NotSupported`.
   *
   * @example
   * ```ts ignore
   * import { Protocol, SelectorEventLoop } from "@aio/loop";
   * const [transport, protocol] = await loop.createConnection(() => new Protocol(), {
   *   host: "localhost",
   *   port: 8080,
   * });
   * transport.close();
   * ```
   */
  createConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    options?: CreateConnectionOptions,
  ): Promise<[Transport, P]> {
    return createConnection(this, protocolFactory, options);
  }

  /**
   * Listens for stream connections (asyncio's `create_server()`, with `host`
   * and `port` in `options`): on each host given, or on every interface
   * (IPv4 and IPv6 sockets) when `host` is `null`/omitted.
   *
   * @example
   * ```ts ignore
   * import { Protocol, SelectorEventLoop } from "@aio/loop";
   * await using server = await loop.createServer(() => new Protocol(), { host: "127.0.0.1", port: 0 });
   * console.log(server.sockets[0].getsockname());
   * ```
   */
  createServer<P extends StreamProtocol>(
    protocolFactory: () => P,
    options?: CreateServerOptions,
  ): Promise<Server> {
    return createServer(this, protocolFactory, options);
  }

  /**
   * Connects to the unix socket `path` (a file path or a Linux abstract name
   * starting with `"\0"`), or wraps `options.sock`.
   *
   * @example
   * ```ts ignore
   * const [transport] = await loop.createUnixConnection(() => new Protocol(), "/tmp/app.sock");
   * ```
   */
  createUnixConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    path?: string | null,
    options?: CreateUnixConnectionOptions,
  ): Promise<[Transport, P]> {
    return createUnixConnection(this, protocolFactory, path, options);
  }

  /**
   * Listens on the unix socket `path`: a stale socket file is removed first
   * and the file is removed again on close (`cleanupSocket`, default true);
   * both need `--allow-read` and `--allow-write`.
   *
   * @example
   * ```ts ignore
   * await using server = await loop.createUnixServer(() => new Protocol(), "/tmp/app.sock");
   * ```
   */
  createUnixServer<P extends StreamProtocol>(
    protocolFactory: () => P,
    path?: string | null,
    options?: CreateUnixServerOptions,
  ): Promise<Server> {
    return createUnixServer(this, protocolFactory, path, options);
  }

  /**
   * Wraps an accepted (connected) stream socket in a transport.
   *
   * @example
   * ```ts ignore
   * const [conn] = await loop.sockAccept(listener);
   * const [transport] = await loop.connectAcceptedSocket(() => new Protocol(), conn);
   * ```
   */
  connectAcceptedSocket<P extends StreamProtocol>(
    protocolFactory: () => P,
    sock: Socket,
    options?: ConnectAcceptedSocketOptions,
  ): Promise<[Transport, P]> {
    return connectAcceptedSocket(this, protocolFactory, sock, options);
  }

  /**
   * Wraps the read end of a pipe, FIFO, socket or character device (a
   * PTY) in a transport (asyncio's `connect_read_pipe()`); resolves to
   * `[transport, protocol]` once the protocol's `connectionMade()` ran.
   * `pipe` is an fd or an object with `fileno()` (Deno's `FsFile` hides its
   * fd). The transport makes the fd nonblocking, owns it and closes it
   * after `connectionLost()`. End of file gives `eofReceived()` then
   * `connectionLost(null)`. Regular files, directories and block devices
   * are refused with a `TypeError` naming the fd (use Deno's file APIs for
   * files); a closed fd rejects with `BadResource`; the fd stays the
   * caller's when the call fails.
   *
   * @example Reading what another part of the program writes into a pipe
   * ```ts
   * import { Protocol, SelectorEventLoop } from "@aio/loop";
   * import { closeFd, makePipe, writeFd } from "../../ffi/unix/libc.ts";
   * class Collect extends Protocol {
   *   text = "";
   *   done = Promise.withResolvers<void>();
   *   override dataReceived(data: Uint8Array): void {
   *     this.text += new TextDecoder().decode(data);
   *   }
   *   override connectionLost(): void {
   *     this.done.resolve();
   *   }
   * }
   * using loop = new SelectorEventLoop();
   * const [r, w] = makePipe();
   * const text = await loop.runUntilComplete(async () => {
   *   const [, protocol] = await loop.connectReadPipe(() => new Collect(), r);
   *   writeFd(w, new TextEncoder().encode("hello"));
   *   closeFd(w); // end of file for the reader
   *   await protocol.done.promise;
   *   return protocol.text;
   * });
   * console.log(text); // "hello"
   * ```
   */
  connectReadPipe<P extends StreamProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj,
  ): Promise<[UnixReadPipeTransport, P]> {
    return connectReadPipe(this, protocolFactory, pipe);
  }

  /**
   * Wraps the write end of a pipe, FIFO, socket or character device (a
   * PTY, `/dev/null`) in a transport (asyncio's `connect_write_pipe()`);
   * resolves to `[transport, protocol]` once the protocol's
   * `connectionMade()` ran. Ownership and refusals as in
   * `connectReadPipe()`. For a pipe or socket the transport notices the
   * reader closing: `connectionLost(null)`, or `connectionLost(BrokenPipe)`
   * when data was still waiting or a write failed with EPIPE.
   *
   * @example
   * ```ts
   * import { BaseProtocol, SelectorEventLoop } from "@aio/loop";
   * import { closeFd, makePipe, readFd } from "../../ffi/unix/libc.ts";
   * class Done extends BaseProtocol {
   *   lost = Promise.withResolvers<Error | null>();
   *   override connectionLost(exc: Error | null): void {
   *     this.lost.resolve(exc);
   *   }
   * }
   * using loop = new SelectorEventLoop();
   * const [r, w] = makePipe();
   * await loop.runUntilComplete(async () => {
   *   const [transport, protocol] = await loop.connectWritePipe(() => new Done(), w);
   *   transport.write(new TextEncoder().encode("hello"));
   *   transport.close(); // the rest is sent, then w is closed
   *   await protocol.lost.promise;
   * });
   * const buf = new Uint8Array(16);
   * console.log(new TextDecoder().decode(buf.subarray(0, readFd(r, buf)))); // "hello"
   * closeFd(r);
   * ```
   */
  connectWritePipe<P extends BaseProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj,
  ): Promise<[UnixWritePipeTransport, P]> {
    return connectWritePipe(this, protocolFactory, pipe);
  }

  /**
   * Opens a datagram endpoint (asyncio's `create_datagram_endpoint()`): a
   * UDP socket (IPv4 or IPv6) or a unix datagram socket, bound to
   * `options.localAddr` and/or connected to `options.remoteAddr` (host names
   * are resolved off the JavaScript thread), wrapped in a datagram transport
   * whose protocol `protocolFactory` makes. Resolves once the protocol's
   * `connectionMade()` ran. `reuseAddress` is refused (`TypeError`), as in
   * asyncio 3.11+.
   *
   * @example A UDP echo server and a client on one loop
   * ```ts
   * import { type Address, SelectorEventLoop } from "@aio/loop";
   * import { DatagramProtocol, type DatagramTransport } from "../../transports/mod.ts";
   * using loop = new SelectorEventLoop();
   * class Echo extends DatagramProtocol {
   *   transport?: DatagramTransport;
   *   override connectionMade(transport: DatagramTransport): void {
   *     this.transport = transport;
   *   }
   *   override datagramReceived(data: Uint8Array, addr: Address): void {
   *     this.transport!.sendto(data, addr);
   *   }
   * }
   * class Client extends DatagramProtocol {
   *   reply = Promise.withResolvers<string>();
   *   override datagramReceived(data: Uint8Array): void {
   *     this.reply.resolve(new TextDecoder().decode(data));
   *   }
   * }
   * const answer = await loop.runUntilComplete(async () => {
   *   const [server] = await loop.createDatagramEndpoint(() => new Echo(), {
   *     localAddr: { transport: "udp", hostname: "127.0.0.1", port: 0 },
   *   });
   *   const [client, protocol] = await loop.createDatagramEndpoint(() => new Client(), {
   *     remoteAddr: server.getExtraInfo("sockname"),
   *   });
   *   client.sendto(new TextEncoder().encode("ping"));
   *   const reply = await protocol.reply.promise;
   *   client.close();
   *   server.close();
   *   return reply;
   * });
   * console.log(answer); // ping
   * ```
   */
  createDatagramEndpoint<P extends DatagramProtocol>(
    protocolFactory: () => P,
    options?: DatagramEndpointOptions,
  ): Promise<[SelectorDatagramTransport, P]> {
    return createDatagramEndpoint(this, protocolFactory, options);
  }

  /**
   * Starts `args[0]` with the arguments `args` through `posix_spawnp` and
   * connects a protocol made by `protocolFactory` to it (asyncio's
   * `subprocess_exec()`): resolves to `[transport, protocol]` once its
   * pipes are connected. stdin, stdout and stderr are pipes unless
   * `options` says otherwise (`PIPE`, `DEVNULL`, `STDOUT`, `"inherit"`, an
   * fd). A program that cannot be run rejects with `Deno.errors.NotFound` or
   * `PermissionDenied` naming it. The current child watcher (see the
   * policy's `getChildWatcher()`) reports the exit.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, SubprocessProtocol } from "@aio/loop";
   * class Exit extends SubprocessProtocol {
   *   done = Promise.withResolvers<void>();
   *   override connectionLost(): void {
   *     this.done.resolve();
   *   }
   * }
   * using loop = new SelectorEventLoop();
   * if (Deno.build.os !== "windows") {
   *   const code = await loop.runUntilComplete(async () => {
   *     const [transport, protocol] = await loop.subprocessExec(() => new Exit(), ["true"]);
   *     await protocol.done.promise;
   *     transport.close();
   *     return transport.getReturncode();
   *   });
   *   console.log(code); // 0
   * }
   * ```
   */
  subprocessExec<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    args: readonly string[],
    options?: SubprocessOptions,
  ): Promise<[UnixSubprocessTransport, P]> {
    return subprocessExec(this, protocolFactory, args, options);
  }

  /**
   * Runs the shell command `cmd` with `/bin/sh -c` (asyncio's
   * `subprocess_shell()`); see `subprocessExec()`.
   *
   * @example
   * ```ts ignore
   * const [transport, protocol] = await loop.subprocessShell(() => new Collect(), "echo hi | tr a-z A-Z");
   * ```
   */
  subprocessShell<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    cmd: string,
    options?: SubprocessOptions,
  ): Promise<[UnixSubprocessTransport, P]> {
    return subprocessShell(this, protocolFactory, cmd, options);
  }
}
