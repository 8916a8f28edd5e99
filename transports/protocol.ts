/**
 * `BaseProtocol` and `Protocol`: the callbacks a transport calls (asyncio's
 * `asyncio.BaseProtocol` and `asyncio.Protocol`). Subclass them and
 * override what you need; every method does nothing by default.
 *
 * @module
 */
import type { BaseTransport } from "./base_transport.ts";

/**
 * The callbacks every protocol has (asyncio's `BaseProtocol`).
 * `connectionMade()` is called first, `connectionLost()` exactly once, last.
 *
 * @example
 * ```ts
 * import { BaseProtocol } from "./protocol.ts";
 * class Quiet extends BaseProtocol {
 *   override connectionLost(exc: Error | null): void {
 *     if (exc) console.log("lost:", exc.message);
 *   }
 * }
 * new Quiet().connectionLost(null);
 * ```
 */
export class BaseProtocol {
  /**
   * The connection is up; `transport` is how to talk back.
   *
   * @example
   * ```ts ignore
   * override connectionMade(transport: Transport): void {
   *   this.transport = transport;
   * }
   * ```
   */
  connectionMade(_transport: BaseTransport): void {}

  /**
   * The connection is gone: `exc` is `null` after a clean close or end of
   * stream, else the error (such as `Deno.errors.ConnectionReset`).
   *
   * @example
   * ```ts ignore
   * override connectionLost(exc: Error | null): void {
   *   this.done.resolve(exc);
   * }
   * ```
   */
  connectionLost(_exc: Error | null): void {}

  /**
   * The transport's write buffer went over its high-water mark: stop writing
   * until `resumeWriting()`. Called once per crossing.
   *
   * @example
   * ```ts ignore
   * override pauseWriting(): void {
   *   this.paused = true;
   * }
   * ```
   */
  pauseWriting(): void {}

  /**
   * The write buffer drained to its low-water mark: writing may go on.
   *
   * @example
   * ```ts ignore
   * override resumeWriting(): void {
   *   this.paused = false;
   * }
   * ```
   */
  resumeWriting(): void {}
}

/**
 * A stream protocol (asyncio's `Protocol`): gets data as it arrives.
 *
 * @example
 * ```ts
 * import { Protocol } from "./protocol.ts";
 * import type { Transport } from "./base_transport.ts";
 * class Echo extends Protocol {
 *   transport?: Transport;
 *   override connectionMade(transport: Transport): void {
 *     this.transport = transport;
 *   }
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 * new Echo();
 * ```
 */
export class Protocol extends BaseProtocol {
  /**
   * Some bytes arrived. `data` is the protocol's to keep: nothing writes to
   * it again. Reads of up to 4 KiB are views into a shared 64 KiB pooled
   * `ArrayBuffer` (as Node's pooled Buffers; a fresh `ArrayBuffer` costs as
   * much as the read itself in Deno), so use `data.slice()` before
   * transferring `data.buffer` to a worker or reading `data.buffer` whole.
   * Larger reads each get new memory, which V8 frees only at a garbage
   * collection: for large messages a `BufferedProtocol` (reads go into its
   * own buffer) costs about a third less CPU (bench/README.md, section F).
   *
   * @example
   * ```ts ignore
   * override dataReceived(data: Uint8Array): void {
   *   this.chunks.push(data);
   * }
   * ```
   */
  dataReceived(_data: Uint8Array): void {}

  /**
   * The peer closed its writing side. Return `true` to keep the transport
   * open (half-closed: writing still works); anything else closes it.
   *
   * @example
   * ```ts ignore
   * override eofReceived(): boolean {
   *   this.transport.write(this.reply);
   *   return true; // close later, after the reply
   * }
   * ```
   */
  eofReceived(): boolean | void {}
}
