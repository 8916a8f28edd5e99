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

// The types this entry point's signatures name, from the layers it builds on, so that it
// documents on its own (`deno doc --lint`); each is the same binding as in its own entry point.
export type {
  AbstractEventLoop,
  AbstractServer,
  Awaitable,
  BaseEventLoop,
  BaseSelectorEventLoop,
  Callback,
  ConnectAcceptedSocketOptions,
  CoroutineFunction,
  CreateConnectionOptions,
  CreateServerOptions,
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
  DatagramEndpointAddress,
  DatagramEndpointOptions,
  DoneCallback,
  ExceptionContext,
  ExceptionHandler,
  Future,
  Handle,
  LocalAddress,
  PipeFileObj,
  SendfileFile,
  SendfileOptions,
  ServeForeverOptions,
  Server,
  SockOptions,
  SSLContextOptions,
  SSLOption,
  SSLTimeoutOptions,
  StartTlsOptions,
  SubprocessOptions,
  SubprocessStdio,
  Task,
  TaskOptions,
  TimerHandle,
} from "../mod.ts";
export type {
  BaseProtocol,
  BaseTransport,
  BufferedProtocol,
  DatagramProtocol,
  DatagramTransport,
  Protocol,
  ReadTransport,
  StreamProtocol,
  SubprocessProtocol,
  SubprocessTransport,
  Transport,
  TransportExtraInfo,
  WriteBufferLimits,
  WriteBufferLimitsOptions,
  WriteTransport,
} from "../../transports/mod.ts";
export type {
  Address,
  AddrInfo,
  AddrInfoType,
  GetaddrinfoOptions,
  GettableOption,
  Linger,
  Membership6Request,
  MembershipRequest,
  NetAddress,
  SettableOption,
  Socket,
  SocketFamily,
  SocketOptionInputs,
  SocketOptionValues,
  SocketType,
  UnixAddress,
} from "../../net/mod.ts";
export type {
  BaseSelector,
  FD_KIND,
  FileObj,
  HasFileno,
  SelectorKey,
  SelectResult,
} from "../../selectors/mod.ts";
