/**
 * The echo benchmark driver. Compiles the C load client and the C epoll
 * server (`gcc -O2` into .cache/echo/), then, per repetition: starts every
 * server pinned to core 1 (they idle while another is measured), and for
 * each cell of the matrix (connections × message size) runs the client,
 * pinned to core 0, against each server in turn, the order rotating from
 * cell to cell. Every server is a fresh process each repetition and must
 * exit 0 on SIGTERM at its end.
 *
 * Writes bench/results/echo.json (every run and the medians), bench/echo/plot.svg
 * and the `echo-matrix` block of bench/README.md. Not for CI: about 15 minutes.
 *
 * Run: `deno run --allow-run --allow-read --allow-write bench/echo/run_echo_bench.ts`
 * Options: `--duration=1.5` `--warmup=0.5` (s per cell), `--reps=3`, `--conns=1,10,100`,
 * `--sizes=64,1024,10240,102400`, `--only=aio_epoll,uvloop_protocol,...`, `--no-readme`.
 *
 * @module
 */
import {
  canPin,
  compileC,
  ECHO_DIR,
  machineInfo,
  pickPython,
  ROOT,
  runClient,
  RunningServer,
  type ServerSpec,
  serverSpecs,
  updateReadme,
} from "./_procs.ts";
import { type Bar, compact, gridSvg, type Panel } from "./_plot.ts";

const arg = (name: string, fallback: string) =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);

const DURATION = Number(arg("duration", "1.5"));
const WARMUP = Number(arg("warmup", "0.5"));
const REPS = Number(arg("reps", "3"));
const CONNS = list(arg("conns", "1,10,100")).map(Number);
const SIZES = list(arg("sizes", "64,1024,10240,102400")).map(Number);
const ONLY = list(arg("only", ""));
const README = !Deno.args.includes("--no-readme");
// Redraw the plot and the README tables from a saved run instead of measuring (give the same
// --reps/--duration/--warmup/--conns/--sizes as that run).
const REPLOT = arg("replot", "");

/** One client run against one server. */
interface Run {
  rep: number;
  server: string;
  conns: number;
  size: number;
  rps?: number;
  mibps?: number;
  p50Us?: number;
  p99Us?: number;
  clientCpu?: number;
  serverCpu?: number;
  /** The server's minor page faults per request (over the client's whole run, warm-up included). */
  faultsPerReq?: number;
  error?: string;
}

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

