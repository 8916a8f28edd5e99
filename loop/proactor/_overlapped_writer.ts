/**
 * The write side the Proactor's stream transports share (sockets and
 * pipes): one overlapped write in flight, the rest buffered as copies
 * behind it, the bytes in flight counted against the high-water mark. The
 * transport supplies the operation and decides what a drained buffer and
 * a failed write mean for it.
 *
 * @module
 */
import type { BaseTransport } from "../../transports/base_transport.ts";
import type {
  WriteBufferLimits,
  WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import { CancelledError } from "../errors.ts";
import { WriteFlowControl } from "../base/_flow_control.ts";
import { SendBuffer } from "./_send_buffer.ts";

/** What an {@linkcode OverlappedWriter} asks of its transport. */
export interface OverlappedWriterHooks {
  /** Starts one overlapped write of `data`; resolves to the bytes written. */
  start(data: Uint8Array, signal: AbortSignal): Promise<number>;
  /** Whether the connection was lost (nothing more is sent, completions are ignored). */
  lost(): boolean;
  /** Everything buffered went out. */
  drained(): void;
  /** A write failed (not cancelled, connection not lost). */
  failed(e: unknown): void;
}

/**
 * One write in flight plus a buffer, with flow control.
 *
 * @example
 * ```ts ignore
 * const w = new OverlappedWriter(loop, transport, hooks);
 * w.push(data);
 * ```
 */
export class OverlappedWriter {
  #hooks: OverlappedWriterHooks;
  #buf = new SendBuffer();
  #writing: AbortController | null = null;
  #inFlight = 0;
  #fc: WriteFlowControl;

  /** A writer for `transport`; `hooks` start its writes and hear how they end. */
  constructor(
    loop: Pick<AbstractEventLoop, "callExceptionHandler">,
    transport: BaseTransport,
    hooks: OverlappedWriterHooks,
  ) {
    this.#hooks = hooks;
    this.#fc = new WriteFlowControl(loop, transport, this);
  }

  /** The bytes buffered plus those in flight. */
  get size(): number {
    return this.#buf.size + this.#inFlight;
  }

  /** Whether a write is in flight. */
  get writing(): boolean {
    return this.#writing !== null;
  }

  /** Whether nothing is buffered or in flight. */
  get idle(): boolean {
    return this.#writing === null && this.#buf.size === 0;
  }

  /** Buffers a copy of `view` and starts a write if none is in flight. */
  push(view: Uint8Array): void {
    this.#buf.push(view);
    this.#started();
  }

  /** Buffers copies of `views` in order, as {@linkcode push}. */
  pushAll(views: readonly Uint8Array[]): void {
    for (const v of views) this.#buf.push(v);
    this.#started();
  }

  #started(): void {
    if (this.#writing === null) this.#send();
    this.#fc.maybePause();
  }

  /** Drops the buffer and cancels the write in flight. */
  clear(): void {
    this.#buf.clear();
    this.#writing?.abort();
    this.#writing = null;
    this.#inFlight = 0;
  }

  /** `setWriteBufferLimits()`. */
  setLimits(limits?: WriteBufferLimitsOptions): void {
    this.#fc.setLimits(limits);
  }

  /** `getWriteBufferLimits()`. */
  limits(): WriteBufferLimits {
    return this.#fc.limits();
  }

  #send(): void {
    if (this.#buf.size === 0 || this.#hooks.lost()) return;
    const data = this.#buf.take();
    const ac = new AbortController();
    this.#writing = ac;
    this.#inFlight = data.byteLength;
    this.#hooks.start(data, ac.signal).then(
      (n) => {
        if (this.#writing !== ac) return;
        this.#writing = null;
        this.#inFlight = 0;
        if (this.#hooks.lost()) return;
        // A partial write (rare): the rest goes first next time.
        if (n < data.byteLength) this.#buf.unshift(data.subarray(n));
        if (this.#buf.size > 0) {
          this.#send();
          this.#fc.maybeResume();
          return;
        }
        // resumeWriting() may write (a send is then in flight), close or abort.
        this.#fc.maybeResume();
        if (this.idle && !this.#hooks.lost()) this.#hooks.drained();
      },
      (e) => {
        if (this.#writing !== ac) return;
        this.#writing = null;
        this.#inFlight = 0;
        if (e instanceof CancelledError || this.#hooks.lost()) return;
        this.#hooks.failed(e);
      },
    );
  }
}
