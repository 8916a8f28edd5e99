"""call_soon throughput: a chain of n callbacks, each scheduling the next
(peer of bench/loop_call_soon.ts).

Run: python3 bench/peers/asyncio_call_soon.py [--n=1000000]
"""
import asyncio
import time

from _peer import int_arg, report

n = int_arg("n", 1_000_000)
loop = asyncio.new_event_loop()
left = n


def step():
    global left
    left -= 1
    if left > 0:
        loop.call_soon(step)
    else:
        loop.stop()


loop.call_soon(step)
t0 = time.perf_counter()
loop.run_forever()
ms = (time.perf_counter() - t0) * 1000
loop.close()
assert left == 0, f"chain stopped early: {left} left"
report({"workload": "call_soon", "impl": "asyncio", "n": n, "ms": ms, "perSec": n / (ms / 1000)})
