/**
 * `allTasks()`: the tasks of a loop that are not done yet (asyncio's
 * `all_tasks()`). Every `Task` registers itself here when it is made.
 *
 * @module
 */
import type { AbstractEventLoop } from "./abstract_event_loop.ts";
import type { Task } from "./task.ts";
import { getRunningLoop } from "./running.ts";

/** Sweep done tasks out once a loop's set reaches this size (then twice the live count). */
const MIN_SWEEP_SIZE = 64;

interface Registry {
  tasks: Set<Task<unknown>>;
  sweepAt: number;
}

// Keyed weakly by loop, so a dropped loop takes its registry with it. Done tasks are swept
// lazily (CPython keeps a WeakSet): no done callback per task, O(1) amortized per task.
const registries = new WeakMap<AbstractEventLoop, Registry>();

function sweep(reg: Registry): void {
  for (const t of reg.tasks) if (t.done()) reg.tasks.delete(t);
  reg.sweepAt = Math.max(MIN_SWEEP_SIZE, 2 * reg.tasks.size);
}

/** Records a new task of `loop`; the `Task` constructor calls it. */
export function _registerTask(task: Task<unknown>, loop: AbstractEventLoop): void {
  let reg = registries.get(loop);
  if (reg === undefined) {
    reg = { tasks: new Set(), sweepAt: MIN_SWEEP_SIZE };
    registries.set(loop, reg);
  }
  reg.tasks.add(task);
  if (reg.tasks.size >= reg.sweepAt) sweep(reg);
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
  const reg = registries.get(loop ?? getRunningLoop());
  const pending = new Set<Task<unknown>>();
  if (reg === undefined) return pending;
  for (const t of reg.tasks) {
    if (t.done()) reg.tasks.delete(t);
    else pending.add(t);
  }
  reg.sweepAt = Math.max(MIN_SWEEP_SIZE, 2 * reg.tasks.size);
  return pending;
}
