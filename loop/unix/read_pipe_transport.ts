/**
 * The read end of a pipe as a transport (asyncio's
 * `unix_events._UnixReadPipeTransport`): works on pipes, FIFOs, sockets
 * and character devices (PTYs, terminals), driven by the loop's
 * `addReader`. Made by `loop.connectReadPipe()`; the subprocess transport
 * makes one for a child's stdout and stderr.
 *
 * @module
 */
import { readFd } from "../../ffi/unix/libc.ts";
import type { Future } from "../future.ts";
import { ReadTransport } from "../../transports/base_transport.ts";
import type { BufferedProtocol } from "../../transports/buffered_protocol.ts";
import type { BaseProtocol, Protocol } from "../../transports/protocol.ts";
import { SelectorTransportCore } from "../selector/_selector_transport.ts";
import type { PipeFileObj } from "../abstract_event_loop.ts";
import { closePipe, takePipe } from "./_pipe_fileobj.ts";
import { READ_BUF, takeRead } from "../base/_read_pool.ts";
import { isBuffered, readTarget, type TransportLoop } from "../base/_transport_util.ts";

/**
 * The most bytes one read of a pipe takes (asyncio's `max_size`): 256 KiB.
 *
 * @example
 * ```ts
 * import { PIPE_MAX_READ_SIZE } from "./read_pipe_transport.ts";
 * console.log(PIPE_MAX_READ_SIZE); // 262144
 * ```
 */
export const PIPE_MAX_READ_SIZE: number = READ_BUF.byteLength;

/** Options of the pipe transports' constructors. */
export interface UnixPipeTransportOptions {
  /** Resolved (unless cancelled) once the protocol's `connectionMade()` ran. */
  waiter?: Future<void> | null;
  /** Extra information; `"pipe"` is always set to the pipe given. */
  extra?: Record<string, unknown>;
}

// EIO is how a PTY master learns that its slave closed: news for the protocol, not a bug.
function isEIO(exc: unknown): boolean {
  return (exc as { code?: unknown })?.code === "EIO";
}

/**
 * A read-only transport over the read end of a pipe, FIFO, socket or
 * character device. The constructor refuses other kinds of files
 * (`TypeError`; nothing is closed then), makes the fd nonblocking and
 * takes it over: the fd (or the object's `close()`) is closed right after
 * the protocol's `connectionLost()`, as asyncio closes the pipe object.
 *
 * The protocol's `connectionMade()` runs on the loop's next iteration and
 * reading starts then. Each read takes up to 256 KiB and
 * `dataReceived()` gets a copy (a region of a shared pooled slab when
 * small, as the socket transport's reads). At end of file (every writer closed)
 * the protocol gets `eofReceived()` (its return value is ignored: a pipe
 * cannot be half-closed) and then `connectionLost(null)`, each exactly
 * once. A read error ends the transport with `connectionLost(error)`; EIO
 * (a PTY master whose slave closed, on Linux) is not reported to the
 * exception handler, as in asyncio. Its reading methods are
 * `ReadTransport`'s (see its example).
 *
 * @example
 * ```ts
 * import { SelectorEventLoop } from "@aio/loop";
 * import { Protocol } from "../../transports/protocol.ts";
 * import { UnixReadPipeTransport } from "./read_pipe_transport.ts";
 * import { closeFd, makePipe, writeFd } from "../../ffi/unix/libc.ts";
 *
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
 * const protocol = new Collect();
 * await loop.runUntilComplete(async () => {
 *   new UnixReadPipeTransport(loop, r, protocol); // owns r from now on
 *   writeFd(w, new TextEncoder().encode("hi"));
 *   closeFd(w);
 *   await protocol.done.promise;
 * });
 * console.log(protocol.text); // "hi"
 * ```
 */
export class UnixReadPipeTransport extends ReadTransport {
  #loop: TransportLoop;
  #pipe: PipeFileObj;
  #fd: number;
  #protocol: Protocol | BufferedProtocol;
  #buffered: boolean; // the protocol has getBuffer(): read into its buffer
  #closed = false; // the fd was closed
  #t: SelectorTransportCore; // closing, paused, connLost (lost) and the closing sequence
  // Bound once: the loop's handles call these with no per-event closure.
  #readReady = (): void => this.#onReadable();
  #eofReceived = (): void => void this.#protocol.eofReceived();

