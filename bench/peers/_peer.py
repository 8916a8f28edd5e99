"""What the asyncio peers share with bench/_workload.ts: the same LCG,
percentiles and result line."""
import json
import math
import sys


def lcg(seed):
    """Same sequence as lcg() in bench/_workload.ts."""
    x = seed & 0xFFFFFFFF

    def nxt():
        nonlocal x
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        return x / 4294967296

    return nxt


def percentile(samples, p):
    s = sorted(samples)
    if not s:
        return float("nan")
    rank = math.ceil(p / 100 * len(s))
    return s[min(len(s) - 1, max(0, rank - 1))]


def report(result):
    print(json.dumps(result), flush=True)


def int_arg(name, fallback):
    for a in sys.argv[1:]:
        if a.startswith(f"--{name}="):
            return int(a[len(name) + 3:])
    return fallback
