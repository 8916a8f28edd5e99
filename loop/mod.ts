/**
 * The loop: asyncio's `AbstractEventLoop` contract, `Handle`/`TimerHandle`,
 * `Future`/`Task`, the helpers `sleep`, `waitFor`, `gather`, `shield` and
 * `timeout`, `BaseEventLoop` (the shared core) and `BaseSelectorEventLoop`
 * (the readiness loop kind). Times are in milliseconds. This platform's
 * loop classes (`SelectorEventLoop`, `EventLoop`) are chosen in the root
 * module.
 *
 * @example
 * ```ts
 * import { sleep } from "@aio/loop/loop";
 * import { EventLoop } from "@aio/loop";
 * using loop = new EventLoop();
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
  DatagramEndpointAddress,
  DatagramEndpointOptions,
  EventLoopOptions,
  ExceptionContext,
  ExceptionHandler,
  PipeFileObj,
  SendfileFile,
  SendfileOptions,
  SockOptions,
  TaskOptions,
} from "./abstract_event_loop.ts";
export type { AbstractServer, ServeForeverOptions } from "./abstract_server.ts";
export type {
  ConnectAcceptedSocketOptions,
  CreateConnectionOptions,
  CreateServerOptions,
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
  LocalAddress,
  SSLContextOptions,
  SSLOption,
  SSLTimeoutOptions,
  StartTlsOptions,
  TransportAndProtocol,
} from "./connection_options.ts";
export type { SubprocessOptions, SubprocessStdio } from "./subprocess_options.ts";
export { DEVNULL, PIPE, STDOUT } from "./subprocess_constants.ts";
export { type Callback, Handle, TimerHandle } from "./handle.ts";
export { type DoneCallback, Future, type FutureOptions, isFuture } from "./future.ts";
export { Task, type TaskConstructorOptions } from "./task.ts";
export { allTasks } from "./all_tasks.ts";
export { getRunningLoop } from "./running.ts";
export { type Clock, monotonic, monotonicResolution, timerResolution } from "./clock.ts";
export {
  CancelledError,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
  TimeoutError,
} from "./errors.ts";
export * from "./tasks/mod.ts";
export { BaseEventLoop } from "./base/base_event_loop.ts";
export { SendfileNotAvailableError } from "./base/_sendfile.ts";
export { Server } from "./base/server.ts";
export { readMemory, type ReadMemoryOptions } from "./base/read_memory.ts";
export { SSLContext } from "./base/ssl_context.ts";
export {
  SSL_HANDSHAKE_TIMEOUT_MS,
  SSL_SHUTDOWN_TIMEOUT_MS,
  SSLObject,
  SSLProtocol,
  type SSLProtocolLoop,
  type SSLProtocolOptions,
  SSLProtocolTransport,
  type SSLSessionFacts,
} from "./base/ssl_protocol.ts";
export {
  type CipherInfo,
  type NameAttribute,
  type PeerCertificate,
  SSLCertVerificationError,
  SSLError,
  type SSLErrorOptions,
} from "./base/ssl_errors.ts";
export { BaseSelectorEventLoop } from "./selector/selector_event_loop.ts";

// The types this entry point's signatures name, from the layers it builds on, so that it
// documents on its own (`deno doc --lint`); each is the same binding as in its own entry point.
export type {
  BaseSelector,
  FD_KIND,
  FileObj,
  HasFileno,
  SelectorKey,
  SelectResult,
} from "../selectors/mod.ts";
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
} from "../net/mod.ts";
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
} from "../transports/mod.ts";
