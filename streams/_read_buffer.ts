/**
 * The bytes a `StreamReader` holds: a FIFO of the chunks the transport
 * delivered, with a total and an offset into the first one. Nothing is
 * joined until a read needs bytes from several chunks, so feeding is O(1)
 * and a read served by one chunk costs one copy at most.
 *
 * @module
 */

/** A FIFO of byte chunks (kept, not copied) that can be searched across chunk boundaries. */
export class ReadBuffer {
  #chunks: Uint8Array[] = [];
  #head = 0; // index of the first live chunk
  #off = 0; // bytes of chunks[#head] already taken
  #length = 0;
  // Where the last search stopped: chunk index and the position its live part starts at.
  // Searches that resume further on (readuntil after more data) skip the chunks before it.
  #curIdx = 0;
  #curBase = 0;

  /** The bytes buffered. */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends `chunk` (kept as is: the caller must not change it afterwards).
   * A chunk that continues the last one in the same memory extends it, so
   * bytes read into one buffer back to back stay one chunk.
   */
  push(chunk: Uint8Array): void {
    const chunks = this.#chunks;
    const i = chunks.length - 1;
    const last = i >= this.#head ? chunks[i] : null;
    if (
      last !== null && last.buffer === chunk.buffer &&
      last.byteOffset + last.byteLength === chunk.byteOffset
    ) {
      chunks[i] = new Uint8Array(last.buffer, last.byteOffset, last.byteLength + chunk.byteLength);
    } else {
      chunks.push(chunk);
    }
    this.#length += chunk.byteLength;
  }

  /** The index of the chunk holding `pos` (< length), and where that chunk's live part starts. */
  #locate(pos: number): void {
    const chunks = this.#chunks;
    let i = this.#curIdx, base = this.#curBase;
    if (i < this.#head || base > pos) {
      i = this.#head;
      base = 0;
    }
    for (;;) {
      const len = chunks[i].byteLength - (i === this.#head ? this.#off : 0);
      if (pos < base + len || i === chunks.length - 1) break;
      base += len;
      i++;
    }
    this.#curIdx = i;
    this.#curBase = base;
  }

  /** The position of the first `byte` at or after `from`, or -1. */
  indexOfByte(byte: number, from: number): number {
    if (from >= this.#length) return -1;
    this.#locate(from);
    const chunks = this.#chunks;
    let base = this.#curBase;
    for (let i = this.#curIdx; i < chunks.length; i++) {
      const c = chunks[i];
      const start = i === this.#head ? this.#off : 0;
      const rel = from > base ? from - base : 0;
      const at = c.indexOf(byte, start + rel);
      if (at >= 0) return base + at - start;
      base += c.byteLength - start;
    }
    return -1;
  }

  /** The position of the first occurrence of `sep` at or after `from`, or -1. */
  indexOf(sep: Uint8Array, from: number): number {
    const n = sep.byteLength;
    if (n === 1) return this.indexOfByte(sep[0], from);
    const first = sep[0];
    let p = from;
    while (p + n <= this.#length) {
      p = this.indexOfByte(first, p);
      if (p < 0 || p + n > this.#length) return -1;
      if (this.startsWith(sep, p)) return p;
      p++;
    }
    return -1;
  }

  /** Whether the bytes at `pos` are `sep`. */
  startsWith(sep: Uint8Array, pos: number): boolean {
    const n = sep.byteLength;
    if (pos < 0 || pos + n > this.#length) return false;
    if (n === 0) return true;
    this.#locate(pos);
    const chunks = this.#chunks;
    let i = this.#curIdx;
    let c = chunks[i];
    let j = pos - this.#curBase + (i === this.#head ? this.#off : 0);
    for (let k = 0; k < n; k++, j++) {
      if (j === c.byteLength) {
        c = chunks[++i];
        j = 0;
      }
      if (c[j] !== sep[k]) return false;
    }
    return true;
  }

  /**
   * Removes and returns the first `n` bytes (`n <= length`). A whole first
   * chunk is returned as is; part of one is a copy of that part.
   */
  take(n: number): Uint8Array {
    if (n <= 0) return new Uint8Array(0);
    const c = this.#chunks[this.#head];
    const avail = c.byteLength - this.#off;
    let out: Uint8Array;
    if (n <= avail) {
      out = this.#off === 0 && n === c.byteLength ? c : c.slice(this.#off, this.#off + n);
      this.#skip(n);
      return out;
    }
    out = new Uint8Array(n);
    this.#copyTo(out, n);
    this.#skip(n);
    return out;
  }

  /** Removes and returns what is left of the first chunk, at most `max` bytes. */
  takeChunk(max: number): Uint8Array {
    const c = this.#chunks[this.#head];
    return this.take(Math.min(max, c.byteLength - this.#off));
  }

  /** Moves up to `view.byteLength` bytes into `view`; returns how many. */
  takeInto(view: Uint8Array): number {
    const n = Math.min(view.byteLength, this.#length);
    if (n === 0) return 0;
    this.#copyTo(view, n);
    this.#skip(n);
    return n;
  }

  #copyTo(out: Uint8Array, n: number): void {
    const chunks = this.#chunks;
    let done = 0;
    for (let i = this.#head; done < n; i++) {
      const c = chunks[i];
      const start = i === this.#head ? this.#off : 0;
      const m = Math.min(c.byteLength - start, n - done);
      out.set(m === c.byteLength ? c : c.subarray(start, start + m), done);
      done += m;
    }
  }

  #skip(n: number): void {
    this.#length -= n;
    const chunks = this.#chunks;
    while (n > 0) {
      const left = chunks[this.#head].byteLength - this.#off;
      if (n < left) {
        this.#off += n;
        break;
      }
      n -= left;
      this.#head++;
      this.#off = 0;
    }
    this.#curIdx = this.#head;
    this.#curBase = 0;
    if (this.#head === chunks.length) this.clear();
    else if (this.#head > 1024 && this.#head * 2 > chunks.length) {
      // Drop the consumed prefix now and then, so the array does not grow forever.
      chunks.splice(0, this.#head);
      this.#head = this.#curIdx = 0;
    }
  }

  /** Removes and returns everything. */
  takeAll(): Uint8Array {
    return this.take(this.#length);
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#head =
      this.#off =
      this.#length =
      this.#curIdx =
      this.#curBase =
        0;
  }
}
