/**
 * The task helpers (asyncio's `tasks.py` and `timeouts.py`): `sleep`,
 * `waitFor`, `gather`, `shield`, `timeout`/`timeoutAt`, `ensureFuture` and
 * `createTask`. Times are in milliseconds.
 *
 * @example
 * ```ts
 * import { EventLoop, gather, sleep } from "@aio/loop";
 * using loop = new EventLoop();
 * const [a, b] = await loop.runUntilComplete(() =>
 *   gather([sleep(5, { value: 1 }), sleep(1, { value: 2 })])
 * );
 * console.log(a! + b!); // 3
 * ```
 * @module
 */
export { createTask } from "../task.ts";
export { ensureFuture, type EnsureFutureOptions } from "./ensure_future.ts";
export { sleep, type SleepOptions } from "./sleep.ts";
export { waitFor, type WaitForOptions } from "./wait_for.ts";
export { gather, type Gatherable, type GatherOptions, type GatherResults } from "./gather.ts";
export { shield, type ShieldOptions } from "./shield.ts";
export { Timeout, timeout, timeoutAt, type TimeoutBody, type TimeoutOptions } from "./timeout.ts";
