/**
 * 64-byte ping-pong on one loopback TCP connection with the loop's
 * `sockSendall`/`sockRecvInto`, client and server as two tasks of the same
 * loop. Peers: bench/peers/asyncio_sock_pingpong.py (asyncio's sock_*) and
 * bench/deno_native_pingpong.ts (`Deno.connect`/`Deno.listen`).
 *
 * Run: `deno run --allow-ffi bench/loop_sock_pingpong.ts [--n=20000]`
 *
 * @module
 */
import { SelectorEventLoop } from "../mod.ts";
import { Socket } from "../net/mod.ts";
import { intArg, percentile, report } from "./_workload.ts";

const MSG = 64;

async function readFull(loop: SelectorEventLoop, sock: Socket, buf: Uint8Array): Promise<void> {
  for (let got = 0; got < buf.length;) {
    const k = await loop.sockRecvInto(sock, got === 0 ? buf : buf.subarray(got));
    if (k === 0) throw new Error("unexpected EOF");
    got += k;
  }
}

async function pingpong(
  loop: SelectorEventLoop,
  client: Socket,
  server: Socket,
  n: number,
): Promise<number[]> {
  const echo = loop.createTask(async () => {
    const buf = new Uint8Array(MSG);
    for (let i = 0; i < n; i++) {
      await readFull(loop, server, buf);
      await loop.sockSendall(server, buf);
    }
  });
  const msg = new Uint8Array(MSG).fill(120), buf = new Uint8Array(MSG);
  const lat = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await loop.sockSendall(client, msg);
    await readFull(loop, client, buf);
    lat[i] = performance.now() - t;
  }
  await echo;
  return lat;
}

const n = intArg("n", 20_000);
using loop = new SelectorEventLoop();
await loop.runUntilComplete(async () => {
  using lsock = new Socket();
  lsock.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  lsock.listen();
  using client = new Socket();
  const accepted = loop.createTask(() => loop.sockAccept(lsock));
  await loop.sockConnect(client, lsock.getsockname());
  const [server] = await accepted;
  using _server = server;
  for (const s of [client, server]) s.setsockopt("TCP_NODELAY", true);
  await pingpong(loop, client, server, Math.ceil(n / 10));
  const t0 = performance.now();
  const lat = await pingpong(loop, client, server, n);
  const ms = performance.now() - t0;
  report({
    workload: "sock_pingpong",
    impl: "aio",
    n,
    ms,
    perSec: n / (ms / 1000),
    p50Us: percentile(lat, 50) * 1000,
    p99Us: percentile(lat, 99) * 1000,
  });
});
