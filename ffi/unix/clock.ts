/**
 * The OS monotonic clock through FFI: `clock_gettime` on the clock Rust's
 * `Instant`, and so Deno's `performance.now()`, reads on each OS (the same
 * source, so the two differ by a constant and never drift apart).
 *
 * @module
 */
import { OS } from "./_abi.ts";
import { libc } from "./libc.ts";

/** The clock id `performance.now()` reads on each OS, where FFI can read it too. */
export const CLOCK_ID: Readonly<Partial<Record<typeof Deno.build.os, number>>> = {
  linux: 1, // CLOCK_MONOTONIC
  android: 1,
  freebsd: 4, // CLOCK_MONOTONIC
  darwin: 8, // CLOCK_UPTIME_RAW
};

/**
 * A reader of this OS's monotonic clock in milliseconds (a float), counted
 * from the whole second of the first reading: `clock_gettime` through FFI's
 * fast path (~0.08 µs here; `performance.now()`, a Deno op, ~0.19 µs).
 * `null` when FFI is not granted (it never prompts), the OS has no entry in
 * {@linkcode CLOCK_ID}, or the call fails.
 *
 * @example
 * ```ts
 * import { osMonotonicClock } from "./clock.ts";
 * const read = osMonotonicClock();
 * if (read !== null) console.log(read() >= 0); // true
 * ```
 */
export function osMonotonicClock(): (() => number) | null {
  const id = CLOCK_ID[OS];
  if (id === undefined) return null;
  try {
    // Don't prompt: without --allow-ffi, the caller falls back to performance.now().
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const gettime = libc().clock_gettime;
    // struct timespec, little-endian: 64-bit tv_sec (two words), tv_nsec (< 1e9).
    const ts = new Uint32Array(4);
    if (gettime(id, ts) !== 0) return null;
    const baseSec = ts[0] + ts[1] * 4294967296;
    return (): number => {
      gettime(id, ts);
      return (ts[0] + ts[1] * 4294967296 - baseSec) * 1000 + ts[2] / 1e6;
    };
  } catch {
    return null;
  }
}

/**
 * How finely a wait (`epoll_wait`, `poll`, a timer) can end, in ms, where
 * the OS says so: `null` on Unix, where waits end as finely as the clock
 * steps (callers use the clock's resolution, DESIGN decision 11).
 *
 * @example
 * ```ts
 * import { osTimerResolution } from "./clock.ts";
 * console.log(osTimerResolution()); // null
 * ```
 */
export function osTimerResolution(): number | null {
  return null;
}

/**
 * The monotonic clock's resolution in ms where the OS states one that
 * holds: `null` on Unix, where `clock_getres` may claim 1 ns while Deno
 * coarsens `performance.now()` (callers measure instead).
 *
 * @example
 * ```ts
 * import { osClockResolution } from "./clock.ts";
 * console.log(osClockResolution()); // null
 * ```
 */
export function osClockResolution(): number | null {
  return null;
}
