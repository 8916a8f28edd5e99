/**
 * The readiness-based stream transport over a connected `Socket` (asyncio's
 * `selector_events._SelectorSocketTransport`). Reads go into one shared
 * 256 KiB off-heap buffer and reach the protocol as a fresh copy of exactly
 * the bytes read (or straight into a `BufferedProtocol`'s buffer). Writes
 * try the socket at once and buffer only what did not fit; the buffer is
 * flushed with one gathered `sendmsg` per writable event.
 *
 * @module
 */
import { IovecArray } from "../ffi/unix/iovec.ts";
import type { AbstractEventLoop } from "../loop/abstract_event_loop.ts";
import type { Future } from "../loop/future.ts";
import { SHUT_WR, type Socket } from "../net/mod.ts";
import {
  Transport,
  type TransportExtraInfo,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "./base_transport.ts";
import type { BufferedProtocol } from "./buffered_protocol.ts";
import { normalizeLimits, WriteBuffer } from "./_flow_control.ts";
import type { BaseProtocol, Protocol } from "./protocol.ts";

/**
 * The most bytes one read takes (asyncio's `max_size`): 256 KiB.
 *
 * @example
 * ```ts
 * import { MAX_READ_SIZE } from "./selector_socket_transport.ts";
 * console.log(MAX_READ_SIZE); // 262144
 * ```
 */
export const MAX_READ_SIZE = 256 * 1024;
/** asyncio's `LOG_THRESHOLD_FOR_CONNLOST_WRITES`: writes after the loss before a warning. */
const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

// JS is single-threaded and every read is copied out before the protocol runs: one buffer
// serves every transport. An explicit ArrayBuffer lives off the V8 heap.
const READ_BUF = new Uint8Array(new ArrayBuffer(MAX_READ_SIZE));
let sharedIov: IovecArray | undefined;
function iovec(): IovecArray {
  return sharedIov ??= new IovecArray();
}

/** A stream protocol: a `Protocol`, or a `BufferedProtocol` (anything with `getBuffer`). */
export type StreamProtocol = Protocol | BufferedProtocol;

/** What the transport needs of its loop. */
export type TransportLoop = Pick<
  AbstractEventLoop,
  | "addReader"
  | "removeReader"
  | "addWriter"
  | "removeWriter"
  | "callSoon"
  | "callExceptionHandler"
  | "getDebug"
>;

/** How a server learns of its connections (asyncio's `Server._attach`/`_detach`). */
export interface TransportServerHooks {
  /** A transport of the server was made. */
  attach(transport: Transport): void;
  /** A transport of the server is gone (after `connectionLost`). */
  detach(transport: Transport): void;
}

/** Options of {@linkcode SelectorSocketTransport}'s constructor. */
export interface SelectorSocketTransportOptions {
  /** Resolved (unless cancelled) once `connectionMade()` was called. */
  waiter?: Future<void> | null;
  /** Extra information; `sockname`, `peername` and `socket` are filled in when missing. */
  extra?: Partial<TransportExtraInfo> & Record<string, unknown>;
  /** The server the connection belongs to. */
  server?: TransportServerHooks | null;
  /** Set `TCP_NODELAY` on TCP sockets (default `true`, as asyncio since 3.7). */
  noDelay?: boolean;
}

// Errors from the OS (asyncio's OSError): not reported through the exception handler.
const OS_ERRORS = Object.values(Deno.errors) as (new (...args: never[]) => Error)[];
function isOSError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const errno = (e as { errno?: unknown }).errno;
  if (typeof errno === "number" && typeof (e as { code?: unknown }).code === "string") return true;
  for (const C of OS_ERRORS) if (e instanceof C) return true;
  return false;
}

function toBytes(data: unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const got = data === null
    ? "null"
    : typeof data === "object"
    ? (data as object).constructor?.name ?? "object"
    : typeof data;
  throw new TypeError(
    `${what}: data must be a Uint8Array (or another ArrayBufferView), not ${got}`,
  );
}

function isBuffered(protocol: unknown): boolean {
  return typeof (protocol as { getBuffer?: unknown })?.getBuffer === "function";
}

