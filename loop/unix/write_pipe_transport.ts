/**
 * The write end of a pipe as a transport (asyncio's
 * `unix_events._UnixWritePipeTransport`): works on pipes, FIFOs, sockets
 * and character devices (PTYs, terminals, `/dev/null`). Writes go out at
 * once when they can; the rest waits in a chunked buffer flushed with one
 * `writev` per writable event, with asyncio's write-buffer limits. Made by
 * `loop.connectWritePipe()`; the subprocess transport makes one for a
 * child's stdin.
 *
 * @module
 */
import { PLATFORM } from "../../ffi/sys.ts";
import { E, osError } from "../../ffi/unix/errno.ts";
import { writeFd } from "../../ffi/unix/libc.ts";
import {
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
  WriteTransport,
} from "../../transports/base_transport.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { TransportLoop } from "../selector/socket_transport.ts";
import type { UnixPipeTransportOptions } from "./read_pipe_transport.ts";
import { iovec, WriteBuffer, WriteFlowControl } from "../base/_flow_control.ts";
import type { PipeFileObj } from "../abstract_event_loop.ts";
import { closePipe, takePipe } from "./_pipe_fileobj.ts";
import {
  asError,
  isOSError,
  LOG_THRESHOLD_FOR_CONNLOST_WRITES,
  reportError,
  startProtocol,
  toBytes,
} from "../base/_transport_util.ts";

/**
 * A write-only transport over the write end of a pipe, FIFO, socket or
 * character device. The constructor refuses other kinds of files
 * (`TypeError`; nothing is closed then), makes the fd nonblocking and
 * takes it over: the fd (or the object's `close()`) is closed right after
 * the protocol's `connectionLost()`.
 *
 * For a pipe/FIFO or a socket the transport also watches its fd for
 * *reading*, as asyncio does: the write end of a pipe turns readable
 * (POLLERR/POLLHUP) when the last reader closes, so the protocol learns it
 * at once — `connectionLost(null)` when nothing was waiting to be written,
 * `connectionLost(BrokenPipe)` when data was. Character devices are not
 * watched (a PTY master turns readable with the terminal's echo). A write
 * that fails with EPIPE ends the transport with
 * `connectionLost(BrokenPipe)`; OS errors are not reported to the
 * exception handler.
 *
 * `close()` and `writeEof()` are the same for a pipe: the buffer is sent,
 * then `connectionLost(null)` runs and the pipe is closed, which is what
 * the reader sees as end of file. `abort()` drops the buffer.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop } from "@aio/loop";
 * import { BaseProtocol } from "../../transports/protocol.ts";
 * import { UnixWritePipeTransport } from "./write_pipe_transport.ts";
 * import { closeFd, makePipe, readFd } from "../../ffi/unix/libc.ts";
 *
 * class Done extends BaseProtocol {
 *   done = Promise.withResolvers<Error | null>();
 *   override connectionLost(exc: Error | null): void {
 *     this.done.resolve(exc);
 *   }
 * }
 * using loop = new SelectorEventLoop();
 * const [r, w] = makePipe();
 * const protocol = new Done();
 * await loop.runUntilComplete(async () => {
 *   const transport = new UnixWritePipeTransport(loop, w, protocol); // owns w from now on
 *   transport.write(new TextEncoder().encode("hello"));
 *   transport.close();
 *   await protocol.done.promise;
 * });
 * const buf = new Uint8Array(16);
 * console.log(new TextDecoder().decode(buf.subarray(0, readFd(r, buf)))); // "hello"
 * closeFd(r);
 * ```
 */
export class UnixWritePipeTransport extends WriteTransport {
  #loop: TransportLoop;
  #pipe: PipeFileObj;
  #fd: number;
  #protocol: BaseProtocol;
  #buffer = new WriteBuffer();
  #connLost = 0;
  #closing = false; // close(), writeEof(), abort() or a failure
  #closed = false; // the fd was closed
  #lost = false; // connectionLost was scheduled or called
  #flow: WriteFlowControl;
  // Bound once: the loop's handles call these with no per-event closure.
  #writeReady = (): void => this.#onWritable();
  #readReady = (): void => this.#onPeerClosed();
  #connectionMade = (): void => this.#protocol.connectionMade(this);
  #connectionLost = (exc: Error | null): void => this.#callConnectionLost(exc);
  #startWatching = (): void => {
    if (!this.#closing) this.#loop.addReader(this.#fd, this.#readReady);
  };

