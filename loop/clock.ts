/**
 * The loop's clock: a monotonic clock in milliseconds, and its measured
 * resolution.
 *
 * @module
 */
import { osClockResolution, osMonotonicClock, osTimerResolution } from "../ffi/sys.ts";

/** A monotonic clock returning milliseconds (a float). */
export type Clock = () => number;

// The OS clock through FFI (ffi/sys.ts: the clock `performance.now()` reads,
// through FFI's fast path: ~0.08 µs against ~0.19 µs for the Deno op, and
// `callLater()` reads the clock every time), lined up with performance.now().
function ffiClock(): Clock | null {
  const raw = osMonotonicClock();
  if (raw === null) return null;
  let offset = 0;
  const now = (): number => raw() + offset;
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
 * The smallest step {@linkcode monotonic} takes on this machine, in ms:
 * on Windows QueryPerformanceCounter's (1000 / its frequency, as CPython
 * reports it); elsewhere measured once (Deno may coarsen
 * `performance.now()`, so the OS resolution could lie).
 *
 * @example
 * ```ts
 * import { monotonicResolution } from "@aio/loop";
 * console.log(monotonicResolution() > 0); // true
 * ```
 */
export function monotonicResolution(): number {
  if (measured === undefined) {
    const stated = osClockResolution();
    if (stated !== null) return measured = stated;
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

/**
 * How finely a wait of the loop can end, in ms (DESIGN decision 11): on
 * Windows the system timer's resolution (NtQueryTimerResolution, usually
 * 15.625 ms, 0.5 ms at best); elsewhere {@linkcode monotonicResolution}.
 *
 * @example
 * ```ts
 * import { monotonicResolution, timerResolution } from "@aio/loop";
 * console.log(timerResolution() >= monotonicResolution() || Deno.build.os !== "windows"); // true
 * ```
 */
export function timerResolution(): number {
  return osTimerResolution() ?? monotonicResolution();
}
