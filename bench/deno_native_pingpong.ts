/**
 * Deno's own TCP as a peer of bench/loop_sock_pingpong.ts: 64-byte ping-pong
 * on one loopback connection with `Deno.listen`/`Deno.connect` and
 * `conn.read`/`conn.write`, client and server in the same process.
 *
 * Run: `deno run --allow-net bench/deno_native_pingpong.ts [--n=20000]`
 *
 * @module
 */
import { intArg, percentile, report } from "./_workload.ts";

const MSG = 64;

async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  for (let got = 0; got < buf.length;) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) throw new Error("unexpected EOF");
    got += n;
  }
}

async function writeAll(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  for (let put = 0; put < buf.length;) put += await conn.write(buf.subarray(put));
}

async function pingpong(client: Deno.Conn, server: Deno.Conn, n: number): Promise<number[]> {
  const echo = (async () => {
    const buf = new Uint8Array(MSG);
    for (let i = 0; i < n; i++) {
      await readFull(server, buf);
      await writeAll(server, buf);
    }
  })();
  const msg = new Uint8Array(MSG).fill(120), buf = new Uint8Array(MSG);
  const lat = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await writeAll(client, msg);
    await readFull(client, buf);
    lat[i] = performance.now() - t;
  }
  await echo;
  return lat;
}

const n = intArg("n", 20_000);
using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const accepted = listener.accept();
using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
using server = await accepted;
client.setNoDelay(true);
server.setNoDelay(true);
await pingpong(client, server, Math.ceil(n / 10));
const t0 = performance.now();
const lat = await pingpong(client, server, n);
const ms = performance.now() - t0;
report({
  workload: "sock_pingpong",
  impl: "deno_native",
  n,
  ms,
  perSec: n / (ms / 1000),
  p50Us: percentile(lat, 50) * 1000,
  p99Us: percentile(lat, 99) * 1000,
});
