/**
 * asyncio's `Task`: a `Future` that runs an async function on the loop.
 *
 * @module
 */
import type { AbstractEventLoop, CoroutineFunction, TaskOptions } from "./abstract_event_loop.ts";
import { CancelledError } from "./errors.ts";
import { Future } from "./future.ts";
import { _registerTask } from "./all_tasks.ts";
import { getRunningLoop } from "./running.ts";

/** Options of `new Task()`: a name and the loop. */
export interface TaskConstructorOptions extends TaskOptions {
  /** The loop to run on; the running loop when omitted. */
  loop?: AbstractEventLoop;
}

let taskCounter = 0;
let startTask: (task: Task<unknown>) => void;

function isAbortError(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === "AbortError";
}

/**
 * asyncio's `Task`. The async function starts on the loop's next iteration
 * and gets an AbortSignal; `cancel()` aborts that signal with a
 * `CancelledError`. The task ends cancelled when the function rejects with a
 * `CancelledError`, or, after `cancel()`, with the signal's reason or an
 * `AbortError`. A function that returns normally despite the cancel gives
 * the task its result, as a coroutine that swallows `CancelledError` does.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * const task = loop.createTask(async () => 6 * 7, { name: "answer" });
 * console.log(await loop.runUntilComplete(task)); // 42
 * ```
 */
export class Task<T = unknown> extends Future<T> {
  #coro: CoroutineFunction<T>;
  #name: string;
  #controller = new AbortController();
  #started = false;
  #mustCancel = false;
  #cancelMsg: string | undefined = undefined;
  #cancelRequests = 0;

  /** Schedules `coro` to start on the loop's next iteration. */
  constructor(coro: CoroutineFunction<T>, options?: TaskConstructorOptions) {
    if (typeof coro !== "function") {
      const what = coro !== null && typeof (coro as { then?: unknown })?.then === "function"
        ? "a promise (it has started already)"
        : typeof coro;
      throw new TypeError(
        `a Task runs an async function (signal) => Promise, got ${what}`,
      );
    }
    const loop = options?.loop ?? getRunningLoop();
    super({ loop });
    this.#coro = coro;
    const name = options?.name;
    this.#name = name === undefined ? `Task-${++taskCounter}` : String(name);
    loop.callSoon(startTask, this as Task<unknown>);
    _registerTask(this as Task<unknown>, loop); // for allTasks(), which run() cancels at its end
  }

  static {
    startTask = (t) => t.#start();
  }

  #start(): void {
    if (this.done()) return;
    this.#started = true;
    if (this.#mustCancel) {
      super.cancel(this.#cancelMsg);
      return;
    }
    let r: PromiseLike<T> | T;
    try {
      r = this.#coro(this.#controller.signal);
    } catch (e) {
      this.#finish(false, e);
      return;
    }
    if (r !== null && typeof (r as PromiseLike<T>)?.then === "function") {
      (r as PromiseLike<T>).then((v) => this.#finish(true, v), (e) => this.#finish(false, e));
    } else {
      this.#finish(true, r);
    }
  }

  #finish(ok: boolean, value: unknown): void {
    if (this.done()) return;
    try {
      if (ok) {
        super.setResult(value as T);
        return;
      }
      const signal = this.#controller.signal;
      if (value instanceof CancelledError) {
        super.cancel(value.cancelMessage || this.#cancelMsg);
      } else if (signal.aborted && (value === signal.reason || isAbortError(value))) {
        super.cancel(this.#cancelMsg);
      } else {
        super.setException(value);
      }
    } catch (e) {
      // The loop was closed under a running task: its callbacks cannot be scheduled.
      if (!this.getLoop().isClosed()) throw e;
    }
  }

  /**
   * Requests cancellation: aborts the task's signal (or, before it started,
   * keeps the function from running). Returns `false` if the task is done.
   *
   * @example
   * ```ts
   * import { CancelledError, SelectorEventLoop, sleep } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const task = loop.createTask((signal) => sleep(10_000, { signal }));
   * loop.callLater(10, () => task.cancel("enough"));
   * try {
   *   await loop.runUntilComplete(task);
   * } catch (e) {
   *   console.log(e instanceof CancelledError, task.cancelled()); // true true
   * }
   * ```
   */
  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    this.#cancelRequests++;
    this.#cancelMsg = msg;
    if (!this.#started) {
      this.#mustCancel = true;
    } else if (!this.#controller.signal.aborted) {
      this.#controller.abort(new CancelledError(msg, { what: this.#name }));
    }
    return true;
  }

  /**
   * How many cancellation requests are pending (asyncio's `cancelling()`).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const task = loop.createTask(async () => {});
   * task.cancel();
   * console.log(task.cancelling()); // 1
   * ```
   */
  cancelling(): number {
    return this.#cancelRequests;
  }

  /**
   * Takes back one cancellation request; returns how many remain. The
   * signal, once aborted, stays aborted.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const task = loop.createTask(async () => {});
   * task.cancel();
   * console.log(task.uncancel()); // 0
   * ```
   */
  uncancel(): number {
    if (this.#cancelRequests > 0) {
      this.#cancelRequests--;
      if (this.#cancelRequests === 0) this.#mustCancel = false;
    }
    return this.#cancelRequests;
  }

  /**
   * Tasks are finished by their function: `setResult()` always throws.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const task = loop.createTask(async () => 1);
   * try { task.setResult(2); } catch (e) { console.log((e as Error).message); }
   * ```
   */
  override setResult(_result: T): never {
    throw new Error("Task does not support setResult()");
  }

  /**
   * Tasks are finished by their function: `setException()` always throws.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const task = loop.createTask(async () => 1);
   * try { task.setException(new Error()); } catch (e) { console.log((e as Error).message); }
   * ```
   */
  override setException(_exception: unknown): never {
    throw new Error("Task does not support setException()");
  }

  /**
   * The task's name.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.createTask(async () => {}, { name: "worker" }).getName()); // worker
   * ```
   */
  getName(): string {
    return this.#name;
  }

  /**
   * Renames the task.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const task = loop.createTask(async () => {});
   * task.setName("renamed");
   * ```
   */
  setName(name: string): void {
    this.#name = String(name);
  }

  /**
   * The async function the task runs.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const main = async () => {};
   * console.log(loop.createTask(main).getCoro() === main); // true
   * ```
   */
  getCoro(): CoroutineFunction<T> {
    return this.#coro;
  }

  /** A task's `CancelledError` without a message says its name was cancelled. */
  protected override get cancelledName(): string {
    return this.#name;
  }

  /** Adds the name and the function to `toString()`. */
  protected override describeExtra(): string {
    return ` name=${JSON.stringify(this.#name)} coro=${this.#coro.name || "<anonymous>"}`;
  }
}

/**
 * Runs `coro` as a `Task` on the running loop (asyncio's `create_task()`).
 *
 * @example
 * ```ts
 * import { createTask, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   const child = createTask(async () => "child done");
 *   console.log(await child);
 * });
 * ```
 */
export function createTask<T>(coro: CoroutineFunction<T>, options?: TaskOptions): Task<T> {
  return getRunningLoop().createTask(coro, options);
}