function setResultUnlessCancelled(fut: Future<void>): void {
  if (!fut.cancelled()) fut.setResult(undefined);
}

/**
 * A stream transport over a connected, nonblocking `Socket`, driven by the
 * loop's `addReader`/`addWriter`. Made by `createConnection`,
 * `createServer`, `createUnixConnection`, `createUnixServer` and
 * `connectAcceptedSocket`; construct it directly only to wrap a socket you
 * connected yourself (`connectAcceptedSocket` does that for you).
 *
 * The protocol's `connectionMade()` runs on the loop's next iteration, then
 * reading starts; `connectionLost()` runs exactly once, last, after which
 * the socket is closed.
 *
 * @example
 * ```ts ignore
 * const transport = new SelectorSocketTransport(loop, sock, new MyProtocol());
 * ```
 */
export class SelectorSocketTransport extends Transport {
  #loop: TransportLoop;
  #sock: Socket;
  #fd: number;
  #protocol!: StreamProtocol;
  #buffered = false;
  #server: TransportServerHooks | null;
  #buffer = new WriteBuffer();
  #connLost = 0;
  #closing = false;
  #paused = false;
  #eof = false; // writeEof() was called
  #eofSeen = false; // the peer's EOF arrived and the protocol kept the transport open
  #protocolPaused = false;
  #high: number;
  #low: number;
  // Bound once: the loop's handles call these with no per-event closure.
  #readReady = (): void => {
    if (this.#buffered) this.#readIntoBuffer();
    else this.#readData();
  };
  #writeReady = (): void => this.#onWritable();
  #connectionLost = (exc: Error | null): void => this.#callConnectionLost(exc);
  #connectionMade = (): void => this.#protocol.connectionMade(this);
  #startReading = (): void => this.#addReader();

