/**
 * Echo server on Deno's own TCP (`Deno.listen`): one async loop per
 * connection doing `conn.read()` then `conn.write()` on a 64 KiB buffer of
 * its own.
 *
 * Run: `deno run --allow-net bench/echo/deno_native_server.ts [--port=0]`
 *
 * @module
 */
import { announce, portFlag, reportMemory } from "./_server_args.ts";

const listener = Deno.listen({ hostname: "127.0.0.1", port: portFlag() });

async function serve(conn: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(65536);
  try {
    conn.setNoDelay(true);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      // write() may take less than asked: loop until all of it went out.
      for (let off = 0; off < n;) off += await conn.write(buf.subarray(off, n));
    }
  } catch {
    // A reset by the client at the end of a run: nothing to report.
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

Deno.addSignalListener("SIGTERM", () => listener.close());
Deno.addSignalListener("SIGUSR2", reportMemory);
announce(listener.addr.port);
try {
  for await (const conn of listener) serve(conn);
} catch {
  // The listener was closed by SIGTERM.
}
Deno.exit(0);
