/**
 * Echo server, `sock_*` style: an accept loop with `loop.sockAccept()` and
 * one task per connection doing `sockRecvInto()` then `sockSendall()` on a
 * 64 KiB buffer of its own (asyncio's low-level socket calls), on an
 * EpollSelector loop.
 *
 * Run: `deno run --allow-ffi bench/echo/aio_sock_server.ts [--port=0]`
 *
 * @module
 */
import { EpollSelector, SelectorEventLoop, Socket } from "../../mod.ts";
import { announce, portFlag, reportMemory } from "./_server_args.ts";

const loop = new SelectorEventLoop(new EpollSelector());
const listener = new Socket();
listener.setsockopt("SO_REUSEADDR", true);
listener.bind({ transport: "tcp", hostname: "127.0.0.1", port: portFlag() });
listener.listen(1024);
listener.setBlocking(false);

async function serve(conn: Socket): Promise<void> {
  using _ = conn;
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await loop.sockRecvInto(conn, buf);
      if (n === 0) return;
      await loop.sockSendall(conn, buf.subarray(0, n));
    }
  } catch {
    // A reset by the client at the end of a run: nothing to report.
  }
}

const stop = new AbortController();
loop.addSignalHandler("SIGTERM", () => stop.abort());
loop.addSignalHandler("SIGUSR2", reportMemory);
announce((listener.getsockname() as Deno.NetAddr).port);
try {
  await loop.runUntilComplete(async () => {
    for (;;) {
      const [conn] = await loop.sockAccept(listener, { signal: stop.signal });
      conn.setsockopt("TCP_NODELAY", true); // as the transports do; asyncio's sock_* leave it
      loop.createTask(() => serve(conn));
    }
  });
} catch (e) {
  if (!stop.signal.aborted) throw e;
}
listener.close();
loop.close();
