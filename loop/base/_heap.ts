/**
 * The loop's timer heap: a 4-ary min-heap keyed by (when, seq) in three
 * parallel flat arrays, so equal times keep their scheduling order and the
 * sift loops compare plain numbers. Cancelled handles stay in place until
 * they reach the top or dominate the heap (CPython's purge rule).
 *
 * Shaped for V8 as much as for the CPU: a pop picks the smallest child
 * without branches, and the code has no rarely taken path a warm-up might
 * not reach (V8 deoptimizes when it first runs one), nor arrays that change
 * kind or get replaced (both deoptimize the methods using them).
 *
 * @module
 */
import {
  _setTimerOwner,
  _timerLeftHeap,
  type Handle,
  type TimerHandle,
  type TimerOwner,
} from "../handle.ts";

/** CPython's `_MIN_SCHEDULED_TIMER_HANDLES`: purge only heaps bigger than this. */
export const MIN_SCHEDULED_TIMER_HANDLES = 100;
/** CPython's `_MIN_CANCELLED_TIMER_HANDLES_FRACTION`. */
export const MIN_CANCELLED_TIMER_HANDLES_FRACTION = 0.5;

// `#when` goes on with at least PAD NaNs past the last entry. A NaN is
// neither less than nor equal to anything: a pop can compare four children
// even below the last parent, which has fewer, and padding never wins nor
// ties. (Without it, that parent was a rare path of its own.)
const PAD = 3;

// An empty array that holds objects from the start: `[]` starts out holding
// small integers, and its change of kind at a new heap's first push would
// deoptimize push() (compiled for an earlier heap's array).
function objectArray<T>(): T[] {
  const a = [null] as T[];
  a.length = 0;
  return a;
}

/** A min-heap of timer handles ordered by (when, insertion order). */
export class TimerHeap implements TimerOwner {
  readonly #when: number[] = [NaN, NaN, NaN]; // PAD of them, and an array of doubles
  readonly #seq: number[] = [];
  readonly #items: TimerHandle[] = objectArray();
  #size = 0;
  #nextSeq = 0;
  #cancelled = 0;

  /** How many handles the heap holds, cancelled ones included. */
  get size(): number {
    return this.#size;
  }

  /** How many cancelled handles the heap still holds. */
  get cancelledCount(): number {
    return this.#cancelled;
  }

  /** Counts a handle cancelled while in the heap. */
  timerCancelled(_handle: TimerHandle): void {
    this.#cancelled++;
  }

  /** Adds `handle`, due at `when` (`handle.when()`, which the loop has at hand). */
  push(handle: TimerHandle, when: number = handle.when()): void {
    const i = this.#size++;
    const w = this.#when;
    if (w.length === i + PAD) w.push(NaN); // still PAD past the new entry
    w[i] = when;
    this.#seq[i] = this.#nextSeq++;
    this.#items[i] = handle;
    _setTimerOwner(handle, this);
    this.#siftUp(i);
  }

  /** The due time of the earliest handle, or `Infinity` when empty. */
  peekWhen(): number {
    return this.#size === 0 ? Infinity : this.#when[0];
  }

  /** Removes and returns the earliest handle. */
  pop(): TimerHandle {
    const top = this.#items[0];
    this.#removeTop();
    if (_timerLeftHeap(top)) this.#cancelled--; // a cancelled one popped as due leaves the count
    return top;
  }

  /**
   * Drops cancelled handles: all of them when there are more than 100
   * handles and more than half are cancelled, else those on top.
   */
  prune(): void {
    const n = this.#size;
    if (
      n > MIN_SCHEDULED_TIMER_HANDLES && this.#cancelled / n > MIN_CANCELLED_TIMER_HANDLES_FRACTION
    ) {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const h = this.#items[i];
        if (h.cancelled()) {
          _setTimerOwner(h, null);
          continue;
        }
        this.#when[k] = this.#when[i];
        this.#seq[k] = this.#seq[i];
        this.#items[k++] = h;
      }
      this.#items.length = this.#when.length = this.#seq.length = k;
      this.#when.push(NaN, NaN, NaN);
      this.#size = k;
      for (let i = (k - 2) >> 2; i >= 0; i--) this.#siftDown(i);
      this.#cancelled = 0;
    } else {
      while (this.#size > 0 && this.#items[0].cancelled()) this.pop();
    }
  }

  /**
   * Pops every handle due before `endTime`, in order, and appends those not
   * cancelled to `out` from index `length`; returns the new length.
   */
  popDue(endTime: number, out: (Handle | undefined)[], length: number): number {
    // Two loops in two methods, which V8 optimizes apart: compiled while the
    // first loop runs, one method would deoptimize on reaching the second.
    return this.#leaveHeap(out, length, this.#popBefore(endTime, out, length));
  }

