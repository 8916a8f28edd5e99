/**
 * `DatagramProtocol` (asyncio's): the callbacks of a datagram endpoint.
 *
 * @module
 */
import type { Address } from "../net/mod.ts";
import { BaseProtocol } from "./protocol.ts";

/**
 * A datagram protocol. `connectionMade()` gets the `DatagramTransport`.
 *
 * @example
 * ```ts
 * import { DatagramProtocol } from "./datagram_protocol.ts";
 * import type { Address } from "../net/mod.ts";
 * class Logger extends DatagramProtocol {
 *   override datagramReceived(data: Uint8Array, addr: Address): void {
 *     console.log(data.length, addr);
 *   }
 * }
 * new Logger();
 * ```
 */
export class DatagramProtocol extends BaseProtocol {
  /**
   * A datagram `data` arrived from `addr` (Deno-shaped). `data` is the
   * protocol's to keep; up to 4 KiB it is a view into a shared pooled
   * `ArrayBuffer` (see `Protocol.dataReceived()`): `data.slice()` it before
   * transferring `data.buffer`.
   *
   * @example
   * ```ts ignore
   * override datagramReceived(data: Uint8Array, addr: Address): void {
   *   this.transport.sendto(data, addr);
   * }
   * ```
   */
  datagramReceived(_data: Uint8Array, _addr: Address): void {}

  /**
   * A send or receive failed (such as `Deno.errors.ConnectionRefused` after
   * an ICMP port unreachable); the endpoint stays open.
   *
   * @example
   * ```ts ignore
   * override errorReceived(exc: Error): void {
   *   console.error(exc);
   * }
   * ```
   */
  errorReceived(_exc: Error): void {}
}
