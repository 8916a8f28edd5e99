/**
 * Child watchers (asyncio's `AbstractChildWatcher` family): they learn when
 * a child process the loop started exits, reap it, and call back on the
 * child's loop with its return code. Three kinds, picked by
 * `defaultChildWatcher()` or set with the policy's `setChildWatcher()`:
 *
 * - `PidfdChildWatcher` (Linux ≥ 5.4): a pidfd per child, watched by the
 *   loop's selector; `waitid(P_PIDFD)` reaps exactly that child.
 * - `KqueueChildWatcher` (macOS, BSD): `EVFILT_PROC`/`NOTE_EXIT` in a kqueue
 *   of its own, whose fd the loop's selector watches.
 * - `SigchldChildWatcher` (the fallback): a `SIGCHLD` listener
 *   (`Deno.addSignalListener`), then `waitpid(pid, WNOHANG)` for each child
 *   it watches, and only those.
 *
 * No watcher ever reaps a process it was not given (`waitpid(-1)` is never
 * called), so `Deno.Command` children keep working beside the loop's.
 *
 * @module
 */
import { killProcess } from "../../ffi/unix/kill.ts";
import { waitpidNoHang } from "../../ffi/unix/wait.ts";
import type { Callback, Handle } from "../handle.ts";
import { getRunningLoop } from "../running.ts";

/** Called on the child's loop when it exited: its pid and asyncio's return code. */
export type ChildExitCallback = (pid: number, returncode: number) => void;

/** What a child watcher needs of a loop. */
export interface ChildWatcherLoop {
  /** Calls `callback(...args)` whenever `fd` is readable. */
  addReader<A extends unknown[]>(fd: number, callback: Callback<A>, ...args: A): Handle;
  /** Stops watching `fd` for reading. */
  removeReader(fd: number): boolean;
  /** Queues `callback(...args)` on the loop and wakes it. */
  callSoonThreadsafe<A extends unknown[]>(callback: Callback<A>, ...args: A): unknown;
  /** Whether the loop is closed. */
  isClosed(): boolean;
}

/** Options of `addChildHandler()`. */
export interface AddChildHandlerOptions {
  /** The loop to call back on; the running loop when omitted. */
  loop?: ChildWatcherLoop;
}

/** One watched child. */
export interface ChildEntry {
  /** The child's pid. */
  readonly pid: number;
  /** The loop its callback runs on. */
  readonly loop: ChildWatcherLoop;
  /** What to call when it exited. */
  readonly callback: ChildExitCallback;
}

/** asyncio's return code for a child that was reaped by someone else. */
export const UNKNOWN_RETURNCODE = 255;

const SIGKILL = 9; // the same on Linux and macOS
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Kills the child `pid` (SIGKILL) and reaps it, waiting up to `maxMs` ms
 * (synchronously: a SIGKILLed process dies within microseconds). Returns
 * whether it was reaped. For children whose loop closes under them.
 */
export function killAndReap(pid: number, maxMs = 1000): boolean {
  try {
    killProcess(pid, SIGKILL);
  } catch {
    // Already gone: the reap below collects it.
  }
  for (let waited = 0;; waited++) {
    try {
      if (waitpidNoHang(pid) !== null) return true;
    } catch {
      return true; // ECHILD: not ours any more
    }
    if (waited >= maxMs) return false;
    Atomics.wait(sleepCell, 0, 0, 1);
  }
}

/**
 * What every child watcher does (asyncio's `AbstractChildWatcher`):
 * `addChildHandler(pid, callback)` watches a child, `removeChildHandler(pid)`
 * stops, `close()` retires the watcher. Subclasses only start and stop the
 * watching of one child (`_watch`/`_unwatch`) and report exits
 * (`_exited`).
 *
 * @example
 * ```ts ignore
 * const watcher = defaultChildWatcher();
 * watcher.addChildHandler(pid, (pid, returncode) => console.log(pid, returncode), { loop });
 * ```
 */
export abstract class AbstractChildWatcher implements Disposable {
  #children = new Map<number, ChildEntry>();
  #closed = false;

  /** The watcher's kind, for messages (`"pidfd"`, `"kqueue"`, `"sigchld"`). */
  abstract readonly name: string;

