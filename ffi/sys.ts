/**
 * The OS seam (placeholder written by the loop reshape; the ffi helper
 * replaces it with the full contract).
 *
 * @module
 */
import { libc, nfds } from "./unix/libc.ts";

/** The platform, as Deno names it. */
export const PLATFORM: typeof Deno.build.os = Deno.build.os;
/** The OS family. */
export const OS_FAMILY: "unix" | "windows" = PLATFORM === "windows" ? "windows" : "unix";

const none = new Uint8Array(8);
/** Waits for an off-thread `poll(NULL, 0, 0)`: returns at once, after Deno had a turn. */
export async function hostYield(): Promise<void> {
  await libc().poll_async(none, nfds(0), 0);
}
