/**
 * Transports and protocols (asyncio's `asyncio.transports` and
 * `asyncio.protocols`): the abstract transports, the protocol base classes,
 * and the stream transport the loops make for `createConnection` and
 * `createServer`.
 *
 * @example
 * ```ts ignore
 * import { Protocol, type Transport } from "@aio/loop";
 * class Echo extends Protocol {
 *   #transport?: Transport;
 *   override connectionMade(transport: Transport): void {
 *     this.#transport = transport;
 *   }
 *   override dataReceived(data: Uint8Array): void {
 *     this.#transport!.write(data);
 *   }
 * }
 * const server = await loop.createServer(() => new Echo(), { host: "127.0.0.1", port: 8888 });
 * ```
 *
 * @module
 */
export {
  BaseTransport,
  DatagramTransport,
  ReadTransport,
  SubprocessTransport,
  Transport,
  type TransportExtraInfo,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
  WriteTransport,
  type WriteTransportMethods,
} from "./base_transport.ts";
export { BaseProtocol, Protocol } from "./protocol.ts";
export { BufferedProtocol } from "./buffered_protocol.ts";
export { DatagramProtocol } from "./datagram_protocol.ts";
export { SubprocessProtocol } from "./subprocess_protocol.ts";
export {
  MAX_READ_SIZE,
  SelectorSocketTransport,
  type SelectorSocketTransportOptions,
  type StreamProtocol,
  type TransportLoop,
  type TransportServerHooks,
} from "../loop/selector/socket_transport.ts";
export { DEFAULT_HIGH_WATER } from "../loop/base/_flow_control.ts";
export {
  DATAGRAM_HEADER_SIZE,
  DATAGRAMS_PER_EVENT,
  SelectorDatagramTransport,
  type SelectorDatagramTransportOptions,
} from "../loop/selector/datagram_transport.ts";
export {
  PIPE_MAX_READ_SIZE,
  type UnixPipeTransportOptions,
  UnixReadPipeTransport,
} from "../loop/unix/read_pipe_transport.ts";
export { UnixWritePipeTransport } from "../loop/unix/write_pipe_transport.ts";
export type { PipeFileObj } from "../loop/unix/_pipe_fileobj.ts";
export {
  UnixSubprocessTransport,
  type UnixSubprocessTransportOptions,
} from "../loop/unix/subprocess_transport.ts";
