/**
 * The seeded randomness of the property tests: a failure prints its seed,
 * `AIO_FUZZ_SEED=<n>` replays it and `AIO_FUZZ_SEED=random` draws a new one.
 *
 * @module
 */

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: `AIO_FUZZ_SEED`, else a fixed one. */
export function fuzzSeed(): number {
  let env: string | undefined;
  try {
    env = Deno.env.get("AIO_FUZZ_SEED");
  } catch {
    env = undefined; // no --allow-env: the fixed seed
  }
  if (env === "random") return (Math.random() * 2 ** 32) >>> 0;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env) >>> 0;
  return 0x15_15_15;
}
