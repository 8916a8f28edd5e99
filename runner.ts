/**
 * `run()` and `Runner`: asyncio's `asyncio.run()` and `asyncio.Runner`
 * (Python 3.11+). They make a loop, run an async function on it, cancel
 * the tasks it left behind and close the loop.
 *
 * This file sits in `loop/` but on the policy layer: with no `loopFactory`
 * the loop comes from the current policy (`../policy.ts`), as asyncio's
 * `runners.py` uses `events.new_event_loop()`.
 *
 * @module
 */
import type { AbstractEventLoop, CoroutineFunction } from "./loop/abstract_event_loop.ts";
import { allTasks } from "./loop/all_tasks.ts";
import { gather } from "./loop/tasks/gather.ts";
import { _getRunningLoop } from "./loop/running.ts";
import { CancelledError } from "./loop/errors.ts";
import type { Task } from "./loop/task.ts";
import { killProcess } from "./ffi/unix/kill.ts";
import { signalNumber } from "./ffi/unix/signals.ts";
import { type EventLoopFactory, newEventLoop, setEventLoop } from "./policy.ts";

/** Options of `new Runner()` and `run()`. */
export interface RunnerOptions {
  /** Sets the loop's debug mode; the loop's own default when omitted. */
  debug?: boolean;
  /** Makes the loop; when omitted the current policy's `newEventLoop()` does. */
  loopFactory?: EventLoopFactory;
  /**
   * Whether Ctrl-C (SIGINT) cancels the main task while `run()` runs, as
   * asyncio's runner does (default `true`). Pass `false` when the program
   * handles SIGINT itself (asyncio skips it when a SIGINT handler is set).
   */
  handleSigint?: boolean;
}

/** Options of `run()`: those of `Runner`. */
export type RunOptions = RunnerOptions;

const CREATED = 0, INITIALIZED = 1, CLOSED = 2;

/** Cancels `loop`'s unfinished tasks and waits for them (asyncio's `_cancel_all_tasks`). */
async function cancelAllTasks(loop: AbstractEventLoop): Promise<void> {
  if (loop.isClosed()) return; // closed by hand: its tasks can no longer run
  const tasks = [...allTasks(loop)];
  if (tasks.length === 0) return;
  for (const task of tasks) task.cancel();
  // A task whose function ignores its signal is waited for until it ends by itself.
  await loop.runUntilComplete(gather(tasks, { returnExceptions: true }));
  for (const task of tasks) {
    if (task.cancelled()) continue;
    try {
      task.result();
    } catch (exception) {
      loop.callExceptionHandler({
        message: "unhandled exception during run() shutdown",
        exception,
        task,
      });
    }
  }
}

function checkMain(main: unknown, method: string): void {
  if (typeof main !== "function") {
    const what = main !== null && typeof (main as { then?: unknown })?.then === "function"
      ? "a promise (it has started already: pass the async function itself)"
      : main === null
      ? "null"
      : typeof main;
    throw new TypeError(`${method} takes an async function (signal) => Promise, got ${what}`);
  }
}

/**
 * asyncio's `Runner`: one loop for several `run()` calls, closed by
 * `close()` (or `await using`). The loop is made on first use; with no
 * `loopFactory` it comes from the current policy and is also set as the
 * current loop (`setEventLoop()`) until `close()`, as asyncio does.
 * `close()` cancels the tasks still pending, waits for them and closes the
 * loop.
 *
 * Ctrl-C, as asyncio's runner handles it: while `run()` runs, a SIGINT
 * listener (`Deno.addSignalListener`) is in place. The first SIGINT cancels
 * the main task; if the task then ends cancelled, `run()` rejects with
 * `Deno.errors.Interrupted` (asyncio's `KeyboardInterrupt`) rather than
 * `CancelledError`. A second SIGINT removes the listener and raises SIGINT
 * again, so Deno's default action ends the process (asyncio raises
 * `KeyboardInterrupt` from the handler). `handleSigint: false` turns this off.
 *
 * @example
 * ```ts
 * import { Runner, sleep } from "@aio/loop";
 * await using runner = new Runner({ debug: false });
 * const a = await runner.run(async (signal) => {
 *   await sleep(5, { signal });
 *   return 1;
 * });
 * const b = await runner.run(async () => a + 1); // same loop
 * console.log(b); // 2
 * ```
 */
