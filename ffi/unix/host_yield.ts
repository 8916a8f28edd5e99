/**
 * Gives Deno's own event loop a turn: its timers, network I/O and ready
 * promises. A MessageChannel post is not enough (Deno 2.9 keeps serving the
 * message without polling its timers or sockets); a round trip through a
 * `nonblocking` FFI call is, because Deno parks its I/O driver while it waits.
 *
 * @module
 */
import { libc, nfds } from "./libc.ts";

const none = new Uint8Array(8);

/**
 * Waits for an off-thread `poll(NULL, 0, 0)`: returns at once, after Deno had a turn.
 *
 * @example
 * ```ts
 * import { hostYield } from "./host_yield.ts";
 * await hostYield();
 * ```
 */
export async function hostYield(): Promise<void> {
  await libc().poll_async(none, nfds(0), 0);
}