  /**
   * Watches the child `pid` (a child of this process, started by the
   * caller and not reaped yet): once it exits it is reaped and
   * `callback(pid, returncode)` runs on `options.loop` (the running loop by
   * default). A second handler for the same pid replaces the first.
   *
   * @example
   * ```ts ignore
   * watcher.addChildHandler(child.pid, (_pid, code) => console.log("exit", code), { loop });
   * ```
   */
  addChildHandler(
    pid: number,
    callback: ChildExitCallback,
    options?: AddChildHandlerOptions,
  ): void {
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
      throw new RangeError(`pid must be a positive integer (a child's pid), got ${pid}`);
    }
    if (typeof callback !== "function") {
      throw new TypeError(`addChildHandler() callback must be a function, got ${typeof callback}`);
    }
    if (this.#closed) throw new Error(`the ${this.name} child watcher is closed`);
    const loop = options?.loop ?? getRunningLoop() as unknown as ChildWatcherLoop;
    if (loop.isClosed()) throw new Error("Event loop is closed");
    const old = this.#children.get(pid);
    if (old !== undefined) {
      this.#children.delete(pid);
      this._unwatch(old);
    }
    const entry: ChildEntry = { pid, loop, callback };
    this.#children.set(pid, entry);
    try {
      this._watch(entry);
    } catch (e) {
      this.#children.delete(pid);
      throw e;
    }
  }

  /**
   * Stops watching `pid` (its exit will not be reported, nor reaped);
   * returns whether it was watched.
   *
   * @example
   * ```ts ignore
   * watcher.removeChildHandler(pid);
   * ```
   */
  removeChildHandler(pid: number): boolean {
    const entry = this.#children.get(pid);
    if (entry === undefined) return false;
    this.#children.delete(pid);
    this._unwatch(entry);
    this.#maybeRelease();
    return true;
  }

  /**
   * Whether the watcher takes new children (it is not closed).
   *
   * @example
   * ```ts ignore
   * if (!watcher.isActive()) setChildWatcher(null);
   * ```
   */
  isActive(): boolean {
    return !this.#closed;
  }

  /**
   * How many children are watched.
   *
   * @example
   * ```ts ignore
   * console.log(watcher.size);
   * ```
   */
  get size(): number {
    return this.#children.size;
  }

  /**
   * Retires the watcher: it takes no new children, but keeps watching
   * those it has until they exit, so none of them is left a zombie (it
   * holds nothing once it watches no child).
   *
   * @example
   * ```ts ignore
   * watcher.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    this.#maybeRelease();
  }

  /**
   * `using watcher = ...`: `close()`.
   *
   * @example
   * ```ts ignore
   * using watcher = new SigchldChildWatcher();
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * asyncio's `attach_loop()`: nothing to do here, as each child names its
   * loop. Kept for code ported from asyncio.
   *
   * @example
   * ```ts ignore
   * watcher.attachLoop(loop);
   * ```
   */
  attachLoop(_loop: ChildWatcherLoop | null): void {}

  /**
   * Called by a closing loop: its children still running are killed
   * (SIGKILL) and reaped, so no zombie is left; their callbacks never run.
   *
   * @example
   * ```ts ignore
   * watcher.detachLoop(loop); // SelectorEventLoop.close() does this
   * ```
   */
  detachLoop(loop: ChildWatcherLoop): void {
    for (const entry of [...this.#children.values()]) {
      if (entry.loop !== loop) continue;
      this.#children.delete(entry.pid);
      this._unwatch(entry);
      killAndReap(entry.pid);
    }
    this.#maybeRelease();
  }

  /**
   * The entry of `pid`, if it is watched.
   * @internal
   */
  protected _entry(pid: number): ChildEntry | undefined {
    return this.#children.get(pid);
  }

  /**
   * The watched entries.
   * @internal
   */
  protected _entries(): IterableIterator<ChildEntry> {
    return this.#children.values();
  }

  /**
   * Reports that `entry`'s child exited (it was reaped): forgets it and
   * calls its callback, at once when `direct` (the caller runs on the
   * child's loop), else through `callSoonThreadsafe`.
   * @internal
   */
  protected _exited(entry: ChildEntry, returncode: number, direct: boolean): void {
    if (this.#children.get(entry.pid) !== entry) return;
    this.#children.delete(entry.pid);
    this._unwatch(entry);
    this.#maybeRelease();
    if (entry.loop.isClosed()) return;
    if (direct) entry.callback(entry.pid, returncode);
    else entry.loop.callSoonThreadsafe(entry.callback, entry.pid, returncode);
  }

  /**
   * Starts watching `entry`'s child; may throw (nothing is kept then).
   * @internal
   */
  protected abstract _watch(entry: ChildEntry): void;
  /**
   * Stops watching `entry`'s child (it exited, or its handler was removed).
   * @internal
   */
  protected abstract _unwatch(entry: ChildEntry): void;
  /**
   * Releases what the watcher holds (an fd, a signal listener) whenever it
   * watches no child: nothing outlives the last child (Deno's sanitizers
   * and the fd-leak checks see nothing), and `_watch()` takes it again.
   * @internal
   */
  protected _release(): void {}

  #maybeRelease(): void {
    if (this.#children.size === 0) this._release();
  }
}
