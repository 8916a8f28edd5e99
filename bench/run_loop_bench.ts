/**
 * The loop-core benchmark driver (issue B): runs every workload for @aio/loop
 * and its peers (CPython asyncio, Deno's native TCP) interleaved, `--reps`
 * times each (5 by default), each run in a fresh process that times itself
 * (startup excluded). Prints medians and ratios, writes
 * bench/results/loop.json and regenerates the tables in bench/README.md
 * between the `loop-bench` markers.
 *
 * Run: `deno run --allow-run --allow-read --allow-write=bench bench/run_loop_bench.ts`
 * Options: `--reps=N`, `--only=call_soon,timers,sock_pingpong,wakeup`, `--no-readme`.
 *
 * @module
 */
import { updateReadmeSection } from "./_readme.ts";
import { fileURLToPath } from "node:url";

const BENCH = fileURLToPath(new URL(".", import.meta.url));
const DENO = Deno.execPath();
const PY = "python3";

type Result = Record<string, number | string>;

interface Impl {
  impl: string;
  cmd: string[];
}

interface Workload {
  name: string;
  title: string;
  impls: Impl[];
  /** The figures to show: [field, column title, higher is better]. */
  fields: [string, string, boolean][];
  /** The figure ratios are taken on. */
  ratioOn: string;
  goal?: { peer: string; factor: number };
}

const deno = (file: string, ...flags: string[]) => [DENO, "run", ...flags, `${BENCH}${file}`];
const py = (file: string) => [PY, `${BENCH}peers/${file}`];

const WORKLOADS: Workload[] = [
  {
    name: "call_soon",
    title: "callSoon chain of 1,000,000 callbacks",
    impls: [
      { impl: "aio", cmd: deno("loop_call_soon.ts", "--allow-ffi") },
      { impl: "asyncio", cmd: py("asyncio_call_soon.py") },
    ],
    fields: [["ms", "time (ms)", false], ["perSec", "callbacks/s", true]],
    ratioOn: "perSec",
    goal: { peer: "asyncio", factor: 10 },
  },
  {
    name: "timers",
    title: "100,000 callLater (uniform 0–10 ms, seeded), half cancelled, run to the last",
    impls: [
      { impl: "aio", cmd: deno("loop_timers.ts", "--allow-ffi") },
      { impl: "asyncio", cmd: py("asyncio_timers.py") },
    ],
    fields: [
      ["ms", "total (ms)", false],
      ["scheduleMs", "schedule (ms)", false],
      ["cancelMs", "cancel (ms)", false],
      ["runMs", "run (ms)", false],
    ],
    ratioOn: "ms",
    goal: { peer: "asyncio", factor: 5 },
  },
  {
    name: "sock_pingpong",
    title: "`sock*` ping-pong, 64-byte messages, one loopback TCP connection, 20,000 round trips",
    impls: [
      { impl: "aio", cmd: deno("loop_sock_pingpong.ts", "--allow-ffi") },
      { impl: "asyncio", cmd: py("asyncio_sock_pingpong.py") },
      { impl: "deno_native", cmd: deno("deno_native_pingpong.ts", "--allow-net") },
    ],
    fields: [
      ["perSec", "round trips/s", true],
      ["p50Us", "p50 (µs)", false],
      ["p99Us", "p99 (µs)", false],
    ],
    ratioOn: "perSec",
    goal: { peer: "asyncio, deno_native", factor: 1 }, // "ahead of both"
  },
  {
    name: "wakeup",
    title: "wake-up latency of a parked loop, 2,000 samples " +
      "(aio: Deno setTimeout → callSoon; asyncio: thread → call_soon_threadsafe)",
    impls: [
      { impl: "aio", cmd: deno("loop_wakeup.ts", "--allow-ffi") },
      { impl: "asyncio", cmd: py("asyncio_wakeup.py") },
    ],
    fields: [["p50Us", "p50 (µs)", false], ["p99Us", "p99 (µs)", false]],
    ratioOn: "p50Us",
  },
];

