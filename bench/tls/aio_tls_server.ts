/**
 * TLS echo server on @aio/loop: `loop.createServer()` with `ssl` and a
 * `Protocol` whose `dataReceived` writes the bytes back, on a
 * `SelectorEventLoop(EpollSelector)`. With `--buffered`, a
 * `BufferedProtocol`: the TLS layer decrypts straight into the protocol's
 * own buffer, so no read gets fresh memory (bench/README.md, section C).
 *
 * Run: `deno run --allow-ffi --allow-read bench/tls/aio_tls_server.ts --cert=server.pem --key=server.key [--buffered]`
 *
 * @module
 */
import { EpollSelector, SelectorEventLoop } from "../../mod.ts";
import { announce, flag, portFlag } from "../echo/_server_args.ts";
import { BufferedEcho, Echo } from "../echo/_echo_protocols.ts";

const buffered = Deno.args.includes("--buffered");
const cert = Deno.readTextFileSync(flag("cert", ""));
const key = Deno.readTextFileSync(flag("key", ""));
const loop = new SelectorEventLoop(new EpollSelector());
const server = await loop.runUntilComplete(() =>
  loop.createServer(() => buffered ? new BufferedEcho() : new Echo(), {
    host: "127.0.0.1",
    port: portFlag(),
    backlog: 1024,
    ssl: { cert, key },
  })
);
const { port } = server.sockets[0].getsockname() as Deno.NetAddr;
loop.addSignalHandler("SIGTERM", () => {
  server.close();
  server.abortClients();
  loop.stop();
});
announce(port);
await loop.runForever();
loop.close();
