/**
 * `BaseProactorEventLoop` and `ProactorEventLoop` (asyncio's
 * `proactor_events.BaseProactorEventLoop` and `windows_events.ProactorEventLoop`):
 * `BaseEventLoop` over an {@linkcode IocpProactor}. The loop's four I/O hooks
 * map one to one onto the proactor (`_poll`: dequeue without waiting;
 * `_wait`: a `nonblocking` wait, capped; `_waitBriefly`: a wait on the JS
 * thread; `_wakeup`: the wake packet), and the `sock*` calls are overlapped
 * operations, cancelled through their AbortSignal. `addReader`/`addWriter`
 * (beyond CPython, whose ProactorEventLoop has none) watch sockets through
 * AFD polls on the same port (`selectors/afd_poller.ts`), their callbacks
 * run as Handles through the ready queue, as on the selector loop.
 *
 * @module
 */
import { describe, E, ipFamily, osError, PLATFORM, SOCKADDR_MAX } from "../../ffi/sys.ts";
import { encodeAddress } from "../../ffi/sys.ts";
import { type Address, getaddrinfo, type NetAddress, Socket } from "../../net/mod.ts";
import type { DatagramTransport, Transport } from "../../transports/base_transport.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { EventLoopOptions, SockOptions } from "../abstract_event_loop.ts";
import { cancelledError, checkSignal } from "../_signal.ts";
import { BaseEventLoop, briefWaitBound } from "../base/base_event_loop.ts";
import { badFileobj, checkHandler, fdOf, isObject } from "../base/_fileobj_args.ts";
import type {
  DatagramTransportOptions,
  ServingTarget,
  SocketTransportOptions,
} from "../base/loop_hooks.ts";
import { CancelledError } from "../errors.ts";
import { type Callback, Handle } from "../handle.ts";
import { EVENT_READ, EVENT_WRITE, type FileObj } from "../../selectors/mod.ts";
import { fileobjToFd } from "../../selectors/base_selector.ts";
import type { AfdPoller } from "../../selectors/afd_poller.ts";
import { IocpProactor, TRANSMIT_MAX } from "./iocp_proactor.ts";
import type { SendfileSource } from "../base/_sendfile.ts";
import { ProactorDatagramTransport } from "./datagram_transport.ts";
import { ProactorSocketTransport } from "./socket_transport.ts";

const resolvedVoid: Promise<void> = Promise.resolve();
const SCRATCH = new Uint8Array(SOCKADDR_MAX);

function checkSocket(sock: unknown, what: string): asserts sock is Socket {
  if (!(sock instanceof Socket)) {
    throw new TypeError(`${what}: sock must be a Socket, got ${describe(sock)}`);
  }
  // As on the selector loop (asyncio checks it in debug mode): the same sockets work on both.
  if (!sock.closed && sock.getBlocking()) {
    throw new TypeError(
      `${what}: the socket must be non-blocking (fd ${sock.fileno()}); call sock.setBlocking(false)`,
    );
  }
}

