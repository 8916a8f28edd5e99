/**
 * Why a read cannot get memory of our own that we free early (issue 13,
 * bench/README.md section F): an `ArrayBuffer` made over a `malloc` block
 * with `Deno.UnsafePointerView.getArrayBuffer()` can be detached, and
 * `transfer()` or `structuredClone(..., { transfer })` moves the same memory
 * into a new buffer. Freeing the block when the first buffer is collected
 * would leave the new one pointing at freed memory.
 *
 * Run: `deno run --allow-ffi bench/external_buffer_transfer.ts`
 *
 * @module
 */
const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libc.dylib" : "libc.so.6", {
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
});
const SIZE = 1024;

function check(how: string, move: (ab: ArrayBuffer) => ArrayBuffer): void {
  const p = libc.symbols.malloc(BigInt(SIZE));
  if (p === null) throw new Error("malloc failed");
  try {
    const ab = Deno.UnsafePointerView.getArrayBuffer(p, SIZE);
    const moved = move(ab);
    new Uint8Array(moved)[0] = 0x5a;
    const aliased = new Deno.UnsafePointerView(p).getUint8(0) === 0x5a;
    console.log(
      `${how}: old buffer ${ab.detached ? "detached" : "kept"}, ` +
        `new buffer ${aliased ? "is the same malloc memory" : "is a copy"}`,
    );
  } finally {
    libc.symbols.free(p);
  }
}

check("transfer()", (ab) => ab.transfer());
check("structuredClone transfer", (ab) => structuredClone(ab, { transfer: [ab] }));
libc.close();
