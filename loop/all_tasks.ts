/**
 * `allTasks()`: the tasks of a loop that are not done yet (asyncio's
 * `all_tasks()`). Every `Task` registers itself here when it is made.
 *
 * @module
 */
import type { AbstractEventLoop } from "./abstract_event_loop.ts";
import type { Task } from "./task.ts";
import { getRunningLoop } from "./running.ts";

/** Sweep done tasks out once a loop's list reaches this length (then twice the live count). */
const MIN_SWEEP_SIZE = 64;

interface Registry {
  tasks: Task<unknown>[];
  sweepAt: number;
}

// Keyed weakly by loop, so a dropped loop takes its registry with it. Done tasks are swept out
// lazily (CPython keeps a WeakSet): no done callback per task, and a push plus an amortized
// compaction costs less than a Set's add and delete (measured in docs/decisions.md).
const registries = new WeakMap<AbstractEventLoop, Registry>();

/** Drops the done tasks, keeping order; returns the live count. */
function sweep(reg: Registry): number {
  const tasks = reg.tasks;
  let n = 0;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    if (!t.done()) tasks[n++] = t;
  }
  tasks.length = n;
  reg.sweepAt = Math.max(MIN_SWEEP_SIZE, 2 * n);
  return n;
}

/** Records a new task of `loop`; the `Task` constructor calls it. */
export function _registerTask(task: Task<unknown>, loop: AbstractEventLoop): void {
  let reg = registries.get(loop);
  if (reg === undefined) {
    reg = { tasks: [], sweepAt: MIN_SWEEP_SIZE };
    registries.set(loop, reg);
  }
  if (reg.tasks.push(task) >= reg.sweepAt) sweep(reg);
}

/**
 * The tasks of `loop` (the running loop when omitted) that are not done,
 * as asyncio's `all_tasks()`. Throws `Error("no running event loop")` when
 * `loop` is omitted and no loop is running. A new `Set` on each call.
 *
 * @example
 * ```ts
 * import { allTasks, SelectorEventLoop, sleep } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   const child = loop.createTask((signal) => sleep(10, { signal }));
 *   console.log(allTasks().size); // 2: the main task and the child
 *   await child;
 * });
 * ```
 */
export function allTasks(loop?: AbstractEventLoop): Set<Task<unknown>> {
  if (loop !== undefined && (typeof loop !== "object" || loop === null)) {
    throw new TypeError(
      `allTasks() takes an event loop, got ${loop === null ? "null" : typeof loop}`,
    );
  }
  const reg = registries.get(loop ?? getRunningLoop());
  if (reg === undefined) return new Set();
  sweep(reg);
  return new Set(reg.tasks);
}
