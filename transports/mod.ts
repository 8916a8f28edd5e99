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
} from "./selector_socket_transport.ts";
export { DEFAULT_HIGH_WATER } from "./_flow_control.ts";
export {
  DATAGRAM_HEADER_SIZE,
  DATAGRAMS_PER_EVENT,
  SelectorDatagramTransport,
  type SelectorDatagramTransportOptions,
} from "./selector_datagram_transport.ts";
export {
  PIPE_MAX_READ_SIZE,
  type UnixPipeTransportOptions,
  UnixReadPipeTransport,
} from "./unix_read_pipe_transport.ts";
export { UnixWritePipeTransport } from "./unix_write_pipe_transport.ts";
export type { PipeFileObj } from "./_unix_pipe.ts";
export {
  UnixSubprocessTransport,
  type UnixSubprocessTransportOptions,
} from "./subprocess_transport.ts";
