/**
 * `gather()`: asyncio's `gather`, waiting for many operations at once.
 *
 * @module
 */
import type { Awaitable, CoroutineFunction } from "../abstract_event_loop.ts";
import { ensureFuture } from "./ensure_future.ts";
import { CancelledError } from "../errors.ts";
import { Future, type FutureOptions } from "../future.ts";
import { getRunningLoop } from "../running.ts";
import { cancelOnAbort, checkSignal } from "../_signal.ts";

/** Options of `gather()`. */
export interface GatherOptions {
  /** Put errors (and `CancelledError`s) in the results instead of failing at the first one. */
  returnExceptions?: boolean;
  /** Aborting it cancels the gathering future, and so every child. */
  signal?: AbortSignal;
}

/** What `gather()` takes: futures, tasks, promises or async functions (run as tasks). */
export type Gatherable = Awaitable<unknown> | CoroutineFunction<unknown>;

/** The results of `gather(aws)`: each child's value, in order. */
export type GatherResults<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: T[K] extends CoroutineFunction<infer R> ? Awaited<R> : Awaited<T[K]>;
};

class GatheringFuture<T> extends Future<T> {
  #children: Future<unknown>[];
  cancelRequested = false;

  constructor(children: Future<unknown>[], options: FutureOptions) {
    super(options);
    this.#children = children;
  }

  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let ret = false;
    for (const child of this.#children) if (child.cancel(msg)) ret = true;
    if (ret) this.cancelRequested = true;
    return ret;
  }
}

function outcome(f: Future<unknown>): [boolean, unknown] {
  try {
    return [true, f.result()];
  } catch (e) {
    return [false, e];
  }
}

/**
 * A `Future` of every result of `aws`, in order. By default the first error
 * (or cancelled child) fails it at once, the others running on; with
 * `returnExceptions` errors take their place among the results. Cancelling
 * the returned future cancels every child.
 *
 * @example
 * ```ts
 * import { gather, SelectorEventLoop, sleep } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   const [a, b] = await gather([sleep(20, { value: "a" }), async () => "b"]);
 *   console.log(a, b); // a b
 * });
 * ```
 */
export function gather<const T extends readonly Gatherable[]>(
  aws: T,
  options?: GatherOptions,
): Future<GatherResults<T>> {
  if (aws === null || typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`gather() takes an array of awaitables, got ${typeof aws}`);
  }
  checkSignal(options?.signal, "gather");
  const returnExceptions = options?.returnExceptions ?? false;
  const list = [...aws];
  if (list.length === 0) {
    const fut = getRunningLoop().createFuture<GatherResults<T>>();
    fut.setResult([] as unknown as GatherResults<T>);
    return fut;
  }
  const byArg = new Map<unknown, Future<unknown>>();
  const children: Future<unknown>[] = [];
  let loop = undefined;
  let outer: GatheringFuture<GatherResults<T>> | null = null;
  let nfuts = 0, nfinished = 0;

  const onChildDone = (fut: Future<unknown>) => {
    nfinished++;
    if (outer === null || outer.done()) {
      if (!fut.cancelled()) fut.exception(); // mark it retrieved
      return;
    }
    if (!returnExceptions) {
      const [ok, value] = outcome(fut);
      if (!ok) {
        outer.setException(value);
        return;
      }
    }
    if (nfinished === nfuts) {
      const results = children.map((f) => outcome(f)[1]);
      if (outer.cancelRequested) {
        outer.setException(new CancelledError(undefined, { what: "gather()" }));
      } else outer.setResult(results as unknown as GatherResults<T>);
    }
  };

  for (const arg of list) {
    let fut = byArg.get(arg);
    if (fut === undefined) {
      fut = ensureFuture(arg, { loop });
      loop ??= fut.getLoop();
      nfuts++;
      byArg.set(arg, fut);
      fut.addDoneCallback(onChildDone);
    }
    children.push(fut);
  }
  outer = new GatheringFuture<GatherResults<T>>(children, { loop });
  cancelOnAbort(outer, options?.signal);
  return outer;
}
