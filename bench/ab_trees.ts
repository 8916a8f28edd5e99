/**
 * A/B of two checkouts in one sitting: the same workloads from a "before"
 * tree and an "after" tree (e.g. a git worktree of the commit before a change,
 * and the working tree), interleaved, each repetition in a fresh process,
 * with the peers measured in the same run, so that "no ratio worse by more
 * than the noise" can be read off one table.
 *
 * Workloads (each side runs its own tree's copy, from that tree's directory,
 * so its own imports are used):
 *
 * - `call_soon`: bench/loop_call_soon.ts (callbacks/s); peer
 *   bench/peers/asyncio_call_soon.py.
 * - `timers`: bench/loop_timers.ts (total ms); peer bench/peers/asyncio_timers.py.
 * - `echo`: bench/echo/aio_protocol_server.ts `--selector=epoll` (requests/s at
 *   10 connections × 1 KiB, the C load client); peer the uvloop protocol server
 *   (bench/echo/asyncio_protocol_server.py `--uvloop` on Debian's /usr/bin/python3).
 *   Servers pinned to core 1, the client to core 0, each repetition with fresh
 *   servers (they idle while another is measured), as run_echo_bench.ts does.
 *
 * The peers (asyncio, uvloop) are one process per repetition, taken from one
 * tree (`--peers-from`, the before tree by default), and shared by both sides:
 * "aio vs peer" is computed for before and after against the same runs.
 * Within a repetition the order of before, after and the peer cycles through
 * all six permutations (so before and after alternate going first, and the
 * peer moves around them).
 *
 * Noise: the per-repetition after/before ratios (median, min–max), and an A/A
 * estimate per side: the median of its even repetitions against the median of
 * its odd ones (the same code against itself; half the reps per median, and,
 * as the orders alternate, even against odd is also "ran before the other
 * side" against "ran after it", so it errs on the large side). `noise` is the
 * larger of the two sides' |1 − A/A|; a workload is "worse beyond the noise"
 * when both the ratio of medians and the median per-repetition ratio are
 * below 1 − noise (no verdict under 5 repetitions). Comparing a tree against itself
 * (`--after=` the same directory as `--before=`) measures the same thing directly.
 *
 * Writes bench/results/ab_trees.json (`--out=` elsewhere), prints a Markdown
 * table and regenerates the `ab-trees` block of bench/README.md (not with
 * `--no-readme` or `--only`).
 *
 * Run:
 *   deno run --allow-run --allow-read --allow-write bench/ab_trees.ts \
 *     --before=/work/baseline --after=. --reps=12
 * (about 12 s per repetition here.) Options: `--reps=7` (the default; 12 runs
 * each of the six orders twice), `--only=call_soon,timers,echo`, `--peers-from=before|after`,
 * `--call-soon-n=1000000`, `--timers-n=100000` (passed as `--n=` to both sides
 * and the peer), `--duration=2` `--warmup=0.5` (s per echo run), `--conns=10`,
 * `--size=1024`, `--out=bench/results/ab_trees.json`, `--no-readme`.
 *
 * @module
 */
import { resolve } from "node:path";
import {
  canPin,
  compileC,
  machineInfo,
  output,
  pickPython,
  readProc,
  ROOT,
  runClient,
  RunningServer,
  type ServerSpec,
  updateReadme,
} from "./echo/_procs.ts";

const DENO = Deno.execPath();
/** The interpreter of the asyncio loop peers: the same as run_loop_bench.ts. */
const PY = "python3";

const arg = (name: string): string | undefined =>
  Deno.args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.slice(name.length + 3);

type Result = Record<string, number | string>;
/** Who ran: the two trees' aio, and the peer. */
type Who = "before" | "after" | "peer";
const WHO: Who[] = ["before", "after", "peer"];
/** The six orders, alternating which of before/after goes first. */
const ORDERS: Who[][] = [
  ["before", "after", "peer"],
  ["after", "before", "peer"],
  ["peer", "before", "after"],
  ["peer", "after", "before"],
  ["before", "peer", "after"],
  ["after", "peer", "before"],
];

