/**
 * TLS echo server on Deno's own TLS: `Deno.listenTls`, each connection
 * reading into its own 64 KiB buffer and writing back what it read.
 *
 * Run: `deno run --allow-net --allow-read bench/tls/deno_tls_server.ts --cert=server.pem --key=server.key`
 *
 * @module
 */
import { announce, flag, portFlag } from "../echo/_server_args.ts";

const listener = Deno.listenTls({
  hostname: "127.0.0.1",
  port: portFlag(),
  cert: Deno.readTextFileSync(flag("cert", "")),
  key: Deno.readTextFileSync(flag("key", "")),
});
Deno.addSignalListener("SIGTERM", () => {
  listener.close();
  Deno.exit(0);
});
announce((listener.addr as Deno.NetAddr).port);

async function serve(conn: Deno.TlsConn): Promise<void> {
  // As the TCP echo server: no Nagle delay (a TlsConn has setNoDelay at run time in Deno 2.9).
  (conn as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await conn.write(buf.subarray(off, n));
    }
  } catch { /* the client went away */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

for await (const conn of listener) serve(conn);
