/**
 * callSoon throughput: a chain of n callbacks, each scheduling the next, so
 * every callback costs one full loop iteration (as in the asyncio peer,
 * bench/peers/asyncio_call_soon.py).
 *
 * Run: `deno run --allow-ffi bench/loop_call_soon.ts [--n=1000000]`
 *
 * @module
 */
import { SelectorEventLoop } from "../mod.ts";
import { intArg, report } from "./_workload.ts";

const n = intArg("n", 1_000_000);
using loop = new SelectorEventLoop();
let left = n;
function step(): void {
  if (--left > 0) loop.callSoon(step);
  else loop.stop();
}
loop.callSoon(step);
const t0 = performance.now();
await loop.runForever();
const ms = performance.now() - t0;
if (left !== 0) throw new Error(`chain stopped early: ${left} left`);
report({ workload: "call_soon", impl: "aio", n, ms, perSec: n / (ms / 1000) });