/** Fewer before/after pairs than this give numbers but no verdict. */
const MIN_PAIRS = 5;

interface Tree {
  side: "before" | "after";
  dir: string;
  commit: string;
  /** Files that differ from the commit (tracked), from `git status`. */
  dirty: number;
}

interface Workload {
  name: string;
  title: string;
  peer: string;
  /** The figure compared. */
  metric: string;
  metricTitle: string;
  higherBetter: boolean;
  /** Other figures, reported (medians) but not compared. */
  extra: [string, string][];
  /** Runs one repetition in `order`; one result (or error) per runner. */
  rep(order: Who[], rep: number): Promise<Map<Who, Result | Error>>;
}

/** The telling part of a failed run's stderr: its `error` lines, else its last lines. */
function errorLines(stderr: string): string {
  // deno colours its errors even into a pipe when NO_COLOR is not set.
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l));
  return (errors.length ? errors.slice(0, 3) : lines.slice(-4)).join(" | ");
}

/** Runs `cmd` in `cwd` to completion and parses the last line of its stdout as JSON. */
async function runJson(cmd: string[], cwd: string, timeoutMs = 300_000): Promise<Result> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  if (!out.success) {
    throw new Error(
      `${cmd.at(-1)} (in ${cwd}) exited with ${out.code}: ${
        errorLines(new TextDecoder().decode(out.stderr))
      }`,
    );
  }
  const last = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  return JSON.parse(last);
}

