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
} from "./base_transport.ts";
export { BaseProtocol, Protocol } from "./protocol.ts";
export { BufferedProtocol } from "./buffered_protocol.ts";
export { DatagramProtocol } from "./datagram_protocol.ts";
export { SubprocessProtocol } from "./subprocess_protocol.ts";
export type { StreamProtocol } from "./stream_protocol.ts";

// The types this entry point's signatures name, from the layers it builds on, so that it
// documents on its own (`deno doc --lint`); each is the same binding as in its own entry point.
export type {
  Address,
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
