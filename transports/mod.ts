/**
 * Transports and protocols (asyncio's `asyncio.transports` and
 * `asyncio.protocols`): the abstract transports and the protocol base
 * classes. Each loop kind makes its own concrete transports.
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
export type { StreamProtocol } from "./stream_protocol.ts";
