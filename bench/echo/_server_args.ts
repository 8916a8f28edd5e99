/**
 * What every Deno echo server of this benchmark shares: its flags, the
 * line that tells the driver its port, and the memory report the driver
 * asks for with SIGUSR2 (SIGUSR1 is Node's debugger signal, so all
 * servers use SIGUSR2).
 *
 * @module
 */

/** `--name=value` from the command line, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  const arg = Deno.args.find((a) => a.startsWith(prefix));
  return arg === undefined ? fallback : arg.slice(prefix.length);
}

/** The port to listen on (`--port`, default 0: the OS picks). */
export function portFlag(): number {
  return Number(flag("port", "0"));
}

/** Tells the driver the server is up: one JSON line on stdout. */
export function announce(port: number): void {
  console.log(JSON.stringify({ port }));
}

/**
 * One JSON line with the JS heap (after a full GC when the process runs with
 * `--v8-flags=--expose-gc`) and the RSS, for the memory benchmark.
 */
export function reportMemory(): void {
  (globalThis as { gc?: () => void }).gc?.();
  const m = Deno.memoryUsage();
  console.log(
    JSON.stringify({ mem: { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss } }),
  );
}
