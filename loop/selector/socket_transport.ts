/**
 * The readiness-based stream transport over a connected `Socket` (asyncio's
 * `selector_events._SelectorSocketTransport`). Reads go into one shared
 * 256 KiB off-heap buffer and reach the protocol as a copy of exactly the
 * bytes read: up to 4 KiB in a region of a shared pooled slab, larger ones in
 * their own buffer (or straight into a `BufferedProtocol`'s buffer). Writes
 * try the socket at once and buffer only what did not fit; the buffer is
 * flushed with one gathered `sendmsg` per writable event.
 *
 * @module
 */
import type { IovecArray } from "../../ffi/sys.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { ServerHooks, SocketTransportOptions } from "../base/loop_hooks.ts";
import { SHUT_WR, type Socket } from "../../net/mod.ts";
import {
  Transport,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import type { BufferedProtocol } from "../../transports/buffered_protocol.ts";
import { FdWriter } from "../base/_flow_control.ts";
import type { BaseProtocol, Protocol } from "../../transports/protocol.ts";
import { SelectorTransportCore, socketExtraInfo } from "./_selector_transport.ts";
import {
  isBuffered,
  isOSError,
  readTarget,
  toBytes,
  type TransportLoop,
  warnWriteAfterLoss,
  writelinesViews,
} from "../base/_transport_util.ts";
import { READ_BUF, takeRead } from "../base/_read_pool.ts";

/**
 * The most bytes one read takes (asyncio's `max_size`): 256 KiB.
 *
 * @example
 * ```ts
 * import { MAX_READ_SIZE } from "./socket_transport.ts";
 * console.log(MAX_READ_SIZE); // 262144
 * ```
 */
export const MAX_READ_SIZE: number = READ_BUF.byteLength;

export type { TransportLoop };

/** Options of {@linkcode SelectorSocketTransport}'s constructor (the loop's hook options). */
export type SelectorSocketTransportOptions = SocketTransportOptions;

// A socket is written with send() and sendmsg() (MSG_NOSIGNAL: EPIPE, never SIGPIPE).
class SocketWriter extends FdWriter {
  readonly #sock: Socket;

  constructor(loop: TransportLoop, transport: Transport, sock: Socket, writeReady: () => void) {
    super(loop, transport, sock.fileno(), writeReady);
    this.#sock = sock;
  }

  protected send(view: Uint8Array): number {
    return this.#sock.send(view);
  }

  protected sendv(iov: IovecArray): number {
    return iov.sendmsg(this.fd);
  }
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
 * the socket is closed. The examples of `ReadTransport`, `WriteTransport`
 * and `Transport` show its methods at work.
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
  #server: ServerHooks | null;
  #eof = false; // writeEof() was called
  #w: SocketWriter; // the write buffer, its flow control and the sends
  #t: SelectorTransportCore; // closing, paused, connLost and the closing sequence
  // Bound once: the loop's handles call these with no per-event closure.
  #readReady = (): void => {
    if (this.#buffered) this.#readIntoBuffer();
    else this.#readData();
  };

  /** Wraps `sock` (connected, nonblocking) and starts the protocol on the loop's next turn. */
  constructor(
    loop: TransportLoop,
    sock: Socket,
    protocol: StreamProtocol,
    options: SelectorSocketTransportOptions = {},
  ) {
    super(socketExtraInfo(sock, options.extra));
    this.#loop = loop;
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#server = options.server ?? null;
    this.#w = new SocketWriter(loop, this, sock, () => this.#onWritable());
    this.#t = new SelectorTransportCore(loop, this.#fd, this, {
      readReady: this.#readReady,
      buffer: this.#w.buffer,
      release: () => this.#release(),
      quiet: isOSError, // reset, broken pipe, ...: the protocol's news, not a bug to report
    });
    if ((options.noDelay ?? true) && sock.family !== "unix" && sock.type === "stream") {
      sock.setsockopt("TCP_NODELAY", true);
    }
    this.setProtocol(protocol);
    this.#server?.attach(this);
    this.#t.start(options.waiter);
  }

  // ---- BaseTransport ---------------------------------------------------------

  /**
   * Whether `close()` or `abort()` was called, or the connection was lost.
   */
  isClosing(): boolean {
    return this.#t.closing;
  }

  /**
   * Stops reading, sends what is buffered, then closes; the protocol's
   * `connectionLost(null)` follows.
   */
  close(): void {
    this.#t.close();
  }

  /**
   * Replaces the protocol (a `BufferedProtocol` switches reads to `getBuffer`).
   */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as StreamProtocol;
    this.#buffered = isBuffered(protocol);
  }

  /**
   * The current protocol.
   */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  // ---- reading -----------------------------------------------------------------

  /**
   * Whether the transport is receiving (neither paused nor closing).
   */
  isReading(): boolean {
    return this.#t.isReading();
  }

  /**
   * Stops reading until `resumeReading()` (no effect when not reading).
   */
  pauseReading(): void {
    this.#t.pauseReading();
  }

  /**
   * Reads again (no effect unless paused).
   */
  resumeReading(): void {
    this.#t.resumeReading();
  }

  #readData(): void {
    if (this.#t.connLost) return;
    let n: number;
    try {
      n = this.#sock.recvInto(READ_BUF);
    } catch (e) {
      this.#t.fatalError(e, "Fatal read error on socket transport");
      return;
    }
    if (n <= 0) {
      if (n === 0) this.#onEof();
      return; // -1: would block (a spurious wakeup)
    }
    const data = takeRead(READ_BUF, n);
    try {
      (this.#protocol as Protocol).dataReceived(data);
    } catch (e) {
      this.#t.fatalError(e, "Fatal error: protocol.dataReceived() call failed.");
    }
  }

  #readIntoBuffer(): void {
    if (this.#t.connLost) return;
    const protocol = this.#protocol as BufferedProtocol;
    let buf: Uint8Array;
    try {
      buf = readTarget(protocol.getBuffer(-1));
    } catch (e) {
      this.#t.fatalError(e, "Fatal error: protocol.getBuffer() call failed.");
      return;
    }
    let n: number;
    try {
      n = this.#sock.recvInto(buf);
    } catch (e) {
      this.#t.fatalError(e, "Fatal read error on socket transport");
      return;
    }
    if (n <= 0) {
      if (n === 0) this.#onEof();
      return;
    }
    try {
      protocol.bufferUpdated(n);
    } catch (e) {
      this.#t.fatalError(e, "Fatal error: protocol.bufferUpdated() call failed.");
    }
  }

  #onEof(): void {
    let keepOpen: unknown;
    try {
      keepOpen = this.#protocol.eofReceived();
    } catch (e) {
      this.#t.fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    if (keepOpen) {
      // Half-closed: no more reading (the fd would stay readable at EOF), writing goes on.
      this.#t.readEnded = true;
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
   */
  write(data: Uint8Array): void {
    const view = toBytes(data, "write()");
    if (this.#eof) throw new Error("Cannot call write() after writeEof()");
    if (view.byteLength === 0) return;
    if (this.#t.connLost) {
      this.#writeAfterLoss();
      return;
    }
    if (!this.#w.write(view, false)) {
      this.#t.fatalError(this.#w.error, "Fatal write error on socket transport");
    }
  }

  /**
   * Sends the buffers of `list` in order: with one `sendmsg` (gathered
   * write) when nothing is buffered yet, copying only what did not go out.
   */
  writelines(list: Iterable<Uint8Array>): void {
    if (this.#eof) throw new Error("Cannot call writelines() after writeEof()");
    const views = writelinesViews(list);
    if (views.length === 0) return;
    if (this.#t.connLost) {
      this.#writeAfterLoss();
      return;
    }
    if (!this.#w.writeViews(views)) {
      this.#t.fatalError(this.#w.error, "Fatal write error on socket transport");
    }
  }

  #writeAfterLoss(): void {
    warnWriteAfterLoss(this.#t.connLost++, "socket.send() raised exception.");
  }

  #onWritable(): void {
    if (this.#t.connLost) return;
    const left = this.#w.flush();
    if (left < 0) {
      this.#t.fatalError(this.#w.error, "Fatal write error on socket transport");
      return;
    }
    // resumeWriting() (inside flush) may have closed or aborted: that schedules connectionLost().
    if (left !== 0 || this.#t.connLost) return;
    if (this.#t.closing) {
      this.#t.connLost++;
      this.#t.callConnectionLost(null);
    } else if (this.#eof) {
      this.#shutdownWrite();
    }
  }

  #shutdownWrite(): void {
    try {
      this.#sock.shutdown(SHUT_WR);
    } catch (e) {
      this.#t.fatalError(e, "Fatal error on socket transport: shutdown() failed");
    }
  }

  /**
   * Closes the writing side (`shutdown(SHUT_WR)`) once the buffer is sent;
   * the peer sees end of stream and reading goes on. Later writes throw.
   */
  writeEof(): void {
    if (this.#t.closing || this.#eof) return;
    this.#eof = true;
    if (this.#w.buffer.size === 0) this.#shutdownWrite();
  }

  /**
   * `true`: sockets can close their writing side.
   */
  canWriteEof(): boolean {
    return true;
  }

  /**
   * Closes at once: the write buffer is dropped, `connectionLost(null)`
   * follows on the next iteration and the socket is closed.
   */
  abort(): void {
    this.#t.forceClose(null);
  }

  // ---- flow control ------------------------------------------------------------

  /**
   * Sets the write-buffer marks (defaults 64 KiB and 16 KiB):
   * `pauseWriting()` is called once the buffer goes above `high`,
   * `resumeWriting()` once it drains to `low`.
   */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    this.#w.setLimits(limits);
  }

  /**
   * The bytes in the write buffer.
   */
  getWriteBufferSize(): number {
    return this.#w.buffer.size;
  }

  /**
   * The marks, `{ low, high }`.
   */
  getWriteBufferLimits(): WriteBufferLimits {
    return this.#w.limits();
  }

  // ---- the end -----------------------------------------------------------------

  // After connectionLost(): the socket is closed and the server lets go of the transport.
  #release(): void {
    this.#sock.close();
    const server = this.#server;
    this.#server = null;
    server?.detach(this);
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
      : this.#t.closing
      ? "closing"
      : this.isReading()
      ? "reading"
      : "paused";
    return `<SelectorSocketTransport fd=${this.#fd} ${state} bufsize=${this.#w.buffer.size}>`;
  }
}