export class Runner implements Disposable, AsyncDisposable {
  #state = CREATED;
  #debug: boolean | undefined;
  #loopFactory: EventLoopFactory | undefined;
  #loop: AbstractEventLoop | null = null;
  #setEventLoop = false;
  #handleSigint: boolean;
  #interrupts = 0;

  /** Makes a runner; the loop itself is made by the first `run()` or `getLoop()`. */
  constructor(options?: RunnerOptions) {
    const debug = options?.debug;
    if (debug !== undefined && typeof debug !== "boolean") {
      throw new TypeError(`debug must be a boolean, got ${typeof debug}`);
    }
    const factory = options?.loopFactory;
    if (factory !== undefined && typeof factory !== "function") {
      throw new TypeError(
        `loopFactory must be a function returning a loop, got ${
          factory === null ? "null" : typeof factory
        }`,
      );
    }
    const handleSigint = options?.handleSigint;
    if (handleSigint !== undefined && typeof handleSigint !== "boolean") {
      throw new TypeError(`handleSigint must be a boolean, got ${typeof handleSigint}`);
    }
    this.#debug = debug;
    this.#loopFactory = factory;
    this.#handleSigint = handleSigint ?? true;
  }

  /**
   * Runs `main(signal)` as a task on the runner's loop and returns its
   * result, or rejects with its error (`CancelledError` if it was
   * cancelled). Rejects if any loop is running already, or if the runner
   * is closed.
   *
   * @example
   * ```ts
   * import { Runner } from "@aio/loop";
   * await using runner = new Runner();
   * console.log(await runner.run(async () => "done")); // done
   * ```
   */
  async run<T>(main: CoroutineFunction<T>): Promise<T> {
    if (_getRunningLoop() !== null) {
      throw new Error(
        "Runner.run() cannot be called from a running event loop: " +
          "await the function, or start it with createTask()",
      );
    }
    checkMain(main, "Runner.run()");
    const loop = this.#lazyInit();
    const task = loop.createTask(main);
    const removeListener = this.#handleSigint ? this.#listenForSigint(loop, task) : null;
    this.#interrupts = 0;
    try {
      return await loop.runUntilComplete(task);
    } catch (e) {
      // asyncio: a main task cancelled by SIGINT alone ends in KeyboardInterrupt.
      if (e instanceof CancelledError && this.#interrupts > 0 && task.uncancel() === 0) {
        throw new Deno.errors.Interrupted(
          "KeyboardInterrupt: the main task was cancelled by SIGINT",
          {
            cause: e,
          },
        );
      }
      throw e;
    } finally {
      removeListener?.();
    }
  }

