/**
 * `timeout()` and `timeoutAt()`: asyncio's timeout scopes.
 *
 * @module
 */
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import { CancelledError, TimeoutError } from "../errors.ts";
import type { Handle } from "../handle.ts";
import { getRunningLoop } from "../running.ts";
import { checkSignal } from "../_signal.ts";

/** Options of `timeout()` and `timeoutAt()`. */
export interface TimeoutOptions {
  /** An outer signal (a task's): aborting it aborts the scope's signal too. */
  signal?: AbortSignal;
}

/** The body of a timeout scope: gets the scope's signal and the scope. */
export type TimeoutBody<T> = (signal: AbortSignal, scope: Timeout) => PromiseLike<T> | T;

const ACTIVE = 0, EXPIRED = 1, FINISHED = 2;

/**
 * A running timeout scope (asyncio's `Timeout`): its deadline can be read
 * and moved while the body runs.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, sleep, timeout } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(() =>
 *   timeout(50, async (signal, scope) => {
 *     scope.reschedule(loop.time() + 100); // more time
 *     await sleep(60, { signal });
 *   })
 * );
 * ```
 */
export class Timeout {
  #loop: AbstractEventLoop;
  #when: number | null = null;
  #timer: Handle | null = null;
  #controller = new AbortController();
  #state = ACTIVE;

  /** Made by `timeout()`/`timeoutAt()`. */
  constructor(loop: AbstractEventLoop) {
    this.#loop = loop;
  }

  /**
   * The scope's own signal, aborted (with a `CancelledError`) at the deadline.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, timeout } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * await loop.runUntilComplete(() => timeout(50, (_s, scope) => scope.signal.aborted));
   * ```
   */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * The deadline in loop time (ms), or `null` for none.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, timeout } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * await loop.runUntilComplete(() => timeout(null, (_s, scope) => scope.when())); // null
   * ```
   */
  when(): number | null {
    return this.#when;
  }

  /**
   * Moves the deadline to loop time `when` (`null`: none). A deadline in
   * the past expires the scope on the loop's next iteration.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, timeout } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * await loop.runUntilComplete(() =>
   *   timeout(10, (_s, scope) => scope.reschedule(null))
   * );
   * ```
   */
  reschedule(when: number | null): void {
    if (when !== null && (typeof when !== "number" || Number.isNaN(when))) {
      throw new TypeError(`reschedule() when must be a number of ms or null, got ${when}`);
    }
    if (this.#state !== ACTIVE) {
      throw new Error(
        `Cannot change state of ${this.#state === EXPIRED ? "expired" : "finished"} Timeout`,
      );
    }
    this.#timer?.cancel();
    this.#timer = null;
    this.#when = when;
    if (when === null) return;
    this.#timer = when <= this.#loop.time()
      ? this.#loop.callSoon(() => this.#expire())
      : this.#loop.callAt(when, () => this.#expire());
  }

  /**
   * Whether the deadline passed and the scope's signal was aborted.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, timeout } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * await loop.runUntilComplete(() => timeout(10, (_s, scope) => scope.expired())); // false
   * ```
   */
  expired(): boolean {
    return this.#state === EXPIRED;
  }

  #expire(): void {
    if (this.#state !== ACTIVE) return;
    this.#state = EXPIRED;
    this.#timer = null;
    this.#controller.abort(new CancelledError("timeout"));
  }

  /** Ends the scope: no more expiry. */
  finish(): void {
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#state === ACTIVE) this.#state = FINISHED;
  }
}

function isAbort(e: unknown, reason: unknown): boolean {
  return e === reason || e instanceof CancelledError ||
    (typeof e === "object" && e !== null && (e as { name?: unknown }).name === "AbortError");
}

/**
 * Runs `body(signal, scope)` with a deadline at loop time `when` (ms;
 * `null`: none). At the deadline `signal` aborts; if the body then fails
 * because of it, `timeoutAt()` rejects with `TimeoutError`. A body that
 * finishes anyway keeps its result.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, sleep, timeoutAt } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(() =>
 *   timeoutAt(loop.time() + 50, (signal) => sleep(10, { signal }))
 * );
 * ```
 */
export async function timeoutAt<T>(
  when: number | null,
  body: TimeoutBody<T>,
  options?: TimeoutOptions,
): Promise<T> {
  if (typeof body !== "function") {
    throw new TypeError(
      `timeout() body must be a function (signal, scope) => ..., got ${typeof body}`,
    );
  }
  checkSignal(options?.signal, "timeout");
  const scope = new Timeout(getRunningLoop());
  scope.reschedule(when);
  const outer = options?.signal;
  const signal = outer === undefined ? scope.signal : AbortSignal.any([outer, scope.signal]);
  try {
    return await body(signal, scope);
  } catch (e) {
    if (scope.expired() && !outer?.aborted && isAbort(e, scope.signal.reason)) {
      throw new TimeoutError("timeout expired", { cause: e });
    }
    throw e;
  } finally {
    scope.finish();
  }
}

/**
 * `timeoutAt(loop.time() + ms, body)`: runs `body` with a deadline `ms`
 * from now (`null`: none), rejecting with `TimeoutError` if it fails
 * because the deadline passed.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, sleep, timeout, TimeoutError } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   try {
 *     await timeout(10, (signal) => sleep(1000, { signal }));
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true
 *   }
 * });
 * ```
 */
export function timeout<T>(
  ms: number | null,
  body: TimeoutBody<T>,
  options?: TimeoutOptions,
): Promise<T> {
  if (ms !== null && typeof ms !== "number") {
    return Promise.reject(new TypeError(`timeout() ms must be a number or null, got ${typeof ms}`));
  }
  if (ms !== null && !(ms >= 0)) {
    return Promise.reject(new RangeError(`timeout() ms must be >= 0, got ${ms}`));
  }
  let loop: AbstractEventLoop;
  try {
    loop = getRunningLoop();
  } catch (e) {
    return Promise.reject(e);
  }
  return timeoutAt(ms === null ? null : loop.time() + ms, body, options);
}
