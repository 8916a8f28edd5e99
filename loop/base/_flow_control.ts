/**
 * The write side shared by the transports: asyncio's write-buffer limits
 * and the `pauseWriting()`/`resumeWriting()` calls they drive (asyncio's
 * `_FlowControlMixin`), the chunked write buffer of the stream transports
 * (no concatenation per write), and their write path over it
 * ({@linkcode FdWriter}).
 *
 * @module
 */
import { IovecArray } from "../../ffi/sys.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type {
  BaseTransport,
  WriteBufferLimits,
  WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import { reportError } from "./_transport_util.ts";

/**
 * asyncio's default high-water mark of a transport's write buffer: 64 KiB
 * (the low-water mark defaults to a quarter of it).
 *
 * @example
 * ```ts
 * import { DEFAULT_HIGH_WATER } from "./_flow_control.ts";
 * console.log(DEFAULT_HIGH_WATER); // 65536
 * ```
 */
export const DEFAULT_HIGH_WATER = 64 * 1024;

let sharedIov: IovecArray | undefined;
/**
 * The one iovec array every stream transport gathers writes in: JS is
 * single-threaded and each use fills, writes and clears it in one go.
 */
export function iovec(): IovecArray {
  return sharedIov ??= new IovecArray();
}

// Small writes that must be buffered are packed into chunks of this size, so a burst of tiny
// writes becomes a few iovec entries, not thousands.
const SMALL = 4096;
const PACK = 16 * 1024;

function checkMark(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`setWriteBufferLimits(): ${name} must be an integer, got ${typeof v}`);
  }
  return v;
}

/** asyncio's `_set_write_buffer_limits`: fills in the defaults and checks `high >= low >= 0`. */
export function normalizeLimits(options?: WriteBufferLimitsOptions): WriteBufferLimits {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError("setWriteBufferLimits(): expected an options object { high, low }");
  }
  let high = checkMark(options?.high, "high");
  let low = checkMark(options?.low, "low");
  if (high === undefined) high = low === undefined ? DEFAULT_HIGH_WATER : 4 * low;
  if (low === undefined) low = Math.floor(high / 4);
  if (!(high >= low && low >= 0)) {
    throw new RangeError(`high (${high}) must be >= low (${low}) must be >= 0`);
  }
  return { low, high };
}

/**
 * asyncio's `_FlowControlMixin`: the high- and low-water marks, and the
 * protocol's `pauseWriting()`/`resumeWriting()`, each called once per
 * crossing. The transport calls `maybePause` after its buffer grew and
 * `maybeResume` after it shrank; a protocol that throws there goes to the
 * loop's exception handler.
 */
export class WriteFlowControl {
  #loop: Pick<AbstractEventLoop, "callExceptionHandler">;
  #transport: BaseTransport;
  #buffer: { readonly size: number };
  #high: number;
  #low: number;
  #paused = false; // pauseWriting() was called, resumeWriting() not yet

