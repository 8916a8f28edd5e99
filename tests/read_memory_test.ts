// readMemory.keepFreedMemory (decision P3): the first read copied into fresh memory sets glibc's
// mmap and trim thresholds, so memory freed in a batch stays in the heap. Each case runs in a
// child process of its own (the setting is once per process) and reads glibc's own accounting:
// 24 blocks of 1 MiB are served from the heap and stay there once freed, or they are not.
import { assert, assertEquals } from "@std/assert";
import { keepFreedMemory, mallocStats } from "../ffi/sys.ts";
import { READ_BUF, takeRead } from "../loop/base/_read_pool.ts";

const LINUX = Deno.build.os === "linux";
const ROOT = new URL("../", import.meta.url).href;
const MiB = 1024 * 1024;

const CHILD = `
import { READ_BUF, takeRead } from "${ROOT}loop/base/_read_pool.ts";
import { readMemory } from "${ROOT}mod.ts";
import { mallocStats } from "${ROOT}ffi/sys.ts";
if (Deno.args.includes("off")) readMemory.keepFreedMemory = false;
const libc = Deno.dlopen("libc.so.6", {
  malloc: { parameters: ["usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
});
if (!Deno.args.includes("no-read")) takeRead(READ_BUF, 8192);
const before = mallocStats();
const blocks = Array.from({ length: 24 }, () => libc.symbols.malloc(${MiB}n));
const during = mallocStats();
for (const p of blocks) libc.symbols.free(p);
const after = mallocStats();
console.log(JSON.stringify({ before, during, after, nulls: blocks.filter((p) => p === null).length }));
`;

interface Stats {
  heap: number;
  mmapped: number;
}
interface Outcome {
  before: Stats;
  during: Stats;
  after: Stats;
  nulls: number;
}

async function child(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  // `deno eval` runs with every permission: FFI for the child's malloc, env for GLIBC_TUNABLES.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", CHILD, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert(out.success, `the child failed: ${new TextDecoder().decode(out.stderr)}`);
  const o = JSON.parse(text) as Outcome;
  assertEquals(o.nulls, 0, "malloc failed");
  return o;
}

// Heap grown and kept: the blocks came from the heap, and freeing them trimmed nothing.
function kept(o: Outcome): boolean {
  return o.during.mmapped - o.before.mmapped < MiB && o.after.heap - o.before.heap >= 24 * MiB;
}

Deno.test({
  name: "readMemory: the first large read keeps freed memory in glibc's heap",
  ignore: !LINUX,
  sanitizeResources: false,
  async fn() {
    const o = await child([]);
    assert(kept(o), `not kept: ${JSON.stringify(o)}`);
  },
});

Deno.test({
  name: "readMemory: glibc's defaults until a large read, and with keepFreedMemory = false",
  ignore: !LINUX,
  async fn() {
    for (const args of [["no-read"], ["off"]]) {
      const o = await child(args);
      // glibc's own thresholds: the blocks were mmapped, or the heap that served them was trimmed.
      assert(!kept(o), `kept with ${args}: ${JSON.stringify(o)}`);
      assert(
        o.after.heap - o.before.heap < 8 * MiB,
        `heap kept with ${args}: ${JSON.stringify(o)}`,
      );
    }
  },
});

Deno.test({
  name: "readMemory: a GLIBC_TUNABLES malloc threshold of the user's wins",
  ignore: !LINUX,
  async fn() {
    const o = await child([], { GLIBC_TUNABLES: "glibc.malloc.trim_threshold=131072" });
    assert(!kept(o), `kept despite GLIBC_TUNABLES: ${JSON.stringify(o)}`);
  },
});

Deno.test({
  name: "readMemory: a tuning that cannot be made never fails the read (no --allow-ffi)",
  ignore: !LINUX,
  async fn() {
    const script = `
      import { READ_BUF, takeRead } from "${ROOT}loop/base/_read_pool.ts";
      READ_BUF.fill(5, 0, 8192);
      const a = takeRead(READ_BUF, 8192);
      console.log(a.byteLength, a[8191]);
      try {
        Deno.dlopen("libc.so.6", {});
        console.log("ffi allowed");
      } catch (e) {
        console.log(e.constructor.name);
      }`;
    // `deno eval` grants every permission: a file run with `deno run` gets only what it is given.
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    let out: Deno.CommandOutput;
    try {
      await Deno.writeTextFile(file, script);
      out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", "--allow-read", file],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    } finally {
      await Deno.remove(file);
    }
    const err = new TextDecoder().decode(out.stderr);
    assert(out.success, `the read failed: ${err}`);
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    assertEquals(lines[0], "8192 5");
    assert(lines[1] !== "ffi allowed", "the child could open libc: the case is not tested");
  },
});

Deno.test("readMemory: large reads are still copies of their own; off Linux nothing is tuned", () => {
  const src = READ_BUF;
  src.fill(7, 0, 8192);
  const a = takeRead(src, 8192);
  src.fill(9, 0, 8192);
  assertEquals(a.byteLength, 8192);
  assert(a.every((b) => b === 7), "the read's bytes changed with the read buffer");
  assert(a.buffer !== src.buffer);
  if (LINUX) {
    assertEquals(keepFreedMemory(), true);
    const s = mallocStats();
    assert(s !== null && s.heap >= s.inUse && s.heap >= s.free);
  } else {
    assertEquals(keepFreedMemory(), false);
    assertEquals(mallocStats(), null);
  }
});
