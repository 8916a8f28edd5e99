/**
 * Memory held by idle connections: each server (pinned to core 1, with
 * RLIMIT_NOFILE at 20,000 and, for V8, `--expose-gc`) reports its JS heap
 * after a full GC and its RSS (VmRSS from /proc/<pid>/status); then the C
 * client opens `--conns` connections (10,000 by default), echoes one byte on
 * each so the server has really set it up, and keeps them idle; the server
 * reports again. The difference, divided by the connection count, is the
 * cost of one idle connection.
 *
 * Writes bench/results/echo_memory.json and the `echo-memory` block of
 * bench/README.md.
 *
 * Run: `deno run --allow-run --allow-read --allow-write bench/echo/memory_bench.ts`
 * Options: `--conns=10000`, `--only=aio_epoll,deno_native,node`, `--no-readme`.
 *
 * @module
 */
import {
  CACHE,
  canPin,
  compileC,
  machineInfo,
  pickPython,
  pinned,
  ROOT,
  RunningServer,
  serverSpecs,
  updateReadme,
} from "./_procs.ts";

const arg = (name: string, fallback: string) =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const CONNS = Number(arg("conns", "10000"));
const ONLY = arg(
  "only",
  "aio_epoll,aio_streams,aio_sock,deno_native,node,asyncio_protocol," +
    "uvloop_protocol,c_epoll",
).split(",");
const README = !Deno.args.includes("--no-readme");

interface Row {
  id: string;
  label: string;
  rssBefore?: number;
  rssAfter?: number;
  heapBefore?: number;
  heapAfter?: number;
  rssPerConn?: number;
  heapPerConn?: number;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the client in idle mode; resolves once it holds every connection. */
async function openIdle(port: number, pin: boolean) {
  const cmd = pinned([`${CACHE}load_client`, `--port=${port}`, `--idle=${CONNS}`], 0, pin);
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 180_000;
  while (!text.includes("\n")) {
    const timer = sleep(Math.max(0, deadline - Date.now())).then(() => null);
    const got = await Promise.race([reader.read(), timer]);
    if (got === null || got.done) {
      child.kill("SIGKILL");
      throw new Error(`client: ${got === null ? "timed out" : "exited"} before holding ${CONNS}`);
    }
    text += got.value;
  }
  const line = JSON.parse(text.split("\n")[0]);
  if (line.error) throw new Error(`client: ${line.error} (conn ${line.conn}) ${line.detail}`);
  const stdin = child.stdin.getWriter();
  return {
    /** Closes the client's stdin: it closes every connection and exits. */
    async close() {
      await stdin.close();
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await child.status;
    },
  };
}

async function measure(id: string, pin: boolean): Promise<Row> {
  const spec = (await serverSpecs(true)).find((s) => s.id === id);
  if (!spec) throw new Error(`unknown server ${id}`);
  const row: Row = { id, label: spec.label };
  if (spec.missing) return { ...row, error: spec.missing };
  const server = await RunningServer.start(spec, 1, pin);
  try {
    await sleep(500);
    const m0 = await server.memory();
    row.rssBefore = await server.rss();
    row.heapBefore = m0.heapUsed;
    const client = await openIdle(server.port, pin);
    await sleep(1000);
    const m1 = await server.memory();
    row.rssAfter = await server.rss();
    row.heapAfter = m1.heapUsed;
    await client.close();
    row.rssPerConn = (row.rssAfter - row.rssBefore) / CONNS;
    if (row.heapBefore !== undefined && row.heapAfter !== undefined) {
      row.heapPerConn = (row.heapAfter - row.heapBefore) / CONNS;
    }
  } catch (e) {
    row.error = (e as Error).message;
  } finally {
    const { clean, detail } = await server.stop(10_000);
    if (!clean) row.error = `${row.error ? `${row.error}; ` : ""}unclean shutdown: ${detail}`;
  }
  return row;
}

const mib = (b?: number) => (b === undefined ? "–" : `${(b / 1048576).toFixed(1)} MiB`);
const kib = (b?: number) => (b === undefined ? "–" : `${(b / 1024).toFixed(2)} KiB`);

async function main(): Promise<void> {
  await compileC();
  const pin = await canPin();
  const rows: Row[] = [];
  for (const id of ONLY) {
    const row = await measure(id, pin);
    console.error(JSON.stringify(row));
    rows.push(row);
  }
  const { python } = await pickPython();
  const machine = await machineInfo(python);
  const date = new Date().toISOString().slice(0, 10);
  await Deno.writeTextFile(
    `${ROOT}bench/results/echo_memory.json`,
    JSON.stringify({ date, machine, conns: CONNS, rows }, null, 1) + "\n",
  );
  const ref = (id: string) => rows.find((r) => r.id === id);
  const ratio = (a?: number, b?: number) =>
    a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}×` : "–";
  const out = [
    `${
      CONNS.toLocaleString("en-US")
    } idle connections (one 1-byte echo each, then idle), ${date}, Deno ${machine.deno}, Node ${machine.node}, Python ${machine.python}. ` +
    "JS heap = `heapUsed` after a full GC (`--expose-gc`); RSS = VmRSS. Per connection = (with − without) / connections.",
    "",
    "| server | RSS without → with | RSS per conn | × Deno native | × Node | JS heap without → with | heap per conn | × Deno native | × Node |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const dn = ref("deno_native"), nd = ref("node");
  for (const r of rows) {
    if (r.error && r.rssPerConn === undefined) {
      out.push(`| ${r.label} | failed: ${r.error} | | | | | | | |`);
      continue;
    }
    out.push(
      `| ${r.label} | ${mib(r.rssBefore)} → ${mib(r.rssAfter)} | ${kib(r.rssPerConn)} | ${
        ratio(r.rssPerConn, dn?.rssPerConn)
      } | ${ratio(r.rssPerConn, nd?.rssPerConn)} | ${
        r.heapBefore === undefined ? "n/a" : `${mib(r.heapBefore)} → ${mib(r.heapAfter)}`
      } | ${r.heapPerConn === undefined ? "n/a" : `${Math.round(r.heapPerConn)} B`} | ${
        ratio(r.heapPerConn, dn?.heapPerConn)
      } | ${ratio(r.heapPerConn, nd?.heapPerConn)} |`,
    );
  }
  const errs = rows.filter((r) => r.error);
  if (errs.length) out.push("", ...errs.map((r) => `- ${r.label}: ${r.error}`));
  const text = out.join("\n");
  console.log(text);
  if (README) await updateReadme("echo-memory", text);
}

if (import.meta.main) await main();
