/**
 * The UDP echo benchmark: our `createDatagramEndpoint()` server against
 * CPython asyncio, uvloop, Node's `dgram` and `Deno.listenDatagram`, each a
 * fresh process per repetition pinned to core 1, driven by a C client pinned
 * to core 0 (N connected UDP sockets, each one datagram in flight, every
 * byte of every echo checked). Cells: 1, 10, 100 clients × 64 B and 1 KiB;
 * servers interleaved, the order rotating from cell to cell and repetition
 * to repetition. Besides the rate it records each server's CPU time per
 * datagram (utime + stime from /proc/PID/stat), which other load on the
 * machine disturbs less.
 *
 * Writes bench/results/udp_echo.json and the `udp-echo` block of
 * bench/README.md. Not for CI.
 *
 * Run: `deno run --allow-run --allow-read --allow-write bench/udp/run_udp_bench.ts`
 * Options: `--duration=1.5` `--warmup=0.5` (s per cell), `--reps=5`, `--sizes=64,1024`,
 * `--clients=1,10,100`, `--only=aio,uvloop,...`, `--ab` (adds our server with batched reads
 * but no reply-address reuse, `--reply-cache=0`, and with the one-datagram read path,
 * `--batch=0`), `--no-readme`.
 *
 * @module
 */
import {
  canPin,
  machineInfo,
  output,
  pickPython,
  pinned,
  readProc,
  ROOT,
  updateReadme,
} from "../echo/_procs.ts";

const arg = (name: string, fallback: string) =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DURATION = Number(arg("duration", "1.5"));
const WARMUP = Number(arg("warmup", "0.5"));
const REPS = Number(arg("reps", "5"));
const SIZES = arg("sizes", "64,1024").split(",").map(Number);
const CLIENTS = arg("clients", "1,10,100").split(",").map(Number);
const ONLY = arg("only", "");
const AB = Deno.args.includes("--ab");
const README = !Deno.args.includes("--no-readme");
const CACHE = `${ROOT}.cache/udp/`;
const HERE = `${ROOT}bench/udp/`;

await Deno.mkdir(CACHE, { recursive: true });
await output([
  "gcc",
  "-O2",
  "-Wall",
  "-o",
  `${CACHE}udp_load_client`,
  `${HERE}udp_load_client.c`,
]);
const { python, uvloop } = await pickPython();
const pin = await canPin();
const deno = Deno.execPath();
const loadavg = async () => (await readProc("/proc/loadavg")).split(" ").slice(0, 3).join(" ");

interface Spec {
  id: string;
  name: string;
  cmd: string[];
}
let specs: Spec[] = [
  {
    id: "aio",
    name: "aio (createDatagramEndpoint)",
    cmd: [deno, "run", "--allow-ffi", `${HERE}aio_udp_server.ts`],
  },
];
if (AB) {
  specs.push({
    id: "aio_nocache",
    name: "aio, recvmmsg, address encoded per sendto",
    cmd: [deno, "run", "--allow-ffi", `${HERE}aio_udp_server.ts`, "--reply-cache=0"],
  }, {
    id: "aio_single",
    name: "aio, one recvfrom per datagram",
    cmd: [deno, "run", "--allow-ffi", `${HERE}aio_udp_server.ts`, "--batch=0"],
  });
}
specs.push(
  {
    id: "deno",
    name: "Deno.listenDatagram",
    cmd: [deno, "run", "--allow-net", "--unstable-net", `${HERE}deno_udp_server.ts`],
  },
  { id: "asyncio", name: "asyncio", cmd: [python, `${HERE}asyncio_udp_server.py`] },
);
if (uvloop) {
  specs.push({
    id: "uvloop",
    name: "uvloop",
    cmd: [python, `${HERE}asyncio_udp_server.py`, "--uvloop"],
  });
}
try {
  await output(["node", "--version"]);
  specs.push({ id: "node", name: "Node dgram", cmd: ["node", `${HERE}node_udp_server.mjs`] });
} catch { /* no node */ }
if (ONLY) specs = specs.filter((s) => ONLY.split(",").includes(s.id));