/** A workload that is one process per runner: each `cmds[who]` run in `cwds[who]`. */
function processWorkload(
  w: Omit<Workload, "rep">,
  cmds: Record<Who, string[]>,
  cwds: Record<Who, string>,
): Workload {
  return {
    ...w,
    async rep(order) {
      const out = new Map<Who, Result | Error>();
      for (const who of order) {
        try {
          out.set(who, await runJson(cmds[who], cwds[who]));
        } catch (e) {
          out.set(who, e as Error);
        }
      }
      return out;
    },
  };
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

function stat(xs: number[]): Stat {
  const s = xs.filter(Number.isFinite);
  return s.length === 0
    ? { median: NaN, min: NaN, max: NaN, n: 0 }
    : { median: median(s), min: Math.min(...s), max: Math.max(...s), n: s.length };
}

/** How many times better `a` is than `b` (> 1: `a` is better). */
function better(a: number, b: number, higherBetter: boolean): number {
  return higherBetter ? a / b : b / a;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US");
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const ratioCell = (x: number) => (Number.isFinite(x) ? `${x.toFixed(3)}×` : "–");
const statCell = (s: Stat, f: (x: number) => string = fmt) =>
  s.n === 0 ? "–" : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

async function describeTree(side: "before" | "after", dir: string): Promise<Tree> {
  // Read-only git: no optional locks (no index refresh written by `status`).
  const git = async (...args: string[]) => {
    try {
      const out = await new Deno.Command("git", {
        args: ["-C", dir, ...args],
        env: { GIT_OPTIONAL_LOCKS: "0" },
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
    } catch {
      return "";
    }
  };
  const commit = await git("log", "-1", "--format=%h %s");
  const status = await git("status", "--porcelain", "--untracked-files=no");
  return {
    side,
    dir,
    commit: commit || "not a git checkout",
    dirty: status ? status.split("\n").length : 0,
  };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const reps = Number(arg("reps") ?? 7);
  const only = arg("only")?.split(",").map((s) => s.trim()).filter(Boolean);
  const beforeDir = resolve(arg("before") ?? "/work/baseline");
  const afterDir = resolve(arg("after") ?? ".");
  const peersFrom = arg("peers-from") ?? "before";
  if (peersFrom !== "before" && peersFrom !== "after") {
    throw new RangeError("--peers-from must be before or after");
  }
  const peerDir = peersFrom === "before" ? beforeDir : afterDir;
  const callSoonN = arg("call-soon-n");
  const timersN = arg("timers-n");
  const duration = Number(arg("duration") ?? 2);
  const warmup = Number(arg("warmup") ?? 0.5);
  const conns = Number(arg("conns") ?? 10);
  const size = Number(arg("size") ?? 1024);
  const outPath = resolve(arg("out") ?? `${ROOT}bench/results/ab_trees.json`);
  const writeReadme = arg("no-readme") === undefined && only === undefined;

  for (const dir of [beforeDir, afterDir]) {
    await Deno.stat(`${dir}/bench/loop_call_soon.ts`).catch(() => {
      throw new Error(`${dir} has no bench/loop_call_soon.ts: not a checkout of this project`);
    });
  }
  const trees = [await describeTree("before", beforeDir), await describeTree("after", afterDir)];
  const dirOf = { before: beforeDir, after: afterDir };

  const nArg = (n: string | undefined) => (n === undefined ? [] : [`--n=${n}`]);
  const aio = (file: string, n: string | undefined) => ({
    before: [DENO, "run", "--allow-ffi", `${beforeDir}/bench/${file}`, ...nArg(n)],
    after: [DENO, "run", "--allow-ffi", `${afterDir}/bench/${file}`, ...nArg(n)],
  });
  // The Python peers import _peer.py from their own directory.
  const loopCwds = { before: beforeDir, after: afterDir, peer: `${peerDir}/bench/peers` };

  const workloads: Workload[] = [];
  workloads.push(processWorkload(
    {
      name: "call_soon",
      title: `callSoon chain of ${
        Number(callSoonN ?? 1_000_000).toLocaleString("en-US")
      } callbacks`,
      peer: "asyncio",
      metric: "perSec",
      metricTitle: "callbacks/s",
      higherBetter: true,
      extra: [["ms", "ms"]],
    },
    {
      ...aio("loop_call_soon.ts", callSoonN),
      peer: [PY, `${peerDir}/bench/peers/asyncio_call_soon.py`, ...nArg(callSoonN)],
    },
    loopCwds,
  ));
  workloads.push(processWorkload(
    {
      name: "timers",
      title: `${
        Number(timersN ?? 100_000).toLocaleString("en-US")
      } callLater (uniform 0–10 ms, seeded), half cancelled, run to the last`,
      peer: "asyncio",
      metric: "ms",
      metricTitle: "total ms",
      higherBetter: false,
      extra: [["scheduleMs", "schedule ms"], ["cancelMs", "cancel ms"], ["runMs", "run ms"]],
    },
    {
      ...aio("loop_timers.ts", timersN),
      peer: [PY, `${peerDir}/bench/peers/asyncio_timers.py`, ...nArg(timersN)],
    },
    loopCwds,
  ));

  // --- Echo ---------------------------------------------------------------------
  const { python, uvloop } = await pickPython();
  const pin = await canPin();
  const echoWanted = only === undefined || only.includes("echo");
  if (echoWanted) await compileC(); // load_client.c of this tree, into .cache/echo/
  // Each tree's server, started from that tree's directory (taskset is applied
  // outside, and `cd` then `exec`: the pid RunningServer holds is the server's own).
  const inTree = (dir: string, cmd: string[]) => [
    "sh",
    "-c",
    'cd "$0" && export NO_COLOR=1 && exec "$@"',
    dir,
    ...cmd,
  ];
  const aioServer = (side: "before" | "after"): ServerSpec => ({
    id: `aio_epoll_${side}`,
    label: `aio protocol, epoll (${side})`,
    cmd: inTree(dirOf[side], [
      DENO,
      "run",
      "--allow-ffi",
      `${dirOf[side]}/bench/echo/aio_protocol_server.ts`,
      "--selector=epoll",
    ]),
    js: true,
  });
  const echoSpecs: Record<Who, ServerSpec> = {
    before: aioServer("before"),
    after: aioServer("after"),
    peer: {
      id: "uvloop_protocol",
      label: "uvloop protocol",
      cmd: [python, `${peerDir}/bench/echo/asyncio_protocol_server.py`, "--uvloop"],
      js: false,
      missing: uvloop
        ? undefined
        : "uvloop is not installed for /usr/bin/python3 (apt-get install python3-uvloop)",
    },
  };
  const sizeName = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
  workloads.push({
    name: "echo",
    title: `echo, ${conns} connections × ${sizeName}, protocol server on EpollSelector ` +
      `(${warmup} s warm-up, ${duration} s measured per run)`,
    peer: "uvloop protocol",
    metric: "rps",
    metricTitle: "requests/s",
    higherBetter: true,
    extra: [["p50Us", "p50 µs"], ["p99Us", "p99 µs"], ["cpuUsPerReq", "server CPU µs/req"]],
    async rep(order) {
      const out = new Map<Who, Result | Error>();
      const running = new Map<Who, RunningServer>();
      for (const who of WHO) {
        const spec = echoSpecs[who];
        if (spec.missing) {
          out.set(who, new Error(spec.missing));
          continue;
        }
        try {
          running.set(who, await RunningServer.start(spec, 1, pin));
        } catch (e) {
          out.set(who, new Error(`did not start: ${errorLines((e as Error).message)}`));
        }
      }
      for (const who of order) {
        const server = running.get(who);
        if (!server) continue;
        const cpu0 = (await server.stat()).cpuMs, w0 = performance.now();
        const res = await runClient(
          [
            `--port=${server.port}`,
            `--conns=${conns}`,
            `--size=${size}`,
            `--duration=${duration}`,
            `--warmup=${warmup}`,
          ],
          0,
          pin,
          (warmup + duration + 15) * 1000,
        );
        const cpuMs = (await server.stat()).cpuMs - cpu0, wallMs = performance.now() - w0;
        if (typeof res.error === "string") {
          out.set(who, new Error(`${res.error}${res.detail ? `: ${res.detail}` : ""}`));
        } else {
          const rps = res.rps as number;
          out.set(who, {
            rps,
            p50Us: res.p50Us,
            p99Us: res.p99Us,
            clientCpu: res.clientCpu,
            serverCpu: Math.round((cpuMs / wallMs) * 1000) / 1000,
            // Server CPU share over the client's whole run, per request of the measured window.
            cpuUsPerReq: Math.round(((cpuMs / wallMs) * 1e6 / rps) * 100) / 100,
          });
        }
      }
      for (const [who, server] of running) {
        const { clean, detail } = await server.stop();
        if (!clean && !(out.get(who) instanceof Error)) {
          out.set(who, new Error(`unclean shutdown: ${detail}`));
        }
      }
      return out;
    },
  });

  const chosen = workloads.filter((w) => only === undefined || only.includes(w.name));
  if (chosen.length === 0) {
    throw new Error(`--only matches none of ${workloads.map((w) => w.name)}`);
  }
  const loadAvg = (await readProc("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.error(
    `before: ${beforeDir} (${trees[0].commit}${
      trees[0].dirty ? `, ${trees[0].dirty} files changed` : ""
    })\n` +
      `after:  ${afterDir} (${trees[1].commit}${
        trees[1].dirty ? `, ${trees[1].dirty} files changed` : ""
      })\n` +
      `peers from ${peerDir}; ${reps} reps of ${chosen.map((w) => w.name).join(", ")}; ` +
      `load average ${loadAvg}${pin ? "" : "; no taskset: echo not pinned"}`,
  );

  // --- Run ------------------------------------------------------------------------
  // runs[workload][who][rep]: a result, or null when that run failed.
  const runs: Record<string, Record<Who, (Result | null)[]>> = {};
  const failures: string[] = [];
  const repSeconds: number[] = [];
  for (const w of chosen) runs[w.name] = { before: [], after: [], peer: [] };
  for (let rep = 0; rep < reps; rep++) {
    const r0 = performance.now();
    const order = ORDERS[rep % ORDERS.length];
    for (const w of chosen) {
      const res = await w.rep(order, rep);
      for (const who of WHO) {
        const r = res.get(who);
        if (r instanceof Error || r === undefined) {
          const why = r?.message ?? "not run";
          failures.push(`rep ${rep + 1}, ${w.name}/${who}: ${why}`);
          console.error(`rep ${rep + 1}/${reps} ${w.name}/${who}: FAILED ${why}`);
          runs[w.name][who].push(null);
        } else {
          runs[w.name][who].push(r);
        }
      }
      const shown = order.map((who) => {
        const r = runs[w.name][who][rep];
        return `${who} ${r ? fmt(r[w.metric] as number) : "failed"}`;
      }).join("  ");
      console.error(`rep ${rep + 1}/${reps} ${w.name.padEnd(9)} ${w.metric}: ${shown}`);
    }
    repSeconds.push((performance.now() - r0) / 1000);
    console.error(`rep ${rep + 1}/${reps} took ${repSeconds.at(-1)!.toFixed(1)} s`);
  }

  // --- Summary --------------------------------------------------------------------
  const summary = chosen.map((w) => {
    const values = (who: Who) => runs[w.name][who].map((r) => (r ? Number(r[w.metric]) : NaN));
    const v = { before: values("before"), after: values("after"), peer: values("peer") };
    const sides = Object.fromEntries(WHO.map((who) => {
      const extra = Object.fromEntries(
        w.extra.map(([f]) => [f, median(runs[w.name][who].map((r) => (r ? Number(r[f]) : NaN)))]),
      );
      return [who, { ...stat(v[who]), extra }];
    })) as Record<Who, Stat & { extra: Record<string, number> }>;
    const h = w.higherBetter;
    const perRep = (a: number[], b: number[]) => stat(a.map((x, i) => better(x, b[i], h)));
    const half = (xs: number[], parity: number) => xs.filter((_, i) => i % 2 === parity);
    const aa = (xs: number[]) => better(median(half(xs, 0)), median(half(xs, 1)), h);
    const aaBefore = aa(v.before), aaAfter = aa(v.after);
    const noise = Math.max(Math.abs(1 - aaBefore), Math.abs(1 - aaAfter));
    const afterVsBefore = better(sides.after.median, sides.before.median, h);
    const pairedAfterVsBefore = perRep(v.after, v.before);
    let verdict: string;
    if (!Number.isFinite(afterVsBefore) || !Number.isFinite(noise)) verdict = "not measured";
    // With fewer pairs the A/A halves are one or two runs each: no estimate of the noise.
    else if (pairedAfterVsBefore.n < MIN_PAIRS) verdict = `no verdict (< ${MIN_PAIRS} reps)`;
    else if (afterVsBefore < 1 - noise && pairedAfterVsBefore.median < 1 - noise) {
      verdict = "worse beyond the noise";
    } else if (afterVsBefore > 1 + noise && pairedAfterVsBefore.median > 1 + noise) {
      verdict = "better beyond the noise";
    } else verdict = "within the noise";
    return {
      workload: w.name,
      title: w.title,
      metric: w.metric,
      higherBetter: h,
      peer: w.peer,
      sides,
      /** > 1: after is better. */
      afterVsBefore,
      pairedAfterVsBefore,
      aaBefore,
      aaAfter,
      noise,
      verdict,
      /** > 1: aio is better than the peer. */
      vsPeer: {
        before: better(sides.before.median, sides.peer.median, h),
        after: better(sides.after.median, sides.peer.median, h),
        pairedBefore: perRep(v.before, v.peer),
        pairedAfter: perRep(v.after, v.peer),
      },
    };
  });

  // --- Report ---------------------------------------------------------------------
  const wallS = (performance.now() - t0) / 1000;
  const machine = await machineInfo(python);
  const date = new Date().toISOString();
  const treeLine = (t: Tree) =>
    `${t.side} \`${t.dir}\` (${t.commit}${
      t.dirty ? `; ${t.dirty} tracked files changed, not committed` : ""
    })`;
  const lines: string[] = [
    `${reps} interleaved repetitions, ${date.slice(0, 16).replace("T", " ")} UTC, load average ` +
    `${loadAvg} at the start; driver wall time ${wallS.toFixed(0)} s (${
      fmt(median(repSeconds))
    } s per repetition). ${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}; Deno ` +
    `${machine.deno}, ${await output([PY, "--version"]).catch(() => "python3 ?")} (asyncio ` +
    `peers), Python ${machine.python} + uvloop ${machine.uvloop} (echo peer), gcc ${machine.gcc}${
      pin ? "; echo servers pinned to core 1, the client to core 0" : "; echo **not pinned**"
    }.`,
    "",
    `Trees: ${treeLine(trees[0])}; ${treeLine(trees[1])}. Peers from the ${peersFrom} tree.`,
    "",
    "Medians over the repetitions (min–max). Every ratio is oriented so that > 1 is better " +
    "for the first named (after, or aio). A/A = the same side's even repetitions against its " +
    "odd ones; noise = the larger |1 − A/A| of the two sides.",
    "",
    "| workload | metric | before | after | after vs before | per-rep after/before | A/A before · after | noise | verdict |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const s of summary) {
    const w = chosen.find((x) => x.name === s.workload)!;
    lines.push(
      `| ${w.name} | ${w.metricTitle} | ${statCell(s.sides.before)} | ${
        statCell(s.sides.after)
      } | **${ratioCell(s.afterVsBefore)}** | ${statCell(s.pairedAfterVsBefore, ratioCell)} | ${
        ratioCell(s.aaBefore)
      } · ${ratioCell(s.aaAfter)} | ±${
        Number.isFinite(s.noise) ? `${(s.noise * 100).toFixed(1)}%` : "–"
      } | ${s.verdict} |`,
    );
  }
  lines.push(
    "",
    "Against the peer measured in the same run (ratio of medians; per repetition: median, min–max)",
    "",
    "| workload | peer | peer median (min–max) | before vs peer | after vs peer | per-rep before/peer | per-rep after/peer |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const s of summary) {
    lines.push(
      `| ${s.workload} | ${s.peer} | ${statCell(s.sides.peer)} | ${ratioCell(s.vsPeer.before)} | ${
        ratioCell(s.vsPeer.after)
      } | ${statCell(s.vsPeer.pairedBefore, ratioCell)} | ${
        statCell(s.vsPeer.pairedAfter, ratioCell)
      } |`,
    );
  }
  lines.push("", "Other figures (medians)", "", "| workload | figure | before | after | peer |");
  lines.push("| --- | --- | ---: | ---: | ---: |");
  for (const s of summary) {
    const w = chosen.find((x) => x.name === s.workload)!;
    for (const [f, title] of w.extra) {
      lines.push(
        `| ${w.name} | ${title} | ${fmt(s.sides.before.extra[f])} | ${
          fmt(s.sides.after.extra[f])
        } | ${fmt(s.sides.peer.extra[f])} |`,
      );
    }
  }
  lines.push(
    "",
    failures.length
      ? "Failures:\n\n" + failures.map((f) => `- ${f}`).join("\n")
      : "No failures (every echo run checked every byte; every server exited 0 on SIGTERM).",
  );
  const table = lines.join("\n");
  console.log(table);

  await Deno.mkdir(resolve(outPath, ".."), { recursive: true });
  await Deno.writeTextFile(
    outPath,
    JSON.stringify(
      {
        date,
        wallSeconds: Math.round(wallS),
        repSeconds: repSeconds.map((x) => Math.round(x * 10) / 10),
        loadAvg,
        machine,
        pinned: pin,
        trees,
        peersFrom,
        options: { reps, only, callSoonN, timersN, duration, warmup, conns, size },
        summary,
        failures,
        runs,
      },
      null,
      1,
    ) + "\n",
  );
  console.error(`wrote ${outPath}`);
  if (writeReadme) await updateReadme("ab-trees", table);
}

if (import.meta.main) await main();
