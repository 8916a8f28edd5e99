/**
 * What the readiness transports over one fd share (asyncio's
 * `selector_events._SelectorTransport`): the reading state, and the
 * sequencing of `close()`, `abort()`, fatal errors and `connectionLost()`.
 * The socket, datagram and read-pipe transports each own one
 * {@linkcode SelectorTransportCore} and keep only what differs.
 *
 * @module
 */
import type { Future } from "../future.ts";
import type { Socket } from "../../net/mod.ts";
import type { BaseTransport, TransportExtraInfo } from "../../transports/base_transport.ts";
import {
  asError,
  reportError,
  startProtocol,
  type TransportLoop,
} from "../base/_transport_util.ts";

/** A write buffer as the core sees it: how much it holds, and dropping it. */
export interface DroppableBuffer {
  /** The bytes buffered (0 exactly when empty). */
  readonly size: number;
  /** Drops everything. */
  clear(): void;
}

/** How a transport sets its core up. */
export interface SelectorTransportCoreOptions {
  /** The fd's read handler (bound once by the transport). */
  readReady: () => void;
  /** The write buffer, or `null` for a transport that does not write. */
  buffer: DroppableBuffer | null;
  /** Closes the fd (and whatever else goes), right after `connectionLost()`. */
  release: () => void;
  /** Errors a fatal error does not report to the exception handler (OS errors, say). */
  quiet: (exc: unknown, loop: TransportLoop) => boolean;
}

/**
 * The state and the closing sequence of one readiness transport. Its
 * fields are the transport's: the transport reads and sets them directly.
 */
export class SelectorTransportCore {
  /** `close()` or `abort()` was called, or the transport failed. */
  closing = false;
  /** `pauseReading()` was called. */
  paused = false;
  /** No more reading ever (the socket transport's half-close after EOF). */
  readEnded = false;
  /** Non-zero once `connectionLost()` was scheduled; then counts writes after the loss. */
  connLost = 0;
  /** The loop. */
  readonly loop: TransportLoop;
  /** The fd watched. */
  readonly fd: number;
  readonly #transport: BaseTransport;
  readonly #readReady: () => void;
  readonly #buffer: DroppableBuffer | null;
  readonly #release: () => void;
  readonly #quiet: (exc: unknown, loop: TransportLoop) => boolean;
  // Bound once: the loop's handles call these with no per-event closure.
  readonly #connectionMade = (): void =>
    this.#transport.getProtocol().connectionMade(this.#transport);
  /** Calls `connectionLost(exc)` and releases the fd (bound: for `callSoon`). */
  readonly connectionLost = (exc: Error | null): void => this.callConnectionLost(exc);
  /** Watches the fd for reading if reading (bound: for `callSoon`). */
  readonly addReader = (): void => {
    if (!this.isReading() || this.readEnded) return;
    try {
      this.loop.addReader(this.fd, this.#readReady);
    } catch (e) {
      // The selector refuses the fd (SelectSelector and fd >= FD_SETSIZE): the
      // connection can't be served, so it is closed rather than left hanging.
      this.fatalError(e, "Fatal error: the transport's fd cannot be watched");
    }
  };

  /** The core of `transport` over `fd`. */
  constructor(
    loop: TransportLoop,
    fd: number,
    transport: BaseTransport,
    options: SelectorTransportCoreOptions,
  ) {
    this.loop = loop;
    this.fd = fd;
    this.#transport = transport;
    this.#readReady = options.readReady;
    this.#buffer = options.buffer;
    this.#release = options.release;
    this.#quiet = options.quiet;
  }

  /** Schedules `connectionMade()`, then reading, then the waiter's result. */
  start(waiter: Future<void> | null | undefined): void {
    startProtocol(this.loop, this.#connectionMade, this.addReader, waiter);
  }

  /** Neither paused nor closing. */
  isReading(): boolean {
    return !this.paused && !this.closing;
  }

  /** `pauseReading()`: stops watching the fd (no effect unless reading). */
  pauseReading(): void {
    if (!this.isReading()) return;
    this.paused = true;
    this.loop.removeReader(this.fd);
  }

  /** `resumeReading()`: watches the fd again (no effect unless paused). */
  resumeReading(): void {
    if (this.closing || !this.paused) return;
    this.paused = false;
    this.addReader();
  }

  /** `close()`: stops reading; `connectionLost(null)` follows once the buffer is empty. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.loop.removeReader(this.fd);
    const buffer = this.#buffer;
    if (buffer === null || buffer.size === 0) {
      this.connLost++;
      if (buffer !== null) this.loop.removeWriter(this.fd);
      this.loop.callSoon(this.connectionLost, null);
    }
  }

  /** Reports `exc` unless it is quiet, then closes at once with it. */
  fatalError(exc: unknown, message: string): void {
    if (!this.#quiet(exc, this.loop)) {
      reportError(this.loop, message, exc, this.#transport, this.#transport.getProtocol());
    }
    this.forceClose(asError(exc));
  }

  /** `abort()`: drops the buffer, stops watching, `connectionLost(exc)` on the next turn. */
  forceClose(exc: Error | null): void {
    if (this.connLost) return;
    const buffer = this.#buffer;
    if (buffer !== null && buffer.size !== 0) {
      buffer.clear();
      this.loop.removeWriter(this.fd);
    }
    if (!this.closing) {
      this.closing = true;
      this.loop.removeReader(this.fd);
    }
    this.connLost++;
    this.loop.callSoon(this.connectionLost, exc);
  }

  /** The protocol's `connectionLost(exc)`, then the fd is released. */
  callConnectionLost(exc: Error | null): void {
    try {
      this.#transport.getProtocol().connectionLost(exc);
    } finally {
      // Never close an fd the selector still watches: the number could be reused at once.
      this.loop.removeReader(this.fd);
      if (this.#buffer !== null) this.loop.removeWriter(this.fd);
      this.#release();
    }
  }
}

/**
 * The extra information of a socket transport: `extra`, with `socket` set
 * to `sock` and `sockname`/`peername` filled in when missing (left out
 * when the socket has none, as asyncio's `None`).
 */
export function socketExtraInfo(
  sock: Socket,
  extra?: Partial<TransportExtraInfo> & Record<string, unknown>,
): Record<string, unknown> {
  const info: Record<string, unknown> = { ...extra, socket: sock };
  for (const [name, peer] of [["sockname", false], ["peername", true]] as const) {
    if (info[name] !== undefined) continue;
    try {
      info[name] = peer ? sock.getpeername() : sock.getsockname();
    } catch {
      // Not connected (ENOTCONN), or reset before we looked: no name.
    }
  }
  return info;
}
