/**
 * `sleep()`: asyncio's `sleep`, on the running loop's timers.
 *
 * @module
 */
import { Future } from "../future.ts";
import { getRunningLoop } from "../running.ts";
import { cancelOnAbort, checkSignal, setResultUnlessCancelled } from "../_signal.ts";

/** Options of `sleep()`. */
export interface SleepOptions<T> {
  /** What the sleep resolves to (asyncio's `result`). */
  value?: T;
  /** Aborting it cancels the sleep: it then rejects with `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * A `Future` that resolves to `options.value` after `ms` milliseconds of
 * the running loop's clock. Pass a task's signal to make it cancellable.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, sleep } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async (signal) => {
 *   const v = await sleep(10, { value: "rested", signal });
 *   console.log(v); // rested
 * });
 * ```
 */
export function sleep<T = undefined>(ms: number, options?: SleepOptions<T>): Future<T> {
  if (typeof ms !== "number") throw new TypeError(`sleep() ms must be a number, got ${typeof ms}`);
  if (!(ms >= 0)) throw new RangeError(`sleep() ms must be >= 0, got ${ms}`);
  checkSignal(options?.signal, "sleep");
  const loop = getRunningLoop();
  const fut = new Future<T>({ loop });
  const timer = loop.callLater(ms, setResultUnlessCancelled, fut, options?.value as T);
  fut.addDoneCallback(() => timer.cancel());
  cancelOnAbort(fut, options?.signal);
  return fut;
}
