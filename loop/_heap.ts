/**
 * The loop's timer heap: a 4-ary min-heap keyed by (when, seq) in three
 * parallel flat arrays, so equal times keep their scheduling order and the
 * sift loops compare plain numbers. Cancelled handles stay in place until
 * they reach the top or dominate the heap (CPython's purge rule).
 *
 * @module
 */
import { _setTimerOwner, type TimerHandle, type TimerOwner } from "./handle.ts";

/** CPython's `_MIN_SCHEDULED_TIMER_HANDLES`: purge only heaps bigger than this. */
export const MIN_SCHEDULED_TIMER_HANDLES = 100;
/** CPython's `_MIN_CANCELLED_TIMER_HANDLES_FRACTION`. */
export const MIN_CANCELLED_TIMER_HANDLES_FRACTION = 0.5;

/** A min-heap of timer handles ordered by (when, insertion order). */
export class TimerHeap implements TimerOwner {
  #when: number[] = [];
  #seq: number[] = [];
  #items: TimerHandle[] = [];
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

  /** Adds `handle`, due at `handle.when()`. */
  push(handle: TimerHandle): void {
    const i = this.#size++;
    this.#when[i] = handle.when();
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
    const last = --this.#size;
    if (last > 0) {
      this.#when[0] = this.#when[last];
      this.#seq[0] = this.#seq[last];
      this.#items[0] = this.#items[last];
      this.#siftDown(0);
    }
    this.#items[last] = undefined as unknown as TimerHandle;
    _setTimerOwner(top, null);
    if (top.cancelled()) this.#cancelled--; // a cancelled one popped as due leaves the count
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
      this.#size = k;
      for (let i = (k - 2) >> 2; i >= 0; i--) this.#siftDown(i);
      this.#cancelled = 0;
    } else {
      while (this.#size > 0 && this.#items[0].cancelled()) this.pop();
    }
  }

  /** Moves every handle due before `endTime` into `out`, in order. */
  popDue(endTime: number, out: (handle: TimerHandle) => void): void {
    while (this.#size > 0 && this.#when[0] < endTime) out(this.pop());
  }

  /** Empties the heap. */
  clear(): void {
    for (let i = 0; i < this.#size; i++) _setTimerOwner(this.#items[i], null);
    this.#when = [];
    this.#seq = [];
    this.#items = [];
    this.#size = 0;
    this.#cancelled = 0;
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
  // side by side; pops (siftDown) were the heap's main cost.
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