  /** Wraps `sock` (connected, nonblocking) and starts the protocol on the loop's next turn. */
  constructor(
    loop: TransportLoop,
    sock: Socket,
    protocol: StreamProtocol,
    options: SelectorSocketTransportOptions = {},
  ) {
    super(options.extra);
    this.#loop = loop;
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#server = options.server ?? null;
    ({ high: this.#high, low: this.#low } = normalizeLimits());
    this._setExtraInfo("socket", sock);
    for (const [name, peer] of [["sockname", false], ["peername", true]] as const) {
      if (this.getExtraInfo(name) !== undefined) continue;
      try {
        this._setExtraInfo(name, peer ? sock.getpeername() : sock.getsockname());
      } catch {
        // A connection reset before we looked: asyncio leaves the name as None.
      }
    }
    if ((options.noDelay ?? true) && sock.family !== "unix" && sock.type === "stream") {
      sock.setsockopt("TCP_NODELAY", true);
    }
    this.setProtocol(protocol);
    this.#server?.attach(this);
    loop.callSoon(this.#connectionMade);
    loop.callSoon(this.#startReading);
    if (options.waiter) loop.callSoon(setResultUnlessCancelled, options.waiter);
  }

  // ---- BaseTransport ---------------------------------------------------------

  /**
   * Whether `close()` or `abort()` was called, or the connection was lost.
   *
   * @example
   * ```ts ignore
   * if (!transport.isClosing()) transport.write(data);
   * ```
   */
  isClosing(): boolean {
    return this.#closing;
  }

  /**
   * Stops reading, sends what is buffered, then closes; the protocol's
   * `connectionLost(null)` follows.
   *
   * @example
   * ```ts ignore
   * transport.close();
   * ```
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#loop.removeReader(this.#fd);
    if (this.#buffer.size === 0) {
      this.#connLost++;
      this.#loop.removeWriter(this.#fd);
      this.#loop.callSoon(this.#connectionLost, null);
    }
  }

  /**
   * Replaces the protocol (a `BufferedProtocol` switches reads to `getBuffer`).
   *
   * @example
   * ```ts ignore
   * transport.setProtocol(new OtherProtocol());
   * ```
   */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as StreamProtocol;
    this.#buffered = isBuffered(protocol);
  }

  /**
   * The current protocol.
   *
   * @example
   * ```ts ignore
   * const protocol = transport.getProtocol();
   * ```
   */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  // ---- reading -----------------------------------------------------------------

  /**
   * Whether the transport is receiving (neither paused nor closing).
   *
   * @example
   * ```ts ignore
   * console.log(transport.isReading());
   * ```
   */
  isReading(): boolean {
    return !this.#paused && !this.#closing;
  }

  /**
   * Stops reading until `resumeReading()` (no effect when not reading).
   *
   * @example
   * ```ts ignore
   * transport.pauseReading();
   * ```
   */
  pauseReading(): void {
    if (!this.isReading()) return;
    this.#paused = true;
    this.#loop.removeReader(this.#fd);
  }

  /**
   * Reads again (no effect unless paused).
   *
   * @example
   * ```ts ignore
   * transport.resumeReading();
   * ```
   */
  resumeReading(): void {
    if (this.#closing || !this.#paused) return;
    this.#paused = false;
    this.#addReader();
  }

  #addReader(): void {
    if (!this.isReading() || this.#eofSeen) return;
    this.#loop.addReader(this.#fd, this.#readReady);
  }

  #readData(): void {
    if (this.#connLost) return;
    let n: number;
    try {
      n = this.#sock.recvInto(READ_BUF);
    } catch (e) {
      this.#fatalError(e, "Fatal read error on socket transport");
      return;
    }
    if (n <= 0) {
      if (n === 0) this.#onEof();
      return; // -1: would block (a spurious wakeup)
    }
    const data = READ_BUF.slice(0, n);
    try {
      (this.#protocol as Protocol).dataReceived(data);
    } catch (e) {
      this.#fatalError(e, "Fatal error: protocol.dataReceived() call failed.");
    }
  }

  #readIntoBuffer(): void {
    if (this.#connLost) return;
    const protocol = this.#protocol as BufferedProtocol;
    let buf: Uint8Array;
    try {
      buf = protocol.getBuffer(-1);
      if (!ArrayBuffer.isView(buf)) throw new TypeError("getBuffer() must return a Uint8Array");
      if (buf.byteLength === 0) throw new Error("getBuffer() returned an empty buffer");
      if (!(buf instanceof Uint8Array)) {
        buf = new Uint8Array(
          (buf as ArrayBufferView).buffer,
          (buf as ArrayBufferView).byteOffset,
          (buf as ArrayBufferView).byteLength,
        );
      }
    } catch (e) {
      this.#fatalError(e, "Fatal error: protocol.getBuffer() call failed.");
      return;
    }
    let n: number;
    try {
      n = this.#sock.recvInto(buf);
    } catch (e) {
      this.#fatalError(e, "Fatal read error on socket transport");
      return;
    }
    if (n <= 0) {
      if (n === 0) this.#onEof();
      return;
    }
    try {
      protocol.bufferUpdated(n);
    } catch (e) {
      this.#fatalError(e, "Fatal error: protocol.bufferUpdated() call failed.");
    }
  }

  #onEof(): void {
    let keepOpen: unknown;
    try {
      keepOpen = this.#protocol.eofReceived();
    } catch (e) {
      this.#fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    if (keepOpen) {
      // Half-closed: no more reading (the fd would stay readable at EOF), writing goes on.
      this.#eofSeen = true;
      this.#loop.removeReader(this.#fd);
    } else {
      this.close();
    }
  }

  // ---- writing -----------------------------------------------------------------

  /**
   * Sends `data` now as far as the kernel takes it; the rest is copied into
   * the write buffer and sent when the socket is writable. Throws after
   * `writeEof()`; does nothing after the connection was lost (a warning
   * follows repeated writes, as asyncio).
   *
   * @example
   * ```ts ignore
   * transport.write(new TextEncoder().encode("hello"));
   * ```
   */
  write(data: Uint8Array): void {
    const view = toBytes(data, "write()");
    if (this.#eof) throw new Error("Cannot call write() after writeEof()");
    const len = view.byteLength;
    if (len === 0) return;
    if (this.#connLost) {
      this.#writeAfterLoss();
      return;
    }
    let start = 0;
    if (this.#buffer.size === 0) {
      let n: number;
      try {
        n = this.#sock.send(view);
      } catch (e) {
        this.#fatalError(e, "Fatal write error on socket transport");
        return;
      }
      if (n === len) return;
      if (n > 0) start = n;
      this.#loop.addWriter(this.#fd, this.#writeReady);
    }
    this.#buffer.push(view, start);
    this.#maybePauseProtocol();
  }

  /**
   * Sends the buffers of `list` in order: with one `sendmsg` (gathered
   * write) when nothing is buffered yet, copying only what did not go out.
   *
   * @example
   * ```ts ignore
   * transport.writelines([header, body]);
   * ```
   */
  writelines(list: Iterable<Uint8Array>): void {
    if (this.#eof) throw new Error("Cannot call writelines() after writeEof()");
    if (list === null || typeof (list as Iterable<Uint8Array>)?.[Symbol.iterator] !== "function") {
      throw new TypeError("writelines(): expected an iterable of Uint8Array");
    }
    const views: Uint8Array[] = [];
    let total = 0;
    for (const d of list) {
      const v = toBytes(d, "writelines()");
      if (v.byteLength === 0) continue;
      views.push(v);
      total += v.byteLength;
    }
    if (total === 0) return;
    if (this.#connLost) {
      this.#writeAfterLoss();
      return;
    }
    let i = 0, start = 0;
    if (this.#buffer.size === 0) {
      let n: number;
      if (views.length === 1) {
        try {
          n = this.#sock.send(views[0]);
        } catch (e) {
          this.#fatalError(e, "Fatal write error on socket transport");
          return;
        }
      } else {
        const iov = iovec();
        iov.clear();
        for (const v of views) if (!iov.push(v)) break;
        try {
          n = iov.sendmsg(this.#fd);
        } catch (e) {
          this.#fatalError(e, "Fatal write error on socket transport");
          return;
        } finally {
          iov.clear();
        }
      }
      if (n === total) return;
      // Skip what was sent: whole views, then part of one.
      while (n > 0 && n >= views[i].byteLength) n -= views[i++].byteLength;
      if (n > 0) start = n;
      this.#loop.addWriter(this.#fd, this.#writeReady);
    }
    for (; i < views.length; i++, start = 0) this.#buffer.push(views[i], start);
    this.#maybePauseProtocol();
  }

  #writeAfterLoss(): void {
    if (this.#connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
      console.warn("socket.send() raised exception.");
    }
    this.#connLost++;
  }

  #onWritable(): void {
    if (this.#connLost) return;
    const buf = this.#buffer;
    let n: number;
    try {
      if (buf.chunkCount === 1) n = this.#sock.send(buf.first());
      else {
        const iov = iovec();
        buf.fill(iov);
        try {
          n = iov.sendmsg(this.#fd);
        } finally {
          iov.clear();
        }
      }
    } catch (e) {
      this.#loop.removeWriter(this.#fd);
      buf.clear();
      this.#fatalError(e, "Fatal write error on socket transport");
      return;
    }
    if (n > 0) buf.consume(n);
    this.#maybeResumeProtocol(); // may write more
    if (buf.size !== 0) return;
    this.#loop.removeWriter(this.#fd);
    if (this.#closing) {
      this.#connLost++;
      this.#callConnectionLost(null);
    } else if (this.#eof) {
      this.#shutdownWrite();
    }
  }

  #shutdownWrite(): void {
    try {
      this.#sock.shutdown(SHUT_WR);
    } catch (e) {
      this.#fatalError(e, "Fatal error on socket transport: shutdown() failed");
    }
  }

  /**
   * Closes the writing side (`shutdown(SHUT_WR)`) once the buffer is sent;
   * the peer sees end of stream and reading goes on. Later writes throw.
   *
   * @example
   * ```ts ignore
   * transport.writeEof();
   * ```
   */
  writeEof(): void {
    if (this.#closing || this.#eof) return;
    this.#eof = true;
    if (this.#buffer.size === 0) this.#shutdownWrite();
  }

  /**
   * `true`: sockets can close their writing side.
   *
   * @example
   * ```ts ignore
   * console.log(transport.canWriteEof()); // true
   * ```
   */
  canWriteEof(): boolean {
    return true;
  }

  /**
   * Closes at once: the write buffer is dropped, `connectionLost(null)`
   * follows on the next iteration and the socket is closed.
   *
   * @example
   * ```ts ignore
   * transport.abort();
   * ```
   */
  abort(): void {
    this.#forceClose(null);
  }

  // ---- flow control ------------------------------------------------------------

  /**
   * Sets the write-buffer marks (defaults 64 KiB and 16 KiB):
   * `pauseWriting()` is called once the buffer goes above `high`,
   * `resumeWriting()` once it drains to `low`.
   *
   * @example
   * ```ts ignore
   * transport.setWriteBufferLimits({ high: 1 << 20 });
   * ```
   */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    ({ high: this.#high, low: this.#low } = normalizeLimits(limits));
    this.#maybePauseProtocol();
  }

  /**
   * The bytes in the write buffer.
   *
   * @example
   * ```ts ignore
   * console.log(transport.getWriteBufferSize());
   * ```
   */
  getWriteBufferSize(): number {
    return this.#buffer.size;
  }

  /**
   * The marks, `{ low, high }`.
   *
   * @example
   * ```ts ignore
   * const { low, high } = transport.getWriteBufferLimits();
   * ```
   */
  getWriteBufferLimits(): WriteBufferLimits {
    return { low: this.#low, high: this.#high };
  }

  #maybePauseProtocol(): void {
    if (this.#buffer.size <= this.#high || this.#protocolPaused) return;
    this.#protocolPaused = true;
    try {
      this.#protocol.pauseWriting();
    } catch (e) {
      this.#loop.callExceptionHandler({
        message: "protocol.pauseWriting() failed",
        exception: e,
        transport: this,
        protocol: this.#protocol,
      });
    }
  }

  #maybeResumeProtocol(): void {
    if (!this.#protocolPaused || this.#buffer.size > this.#low) return;
    this.#protocolPaused = false;
    try {
      this.#protocol.resumeWriting();
    } catch (e) {
      this.#loop.callExceptionHandler({
        message: "protocol.resumeWriting() failed",
        exception: e,
        transport: this,
        protocol: this.#protocol,
      });
    }
  }

  // ---- failure and the end -------------------------------------------------------

  #fatalError(exc: unknown, message: string): void {
    // OS errors (reset, broken pipe, ...) are the protocol's news, not a bug to report.
    if (!isOSError(exc)) {
      this.#loop.callExceptionHandler({
        message,
        exception: exc,
        transport: this,
        protocol: this.#protocol,
      });
    }
    this.#forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  #forceClose(exc: Error | null): void {
    if (this.#connLost) return;
    if (this.#buffer.size !== 0) {
      this.#buffer.clear();
      this.#loop.removeWriter(this.#fd);
    }
    if (!this.#closing) {
      this.#closing = true;
      this.#loop.removeReader(this.#fd);
    }
    this.#connLost++;
    this.#loop.callSoon(this.#connectionLost, exc);
  }

  #callConnectionLost(exc: Error | null): void {
    try {
      this.#protocol.connectionLost(exc);
    } finally {
      // Never close an fd the selector still watches: the number could be reused at once.
      this.#loop.removeReader(this.#fd);
      this.#loop.removeWriter(this.#fd);
      this.#sock.close();
      const server = this.#server;
      this.#server = null;
      server?.detach(this);
    }
  }

  /**
   * A short description: fd, state and buffer size.
   *
   * @example
   * ```ts ignore
   * console.log(String(transport)); // "<SelectorSocketTransport fd=7 reading bufsize=0>"
   * ```
   */
  override toString(): string {
    const state = this.#sock.closed
      ? "closed"
      : this.#closing
      ? "closing"
      : this.isReading()
      ? "reading"
      : "paused";
    return `<SelectorSocketTransport fd=${this.#fd} ${state} bufsize=${this.#buffer.size}>`;
  }
}
