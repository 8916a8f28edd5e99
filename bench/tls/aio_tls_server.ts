/**
 * TLS echo server on @aio/loop: `loop.createServer()` with `ssl` and a
 * `Protocol` whose `dataReceived` writes the bytes back, on a
 * `SelectorEventLoop(EpollSelector)`.
 *
 * Run: `deno run --allow-ffi --allow-read bench/tls/aio_tls_server.ts --cert=server.pem --key=server.key`
 *
 * @module
 */
import { EpollSelector, Protocol, SelectorEventLoop, type Transport } from "../../mod.ts";
import { announce, flag, portFlag } from "../echo/_server_args.ts";

class Echo extends Protocol {
  #transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.#transport = transport;
  }
  override dataReceived(data: Uint8Array): void {
    this.#transport.write(data);
  }
}

const cert = Deno.readTextFileSync(flag("cert", ""));
const key = Deno.readTextFileSync(flag("key", ""));
const loop = new SelectorEventLoop(new EpollSelector());
const server = await loop.runUntilComplete(() =>
  loop.createServer(() => new Echo(), {
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
