/**
 * `ensureFuture()`: turn anything awaitable into a `Future` of a loop.
 *
 * @module
 */
import type { AbstractEventLoop, Awaitable, CoroutineFunction } from "../abstract_event_loop.ts";
import { type Future, isFuture } from "../future.ts";
import { _getRunningLoop, getRunningLoop } from "../running.ts";

/** Options of `ensureFuture()`. */
export interface EnsureFutureOptions {
  /** The loop for the new future or task; the running loop when omitted. */
  loop?: AbstractEventLoop;
}

/**
 * asyncio's `ensure_future()`: a `Future` is returned as is (it must belong
 * to `options.loop` if given), an async function becomes a `Task`, and a
 * promise or other thenable is wrapped in a `Future` that follows it.
 *
 * @example
 * ```ts
 * import { ensureFuture, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * const fut = ensureFuture(Promise.resolve(1), { loop });
 * console.log(await loop.runUntilComplete(fut)); // 1
 * ```
 */
export function ensureFuture<T>(
  aw: Awaitable<T> | CoroutineFunction<T>,
  options?: EnsureFutureOptions,
): Future<T> {
  if (isFuture(aw)) {
    const loop = options?.loop;
    if (loop !== undefined && loop !== aw.getLoop()) {
      throw new Error(
        "The future belongs to a different loop than the one specified as the loop argument",
      );
    }
    return aw as Future<T>;
  }
  if (typeof aw === "function") {
    return (options?.loop ?? getRunningLoop()).createTask(aw as CoroutineFunction<T>);
  }
  if (aw !== null && typeof (aw as PromiseLike<T>)?.then === "function") {
    const loop = options?.loop ?? _getRunningLoop();
    if (loop === null) throw new Error("no running event loop");
    const fut = loop.createFuture<T>();
    const settle = (ok: boolean, v: unknown) => {
      if (fut.done()) return;
      try {
        if (ok) fut.setResult(v as T);
        else fut.setException(v);
      } catch (e) {
        if (!loop.isClosed()) throw e;
      }
    };
    (aw as PromiseLike<T>).then((v) => settle(true, v), (e) => settle(false, e));
    return fut;
  }
  throw new TypeError(
    `a Future, an async function or a promise is required, got ${aw === null ? "null" : typeof aw}`,
  );
}
