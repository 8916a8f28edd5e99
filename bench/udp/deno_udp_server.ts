/**
 * UDP echo server on Deno's own `Deno.listenDatagram` (unstable): a loop of
 * `receive()` then `send()` back to the sender.
 *
 * Run: `deno run --allow-net --unstable-net bench/udp/deno_udp_server.ts [--port=0]`
 *
 * @module
 */
import { announce, portFlag } from "../echo/_server_args.ts";

// deno-lint-ignore no-explicit-any
const listenDatagram = (Deno as any).listenDatagram as (
  o: { transport: "udp"; hostname: string; port: number },
) => {
  addr: Deno.NetAddr;
  receive(p?: Uint8Array): Promise<[Uint8Array, Deno.Addr]>;
  send(p: Uint8Array, a: Deno.Addr): Promise<number>;
  close(): void;
};
const conn = listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: portFlag() });
Deno.addSignalListener("SIGTERM", () => {
  conn.close();
  Deno.exit(0);
});
announce(conn.addr.port);
const buf = new Uint8Array(65536);
try {
  for (;;) {
    const [data, from] = await conn.receive(buf);
    await conn.send(data, from);
  }
} catch {
  // closed by SIGTERM
}
