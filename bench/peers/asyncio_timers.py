"""Timers: n call_later calls with seeded delays uniform in [0, 10) ms, every
other one cancelled, then run until the last live one fires (peer of
bench/loop_timers.ts; same LCG, same delays). One untimed warm-up pass at
n/10 first, as the Deno side does.

Run: python3 bench/peers/asyncio_timers.py [--n=100000]
"""
import asyncio
import time

from _peer import int_arg, lcg, report

MAX_DELAY_MS = 10


def run(n):
    loop = asyncio.new_event_loop()
    rand = lcg(12345)
    delays = [rand() * MAX_DELAY_MS / 1000 for _ in range(n)]  # asyncio takes seconds
    fired = 0
    live = n - n // 2

    def fire():
        nonlocal fired
        fired += 1
        if fired == live:
            loop.stop()

    t0 = time.perf_counter()
    handles = [loop.call_later(d, fire) for d in delays]
    t1 = time.perf_counter()
    for h in handles[1::2]:
        h.cancel()
    t2 = time.perf_counter()
    loop.run_forever()
    t3 = time.perf_counter()
    loop.close()
    assert fired == live, f"{fired} of {live} timers fired"
    ms = lambda a, b: (b - a) * 1000  # noqa: E731
    return {"ms": ms(t0, t3), "scheduleMs": ms(t0, t1), "cancelMs": ms(t1, t2), "runMs": ms(t2, t3)}


n = int_arg("n", 100_000)
run(-(-n // 10))
report({"workload": "timers", "impl": "asyncio", "n": n, **run(n)})
