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
import type { IovecArray } from "../../ffi/sys.ts";
import type { UnixPipeTransportOptions } from "./read_pipe_transport.ts";
import { FdWriter } from "../base/_flow_control.ts";
import type { PipeFileObj } from "../abstract_event_loop.ts";
import { closePipe, takePipe } from "./_pipe_fileobj.ts";
import {
  asError,
  isOSError,
  reportError,
  startProtocol,
  toBytes,
  type TransportLoop,
  warnWriteAfterLoss,
  writelinesViews,
} from "../base/_transport_util.ts";

// A pipe (or FIFO, socket, character device) is written with write() and writev().
class PipeWriter extends FdWriter {
  protected send(view: Uint8Array): number {
    return writeFd(this.fd, view);
  }

  protected sendv(iov: IovecArray): number {
    return iov.writev(this.fd);
  }
}

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
 * the reader sees as end of file. `abort()` drops the buffer. Its writing
 * methods are `WriteTransport`'s (see its example).
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
  #w: PipeWriter; // the write buffer, its flow control and the writes
  #connLost = 0;
  #closing = false; // close(), writeEof(), abort() or a failure
  #closed = false; // the fd was closed
  #lost = false; // connectionLost was scheduled or called
  // Bound once: the loop's handles call these with no per-event closure.
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
    super({ ...options.extra, pipe });
    this.#loop = loop;
    this.#pipe = pipe;
    this.#fd = fd;
    this.#protocol = protocol;
    this.#w = new PipeWriter(loop, this, fd, () => this.#onWritable());
    // asyncio: the reader trick works for sockets everywhere and for pipes except on AIX.
    const watch = kind === "socket" || (kind === "fifo" && PLATFORM !== "aix");
    // Watching starts only once connectionMade() ran.
    startProtocol(loop, this.#connectionMade, watch ? this.#startWatching : null, options.waiter);
  }

  /**
   * The pipe's fd (it stays the transport's until `connectionLost()`).
   */
  fileno(): number {
    return this.#fd;
  }

  /**
   * Whether `close()`, `writeEof()` or `abort()` was called, or the pipe
   * was lost.
   */
  isClosing(): boolean {
    return this.#closing;
  }

  /**
   * Sends what is buffered, then closes the pipe (the reader sees end of
   * file); `connectionLost(null)` follows. The same as `writeEof()`.
   */
  close(): void {
    if (!this.#closed && !this.#closing) this.writeEof();
  }

  /**
   * Replaces the protocol.
   */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol;
  }

  /**
   * The current protocol.
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
    if (view.byteLength === 0) return;
    if (this.#connLost || this.#closing) {
      this.#writeAfterLoss();
      return;
    }
    if (!this.#w.write(view, lent)) this.#writeFailed();
  }

  /**
   * Writes the buffers of `list` in order: one `writev` (gathered write)
   * when nothing is buffered yet, copying only what did not go out.
   */
  writelines(list: Iterable<Uint8Array>): void {
    const views = writelinesViews(list);
    if (views.length <= 1 || this.#w.buffer.size !== 0 || this.#connLost || this.#closing) {
      for (const v of views) this.write(v);
      return;
    }
    if (!this.#w.writeViews(views)) this.#writeFailed();
  }

  #writeAfterLoss(): void {
    warnWriteAfterLoss(
      this.#connLost++,
      "pipe closed by peer or write(pipe, data) raised exception.",
    );
  }

  #writeFailed(): void {
    this.#connLost++;
    this.#fatalError(this.#w.error, "Fatal write error on pipe transport");
  }

  #onWritable(): void {
    if (this.#w.buffer.size === 0 || this.#lost) return;
    const left = this.#w.flush();
    if (left < 0) {
      this.#writeFailed();
      return;
    }
    if (left !== 0) return;
    if (this.#closing && !this.#lost) {
      this.#lost = true;
      this.#loop.removeReader(this.#fd);
      this.#callConnectionLost(null);
    }
  }

  /**
   * Closes the pipe once the buffer is written (the reader then sees end
   * of file); `connectionLost(null)` follows. Later writes are dropped.
   */
  writeEof(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#w.buffer.size === 0) {
      this.#loop.removeReader(this.#fd);
      this.#scheduleConnectionLost(null);
    }
  }

  /**
   * `true`: closing the pipe is how a writer sends end of file.
   */
  canWriteEof(): boolean {
    return true;
  }

  /**
   * Closes at once: the write buffer is dropped, `connectionLost(null)`
   * follows on the next iteration and the pipe is closed.
   */
  abort(): void {
    this.#close(null);
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
   * The bytes waiting in the write buffer.
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

  // ---- the end -------------------------------------------------------------------

  // The write end turned readable: the last reader closed (or a socket peer sent something).
  #onPeerClosed(): void {
    if (this.#w.buffer.size !== 0) {
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
    const buffer = this.#w.buffer;
    if (buffer.size !== 0) {
      this.#loop.removeWriter(this.#fd);
      buffer.clear();
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
      : this.#w.buffer.size !== 0
      ? "polling"
      : "idle";
    return `<UnixWritePipeTransport fd=${this.#fd} ${state} bufsize=${this.#w.buffer.size}>`;
  }
}