function signalOf(options: SockOptions | undefined, what: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${what}: options must be an object, got ${describe(options)}`);
  }
  return checkSignal(options.signal, what.slice(0, -2));
}

function checkCount(n: unknown, what: string, name: string): number {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`${what}: ${name} must be an integer, got ${describe(n)}`);
  }
  if (n < 0 || n > 0x7fffffff) {
    throw new RangeError(`${what}: ${name} must be from 0 to 2147483647, got ${n}`);
  }
  return n;
}

function checkBuffer(buf: unknown, what: string, name: string): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  throw new TypeError(`${what}: ${name} must be a Uint8Array, got ${describe(buf)}`);
}

function checkAddress(addr: unknown, what: string): asserts addr is Address {
  if (addr === null || typeof addr !== "object") {
    throw new TypeError(`${what}: address must be an address object, got ${describe(addr)}`);
  }
}

/** The reader and writer handles of one watched socket, and the object it was added as. */
class Watchers {
  constructor(
    public fileobj: FileObj,
    public reader: Handle | null,
    public writer: Handle | null,
  ) {}

  /** The socket was closed while watched: the poller forgot it (AFD_POLL_LOCAL_CLOSE). */
  dropped = false;

  get mask(): number {
    return (this.reader !== null ? EVENT_READ : 0) | (this.writer !== null ? EVENT_WRITE : 0);
  }
}

function rejectClosed(what: string): Promise<never> {
  return Promise.reject(osError(E.EBADF, what.slice(0, -2), "the socket is closed"));
}

function rejectAborted(signal: AbortSignal, what: string): Promise<never> {
  return Promise.reject(cancelledError(signal, what));
}

/**
 * asyncio's `BaseProactorEventLoop`: an event loop whose I/O is overlapped
 * operations on an I/O completion port (an {@linkcode IocpProactor}). Use
 * `ProactorEventLoop`. Windows only: elsewhere the constructor throws
 * `NotSupported` naming the platform.
 *
 * @example
 * ```ts ignore
 * using loop = new ProactorEventLoop();
 * const data = await loop.runUntilComplete(() => loop.sockRecv(sock, 4096));
 * ```
 */
export class BaseProactorEventLoop extends BaseEventLoop {
  #proactor: IocpProactor;
  #serving = new Map<Socket, AbortController>();
  // addReader/addWriter: the watched sockets by fd, and their AFD poller (made on first use).
  #watchers = new Map<number, Watchers>();
  #afd: AfdPoller | null = null;

  /** Makes the loop and its completion port. */
  constructor(options?: EventLoopOptions) {
    if (PLATFORM !== "windows") {
      throw new Deno.errors.NotSupported(
        `${new.target.name} runs on I/O completion ports, which only Windows has; this is ` +
          `${PLATFORM}: use SelectorEventLoop`,
      );
    }
    super(options);
    this.#proactor = new IocpProactor();
  }

  /**
   * The proactor the loop runs on.
   * @internal
   */
  get _proactor(): IocpProactor {
    return this.#proactor;
  }

  /**
   * Closes the loop, then the proactor: every pending operation is
   * cancelled (its promise rejects with `CancelledError`) and its packet
   * awaited before the port closes. Closing twice does nothing.
   *
   * @example
   * ```ts ignore
   * const loop = new ProactorEventLoop();
   * loop.close();
   * ```
   */
  override close(): void {
    if (this.isClosed()) return;
    super.close();
    for (const ac of this.#serving.values()) ac.abort();
    this.#serving.clear();
    for (const w of this.#watchers.values()) {
      w.reader?.cancel();
      w.writer?.cancel();
    }
    this.#watchers.clear();
    this.#proactor.close();
  }

  // ---- addReader/addWriter: AFD polls on the proactor's port --------------------------

  #poller(): AfdPoller {
    return this.#afd ??= this.#proactor.poller({
      name: `${this.constructor.name}.addReader()/addWriter()`,
      alternative: "for pipes use connectReadPipe()/connectWritePipe(), for other handles " +
        "the sock*() calls or a thread",
      onEvents: (fd, events) => this.#onEvents(fd, events),
      // Closed while watched (the poll ended with AFD_POLL_LOCAL_CLOSE): no error, no callback;
      // removeReader()/removeWriter() still find it (by identity once its fileno() is gone).
      onDropped: (fd) => {
        const w = this.#watchers.get(fd);
        if (w !== undefined) w.dropped = true;
      },
    });
  }

  #onEvents(fd: number, events: number): void {
    const w = this.#watchers.get(fd);
    if (w === undefined) return;
    if ((events & EVENT_READ) !== 0 && w.reader !== null) {
      if (w.reader.cancelled()) this.#removeAt(fd, EVENT_READ);
      else this._addCallback(w.reader);
    }
    if ((events & EVENT_WRITE) !== 0 && w.writer !== null) {
      if (w.writer.cancelled()) this.#removeAt(fd, EVENT_WRITE);
      else this._addCallback(w.writer);
    }
  }

  // Every argument is checked before the loop's state, as on the selector loop.
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
    const poller = this.#poller();
    const handle = new Handle(callback, { loop: this, args });
    let w = this.#watchers.get(fd);
    if (w !== undefined && w.dropped) {
      // Its socket was closed and this number may be another socket now: watch it afresh.
      poller.register(fd, w.mask | event);
      w.dropped = false;
      w.fileobj = fileobj;
    } else if (w !== undefined && w.fileobj !== fileobj) {
      // Another object on the same number: the old one may have been closed and the number
      // reused. Re-register, so the new socket's base handle is polled; refused: nothing changes.
      const mask = w.mask | event;
      poller.unregister(fd);
      try {
        poller.register(fd, mask);
      } catch (e) {
        try {
          poller.register(fd, w.mask);
        } catch {
          this.#watchers.delete(fd); // the old object's socket is gone too
        }
        throw e;
      }
      w.fileobj = fileobj;
    } else if (w === undefined) {
      poller.register(fd, event);
      w = new Watchers(fileobj, null, null);
      this.#watchers.set(fd, w);
    } else if ((w.mask & event) === 0) {
      poller.modify(fd, w.mask | event);
    }
    const old = event === EVENT_READ ? w.reader : w.writer;
    if (event === EVENT_READ) w.reader = handle;
    else w.writer = handle;
    old?.cancel();
    return handle;
  }

  // As #add: the fileobj is checked first, even on a closed loop.
  #remove(fileobj: FileObj, event: number, method: string): boolean {
    let fd: number;
    try {
      fd = fileobjToFd(fileobj);
    } catch (e) {
      // An object added while its fd was valid (a Socket closed since) is found by identity.
      const found = this.isClosed() ? undefined : this.#byIdentity(fileobj);
      if (found === undefined) throw badFileobj(e, method);
      fd = found;
    }
    if (this.isClosed()) return false;
    return this.#removeAt(fd, event);
  }

  #byIdentity(fileobj: unknown): number | undefined {
    if (!isObject(fileobj)) return undefined;
    for (const [fd, w] of this.#watchers) if (w.fileobj === fileobj) return fd;
    return undefined;
  }

  #removeAt(fd: number, event: number): boolean {
    const w = this.#watchers.get(fd);
    if (w === undefined) return false;
    const old = event === EVENT_READ ? w.reader : w.writer;
    if (old === null) return false;
    if (event === EVENT_READ) w.reader = null;
    else w.writer = null;
    const mask = w.mask;
    if (mask === 0) {
      this.#watchers.delete(fd);
      if (!w.dropped) this.#afd?.unregister(fd);
    } else if (!w.dropped) {
      try {
        this.#afd?.modify(fd, mask);
      } catch {
        // The socket was closed meanwhile: forget it.
        this.#watchers.delete(fd);
        this.#afd?.unregister(fd);
      }
    }
    old.cancel();
    return true;
  }

  /**
   * Calls `callback(...args)` whenever the socket `fileobj` (a `Socket`, an
   * object with `fileno()`, or a SOCKET number, one a C library made too)
   * is readable, level-triggered as asyncio's `add_reader`: through an AFD
   * poll on the proactor's port, re-armed before each wait. Beyond CPython,
   * whose ProactorEventLoop has no `add_reader`. A second call for the same
   * socket replaces the callback (the first handle is cancelled). Sockets
   * only: a pipe or other handle throws `NotSupported` naming the
   * alternative (`connectReadPipe()` for pipes); a closed handle
   * `BadResource`; a bad `fileobj` or `callback` a `TypeError`
   * (`RangeError` for a number out of range); a closed loop
   * `Error("Event loop is closed")`.
   *
   * @example
   * ```ts ignore
   * loop.addReader(sock, () => console.log("readable"));
   * loop.removeReader(sock); // true
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
   * (false on a closed loop, and for a socket not watched or closed while
   * watched).
   *
   * @example
   * ```ts ignore
   * console.log(loop.removeReader(sock)); // false
   * ```
   */
  override removeReader(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_READ, "removeReader");
  }

  /**
   * Calls `callback(...args)` whenever the socket `fileobj` is writable
   * (room to send, a connect finished or failed); as {@linkcode addReader}.
   *
   * @example
   * ```ts ignore
   * loop.addWriter(sock, () => loop.removeWriter(sock));
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
   * ```ts ignore
   * console.log(loop.removeWriter(sock)); // false
   * ```
   */
  override removeWriter(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_WRITE, "removeWriter");
  }

  /**
   * Dequeues the completions already queued.
   * @internal
   */
  protected _poll(): void {
    this.#proactor.poll();
  }

  /**
   * Waits off the JS thread (capped at 1 s) for completions.
   * @internal
   */
  protected async _wait(timeoutMs: number | null): Promise<boolean> {
    return (await this.#proactor.wait(timeoutMs)) > 0;
  }

  /**
   * Waits on the JS thread for completions.
   * @internal
   */
  protected _waitBriefly(timeoutMs: number | null): boolean {
    return this.#proactor.waitSync(briefWaitBound(timeoutMs)) > 0;
  }

  /**
   * Posts the wake packet.
   * @internal
   */
  protected _wakeup(): void {
    this.#proactor.wakeup();
  }

  /**
   * Wraps a connected stream socket in a `ProactorSocketTransport`.
   * @internal
   */
  protected _makeSocketTransport(
    sock: Socket,
    protocol: StreamProtocol,
    options: SocketTransportOptions,
  ): Transport {
    return new ProactorSocketTransport(this, sock, protocol, options);
  }

  /**
   * Wraps a datagram socket in a `ProactorDatagramTransport`.
   * @internal
   */
  protected _makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocol,
    options: DatagramTransportOptions,
  ): DatagramTransport {
    return new ProactorDatagramTransport(this, sock, protocol, options);
  }

  /**
   * Accepts on the listening `sock` for a server, one AcceptEx after another.
   * @internal
   */
  protected _startServing(target: ServingTarget, sock: Socket): void {
    this.#serving.get(sock)?.abort();
    const ac = new AbortController();
    this.#serving.set(sock, ac);
    this.#acceptLoop(target, sock, ac.signal);
  }

  async #acceptLoop(target: ServingTarget, sock: Socket, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && target.isServing() && !sock.closed && !this.isClosed()) {
      let conn: Socket, addr: Address;
      try {
        [conn, addr] = await this.#proactor.accept(sock, signal, "accept");
      } catch (e) {
        if (signal.aborted || sock.closed || this.isClosed() || e instanceof CancelledError) break;
        // The listener stays open (CPython closes it, gh-93821): report, pause, go on.
        this.callExceptionHandler({
          message: "Accept failed on a socket",
          exception: e,
          socket: sock,
        });
        const { promise, resolve } = Promise.withResolvers<void>();
        const t = this.callLater(target.acceptRetryDelay, resolve);
        signal.addEventListener("abort", () => {
          t.cancel();
          resolve();
        }, { once: true });
        await promise;
        continue;
      }
      if (signal.aborted || this.isClosed()) {
        conn.close();
        break;
      }
      let protocol: StreamProtocol | undefined;
      try {
        protocol = target.protocolFactory();
        this._hooks.makeSocketTransport(conn, protocol, {
          extra: { peername: addr },
          server: target.hooks,
          noDelay: target.noDelay,
        });
      } catch (e) {
        conn.close();
        this.callExceptionHandler({
          message: "Error on transport creation for incoming connection",
          exception: e,
          protocol,
        });
      }
    }
    if (this.#serving.get(sock)?.signal === signal) this.#serving.delete(sock);
  }

  /**
   * Stops accepting on `sock` (its AcceptEx is cancelled).
   * @internal
   */
  protected _stopServing(sock: Socket): void {
    const ac = this.#serving.get(sock);
    this.#serving.delete(sock);
    ac?.abort();
  }

  #closedLoop(): Promise<never> | null {
    return this.isClosed() ? Promise.reject(new Error("Event loop is closed")) : null;
  }

  /**
   * Receives up to `nbytes` bytes (at most 256 KiB per call) from `sock`;
   * an empty array at end of stream. `nbytes` 0 resolves at once. Aborting
   * `options.signal` rejects with `CancelledError` at once and cancels the
   * receive (CancelIoEx); bytes it had already taken are lost, as in CPython.
   *
   * @example
   * ```ts ignore
   * const data = await loop.sockRecv(sock, 4096);
   * ```
   */
  sockRecv(sock: Socket, nbytes: number, options?: SockOptions): Promise<Uint8Array> {
    const what = "sockRecv()";
    checkSocket(sock, what);
    checkCount(nbytes, what, "nbytes");
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    if (nbytes === 0) return Promise.resolve(new Uint8Array(0));
    return this.#closedLoop() ?? this.#proactor.recv(sock, nbytes, signal, what);
  }

  /**
   * Receives into `buf`; resolves to the byte count (0 at end of stream).
   *
   * @example
   * ```ts ignore
   * const n = await loop.sockRecvInto(sock, new Uint8Array(65536));
   * ```
   */
  sockRecvInto(sock: Socket, buf: Uint8Array, options?: SockOptions): Promise<number> {
    const what = "sockRecvInto()";
    checkSocket(sock, what);
    const view = checkBuffer(buf, what, "buf");
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    if (view.byteLength === 0) return Promise.resolve(0);
    return this.#closedLoop() ?? this.#proactor.recvInto(sock, view, signal, what);
  }

  /**
   * Receives a datagram of up to `bufsize` bytes and its sender's address
   * (a larger datagram is truncated).
   *
   * @example
   * ```ts ignore
   * const [data, from] = await loop.sockRecvfrom(udp, 2048);
   * ```
   */
  sockRecvfrom(
    sock: Socket,
    bufsize: number,
    options?: SockOptions,
  ): Promise<[Uint8Array, Address]> {
    const what = "sockRecvfrom()";
    checkSocket(sock, what);
    checkCount(bufsize, what, "bufsize");
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    return this.#closedLoop() ?? this.#proactor.recvfrom(sock, bufsize, signal, what);
  }

  /**
   * Receives a datagram into `buf` (at most `nbytes`, all of `buf` when
   * omitted): the byte count and the sender's address.
   *
   * @example
   * ```ts ignore
   * const [n, from] = await loop.sockRecvfromInto(udp, new Uint8Array(2048));
   * ```
   */
  sockRecvfromInto(
    sock: Socket,
    buf: Uint8Array,
    nbytes?: number,
    options?: SockOptions,
  ): Promise<[number, Address]> {
    const what = "sockRecvfromInto()";
    checkSocket(sock, what);
    const view = checkBuffer(buf, what, "buf");
    if (nbytes !== undefined) {
      checkCount(nbytes, what, "nbytes");
      if (nbytes > view.byteLength) {
        throw new RangeError(
          `${what}: nbytes (${nbytes}) is larger than the buffer (${view.byteLength})`,
        );
      }
    }
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    return this.#closedLoop() ??
      this.#proactor.recvfromInto(sock, view, nbytes ?? view.byteLength, signal, what);
  }

  /**
   * Sends all of `data`, copied off-heap 16 MiB at a time (one operation
   * after another): `data` must not change until the promise settles.
   * Aborting rejects at once; part of `data` may have been sent.
   *
   * @example
   * ```ts ignore
   * await loop.sockSendall(sock, new TextEncoder().encode("hello"));
   * ```
   */
  sockSendall(sock: Socket, data: Uint8Array, options?: SockOptions): Promise<void> {
    const what = "sockSendall()";
    checkSocket(sock, what);
    const view = checkBuffer(data, what, "data");
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    if (view.byteLength === 0) return resolvedVoid;
    return this.#closedLoop() ?? this.#proactor.sendall(sock, view, signal);
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
    const what = "sockSendto()";
    checkSocket(sock, what);
    const view = checkBuffer(data, what, "data");
    checkAddress(address, what);
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    return this.#closedLoop() ?? this.#proactor.sendto(sock, view, address, signal, what);
  }

  /**
   * Connects `sock` to `address` (ConnectEx; a host name is resolved first,
   * the first address used). A refused connection rejects with
   * `Deno.errors.ConnectionRefused`.
   *
   * @example
   * ```ts ignore
   * await loop.sockConnect(sock, { transport: "tcp", hostname: "127.0.0.1", port: 8080 });
   * ```
   */
  sockConnect(sock: Socket, address: Address, options?: SockOptions): Promise<void> {
    const what = "sockConnect()";
    checkSocket(sock, what);
    checkAddress(address, what);
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    const closed = this.#closedLoop();
    if (closed !== null) return closed;
    if (
      "hostname" in address && typeof address.hostname === "string" &&
      ipFamily(address.hostname) === null
    ) {
      // The rest of the address is checked before the name is looked up.
      const numeric = sock.family === "inet6" ? "::" : "0.0.0.0";
      encodeAddress({ ...address, hostname: numeric }, sock.family, sock.type, SCRATCH, what);
      return this.#resolveThenConnect(sock, address, signal);
    }
    return this.#proactor.connect(sock, address, signal, what);
  }

  async #resolveThenConnect(
    sock: Socket,
    address: NetAddress,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const lookup = getaddrinfo(address.hostname, address.port, {
      family: sock.family === "inet6" ? "inet6" : "inet",
      type: sock.type === "dgram" ? "dgram" : "stream",
    });
    let infos;
    if (signal === undefined) infos = await lookup;
    else {
      lookup.catch(() => {});
      const aborted = Promise.withResolvers<never>();
      const onAbort = () => aborted.reject(cancelledError(signal, "sockConnect()"));
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        infos = await Promise.race([lookup, aborted.promise]);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    }
    if (infos.length === 0) {
      throw new Deno.errors.NotFound(`sockConnect(): no address found for ${address.hostname}`);
    }
    return this.#proactor.connect(
      sock,
      { ...address, hostname: infos[0].address.hostname },
      signal,
      "sockConnect()",
    );
  }

  /**
   * Accepts a connection on the listening `sock` (AcceptEx): the new
   * nonblocking socket and the peer's address. A connection reset while it
   * was queued is skipped.
   *
   * @example
   * ```ts ignore
   * const [conn, peer] = await loop.sockAccept(server);
   * ```
   */
  sockAccept(sock: Socket, options?: SockOptions): Promise<[Socket, Address]> {
    const what = "sockAccept()";
    checkSocket(sock, what);
    const signal = signalOf(options, what);
    if (signal?.aborted) return rejectAborted(signal, what);
    if (sock.closed) return rejectClosed(what);
    return this.#closedLoop() ?? this.#proactor.accept(sock, signal, what);
  }

  /**
   * Native sendfile: TransmitFile from `offset` (in the OVERLAPPED), at most
   * 2^31 - 2 bytes per operation, one after another up to `count` bytes or
   * the end of the file as it was when the call started (asyncio's
   * `_sock_sendfile_native` of the ProactorEventLoop).
   * @internal
   */
  protected override async _sockSendfileNative(
    sock: Socket,
    file: SendfileSource,
    offset: number,
    count: number | null,
    signal: AbortSignal | undefined,
    progress: (sent: number) => void,
  ): Promise<number> {
    const end = count === null ? file.size : Math.min(offset + count, file.size);
    let pos = Math.min(offset, end);
    let sent = 0;
    while (pos < end) {
      const n = await this.#proactor.transmitFile(
        sock,
        file.fd,
        pos,
        Math.min(end - pos, TRANSMIT_MAX),
        signal,
      );
      if (n <= 0) break; // the file shrank under us
      pos += n;
      sent += n;
      progress(sent);
    }
    return sent;
  }
}
