/**
 * What the Proactor's stream transports share (asyncio's
 * `proactor_events._ProactorBasePipeTransport` with its read and write
 * halves): the protocol, `close()`/`abort()` and the way to
 * `connectionLost()`, one read in flight re-armed after each (pausing never
 * cancels it: data read while paused waits for resume), the writer with its
 * flow control, and the fatal-error path. The socket and the pipe transports
 * supply their operations and what end of file, `writeEof()` and a write
 * after `close()` mean for them.
 *
 * @module
 */
import { OverlappedWriter } from "./_overlapped_writer.ts";
import {
  Transport,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import { CancelledError } from "../errors.ts";
import {
  asError,
  deliverRead,
  isBuffered,
  isOSError,
  reportError,
  startProtocol,
  toBytes,
  warnWriteAfterLoss,
  writelinesViews,
} from "../base/_transport_util.ts";
import type { Future } from "../future.ts";
import type { IocpProactor } from "./iocp_proactor.ts";

/**
 * What the transport needs of its loop.
 * @internal
 */
export type ProactorTransportLoop =
  & Pick<AbstractEventLoop, "callSoon" | "callExceptionHandler" | "getDebug">
  & { readonly _proactor: IocpProactor };

/** What a kind of transport tells its base once. */
export interface ProactorTransportKind {
  /** `"socket"` or `"pipe"`: the error messages name it. */
  name: string;
  /** Whether it reads (a write pipe does not: it is never reading). */
  reads: boolean;
  /** The warning of repeated writes after the connection was lost. */
  lostWrite: string;
}

/**
 * The shared part of a Proactor stream transport (the socket transport and
 * the named-pipe transports of the `ProactorEventLoop`). A subclass starts
 * its reads and writes on {@linkcode _proactor} and releases its handle
 * once `connectionLost()` ran. Exported so the pipe transports' inherited
 * methods are documented; make transports with the loop's methods
 * (`connectReadPipe`, `createPipeConnection`, `createConnection`), not
 * with this class.
 *
 * @example
 * ```ts ignore
 * const [transport] = await loop.connectReadPipe(() => new MyProtocol(), pipeHandle);
 * transport.pauseReading(); // ProactorBaseTransport.pauseReading
 * console.log(transport.getWriteBufferSize());
 * ```
 */
export abstract class ProactorBaseTransport extends Transport {
  #loop: ProactorTransportLoop;
  #kind: ProactorTransportKind;
  #protocol!: StreamProtocol;
  #buffered = false;
  #closing = false;
  #paused = false;
  #readEnded = false; // EOF seen and kept open (half-closed): no more reads
  #connLost = 0;
  #eof = false; // writeEof() was called
  #lost = false; // connectionLost() ran
  // Reading: one read in flight; what it brought while paused waits for resume.
  #reading: AbortController | null = null;
  #stash: Uint8Array | null = null; // data read while paused (empty: EOF while paused)
  // Writing: one write in flight, the rest buffered (copies).
  #w: OverlappedWriter;
  // Bound once: handed to deliverRead() on every read.
  #fatal = (e: unknown, message: string): void => this._fatalError(e, message);
  #isClosing = (): boolean => this.#closing;

  /** Takes `protocol`; `connectionMade()` follows on the loop's next turn, then the reading. */
  constructor(
    loop: ProactorTransportLoop,
    extra: Record<string, unknown>,
    protocol: BaseProtocol,
    kind: ProactorTransportKind,
    waiter: Future<void> | null | undefined,
  ) {
    super(extra);
    this.#loop = loop;
    this.#kind = kind;
    this.#w = new OverlappedWriter(loop, this, {
      start: (data, signal) => this._startWrite(data, signal),
      lost: () => this.#connLost > 0,
      drained: () => {
        if (this.#closing) {
          this.#connLost++;
          this.#callConnectionLost(null);
        } else if (this.#eof) this._writeEnded();
      },
      failed: (e) => {
        if (this._peerGone(e)) this._forceClose(asError(e));
        else this._fatalError(e, `Fatal write error on ${kind.name} transport`);
      },
    });
    this.setProtocol(protocol);
    startProtocol(
      loop,
      () => this.#protocol.connectionMade(this),
      () => this._startReading(),
      waiter,
    );
  }

  // ---- what a subclass supplies ----------------------------------------------------

  /**
   * Starts one read of the read loop.
   * @internal
   */
  protected abstract _startRead(signal: AbortSignal): Promise<Uint8Array>;

  /**
   * Starts one write; resolves to the bytes written.
   * @internal
   */
  protected abstract _startWrite(data: Uint8Array, signal: AbortSignal): Promise<number>;

  /**
   * Whether `e`, from a read or a write, means the other end went away (closes, no report).
   * @internal
   */
  protected abstract _peerGone(e: unknown): boolean;

  /**
   * Whether the transport stays open after end of file, given `eofReceived()`'s answer.
   * @internal
   */
  protected abstract _staysOpenAfterEof(answer: unknown): boolean;

  /**
   * Everything written before `writeEof()` went out.
   * @internal
   */
  protected abstract _writeEnded(): void;

  /**
   * Releases the socket or handle, right after `connectionLost()`.
   * @internal
   */
  protected abstract _release(): void;

  /**
   * After `connectionMade()`: starts the read loop.
   * @internal
   */
  protected _startReading(): void {
    this.#read();
  }

  /**
   * Throws when `what` (`"write()"`, `"writelines()"`) cannot be called on this transport.
   * @internal
   */
  protected _checkWritable(_what: string): void {}

  /**
   * A write after `close()`, before the loss: `true` when it was dropped (W12: sockets send it).
   * @internal
   */
  protected _droppedWhileClosing(): boolean {
    return false;
  }

  /**
   * The proactor the subclass starts its operations on.
   * @internal
   */
  protected get _proactor(): IocpProactor {
    return this.#loop._proactor;
  }

  // ---- BaseTransport -------------------------------------------------------------

  /** Whether `close()` or `abort()` was called, or the connection was lost. */
  isClosing(): boolean {
    return this.#closing;
  }

  /** Stops reading, writes what is buffered, then closes; `connectionLost(null)` follows. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reading?.abort(); // CPython cancels the read on close
    this.#reading = null;
    if (this.#w.idle) {
      this.#connLost++;
      this.#loop.callSoon(() => this.#callConnectionLost(null));
    }
  }

  /** Replaces the protocol (a `BufferedProtocol` gets its data through `getBuffer`). */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as StreamProtocol;
    this.#buffered = isBuffered(protocol);
  }

  /** The current protocol. */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  // ---- reading -------------------------------------------------------------------

  /** Whether the transport is receiving (neither paused nor closing; never for a write pipe). */
  isReading(): boolean {
    return this.#kind.reads && !this.#paused && !this.#closing;
  }

  /** Stops delivering data until `resumeReading()`; the read in flight is not cancelled. */
  pauseReading(): void {
    if (!this.#kind.reads || this.#closing || this.#paused) return;
    this.#paused = true;
  }

  /** Delivers what came while paused (on the next turn), then reads again. */
  resumeReading(): void {
    if (!this.#kind.reads || this.#closing || !this.#paused) return;
    this.#paused = false;
    this.#loop.callSoon(() => {
      const stash = this.#stash;
      this.#stash = null;
      if (stash !== null) this.#deliver(stash);
      this.#read();
    });
  }

  #read(): void {
    if (this.#reading !== null || this.#connLost || this.#closing || this.#readEnded) return;
    if (this.#paused || this.#stash !== null) return;
    const ac = new AbortController();
    this.#reading = ac;
    this._startRead(ac.signal).then(
      (data) => {
        if (this.#reading === ac) this.#reading = null;
        if (this.#connLost || this.#closing) return;
        if (this.#paused) {
          this.#stash = data;
          return;
        }
        this.#deliver(data);
        this.#read();
      },
      (e) => {
        if (this.#reading === ac) this.#reading = null;
        if (e instanceof CancelledError) return; // our own close/abort, or the loop closed
        if (this.#connLost) return;
        if (this.#closing && e instanceof Deno.errors.ConnectionAborted) return;
        if (this._peerGone(e)) {
          this._forceClose(asError(e));
          return;
        }
        this._fatalError(e, `Fatal read error on ${this.#kind.name} transport`);
      },
    );
  }

  /**
   * Starts `start` as the transport's read outside the read loop (a write
   * pipe's watch for its reader closing), cancelled as that one is; `then`
   * gets its data unless the transport closed meanwhile. A failure is ignored.
   *
   * @internal
   */
  protected _readOnce(
    start: (signal: AbortSignal) => Promise<Uint8Array>,
    then: (data: Uint8Array) => void,
  ): void {
    if (this.#connLost || this.#closing) return;
    const ac = new AbortController();
    this.#reading = ac;
    start(ac.signal).then(
      (data) => {
        if (this.#reading === ac) this.#reading = null;
        if (this.#connLost || this.#closing) return;
        then(data);
      },
      () => {
        if (this.#reading === ac) this.#reading = null;
      },
    );
  }

  #deliver(data: Uint8Array): void {
    if (data.length === 0) this.#onEof();
    else {
      deliverRead(this.#protocol, this.#buffered, data, this.#fatal, this.#isClosing);
    }
  }

  #onEof(): void {
    let answer: unknown;
    try {
      answer = this.#protocol.eofReceived();
    } catch (e) {
      this._fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    if (this._staysOpenAfterEof(answer)) this.#readEnded = true; // half-closed: writing goes on
    else this.close();
  }

  // ---- writing -------------------------------------------------------------------

  /**
   * The body of `write()`; each subclass documents its rule for a write after `close()` (W12).
   * @internal
   */
  protected _write(data: Uint8Array): void {
    const view = toBytes(data, "write()");
    this.#checkWritable("write()");
    if (view.byteLength === 0 || this.#dropped()) return;
    this.#w.push(view);
  }

  /** Writes the buffers of `list` in order. */
  writelines(list: Iterable<Uint8Array>): void {
    this.#checkWritable("writelines()");
    const views = writelinesViews(list);
    if (views.length === 0 || this.#dropped()) return;
    this.#w.pushAll(views);
  }

  #checkWritable(what: string): void {
    this._checkWritable(what);
    if (this.#eof) throw new Error(`Cannot call ${what} after writeEof()`);
  }

  // A write after the loss is dropped, with asyncio's warning after 5.
  #dropped(): boolean {
    if (this.#connLost) {
      warnWriteAfterLoss(this.#connLost++, this.#kind.lostWrite);
      return true;
    }
    return this.#closing && this._droppedWhileClosing();
  }

  /**
   * `writeEof()`'s shared part: no more writes; `_writeEnded()` once the buffer went out.
   * @internal
   */
  protected _endWriting(): void {
    if (this.#closing || this.#eof) return;
    this.#eof = true;
    if (this.#w.idle) this._writeEnded();
  }

  /**
   * Whether a write is in flight.
   * @internal
   */
  protected get _writing(): boolean {
    return this.#w.writing;
  }

  /** Closes at once: the buffer is dropped, both operations cancelled. */
  abort(): void {
    this._forceClose(null);
  }

  // ---- flow control --------------------------------------------------------------

  /** Sets the write-buffer marks (defaults 64 KiB and 16 KiB); in-flight bytes count. */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    this.#w.setLimits(limits);
  }

  /** The bytes buffered plus those in flight. */
  getWriteBufferSize(): number {
    return this.#w.size;
  }

  /** The marks, `{ low, high }`. */
  getWriteBufferLimits(): WriteBufferLimits {
    return this.#w.limits();
  }

  // ---- the end -------------------------------------------------------------------

  /**
   * Reports `exc` unless it came from the OS, then closes at once with it.
   * @internal
   */
  protected _fatalError(exc: unknown, message: string): void {
    if (!isOSError(exc)) reportError(this.#loop, message, exc, this, this.#protocol);
    this._forceClose(asError(exc));
  }

  /**
   * Closes at once: drops the buffer, cancels both operations; `connectionLost(exc)` follows.
   * @internal
   */
  protected _forceClose(exc: Error | null): void {
    if (this.#connLost) return;
    this.#w.clear();
    this.#reading?.abort();
    this.#reading = null;
    this.#closing = true;
    this.#connLost++;
    this.#loop.callSoon(() => this.#callConnectionLost(exc));
  }

  #callConnectionLost(exc: Error | null): void {
    if (this.#lost) return;
    this.#lost = true;
    // The watch read of a write pipe may still be in flight: releasing the handle ends it.
    this.#reading?.abort();
    this.#reading = null;
    try {
      this.#protocol.connectionLost(exc);
    } finally {
      this._release();
    }
  }
}
