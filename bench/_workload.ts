/**
 * What the loop workloads share: the seeded random numbers the Python peers
 * reproduce bit for bit, percentiles, and the one JSON line each workload
 * prints for `run_loop_bench.ts`.
 *
 * @module
 */

/**
 * A 32-bit LCG (Numerical Recipes constants). Weak, but trivially the same
 * in Python, so both sides schedule exactly the same delays.
 */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(1664525, x) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

/** The `p`-th percentile (0–100) of `samples`, nearest rank; sorts a copy. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(samples).sort();
  if (s.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** One workload's result: wall time inside the process, and workload-specific figures. */
export interface WorkloadResult {
  workload: string;
  impl: string;
  n: number;
  /** Elapsed ms for the timed part. */
  ms: number;
  [extra: string]: unknown;
}

/** Prints the result line the driver parses. */
export function report(result: WorkloadResult): void {
  console.log(JSON.stringify(result));
}

/** The integer value of `--name=value` on the command line, or `fallback`. */
export function intArg(name: string, fallback: number): number {
  const a = Deno.args.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? fallback : Number(a.slice(name.length + 3));
}
