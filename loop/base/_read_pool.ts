/**
 * The copy a readiness transport hands its protocol after each read. Deno
 * allocates every ArrayBuffer off the V8 heap (no typed array lives on it),
 * so a fresh one costs ~1 µs here, as much as the `recv` itself: small reads
 * are therefore copied into a shared slab and handed out as views of it, as
 * Node's Buffer pool does. A slab region is never written again once handed
 * out; a slab whose buffer was transferred (detached) is replaced.
 *
 * @module
 */
import { _freshMemory } from "./read_memory.ts";

/**
 * The buffer every readiness transport reads into before `takeRead()`
 * copies the bytes out (256 KiB, asyncio's `max_size`): JS is single
 * threaded, and nothing else runs between the read and the copy.
 */
export const READ_BUF: Uint8Array = new Uint8Array(new ArrayBuffer(256 * 1024));

/** The slab size. */
export const SLAB_SIZE = 64 * 1024;
/** Reads up to this many bytes share a slab; larger ones get their own buffer. */
export const POOLED_MAX = 4 * 1024;

let slab = new Uint8Array(new ArrayBuffer(SLAB_SIZE));
let used = 0;

/**
 * The first `n` bytes of `src` as the protocol's own bytes: a view into the
 * shared slab when `n` is at most {@linkcode POOLED_MAX}, else a fresh copy.
 */
export function takeRead(src: Uint8Array, n: number): Uint8Array {
  if (n > POOLED_MAX) {
    _freshMemory();
    return src.slice(0, n);
  }
  let at = used;
  if (at + n > SLAB_SIZE || slab.buffer.detached) {
    slab = new Uint8Array(new ArrayBuffer(SLAB_SIZE));
    at = 0;
  }
  // Keep each view 8-byte aligned, so a caller may lay a wider typed array over it.
  used = (at + n + 7) & ~7;
  slab.set(n === src.byteLength ? src : src.subarray(0, n), at);
  return slab.subarray(at, at + n);
}