function stat(xs: number[]): Stat {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

const sizeName = (b: number) => (b >= 1024 ? `${b / 1024} KiB` : `${b} B`);
const cellKey = (c: number, s: number) => `${c}x${s}`;

async function replot(file: string): Promise<void> {
  const result = JSON.parse(await Deno.readTextFile(file));
  const all = await serverSpecs();
  const specs = (result.servers as { id: string }[]).map((s) => all.find((x) => x.id === s.id)!)
    .filter(Boolean);
  const cells = CONNS.flatMap((c) => SIZES.map((s) => [c, s] as const));
  await writePlot(specs, cells, result.medians, result.date);
  const text = report(result, specs, cells, result.runs);
  console.log(text);
  if (README) await updateReadme("echo-matrix", text);
}

async function writePlot(
  specs: ServerSpec[],
  cells: (readonly [number, number])[],
  medians: Record<string, Record<string, Record<string, Stat>>>,
  date: string,
): Promise<void> {
  const panels: Panel[] = cells.map(([c, s]) => ({
    title: `${c} conn${c > 1 ? "s" : ""} × ${sizeName(s)} — requests/s`,
    bars: specs.map((spec) => ({
      label: spec.label,
      ...medians[spec.id][cellKey(c, s)].rps,
      color: colorOf(spec.id),
    } as Bar)),
  }));
  await Deno.writeTextFile(
    `${ECHO_DIR}plot.svg`,
    gridSvg(
      `Echo server requests/s, median of ${REPS} (whisker: min–max), ${date}`,
      panels,
      SIZES.length,
    ),
  );
}

async function main(): Promise<void> {
  if (REPLOT) return await replot(REPLOT);
  const t0 = performance.now();
  await compileC();
  const pin = await canPin();
  const { python } = await pickPython();
  const all = await serverSpecs();
  const chosen = ONLY.length ? all.filter((s) => ONLY.includes(s.id)) : all.filter((s) => !s.optIn);
  const skipped = chosen.filter((s) => s.missing);
  const specs = chosen.filter((s) => !s.missing);
  for (const s of skipped) console.error(`skipping ${s.id}: ${s.missing}`);
  const cells = CONNS.flatMap((c) => SIZES.map((s) => [c, s] as const));
  const perRun = WARMUP + DURATION + 0.3;
  console.error(
    `${specs.length} servers × ${cells.length} cells × ${REPS} reps ≈ ${
      Math.round((specs.length * cells.length * REPS * perRun) / 60)
    } min${pin ? "" : " (no taskset: not pinned)"}`,
  );

  const runs: Run[] = [];
  const failures: string[] = [];
  const exits: Record<string, string[]> = {};
  for (let rep = 0; rep < REPS; rep++) {
    const running = new Map<string, RunningServer>();
    for (const spec of specs) {
      try {
        running.set(spec.id, await RunningServer.start(spec, 1, pin));
      } catch (e) {
        failures.push(`rep ${rep + 1}, ${spec.id}: did not start: ${(e as Error).message}`);
      }
    }
    for (let k = 0; k < cells.length; k++) {
      const [conns, size] = cells[k];
      // Rotate the order so no server always follows the same one.
      const shift = (rep * 5 + k) % specs.length;
      const order = [...specs.slice(shift), ...specs.slice(0, shift)];
      for (const spec of order) {
        const server = running.get(spec.id);
        if (!server) continue;
        const s0 = await server.stat();
        const w0 = performance.now();
        const res = await runClient(
          [
            `--port=${server.port}`,
            `--conns=${conns}`,
            `--size=${size}`,
            `--duration=${DURATION}`,
            `--warmup=${WARMUP}`,
          ],
          0,
          pin,
          (perRun + 15) * 1000,
        );
        const s1 = await server.stat();
        const wallMs = performance.now() - w0;
        const serverCpu = (s1.cpuMs - s0.cpuMs) / wallMs;
        const faults = s1.minorFaults - s0.minorFaults;
        const run: Run = { rep, server: spec.id, conns, size };
        if (typeof res.error === "string") {
          run.error = `${res.error}${res.detail ? `: ${res.detail}` : ""}`;
          failures.push(`rep ${rep + 1}, ${spec.id}, ${conns} × ${sizeName(size)}: ${run.error}`);
        } else {
          Object.assign(run, {
            rps: res.rps,
            mibps: res.mibps,
            p50Us: res.p50Us,
            p99Us: res.p99Us,
            clientCpu: res.clientCpu,
            serverCpu: Math.round(serverCpu * 1000) / 1000,
            faultsPerReq: Math.round(faults / (Number(res.rps) * wallMs / 1000) * 1000) / 1000,
          });
        }
        runs.push(run);
        console.error(
          `rep ${rep + 1}/${REPS} ${cellKey(conns, size).padEnd(9)} ${spec.id.padEnd(17)} ${
            run.error
              ? `ERROR ${run.error}`
              : `${compact(run.rps!).padStart(6)} req/s  p50 ${run.p50Us!.toFixed(0)} µs  p99 ${
                run.p99Us!.toFixed(0)
              } µs  cpu srv ${serverCpu.toFixed(2)} cli ${
                Number(run.clientCpu).toFixed(2)
              }  faults/req ${run.faultsPerReq!.toFixed(2)}`
          }`,
        );
      }
    }
    for (const [id, server] of running) {
      const { clean, detail } = await server.stop();
      (exits[id] ??= []).push(detail);
      if (!clean) failures.push(`rep ${rep + 1}, ${id}: unclean shutdown: ${detail}`);
    }
  }

  const medians: Record<string, Record<string, Record<string, Stat>>> = {};
  for (const spec of specs) {
    medians[spec.id] = {};
    for (const [c, s] of cells) {
      const rs = runs.filter((r) =>
        r.server === spec.id && r.conns === c && r.size === s && !r.error
      );
      medians[spec.id][cellKey(c, s)] = {
        rps: stat(rs.map((r) => r.rps!)),
        mibps: stat(rs.map((r) => r.mibps!)),
        p50Us: stat(rs.map((r) => r.p50Us!)),
        p99Us: stat(rs.map((r) => r.p99Us!)),
        serverCpu: stat(rs.map((r) => r.serverCpu!)),
        clientCpu: stat(rs.map((r) => r.clientCpu!)),
      };
    }
  }
  const wallS = Math.round((performance.now() - t0) / 1000);
  const machine = await machineInfo(python);
  const date = new Date().toISOString().slice(0, 10);
  const result = {
    date,
    wallSeconds: wallS,
    machine,
    pinned: pin,
    durationS: DURATION,
    warmupS: WARMUP,
    reps: REPS,
    servers: specs.map(({ id, label, cmd }) => ({ id, label, cmd: cmd.join(" ") })),
    skipped: skipped.map(({ id, missing }) => ({ id, why: missing })),
    failures,
    exits,
    runs,
    medians,
  };
  await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
  await Deno.writeTextFile(
    `${ROOT}bench/results/echo.json`,
    JSON.stringify(result, null, 1) + "\n",
  );

  await writePlot(specs, cells, medians, date);

  const text = report(result, specs, cells, runs);
  console.log(text);
  if (README) await updateReadme("echo-matrix", text);
}

function colorOf(id: string): string {
  if (id.startsWith("aio_")) return id === "aio_epoll" ? "#1f5fbf" : "#6b9be0";
  if (id === "deno_native") return "#2e9e4f";
  if (id === "node") return "#e08a1e";
  if (id.startsWith("uvloop")) return "#8a4fbf";
  if (id.startsWith("asyncio")) return "#d4b81c";
  return "#777";
}

/** Per-rep ratios `a / b` of requests/s in one cell (same repetition, same run). */
function ratios(runs: Run[], a: string, b: string, c: number, s: number): Stat {
  const reps = [...new Set(runs.map((r) => r.rep))];
  const xs = reps.map((rep) => {
    const find = (id: string) =>
      runs.find((r) =>
        r.rep === rep && r.server === id && r.conns === c && r.size === s && !r.error
      )
        ?.rps;
    const x = find(a), y = find(b);
    return x !== undefined && y !== undefined ? x / y : NaN;
  });
  return stat(xs);
}

function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}

