/**
 * `shield()`: asyncio's `shield`, protecting an operation from cancellation.
 *
 * @module
 */
import type { Awaitable, CoroutineFunction } from "../abstract_event_loop.ts";
import { ensureFuture } from "./ensure_future.ts";
import type { Future } from "../future.ts";
import { cancelOnAbort, checkSignal } from "../_signal.ts";

/** Options of `shield()`. */
export interface ShieldOptions {
  /** Aborting it cancels the outer future only; the inner operation goes on. */
  signal?: AbortSignal;
}

/**
 * Wraps `aw` in an outer `Future` whose cancellation does not reach `aw`.
 * If `aw` itself is cancelled, the outer future is cancelled too.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, shield, sleep } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   const inner = loop.createTask(() => sleep(10, { value: "saved" }));
 *   const outer = shield(inner);
 *   outer.cancel();
 *   console.log(await inner); // saved
 * });
 * ```
 */
export function shield<T>(
  aw: Awaitable<T> | CoroutineFunction<T>,
  options?: ShieldOptions,
): Future<T> {
  checkSignal(options?.signal, "shield");
  const inner = ensureFuture(aw);
  if (inner.done()) return inner;
  const outer = inner.getLoop().createFuture<T>();
  const onInnerDone = (f: Future<T>) => {
    if (outer.cancelled()) {
      if (!f.cancelled()) f.exception(); // mark it retrieved
      return;
    }
    if (f.cancelled()) outer.cancel();
    else if (f.exception() !== null) outer.setException(f.exception());
    else outer.setResult(f.result());
  };
  inner.addDoneCallback(onInnerDone);
  outer.addDoneCallback(() => {
    if (!inner.done()) inner.removeDoneCallback(onInnerDone);
  });
  cancelOnAbort(outer, options?.signal);
  return outer;
}