  /**
   * Takes over `pipe` (an fd or an object with `fileno()`) for `protocol`;
   * `connectionMade()` follows on the loop's next turn.
   */
  constructor(
    loop: TransportLoop,
    pipe: PipeFileObj,
    protocol: BaseProtocol,
    options: UnixPipeTransportOptions = {},
  ) {
    const { fd, kind } = takePipe(pipe, "UnixWritePipeTransport");
    super(options.extra);
    this._setExtraInfo("pipe", pipe);
    this.#loop = loop;
    this.#pipe = pipe;
    this.#fd = fd;
    this.#protocol = protocol;
    this.#flow = new WriteFlowControl(loop, this, this.#buffer);
    // asyncio: the reader trick works for sockets everywhere and for pipes except on AIX.
    const watch = kind === "socket" || (kind === "fifo" && PLATFORM !== "aix");
    // Watching starts only once connectionMade() ran.
    startProtocol(loop, this.#connectionMade, watch ? this.#startWatching : null, options.waiter);
  }

  /**
   * The pipe's fd (it stays the transport's until `connectionLost()`).
   *
   * @example
   * ```ts ignore
   * console.log(transport.fileno());
   * ```
   */
  fileno(): number {
    return this.#fd;
  }

  /**
   * Whether `close()`, `writeEof()` or `abort()` was called, or the pipe
   * was lost.
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
   * Sends what is buffered, then closes the pipe (the reader sees end of
   * file); `connectionLost(null)` follows. The same as `writeEof()`.
   *
   * @example
   * ```ts ignore
   * transport.close();
   * ```
   */
  close(): void {
    if (!this.#closed && !this.#closing) this.writeEof();
  }

  /**
   * Replaces the protocol.
   *
   * @example
   * ```ts ignore
   * transport.setProtocol(new OtherProtocol());
   * ```
   */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol;
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

  // ---- writing -----------------------------------------------------------------

  /**
   * Writes `data` now as far as the pipe takes it; the rest is copied into
   * the write buffer and written when the pipe is writable (the caller may
   * reuse `data` at once). Once closing or lost, data is dropped as in
   * asyncio (a warning follows repeated writes).
   *
   * @example
   * ```ts ignore
   * transport.write(new TextEncoder().encode("hello\n"));
   * ```
   */
  write(data: Uint8Array): void {
    this.#write(data, false);
  }

  /**
   * Like `write()`, but what the pipe does not take at once is kept as a
   * view of `data`, not copied: the caller lends `data` until the transport
   * has written it or dropped it (`connectionLost()`), and must neither
   * change nor detach it meanwhile. Internal: `Process.communicate()`
   * writes its input so, as it waits for the pipe to close anyway.
   * Detached or shrunk memory ends the transport with a `TypeError`.
   *
   * @example
   * ```ts ignore
   * transport._writeLent(input);
   * ```
   */
  _writeLent(data: Uint8Array): void {
    this.#write(data, true);
  }

  #write(data: Uint8Array, lent: boolean): void {
    const view = toBytes(data, "write()");
    const len = view.byteLength;
    if (len === 0) return;
    if (this.#connLost || this.#closing) {
      this.#writeAfterLoss();
      return;
    }
    let start = 0;
    if (this.#buffer.size === 0) {
      let n: number;
      try {
        n = writeFd(this.#fd, view);
      } catch (e) {
        this.#connLost++;
        this.#fatalError(e, "Fatal write error on pipe transport");
        return;
      }
      if (n === len) return;
      if (n > 0) start = n;
      this.#loop.addWriter(this.#fd, this.#writeReady);
    }
    this.#buffer.push(view, start, lent);
    this.#flow.maybePause();
  }

  /**
   * Writes the buffers of `list` in order: one `writev` (gathered write)
   * when nothing is buffered yet, copying only what did not go out.
   *
   * @example
   * ```ts ignore
   * transport.writelines([header, body]);
   * ```
   */
  writelines(list: Iterable<Uint8Array>): void {
    if (list === null || typeof (list as Iterable<Uint8Array>)?.[Symbol.iterator] !== "function") {
      throw new TypeError("writelines(): expected an iterable of Uint8Array");
    }
    const views: Uint8Array[] = [];
    for (const d of list) {
      const v = toBytes(d, "writelines()");
      if (v.byteLength !== 0) views.push(v);
    }
    if (views.length <= 1 || this.#buffer.size !== 0 || this.#connLost || this.#closing) {
      for (const v of views) this.write(v);
      return;
    }
    let total = 0;
    const iov = iovec();
    iov.clear();
    for (const v of views) {
      if (!iov.push(v)) {
        total = Infinity; // more than one writev takes: what did not fit is buffered below
        break;
      }
      total += v.byteLength;
    }
    let n: number;
    try {
      n = iov.writev(this.#fd);
    } catch (e) {
      this.#connLost++;
      this.#fatalError(e, "Fatal write error on pipe transport");
      return;
    } finally {
      iov.clear();
    }
    if (n === total) return;
    // Skip what went out (whole views, then part of one) and buffer the rest.
    let i = 0;
    while (n > 0 && n >= views[i].byteLength) n -= views[i++].byteLength;
    this.#loop.addWriter(this.#fd, this.#writeReady);
    for (let start = n > 0 ? n : 0; i < views.length; i++, start = 0) {
      this.#buffer.push(views[i], start);
    }
    this.#flow.maybePause();
  }

  #writeAfterLoss(): void {
    if (this.#connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
      console.warn("pipe closed by peer or write(pipe, data) raised exception.");
    }
    this.#connLost++;
  }

  #onWritable(): void {
    const buf = this.#buffer;
    if (buf.size === 0 || this.#lost) return;
    let n: number;
    try {
      if (!buf.intact()) {
        throw new TypeError(
          "bytes lent to the pipe were detached or shrunk before they were written",
        );
      }
      if (buf.chunkCount === 1) n = writeFd(this.#fd, buf.first());
      else {
        const iov = iovec();
        buf.fill(iov);
        try {
          n = iov.writev(this.#fd);
        } finally {
          iov.clear();
        }
      }
    } catch (e) {
      buf.clear();
      this.#connLost++;
      this.#loop.removeWriter(this.#fd);
      this.#fatalError(e, "Fatal write error on pipe transport");
      return;
    }
    if (n > 0) buf.consume(n);
    this.#flow.maybeResume(); // may write more
    if (buf.size !== 0) return;
    this.#loop.removeWriter(this.#fd);
    if (this.#closing && !this.#lost) {
      this.#lost = true;
      this.#loop.removeReader(this.#fd);
      this.#callConnectionLost(null);
    }
  }

  /**
   * Closes the pipe once the buffer is written (the reader then sees end
   * of file); `connectionLost(null)` follows. Later writes are dropped.
   *
   * @example
   * ```ts ignore
   * transport.writeEof();
   * ```
   */
  writeEof(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#buffer.size === 0) {
      this.#loop.removeReader(this.#fd);
      this.#scheduleConnectionLost(null);
    }
  }

  /**
   * `true`: closing the pipe is how a writer sends end of file.
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
   * follows on the next iteration and the pipe is closed.
   *
   * @example
   * ```ts ignore
   * transport.abort();
   * ```
   */
  abort(): void {
    this.#close(null);
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
    this.#flow.setLimits(limits);
  }

  /**
   * The bytes waiting in the write buffer.
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
    return this.#flow.limits();
  }

  // ---- the end -------------------------------------------------------------------

  // The write end turned readable: the last reader closed (or a socket peer sent something).
  #onPeerClosed(): void {
    if (this.#buffer.size !== 0) {
      this.#close(osError(E.EPIPE, "write", `fd ${this.#fd}: the pipe was closed by its reader`));
    } else {
      this.#close(null);
    }
  }

  #fatalError(exc: unknown, message: string): void {
    // OS errors (EPIPE, ...) are the protocol's news, not a bug to report.
    if (!isOSError(exc)) reportError(this.#loop, message, exc, this, this.#protocol);
    this.#close(asError(exc));
  }

  #close(exc: Error | null): void {
    if (this.#closed) return; // the fd number may belong to someone else by now
    this.#closing = true;
    if (this.#buffer.size !== 0) {
      this.#loop.removeWriter(this.#fd);
      this.#buffer.clear();
    }
    this.#loop.removeReader(this.#fd);
    this.#scheduleConnectionLost(exc);
  }

  #scheduleConnectionLost(exc: Error | null): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#loop.callSoon(this.#connectionLost, exc);
  }

  #callConnectionLost(exc: Error | null): void {
    try {
      this.#protocol.connectionLost(exc);
    } finally {
      // Never close an fd the selector still watches: its number could be reused at once.
      this.#loop.removeReader(this.#fd);
      this.#loop.removeWriter(this.#fd);
      this.#closed = true;
      closePipe(this.#pipe, this.#fd);
    }
  }

  /**
   * A short description: fd, state and buffer size.
   *
   * @example
   * ```ts ignore
   * console.log(String(transport)); // "<UnixWritePipeTransport fd=8 idle bufsize=0>"
   * ```
   */
  override toString(): string {
    const state = this.#closed
      ? "closed"
      : this.#closing
      ? "closing"
      : this.#buffer.size !== 0
      ? "polling"
      : "idle";
    return `<UnixWritePipeTransport fd=${this.#fd} ${state} bufsize=${this.#buffer.size}>`;
  }
}
