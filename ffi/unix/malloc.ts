/**
 * glibc's malloc thresholds, for processes that read large messages into
 * fresh buffers (issue 13; docs/decisions.md, "Performance (issue 13)", P3).
 *
 * V8 frees the `ArrayBuffer`s a protocol was handed only at a scavenge,
 * tens of megabytes at a time. With glibc's default thresholds that batch
 * lands at the top of the heap, goes back to the kernel (`brk`), and the
 * next reads fault every page in again: 4.9 page faults per 100 KiB request
 * measured. {@linkcode keepFreedMemory} sets the mmap threshold to 32 MiB
 * and the trim threshold to 64 MiB, the ceiling that glibc's own dynamic
 * thresholds reach once a program has freed a 32 MiB block, so the batch
 * stays in the process for the next reads.
 *
 * Linux with glibc only (musl has no such thresholds, macOS's allocator
 * none of these knobs); elsewhere the calls do nothing and say so.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { LINUX } from "./_abi.ts";
import { LIBC_PATH } from "./libc.ts";

const M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;

/** The mmap threshold {@linkcode keepFreedMemory} sets: glibc's `DEFAULT_MMAP_THRESHOLD_MAX`. */
export const KEPT_MMAP_THRESHOLD = 32 * 1024 * 1024;
/** The trim threshold it sets: twice the mmap threshold, as glibc's dynamic rule. */
export const KEPT_TRIM_THRESHOLD = 2 * KEPT_MMAP_THRESHOLD;

const SYMBOLS = {
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  // Only glibc has it: its absence (musl) leaves the thresholds alone.
  gnu_get_libc_version: { parameters: [], result: "pointer", optional: true },
  // glibc ≥ 2.33; struct mallinfo2 is ten size_t fields.
  mallinfo2: {
    parameters: [],
    result: {
      struct: [
        "usize",
        "usize",
        "usize",
        "usize",
        "usize",
        "usize",
        "usize",
        "usize",
        "usize",
        "usize",
      ],
    },
    optional: true,
  },
} as const;

const symbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: LINUX,
  unsupported: "glibc's malloc thresholds exist on Linux only",
});

let kept: boolean | null = null;

/**
 * Sets glibc's mmap threshold to 32 MiB and its trim threshold to 64 MiB,
 * once per process: true when glibc took both (now or at an earlier call),
 * false where there is no glibc (macOS, Windows, musl) or it refused.
 *
 * @example
 * ```ts
 * import { keepFreedMemory } from "./malloc.ts";
 * console.log(keepFreedMemory()); // true on Linux with glibc
 * ```
 */
export function keepFreedMemory(): boolean {
  if (kept !== null) return kept;
  kept = false;
  if (!LINUX) return false;
  const s = symbols();
  if (s.gnu_get_libc_version === null) return false;
  // Both or neither: the mmap threshold first, as glibc's own order (it fixes the dynamic rule).
  if (s.mallopt(M_MMAP_THRESHOLD, KEPT_MMAP_THRESHOLD) !== 1) return false;
  kept = s.mallopt(M_TRIM_THRESHOLD, KEPT_TRIM_THRESHOLD) === 1;
  return kept;
}

/** What glibc's `mallinfo2()` says of the main heap, in bytes. */
export interface MallocStats {
  /** The heap's size (`arena`: what `brk` gave, used or free). */
  heap: number;
  /** Bytes in blocks served by their own `mmap` (`hblkhd`). */
  mmapped: number;
  /** Bytes in use in the heap (`uordblks`). */
  inUse: number;
  /** Free bytes in the heap (`fordblks`). */
  free: number;
  /** What a trim could give back from the top of the heap (`keepcost`). */
  releasable: number;
}

/**
 * glibc's `mallinfo2()`, or `null` where there is no glibc ≥ 2.33.
 *
 * @example
 * ```ts
 * import { mallocStats } from "./malloc.ts";
 * const s = mallocStats();
 * if (s !== null) console.log(s.heap >= s.inUse); // true
 * ```
 */
export function mallocStats(): MallocStats | null {
  if (!LINUX) return null;
  const s = symbols();
  if (s.gnu_get_libc_version === null || s.mallinfo2 === null) return null;
  const raw = s.mallinfo2();
  const v = new BigUint64Array(raw.buffer, raw.byteOffset, 10);
  return {
    heap: Number(v[0]),
    mmapped: Number(v[4]),
    inUse: Number(v[7]),
    free: Number(v[8]),
    releasable: Number(v[9]),
  };
}
