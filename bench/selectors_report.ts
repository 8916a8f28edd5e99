/**
 * Runs bench/selectors_bench.ts with `deno bench --json`, keeps the raw
 * output in bench/results/selectors.json, draws bench/results/selectors.svg
 * (cost of `select(0)` against idle fds, log–log) and regenerates the tables
 * in bench/README.md between the `selectors-bench` markers.
 *
 * Run: `deno run --allow-run --allow-read --allow-write=bench bench/selectors_report.ts`
 *
 * @module
 */
import { updateReadmeSection } from "./_readme.ts";
import { fileURLToPath } from "node:url";

const BENCH = fileURLToPath(new URL(".", import.meta.url));

interface Stats {
  n: number;
  avg: number;
  min: number;
  max: number;
  p75: number;
  p99: number;
}
interface Bench {
  group: string;
  name: string;
  baseline: boolean;
  results: { ok?: Stats }[];
}
interface BenchOutput {
  version: number;
  runtime: string;
  cpu: string;
  benches: Bench[];
}

const out = await new Deno.Command(Deno.execPath(), {
  args: ["bench", "--json", "--allow-ffi", `${BENCH}selectors_bench.ts`],
  stdout: "piped",
  stderr: "inherit",
}).output();
if (!out.success) throw new Error(`deno bench failed with exit code ${out.code}`);
const raw = new TextDecoder().decode(out.stdout);
const data: BenchOutput = JSON.parse(raw);
await Deno.mkdir(`${BENCH}results`, { recursive: true });
await Deno.writeTextFile(`${BENCH}results/selectors.json`, raw);

const stats = (b: Bench): Stats => {
  const s = b.results[0]?.ok;
  if (s === undefined) throw new Error(`${b.name} failed`);
  return s;
};
const idleFds = (name: string) => Number(name.match(/([\d,]+) idle fds/)![1].replace(/,/g, ""));
const ns = (x: number) =>
  x >= 1000 ? `${(x / 1000).toFixed(x >= 10_000 ? 0 : 1)} µs` : `${x.toFixed(0)} ns`;

// --- select(0) against idle fds -------------------------------------------------

// "ffi" and "ready" are calls, reported in the table of calls below; every other group is a selector.
const isCall = (group: string) => group === "ffi" || group === "ready";
const selectors = [...new Set(data.benches.filter((b) => !isCall(b.group)).map((b) => b.group))];
const series = selectors.map((group) => {
  const rows = data.benches.filter((b) => b.group === group)
    .map((b) => ({ fds: idleFds(b.name), avg: stats(b).avg, min: stats(b).min }))
    .sort((a, b) => a.fds - b.fds);
  return { group, rows };
});
const sizes = [...new Set(series.flatMap((s) => s.rows.map((r) => r.fds)))].sort((a, b) => a - b);
// SelectSelector's "~1000" row is its largest n below FD_SETSIZE: show it on the 1,000 line.
const rowOf = (rows: { fds: number; avg: number; min: number }[], n: number) =>
  rows.find((r) => r.fds === n) ??
    (n === 1000 ? rows.find((r) => r.fds > 900 && r.fds < 1024) : undefined);
const tableSizes = sizes.filter((n) => n <= 100 || n === 1000 || n === 10_000);

const lines: string[] = [];
lines.push(
  `\`deno bench\` on ${data.cpu}, ${data.runtime}; mean time of one \`select(0)\` ` +
    "(× = against the same selector with 10 idle fds; in parentheses the same ratio on the " +
    "fastest sample, which this machine's noise disturbs less).",
  "",
  `| idle fds | ${selectors.join(" | ")} |`,
  `|---:|${selectors.map(() => "---:").join("|")}|`,
);
for (const n of tableSizes) {
  const cells = series.map(({ rows }) => {
    const r = rowOf(rows, n);
    if (r === undefined) return "n/a (FD_SETSIZE)";
    const x = r.avg / rows[0].avg, xMin = r.min / rows[0].min;
    const shown = r.fds !== n ? ` (${r.fds} fds)` : "";
    return `${ns(r.avg)}${shown} · ${x.toFixed(2)}× (min ${xMin.toFixed(2)}×)`;
  });
  lines.push(`| ${n.toLocaleString("en-US")} | ${cells.join(" | ")} |`);
}
const epoll = series.find((s) => s.group === "EpollSelector");
if (epoll !== undefined) {
  const r = epoll.rows.at(-1)!.avg / epoll.rows[0].avg;
  const rMin = epoll.rows.at(-1)!.min / epoll.rows[0].min;
  lines.push(
    "",
    `EpollSelector: ${epoll.rows.at(-1)!.fds.toLocaleString("en-US")} idle fds cost ` +
      `${r.toFixed(2)}× of 10 on the mean, ${rMin.toFixed(2)}× on the fastest sample ` +
      `(goal ≤ 1.5×: **${r <= 1.5 && rMin <= 1.5 ? "met" : "missed"}**).`,
  );
}

