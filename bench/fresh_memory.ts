/**
 * What a read's copy costs when it lands in fresh memory (`slice()`, as
 * `takeRead()` does for reads over 4 KiB) against memory that is reused
 * (`set()` into one buffer), and the page faults per copy: the hypothesis
 * of issue 13 for the 100 KiB echo gap (CPython's malloc hands freed
 * memory back for the next read; V8 frees an ArrayBuffer only at a GC).
 *
 * Run: `deno run --allow-all bench/fresh_memory.ts` (Deno asks for all access to read `/proc/self`)
 *
 * @module
 */
const src = new Uint8Array(256 * 1024);
const faults = () => Number(Deno.readTextFileSync("/proc/self/stat").split(" ")[9]);
const N = 20_000;
for (const n of [4096, 16384, 65536, 102400, 200000]) {
  const live: Uint8Array[] = []; // the protocol keeps a few messages alive, as an echo does
  let t = performance.now();
  let f = faults();
  for (let i = 0; i < N; i++) {
    live.push(src.slice(0, n));
    if (live.length > 20) live.shift();
  }
  const fresh = (performance.now() - t) * 1000 / N;
  const perOp = (faults() - f) / N;
  const reused = new Uint8Array(n);
  t = performance.now();
  f = faults();
  for (let i = 0; i < N; i++) reused.set(src.subarray(0, n));
  const again = (performance.now() - t) * 1000 / N;
  console.log(
    `${String(n).padStart(6)} B: fresh ${fresh.toFixed(2)} µs (${perOp.toFixed(2)} faults), ` +
      `reused ${again.toFixed(2)} µs, ${(fresh / again).toFixed(1)}×`,
  );
}
