/**
 * Streams (asyncio's `asyncio.streams`): `openConnection`/`startServer`
 * and their unix versions give a `StreamReader` and a `StreamWriter` per
 * connection, with asyncio's reading methods and `drain()` backpressure,
 * and Web stream views (`reader.readable`, `writer.writable`, the names
 * `Deno.Conn` uses) for `pipeTo`, `TextDecoderStream` and `Response`.
 *
 * The functions find their loop as asyncio does: the running loop, else
 * the one set with `setEventLoop()`.
 *
 * @example
 * ```ts ignore
 * import { openConnection, run, startServer } from "@aio/loop";
 * await run(async () => {
 *   await using server = await startServer(async (reader, writer) => {
 *     await reader.readable.pipeTo(writer.writable); // echo
 *   }, { host: "127.0.0.1", port: 0 });
 *   const { port } = server.sockets[0].getsockname() as { port: number };
 *   const [reader, writer] = await openConnection({ host: "127.0.0.1", port });
 *   writer.write(new TextEncoder().encode("hello\n"));
 *   console.log(new TextDecoder().decode(await reader.readline())); // "hello\n"
 *   writer.close();
 *   await writer.waitClosed();
 * });
 * ```
 *
 * @module
 */
export {
  DEFAULT_LIMIT,
  type ReaderTransport,
  type ReadOptions,
  type Separator,
  StreamReader,
  type StreamReaderOptions,
} from "./stream_reader.ts";
export {
  type StreamStartTlsOptions,
  StreamWriter,
  type StreamWriterOptions,
  type StreamWriterProtocol,
} from "./stream_writer.ts";
export { type DrainOptions, FlowControlMixin } from "./flow_control_mixin.ts";
export {
  type ClientConnectedCallback,
  StreamReaderProtocol,
  type StreamReaderProtocolOptions,
} from "./stream_reader_protocol.ts";
export { openConnection, type OpenConnectionOptions, type StreamPair } from "./open_connection.ts";
export { startServer, type StartServerOptions } from "./start_server.ts";
export {
  openUnixConnection,
  type OpenUnixConnectionOptions,
  startUnixServer,
  type StartUnixServerOptions,
} from "./unix_streams.ts";
export {
  createSubprocessExec,
  type CreateSubprocessOptions,
  createSubprocessShell,
  Process,
  SubprocessStreamProtocol,
} from "./subprocess.ts";

// The types this entry point's signatures name, from the layers it builds on, so that it
// documents on its own (`deno doc --lint`); each is the same binding as in its own entry point.
export type {
  AbstractEventLoop,
  AbstractServer,
  Awaitable,
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
} from "../loop/mod.ts";
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
export type { FD_KIND, FileObj, HasFileno } from "../selectors/mod.ts";
