/**
 * `AbstractEventLoop`: the methods every loop has (asyncio's
 * `events.AbstractEventLoop`), and the types of their signatures.
 *
 * @module
 */
import type { Callback, Handle, TimerHandle } from "./handle.ts";
import type { Future } from "./future.ts";
import type { Task } from "./task.ts";
import type { FileObj } from "../selectors/mod.ts";

/**
 * What an exception handler receives, shaped as asyncio's context dict:
 * `message` always, then whichever of the other keys apply.
 */
export interface ExceptionContext {
  /** What went wrong, e.g. `"Exception in callback tick()"`. */
  message: string;
  /** The error thrown, if any. */
  exception?: unknown;
  /** The future involved. */
  future?: Future<unknown>;
  /** The task involved. */
  task?: Task<unknown>;
  /** The handle whose callback threw. */
  handle?: Handle;
  /** The protocol involved. */
  protocol?: unknown;
  /** The transport involved. */
  transport?: unknown;
  /** The socket involved. */
  socket?: unknown;
  /** Where the object involved was made (debug mode). */
  sourceTraceback?: string;
  /** Where the handle being run was made (debug mode). */
  handleTraceback?: string;
  /** Anything else a caller adds. */
  [key: string]: unknown;
}

/** An exception handler: called as asyncio calls it, `(loop, context)`. */
export type ExceptionHandler = (loop: AbstractEventLoop, context: ExceptionContext) => void;

/**
 * What `createTask()` runs: an async function given the task's AbortSignal,
 * which `task.cancel()` aborts.
 */
export type CoroutineFunction<T> = (signal: AbortSignal) => PromiseLike<T> | T;

/** Options of `createTask()`. */
export interface TaskOptions {
  /** The task's name; `"Task-<n>"` when omitted. */
  name?: string;
}

/** Anything the loop can wait for: a `Future`, a `Task`, a promise or another thenable. */
export type Awaitable<T> = PromiseLike<T>;

/**
 * Options of a loop's constructor.
 */
export interface EventLoopOptions {
  /** Starts in debug mode: slow callbacks are reported and handles keep their stack. */
  debug?: boolean;
  /** The loop's clock in ms (default `performance.now`); inject one to fake time in tests. */
  clock?: () => number;
  /** The clock's resolution in ms; measured for the default clock, 0.001 for an injected one. */
  clockResolution?: number;
}

/**
 * The interface of every event loop (asyncio's `AbstractEventLoop`), in
 * milliseconds.
 *
 * @example
 * ```ts
 * import { type AbstractEventLoop, SelectorEventLoop } from "@aio/loop";
 * using loop: AbstractEventLoop = new SelectorEventLoop();
 * loop.callSoon(() => loop.stop());
 * await loop.runForever();
 * ```
 */
export interface AbstractEventLoop extends Disposable {
  /** Runs until `stop()` is called. */
  runForever(): Promise<void>;
  /** Runs until `future` is done; returns its result or throws its error. */
  runUntilComplete<T>(future: Awaitable<T> | CoroutineFunction<T>): Promise<T>;
  /** Stops the loop after the current iteration. */
  stop(): void;
  /** Whether the loop is running. */
  isRunning(): boolean;
  /** Whether the loop was closed. */
  isClosed(): boolean;
  /** Closes the loop; it must not be running. */
  close(): void;

  /** Calls `callback(...args)` on the next iteration. */
  callSoon<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle;
  /** Like `callSoon()`; also wakes the loop (asyncio's thread-safe variant). */
  callSoonThreadsafe<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle;
  /** Calls `callback(...args)` after `delayMs`. */
  callLater<A extends unknown[]>(delayMs: number, callback: Callback<A>, ...args: A): TimerHandle;
  /** Calls `callback(...args)` at loop time `when` (ms). */
  callAt<A extends unknown[]>(when: number, callback: Callback<A>, ...args: A): TimerHandle;
  /** The loop's monotonic clock, in ms. */
  time(): number;
  /** The resolution of `time()`, in ms. */
  readonly clockResolution: number;

  /** Makes a `Future` bound to this loop. */
  createFuture<T = unknown>(): Future<T>;
  /** Runs `coro` as a `Task`, starting on the loop's next iteration. */
  createTask<T>(coro: CoroutineFunction<T>, options?: TaskOptions): Task<T>;

  /** Calls `callback(...args)` whenever `fileobj` is readable; replaces an earlier reader. */
  addReader<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle;
  /** Stops watching `fileobj` for reading; returns whether it was watched. */
  removeReader(fileobj: FileObj): boolean;
  /** Calls `callback(...args)` whenever `fileobj` is writable; replaces an earlier writer. */
  addWriter<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle;
  /** Stops watching `fileobj` for writing; returns whether it was watched. */
  removeWriter(fileobj: FileObj): boolean;

  /** Sets the exception handler; `null` restores the default one. */
  setExceptionHandler(handler: ExceptionHandler | null): void;
  /** The exception handler, or `null` for the default one. */
  getExceptionHandler(): ExceptionHandler | null;
  /** The default handler: reports `context` through `console.error`. */
  defaultExceptionHandler(context: ExceptionContext): void;
  /** Calls the exception handler with `context`. */
  callExceptionHandler(context: ExceptionContext): void;
  /** Whether the loop is in debug mode. */
  getDebug(): boolean;
  /** Turns debug mode on or off. */
  setDebug(enabled: boolean): void;
  /** In debug mode, callbacks slower than this many ms are reported. */
  slowCallbackDuration: number;
}
