/**
 * The batched read path of the selector datagram transport (decision U1):
 * on Linux a UDP endpoint reads up to `DATAGRAMS_PER_EVENT` datagrams per
 * `recvmmsg`; each still reaches `datagramReceived` as its own bytes with
 * its sender, in order, nothing lost. Every test runs twice, batching on and
 * off, so both paths are held to the same behaviour.
 */
import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { type Address, type NetAddress, Socket } from "../net/mod.ts";
import { DatagramProtocol } from "../transports/datagram_protocol.ts";
import type { DatagramTransport } from "../transports/mod.ts";
import { datagramBatching, DATAGRAMS_PER_EVENT } from "../loop/selector/datagram_transport.ts";
import { EpollSelector, SelectorEventLoop } from "../mod.ts";
import { DatagramBatch, HAS_RECVMMSG } from "../ffi/sys.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";

const V4 = "127.0.0.1";
const enc = new TextEncoder();

class Recorder extends DatagramProtocol {
  transport!: DatagramTransport;
  datagrams: [Uint8Array, Address][] = [];
  errors: Error[] = [];
  lost: (Error | null)[] = [];
  echo = false;
  pauseAfter = -1;
  #wake: (() => void) | null = null;
  override connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
  }
  override datagramReceived(data: Uint8Array, addr: Address): void {
    this.datagrams.push([data, addr]);
    if (this.echo) this.transport.sendto(data, addr);
    if (this.datagrams.length === this.pauseAfter) this.transport.pauseReading();
    this.#notify();
  }
  override errorReceived(exc: Error): void {
    this.errors.push(exc);
    this.#notify();
  }
  override connectionLost(exc: Error | null): void {
    this.lost.push(exc);
    this.#notify();
  }
  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.#wake = r);
  }
  async close(): Promise<void> {
    this.transport.close();
    await this.until(() => this.lost.length > 0);
  }
}

function sender(): Socket {
  const s = new Socket({ type: "dgram" });
  s.bind({ transport: "udp", hostname: V4, port: 0 });
  return s;
}

function body(i: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let k = 0; k < n; k++) b[k] = (k * 13 + i * 7) & 0xff;
  if (n >= 2) {
    b[0] = i & 0xff;
    b[1] = i >> 8;
  }
  return b;
}

/** Runs `fn` on a fresh epoll loop with batching `on`, checking no fd leaks and no loop errors. */
function both(name: string, fn: (loop: SelectorEventLoop) => Promise<void>): void {
  for (const on of [true, false]) {
    Deno.test({
      name: `datagram batch (${on ? "recvmmsg" : "recvfrom"}): ${name}`,
      ignore: Deno.build.os !== "linux" || (on && !HAS_RECVMMSG),
      fn: () =>
        assertNoFdLeak(async () => {
          const before = datagramBatching.enabled;
          datagramBatching.enabled = on;
          try {
            using loop = new SelectorEventLoop(new EpollSelector());
            const reported: unknown[] = [];
            loop.setExceptionHandler((_l, ctx) => void reported.push(ctx));
            await loop.runUntilComplete(() => fn(loop));
            assertEquals(reported, []);
          } finally {
            datagramBatching.enabled = before;
          }
        }),
    });
  }
}

async function server(loop: SelectorEventLoop): Promise<[Recorder, NetAddress]> {
  const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
    localAddr: { transport: "udp", hostname: V4, port: 0 },
  });
  return [p, t.getExtraInfo("sockname") as NetAddress];
}

both(
  "a burst from three senders arrives in order, each with its sender's address",
  async (loop) => {
    const [p, at] = await server(loop);
    const senders = [sender(), sender(), sender()];
    const n = DATAGRAMS_PER_EVENT * 5 + 3; // several batches and a partial one
    // Sent before the loop reads: the kernel queues them all, so reads come in full batches.
    for (let i = 0; i < n; i++) senders[i % 3].sendto(body(i, 10 + (i % 50)), at);
    await p.until(() => p.datagrams.length === n);
    for (let i = 0; i < n; i++) {
      const [data, from] = p.datagrams[i];
      assertEquals(data, body(i, 10 + (i % 50)), `datagram ${i}`);
      assertEquals(from, senders[i % 3].getsockname(), `sender of datagram ${i}`);
    }
    senders.forEach((s) => s.close());
    await p.close();
  },
);

