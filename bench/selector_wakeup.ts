/**
 * The floor under the loop's wake-up (bench/loop_wakeup.ts): a bare
 * `EpollSelector.selectAsync()` parked off the JS thread and woken by
 * `wakeup()` from a Deno `setTimeout` callback, with no loop at all; the
 * same shape as the loop's wake-up (a timer, the eventfd write, the worker's
 * `epoll_wait` returning, the promise resolving on a JS thread that was
 * asleep).
 *
 * Run: `deno run --allow-ffi bench/selector_wakeup.ts [--n=2000]`
 *
 * @module
 */
import { EpollSelector } from "../mod.ts";
import { intArg, percentile, report } from "./_workload.ts";

const n = intArg("n", 2000);
const WARMUP = 100;
using sel = new EpollSelector();
const samples: number[] = [];
let t0 = 0;
const start = performance.now();
for (let i = 0; i < n + WARMUP; i++) {
  setTimeout(() => {
    t0 = performance.now();
    sel.wakeup();
  }, 1);
  await sel.selectAsync(1000);
  if (i >= WARMUP) samples.push(performance.now() - t0);
}
report({
  workload: "selector_wakeup",
  impl: "aio",
  n,
  ms: performance.now() - start,
  p50Us: percentile(samples, 50) * 1000,
  p99Us: percentile(samples, 99) * 1000,
  maxUs: Math.max(...samples) * 1000,
});
