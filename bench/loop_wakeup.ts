/**
 * Wake-up latency: a Deno `setTimeout` callback notes `performance.now()` and
 * calls `loop.callSoon(cb)` on a loop parked off-thread in `selectAsync()`;
 * `cb` notes the delta. The optional asyncio figure
 * (bench/peers/asyncio_wakeup.py) uses `call_soon_threadsafe` from a thread.
 *
 * Run: `deno run --allow-ffi bench/loop_wakeup.ts [--n=2000]`
 *
 * @module
 */
import { SelectorEventLoop } from "../mod.ts";
import { intArg, percentile, report } from "./_workload.ts";

const n = intArg("n", 2000);
const WARMUP = 100;
// 1 ms apart: long enough for the loop to settle and park again between samples.
const GAP_MS = 1;
using loop = new SelectorEventLoop();
const samples: number[] = [];
let t0 = 0, seen = 0;

function cb(): void {
  const dt = performance.now() - t0;
  if (seen++ >= WARMUP) samples.push(dt);
  if (samples.length === n) loop.stop();
  else setTimeout(poke, GAP_MS);
}
function poke(): void {
  t0 = performance.now();
  loop.callSoon(cb);
}

setTimeout(poke, GAP_MS);
const start = performance.now();
await loop.runForever();
const ms = performance.now() - start;
report({
  workload: "wakeup",
  impl: "aio",
  n,
  ms,
  p50Us: percentile(samples, 50) * 1000,
  p99Us: percentile(samples, 99) * 1000,
  maxUs: Math.max(...samples) * 1000,
});
