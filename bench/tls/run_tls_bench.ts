/**
 * The TLS echo benchmark: our `createServer({ ssl })` against CPython
 * asyncio with `ssl`, uvloop with `ssl` and `Deno.listenTls`, each a fresh
 * process pinned to core 1, driven by a C OpenSSL client pinned to core 0
 * (one blocking thread per connection, TLS 1.3, each byte of every echo
 * checked). Cells: 10 connections × 1 KiB and 100 KiB; servers interleaved,
 * the order rotating from cell to cell and repetition to repetition.
 *
 * Writes bench/results/tls_echo.json and the `tls-echo` block of
 * bench/README.md. Not for CI.
 *
 * Run: `deno run --allow-run --allow-read --allow-write bench/tls/run_tls_bench.ts`
 * Options: `--duration=2` `--warmup=0.5` (s per cell), `--reps=3`, `--sizes=1024,102400`,
 * `--conns=10`, `--no-readme`.
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
const DURATION = Number(arg("duration", "2"));
const WARMUP = Number(arg("warmup", "0.5"));
const REPS = Number(arg("reps", "3"));
const SIZES = arg("sizes", "1024,102400").split(",").map(Number);
const CONNS = arg("conns", "10").split(",").map(Number);
const README = !Deno.args.includes("--no-readme");
const CACHE = `${ROOT}.cache/tls_bench/`;
const HERE = `${ROOT}bench/tls/`;

await Deno.mkdir(CACHE, { recursive: true });
await output([
  "gcc",
  "-O2",
  "-Wall",
  "-o",
  `${CACHE}tls_load_client`,
  `${HERE}tls_load_client.c`,
  "-lssl",
  "-lcrypto",
  "-lpthread",
]);
const cert = `${CACHE}server.pem`, key = `${CACHE}server.key`;
await output([
  "openssl",
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:prime256v1",
  "-nodes",
  "-keyout",
  key,
  "-out",
  cert,
  "-days",
  "30",
  "-subj",
  "/CN=localhost",
  "-addext",
  "subjectAltName=DNS:localhost,IP:127.0.0.1",
]);
const { python, uvloop } = await pickPython();
const pin = await canPin();
const deno = Deno.execPath();
const tlsArgs = [`--cert=${cert}`, `--key=${key}`];

interface Spec {
  name: string;
  cmd: string[];
}
const specs: Spec[] = [
  {
    name: "aio (createServer + ssl)",
    cmd: [deno, "run", "--allow-ffi", "--allow-read", `${HERE}aio_tls_server.ts`, ...tlsArgs],
  },
  {
    name: "aio, BufferedProtocol",
    cmd: [
      deno,
      "run",
      "--allow-ffi",
      "--allow-read",
      `${HERE}aio_tls_server.ts`,
      ...tlsArgs,
      "--buffered",
    ],
  },
  {
    name: "Deno.listenTls",
    cmd: [deno, "run", "--allow-net", "--allow-read", `${HERE}deno_tls_server.ts`, ...tlsArgs],
  },
  { name: "asyncio + ssl", cmd: [python, `${HERE}asyncio_tls_server.py`, ...tlsArgs] },
];
if (uvloop) {
  specs.push({
    name: "uvloop + ssl",
    cmd: [python, `${HERE}asyncio_tls_server.py`, ...tlsArgs, "--uvloop"],
  });
}

async function start(spec: Spec): Promise<{ child: Deno.ChildProcess; port: number }> {
  const cmd = pinned(spec.cmd, 1, pin);
  const proc = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "inherit" })
    .spawn();
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
  conns: number;
  size: number;
  rps?: number;
  p50Us?: number;
  p99Us?: number;
  cpuUsPerReq?: number;
  error?: string;
}
const runs: Run[] = [];
const t0 = performance.now();
for (let rep = 0; rep < REPS; rep++) {
  const running: { spec: Spec; child: Deno.ChildProcess; port: number }[] = [];
  for (const s of specs) running.push({ spec: s, ...(await start(s)) });
  let cell = 0;
  for (const conns of CONNS) {
    for (const size of SIZES) {
      const order = running.map((_, i) => running[(i + cell + rep) % running.length]);
      cell++;
      for (const r of order) {
        const cmd = pinned(
          [
            `${CACHE}tls_load_client`,
            String(r.port),
            String(conns),
            String(size),
            String(DURATION),
            String(WARMUP),
          ],
          0,
          pin,
        );
        try {
          const cpu0 = await cpuTicks(r.child.pid);
          const out = JSON.parse(await output(cmd));
          const cpu1 = await cpuTicks(r.child.pid);
          // The server's CPU time over the whole client run (warm-up included), per request.
          const trips = out.rps * (DURATION + WARMUP);
          out.cpuUsPerReq = ((cpu1 - cpu0) * 1e6) / CLK_TCK / trips;
          runs.push({ rep, server: r.spec.name, conns, size, ...out });
          console.error(`rep ${rep} ${r.spec.name} ${conns}×${size}: ${Math.round(out.rps)} req/s`);
        } catch (e) {
          runs.push({ rep, server: r.spec.name, conns, size, error: String(e) });
          console.error(`rep ${rep} ${r.spec.name} ${conns}×${size}: ${e}`);
        }
      }
    }
  }
  for (const r of running) {
    r.child.kill("SIGTERM");
    await r.child.status;
  }
}
const wall = (performance.now() - t0) / 1000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};
const info = await machineInfo(python);
const cells = CONNS.flatMap((c) => SIZES.map((s) => ({ conns: c, size: s })));
const medians = specs.map((s) => ({
  server: s.name,
  cells: cells.map(({ conns, size }) => {
    const got = runs.filter((r) =>
      r.server === s.name && r.conns === conns && r.size === size && r.rps !== undefined
    );
    return {
      conns,
      size,
      rps: median(got.map((r) => r.rps!)),
      min: Math.min(...got.map((r) => r.rps!)),
      max: Math.max(...got.map((r) => r.rps!)),
      p50Us: median(got.map((r) => r.p50Us!)),
      cpuUsPerReq: median(got.map((r) => r.cpuUsPerReq!)),
    };
  }),
}));
await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
await Deno.writeTextFile(
  `${ROOT}bench/results/tls_echo.json`,
  JSON.stringify(
    { date: new Date().toISOString(), info, pin, DURATION, WARMUP, REPS, runs, medians },
    null,
    2,
  ) + "\n",
);

const label = (size: number) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const uv = medians.find((m) => m.server === "uvloop + ssl");
let body =
  `Medians of ${REPS} interleaved repetitions, ${DURATION} s measured per cell after ${WARMUP} s of warm-up, ` +
  `${new Date().toISOString().slice(0, 10)}; driver wall time ${
    Math.round(wall)
  } s. ${info.cpu}, ${info.cores} cores, ` +
  `Linux ${info.kernel}; Deno ${info.deno}, Python ${info.python}, uvloop ${info.uvloop}, OpenSSL 3 (system). ` +
  (pin ? "Servers pinned to core 1, the client to core 0." : "Not pinned.") + "\n\n";
body += `| server | ${cells.map((c) => `${c.conns} × ${label(c.size)}`).join(" | ")} |\n`;
body += `| --- | ${cells.map(() => "---:").join(" | ")} |\n`;
for (const m of medians) {
  body += `| ${m.server} | ${
    m.cells.map((c, i) => {
      const ratio = uv && m.server !== uv.server
        ? ` (${(c.rps / uv.cells[i].rps).toFixed(2)}× uvloop)`
        : "";
      return `${fmt(c.rps)} (${fmt(c.min)}–${fmt(c.max)})${ratio}`;
    }).join(" | ")
  } |\n`;
}
body +=
  "\nRequests/s (a request is one message and its whole echo); MiB/s = requests/s × size.\n\n";
body +=
  "The server's CPU time per request (utime + stime from `/proc/PID/stat` over the client run, " +
  "median): less disturbed by other load on the machine than the rate.\n\n";
body += `| server | ${cells.map((c) => `${c.conns} × ${label(c.size)}`).join(" | ")} |\n`;
body += `| --- | ${cells.map(() => "---:").join(" | ")} |\n`;
for (const m of medians) {
  body += `| ${m.server} | ${
    m.cells.map((c, i) => {
      const ratio = uv && m.server !== uv.server
        ? ` (${(c.cpuUsPerReq / uv.cells[i].cpuUsPerReq).toFixed(2)}× uvloop's)`
        : "";
      return `${c.cpuUsPerReq.toFixed(1)} µs${ratio}`;
    }).join(" | ")
  } |\n`;
}
console.log(body);
if (README) await updateReadme("tls-echo", body);