  /** Flow control with the default marks for `transport`, whose write buffer is `buffer`. */
  constructor(
    loop: Pick<AbstractEventLoop, "callExceptionHandler">,
    transport: BaseTransport,
    buffer: { readonly size: number },
  ) {
    this.#loop = loop;
    this.#transport = transport;
    this.#buffer = buffer;
    ({ high: this.#high, low: this.#low } = normalizeLimits());
  }

  /** `setWriteBufferLimits()`: sets the marks and pauses at once if the buffer is above. */
  setLimits(options?: WriteBufferLimitsOptions): void {
    ({ high: this.#high, low: this.#low } = normalizeLimits(options));
    this.maybePause();
  }

  /** The marks, `{ low, high }`. */
  limits(): WriteBufferLimits {
    return { low: this.#low, high: this.#high };
  }

  /** Calls the protocol's `pauseWriting()` when the buffer went above the high mark. */
  maybePause(): void {
    if (this.#buffer.size <= this.#high || this.#paused) return;
    this.#paused = true;
    const protocol = this.#transport.getProtocol();
    try {
      protocol.pauseWriting();
    } catch (e) {
      reportError(this.#loop, "protocol.pauseWriting() failed", e, this.#transport, protocol);
    }
  }

  /** Calls the protocol's `resumeWriting()` when the buffer is down to the low mark. */
  maybeResume(): void {
    if (!this.#paused || this.#buffer.size > this.#low) return;
    this.#paused = false;
    const protocol = this.#transport.getProtocol();
    try {
      protocol.resumeWriting();
    } catch (e) {
      reportError(this.#loop, "protocol.resumeWriting() failed", e, this.#transport, protocol);
    }
  }
}

/**
 * The bytes a transport still has to send: a FIFO of chunks, each a private
 * copy in its own off-heap ArrayBuffer (so iovec addresses stay valid), or,
 * when the writer lends them (`push(data, start, true)`), a view of the
 * writer's own bytes.
 */
export class WriteBuffer {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #headOff = 0;
  #size = 0;
  #tail: ArrayBuffer | null = null; // the last chunk's buffer, when small writes may be packed in
  #lent = false; // a chunk is a view of the writer's memory: check it is still there (intact())

  /** The bytes buffered. */
  get size(): number {
    return this.#size;
  }

  /**
   * Copies `data` from byte `start` on into the buffer; with `lent`, keeps
   * a view of it instead (no copy for more than 4 KiB): the writer must then
   * neither change nor detach `data` until it is sent or dropped.
   */
  push(data: Uint8Array, start = 0, lent = false): void {
    const len = data.byteLength - start;
    if (len <= 0) return;
    const chunks = this.#chunks;
    if (lent && len > SMALL) {
      // A fixed-length view: if the memory is detached or shrunk it reads as empty (intact()).
      chunks.push(new Uint8Array(data.buffer, data.byteOffset + start, len));
      this.#tail = null;
      this.#lent = true;
      this.#size += len;
      return;
    }
    const tail = this.#tail;
    if (tail !== null && len <= SMALL) {
      const last = chunks[chunks.length - 1];
      const used = last.byteLength;
      if (used + len <= tail.byteLength) {
        const grown = new Uint8Array(tail, 0, used + len);
        grown.set(start === 0 ? data : data.subarray(start), used);
        chunks[chunks.length - 1] = grown;
        this.#size += len;
        return;
      }
    }
    const ab = new ArrayBuffer(len <= SMALL ? PACK : len);
    const chunk = new Uint8Array(ab, 0, len);
    chunk.set(start === 0 ? data : data.subarray(start));
    chunks.push(chunk);
    this.#tail = len <= SMALL ? ab : null;
    this.#size += len;
  }

  /**
   * Whether every chunk still holds its bytes: `false` once memory a writer
   * lent was detached or shrunk (its view reads as empty then).
   */
  intact(): boolean {
    if (!this.#lent) return true;
    const chunks = this.#chunks;
    if (this.#head < chunks.length && chunks[this.#head].byteLength <= this.#headOff) return false;
    for (let i = this.#head + 1; i < chunks.length; i++) {
      if (chunks[i].byteLength === 0) return false;
    }
    return true;
  }

  /** The number of chunks buffered. */
  get chunkCount(): number {
    return this.#chunks.length - this.#head;
  }

  /** The unsent part of the first chunk. */
  first(): Uint8Array {
    const c = this.#chunks[this.#head];
    return this.#headOff === 0 ? c : c.subarray(this.#headOff);
  }

  /** Puts as many chunks as fit into `iov` (cleared first). */
  fill(iov: IovecArray): void {
    iov.clear();
    const chunks = this.#chunks;
    let i = this.#head;
    if (i < chunks.length && !iov.push(chunks[i], this.#headOff)) return;
    for (i++; i < chunks.length; i++) if (!iov.push(chunks[i])) return;
  }

  /** Drops the first `n` bytes (they were sent). */
  consume(n: number): void {
    this.#size -= n;
    const chunks = this.#chunks;
    while (n > 0) {
      const left = chunks[this.#head].byteLength - this.#headOff;
      if (n < left) {
        this.#headOff += n;
        return;
      }
      n -= left;
      this.#head++;
      this.#headOff = 0;
    }
    if (this.#head === chunks.length) this.clear();
    else if (this.#head > 1024 && this.#head * 2 > chunks.length) {
      chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#headOff = 0;
    this.#size = 0;
    this.#tail = null;
    this.#lent = false;
  }
}

/** The loop as an {@linkcode FdWriter} needs it. */
type WriterLoop = Pick<AbstractEventLoop, "addWriter" | "removeWriter" | "callExceptionHandler">;

/**
 * The write path of a stream transport over one fd, shared by the socket
 * and the write-pipe transports (asyncio's `write()`, `writelines()` and
 * `_write_ready()`): what the fd takes goes out at once, the rest waits in
 * a {@linkcode WriteBuffer} and is flushed on writable events, with the
 * buffer's flow control. A subclass makes the two syscalls; the transport
 * keeps its state and decides what a failure means: a send that threw
 * makes a method return `false` (`flush()`: -1) with the error in `error`.
 */
export abstract class FdWriter extends WriteFlowControl {
  /** The bytes waiting to be written. */
  readonly buffer: WriteBuffer;
  /** The fd written. */
  readonly fd: number;
  /** What the last send that failed threw. */
  error: unknown = undefined;
  readonly #loop: WriterLoop;
  readonly #writeReady: () => void;

  /** The write path of `transport` over `fd`; `writeReady` is its (bound) writable handler. */
  constructor(loop: WriterLoop, transport: BaseTransport, fd: number, writeReady: () => void) {
    const buffer = new WriteBuffer();
    super(loop, transport, buffer);
    this.buffer = buffer;
    this.fd = fd;
    this.#loop = loop;
    this.#writeReady = writeReady;
  }

  /** One write of `view`: the bytes written, or -1 when the fd would block. */
  protected abstract send(view: Uint8Array): number;

  /** One gathered write of what `iov` holds: the bytes written, or -1 when the fd would block. */
  protected abstract sendv(iov: IovecArray): number;

  /**
   * Writes `view` (not empty) at once if nothing waits, and buffers what
   * the fd did not take (a view of `view`, not a copy, when `lent`), the
   * fd then watched for writing. `false` when the send threw.
   */
  write(view: Uint8Array, lent: boolean): boolean {
    const buffer = this.buffer;
    let start = 0;
    if (buffer.size === 0) {
      let n: number;
      try {
        n = this.send(view);
      } catch (e) {
        this.error = e;
        return false;
      }
      if (n === view.byteLength) return true;
      if (n > 0) start = n;
      this.#loop.addWriter(this.fd, this.#writeReady);
    }
    buffer.push(view, start, lent);
    this.maybePause();
    return true;
  }

  /**
   * Writes `views` (at least one, none empty) in order: with one gathered
   * write if nothing waits, then buffers copies of what did not go out.
   * `false` when the write threw.
   */
  writeViews(views: readonly Uint8Array[]): boolean {
    const buffer = this.buffer;
    let i = 0, start = 0;
    if (buffer.size === 0) {
      let n: number, total = 0;
      if (views.length === 1) {
        total = views[0].byteLength;
        try {
          n = this.send(views[0]);
        } catch (e) {
          this.error = e;
          return false;
        }
      } else {
        const iov = iovec();
        iov.clear();
        for (const v of views) {
          if (!iov.push(v)) {
            total = Infinity; // more than one call takes: what did not fit is buffered below
            break;
          }
          total += v.byteLength;
        }
        try {
          n = this.sendv(iov);
        } catch (e) {
          this.error = e;
          return false;
        } finally {
          iov.clear();
        }
      }
      if (n === total) return true;
      // Skip what went out: whole views, then part of one.
      while (n > 0 && n >= views[i].byteLength) n -= views[i++].byteLength;
      if (n > 0) start = n;
      this.#loop.addWriter(this.fd, this.#writeReady);
    }
    for (; i < views.length; i++, start = 0) buffer.push(views[i], start);
    this.maybePause();
    return true;
  }

  /**
   * The writable event: writes what is buffered (one chunk with `send`,
   * more with one gathered write), drops what went out, lets the protocol
   * resume writing below the low mark, and stops watching the fd once the
   * buffer is empty. Returns the bytes still buffered, or -1 when the write
   * threw or lent bytes were lost (the buffer is dropped and the fd no
   * longer watched for writing then).
   */
  flush(): number {
    const buffer = this.buffer;
    let n: number;
    try {
      if (!buffer.intact()) {
        throw new TypeError(
          "bytes lent to the pipe were detached or shrunk before they were written",
        );
      }
      if (buffer.chunkCount === 1) n = this.send(buffer.first());
      else {
        const iov = iovec();
        buffer.fill(iov);
        try {
          n = this.sendv(iov);
        } finally {
          iov.clear();
        }
      }
    } catch (e) {
      this.#loop.removeWriter(this.fd);
      buffer.clear();
      this.error = e;
      return -1;
    }
    if (n > 0) buffer.consume(n);
    this.maybeResume(); // may write more
    if (buffer.size !== 0) return buffer.size;
    this.#loop.removeWriter(this.fd);
    return 0;
  }
}
