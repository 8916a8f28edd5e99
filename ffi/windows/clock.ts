/**
 * The OS monotonic clock on Windows: QueryPerformanceCounter, which
 * `performance.now()` reads there too, and Deno's event loop given a turn
 * through an off-thread `Sleep(0)`.
 *
 * @module
 */
import { kernel32 } from "./kernel32.ts";
import { timerResolution } from "./ntdll.ts";

/**
 * A reader of QueryPerformanceCounter in ms from an arbitrary origin (the
 * first reading), scaled by QueryPerformanceFrequency; `null` when FFI is
 * not granted (it never prompts) or the counter cannot be read (not on
 * Windows).
 *
 * @example
 * ```ts
 * import { osMonotonicClock } from "./clock.ts";
 * const read = osMonotonicClock();
 * if (read !== null) console.log(read() >= 0); // true
 * ```
 */
export function osMonotonicClock(): (() => number) | null {
  if (Deno.build.os !== "windows") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const k = kernel32();
    const f = new Uint32Array(2);
    if (k.QueryPerformanceFrequency(f) === 0) return null;
    const freq = f[0] + f[1] * 4294967296;
    if (freq <= 0) return null;
    const qpc = k.QueryPerformanceCounter;
    const c = new Uint32Array(2);
    if (qpc(c) === 0) return null;
    const baseHi = c[1], baseLo = c[0];
    const msPerTick = 1000 / freq;
    return (): number => {
      qpc(c);
      return ((c[1] - baseHi) * 4294967296 + (c[0] - baseLo)) * msPerTick;
    };
  } catch {
    return null;
  }
}

/**
 * Gives Deno's own event loop a turn (its timers, I/O, promises) through an
 * off-thread `Sleep(0)` that returns at once.
 *
 * @example
 * ```ts
 * import { hostYield } from "./clock.ts";
 * if (Deno.build.os === "windows") await hostYield();
 * ```
 */
export async function hostYield(): Promise<void> {
  await kernel32().SleepNB(0);
}

/**
 * The resolution of QueryPerformanceCounter in ms (1000 / its frequency,
 * as CPython 3.13 reports `time.get_clock_info("monotonic")`); `null` when
 * FFI is not granted or not on Windows.
 *
 * @example
 * ```ts
 * import { osClockResolution } from "./clock.ts";
 * const r = osClockResolution();
 * if (r !== null) console.log(r > 0 && r <= 1); // true
 * ```
 */
export function osClockResolution(): number | null {
  if (Deno.build.os !== "windows") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const f = new Uint32Array(2);
    if (kernel32().QueryPerformanceFrequency(f) === 0) return null;
    const freq = f[0] + f[1] * 4294967296;
    return freq > 0 ? 1000 / freq : null;
  } catch {
    return null;
  }
}

/**
 * How finely a wait can end, in ms: the system timer's current resolution
 * (`NtQueryTimerResolution`, in 100 ns units: usually 15.625 ms, 0.5 ms at
 * best); `null` when FFI is not granted or not on Windows.
 *
 * @example
 * ```ts
 * import { osTimerResolution } from "./clock.ts";
 * const r = osTimerResolution();
 * if (r !== null) console.log(r > 0); // true
 * ```
 */
export function osTimerResolution(): number | null {
  if (Deno.build.os !== "windows") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const current = timerResolution().current;
    return current > 0 ? current / 10_000 : null;
  } catch {
    return null;
  }
}
