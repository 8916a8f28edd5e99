/**
 * `BufferedProtocol` (asyncio's): the transport reads straight into a buffer
 * the protocol provides, with no copy.
 *
 * @module
 */
import { BaseProtocol } from "./protocol.ts";

/**
 * A stream protocol that manages its own receive buffer. The transport asks
 * `getBuffer(sizeHint)` for a buffer before each read, reads into it, and
 * calls `bufferUpdated(nbytes)`. A transport treats any protocol with a
 * `getBuffer` method as buffered.
 *
 * @example
 * ```ts
 * import { BufferedProtocol } from "./buffered_protocol.ts";
 * class Counter extends BufferedProtocol {
 *   buf = new Uint8Array(65536);
 *   total = 0;
 *   override getBuffer(_sizeHint: number): Uint8Array {
 *     return this.buf;
 *   }
 *   override bufferUpdated(nbytes: number): void {
 *     this.total += nbytes;
 *   }
 * }
 * new Counter();
 * ```
 */
export class BufferedProtocol extends BaseProtocol {
  /**
   * A buffer to read into (not empty). `sizeHint` is -1 (any size), as
   * asyncio's selector transport passes.
   *
   * @example
   * ```ts ignore
   * override getBuffer(_sizeHint: number): Uint8Array {
   *   return this.buf.subarray(this.filled);
   * }
   * ```
   */
  getBuffer(_sizeHint: number): Uint8Array {
    throw new Error("BufferedProtocol.getBuffer() is not implemented");
  }

  /**
   * `nbytes` bytes were written at the start of the last buffer given.
   *
   * @example
   * ```ts ignore
   * override bufferUpdated(nbytes: number): void {
   *   this.filled += nbytes;
   * }
   * ```
   */
  bufferUpdated(_nbytes: number): void {}

  /**
   * The peer closed its writing side; return `true` to keep writing.
   *
   * @example
   * ```ts ignore
   * override eofReceived(): boolean {
   *   return true;
   * }
   * ```
   */
  eofReceived(): boolean | void {}
}
