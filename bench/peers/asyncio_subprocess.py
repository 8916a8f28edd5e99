"""The asyncio counterpart of bench/subprocess_bench.ts: spawn and wait of
`true` N times, and SIZE MiB through `cat` with communicate().

Run: python3 bench/peers/asyncio_subprocess.py [--n=200] [--mib=100]
Prints one JSON line per workload.
"""
import asyncio
import time

from _peer import int_arg, report

N = int_arg("n", 200)
MIB = int_arg("mib", 100)


async def spawn_wait():
    t = time.perf_counter()
    for _ in range(N):
        proc = await asyncio.create_subprocess_exec("true")
        await proc.wait()
    ms = (time.perf_counter() - t) * 1000
    report({"workload": "spawn_wait", "impl": "asyncio", "n": N, "ms": ms, "perSec": N / ms * 1000})


async def cat_pipe():
    data = bytes(i * 31 & 0xFF for i in range(1 << 16)) * (MIB * 16)
    t = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate(data)
    ms = (time.perf_counter() - t) * 1000
    assert len(out) == len(data)
    report({"workload": "cat_pipe", "impl": "asyncio", "mib": MIB, "ms": ms, "mibPerSec": MIB / ms * 1000})


async def main():
    await spawn_wait()
    await cat_pipe()


asyncio.run(main())