function report(
  result: {
    date: string;
    wallSeconds: number;
    machine: Record<string, string>;
    pinned: boolean;
    skipped: { id: string; why?: string }[];
    failures: string[];
    medians: Record<string, Record<string, Record<string, Stat>>>;
  },
  specs: ServerSpec[],
  cells: (readonly [number, number])[],
  runs: Run[],
): string {
  const { machine: m, medians } = result;
  const out: string[] = [];
  out.push(
    `Medians of ${REPS} interleaved repetitions, ${DURATION} s measured per cell after ${WARMUP} s of warm-up, ${result.date}; driver wall time ${
      Math.round(result.wallSeconds / 60)
    } min. ${m.cpu}, ${m.cores} cores, Linux ${m.kernel}; Deno ${m.deno} (V8 ${m.v8}), Node ${m.node}, Python ${m.python}, uvloop ${m.uvloop}, gcc ${m.gcc}. ${
      result.pinned
        ? "Servers pinned to core 1, the client to core 0 (taskset)."
        : "**Not pinned** (no taskset or one core)."
    }`,
    "",
  );
  const conns = [...new Set(cells.map(([c]) => c))];
  const sizes = [...new Set(cells.map(([, s]) => s))];
  for (const c of conns) {
    out.push(
      `**${c} connection${
        c > 1 ? "s" : ""
      }** — requests/s, median (min–max of the reps); MiB/s = requests/s × size`,
      "",
    );
    out.push(
      `| server | ${sizes.map(sizeName).join(" | ")} |`,
      `| --- | ${sizes.map(() => "---:").join(" | ")} |`,
    );
    for (const spec of specs) {
      const row = sizes.map((s) => {
        const r = medians[spec.id][cellKey(c, s)].rps;
        if (r.n === 0) return "failed";
        const bold = spec.id === "aio_epoll" ? "**" : "";
        return `${bold}${fmtInt(r.median)}${bold} (${compact(r.min)}–${compact(r.max)})${
          r.n < REPS ? ` [${r.n}/${REPS}]` : ""
        }`;
      });
      out.push(`| ${spec.label} | ${row.join(" | ")} |`);
    }
    out.push("");
  }
  out.push("**Latency at 10 connections** — p50 / p99 in µs (medians over the reps)", "");
  out.push(
    `| server | ${sizes.map(sizeName).join(" | ")} |`,
    `| --- | ${sizes.map(() => "---:").join(" | ")} |`,
  );
  for (const spec of specs) {
    const row = sizes.map((s) => {
      const st = medians[spec.id][cellKey(10, s)];
      if (!st || st.p50Us.n === 0) return "–";
      return `${st.p50Us.median.toFixed(0)} / ${st.p99Us.median.toFixed(0)}`;
    });
    out.push(`| ${spec.label} | ${row.join(" | ")} |`);
  }
  out.push("");

  // Goals (issue 13): ratios of requests/s within each repetition, in every cell run.
  const label = (id: string) => specs.find((s) => s.id === id)?.label ?? id;
  const has = (id: string) => specs.some((s) => s.id === id);
  const goals: { a: string; b: string; want: number; sizes?: number[] }[] = [
    { a: "aio_epoll", b: "uvloop_protocol", want: 1.0 },
    { a: "aio_epoll", b: "c_epoll", want: 0.85, sizes: [10240, 102400] },
    { a: "aio_streams", b: "uvloop_streams", want: 1.0 },
    { a: "aio_buffered", b: "uvloop_buffered", want: 1.0 },
    { a: "aio_buffered", b: "uvloop_protocol", want: 1.0 },
  ].filter((g) => has(g.a) && has(g.b));
  if (goals.length) {
    const what = (g: (typeof goals)[number]) => `${label(g.a)} ≥ ${g.want}× ${label(g.b)}`;
    out.push(
      "**Goals** — requests/s ratio within each repetition: median (min–max over the reps); " +
        "a cell is met when the median reaches the goal",
      "",
      `| cell | ${goals.map(what).join(" | ")} |`,
      `| --- | ${goals.map(() => "---:").join(" | ")} |`,
    );
    const tally = goals.map(() => ({ met: 0, of: 0 }));
    for (const [c, s] of cells) {
      const row = goals.map((g, i) => {
        if (g.sizes && !g.sizes.includes(s)) return "–";
        const r = ratios(runs, g.a, g.b, c, s);
        if (r.n === 0) return "failed";
        tally[i].of++;
        const met = r.median >= g.want;
        if (met) tally[i].met++;
        const txt = `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
        return met ? txt : `**${txt}**`;
      });
      out.push(`| ${c} × ${sizeName(s)} | ${row.join(" | ")} |`);
    }
    out.push(`| met | ${tally.map((t) => `${t.met} of ${t.of}`).join(" | ")} |`, "");
  }
  // Server CPU per request (µs): what each server spends, independent of the client's pace.
  out.push(
    "**Server CPU per request at 10 connections** — µs (utime + stime over the run ÷ requests), " +
      "median over the reps",
    "",
    `| server | ${sizes.map(sizeName).join(" | ")} |`,
    `| --- | ${sizes.map(() => "---:").join(" | ")} |`,
  );
  for (const spec of specs) {
    const row = sizes.map((s) => {
      const xs = runs.filter((r) =>
        r.server === spec.id && r.conns === 10 && r.size === s && !r.error && r.rps
      ).map((r) => (r.serverCpu! / r.rps!) * 1e6);
      const st = stat(xs);
      return st.n ? st.median.toFixed(1) : "–";
    });
    out.push(`| ${spec.label} | ${row.join(" | ")} |`);
  }
  out.push("");
  out.push("![echo requests/s](echo/plot.svg)", "");
  if (result.skipped.length) {
    out.push("Not run: " + result.skipped.map((s) => `${s.id} (${s.why})`).join("; ") + ".", "");
  }
  out.push(
    result.failures.length
      ? "Failures:\n\n" + result.failures.map((f) => `- ${f}`).join("\n")
      : "No failures: every run echoed every byte, and every server exited 0 on SIGTERM.",
  );
  return out.join("\n");
}

if (import.meta.main) await main();
