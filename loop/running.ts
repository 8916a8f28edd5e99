/**
 * Which loop is running right now: asyncio's `get_running_loop()`.
 *
 * @module
 */
import type { AbstractEventLoop } from "./abstract_event_loop.ts";

let running: AbstractEventLoop | null = null;

/**
 * The loop whose `runForever()`/`runUntilComplete()` is in progress; throws
 * `Error("no running event loop")` when there is none.
 *
 * @example
 * ```ts
 * import { getRunningLoop, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   console.log(getRunningLoop() === loop); // true
 * });
 * ```
 */
export function getRunningLoop(): AbstractEventLoop {
  if (running === null) throw new Error("no running event loop");
  return running;
}

/** The running loop or `null`: asyncio's `_get_running_loop()`. */
export function _getRunningLoop(): AbstractEventLoop | null {
  return running;
}

/** Sets (or clears, with `null`) the running loop; loops call it around their run. */
export function _setRunningLoop(loop: AbstractEventLoop | null): void {
  running = loop;
}
