/**
 * UDP echo server on @aio/loop: `loop.createDatagramEndpoint()` with a
 * `DatagramProtocol` whose `datagramReceived` sends each datagram back to
 * its sender, on a `SelectorEventLoop(EpollSelector)`.
 *
 * Run: `deno run --allow-ffi bench/udp/aio_udp_server.ts [--port=0] [--batch=0] [--reply-cache=0]`
 *
 * @module
 */
import {
  type Address,
  DatagramProtocol,
  type DatagramTransport,
  EpollSelector,
  SelectorEventLoop,
} from "../../mod.ts";
import { announce, flag, portFlag } from "../echo/_server_args.ts";
import { datagramBatching } from "../../loop/selector/datagram_transport.ts";

// `--batch=0`: one recvfrom per datagram (the A/B of decision U1).
if (flag("batch", "1") === "0") datagramBatching.enabled = false;
// `--reply-cache=0`: batched reads, but every sendto() encodes its address afresh.
if (flag("reply-cache", "1") === "0") datagramBatching.replyAddress = false;

class Echo extends DatagramProtocol {
  #transport!: DatagramTransport;
  override connectionMade(transport: DatagramTransport): void {
    this.#transport = transport;
  }
  override datagramReceived(data: Uint8Array, addr: Address): void {
    this.#transport.sendto(data, addr);
  }
}

const loop = new SelectorEventLoop(new EpollSelector());
const [transport] = await loop.runUntilComplete(() =>
  loop.createDatagramEndpoint(() => new Echo(), {
    localAddr: { transport: "udp", hostname: "127.0.0.1", port: portFlag() },
  })
);
const { port } = transport.getExtraInfo("sockname") as Deno.NetAddr;
loop.addSignalHandler("SIGTERM", () => {
  transport.close();
  loop.stop();
});
announce(port);
await loop.runForever();
loop.close();