function arg(name: string): string | undefined {
  const a = Deno.args.find((s) => s === `--${name}` || s.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
}

async function runOnce(cmd: string[]): Promise<Result> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: `${BENCH}peers`, // the Python peers import _peer.py from here
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cmd.slice(-1)[0]} exited with ${out.code}: ${err}`);
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** How many times better `ours` is than `peer` on a figure (> 1: ours is better). */
function ratio(ours: number, peer: number, higherBetter: boolean): number {
  return higherBetter ? ours / peer : peer / ours;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (x >= 1000) return Math.round(x).toLocaleString("en-US");
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

async function sh(cmd: string, ...args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "";
  }
}

// Through subprocesses: Deno wants --allow-all to read /proc.
async function machine(): Promise<string> {
  const cpu = (await sh("grep", "-m1", "model name", "/proc/cpuinfo")).split(":")[1]?.trim();
  return `${cpu ?? "unknown CPU"}, ${navigator.hardwareConcurrency} cores, ` +
    `Linux ${await sh("uname", "-r")}; Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ` +
    `${await sh(PY, "--version")}`;
}

async function main(): Promise<void> {
  const reps = Number(arg("reps") ?? 5);
  const only = arg("only")?.split(",");
  const workloads = WORKLOADS.filter((w) => only === undefined || only.includes(w.name));
  const runs = new Map<string, Result[]>(); // "workload/impl" -> one result per rep
  const errors = new Map<string, string>();
  const started = performance.now();

  for (let rep = 0; rep < reps; rep++) {
    for (const w of workloads) {
      // Alternate the order each repetition, so neither side always runs on a warmer machine.
      const impls = rep % 2 === 0 ? w.impls : [...w.impls].reverse();
      for (const { impl, cmd } of impls) {
        const id = `${w.name}/${impl}`;
        if (errors.has(id)) continue;
        try {
          const r = await runOnce(cmd);
          runs.set(id, [...runs.get(id) ?? [], r]);
          const shown = w.fields.map(([f]) => `${f}=${fmt(r[f] as number)}`).join(" ");
          console.error(`rep ${rep + 1}/${reps} ${id.padEnd(26)} ${shown}`);
        } catch (e) {
          errors.set(id, (e as Error).message);
          console.error(`rep ${rep + 1}/${reps} ${id}: FAILED ${(e as Error).message}`);
        }
      }
    }
  }

  const summary = workloads.map((w) => {
    const impls = w.impls.map(({ impl }) => {
      const rs = runs.get(`${w.name}/${impl}`) ?? [];
      const med: Record<string, number> = {};
      for (const [f] of w.fields) med[f] = rs.length ? median(rs.map((r) => r[f] as number)) : NaN;
      const on = rs.map((r) => r[w.ratioOn] as number);
      const range = [Math.min(...on), Math.max(...on)];
      return { impl, reps: rs.length, median: med, range, error: errors.get(`${w.name}/${impl}`) };
    });
    const ours = impls.find((i) => i.impl === "aio")!;
    const higher = w.fields.find(([f]) => f === w.ratioOn)![2];
    // Ratio of the medians, and the median of the per-repetition ratios: the runs of one
    // repetition ran back to back, so pairing them cancels part of the machine's drift.
    const ratios: Record<string, number> = {};
    const paired: Record<string, { median: number; min: number; max: number }> = {};
    const oursRuns = runs.get(`${w.name}/aio`) ?? [];
    for (const p of impls) {
      if (p.impl === "aio") continue;
      ratios[p.impl] = ratio(ours.median[w.ratioOn], p.median[w.ratioOn], higher);
      const peerRuns = runs.get(`${w.name}/${p.impl}`) ?? [];
      const per = oursRuns.slice(0, peerRuns.length).map((o, i) =>
        ratio(o[w.ratioOn] as number, peerRuns[i][w.ratioOn] as number, higher)
      );
      paired[p.impl] = per.length
        ? { median: median(per), min: Math.min(...per), max: Math.max(...per) }
        : { median: NaN, min: NaN, max: NaN };
    }
    return {
      workload: w.name,
      title: w.title,
      ratioOn: w.ratioOn,
      goal: w.goal,
      impls,
      ratios,
      paired,
    };
  });

  // --- Report -------------------------------------------------------------------

  const lines: string[] = [];
  for (const [i, w] of workloads.entries()) {
    const s = summary[i];
    lines.push(`**${w.title}** — ratio on \`${w.ratioOn}\` (> 1: @aio/loop is better)`, "");
    const onTitle = w.fields.find(([f]) => f === w.ratioOn)![1];
    lines.push(
      `| impl | ${
        w.fields.map(([, t]) => t).join(" | ")
      } | min–max ${onTitle} | aio better by (ratio of medians) | per-rep ratios: median (min–max) |`,
    );
    lines.push(`|---|${w.fields.map(() => "---:").join("|")}|---:|---:|---:|`);
    for (const p of s.impls) {
      const cells = p.error !== undefined && p.reps === 0
        ? w.fields.map(() => "failed")
        : w.fields.map(([f]) => fmt(p.median[f]));
      const r = p.impl === "aio" ? "—" : `${fmt(s.ratios[p.impl])}×`;
      const q = s.paired[p.impl];
      const pr = q === undefined ? "—" : `${fmt(q.median)}× (${fmt(q.min)}–${fmt(q.max)})`;
      const range = p.reps ? `${fmt(p.range[0])}–${fmt(p.range[1])}` : "–";
      lines.push(`| ${p.impl} | ${cells.join(" | ")} | ${range} | ${r} | ${pr} |`);
    }
    if (w.goal !== undefined) {
      const peers = w.goal.peer.split(", ");
      const met = peers.every((p) => s.ratios[p] >= w.goal!.factor);
      const metPaired = peers.every((p) => s.paired[p].median >= w.goal!.factor);
      const verdict = met === metPaired
        ? (met ? "met" : "missed")
        : `${met ? "met" : "missed"} on the ratio of medians, ${
          metPaired ? "met" : "missed"
        } on the per-rep ratios`;
      const better = w.goal.factor === 1 ? "ahead of" : `≥ ${w.goal.factor}×`;
      lines.push("", `Goal: ${better} ${w.goal.peer} — **${verdict}**.`);
    }
    lines.push("");
  }
  const machineLine = await machine();
  const elapsed = (performance.now() - started) / 1000;
  const table = [
    `Medians of ${reps} interleaved runs, ${new Date().toISOString().slice(0, 10)}, ` +
    `driver wall time ${elapsed.toFixed(0)} s.`,
    `Machine: ${machineLine}.`,
    "",
    ...lines,
  ].join("\n");
  console.log(table);

  await Deno.mkdir(`${BENCH}results`, { recursive: true });
  await Deno.writeTextFile(
    `${BENCH}results/loop.json`,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: machineLine,
        reps,
        summary,
        runs: Object.fromEntries(runs),
      },
      null,
      2,
    ) + "\n",
  );

  if (arg("no-readme") === undefined && only === undefined) {
    await updateReadmeSection(
      "<!-- loop-bench:begin (generated by run_loop_bench.ts) -->",
      "<!-- loop-bench:end -->",
      table,
    );
  }
}

// `deno bench bench/` (the `bench` task) imports every *_bench.ts: only run when executed.
if (import.meta.main) await main();
