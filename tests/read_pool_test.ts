import { assert, assertEquals } from "@std/assert";
import { POOLED_MAX, SLAB_SIZE, takeRead } from "../loop/base/_read_pool.ts";

function filled(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i * 7) & 0xff;
  return b;
}

Deno.test("takeRead() hands out small reads as disjoint, aligned, stable views", () => {
  const src = new Uint8Array(256 * 1024);
  const taken: [Uint8Array, Uint8Array][] = [];
  // Enough reads to fill several slabs, with odd sizes.
  for (let i = 0, total = 0; total < 3 * SLAB_SIZE; i++) {
    const n = 1 + ((i * 977) % POOLED_MAX);
    const want = filled(n, i);
    src.set(want);
    const got = takeRead(src, n);
    assertEquals(got.byteLength, n);
    assertEquals(got.byteOffset % 8, 0);
    taken.push([got, want]);
    src.fill(0xee, 0, n); // the read buffer is reused: the copies must not follow it
    total += n;
  }
  for (const [got, want] of taken) assertEquals(got, want);
  // Views sharing a slab never overlap.
  for (let i = 1; i < taken.length; i++) {
    const [a] = taken[i - 1], [b] = taken[i];
    assert(a.buffer !== b.buffer || a.byteOffset + a.byteLength <= b.byteOffset);
  }
});

Deno.test("takeRead() gives reads above POOLED_MAX their own buffer", () => {
  const src = filled(POOLED_MAX + 1, 3);
  const got = takeRead(src, POOLED_MAX + 1);
  assertEquals(got, src);
  assertEquals(got.byteOffset, 0);
  assertEquals(got.buffer.byteLength, POOLED_MAX + 1);
  assert(got.buffer !== src.buffer);
});

Deno.test("takeRead() replaces a slab whose buffer a caller transferred", () => {
  const first = takeRead(filled(16, 1), 16);
  const at = first.byteOffset;
  const moved = (first.buffer as ArrayBuffer).transfer(); // detaches the shared slab
  assertEquals(first.byteLength, 0);
  assertEquals(new Uint8Array(moved, at, 16), filled(16, 1));
  const next = takeRead(filled(32, 2), 32);
  assertEquals(next, filled(32, 2));
  assert(next.buffer !== moved && !(next.buffer as ArrayBuffer).detached);
});
