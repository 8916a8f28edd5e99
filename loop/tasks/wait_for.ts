/**
 * `waitFor()`: asyncio's `wait_for`, an operation with a deadline.
 *
 * @module
 */
import type { Awaitable, CoroutineFunction } from "../abstract_event_loop.ts";
import { ensureFuture } from "./ensure_future.ts";
import { TimeoutError } from "../errors.ts";
import { cancelOnAbort, checkSignal } from "../_signal.ts";

/** Options of `waitFor()`. */
export interface WaitForOptions {
  /** Aborting it cancels the operation; `waitFor()` then rejects with `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * Waits for `aw` at most `ms` milliseconds (`null`: no limit). At the
 * deadline `aw` is cancelled (a task's signal aborts) and `waitFor()`
 * rejects with `TimeoutError`. A plain promise cannot be cancelled: it is
 * only no longer waited for.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, sleep, TimeoutError, waitFor } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   try {
 *     await waitFor((signal) => sleep(1000, { signal }), 10);
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true
 *   }
 * });
 * ```
 */
export async function waitFor<T>(
  aw: Awaitable<T> | CoroutineFunction<T>,
  ms: number | null,
  options?: WaitForOptions,
): Promise<T> {
  if (ms !== null && typeof ms !== "number") {
    throw new TypeError(`waitFor() ms must be a number or null, got ${typeof ms}`);
  }
  if (ms !== null && !(ms >= 0)) throw new RangeError(`waitFor() ms must be >= 0, got ${ms}`);
  checkSignal(options?.signal, "waitFor");
  const fut = ensureFuture(aw);
  cancelOnAbort(fut, options?.signal);
  if (ms === null) return await fut;
  let timedOut = false;
  const timer = fut.getLoop().callLater(ms, () => {
    if (fut.cancel()) timedOut = true;
  });
  try {
    return await fut;
  } catch (e) {
    if (timedOut && fut.cancelled()) {
      throw new TimeoutError(`waitFor() timed out after ${ms} ms`, { cause: e });
    }
    throw e;
  } finally {
    timer.cancel();
  }
}
