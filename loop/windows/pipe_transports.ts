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
import {
  ProactorBaseTransport,
  type ProactorTransportLoop,
} from "../proactor/_proactor_base_transport.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { Future } from "../future.ts";
import { warnWriteAfterLoss } from "../base/_transport_util.ts";
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
export class ProactorPipeTransport extends ProactorBaseTransport {
  #pipe: PipeHandle;
  #mode: PipeMode;
  #droppedWhileClosing = 0; // writes dropped after close(), before the loss

  /** Takes over `pipe` for `protocol`; `connectionMade()` follows on the loop's next turn. */
  constructor(
    loop: ProactorTransportLoop,
    pipe: PipeHandle,
    protocol: StreamProtocol | BaseProtocol,
    mode: PipeMode,
    options: ProactorPipeTransportOptions = {},
  ) {
    super(loop, { ...options.extra, pipe }, protocol, {
      name: "pipe",
      reads: mode !== "write",
      lostWrite: "pipe write raised exception.",
    }, options.waiter);
    this.#pipe = pipe;
    this.#mode = mode;
  }

  /** The pipe's HANDLE (−1 once closed). */
  fileno(): number {
    return this.#pipe.fileno();
  }

  // ---- reading -------------------------------------------------------------------

  /**
   * A write pipe watches for its reader going away instead of reading.
   * @internal
   */
  protected override _startReading(): void {
    if (this.#mode === "write") this.#watchClose();
    else super._startReading();
  }

  /**
   * One `ReadFile` of the read loop.
   * @internal
   */
  protected _startRead(signal: AbortSignal): Promise<Uint8Array> {
    return this._proactor.readFile(this.#pipe, PIPE_READ_SIZE, signal, "read");
  }

  /**
   * The other end closed or went away: no report.
   * @internal
   */
  protected _peerGone(e: unknown): boolean {
    return e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.BrokenPipe;
  }

  // End of file: a pipe cannot stay half-open (eofReceived's answer is ignored, as asyncio's).
  /**
   * Never: a pipe cannot stay half-open.
   * @internal
   */
  protected _staysOpenAfterEof(): boolean {
    return false;
  }

  // A write pipe learns that its reader went away only from a read (CPython's _pipe_closed):
  // it completes with end of file then. A write-only handle refuses the read at once.
  #watchClose(): void {
    this._readOnce(
      (signal) => this._proactor.readFile(this.#pipe, 16, signal, "read"),
      (data) => {
        if (data.length > 0) {
          this._fatalError(new Error("data on a write pipe"), "Fatal error on pipe transport");
          return;
        }
        if (this._writing) {
          this._forceClose(new Deno.errors.BrokenPipe("the reading end of the pipe closed"));
        } else this.close();
      },
    );
  }

  // ---- writing -------------------------------------------------------------------

  /**
   * A read pipe refuses writes.
   * @internal
   */
  protected override _checkWritable(what: string): void {
    if (this.#mode === "read") {
      throw new Deno.errors.NotSupported(`${what}: this is the read end of a pipe`);
    }
  }

  /**
   * One `WriteFile`.
   * @internal
   */
  protected _startWrite(data: Uint8Array, signal: AbortSignal): Promise<number> {
    return this._proactor.writeFile(this.#pipe, data, signal, "write");
  }

  /**
   * Writes `data` (a copy is kept until it went out). Once closing or lost,
   * data is dropped (a warning follows repeated writes), as the Unix pipe
   * transport and asyncio's Unix pipes do: what was written before `close()`
   * goes out, nothing after it.
   */
  write(data: Uint8Array): void {
    this._write(data);
  }

  /** A write after close(), before the loss: dropped, with asyncio's warning after 5. */
  protected override _droppedWhileClosing(): boolean {
    warnWriteAfterLoss(this.#droppedWhileClosing++, "pipe write after close(): dropped.");
    return true;
  }

  /** On a write pipe: closes once everything buffered went out. A duplex pipe cannot. */
  writeEof(): void {
    if (!this.canWriteEof()) {
      throw new Deno.errors.NotSupported(
        `writeEof(): a ${this.#mode} pipe cannot close only its writing side`,
      );
    }
    this._endWriting();
  }

  /**
   * `writeEof()` on a pipe closes it once the buffer went out.
   * @internal
   */
  protected _writeEnded(): void {
    this.close();
  }

  /** `true` for a write pipe (writeEof closes it), `false` otherwise (asyncio's). */
  canWriteEof(): boolean {
    return this.#mode === "write";
  }

  // ---- the end -------------------------------------------------------------------

  /**
   * Closes the pipe handle.
   * @internal
   */
  protected _release(): void {
    this.#pipe.close();
  }

  /** A short description: handle, mode, state and buffer size. */
  override toString(): string {
    const state = this.#pipe.closed
      ? "closed"
      : this.isClosing()
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
