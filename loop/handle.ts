/**
 * `Handle` and `TimerHandle`: a callback with its arguments, scheduled on a
 * loop, that can be cancelled.
 *
 * @module
 */
import type { AbstractEventLoop } from "./abstract_event_loop.ts";

/** A callback the loop can schedule: any function; its return value is ignored. */
// deno-lint-ignore no-explicit-any
export type Callback<A extends unknown[] = any[]> = (...args: A) => unknown;

/** Options of `new Handle()`. */
export interface HandleOptions {
  /** The loop whose exception handler receives the callback's errors. */
  loop: AbstractEventLoop;
  /** The arguments the callback is called with. */
  args?: readonly unknown[];
  /** Where the handle was made (a stack trace), kept in debug mode. */
  sourceTraceback?: string | null;
}

/** What a heap holding a `TimerHandle` learns when the handle is cancelled. */
export interface TimerOwner {
  /** Counts one more cancelled handle still in the heap. */
  timerCancelled(handle: TimerHandle): void;
}

let runHandle: (handle: Handle) => void;
let setOwner: (handle: TimerHandle, owner: TimerOwner | null) => void;
let leaveHeap: (handle: TimerHandle) => boolean;

function describeCallback(cb: Callback | null, args: readonly unknown[] | undefined): string {
  const name = cb === null ? "<cancelled>" : cb.name || "<anonymous>";
  const shown = (args ?? []).map((a) => {
    if (typeof a === "string") return JSON.stringify(a.length > 20 ? a.slice(0, 20) + "…" : a);
    if (typeof a === "function") return `function ${a.name || "<anonymous>"}`;
    if (typeof a === "object" && a !== null) return a.constructor?.name ?? "object";
    return String(a);
  });
  return `${name}(${shown.join(", ")})`;
}

/**
 * asyncio's `Handle`: what `callSoon()` returns. `cancel()` keeps the
 * callback from running; a callback that throws (or returns a promise that
 * rejects) is reported to the loop's exception handler.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * const handle = loop.callSoon(() => console.log("never"));
 * handle.cancel();
 * console.log(handle.cancelled()); // true
 * ```
 */
export class Handle {
  #callback: Callback | null;
  #args: readonly unknown[] | undefined;
  #loop: AbstractEventLoop;
  #cancelled = false;
  #repr: string | null = null;
  #sourceTraceback: string | null;

  /** Wraps `callback` for `options.loop`; loops make handles, callers rarely do. */
  constructor(callback: Callback, options: HandleOptions) {
    if (typeof callback !== "function") {
      throw new TypeError(`a callback function was expected, got ${typeof callback}`);
    }
    this.#callback = callback;
    const args = options.args;
    this.#args = args === undefined || args.length === 0 ? undefined : args;
    this.#loop = options.loop;
    this.#sourceTraceback = options.sourceTraceback ?? null;
  }

  static {
    runHandle = (h) => h.#run();
  }

  /**
   * Cancels the call; does nothing if it already ran or was cancelled.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.callSoon(() => {}).cancel();
   * ```
   */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    if (this.#loop.getDebug()) this.#repr = this.toString();
    this.#callback = null;
    this.#args = undefined;
  }

  /**
   * Whether the handle was cancelled.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.callSoon(() => {}).cancelled()); // false
   * ```
   */
  cancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * The loop the handle belongs to.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.callSoon(() => {}).getLoop() === loop); // true
   * ```
   */
  getLoop(): AbstractEventLoop {
    return this.#loop;
  }

  /**
   * The stack where the handle was made, when the loop was in debug mode.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop({ debug: true });
   * console.log(loop.callSoon(() => {}).sourceTraceback !== null); // true
   * ```
   */
  get sourceTraceback(): string | null {
    return this.#sourceTraceback;
  }

  /**
   * A short description: the class, the callback's name and its arguments.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(String(loop.callSoon(function tick(n: number) {}, 1))); // <Handle tick(1)>
   * ```
   */
  toString(): string {
    if (this.#repr !== null) return this.#repr;
    const state = this.#cancelled ? " cancelled" : "";
    return `<${this.constructor.name}${state}${this.describeExtra()} ${
      describeCallback(this.#callback, this.#args)
    }>`;
  }

  /** Extra words for `toString()` (a timer adds its time). */
  protected describeExtra(): string {
    return "";
  }

  #run(): void {
    const cb = this.#callback;
    if (cb === null) return;
    const a = this.#args;
    let r: unknown;
    try {
      if (a === undefined) r = cb();
      else if (a.length === 1) r = cb(a[0]);
      else if (a.length === 2) r = cb(a[0], a[1]);
      else r = cb(...a);
    } catch (e) {
      this.#report(e);
      return;
    }
    if (r !== undefined && r instanceof Promise) {
      r.then(undefined, (e) => this.#report(e));
    }
  }

  #report(exception: unknown): void {
    const context: Record<string, unknown> = {
      message: `Exception in callback ${describeCallback(this.#callback, this.#args)}`,
      exception,
      handle: this,
    };
    if (this.#sourceTraceback !== null) context.sourceTraceback = this.#sourceTraceback;
    this.#loop.callExceptionHandler(context as { message: string });
  }
}

/**
 * asyncio's `TimerHandle`: what `callLater()` and `callAt()` return, with
 * the loop time it is due at.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * const t = loop.callLater(50, () => {});
 * console.log(t.when() >= loop.time()); // true
 * t.cancel();
 * ```
 */
export class TimerHandle extends Handle {
  #when: number;
  #owner: TimerOwner | null = null;

  /** Wraps `callback`, due at loop time `when` (ms). */
  constructor(when: number, callback: Callback, options: HandleOptions) {
    super(callback, options);
    this.#when = when;
  }

  static {
    setOwner = (h, owner) => {
      h.#owner = owner;
    };
    leaveHeap = (h) => {
      h.#owner = null;
      return h.cancelled();
    };
  }

  /**
   * The loop time (ms) the callback is due at.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.callAt(1234, () => {}).when()); // 1234
   * ```
   */
  when(): number {
    return this.#when;
  }

  /**
   * Cancels the call; the loop drops it from its heap lazily.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.callLater(1000, () => {}).cancel();
   * ```
   */
  override cancel(): void {
    if (!this.cancelled() && this.#owner !== null) this.#owner.timerCancelled(this);
    super.cancel();
  }

  /** Adds the due time to `toString()`. */
  protected override describeExtra(): string {
    return ` when=${this.#when.toFixed(3)}`;
  }
}

/** Runs a handle's callback (if it wasn't cancelled), reporting its errors; loop-internal. */
export function _runHandle(handle: Handle): void {
  runHandle(handle);
}

/** Tells a timer which heap holds it (`null` once it left the heap); loop-internal. */
export function _setTimerOwner(handle: TimerHandle, owner: TimerOwner | null): void {
  setOwner(handle, owner);
}

/**
 * Tells a timer it left its heap (popped as due) and returns whether it was
 * cancelled: one call where the pop touches the handle; loop-internal.
 */
export function _timerLeftHeap(handle: TimerHandle): boolean {
  return leaveHeap(handle);
}
