/**
 * The pipe transports of the ProactorEventLoop (asyncio's
 * `proactor_events._ProactorReadPipeTransport`, `_ProactorWritePipeTransport`
 * and `_ProactorDuplexPipeTransport`), on a {@linkcode PipeHandle}: the
 * stream transport's rules on overlapped ReadFile/WriteFile. Reading keeps
 * one read in flight, re-armed after each; pausing never cancels it (data
 * read while paused is delivered on resume); end of file (the writer closed:
 * ERROR_BROKEN_PIPE) calls `eofReceived()` then `connectionLost(null)`.
 * Writing keeps one write in flight plus a buffer, with flow control
 * counting both; `writeEof()` on a write pipe closes it once flushed;
 * `close()` flushes first; `abort()` drops the buffer and cancels both
 * operations. The handle is closed after `connectionLost()`.
 *
 * @module
 */
import { OverlappedWriter } from "../proactor/_overlapped_writer.ts";
import {
  Transport,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { Future } from "../future.ts";
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
import type { ProactorTransportLoop } from "../proactor/socket_transport.ts";
import type { PipeHandle } from "./pipe_handle.ts";

/** The bytes one read of a pipe transport asks for. */
export const PIPE_READ_SIZE = 64 * 1024;

/** What a pipe transport does: read, write, or both (a pipe server's connection). */
export type PipeMode = "read" | "write" | "duplex";

/** Options of the pipe transports' constructors. */
export interface ProactorPipeTransportOptions {
  /** Resolved (unless cancelled) once the protocol's `connectionMade()` ran. */
  waiter?: Future<void> | null;
  /** Extra information; `"pipe"` is always set to the handle. */
  extra?: Record<string, unknown>;
}

/**
 * A transport over a pipe handle, made by the ProactorEventLoop's
 * `connectReadPipe`, `connectWritePipe`, `startServingPipe` and
 * `createPipeConnection` (use the mode-specific subclasses). It owns the
 * handle: it is closed right after the protocol's `connectionLost()`.
 *
 * @example
 * ```ts ignore
 * const [transport] = await loop.connectWritePipe(() => new BaseProtocol(), handle);
 * transport.write(new TextEncoder().encode("hello"));
 * ```
 */
export class ProactorPipeTransport extends Transport {
  #loop: ProactorTransportLoop;
  #pipe: PipeHandle;
  #mode: PipeMode;
  #protocol!: StreamProtocol;
  #buffered = false;
  #closing = false;
  #paused = false;
  #connLost = 0;
  #droppedWhileClosing = 0; // writes dropped after close(), before the loss
  #eof = false;
  #lost = false; // connectionLost() ran
  #reading: AbortController | null = null;
  #stash: Uint8Array | null = null;
  #w: OverlappedWriter;
  // Bound once: handed to deliverRead() on every read.
  #fatal = (e: unknown, message: string): void => this.#fatalError(e, message);
  #isClosing = (): boolean => this.#closing;

  /** Takes over `pipe` for `protocol`; `connectionMade()` follows on the loop's next turn. */
  constructor(
    loop: ProactorTransportLoop,
    pipe: PipeHandle,
    protocol: StreamProtocol | BaseProtocol,
    mode: PipeMode,
    options: ProactorPipeTransportOptions = {},
  ) {
    super({ ...options.extra, pipe });
    this.#loop = loop;
    this.#pipe = pipe;
    this.#mode = mode;
    this.#w = new OverlappedWriter(loop, this, {
      start: (data, signal) => this.#loop._proactor.writeFile(this.#pipe, data, signal, "write"),
      lost: () => this.#connLost > 0,
      drained: () => {
        if (this.#closing) {
          this.#connLost++;
          this.#callConnectionLost(null);
        } else if (this.#eof) this.close();
      },
      failed: (e) => {
        if (e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionAborted) {
          this.#forceClose(asError(e));
        } else this.#fatalError(e, "Fatal write error on pipe transport");
      },
    });
    this.setProtocol(protocol);
    startProtocol(
      loop,
      () => this.#protocol.connectionMade(this),
      mode === "write" ? () => this.#watchClose() : () => this.#read(),
      options.waiter,
    );
  }

  /** The pipe's HANDLE (−1 once closed). */
  fileno(): number {
    return this.#pipe.fileno();
  }

  /** Whether `close()` or `abort()` was called, or the connection was lost. */
  isClosing(): boolean {
    return this.#closing;
  }

  /** Stops reading, writes what is buffered, then closes; `connectionLost(null)` follows. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reading?.abort();
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
    return this.#mode !== "write" && !this.#paused && !this.#closing;
  }

  /** Stops delivering data until `resumeReading()`; the read in flight is not cancelled. */
  pauseReading(): void {
    if (this.#mode === "write" || this.#closing || this.#paused) return;
    this.#paused = true;
  }

  /** Delivers what came while paused (on the next turn), then reads again. */
  resumeReading(): void {
    if (this.#mode === "write" || this.#closing || !this.#paused) return;
    this.#paused = false;
    this.#loop.callSoon(() => {
      const stash = this.#stash;
      this.#stash = null;
      if (stash !== null) this.#deliver(stash);
      this.#read();
    });
  }

  #read(): void {
    if (this.#reading !== null || this.#connLost || this.#closing) return;
    if (this.#paused || this.#stash !== null) return;
    const ac = new AbortController();
    this.#reading = ac;
    this.#loop._proactor.readFile(this.#pipe, PIPE_READ_SIZE, ac.signal, "read").then(
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
        if (e instanceof CancelledError || this.#connLost) return;
        if (this.#closing && e instanceof Deno.errors.ConnectionAborted) return;
        if (e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.BrokenPipe) {
          this.#forceClose(asError(e));
          return;
        }
        this.#fatalError(e, "Fatal read error on pipe transport");
      },
    );
  }

  #deliver(data: Uint8Array): void {
    if (data.length === 0) this.#onEof();
    else {
      deliverRead(this.#protocol, this.#buffered, data, this.#fatal, this.#isClosing);
    }
  }

  // End of file: a pipe cannot stay half-open (eofReceived's answer is ignored, as asyncio's).
  #onEof(): void {
    try {
      this.#protocol.eofReceived();
    } catch (e) {
      this.#fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    this.close();
  }

  // A write pipe learns that its reader went away only from a read (CPython's _pipe_closed):
  // it completes with end of file then. A write-only handle refuses the read at once.
  #watchClose(): void {
    if (this.#connLost || this.#closing) return;
    const ac = new AbortController();
    this.#reading = ac;
    this.#loop._proactor.readFile(this.#pipe, 16, ac.signal, "read").then(
      (data) => {
        if (this.#reading === ac) this.#reading = null;
        if (this.#connLost || this.#closing) return;
        if (data.length > 0) {
          this.#fatalError(new Error("data on a write pipe"), "Fatal error on pipe transport");
          return;
        }
        if (this.#w.writing) {
          this.#forceClose(new Deno.errors.BrokenPipe("the reading end of the pipe closed"));
        } else this.close();
      },
      () => {
        if (this.#reading === ac) this.#reading = null; // write-only, or cancelled: nothing to watch
      },
    );
  }

  // ---- writing -------------------------------------------------------------------

  #checkWritable(what: string): void {
    if (this.#mode === "read") {
      throw new Deno.errors.NotSupported(`${what}: this is the read end of a pipe`);
    }
    if (this.#eof) throw new Error(`Cannot call ${what} after writeEof()`);
  }

  /**
   * Writes `data` (a copy is kept until it went out). Once closing or lost,
   * data is dropped (a warning follows repeated writes), as the Unix pipe
   * transport and asyncio's Unix pipes do: what was written before `close()`
   * goes out, nothing after it.
   */
  write(data: Uint8Array): void {
    const view = toBytes(data, "write()");
    this.#checkWritable("write()");
    if (view.byteLength === 0) return;
    if (this.#connLost || this.#closing) {
      this.#dropWrite();
      return;
    }
    this.#w.push(view);
  }

  /** Writes the buffers of `list` in order. */
  writelines(list: Iterable<Uint8Array>): void {
    this.#checkWritable("writelines()");
    const views = writelinesViews(list);
    if (views.length === 0) return;
    if (this.#connLost || this.#closing) {
      this.#dropWrite();
      return;
    }
    this.#w.pushAll(views);
  }

  /** A write after close() or the loss: dropped, with asyncio's warning after 5. */
  #dropWrite(): void {
    if (this.#connLost) warnWriteAfterLoss(this.#connLost++, "pipe write raised exception.");
    else warnWriteAfterLoss(this.#droppedWhileClosing++, "pipe write after close(): dropped.");
  }

  /** On a write pipe: closes once everything buffered went out. A duplex pipe cannot. */
  writeEof(): void {
    if (!this.canWriteEof()) {
      throw new Deno.errors.NotSupported(
        `writeEof(): a ${this.#mode} pipe cannot close only its writing side`,
      );
    }
    if (this.#closing || this.#eof) return;
    this.#eof = true;
    if (this.#w.idle) this.close();
  }

  /** `true` for a write pipe (writeEof closes it), `false` otherwise (asyncio's). */
  canWriteEof(): boolean {
    return this.#mode === "write";
  }

  /** Closes at once: the buffer is dropped, both operations cancelled. */
  abort(): void {
    this.#forceClose(null);
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

  #fatalError(exc: unknown, message: string): void {
    if (!isOSError(exc)) reportError(this.#loop, message, exc, this, this.#protocol);
    this.#forceClose(asError(exc));
  }

  #forceClose(exc: Error | null): void {
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
    // The watch read of a write pipe may still be in flight: closing the handle ends it.
    this.#reading?.abort();
    this.#reading = null;
    try {
      this.#protocol.connectionLost(exc);
    } finally {
      this.#pipe.close();
    }
  }

  /** A short description: handle, mode, state and buffer size. */
  override toString(): string {
    const state = this.#pipe.closed
      ? "closed"
      : this.#closing
      ? "closing"
      : this.isReading()
      ? "reading"
      : this.#mode === "write"
      ? "open"
      : "paused";
    return `<${this.constructor.name} handle=${this.#pipe.fileno()} ${state} ` +
      `bufsize=${this.getWriteBufferSize()}>`;
  }
}

/** The read end of a pipe (`connectReadPipe`). */
export class ProactorReadPipeTransport extends ProactorPipeTransport {
  /** Takes over `pipe` for reading. */
  constructor(
    loop: ProactorTransportLoop,
    pipe: PipeHandle,
    protocol: StreamProtocol,
    options?: ProactorPipeTransportOptions,
  ) {
    super(loop, pipe, protocol, "read", options);
  }
}

/** The write end of a pipe (`connectWritePipe`): learns its reader closed from a watch read. */
export class ProactorWritePipeTransport extends ProactorPipeTransport {
  /** Takes over `pipe` for writing. */
  constructor(
    loop: ProactorTransportLoop,
    pipe: PipeHandle,
    protocol: BaseProtocol,
    options?: ProactorPipeTransportOptions,
  ) {
    super(loop, pipe, protocol, "write", options);
  }
}

/** Both ends of a named-pipe connection (a pipe server's or `createPipeConnection`'s). */
export class ProactorDuplexPipeTransport extends ProactorPipeTransport {
  /** Takes over `pipe` for reading and writing. */
  constructor(
    loop: ProactorTransportLoop,
    pipe: PipeHandle,
    protocol: StreamProtocol,
    options?: ProactorPipeTransportOptions,
  ) {
    super(loop, pipe, protocol, "duplex", options);
  }
}
