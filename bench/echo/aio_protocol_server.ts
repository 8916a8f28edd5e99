/**
 * Echo server, protocol style: `loop.createServer()` with a `Protocol`
 * whose `dataReceived` writes the bytes back, on a `SelectorEventLoop`
 * over the selector `--selector` names (epoll, poll or select). With
 * `--buffered`, a `BufferedProtocol` instead: the transport reads into the
 * protocol's 256 KiB buffer (`getBuffer`/`bufferUpdated`; one buffer shared
 * by every connection), and the bytes are written back from it (`write()`
 * copies only what the kernel did not take), so no read gets fresh memory.
 *
 * Run: `deno run --allow-ffi bench/echo/aio_protocol_server.ts [--selector=epoll] [--buffered] [--port=0]`
 *
 * @module
 */
import {
  type BaseSelector,
  EpollSelector,
  PollSelector,
  readMemory,
  SelectorEventLoop,
  SelectSelector,
} from "../../mod.ts";
import { announce, flag, portFlag, reportMemory } from "./_server_args.ts";
import { BufferedEcho, Echo } from "./_echo_protocols.ts";

const selectors: Record<string, () => BaseSelector> = {
  epoll: () => new EpollSelector(),
  poll: () => new PollSelector(),
  select: () => new SelectSelector(),
};
if (flag("keep-freed", "1") === "0") readMemory.keepFreedMemory = false;
const name = flag("selector", "epoll");
if (!(name in selectors)) throw new RangeError(`--selector must be epoll, poll or select`);

const loop = new SelectorEventLoop(selectors[name]());
const server = await loop.runUntilComplete(() =>
  loop.createServer(() => Deno.args.includes("--buffered") ? new BufferedEcho() : new Echo(), {
    host: "127.0.0.1",
    port: portFlag(),
    backlog: 1024,
  })
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
