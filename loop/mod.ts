/**
 * The loop core: asyncio's `BaseEventLoop` and `SelectorEventLoop`,
 * `Handle`/`TimerHandle`, `Future`/`Task`, and the helpers `sleep`,
 * `waitFor`, `gather`, `shield` and `timeout`. Times are in milliseconds.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, sleep } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * const answer = await loop.runUntilComplete(async (signal) => {
 *   await sleep(10, { signal });
 *   return 42;
 * });
 * ```
 * @module
 */
export type {
  AbstractEventLoop,
  Awaitable,
  CoroutineFunction,
  EventLoopOptions,
  ExceptionContext,
  ExceptionHandler,
  SockOptions,
  TaskOptions,
} from "./abstract_event_loop.ts";
export {
  BaseEventLoop,
  EVENT_INTERVAL,
  MAXIMUM_SELECT_TIMEOUT_MS,
  YIELD_INTERVAL_MS,
} from "./base/base_event_loop.ts";
export { SelectorEventLoop } from "./selector/selector_event_loop.ts";
export { type Callback, Handle, type HandleOptions, TimerHandle } from "./handle.ts";
export { type DoneCallback, Future, type FutureOptions, isFuture } from "./future.ts";
export { createTask, Task, type TaskConstructorOptions } from "./task.ts";
export { ensureFuture, type EnsureFutureOptions } from "./tasks/ensure_future.ts";
export { getRunningLoop } from "./running.ts";
export { type Clock, monotonic, monotonicResolution } from "./clock.ts";
export {
  CancelledError,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
  TimeoutError,
} from "./errors.ts";
export { sleep, type SleepOptions } from "./tasks/sleep.ts";
export { waitFor, type WaitForOptions } from "./tasks/wait_for.ts";
export { gather, type Gatherable, type GatherOptions, type GatherResults } from "./tasks/gather.ts";
export { shield, type ShieldOptions } from "./tasks/shield.ts";
export { Timeout, timeout, timeoutAt, type TimeoutBody, type TimeoutOptions } from "./tasks/timeout.ts";
export type {
  BaseSelector,
  FileObj,
  HasFileno,
  SelectorKey,
  SelectResult,
} from "../selectors/mod.ts";
// The socket types the loop's signatures use (the values live in net/mod.ts).
export type * from "../net/mod.ts";
export { validSignals } from "./unix/signal_handlers.ts";
export { allTasks } from "./all_tasks.ts";
export type { DatagramEndpointAddress, DatagramEndpointOptions } from "./abstract_event_loop.ts";
export { createDatagramEndpoint, type DatagramEndpointLoop } from "./base/create_datagram_endpoint.ts";
export {
  ACCEPT_RETRY_DELAY_MS,
  DEFAULT_BACKLOG,
  type ProtocolFactory,
  type ServeForeverOptions,
  Server,
  type ServerLoop,
  type ServerOptions,
} from "./base/server.ts";
export type {
  ConnectAcceptedSocketOptions,
  ConnectionLoop,
  CreateConnectionOptions,
  LocalAddress,
  TransportAndProtocol,
} from "./base/create_connection.ts";
export type { CreateServerOptions } from "./base/create_server.ts";
export type { CreateUnixConnectionOptions, CreateUnixServerOptions } from "./unix/unix_sockets.ts";
export { connectReadPipe, connectWritePipe, type PipeLoop } from "./unix/pipes.ts";
export { DEVNULL, PIPE, STDOUT } from "./subprocess_constants.ts";
export {
  defaultChildWatcher,
  type SubprocessLoop,
  type SubprocessOptions,
  type SubprocessStdio,
} from "./unix/subprocess.ts";
export {
  AbstractChildWatcher,
  type AddChildHandlerOptions,
  type ChildEntry,
  type ChildExitCallback,
  type ChildWatcherLoop,
} from "./unix/child_watcher.ts";
export { PidfdChildWatcher } from "./unix/pidfd_child_watcher.ts";
export { SigchldChildWatcher } from "./unix/sigchld_child_watcher.ts";
export { KqueueChildWatcher, type KqueueChildWatcherOptions } from "./unix/kqueue_child_watcher.ts";
export type { KqueueApi } from "../ffi/darwin/sys.ts";
