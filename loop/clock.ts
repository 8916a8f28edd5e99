/**
 * The loop's clock: a monotonic clock in milliseconds, and its measured
 * resolution.
 *
 * @module
 */
import { libc } from "../ffi/unix/libc.ts";

/** A monotonic clock returning milliseconds (a float). */
export type Clock = () => number;

// The clock Rust's `Instant`, and so Deno's `performance.now()`, reads on each
// OS: the same source, so the two differ by a constant and never drift apart.
const CLOCK_ID: Partial<Record<typeof Deno.build.os, number>> = {
  linux: 1, // CLOCK_MONOTONIC
  android: 1,
  freebsd: 4, // CLOCK_MONOTONIC
  darwin: 8, // CLOCK_UPTIME_RAW
};

// `performance.now()` is a Deno op (~0.19 µs here); `clock_gettime` through
// FFI's fast path is ~0.08 µs, and `callLater()` reads the clock every time.
function ffiClock(): Clock | null {
  const id = CLOCK_ID[Deno.build.os];
  if (id === undefined) return null;
  try {
    // Don't prompt: without --allow-ffi, performance.now() serves.
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const gettime = libc().clock_gettime;
    // struct timespec, little-endian: 64-bit tv_sec (two words), tv_nsec (< 1e9).
    const ts = new Uint32Array(4);
    if (gettime(id, ts) !== 0) return null;
    const baseSec = ts[0] + ts[1] * 4294967296;
    let offset = 0;
    const now = (): number => {
      gettime(id, ts);
      return (ts[0] + ts[1] * 4294967296 - baseSec) * 1000 + ts[2] / 1e6 + offset;
    };
    // Line up with performance.now(), so that the two can be mixed: the
    // tightest of a few bracketing reads (the first calls are slow, cold).
    let best = 0, gap = Infinity;
    for (let i = 0; i < 8; i++) {
      const before = performance.now();
      const mid = now();
      const after = performance.now();
      if (after - before < gap) {
        gap = after - before;
        best = (before + after) / 2 - mid;
      }
    }
    offset = best;
    return now;
  } catch {
    return null;
  }
}

// Chooses the clock on first use, then calls it.
let read: Clock = () => (read = ffiClock() ?? (() => performance.now()))();

/**
 * The default clock of every loop: monotonic, in ms, on the same scale as
 * `performance.now()`. It reads the OS clock `performance.now()` reads, through
 * FFI when `--allow-ffi` is granted (under half the cost of a call to
 * `performance.now()`, a Deno op), else calls `performance.now()`.
 *
 * @example
 * ```ts
 * import { monotonic } from "@aio/loop";
 * const t0 = monotonic();
 * console.log(monotonic() - t0 >= 0); // true
 * ```
 */
export function monotonic(): number {
  return read();
}

let measured: number | undefined;

/**
 * The smallest step {@linkcode monotonic} takes on this machine, in ms,
 * measured once (Deno may coarsen `performance.now()`, so the OS resolution
 * could lie).
 *
 * @example
 * ```ts
 * import { monotonicResolution } from "@aio/loop";
 * console.log(monotonicResolution() > 0); // true
 * ```
 */
export function monotonicResolution(): number {
  if (measured === undefined) {
    let best = Infinity;
    let prev = monotonic();
    const limit = prev + 50;
    for (let steps = 0; steps < 20;) {
      const now = monotonic();
      if (now !== prev) {
        if (now - prev < best) best = now - prev;
        prev = now;
        steps++;
        if (now > limit) break;
      }
    }
    measured = best === Infinity ? 1 : best;
  }
  return measured;
}
