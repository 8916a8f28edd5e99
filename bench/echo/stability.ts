/**
 * The "no collapse" check of issue 13, read from a run of the echo driver:
 * per server, the slowest repetition against the median (goal: within 20 %)
 * and the median p99 latency against uvloop's (goal: below 3×); with the
 * server's CPU time and minor page faults per request (medians), which say
 * whether a slow run did more work per request or waited.
 *
 * Run the driver first, then this on its JSON:
 * ```sh
 * deno run --allow-run --allow-read --allow-write bench/echo/run_echo_bench.ts --reps=10 \
 *   --conns=10 --sizes=102400 --only=aio_epoll,aio_buffered,uvloop_protocol --no-readme
 * deno run --allow-read bench/echo/stability.ts bench/results/echo.json
 * ```
 *
 * @module
 */
interface Run {
  server: string;
  conns: number;
  size: number;
  rps?: number;
  p99Us?: number;
  serverCpu?: number;
  faultsPerReq?: number;
  error?: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const file = Deno.args[0] ?? "bench/results/echo.json";
const { runs, date } = JSON.parse(Deno.readTextFileSync(file)) as { runs: Run[]; date: string };
const cells = [...new Set(runs.map((r) => `${r.conns}x${r.size}`))];
console.log(`${file} (${date})\n`);
console.log(
  "| cell | server | runs | requests/s median | slowest | slowest ÷ median | p99 median (µs) | p99 ÷ uvloop's | CPU µs/request | faults/request |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const cell of cells) {
  const inCell = runs.filter((r) => `${r.conns}x${r.size}` === cell && !r.error && r.rps);
  const servers = [...new Set(inCell.map((r) => r.server))];
  const uv = inCell.filter((r) => r.server === "uvloop_protocol").map((r) => r.p99Us!);
  const uvP99 = uv.length ? median(uv) : NaN;
  for (const s of servers) {
    const rs = inCell.filter((r) => r.server === s);
    const rps = rs.map((r) => r.rps!);
    const med = median(rps), min = Math.min(...rps);
    const p99 = median(rs.map((r) => r.p99Us!));
    const ok = min / med >= 0.8 ? "" : " **(collapse)**";
    const cpu = median(rs.map((r) => (r.serverCpu ?? NaN) / r.rps! * 1e6));
    const faults = median(rs.map((r) => r.faultsPerReq ?? NaN));
    console.log(
      `| ${cell.replace("x", " × ")} B | ${s} | ${rs.length} | ${Math.round(med)} | ${
        Math.round(min)
      } | ${(min / med).toFixed(2)}${ok} | ${Math.round(p99)} | ${(p99 / uvP99).toFixed(2)}× | ${
        cpu.toFixed(1)
      } | ${faults.toFixed(2)} |`,
    );
  }
}