async function start(spec: Spec): Promise<{ child: Deno.ChildProcess; port: number }> {
  const cmd = pinned(spec.cmd, 1, pin);
  const proc = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${spec.name} ended before announcing its port`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  proc.stdout.cancel().catch(() => {});
  return { child: proc, port: JSON.parse(text.split("\n")[0]).port };
}

const CLK_TCK = 100; // Linux's USER_HZ

/** utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readProc(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

interface Run {
  rep: number;
  server: string;
  clients: number;
  size: number;
  rps?: number;
  p50Us?: number;
  p99Us?: number;
  lost?: number;
  bad?: number;
  cpuUsPerDgram?: number;
  error?: string;
}
const runs: Run[] = [];
const failures: string[] = [];
const loadStart = await loadavg();
const t0 = performance.now();
for (let rep = 0; rep < REPS; rep++) {
  const running: { spec: Spec; child: Deno.ChildProcess; port: number }[] = [];
  for (const s of specs) running.push({ spec: s, ...(await start(s)) });
  let cell = 0;
  for (const clients of CLIENTS) {
    for (const size of SIZES) {
      const order = running.map((_, i) => running[(i + cell + rep) % running.length]);
      cell++;
      for (const r of order) {
        const cmd = pinned(
          [
            `${CACHE}udp_load_client`,
            `--port=${r.port}`,
            `--clients=${clients}`,
            `--size=${size}`,
            `--duration=${DURATION}`,
            `--warmup=${WARMUP}`,
          ],
          0,
          pin,
        );
        try {
          const cpu0 = await cpuTicks(r.child.pid);
          const out = JSON.parse(await output(cmd));
          const cpu1 = await cpuTicks(r.child.pid);
          // The server's CPU time over the whole client run (warm-up included), per datagram
          // echoed (the warm-up's datagrams estimated at the measured rate).
          const trips = out.rps * (DURATION + WARMUP);
          out.cpuUsPerDgram = ((cpu1 - cpu0) * 1e6) / CLK_TCK / trips;
          if (out.bad > 0) failures.push(`${r.spec.id} ${clients}×${size}: ${out.bad} bad echoes`);
          runs.push({ rep, server: r.spec.id, clients, size, ...out });
          console.error(
            `rep ${rep} ${r.spec.id} ${clients}×${size}: ${Math.round(out.rps)}/s, ` +
              `${out.cpuUsPerDgram.toFixed(1)} µs CPU, lost ${out.lost}`,
          );
        } catch (e) {
          failures.push(`${r.spec.id} ${clients}×${size}: ${e}`);
          runs.push({ rep, server: r.spec.id, clients, size, error: String(e) });
          console.error(`rep ${rep} ${r.spec.id} ${clients}×${size}: ${e}`);
        }
      }
    }
  }
  for (const r of running) {
    r.child.kill("SIGTERM");
    const st = await r.child.status;
    if (!st.success) failures.push(`${r.spec.id} exited ${st.code} on SIGTERM`);
  }
}
const wall = (performance.now() - t0) / 1000;
const loadEnd = await loadavg();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const info = await machineInfo(python);
const cells = CLIENTS.flatMap((c) => SIZES.map((s) => ({ clients: c, size: s })));
const of = (id: string, clients: number, size: number) =>
  runs.filter((r) =>
    r.server === id && r.clients === clients && r.size === size && r.rps !== undefined
  );
const medians = specs.map((s) => ({
  server: s.id,
  name: s.name,
  cells: cells.map(({ clients, size }) => {
    const got = of(s.id, clients, size);
    // Ratios against uvloop within each repetition, then their median.
    const perRep = got.flatMap((r) => {
      const u = runs.find((x) =>
        x.server === "uvloop" && x.rep === r.rep && x.clients === clients && x.size === size &&
        x.rps !== undefined
      );
      return u ? [{ rps: r.rps! / u.rps!, cpu: r.cpuUsPerDgram! / u.cpuUsPerDgram! }] : [];
    });
    return {
      clients,
      size,
      rps: median(got.map((r) => r.rps!)),
      min: Math.min(...got.map((r) => r.rps!)),
      max: Math.max(...got.map((r) => r.rps!)),
      p50Us: median(got.map((r) => r.p50Us!)),
      p99Us: median(got.map((r) => r.p99Us!)),
      lost: got.reduce((a, r) => a + (r.lost ?? 0), 0),
      cpuUsPerDgram: median(got.map((r) => r.cpuUsPerDgram!)),
      rpsVsUvloop: median(perRep.map((p) => p.rps)),
      cpuVsUvloop: median(perRep.map((p) => p.cpu)),
    };
  }),
}));
await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
await Deno.writeTextFile(
  `${ROOT}bench/results/udp_echo.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      info,
      pin,
      loadavg: { start: loadStart, end: loadEnd },
      DURATION,
      WARMUP,
      REPS,
      failures,
      runs,
      medians,
    },
    null,
    2,
  ) + "\n",
);

