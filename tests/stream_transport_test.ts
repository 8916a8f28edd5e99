import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import type { ExceptionContext } from "../mod.ts";
import { Socket } from "../net/mod.ts";
import { BufferedProtocol, Transport, WriteTransport } from "../transports/mod.ts";
import { getNofileLimit, setNofileSoftLimit } from "../ffi/unix/libc.ts";
import { IOV_MAX } from "../ffi/unix/iovec.ts";
import { forEachLoop, forOneLoop, type TestLoop } from "./_loops.ts";
import { onLoop, pattern, portOf, Recorder, sameBytes, tick, until } from "./_stream_helpers.ts";

const MiB = 1024 * 1024;
const BIG = 16 * MiB;
const BIG_A = pattern(BIG, 1);
const BIG_B = pattern(BIG, 2);
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Writes `src` in chunks, honouring pauseWriting/resumeWriting, then writeEof; closes after both EOFs. */
class Pump extends Recorder {
  #src: Uint8Array;
  sent = 0;
  #paused = false;
  #eofSeen = false;
  pauses = 0;
  resumes = 0;
  constructor(src: Uint8Array) {
    super();
    this.#src = src;
    this.keepOpenOnEof = true;
  }
  override connectionMade(t: Transport): void {
    super.connectionMade(t);
    this.#pump();
  }
  #pump(): void {
    const src = this.#src;
    while (!this.#paused && this.sent < src.length) {
      const n = Math.min(200_000, src.length - this.sent);
      this.transport.write(src.subarray(this.sent, this.sent + n));
      this.sent += n;
    }
    if (this.sent === src.length && !this.transport.isClosing()) {
      this.transport.writeEof();
      if (this.#eofSeen) this.transport.close();
    }
  }
  override pauseWriting(): void {
    super.pauseWriting();
    this.pauses++;
    this.#paused = true;
  }
  override resumeWriting(): void {
    super.resumeWriting();
    this.resumes++;
    this.#paused = false;
    this.#pump();
  }
  override eofReceived(): boolean {
    super.eofReceived();
    this.#eofSeen = true;
    if (this.sent === this.#src.length) this.transport.close();
    return true;
  }
}

/** Echoes what it gets; closes at EOF. */
class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

async function serve<P extends Recorder>(
  loop: TestLoop,
  make: () => P,
  backlog?: number,
): Promise<{ port: number; protocols: P[]; close: () => Promise<void> }> {
  const protocols: P[] = [];
  const server = await loop.createServer(() => {
    const p = make();
    protocols.push(p);
    return p;
  }, { host: "127.0.0.1", port: 0, backlog });
  return {
    port: portOf(server),
    protocols,
    close: async () => {
      server.close();
      await server.waitClosed();
    },
  };
}

/** Writes BIG_A in order, 128 KiB at a time; `sent` is how far it got. */
class Filler {
  sent = 0;
  write(t: Transport): void {
    t.write(BIG_A.subarray(this.sent, this.sent += 131072));
  }
}

/**
 * Connects `client` to a server that does not read, writes with `fill` until the client
 * is paused, then lets the server read. The server keeps its end open at EOF if asked.
 */
async function pauseThenDrain(
  loop: TestLoop,
  client: Recorder,
  fill: Filler,
  keepOpenOnEof = false,
): Promise<{ srv: Awaited<ReturnType<typeof serve<Recorder>>>; server: Recorder }> {
  const srv = await serve(loop, () => {
    const r = new Recorder();
    r.onMade = (t) => t.pauseReading();
    r.keepOpenOnEof = keepOpenOnEof;
    return r;
  });
  const [t] = await loop.createConnection(() => client, { host: "127.0.0.1", port: srv.port });
  // The kernel takes a few MiB: write until the transport's own buffer pauses.
  while (!client.events.includes("pause") && fill.sent + 131072 < BIG_A.byteLength) fill.write(t);
  assert(client.events.includes("pause"));
  await until(loop, () => srv.protocols.length > 0);
  const server = srv.protocols[0];
  await server.made.promise;
  server.transport.resumeReading();
  return { srv, server };
}

forEachLoop([], (lc, test) => {
  const L = `SelectorSocketTransport (${lc.tag})`;

  test(
    `${L}: 16 MiB each way, both sides writing at once, arrive byte for byte`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => new Pump(BIG_B));
      const [transport, client] = await loop.createConnection(() => new Pump(BIG_A), {
        host: "127.0.0.1",
        port: srv.port,
      });
      assert(transport instanceof Transport);
      assert(transport instanceof WriteTransport);
      const [clientExc, serverExc] = await Promise.all([
        client.lost.promise,
        srv.protocols[0].made.promise.then(() => srv.protocols[0].lost.promise),
      ]);
      assertEquals([clientExc, serverExc], [null, null]);
      const server = srv.protocols[0];
      assertEquals(sameBytes(server.bytes(), BIG_A), null);
      assertEquals(sameBytes(client.bytes(), BIG_B), null);
      for (const p of [client, server]) {
        assertEquals(p.events[0], "made");
        assertEquals(p.events.at(-1), "lost");
        assertEquals(p.events.filter((e) => e === "lost").length, 1);
        assertEquals(p.pauses - p.resumes, 0);
      }
      await srv.close();
    }),
  );

  test(
    `${L}: a write and close() from resumeWriting() go out in full before connectionLost()`,
    onLoop(lc, async (loop) => {
      // The buffer drains, resumeWriting() writes its last chunk and closes at once: the
      // connection is lost only after that chunk went out (the Proactor once lost it).
      const fill = new Filler();
      let sizeAtLoss = -1, resumes = 0;
      const client = new Recorder();
      client.resumeWriting = () => {
        if (resumes++ > 0) return;
        fill.write(client.transport);
        client.transport.close();
      };
      client.connectionLost = (exc) => {
        sizeAtLoss = client.transport.getWriteBufferSize();
        Recorder.prototype.connectionLost.call(client, exc);
      };
      const { srv, server } = await pauseThenDrain(loop, client, fill);
      assertEquals(await client.lost.promise, null);
      // The last chunk may cross the high mark again: each pause still has its resume.
      assertEquals(client.events.filter((e) => e === "pause").length, resumes);
      assertEquals(sizeAtLoss, 0);
      assertEquals(await server.lost.promise, null);
      assertEquals(sameBytes(server.bytes(), BIG_A.subarray(0, fill.sent)), null);
      await srv.close();
    }),
  );

  for (const how of ["close", "abort", "writeEof"] as const) {
    test(
      `${L}: ${how}() from resumeWriting() once the buffer drained: connectionLost() exactly once`,
      onLoop(lc, async (loop) => {
        const fill = new Filler();
        let resumes = 0;
        const lost: (Error | null)[] = [];
        const client = new Recorder();
        client.resumeWriting = () => {
          if (resumes++ > 0) return;
          if (how === "close") client.transport.close();
          else if (how === "abort") client.transport.abort();
          else client.transport.writeEof();
        };
        client.connectionLost = (exc) => {
          lost.push(exc);
          Recorder.prototype.connectionLost.call(client, exc);
        };
        client.eofReceived = () => false; // writeEof: close when the server closes
        const { srv, server } = await pauseThenDrain(loop, client, fill, how === "writeEof");
        if (how === "writeEof") {
          await server.eof.promise;
          server.transport.close();
        }
        assertEquals(await client.lost.promise, null);
        // A second connectionLost() would come on a later turn: give it some.
        for (let i = 0; i < 5; i++) await tick(loop);
        assertEquals(lost, [null]);
        assertEquals(resumes, 1);
        await server.lost.promise;
        if (how !== "abort") {
          assertEquals(sameBytes(server.bytes(), BIG_A.subarray(0, fill.sent)), null);
        }
        await srv.close();
      }),
    );
  }

  test(
    `${L}: pauseWriting/resumeWriting are called exactly once per crossing`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.onMade = (t) => t.pauseReading();
        return r;
      });
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      assertEquals(t.getWriteBufferLimits(), { low: 16 * 1024, high: 64 * 1024 });
      assertThrows(() => t.setWriteBufferLimits({ high: 1, low: 2 }), RangeError);
      t.setWriteBufferLimits({ high: 128 * 1024 });
      assertEquals(t.getWriteBufferLimits(), { low: 32 * 1024, high: 128 * 1024 });
      await until(loop, () => srv.protocols.length > 0);
      const peer = srv.protocols[0];
      await peer.made.promise;
      let total = 0;
      const pauses = () => client.events.filter((e) => e === "pause").length;
      for (let round = 1; round <= 2; round++) {
        const resumed = Promise.withResolvers<void>();
        const saved = client.resumeWriting.bind(client);
        client.resumeWriting = () => {
          saved();
          resumed.resolve();
        };
        // The kernel takes a few MiB (more once its buffers have grown): write until the
        // transport's own buffer crosses the high mark, which must pause exactly once.
        for (let i = 0; i < 64 || (pauses() < round && i < 1024); i++) {
          t.write(BIG_A.subarray((i % 64) * 131072, (i % 64 + 1) * 131072));
          total += 131072;
        }
        assertEquals(pauses(), round);
        assert(t.getWriteBufferSize() > 128 * 1024);
        peer.transport.resumeReading();
        await resumed.promise;
        assertEquals(client.events.filter((e) => e === "resume").length, round);
        await until(loop, () => peer.received >= total);
        peer.transport.pauseReading();
      }
      assertEquals(client.events.filter((e) => e === "pause" || e === "resume"), [
        "pause",
        "resume",
        "pause",
        "resume",
      ]);
      // Lowering the high mark under the buffered size pauses at once.
      peer.transport.pauseReading();
      for (let i = 0; i < 64 || (pauses() < 3 && i < 1024); i++) t.write(BIG_A.subarray(0, 131072));
      assertEquals(pauses(), 3);
      t.setWriteBufferLimits({ high: 0 });
      assertEquals(client.events.filter((e) => e === "pause").length, 3);
      t.abort();
      await client.lost.promise;
      peer.transport.close();
      await srv.close();
    }),
  );

  test(
    `${L}: write() after close() goes out while data is still buffered, is dropped once the buffer is empty`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.onMade = (t) => t.pauseReading();
        return r;
      });
      // asyncio's selector socket transport, on every loop: close() flushes the buffer, and a
      // write made meanwhile joins it.
      const [t] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      await until(loop, () => srv.protocols.length > 0);
      const peer = srv.protocols[0];
      await peer.made.promise;
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 1024 && t.getWriteBufferSize() === 0; i++) {
        const c = BIG_A.subarray((i % 64) * 131072, (i % 64 + 1) * 131072);
        t.write(c);
        chunks.push(c);
      }
      assert(t.getWriteBufferSize() > 0, "the kernel took 128 MiB: nothing stayed buffered");
      t.close();
      const tail = enc.encode("written after close()");
      t.write(tail);
      chunks.push(tail);
      peer.transport.resumeReading();
      assertEquals(await peer.lost.promise, null);
      const expected = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
      chunks.reduce((off, c) => (expected.set(c, off), off + c.byteLength), 0);
      assertEquals(sameBytes(peer.bytes(), expected), null);

      // Nothing buffered: the transport counts as lost at close(), so writes are dropped, a
      // warning from the fifth on (LOG_THRESHOLD_FOR_CONNLOST_WRITES).
      const [t2, client2] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      await until(loop, () => srv.protocols.length > 1);
      const peer2 = srv.protocols[1];
      await peer2.made.promise;
      peer2.transport.resumeReading();
      t2.close();
      const warnings: unknown[] = [];
      const warn = console.warn;
      console.warn = (...a: unknown[]) => void warnings.push(a[0]);
      try {
        for (let i = 0; i < 6; i++) t2.write(enc.encode("dropped"));
      } finally {
        console.warn = warn;
      }
      assertEquals(warnings, [
        "socket.send() raised exception.",
        "socket.send() raised exception.",
      ]);
      assertEquals(await client2.lost.promise, null);
      assertEquals(await peer2.lost.promise, null);
      assertEquals(peer2.received, 0);
      assertEquals(peer2.events, ["made", "eof", "lost"]);
      await srv.close();
    }),
  );

  test(
    `${L}: half-close from the client; eofReceived() returning true keeps writing possible`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.keepOpenOnEof = true;
        r.eof.promise.then(() => {
          r.transport.write(enc.encode(`got ${dec.decode(r.bytes())}`));
          r.transport.close();
        });
        return r;
      });
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      assert(t.canWriteEof());
      t.write(enc.encode("question"));
      t.writeEof();
      assertThrows(() => t.write(enc.encode("more")), Error, "writeEof");
      assertEquals(await client.lost.promise, null);
      assertEquals(dec.decode(client.bytes()), "got question");
      assertEquals(client.events, ["made", "data", "eof", "lost"]);
      const server = srv.protocols[0];
      assertEquals(await server.lost.promise, null);
      assertEquals(server.events, ["made", "data", "eof", "lost"]);
      await srv.close();
    }),
  );

  test(
    `${L}: half-close from the server; the client answers after EOF`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.onMade = (t) => {
          t.write(enc.encode("hello"));
          t.writeEof();
        };
        return r;
      });
      const [, client] = await loop.createConnection(() => {
        const r = new Recorder();
        r.keepOpenOnEof = true;
        r.eof.promise.then(() => {
          assert(r.transport.isReading()); // asyncio: still "reading" after a kept-open EOF
          r.transport.write(enc.encode("bye"));
          r.transport.close();
        });
        return r;
      }, { host: "127.0.0.1", port: srv.port });
      assertEquals(await client.lost.promise, null);
      assertEquals(dec.decode(client.bytes()), "hello");
      const server = srv.protocols[0];
      assertEquals(await server.lost.promise, null);
      assertEquals(dec.decode(server.bytes()), "bye");
      assertEquals(server.events, ["made", "data", "eof", "lost"]);
      await srv.close();
    }),
  );

  test(
    `${L}: a reset by the peer (SO_LINGER 0) reaches connectionLost as ConnectionReset`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => new Recorder());
      const peer = new Socket();
      await loop.sockConnect(peer, { transport: "tcp", hostname: "127.0.0.1", port: srv.port });
      await until(loop, () => srv.protocols.length > 0);
      const server = srv.protocols[0];
      await server.made.promise;
      peer.setsockopt("SO_LINGER", { onoff: true, linger: 0 });
      peer.close();
      const exc = await server.lost.promise;
      assertInstanceOf(exc, Deno.errors.ConnectionReset);
      assertEquals(server.events, ["made", "lost"]);
      await srv.close();
    }),
  );

  test(
    `${L}: writing to a reset peer ends with ConnectionReset or BrokenPipe, no SIGPIPE`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.onMade = (t) => t.pauseReading(); // so only the writes can find out
        return r;
      });
      const peer = new Socket();
      await loop.sockConnect(peer, { transport: "tcp", hostname: "127.0.0.1", port: srv.port });
      await until(loop, () => srv.protocols.length > 0);
      const server = srv.protocols[0];
      const t = await server.made.promise;
      peer.setsockopt("SO_LINGER", { onoff: true, linger: 0 });
      peer.close();
      let lost = false;
      server.lost.promise.then(() => lost = true);
      while (!lost) {
        t.write(pattern(1024));
        await tick(loop, 1);
      }
      const exc = await server.lost.promise;
      assert(
        exc instanceof Deno.errors.ConnectionReset || exc instanceof Deno.errors.BrokenPipe,
        `got ${exc}`,
      );
      await srv.close();
    }),
  );

  test(
    `${L}: close() sends every buffered byte before the FIN`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => new Recorder());
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      // Windows never reports a partial nonblocking send: a send that finds room in the socket's
      // buffer is taken whole (the rest goes out in the background), and only one that finds it
      // full leaves bytes in the transport's buffer. So write until some stay (at once on Unix).
      let end = 0;
      while (end < BIG && t.getWriteBufferSize() === 0) {
        t.write(BIG_A.subarray(end, end + 8 * MiB));
        end += 8 * MiB;
      }
      const data = BIG_A.subarray(0, end);
      assert(t.getWriteBufferSize() > 0);
      t.close();
      assert(t.isClosing());
      t.close(); // twice: nothing more
      assertEquals(await client.lost.promise, null);
      await until(loop, () => srv.protocols.length > 0);
      const server = srv.protocols[0];
      assertEquals(await server.lost.promise, null);
      assertEquals(sameBytes(server.bytes(), data), null);
      assertEquals(server.events, ["made", "data", "eof", "lost"]);
      await srv.close();
    }),
  );

  test(
    `${L}: abort() drops the buffer, calls connectionLost(null) once and closes the fd`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.onMade = (t) => t.pauseReading();
        return r;
      });
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      const sock = t.getExtraInfo("socket")!;
      // Until bytes stay in the transport's buffer: at once on Unix; on Windows, whose
      // nonblocking send takes the whole of a send that finds room, at the next write.
      for (let i = 0; i < 4 && t.getWriteBufferSize() === 0; i++) t.write(BIG_A);
      assert(t.getWriteBufferSize() > 0);
      t.abort();
      assertEquals(t.getWriteBufferSize(), 0);
      t.abort();
      t.close();
      t.write(enc.encode("ignored after the loss"));
      assertEquals(await client.lost.promise, null);
      assertEquals(client.events.filter((e) => e === "lost").length, 1);
      assert(sock.closed);
      await tick(loop, 5);
      assertEquals(client.events.filter((e) => e === "lost").length, 1);
      srv.protocols[0].transport.abort();
      await srv.protocols[0].lost.promise;
      await srv.close();
    }),
  );

  test(
    `${L}: BufferedProtocol reads straight into its own buffer`,
    onLoop(lc, async (loop) => {
      const data = BIG_A.subarray(0, 3 * MiB);
      const target = new Uint8Array(data.length + 1); // room left for the read that finds EOF
      let filled = 0;
      const hints = new Set<number>();
      const done = Promise.withResolvers<Error | null>();
      class Sink extends BufferedProtocol {
        override getBuffer(sizeHint: number): Uint8Array {
          hints.add(sizeHint);
          return target.subarray(filled, Math.min(filled + 100_000, target.length));
        }
        override bufferUpdated(nbytes: number): void {
          filled += nbytes;
        }
        override eofReceived(): boolean {
          return false;
        }
        override connectionLost(exc: Error | null): void {
          done.resolve(exc);
        }
      }
      const server = await loop.createServer(() => new Sink(), { host: "127.0.0.1", port: 0 });
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: portOf(server),
      });
      t.write(data);
      t.close();
      assertEquals(await done.promise, null);
      assertEquals(await client.lost.promise, null);
      assertEquals(filled, data.length);
      assertEquals(sameBytes(target.subarray(0, filled), data), null);
      assertEquals([...hints], [-1]);
      server.close();
      await server.waitClosed();
    }),
  );

  test(
    `${L}: writelines() sends more than IOV_MAX pieces in order`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => new Recorder());
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      const pieces: Uint8Array[] = [];
      let off = 0;
      for (let i = 0; i < IOV_MAX * 2 + 7; i++) {
        const n = i % 5 === 0 ? 3000 : (i % 7) + 1;
        pieces.push(BIG_B.subarray(off, off + n));
        off += n;
      }
      pieces.push(BIG_B.subarray(off, off + 4 * MiB));
      off += 4 * MiB;
      t.writelines(pieces);
      t.writelines([]);
      t.writelines([new Uint8Array(0)]);
      t.writelines(pieces.slice(0, 3)); // after a buffered write: appended in order
      const expected = new Uint8Array(off + pieces[0].length + pieces[1].length + pieces[2].length);
      expected.set(BIG_B.subarray(0, off));
      expected.set(BIG_B.subarray(0, expected.length - off), off);
      t.close();
      assertEquals(await client.lost.promise, null);
      await until(loop, () => srv.protocols.length > 0);
      assertEquals(await srv.protocols[0].lost.promise, null);
      assertEquals(sameBytes(srv.protocols[0].bytes(), expected), null);
      assertThrows(() => t.writelines([1 as unknown as Uint8Array]), TypeError);
      await srv.close();
    }),
  );

  test(
    `${L}: write() copies only what it buffers; the caller may reuse its array`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.onMade = (t) => t.pauseReading();
        return r;
      });
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      const expected: Uint8Array[] = [];
      const buf = new Uint8Array(256 * 1024);
      for (let i = 0; i < 40; i++) {
        buf.fill(i);
        t.write(buf);
        expected.push(buf.slice());
      }
      const small = new Uint8Array(10);
      for (let i = 0; i < 100; i++) {
        small.fill(200 + (i % 50));
        t.write(small);
        expected.push(small.slice());
      }
      t.close();
      const server = srv.protocols[0];
      server.transport.resumeReading();
      assertEquals(await client.lost.promise, null);
      assertEquals(await server.lost.promise, null);
      const want = new Uint8Array(expected.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of expected) {
        want.set(c, o);
        o += c.length;
      }
      assertEquals(sameBytes(server.bytes(), want), null);
      await srv.close();
    }),
  );

  test(
    `${L}: an error thrown by dataReceived() goes to the exception handler and ends the connection`,
    onLoop(lc, async (loop) => {
      const contexts: ExceptionContext[] = [];
      loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
      const boom = new Error("boom");
      const srv = await serve(loop, () => {
        const r = new Recorder();
        r.onData = () => {
          throw boom;
        };
        return r;
      });
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      t.write(enc.encode("x"));
      await until(loop, () => srv.protocols.length > 0);
      assertStrictEquals(await srv.protocols[0].lost.promise, boom);
      assertEquals(contexts.length, 1);
      assertEquals(contexts[0].message, "Fatal error: protocol.dataReceived() call failed.");
      assertStrictEquals(contexts[0].exception, boom);
      assertEquals(await client.lost.promise, null);
      await srv.close();
    }),
  );

  test(
    `${L}: getExtraInfo() gives peername, sockname and socket; TCP_NODELAY is on`,
    onLoop(lc, async (loop) => {
      const srv = await serve(loop, () => new Recorder());
      const [t, client] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
      });
      assertEquals(t.getExtraInfo("peername"), {
        transport: "tcp",
        hostname: "127.0.0.1",
        port: srv.port,
      });
      const local = t.getExtraInfo("sockname")!;
      const sock = t.getExtraInfo("socket")!;
      assertInstanceOf(sock, Socket);
      assertEquals(sock.getsockopt("TCP_NODELAY"), true);
      assertEquals(t.getExtraInfo("nothing", 7), 7);
      await until(loop, () => srv.protocols.length > 0);
      const st = await srv.protocols[0].made.promise;
      assertEquals(st.getExtraInfo("peername"), local);
      assertEquals(st.getExtraInfo("socket")!.getsockopt("TCP_NODELAY"), true);
      assertThrows(() => t.write("text" as unknown as Uint8Array), TypeError);
      t.close();
      await client.lost.promise;
      await srv.protocols[0].lost.promise;
      const [t2, c2] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: srv.port,
        noDelay: false,
      });
      assertEquals(t2.getExtraInfo("socket")!.getsockopt("TCP_NODELAY"), false);
      t2.close();
      await c2.lost.promise;
      await srv.close();
    }),
  );

  // 2,000 fds: past FD_SETSIZE, hence "highFds"; on two selectors only, as before (its cost).
  if (lc.tag === "PollSelector" || lc.tag === "EpollSelector") {
    test(
      `${L}: 1,000 concurrent connections echo and close cleanly`,
      ["highFds"],
      onLoop(lc, async (loop) => {
        const { soft } = getNofileLimit();
        if (soft < 4096) setNofileSoftLimit(Math.min(4096, getNofileLimit().hard));
        try {
          // A backlog that holds every pending connect: an overflowing accept queue makes the
          // kernel drop or reset connections, which is not what this test is about.
          const srv = await serve(loop, () => new Echo(), 1024);
          const N = 1000;
          const conns = await Promise.all(
            Array.from(
              { length: N },
              () =>
                loop.createConnection(() => new Recorder(), { host: "127.0.0.1", port: srv.port }),
            ),
          );
          for (let i = 0; i < N; i++) {
            conns[i][0].write(enc.encode(`message ${i}`));
            conns[i][0].writeEof();
          }
          const lost = await Promise.all(conns.map(([, p]) => p.lost.promise));
          assertEquals(lost.filter((e) => e !== null).map(String).slice(0, 3), []);
          for (let i = 0; i < N; i++) assertEquals(dec.decode(conns[i][1].bytes()), `message ${i}`);
          await srv.close();
        } finally {
          if (soft < 4096) setNofileSoftLimit(soft);
        }
      }),
    );
  }
});

forOneLoop([], (lc, test) => {
  test("SelectorSocketTransport: createConnection refuses an ssl option of the wrong type", async () => {
    using loop = lc.make();
    await loop.runUntilComplete(async () => {
      // TLS itself is tested in tests/tls_*_test.ts.
      await assertRejects(
        () =>
          loop.createConnection(() => new Recorder(), {
            host: "127.0.0.1",
            port: 1,
            ssl: 42 as never,
          }),
        TypeError,
        "ssl must be",
      );
    });
  });
});