  #popBefore(endTime: number, out: (Handle | undefined)[], length: number): number {
    while (this.#size > 0 && this.#when[0] < endTime) {
      out[length++] = this.#items[0];
      this.#removeTop();
    }
    return length;
  }

  // Tells the popped handles in `out[start..end)` they left the heap and
  // keeps those not cancelled; returns the new end. A pass of its own: the
  // handles' loads (cache misses, mostly) don't wait on the sifts, so the CPU
  // overlaps them.
  #leaveHeap(out: (Handle | undefined)[], start: number, end: number): number {
    let k = start;
    for (let i = start; i < end; i++) {
      const h = out[i] as TimerHandle;
      if (_timerLeftHeap(h)) this.#cancelled--;
      else out[k++] = h;
    }
    for (let i = k; i < end; i++) out[i] = undefined;
    return k;
  }

  /** Empties the heap. */
  clear(): void {
    const it = this.#items;
    for (let i = 0; i < this.#size; i++) _setTimerOwner(it[i], null);
    // Truncated, not replaced: V8 compiles the arrays in as constants, and
    // storing new ones would throw away the optimized code of every method.
    this.#when.length = this.#seq.length = it.length = 0;
    this.#when.push(NaN, NaN, NaN);
    this.#size = 0;
    this.#cancelled = 0;
  }

  // Removes the earliest entry.
  #removeTop(): void {
    const n = --this.#size;
    const w = this.#when, s = this.#seq, it = this.#items;
    // The last entry leaves its place (padding from now on) and goes in
    // again below, unless it was the root itself.
    const hw = w[n], hs = s[n], h = it[n];
    w[n] = NaN;
    it[n] = undefined as unknown as TimerHandle;
    if (n > 0) {
      // Floyd's pop: walk the hole from the root down to a leaf along the
      // smaller children, then sift the last entry up from there (it belongs
      // near the bottom, so this saves comparing it on the way down).
      let i = 0;
      for (;;) {
        const a = 4 * i + 1;
        if (a >= n) break;
        const w0 = w[a], w1 = w[a + 1], w2 = w[a + 2], w3 = w[a + 3];
        // The smallest of four without branches (a comparison as 0 or 1):
        // which child wins is random, and mispredicted branches were half
        // the cost of a pop. Equal times go the exact way, by seq.
        const x = a + +(w1 < w0), y = a + 2 + +(w3 < w2);
        const xw = w[x], yw = w[y];
        let c = x + +(yw < xw) * (y - x);
        if (w0 === w1 || w2 === w3 || xw === yw) c = this.#minChild(a);
        w[i] = w[c];
        s[i] = s[c];
        it[i] = it[c];
        i = c;
      }
      // #siftUp's loop, inlined: calling it here measured 5-15% slower per pop.
      while (i > 0) {
        const p = (i - 1) >> 2;
        const pw = w[p];
        if (pw < hw || (pw === hw && s[p] < hs)) break;
        w[i] = pw;
        s[i] = s[p];
        it[i] = it[p];
        i = p;
      }
      w[i] = hw;
      s[i] = hs;
      it[i] = h;
    }
  }

  // The smallest of the four children from `first`, ties broken by seq.
  #minChild(first: number): number {
    const w = this.#when, s = this.#seq;
    let c = first, cw = w[first];
    for (let k = first + 1; k < first + 4; k++) {
      const kw = w[k];
      if (kw < cw || (kw === cw && s[k] < s[c])) {
        c = k;
        cw = kw;
      }
    }
    return c;
  }

  #siftUp(i: number): void {
    const w = this.#when, s = this.#seq, it = this.#items;
    const hw = w[i], hs = s[i], h = it[i];
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pw = w[p];
      if (pw < hw || (pw === hw && s[p] < hs)) break;
      w[i] = pw;
      s[i] = s[p];
      it[i] = it[p];
      i = p;
    }
    w[i] = hw;
    s[i] = hs;
    it[i] = h;
  }

  // A 4-ary heap: half the depth of a binary one, and the four children sit
  // side by side. Pops go through #removeTop; this serves the purge's heapify.
  #siftDown(i: number): void {
    const w = this.#when, s = this.#seq, it = this.#items, n = this.#size;
    const hw = w[i], hs = s[i], h = it[i];
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let c = first, cw = w[first], cs = s[first];
      const last = first + 4 < n ? first + 4 : n;
      for (let k = first + 1; k < last; k++) {
        const kw = w[k];
        if (kw < cw || (kw === cw && s[k] < cs)) {
          c = k;
          cw = kw;
          cs = s[k];
        }
      }
      if (hw < cw || (hw === cw && hs < cs)) break;
      w[i] = cw;
      s[i] = cs;
      it[i] = it[c];
      i = c;
    }
    w[i] = hw;
    s[i] = hs;
    it[i] = h;
  }
}
