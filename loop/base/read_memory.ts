/**
 * How reads use memory: the switch for keeping freed read buffers in the
 * process (docs/decisions.md, "Performance (issue 13)", P3).
 *
 * @module
 */
import { keepFreedMemory } from "../../ffi/sys.ts";

/** The settings of {@linkcode readMemory}. */
export interface ReadMemoryOptions {
  /**
   * Whether the first read that gets fresh memory (one over 4 KiB handed to
   * `dataReceived`, plain or TLS) sets glibc's mmap threshold to 32 MiB and
   * its trim threshold to 64 MiB, once for the process: the ceiling glibc's
   * own dynamic thresholds reach. V8 frees those buffers tens of megabytes
   * at a time; with the defaults glibc hands that memory back to the kernel
   * and the next reads fault it in again (at 10 × 100 KiB echoes: 4.9 page
   * faults and ~30 µs of CPU per request more). Linux with glibc only; it
   * is left alone when `GLIBC_TUNABLES` (readable with `--allow-env`) sets
   * a `glibc.malloc.` threshold. Default `true`; set it to `false` before
   * the first large read to keep glibc's defaults.
   */
  keepFreedMemory: boolean;
}

/**
 * The process-wide settings of the read path.
 *
 * @example
 * ```ts
 * import { readMemory } from "@aio/loop";
 * readMemory.keepFreedMemory = false; // before the first read: glibc's own thresholds
 * ```
 */
export const readMemory: ReadMemoryOptions = { keepFreedMemory: true };

let done = false;

/** Called before a read's bytes are copied into fresh memory: applies the setting once. */
export function _freshMemory(): void {
  if (done) return;
  done = true;
  if (!readMemory.keepFreedMemory || userTunedMalloc()) return;
  try {
    keepFreedMemory();
  } catch {
    // A tuning that cannot be made (no libc to open) must never fail the read.
  }
}

// The user's own GLIBC_TUNABLES win; readable only with the env permission (never prompted).
function userTunedMalloc(): boolean {
  try {
    const q = Deno.permissions.querySync({ name: "env", variable: "GLIBC_TUNABLES" });
    if (q.state !== "granted") return false;
    return /glibc\.malloc\.(mmap|trim)_threshold=/.test(Deno.env.get("GLIBC_TUNABLES") ?? "");
  } catch {
    return false;
  }
}
