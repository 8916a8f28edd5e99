/**
 * The Unix parts (the `./unix` sub-export): `UnixSelectorEventLoop` and the
 * child watchers that report subprocess exits (asyncio's
 * `unix_events`): `PidfdChildWatcher` (Linux ≥ 5.4), `SigchldChildWatcher`,
 * and `KqueueChildWatcher` (macOS, BSD).
 *
 * @example
 * ```ts
 * import { defaultChildWatcher } from "@aio/loop/unix";
 * using watcher = defaultChildWatcher();
 * console.log(watcher.name); // "pidfd" on a recent Linux
 * ```
 * @module
 */
export { UnixSelectorEventLoop } from "./unix_selector_event_loop.ts";
export {
  AbstractChildWatcher,
  type AddChildHandlerOptions,
  type ChildEntry,
  type ChildExitCallback,
  type ChildWatcherLoop,
} from "./child_watcher.ts";
export { defaultChildWatcher } from "./subprocess.ts";
export { PidfdChildWatcher } from "./pidfd_child_watcher.ts";
export { SigchldChildWatcher } from "./sigchld_child_watcher.ts";
export { KqueueChildWatcher, type KqueueChildWatcherOptions } from "./kqueue_child_watcher.ts";
export { validSignals } from "./signal_handlers.ts";
export type { KqueueApi } from "../../ffi/darwin/sys.ts";