// An ASCII chart: one bar per (selector, n), log scale from 100 ns to 10 ms.
const LOG_MIN = 2, LOG_MAX = 7, WIDTH = 50; // log10 of ns
const bar = (avg: number) =>
  "#".repeat(Math.max(1, Math.round((Math.log10(avg) - LOG_MIN) / (LOG_MAX - LOG_MIN) * WIDTH)));
lines.push("", "```text", "select(0) cost, log scale (100 ns … 10 ms)");
for (const { group, rows } of series) {
  for (const r of rows) {
    const label = `${group.replace("Selector", "")} ${r.fds.toLocaleString("en-US")}`;
    lines.push(`${label.padEnd(14)} ${bar(r.avg).padEnd(WIDTH)} ${ns(r.avg)}`);
  }
}
lines.push("```", "", "![select(0) cost against idle fds](results/selectors.svg)", "");

// --- The FFI call itself --------------------------------------------------------

const ffi = data.benches.filter((b) => isCall(b.group));
const base = ffi.find((b) => b.baseline) ?? ffi[0];
lines.push(
  "| call | mean | p75 | p99 | × sync poll |",
  "|---|---:|---:|---:|---:|",
);
for (const b of ffi) {
  const s = stats(b);
  lines.push(
    `| ${b.name} | ${ns(s.avg)} | ${ns(s.p75)} | ${ns(s.p99)} | ${
      (s.avg / stats(base).avg).toFixed(1)
    }× |`,
  );
}

// --- SVG: log–log lines, one per selector ---------------------------------------

const W = 520, H = 320, L = 70, R = 130, T = 20, B = 40;
const xs = (fds: number) => L + (Math.log10(fds) - 1) / 3 * (W - L - R);
const ys = (avg: number) =>
  T + (1 - (Math.log10(avg) - LOG_MIN) / (LOG_MAX - LOG_MIN)) * (H - T - B);
const COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];
const svg: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
];
for (let e = 1; e <= 4; e++) {
  svg.push(
    `<line x1="${xs(10 ** e)}" y1="${T}" x2="${xs(10 ** e)}" y2="${H - B}" stroke="#ddd"/>`,
    `<text x="${xs(10 ** e)}" y="${H - B + 15}" text-anchor="middle">${
      (10 ** e).toLocaleString("en-US")
    }</text>`,
  );
}
for (let e = LOG_MIN; e <= LOG_MAX; e++) {
  const label = ["", "", "100 ns", "1 µs", "10 µs", "100 µs", "1 ms", "10 ms"][e];
  svg.push(
    `<line x1="${L}" y1="${ys(10 ** e)}" x2="${W - R}" y2="${ys(10 ** e)}" stroke="#ddd"/>`,
    `<text x="${L - 6}" y="${ys(10 ** e) + 4}" text-anchor="end">${label}</text>`,
  );
}
svg.push(
  `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">registered idle fds</text>`,
  `<text x="12" y="${(T + H - B) / 2}" transform="rotate(-90 12 ${
    (T + H - B) / 2
  })" text-anchor="middle">one select(0)</text>`,
);
series.forEach(({ group, rows }, i) => {
  const c = COLORS[i % COLORS.length];
  const pts = rows.map((r) => `${xs(r.fds).toFixed(1)},${ys(r.avg).toFixed(1)}`).join(" ");
  svg.push(`<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>`);
  for (const r of rows) {
    svg.push(
      `<circle cx="${xs(r.fds).toFixed(1)}" cy="${ys(r.avg).toFixed(1)}" r="3" fill="${c}"/>`,
    );
  }
  svg.push(`<text x="${W - R + 10}" y="${T + 15 + i * 16}" fill="${c}">${group}</text>`);
});
svg.push("</svg>");
await Deno.writeTextFile(`${BENCH}results/selectors.svg`, svg.join("\n") + "\n");

const table = lines.join("\n");
console.log(table);

await updateReadmeSection(
  "<!-- selectors-bench:begin (generated by selectors_report.ts) -->",
  "<!-- selectors-bench:end -->",
  table,
);
