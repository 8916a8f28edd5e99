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
import type { EventLoopOptions, SockOptions } from "../abstract_event_loop.ts";
import type { Address, Socket } from "../../net/mod.ts";
import type { DatagramTransport, Transport } from "../../transports/base_transport.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import { type Callback, Handle } from "../handle.ts";
import { BaseEventLoop } from "../base/base_event_loop.ts";
import type {
  DatagramTransportOptions,
  ServingTarget,
  SocketTransportOptions,
} from "../base/loop_hooks.ts";
import * as ops from "./sock_ops.ts";
import { Acceptor } from "./_acceptor.ts";
import { SelectorDatagramTransport } from "./datagram_transport.ts";
import { SelectorSocketTransport } from "./socket_transport.ts";

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
 * asyncio's `selector_events.BaseSelectorEventLoop`: an event loop that
 * watches fds with a selector (`DefaultSelector` unless one is given), with
 * the `sock*` calls on readiness and the selector transports. The OS-family
 * loops extend it (`UnixSelectorEventLoop`); use `SelectorEventLoop`, this
 * platform's one. Closing the loop closes the selector.
 *
 * @example
 * ```ts
 * import { BaseSelectorEventLoop, PollSelector, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop(new PollSelector());
 * console.log(loop instanceof BaseSelectorEventLoop); // true
 * ```
 */
export class BaseSelectorEventLoop extends BaseEventLoop {
  #selector: BaseSelector;
  // Keys whose watchers were dropped by _release(): settled before the next poll.
  #released: SelectorKey[] = [];
  #acceptor: Acceptor | null = null;

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
        throw new TypeError(`${new.target.name}() takes a BaseSelector, then options`);
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
    this.#acceptor?.clear();
    this._closeExtras();
    this.#selector.close();
  }

  /**
   * What a subclass releases on close, after the loop closed and before the selector does.
   * @internal
   */
  protected _closeExtras(): void {}

  /**
   * Wraps a connected stream socket in a `SelectorSocketTransport`.
   * @internal
   */
  protected _makeSocketTransport(
    sock: Socket,
    protocol: StreamProtocol,
    options: SocketTransportOptions,
  ): Transport {
    return new SelectorSocketTransport(this, sock, protocol, options);
  }

  /**
   * Wraps a datagram socket in a `SelectorDatagramTransport`.
   * @internal
   */
  protected _makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocol,
    options: DatagramTransportOptions,
  ): DatagramTransport {
    return new SelectorDatagramTransport(this, sock, protocol, options);
  }

  /**
   * Watches the listening `sock` and accepts what it reports.
   * @internal
   */
  protected _startServing(target: ServingTarget, sock: Socket): void {
    (this.#acceptor ??= new Acceptor(this, this._hooks)).start(target, sock);
  }

  /**
   * Stops watching the listening `sock`.
   * @internal
   */
  protected _stopServing(sock: Socket): void {
    this.#acceptor?.stop(sock);
  }

  /**
   * Polls the selector without waiting.
   * @internal
   */
  protected _poll(): void {
    if (this.#released.length > 0) this.#flushReleased();
    const events = this.#selector.select(0);
    if (events.length > 0) this.#processEvents(events);
  }

  /**
   * Waits with the selector off the JS thread.
   * @internal
   */
  protected async _wait(timeoutMs: number | null): Promise<boolean> {
    if (this.#released.length > 0) this.#flushReleased();
    const events = await this.#selector.selectAsync(timeoutMs);
    if (events.length === 0 || this.isClosed()) return false;
    this.#processEvents(events);
    return true;
  }

  /**
   * Waits with the selector on the JS thread.
   * @internal
   */
  protected _waitBriefly(timeoutMs: number): boolean {
    if (this.#released.length > 0) this.#flushReleased();
    const events = this.#selector.select(timeoutMs);
    if (events.length === 0) return false;
    this.#processEvents(events);
    return true;
  }

  /**
   * Wakes a pending `selectAsync()`.
   * @internal
   */
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
   * @internal
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
  override addReader<A extends unknown[]>(
    fileobj: FileObj,
    callback: Callback<A>,
    ...args: A
  ): Handle {
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
  override removeReader(fileobj: FileObj): boolean {
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
  override addWriter<A extends unknown[]>(
    fileobj: FileObj,
    callback: Callback<A>,
    ...args: A
  ): Handle {
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
  override removeWriter(fileobj: FileObj): boolean {
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
}