const label = (size: number) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const head = `| server | ${cells.map((c) => `${c.clients} × ${label(c.size)}`).join(" | ")} |\n` +
  `| --- | ${cells.map(() => "---:").join(" | ")} |\n`;
const isUv = (id: string) => id === "uvloop";
let body =
  `Medians of ${REPS} interleaved repetitions, ${DURATION} s measured per cell after ${WARMUP} s ` +
  `of warm-up, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; driver wall time ${
    Math.round(wall)
  } s. ${info.cpu}, ${info.cores} cores, Linux ${info.kernel}; Deno ${info.deno}, Node ${info.node}, ` +
  `Python ${info.python}, uvloop ${info.uvloop}. ` +
  (pin ? "Servers pinned to core 1, the client to core 0. " : "Not pinned. ") +
  `Load average (1, 5, 15 min) ${loadStart} at the start, ${loadEnd} at the end (the ` +
  `benchmark's own client and server count in it: about 1 at the end on an otherwise idle ` +
  `machine).\n\n`;
body += "**Datagrams/s** (round trips: one datagram and its echo), median (min–max) " +
  "and the median of the per-repetition ratios to uvloop\n\n" + head;
for (const m of medians) {
  body += `| ${m.name} | ${
    m.cells.map((c) =>
      `${fmt(c.rps)} (${fmt(c.min)}–${fmt(c.max)})` +
      (isUv(m.server) ? "" : ` **${c.rpsVsUvloop.toFixed(2)}×**`)
    ).join(" | ")
  } |\n`;
}
body += "\n**Server CPU time per datagram** (utime + stime from `/proc/PID/stat` over the " +
  "client run, median; × = per-repetition ratio to uvloop's, < 1 is less CPU)\n\n" + head;
for (const m of medians) {
  body += `| ${m.name} | ${
    m.cells.map((c) =>
      `${c.cpuUsPerDgram.toFixed(1)} µs` +
      (isUv(m.server) ? "" : ` (${c.cpuVsUvloop.toFixed(2)}×)`)
    ).join(" | ")
  } |\n`;
}
body += "\n**Latency p50 / p99 (µs)**, medians of the repetitions\n\n" + head;
for (const m of medians) {
  body += `| ${m.name} | ${
    m.cells.map((c) => `${c.p50Us.toFixed(0)} / ${c.p99Us.toFixed(0)}`).join(" | ")
  } |\n`;
}
const lost = medians.flatMap((m) =>
  m.cells.filter((c) => c.lost > 0).map((c) =>
    `${m.name} ${c.clients} × ${label(c.size)}: ${c.lost}`
  )
);
body += "\n" +
  (failures.length === 0
    ? "No failures: every echo matched, every server exited 0 on SIGTERM."
    : `Failures: ${failures.join("; ")}.`) +
  (lost.length
    ? ` Datagrams lost (200 ms timeout), all reps: ${lost.join("; ")}.`
    : " None lost.") +
  "\n";
console.log(body);
if (README) await updateReadme("udp-echo", body);
