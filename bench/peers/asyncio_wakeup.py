"""Wake-up latency of a parked asyncio loop: a thread notes perf_counter()
and calls loop.call_soon_threadsafe(cb); cb notes the delta (the asyncio
counterpart of bench/loop_wakeup.ts, where a Deno timer plays the thread).

Run: python3 bench/peers/asyncio_wakeup.py [--n=2000]
"""
import asyncio
import threading
import time

from _peer import int_arg, percentile, report

n = int_arg("n", 2000)
WARMUP = 100
GAP_S = 0.001
loop = asyncio.new_event_loop()
samples = []
t0 = 0.0
seen = 0
next_poke = threading.Event()


def cb():
    global seen
    dt = time.perf_counter() - t0
    if seen >= WARMUP:
        samples.append(dt)
    seen += 1
    if len(samples) == n:
        loop.stop()
    else:
        next_poke.set()


def poker():
    global t0
    while True:
        time.sleep(GAP_S)
        t0 = time.perf_counter()
        loop.call_soon_threadsafe(cb)
        next_poke.wait()
        next_poke.clear()
        if len(samples) == n:
            return


threading.Thread(target=poker, daemon=True).start()
start = time.perf_counter()
loop.run_forever()
ms = (time.perf_counter() - start) * 1000
loop.close()
report({
    "workload": "wakeup",
    "impl": "asyncio",
    "n": n,
    "ms": ms,
    "p50Us": percentile(samples, 50) * 1e6,
    "p99Us": percentile(samples, 99) * 1e6,
    "maxUs": max(samples) * 1e6,
})
