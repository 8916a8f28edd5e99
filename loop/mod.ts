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
} from "./base_event_loop.ts";
export { SelectorEventLoop } from "./selector_event_loop.ts";
export { type Callback, Handle, type HandleOptions, TimerHandle } from "./handle.ts";
export { type DoneCallback, Future, type FutureOptions, isFuture } from "./future.ts";
export { createTask, Task, type TaskConstructorOptions } from "./task.ts";
export { ensureFuture, type EnsureFutureOptions } from "./ensure_future.ts";
export { getRunningLoop } from "./running.ts";
export { type Clock, monotonic, monotonicResolution } from "./clock.ts";
export {
  CancelledError,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
  TimeoutError,
} from "./errors.ts";
export { sleep, type SleepOptions } from "./sleep.ts";
export { waitFor, type WaitForOptions } from "./wait_for.ts";
export { gather, type Gatherable, type GatherOptions, type GatherResults } from "./gather.ts";
export { shield, type ShieldOptions } from "./shield.ts";
export { Timeout, timeout, timeoutAt, type TimeoutBody, type TimeoutOptions } from "./timeout.ts";
export type {
  BaseSelector,
  FileObj,
  HasFileno,
  SelectorKey,
  SelectResult,
} from "../selectors/mod.ts";
// The socket types the loop's signatures use (the values live in net/mod.ts).
export type * from "../net/mod.ts";
export { validSignals } from "./unix_signals.ts";
export { allTasks } from "./all_tasks.ts";
export type { DatagramEndpointAddress, DatagramEndpointOptions } from "./abstract_event_loop.ts";
export { createDatagramEndpoint, type DatagramEndpointLoop } from "./create_datagram_endpoint.ts";
export {
  ACCEPT_RETRY_DELAY_MS,
  DEFAULT_BACKLOG,
  type ProtocolFactory,
  type ServeForeverOptions,
  Server,
  type ServerLoop,
  type ServerOptions,
} from "./server.ts";
export type {
  ConnectAcceptedSocketOptions,
  ConnectionLoop,
  CreateConnectionOptions,
  LocalAddress,
  TransportAndProtocol,
} from "./create_connection.ts";
export type { CreateServerOptions } from "./create_server.ts";
export type { CreateUnixConnectionOptions, CreateUnixServerOptions } from "./unix_sockets.ts";
export { connectReadPipe, connectWritePipe, type PipeLoop } from "./pipes.ts";
export { DEVNULL, PIPE, STDOUT } from "./subprocess_constants.ts";
export {
  defaultChildWatcher,
  type SubprocessLoop,
  type SubprocessOptions,
  type SubprocessStdio,
} from "./subprocess.ts";
export {
  AbstractChildWatcher,
  type AddChildHandlerOptions,
  type ChildEntry,
  type ChildExitCallback,
  type ChildWatcherLoop,
} from "./child_watcher.ts";
export { PidfdChildWatcher } from "./pidfd_child_watcher.ts";
export { SigchldChildWatcher } from "./sigchld_child_watcher.ts";
export { KqueueChildWatcher, type KqueueChildWatcherOptions } from "./kqueue_child_watcher.ts";
export type { KqueueApi } from "../ffi/darwin/sys.ts";
