/**
 * `SubprocessProtocol` (asyncio's): the callbacks of a child process.
 *
 * @module
 */
import { BaseProtocol } from "./protocol.ts";

/**
 * A subprocess protocol. `connectionMade()` gets the `SubprocessTransport`;
 * pipes are named by the child's fd (1 stdout, 2 stderr, 0 stdin).
 *
 * @example
 * ```ts
 * import { SubprocessProtocol } from "./subprocess_protocol.ts";
 * class Collect extends SubprocessProtocol {
 *   out: Uint8Array[] = [];
 *   override pipeDataReceived(fd: number, data: Uint8Array): void {
 *     if (fd === 1) this.out.push(data);
 *   }
 * }
 * new Collect();
 * ```
 */
export class SubprocessProtocol extends BaseProtocol {
  /**
   * The child wrote `data` to its pipe `fd` (1 or 2).
   *
   * @example
   * ```ts ignore
   * override pipeDataReceived(fd: number, data: Uint8Array): void {
   *   this.chunks[fd].push(data);
   * }
   * ```
   */
  pipeDataReceived(_fd: number, _data: Uint8Array): void {}

  /**
   * The pipe `fd` closed: `exc` is `null` when it closed cleanly.
   *
   * @example
   * ```ts ignore
   * override pipeConnectionLost(fd: number, exc: Error | null): void {
   *   this.closed.add(fd);
   * }
   * ```
   */
  pipeConnectionLost(_fd: number, _exc: Error | null): void {}

  /**
   * The child exited (its return code is on the transport).
   *
   * @example
   * ```ts ignore
   * override processExited(): void {
   *   this.exited.resolve(this.transport.getReturncode());
   * }
   * ```
   */
  processExited(): void {}
}
