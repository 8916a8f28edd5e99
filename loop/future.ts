/**
 * asyncio's `Future`: a result that will be set later, awaitable.
 *
 * @module
 */
import type { AbstractEventLoop } from "./abstract_event_loop.ts";
import { CancelledError, InvalidStateError } from "./errors.ts";
import { getRunningLoop } from "./running.ts";

const PENDING = 0, CANCELLED = 1, FINISHED = 2;
const STATE_NAMES = ["pending", "cancelled", "finished"];

/** A done callback: called with the future, through the loop's `callSoon()`. */
export type DoneCallback<F> = (future: F) => unknown;

/** Options of `new Future()`. */
export interface FutureOptions {
  /** The loop the future belongs to; the running loop when omitted. */
  loop?: AbstractEventLoop;
}

let isFutureImpl: (obj: object) => boolean;

/**
 * Whether `obj` is a `Future` (a `Task` included), as `asyncio.isfuture()`.
 *
 * @example
 * ```ts
 * import { isFuture, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * console.log(isFuture(loop.createFuture()), isFuture(Promise.resolve())); // true false
 * ```
 */
export function isFuture(obj: unknown): obj is Future<unknown> {
  return typeof obj === "object" && obj !== null && isFutureImpl(obj);
}

/**
 * asyncio's `Future`. Done callbacks always run through the loop
 * (`callSoon()`), never inline. It is a thenable: `await future` gives the
 * result, or throws the exception (a `CancelledError` when cancelled).
 *
 * @example
 * ```ts
 * import { SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * const fut = loop.createFuture<number>();
 * loop.callLater(10, () => fut.setResult(42));
 * console.log(await loop.runUntilComplete(fut)); // 42
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  #state = PENDING;
  #result: T | undefined = undefined;
  #exception: unknown = null;
  #hasException = false;
  #cancelMessage: string | undefined = undefined;
  // deno-lint-ignore no-explicit-any
  #callbacks: DoneCallback<any>[] | null = null;
  #loop: AbstractEventLoop;
  #sourceTraceback: string | null = null;

  static {
    isFutureImpl = (obj) => #state in obj;
  }

  /** Makes a pending future on `options.loop`, or on the running loop. */
  constructor(options?: FutureOptions) {
    this.#loop = options?.loop ?? getRunningLoop();
    if (this.#loop.getDebug()) this.#sourceTraceback = new Error().stack ?? null;
  }

  /**
   * Cancels the future and schedules its callbacks; returns `false` if it
   * was done already.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture();
   * console.log(fut.cancel("no longer needed"), fut.cancelled()); // true true
   * ```
   */
  cancel(msg?: string): boolean {
    if (this.#state !== PENDING) return false;
    this.#state = CANCELLED;
    this.#cancelMessage = msg;
    this.#scheduleCallbacks();
    return true;
  }

  /**
   * Whether the future was cancelled.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.createFuture().cancelled()); // false
   * ```
   */
  cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /**
   * Whether the future has a result, an exception, or was cancelled.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture();
   * fut.setResult(1);
   * console.log(fut.done()); // true
   * ```
   */
  done(): boolean {
    return this.#state !== PENDING;
  }

  /**
   * The result. Throws the future's exception if it has one, a
   * `CancelledError` if it was cancelled, an `InvalidStateError` if pending.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture<string>();
   * fut.setResult("ok");
   * console.log(fut.result()); // ok
   * ```
   */
  result(): T {
    if (this.#state === CANCELLED) throw this.#makeCancelledError();
    if (this.#state === PENDING) throw new InvalidStateError("Result is not ready.");
    if (this.#hasException) throw this.#exception;
    return this.#result as T;
  }

  /**
   * The exception set with `setException()`, or `null`. Throws like
   * `result()` when cancelled or pending.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture();
   * fut.setException(new Error("boom"));
   * console.log((fut.exception() as Error).message); // boom
   * ```
   */
  exception(): unknown {
    if (this.#state === CANCELLED) throw this.#makeCancelledError();
    if (this.#state === PENDING) throw new InvalidStateError("Exception is not set.");
    return this.#exception;
  }

  /**
   * Calls `fn(future)` through the loop once the future is done (at the
   * loop's next iteration if it is done already).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture<number>();
   * fut.addDoneCallback((f) => console.log(f.result()));
   * fut.setResult(7);
   * await loop.runUntilComplete(fut);
   * ```
   */
  addDoneCallback(fn: DoneCallback<this>): void {
    if (typeof fn !== "function") {
      throw new TypeError(`a done callback must be a function, got ${typeof fn}`);
    }
    if (this.#state !== PENDING) this.#loop.callSoon(fn, this);
    else if (this.#callbacks === null) this.#callbacks = [fn];
    else this.#callbacks.push(fn);
  }

  /**
   * Removes every registration of `fn`; returns how many there were.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture();
   * const cb = () => {};
   * fut.addDoneCallback(cb);
   * console.log(fut.removeDoneCallback(cb)); // 1
   * ```
   */
  removeDoneCallback(fn: DoneCallback<this>): number {
    const cbs = this.#callbacks;
    if (cbs === null) return 0;
    const kept = cbs.filter((cb) => cb !== fn);
    const removed = cbs.length - kept.length;
    if (removed > 0) this.#callbacks = kept.length > 0 ? kept : null;
    return removed;
  }

  /**
   * Marks the future done with `result`; throws `InvalidStateError` if it
   * is done already.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture<number>();
   * fut.setResult(3);
   * ```
   */
  setResult(result: T): void {
    if (this.#state !== PENDING) {
      throw new InvalidStateError(`${STATE_NAMES[this.#state]}: ${this}`);
    }
    this.#result = result;
    this.#state = FINISHED;
    this.#scheduleCallbacks();
  }

  /**
   * Marks the future done with `exception`; throws `InvalidStateError` if
   * it is done already.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture();
   * fut.setException(new RangeError("out of range"));
   * ```
   */
  setException(exception: unknown): void {
    if (this.#state !== PENDING) {
      throw new InvalidStateError(`${STATE_NAMES[this.#state]}: ${this}`);
    }
    this.#exception = exception;
    this.#hasException = true;
    this.#state = FINISHED;
    this.#scheduleCallbacks();
  }

  /**
   * The loop the future belongs to.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.createFuture().getLoop() === loop); // true
   * ```
   */
  getLoop(): AbstractEventLoop {
    return this.#loop;
  }

  /**
   * Where the future was made, when its loop was in debug mode.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop({ debug: true });
   * console.log(loop.createFuture().sourceTraceback !== null); // true
   * ```
   */
  get sourceTraceback(): string | null {
    return this.#sourceTraceback;
  }

  /**
   * Makes the future awaitable. A done future settles the promise at once;
   * a pending one settles it from a done callback, through the loop.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture<number>();
   * fut.setResult(5);
   * console.log(await fut); // 5
   * ```
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    // deno-lint-ignore no-explicit-any
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const settled = new Promise<T>((resolve, reject) => {
      const settle = () => {
        if (this.#state === CANCELLED) reject(this.#makeCancelledError());
        else if (this.#hasException) reject(this.#exception);
        else resolve(this.#result as T);
      };
      if (this.#state === PENDING) this.addDoneCallback(settle);
      else settle();
    });
    return settled.then(onfulfilled, onrejected);
  }

  /**
   * A short description with the state and the result or exception.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(String(loop.createFuture())); // <Future pending>
   * ```
   */
  toString(): string {
    let info = STATE_NAMES[this.#state];
    if (this.#state === FINISHED) {
      info += this.#hasException
        ? ` exception=${(this.#exception as Error)?.name ?? String(this.#exception)}`
        : ` result=${typeof this.#result === "object" ? "object" : String(this.#result)}`;
    }
    return `<${this.constructor.name} ${info}${this.describeExtra()}>`;
  }

  /** Extra words for `toString()` (a task adds its name). */
  protected describeExtra(): string {
    return "";
  }

  /** The message given to `cancel()`, for subclasses. */
  protected get cancelMessage(): string | undefined {
    return this.#cancelMessage;
  }

  /**
   * What the `CancelledError` of a future cancelled without a message says
   * was cancelled: "Future" (a task says its name).
   */
  protected get cancelledName(): string {
    return "Future";
  }

  #makeCancelledError(): CancelledError {
    return new CancelledError(this.#cancelMessage, { what: this.cancelledName });
  }

  #scheduleCallbacks(): void {
    const cbs = this.#callbacks;
    if (cbs === null) return;
    this.#callbacks = null;
    for (let i = 0; i < cbs.length; i++) this.#loop.callSoon(cbs[i], this);
  }
}
