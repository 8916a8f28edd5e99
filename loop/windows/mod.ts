/**
 * The Windows parts (the `./windows` sub-export, asyncio's `windows_events`):
 * `WindowsSelectorEventLoop`, the `SelectorEventLoop` of Windows, and the
 * `ProactorEventLoop` on I/O completion ports with its base class.
 *
 * @example
 * ```ts
 * import { WindowsSelectorEventLoop } from "@aio/loop/windows";
 * if (Deno.build.os === "windows") {
 *   using loop = new WindowsSelectorEventLoop();
 *   console.log(loop.selector.name); // "select"
 * }
 * ```
 * @module
 */
export { WindowsSelectorEventLoop } from "./windows_selector_event_loop.ts";
export { type CreatePipeConnectionOptions, ProactorEventLoop } from "./proactor_event_loop.ts";
export { pipe, PipeHandle, type PipeOptions } from "./pipe_handle.ts";
export { PipeServer } from "./pipe_server.ts";
export {
  ProactorDuplexPipeTransport,
  ProactorPipeTransport,
  ProactorReadPipeTransport,
  ProactorWritePipeTransport,
} from "./pipe_transports.ts";
export { BaseProactorEventLoop } from "../proactor/proactor_event_loop.ts";
export {
  ProactorBaseTransport,
  type ProactorTransportKind,
  type ProactorTransportLoop,
} from "../proactor/_proactor_base_transport.ts";

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
