/**
 * The write side shared by stream transports: a chunked write buffer (no
 * concatenation per write) and asyncio's write-buffer limits.
 *
 * @module
 */
import type { IovecArray } from "../ffi/unix/iovec.ts";
import type { WriteBufferLimits, WriteBufferLimitsOptions } from "./base_transport.ts";

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
 * The bytes a transport still has to send: a FIFO of chunks, each a private
 * copy in its own off-heap ArrayBuffer (so iovec addresses stay valid).
 */
export class WriteBuffer {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #headOff = 0;
  #size = 0;
  #tail: ArrayBuffer | null = null; // the last chunk's buffer, when small writes may be packed in

  /** The bytes buffered. */
  get size(): number {
    return this.#size;
  }

  /** Copies `data` from byte `start` on into the buffer. */
  push(data: Uint8Array, start = 0): void {
    const len = data.byteLength - start;
    if (len <= 0) return;
    const chunks = this.#chunks;
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
  }
}
