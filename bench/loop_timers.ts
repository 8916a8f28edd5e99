/**
 * Timers: n `callLater` calls with seeded delays uniform in [0, 10) ms, every
 * other one cancelled, then run until the last live one fires. The asyncio
 * peer (bench/peers/asyncio_timers.py) draws the same delays from the same LCG.
 * One untimed warm-up pass at n/10 first, on both sides.
 *
 * Run: `deno run --allow-ffi bench/loop_timers.ts [--n=100000]`
 *
 * @module
 */
import { SelectorEventLoop, type TimerHandle } from "../mod.ts";
import { intArg, lcg, report } from "./_workload.ts";

const MAX_DELAY_MS = 10;

async function run(n: number) {
  using loop = new SelectorEventLoop();
  const rand = lcg(12345);
  const delays = Array.from({ length: n }, () => rand() * MAX_DELAY_MS);
  let fired = 0;
  const live = n - Math.floor(n / 2);
  const fire = () => {
    if (++fired === live) loop.stop();
  };
  const t0 = performance.now();
  const handles: TimerHandle[] = new Array(n);
  for (let i = 0; i < n; i++) handles[i] = loop.callLater(delays[i], fire);
  const t1 = performance.now();
  for (let i = 1; i < n; i += 2) handles[i].cancel();
  const t2 = performance.now();
  await loop.runForever();
  const t3 = performance.now();
  if (fired !== live) throw new Error(`${fired} of ${live} timers fired`);
  return { ms: t3 - t0, scheduleMs: t1 - t0, cancelMs: t2 - t1, runMs: t3 - t2 };
}

const n = intArg("n", 100_000);
await run(Math.ceil(n / 10));
report({ workload: "timers", impl: "aio", n, ...await run(n) });
