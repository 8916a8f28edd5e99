/**
 * The loop's clock: a monotonic clock in milliseconds, and its measured
 * resolution.
 *
 * @module
 */

/** A monotonic clock returning milliseconds (a float). */
export type Clock = () => number;

/**
 * The default clock of every loop: `performance.now()`, monotonic, in ms.
 *
 * @example
 * ```ts
 * import { monotonic } from "@aio/loop";
 * const t0 = monotonic();
 * console.log(monotonic() - t0 >= 0); // true
 * ```
 */
export function monotonic(): number {
  return performance.now();
}

let measured: number | undefined;

/**
 * The smallest step `performance.now()` takes on this machine, in ms,
 * measured once (Deno may coarsen the clock, so the OS resolution would lie).
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
    let prev = performance.now();
    const limit = prev + 50;
    for (let steps = 0; steps < 20;) {
      const now = performance.now();
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