both("empty datagrams are delivered, as empty arrays", async (loop) => {
  const [p, at] = await server(loop);
  using s = sender();
  for (const n of [0, 1, 0, 0, 5]) s.sendto(body(n, n), at);
  await p.until(() => p.datagrams.length === 5);
  assertEquals(p.datagrams.map(([d]) => d.byteLength), [0, 1, 0, 0, 5]);
  await p.close();
});

both("the largest UDP datagram arrives whole, and every datagram owns its bytes", async (loop) => {
  const [p, at] = await server(loop);
  using s = sender();
  const sizes = [65507, 3, 4096, 4097, 65507, 1];
  sizes.forEach((n, i) => s.sendto(body(i, n), at));
  await p.until(() => p.datagrams.length === sizes.length);
  // Checked only once all arrived: later reads did not overwrite earlier datagrams.
  sizes.forEach((n, i) => assertEquals(p.datagrams[i][0], body(i, n), `datagram ${i}`));
  await p.close();
});

both("pausing mid-batch holds the rest; resuming delivers them first, in order", async (loop) => {
  const [p, at] = await server(loop);
  p.pauseAfter = 3;
  using s = sender();
  const n = 12;
  for (let i = 0; i < n; i++) s.sendto(body(i, 8), at);
  await p.until(() => p.datagrams.length >= 3);
  await new Promise((r) => setTimeout(r, 30));
  assertEquals(p.datagrams.length, 3, "nothing delivered while paused");
  assert(!p.transport.isReading());
  s.sendto(body(n, 8), at); // arrives after the held ones
  p.transport.resumeReading();
  await p.until(() => p.datagrams.length === n + 1);
  for (let i = 0; i <= n; i++) assertEquals(p.datagrams[i][0], body(i, 8), `datagram ${i}`);
  await p.close();
});

both("an echo to the received address goes back to each sender", async (loop) => {
  const [p, at] = await server(loop);
  p.echo = true;
  const clients = await Promise.all(
    [0, 1, 2].map(() => loop.createDatagramEndpoint(() => new Recorder(), { remoteAddr: at })),
  );
  for (let round = 0; round < 3; round++) {
    clients.forEach(([t], i) => t.sendto(body(i * 10 + round, 20)));
  }
  for (const [i, [, c]] of clients.entries()) {
    await c.until(() => c.datagrams.length === 3);
    for (let round = 0; round < 3; round++) {
      assertEquals(c.datagrams[round][0], body(i * 10 + round, 20));
    }
  }
  // A reply to an address object changed since it was received goes where it now says.
  const other = await server(loop);
  const [data, from] = p.datagrams[p.datagrams.length - 1];
  (from as { port: number }).port = other[1].port;
  p.transport.sendto(data, from);
  await other[0].until(() => other[0].datagrams.length === 1);
  for (const [, c] of clients) await c.close();
  await other[0].close();
  await p.close();
});

both("an ICMP port unreachable reaches errorReceived and the endpoint stays open", async (loop) => {
  using probe = sender();
  const port = (probe.getsockname() as NetAddress).port;
  probe.close();
  const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
    remoteAddr: { transport: "udp", hostname: V4, port },
  });
  t.sendto(enc.encode("probe"));
  await p.until(() => p.errors.length > 0);
  assertInstanceOf(p.errors[0], Deno.errors.ConnectionRefused);
  assert(!t.isClosing());
  await p.close();
  assertEquals(p.lost, [null]);
});

Deno.test({
  name: "DatagramBatch: recv() says -1 when nothing waits, and cuts a datagram to its slot",
  ignore: !HAS_RECVMMSG,
  fn: () => {
    using a = sender();
    using b = sender();
    a.setBlocking(false);
    const batch = new DatagramBatch(4, 8);
    assertEquals(batch.recv(a.fileno()), -1);
    b.sendto(body(1, 20), a.getsockname());
    b.sendto(body(2, 5), a.getsockname());
    let n = -1;
    for (let tries = 0; tries < 100 && n < 2; tries++) n = batch.recv(a.fileno());
    assertEquals(n, 2);
    assertEquals(batch.length(0), 8);
    assert(batch.truncated(0));
    assertEquals(batch.slot(0).subarray(0, 8), body(1, 20).subarray(0, 8));
    assertEquals(batch.length(1), 5);
    assert(!batch.truncated(1));
    assertEquals(batch.nameLength(0), 16);
  },
});
