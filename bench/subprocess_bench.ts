/**
 * Subprocess benchmarks: spawn and wait of `true` N times (200), and
 * SIZE MiB (100) through `cat` with `communicate()`, for @aio/loop,
 * `Deno.Command` and CPython asyncio (bench/peers/asyncio_subprocess.py),
 * in one run; prints a markdown table (medians of `--reps`, default 3).
 *
 * Run: `deno run -A bench/subprocess_bench.ts --report [--reps=3] [--n=200] [--mib=100]`
 * Under `deno bench` (no `--report`) it registers smaller `Deno.bench` cases.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { PIPE, run } from "../mod.ts";
import { createSubprocessExec } from "../streams/mod.ts";
import { intArg } from "./_workload.ts";

function payload(mib: number): Uint8Array {
  const block = new Uint8Array(1 << 16);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31) & 0xff;
  const out = new Uint8Array(mib << 20);
  for (let off = 0; off < out.length; off += block.length) out.set(block, off);
  return out;
}

async function aioSpawnWait(n: number): Promise<number> {
  return await run(async () => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await (await createSubprocessExec(["true"])).wait();
    return performance.now() - t;
  }, { handleSigint: false });
}

async function aioCat(input: Uint8Array): Promise<number> {
  return await run(async () => {
    const t = performance.now();
    const proc = await createSubprocessExec(["cat"], { stdin: PIPE, stdout: PIPE });
    const [out] = await proc.communicate(input);
    const ms = performance.now() - t;
    if (out!.length !== input.length) throw new Error("cat lost data");
    return ms;
  }, { handleSigint: false });
}

async function denoSpawnWait(n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await new Deno.Command("true").output();
  return performance.now() - t;
}

async function denoCat(input: Uint8Array): Promise<number> {
  const t = performance.now();
  const child = new Deno.Command("cat", { stdin: "piped", stdout: "piped" }).spawn();
  const writing = (async () => {
    const w = child.stdin.getWriter();
    await w.write(input);
    await w.close();
  })();
  const [out] = await Promise.all([new Response(child.stdout).bytes(), writing]);
  await child.status;
  const ms = performance.now() - t;
  if (out.length !== input.length) throw new Error("cat lost data");
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function asyncioPeer(n: number, mib: number): Promise<Record<string, number>> {
  const script = fileURLToPath(new URL("./peers/asyncio_subprocess.py", import.meta.url));
  const out = await new Deno.Command("python3", {
    args: [script, `--n=${n}`, `--mib=${mib}`],
    stdout: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
  return {
    spawn: lines.find((l) => l.workload === "spawn_wait").ms,
    cat: lines.find((l) => l.workload === "cat_pipe").ms,
  };
}

async function report(): Promise<void> {
  const reps = intArg("reps", 3), n = intArg("n", 200), mib = intArg("mib", 100);
  const input = payload(mib);
  const r: Record<string, { spawn: number[]; cat: number[] }> = {
    "@aio/loop": { spawn: [], cat: [] },
    "Deno.Command": { spawn: [], cat: [] },
    "asyncio (CPython)": { spawn: [], cat: [] },
  };
  await aioSpawnWait(10); // warm-up: JIT and dlopen
  await aioCat(payload(4));
  for (let i = 0; i < reps; i++) {
    r["@aio/loop"].spawn.push(await aioSpawnWait(n));
    r["@aio/loop"].cat.push(await aioCat(input));
    r["Deno.Command"].spawn.push(await denoSpawnWait(n));
    r["Deno.Command"].cat.push(await denoCat(input));
    const py = await asyncioPeer(n, mib);
    r["asyncio (CPython)"].spawn.push(py.spawn);
    r["asyncio (CPython)"].cat.push(py.cat);
  }
  console.log(
    `| | spawn + wait of \`true\` ×${n} (ms) | spawns/s | ${mib} MiB through \`cat\` (ms) | MiB/s |`,
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const [impl, { spawn, cat }] of Object.entries(r)) {
    const s = median(spawn), c = median(cat);
    console.log(
      `| ${impl} | ${s.toFixed(0)} | ${(n / s * 1000).toFixed(0)} | ${c.toFixed(0)} | ${
        (mib / c * 1000).toFixed(0)
      } |`,
    );
  }
  console.log(
    `\nmedians of ${reps} runs; Deno ${Deno.version.deno}, ${Deno.build.os} ${Deno.build.arch}`,
  );
}

if (Deno.args.includes("--report")) {
  await report();
} else {
  const small = payload(8);
  Deno.bench(
    "@aio/loop: spawn + wait of true ×20",
    { group: "spawn", baseline: true },
    async () => {
      await aioSpawnWait(20);
    },
  );
  Deno.bench("Deno.Command: spawn + wait of true ×20", { group: "spawn" }, async () => {
    await denoSpawnWait(20);
  });
  Deno.bench("@aio/loop: 8 MiB through cat", { group: "cat", baseline: true }, async () => {
    await aioCat(small);
  });
  Deno.bench("Deno.Command: 8 MiB through cat", { group: "cat" }, async () => {
    await denoCat(small);
  });
}
