/**
 * The write buffer of the Proactor's stream and pipe transports: the bytes
 * written and not yet handed to a send, kept as the caller's copies, taken
 * off in sends of up to `coalesce` bytes (small writes joined into one).
 *
 * @module
 */

/** One MiB: the largest send made by joining buffered writes. */
export const SEND_COALESCE = 1024 * 1024;

/**
 * Buffered writes in order, with their total size.
 *
 * @example
 * ```ts
 * import { SendBuffer } from "./_send_buffer.ts";
 * const b = new SendBuffer();
 * b.push(new Uint8Array([1, 2]));
 * b.push(new Uint8Array([3]));
 * console.log(b.size, b.take()); // 3 Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export class SendBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #coalesce: number;

  /** Makes an empty buffer whose sends join writes up to `coalesce` bytes. */
  constructor(coalesce: number = SEND_COALESCE) {
    this.#coalesce = coalesce;
  }

  /** The bytes buffered. */
  get size(): number {
    return this.#size;
  }

  /** Buffers a copy of `view` (the caller may reuse its memory at once). */
  push(view: Uint8Array): void {
    this.#chunks.push(view.slice());
    this.#size += view.byteLength;
  }

  /** Puts back, first, the part of a send that did not go (no copy). */
  unshift(rest: Uint8Array): void {
    this.#chunks.unshift(rest);
    this.#size += rest.byteLength;
  }

  /** Takes the next send: the first buffer, or the first ones joined up to `coalesce` bytes. */
  take(): Uint8Array {
    const first = this.#chunks[0];
    if (first.byteLength >= this.#coalesce || this.#chunks.length === 1) {
      this.#chunks.shift();
      this.#size -= first.byteLength;
      return first;
    }
    let n = 0, k = 0;
    while (k < this.#chunks.length && n + this.#chunks[k].byteLength <= this.#coalesce) {
      n += this.#chunks[k++].byteLength;
    }
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.#chunks.splice(0, k)) {
      out.set(c, off);
      off += c.byteLength;
    }
    this.#size -= n;
    return out;
  }

  /** Drops everything buffered. */
  clear(): void {
    this.#chunks.length = 0;
    this.#size = 0;
  }
}
