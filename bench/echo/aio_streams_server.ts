/**
 * Echo server, streams style: `startServer()` with a callback that loops
 * `reader.read(65536)`, `writer.write()`, `await writer.drain()` (asyncio's
 * streams idiom), on an EpollSelector loop.
 *
 * Run: `deno run --allow-ffi bench/echo/aio_streams_server.ts [--port=0]`
 *
 * @module
 */
import { EpollSelector, SelectorEventLoop } from "../../mod.ts";
import { startServer, type StreamReader, type StreamWriter } from "../../streams/mod.ts";
import { announce, portFlag, reportMemory } from "./_server_args.ts";

async function echo(reader: StreamReader, writer: StreamWriter): Promise<void> {
  try {
    for (;;) {
      const data = await reader.read(65536);
      if (data.length === 0) break;
      writer.write(data);
      await writer.drain();
    }
  } catch {
    // A reset by the client at the end of a run: nothing to report.
  } finally {
    writer.close();
  }
}

const loop = new SelectorEventLoop(new EpollSelector());
const server = await loop.runUntilComplete(() =>
  startServer(echo, { host: "127.0.0.1", port: portFlag(), backlog: 1024 })
);
const { port } = server.sockets[0].getsockname() as Deno.NetAddr;
loop.addSignalHandler("SIGTERM", () => {
  server.close();
  loop.stop();
});
loop.addSignalHandler("SIGUSR2", reportMemory);
announce(port);
await loop.runForever();
loop.close();