  /**
   * Takes over `pipe` (an fd or an object with `fileno()`) for `protocol`;
   * `connectionMade()` follows on the loop's next turn.
   */
  constructor(
    loop: TransportLoop,
    pipe: PipeFileObj,
    protocol: Protocol | BufferedProtocol,
    options: UnixPipeTransportOptions = {},
  ) {
    const { fd } = takePipe(pipe, "UnixReadPipeTransport");
    super({ ...options.extra, pipe });
    this.#loop = loop;
    this.#pipe = pipe;
    this.#fd = fd;
    this.#protocol = protocol;
    this.#buffered = isBuffered(protocol);
    this.#t = new SelectorTransportCore(loop, fd, this, {
      readReady: this.#readReady,
      buffer: null,
      release: () => {
        this.#closed = true;
        closePipe(this.#pipe, this.#fd);
      },
      quiet: isEIO,
    });
    this.#t.start(options.waiter); // reading starts only once connectionMade() ran
  }

  /**
   * The pipe's fd (it stays the transport's until `connectionLost()`).
   */
  fileno(): number {
    return this.#fd;
  }

  /**
   * Whether `close()` was called, end of file was seen or the pipe failed.
   */
  isClosing(): boolean {
    return this.#t.closing;
  }

  /**
   * Stops reading; `connectionLost(null)` follows on the next iteration,
   * then the pipe is closed. Unread data is dropped.
   */
  close(): void {
    this.#t.close();
  }

  /**
   * Replaces the protocol (a `BufferedProtocol` switches reads to `getBuffer`).
   */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as Protocol | BufferedProtocol;
    this.#buffered = isBuffered(protocol);
  }

  /**
   * The current protocol.
   */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  /**
   * Whether the transport is receiving (neither paused nor closing).
   */
  isReading(): boolean {
    return this.#t.isReading();
  }

  /**
   * Stops calling `dataReceived()` until `resumeReading()`: the fd is no
   * longer watched, so the writer blocks once the pipe is full. No effect
   * unless reading.
   */
  pauseReading(): void {
    this.#t.pauseReading();
  }

  /**
   * Reads again. No effect unless paused (or once closing).
   */
  resumeReading(): void {
    this.#t.resumeReading();
  }

  #onReadable(): void {
    const t = this.#t;
    if (t.closing) return;
    const buffered = this.#buffered;
    let buf: Uint8Array = READ_BUF;
    if (buffered) {
      try {
        buf = readTarget((this.#protocol as BufferedProtocol).getBuffer(-1));
      } catch (e) {
        t.fatalError(e, "Fatal error: protocol.getBuffer() call failed.");
        return;
      }
    }
    let n: number;
    try {
      n = readFd(this.#fd, buf);
    } catch (e) {
      t.fatalError(e, "Fatal read error on pipe transport");
      return;
    }
    if (n < 0) return; // EAGAIN: a spurious wakeup
    if (n === 0) {
      // Every writer is gone. eofReceived's answer is ignored: there is nothing left to do.
      t.closing = true;
      this.#loop.removeReader(this.#fd);
      t.connLost++;
      this.#loop.callSoon(this.#eofReceived);
      this.#loop.callSoon(t.connectionLost, null);
      return;
    }
    if (buffered) {
      try {
        (this.#protocol as BufferedProtocol).bufferUpdated(n);
      } catch (e) {
        t.fatalError(e, "Fatal error: protocol.bufferUpdated() call failed.");
      }
      return;
    }
    const data = takeRead(READ_BUF, n);
    try {
      (this.#protocol as Protocol).dataReceived(data);
    } catch (e) {
      t.fatalError(e, "Fatal error: protocol.dataReceived() call failed.");
    }
  }

  /**
   * A short description: fd and state.
   *
   * @example
   * ```ts ignore
   * console.log(String(transport)); // "<UnixReadPipeTransport fd=7 reading>"
   * ```
   */
  override toString(): string {
    const state = this.#closed
      ? "closed"
      : this.#t.closing
      ? "closing"
      : this.#t.paused
      ? "paused"
      : "reading";
    return `<UnixReadPipeTransport fd=${this.#fd} ${state}>`;
  }
}
