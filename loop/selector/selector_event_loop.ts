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
import { fileobjToFd } from "../../selectors/base_selector.ts";
import { BaseEventLoop, BRIEF_WAIT_MS, briefWaitBound } from "../base/base_event_loop.ts";
import { monotonic } from "../clock.ts";
import { badFileobj, checkHandler, fdOf, isObject } from "../base/_fileobj_args.ts";
import type {
  DatagramTransportOptions,
  ServingTarget,
  SocketTransportOptions,
} from "../base/loop_hooks.ts";
import * as ops from "./sock_ops.ts";
import type { SendfileSource } from "../base/_sendfile.ts";
import { sendfileNative } from "./_sendfile_native.ts";
import { Acceptor } from "./_acceptor.ts";
import { SelectorDatagramTransport } from "./datagram_transport.ts";
import { SelectorSocketTransport } from "./socket_transport.ts";

/** What the loop keeps in a selector key: the reader and writer handles of the fd. */
class Watchers {
  constructor(public reader: Handle | null, public writer: Handle | null) {}
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
    this.#selector._stopTicks(); // a parked loop is not woken every millisecond
    const events = await this.#selector.selectAsync(timeoutMs);
    if (events.length === 0 || this.isClosed()) return false;
    this.#processEvents(events);
    return true;
  }

  /**
   * Stops the selector's tick.
   * @internal
   */
  protected override _runEnded(): void {
    this.#selector._stopTicks(); // a no-op on a closed selector
  }

  /**
   * Waits with the selector on the JS thread, for about `BRIEF_WAIT_MS` (at
   * most twice that) and never past `timeoutMs`.
   * @internal
   */
  protected _waitBriefly(timeoutMs: number | null): boolean {
    if (this.#released.length > 0) this.#flushReleased();
    const sel = this.#selector;
    if ((timeoutMs === null || timeoutMs >= 2 * BRIEF_WAIT_MS) && sel._startTicks(BRIEF_WAIT_MS)) {
      // Untimed, ended by the first tick at least BRIEF_WAIT_MS from now (decision 4b).
      const start = monotonic();
      for (;;) {
        const events = sel.select(null);
        if (events.length > 0) {
          this.#processEvents(events);
          return true;
        }
        if (monotonic() - start >= BRIEF_WAIT_MS) return false;
      }
    }
    const events = sel.select(briefWaitBound(timeoutMs));
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
        if (w.reader.cancelled()) this.#removeAt(key.fd, EVENT_READ);
        else this._addCallback(w.reader);
      }
      if ((mask & EVENT_WRITE) !== 0 && w.writer !== null) {
        if (w.writer.cancelled()) this.#removeAt(key.fd, EVENT_WRITE);
        else this._addCallback(w.writer);
      }
    }
  }

  // Every argument is checked before the loop's state and before any map is
  // touched (asyncio: the fileobj's ValueError, then "Event loop is closed").
  #add(
    fileobj: FileObj,
    event: number,
    callback: Callback,
    args: unknown[],
    method: string,
  ): Handle {
    const fd = fdOf(fileobj, method);
    checkHandler(callback, method);
    if (this.isClosed()) throw new Error("Event loop is closed");
    const handle = new Handle(callback, { loop: this, args });
    let key = this.#selector.getMap().get(fd);
    if (key !== undefined && key.fileobj !== fileobj) {
      // Another object on the same fd number: the registered one may have been
      // closed (taking its kernel registration with it) and the number reused.
      key = this.#reRegister(key, fileobj);
    }
    if (key === undefined) {
      const w = event === EVENT_READ ? new Watchers(handle, null) : new Watchers(null, handle);
      this.#selector.register(fileobj, event, w);
      return handle;
    }
    const w = key.data as Watchers;
    const old = event === EVENT_READ ? w.reader : w.writer;
    if ((key.events & event) === 0) this.#selector.modify(fd, key.events | event, w);
    if (event === EVENT_READ) w.reader = handle;
    else w.writer = handle;
    old?.cancel();
    return handle;
  }

  /**
   * Moves the live watchers of `key` to `fileobj` (same fd number). A new
   * registration the selector refuses puts the old one back, so that a
   * failed `addReader()` changes nothing.
   */
  #reRegister(key: SelectorKey, fileobj: FileObj): SelectorKey | undefined {
    const w = key.data as Watchers;
    this.#selector.unregister(key.fd);
    const live = (w.reader !== null ? EVENT_READ : 0) | (w.writer !== null ? EVENT_WRITE : 0);
    if (live === 0) return undefined;
    try {
      return this.#selector.register(fileobj, live, w);
    } catch (e) {
      try {
        this.#selector.register(key.fileobj, key.events, w);
      } catch {
        // The old object's fd is gone too: nothing is left to restore.
      }
      throw e;
    }
  }

  /**
   * The key `fileobj` is registered under, found without throwing: by fd,
   * or by identity for an object whose fd went away (a closed `Socket`'s
   * `fileno()` is -1), as CPython's selectors look keys up.
   */
  #find(fileobj: unknown): SelectorKey | undefined {
    const map = this.#selector.getMap();
    let fd = -1;
    try {
      fd = fileobjToFd(fileobj as FileObj);
    } catch {
      // Looked up by identity below.
    }
    return fd >= 0 ? map.get(fd) : this.#byIdentity(fileobj);
  }

  // Compares only: the object's own code (a fileno() that answers differently each time) never runs.
  #byIdentity(fileobj: unknown): SelectorKey | undefined {
    if (!isObject(fileobj)) return undefined;
    for (const key of this.#selector.getMap().values()) if (key.fileobj === fileobj) return key;
    return undefined;
  }

  /**
   * Drops the reader (or writer) of `fileobj` at once but keeps its kernel
   * registration until just before the next poll, so that a watch released
   * and added again within one iteration (a `sock*` call completing, then
   * the next one waiting) costs no syscall. With `lazy` false the watch is
   * removed at once. Never throws for a fileobj closed meanwhile: a `sock*`
   * call may finish after its socket was closed.
   * @internal
   */
  _release(fileobj: FileObj, write: boolean, lazy = true): void {
    if (this.isClosed()) return;
    const key = this.#find(fileobj);
    if (key === undefined) return;
    if (!lazy || key.fileobj !== fileobj) {
      this.#removeAt(key.fd, write ? EVENT_WRITE : EVENT_READ);
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
        if (wanted === 0) this.#selector.unregister(now.fd);
        else this.#selector.modify(now.fd, wanted, w);
      } catch {
        // The fd was closed meanwhile: the kernel dropped it; modify() unregistered it.
      }
    }
    released.length = 0;
  }

  // As #add: the fileobj is checked first, even on a closed loop.
  #remove(fileobj: FileObj, event: number, method: string): boolean {
    let fd: number;
    try {
      fd = fileobjToFd(fileobj);
    } catch (e) {
      // An object registered while its fd was valid is still found by identity.
      const key = this.isClosed() ? undefined : this.#byIdentity(fileobj);
      if (key === undefined) throw badFileobj(e, method);
      fd = key.fd;
    }
    if (this.isClosed()) return false;
    return this.#removeAt(fd, event);
  }

  // The key is looked up afresh: removing one event may have replaced it.
  #removeAt(fd: number, event: number): boolean {
    const key = this.#selector.getMap().get(fd);
    if (key === undefined) return false;
    const w = key.data as Watchers;
    const old = event === EVENT_READ ? w.reader : w.writer;
    const mask = key.events & ~event;
    if (mask === 0) this.#selector.unregister(fd);
    else if (mask !== key.events) this.#selector.modify(fd, mask, w);
    if (event === EVENT_READ) w.reader = null;
    else w.writer = null;
    if (old === null) return false;
    old.cancel();
    return true;
  }

  /**
   * Calls `callback(...args)` whenever `fileobj` (an fd or an object with
   * `fileno()`) is readable; a second call for the same fd replaces the
   * callback. Returns the handle (cancelling it stops the watch at the next
   * event). The arguments are checked first, before anything changes: an
   * fd that is not an integer, an object without `fileno()` (or whose
   * `fileno()` throws or returns no fd) and a `callback` that is not a
   * function throw `TypeError`, an integer out of 0..2³¹-1 a `RangeError`
   * (asyncio: `ValueError`); then a closed loop throws `Error("Event loop
   * is closed")` (asyncio's `RuntimeError`). Regular files and directories
   * are refused (use Deno's file APIs); a closed fd throws `BadResource`.
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
   * Stops watching `fileobj` for reading; returns whether a reader was set
   * (false for a valid fd that is not watched, and on a closed loop). A
   * junk `fileobj` throws as in `addReader()`, on a closed loop too; an
   * object whose fd went away since it was added (a closed `Socket`) is
   * found by identity, as CPython's selectors do.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeReader(0)); // false
   * ```
   */
  override removeReader(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_READ, "removeReader");
  }

  /**
   * Calls `callback(...args)` whenever `fileobj` is writable; a second call
   * for the same fd replaces the callback. Arguments are checked as by
   * `addReader()`.
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
   * A junk `fileobj` throws as in `removeReader()`.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeWriter(1)); // false
   * ```
   */
  override removeWriter(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_WRITE, "removeWriter");
  }

  /**
   * Receives up to `nbytes` bytes from the nonblocking `sock`; an empty
   * array means end of stream. Tries `recv` at once and waits for
   * readability only when there is nothing to read. `nbytes` 0 resolves to
   * an empty array at once without touching the socket (as CPython: no
   * datagram is consumed). Bad arguments throw at once (`TypeError`,
   * `RangeError` for a size out of 0..2³¹-1); a closed socket rejects with
   * `BadResource`. Aborting
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
   * An empty `buf` resolves to 0 at once without touching the socket.
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
   * An empty datagram resolves to an empty array. `bufsize` 0 still waits
   * for a datagram and consumes it (its bytes are discarded), as CPython's
   * `sock_recvfrom(sock, 0)` and `recvfrom(2)` do.
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
   * omitted): the byte count and the sender's address. An empty `buf` or
   * `nbytes` 0 waits for a datagram and consumes it, as `sockRecvfrom(sock,
   * 0)` (CPython's `nbytes=0` means the whole buffer; here it means 0).
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
   * Empty `data` resolves at once (a closed socket still rejects).
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
   * Empty `data` sends an empty datagram (the peer receives 0 bytes).
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
   * Native sendfile on readiness: `sendfile(2)` on Linux and macOS, waiting
   * for writability whenever the socket's buffer is full; elsewhere (the
   * Windows selector loop) `SendfileNotAvailableError`, so `sockSendfile()`
   * falls back.
   * @internal
   */
  protected override _sockSendfileNative(
    sock: Socket,
    file: SendfileSource,
    offset: number,
    count: number | null,
    signal: AbortSignal | undefined,
    progress: (sent: number) => void,
  ): Promise<number> {
    return sendfileNative(this, sock, file, offset, count, signal, progress);
  }
}