  // asyncio's Runner._on_sigint: the first SIGINT cancels main, the second one interrupts.
  #listenForSigint(loop: AbstractEventLoop, task: Task<unknown>): () => void {
    let listening = true;
    const remove = (): void => {
      if (!listening) return;
      listening = false;
      Deno.removeSignalListener("SIGINT", listener);
    };
    const listener = (): void => {
      this.#interrupts++;
      if (this.#interrupts === 1 && !task.done()) {
        task.cancel();
        if (!loop.isClosed()) loop.callSoonThreadsafe(() => {}); // wake a parked loop
        return;
      }
      // Without a listener Deno's default action is back: raising SIGINT again ends us.
      remove();
      try {
        killProcess(Deno.pid, signalNumber("SIGINT")!);
      } catch {
        Deno.exit(130);
      }
    };
    Deno.addSignalListener("SIGINT", listener);
    return remove;
  }

  /**
   * The runner's loop, made now if it wasn't yet. Throws once the runner
   * is closed.
   *
   * @example
   * ```ts
   * import { Runner } from "@aio/loop";
   * await using runner = new Runner();
   * console.log(runner.getLoop().isClosed()); // false
   * ```
   */
  getLoop(): AbstractEventLoop {
    return this.#lazyInit();
  }

  /**
   * Cancels the loop's pending tasks, waits for them to end, unsets the
   * current loop (if the runner set it) and closes the loop. Errors of
   * those tasks go to the loop's exception handler. A runner whose loop
   * was never made just becomes closed; closing twice does nothing.
   * Rejects if the loop is running.
   *
   * @example
   * ```ts
   * import { Runner } from "@aio/loop";
   * const runner = new Runner();
   * await runner.run(async () => {});
   * await runner.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#state === CREATED) this.#state = CLOSED; // asyncio leaves it usable; we don't
    if (this.#state !== INITIALIZED) return;
    const loop = this.#loop!;
    if (loop.isRunning()) {
      throw new Error("Runner.close() cannot be called while its loop is running");
    }
    try {
      await cancelAllTasks(loop);
    } finally {
      this.#finish(loop);
    }
  }

  /**
   * `await using runner = new Runner()`: `close()`.
   *
   * @example
   * ```ts
   * import { Runner } from "@aio/loop";
   * {
   *   await using runner = new Runner();
   *   await runner.run(async () => {});
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * `using runner = new Runner()`: cancels the pending tasks (their
   * signals abort) *without* waiting for them, then closes the loop. Prefer
   * `await using`, which lets them finish. Throws if the loop is running.
   *
   * @example
   * ```ts
   * import { Runner } from "@aio/loop";
   * {
   *   using runner = new Runner();
   *   await runner.run(async () => {});
   * } // closed here
   * ```
   */
  [Symbol.dispose](): void {
    if (this.#state === CREATED) this.#state = CLOSED;
    if (this.#state !== INITIALIZED) return;
    const loop = this.#loop!;
    if (loop.isRunning()) {
      throw new Error("Runner cannot be disposed of while its loop is running");
    }
    try {
      // Cancel before closing: the abort listeners may still schedule callbacks on the loop.
      for (const task of allTasks(loop)) task.cancel();
    } finally {
      this.#finish(loop);
    }
  }

  #finish(loop: AbstractEventLoop): void {
    this.#loop = null;
    this.#state = CLOSED;
    try {
      if (this.#setEventLoop) setEventLoop(null);
    } finally {
      loop.close();
    }
  }

  #lazyInit(): AbstractEventLoop {
    if (this.#state === CLOSED) throw new Error("Runner is closed");
    if (this.#loop !== null) return this.#loop;
    let loop: AbstractEventLoop;
    if (this.#loopFactory === undefined) {
      loop = newEventLoop();
      try {
        // As asyncio: only a loop from the policy becomes the current loop.
        setEventLoop(loop);
      } catch (e) {
        loop.close();
        throw e;
      }
      this.#setEventLoop = true;
    } else {
      loop = this.#loopFactory();
      if (typeof loop?.runUntilComplete !== "function" || typeof loop.close !== "function") {
        throw new TypeError(
          `loopFactory must return an event loop, returned ${loop === null ? "null" : typeof loop}`,
        );
      }
    }
    if (this.#debug !== undefined) loop.setDebug(this.#debug);
    this.#loop = loop;
    this.#state = INITIALIZED;
    return loop;
  }
}

/**
 * Runs `main(signal)` on a new loop and returns its result (asyncio's
 * `asyncio.run()`): makes the loop (`options.loopFactory`, or the current
 * policy's), runs `main` as a task while the loop runs, then cancels the
 * tasks left pending, waits for them and closes the loop, whether `main`
 * succeeded or not. Rejects at once if a loop is running already.
 *
 * @example
 * ```ts
 * import { createTask, PollSelector, run, SelectorEventLoop, sleep } from "@aio/loop";
 * const answer = await run(async (signal) => {
 *   createTask((s) => sleep(60_000, { signal: s })); // cancelled when main returns
 *   await sleep(5, { signal });
 *   return 42;
 * }, { loopFactory: () => new SelectorEventLoop(new PollSelector()) });
 * console.log(answer); // 42
 * ```
 */
export async function run<T>(main: CoroutineFunction<T>, options?: RunOptions): Promise<T> {
  if (_getRunningLoop() !== null) {
    throw new Error(
      "run() cannot be called from a running event loop: " +
        "await the function, or start it with createTask()",
    );
  }
  checkMain(main, "run()");
  await using runner = new Runner(options);
  return await runner.run(main);
}
