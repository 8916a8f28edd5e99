/**
 * The bulk paths of subprocess pipes: `communicate()` lends its input to
 * the stdin pipe (no copy), a read to the end fills one growing buffer
 * (no copy per read, no join), a read pipe transport reads straight into a
 * `BufferedProtocol`, and the read buffer keeps bytes read back to back as
 * one chunk. Each test checks the bytes, and the part that fails without
 * the behaviour (a copy where there should be none, a pause that should
 * not happen).
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { closeFd, makePipe, readFd, setNonBlocking, writeFd } from "../ffi/unix/libc.ts";
import { CancelledError } from "../loop/errors.ts";
import { PIPE } from "../mod.ts";
import { Runner } from "../runner.ts";
import { createSubprocessExec, createSubprocessShell, StreamReader } from "../streams/mod.ts";
import { BufferedProtocol } from "../transports/buffered_protocol.ts";
import type { BaseTransport } from "../transports/base_transport.ts";
import { UnixReadPipeTransport } from "../loop/unix/read_pipe_transport.ts";
import { UnixWritePipeTransport } from "../loop/unix/write_pipe_transport.ts";
import { BaseProtocol } from "../transports/protocol.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, forOneLoop, type LoopCase } from "./_loops.ts";
import { onLoop, sameBytes, until } from "./_stream_helpers.ts";
import { zombieChild } from "./_subprocess_helpers.ts";

const unix = Deno.build.os !== "windows";
const MiB = 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** `n` pseudo-random bytes (xorshift32): no period a lost or reordered block could hide in. */
function noise(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Runs `main` on a fresh loop of `lc`. */
async function runOn<T>(lc: LoopCase, main: () => Promise<T>): Promise<T> {
  await using runner = new Runner({ loopFactory: () => lc.make(), handleSigint: false });
  return await runner.run(main);
}

/** Reads what is in the pipe `r` now (it is nonblocking once a transport had it, or empty). */
function drainFd(r: number, into: Uint8Array[], buf = new Uint8Array(256 * 1024)): number {
  let total = 0;
  for (;;) {
    const n = readFd(r, buf);
    if (n <= 0) return total;
    into.push(buf.slice(0, n));
    total += n;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

class Lost extends BaseProtocol {
  lost = Promise.withResolvers<Error | null>();
  override connectionLost(exc: Error | null): void {
    this.lost.resolve(exc);
  }
}

// ---- communicate(): the input is lent, byte for byte ----------------------------------------

forEachLoop(["subprocesses"], (lc, test) => {
  test({
    name: `${lc.tag}: communicate() carries 24 MiB of noise through tee to stdout and stderr`,
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        const input = noise(24 * MiB, 7);
        const [out, err, code] = await runOn(lc, async () => {
          const proc = await createSubprocessExec(["tee", "/dev/stderr"], {
            stdin: PIPE,
            stdout: PIPE,
            stderr: PIPE,
          });
          const [out, err] = await proc.communicate(input);
          return [out!, err!, proc.returncode];
        });
        assertEquals(code, 0);
        assertEquals(sameBytes(out, input), null);
        assertEquals(sameBytes(err, input), null);
        assertEquals(zombieChild(), 0);
      }),
  });
});

forOneLoop(["subprocesses"], (lc, test) => {
  test({
    name:
      "communicate(): a big output is one buffer read in place; a small one keeps no reservation",
    ignore: !unix,
    fn: () =>
      assertNoFdLeak(async () => {
        const input = noise(3 * MiB, 3);
        const [big, small] = await runOn(lc, async () => {
          const cat = await createSubprocessExec(["cat"], { stdin: PIPE, stdout: PIPE });
          const echo = await createSubprocessShell("printf hello", { stdout: PIPE });
          return [(await cat.communicate(input))[0]!, (await echo.communicate())[0]!];
        });
        assertEquals(sameBytes(big, input), null);
        // read() to the end made no join: the result is a view of the buffer the pipe filled.
        assert((big.buffer as ArrayBuffer).resizable, "the output was copied into a fresh buffer");
        assertEquals(dec.decode(small), "hello");
        assertEquals((small.buffer as ArrayBuffer).resizable, false); // keeps no reservation alive
      }),
  });
});

// ---- UnixWritePipeTransport._writeLent() ------------------------------------------------------

forEachLoop(["pipes"], (lc, test) => {
  test(
    `${lc.tag}: _writeLent() keeps a view of what the pipe did not take; write() copies it`,
    onLoop(lc, async (loop) => {
      for (const lent of [true, false]) {
        const [r, w] = makePipe();
        const p = new Lost();
        const [t] = await loop.connectWritePipe(() => p, w);
        const wt = t as UnixWritePipeTransport;
        const data = noise(MiB, 11); // more than a pipe holds
        if (lent) wt._writeLent(data);
        else wt.write(data);
        assert(wt.getWriteBufferSize() > 0);
        data[MiB - 1] ^= 0xff; // still in the transport's buffer
        wt.close();
        setNonBlocking(r, true);
        let lost = false;
        p.lost.promise.then(() => lost = true);
        const chunks: Uint8Array[] = [];
        const buf = new Uint8Array(256 * 1024);
        await until(loop, () => drainFd(r, chunks, buf) === 0 && lost);
        assertEquals(await p.lost.promise, null);
        closeFd(r);
        const got = concat(chunks);
        assertEquals(got.byteLength, MiB);
        // Lent: the byte changed above is what went out. Copied: the original did.
        assertEquals(got[MiB - 1], lent ? data[MiB - 1] : data[MiB - 1] ^ 0xff);
        assertEquals(sameBytes(got.subarray(0, MiB - 1), data.subarray(0, MiB - 1)), null);
      }
    }),
  );
});

forOneLoop(["pipes"], (lc, test) => {
  test(
    "_writeLent(): memory detached while lent ends the transport with TypeError, no busy loop",
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      const p = new Lost();
      const [t] = await loop.connectWritePipe(() => p, w);
      const seen: unknown[] = [];
      loop.setExceptionHandler((_l, ctx) => void seen.push(ctx.exception));
      const data = noise(MiB, 5);
      (t as UnixWritePipeTransport)._writeLent(data);
      data.buffer.transfer(); // detaches every view of it, the transport's included
      setNonBlocking(r, true);
      drainFd(r, []); // the pipe turns writable
      const exc = await p.lost.promise;
      assertInstanceOf(exc, TypeError);
      assertInstanceOf(seen[0], TypeError);
      assertEquals(t.getWriteBufferSize(), 0);
      closeFd(r);
    }),
  );
});

// ---- StreamReader: read() to the end -----------------------------------------------------------

Deno.test("StreamReader: _getBuffer() offers room only while read() to the end waits", async () => {
  const r = new StreamReader();
  assertEquals(r._getBuffer(), null);
  const p = r.readexactly(1);
  assertEquals(r._getBuffer(), null); // not for other reads
  r.feedData(enc.encode("a"));
  await p;
  const all = r.read();
  const room = r._getBuffer();
  assert(room !== null && room.byteLength > 0);
  room.set(enc.encode("bc"));
  r._bufferUpdated(2);
  r.feedEof();
  assertEquals(r._getBuffer(), null);
  assertEquals(dec.decode(await all), "bc");
});

Deno.test("StreamReader: read() to the end returns the bytes read into its room as is", async () => {
  const r = new StreamReader();
  const all = r.read();
  const data = noise(3 * MiB + 123, 9);
  let room: Uint8Array | null = null;
  for (let off = 0; off < data.byteLength;) {
    room = r._getBuffer()!;
    const n = Math.min(room.byteLength, 40_000, data.byteLength - off); // pipe-sized pieces
    room.set(data.subarray(off, off + n));
    r._bufferUpdated(n);
    off += n;
  }
  r.feedEof();
  const out = await all;
  assertEquals(sameBytes(out, data), null);
  assertStrictEquals(out.buffer, room!.buffer); // no join, no copy
});

Deno.test("StreamReader: read() to the end joins what came before with what was read in place", async () => {
  const r = new StreamReader();
  r.feedData(enc.encode("head:"));
  const all = r.read();
  const room = r._getBuffer()!;
  const body = noise(2 * MiB, 4);
  room.set(body.subarray(0, 100_000));
  r._bufferUpdated(100_000);
  r.feedData(body.slice(100_000)); // a copied read in between (the transport had no room)
  r.feedEof();
  const out = await all;
  assertEquals(dec.decode(out.subarray(0, 5)), "head:");
  assertEquals(sameBytes(out.subarray(5), body), null);
});

Deno.test("StreamReader: read() to the end goes on in a new buffer past 256 MiB", async () => {
  const r = new StreamReader();
  const all = r.read();
  const first = r._getBuffer()!;
  let total = 0, marks = 0;
  // Mark the first byte of each room only: the rest stays untouched (zero) memory.
  while (total < 256 * MiB + 512 * 1024) {
    const room = r._getBuffer()!;
    room[0] = ++marks & 0xff;
    r._bufferUpdated(room.byteLength);
    total += room.byteLength;
  }
  const last = r._getBuffer()!;
  assert(last.buffer !== first.buffer, "still the first buffer");
  r.feedEof();
  const out = await all;
  assertEquals(out.byteLength, total);
  for (let i = 0, at = 0; at < total; i++, at += 256 * 1024) assertEquals(out[at], (i + 1) & 0xff);
});

Deno.test("StreamReader: read() to the end does not pause its transport; cancelled, limits apply", async () => {
  const events: string[] = [];
  const r = new StreamReader({ limit: 4 });
  r.setTransport({
    pauseReading: () => void events.push("pause"),
    resumeReading: () => void events.push("resume"),
    close: () => {},
  });
  const ac = new AbortController();
  const all = r.read(-1, { signal: ac.signal });
  r.feedData(enc.encode("0123456789"));
  r.feedData(enc.encode("abcdefghij"));
  assertEquals(events, []); // 20 bytes, above 2 * 4, and no pause
  ac.abort();
  await assertRejects(() => all, CancelledError);
  assertEquals(events, ["pause"]); // the usual rule again, the data still buffered
  const again = r.read();
  assertEquals(events, ["pause", "resume"]);
  r.feedData(enc.encode("!"));
  r.feedEof();
  assertEquals(dec.decode(await again), "0123456789abcdefghij!");
});

Deno.test("StreamReader: bytes fed back to back from one buffer come out without a copy", async () => {
  const r = new StreamReader();
  const mem = enc.encode("abcdefgh");
  r.feedData(mem.subarray(0, 3));
  r.feedData(mem.subarray(3, 6));
  r.feedData(mem.subarray(7, 8)); // not contiguous: a chunk of its own
  const out = await r.read(6);
  assertEquals(dec.decode(out), "abcdef");
  assertStrictEquals(out.buffer, mem.buffer); // one chunk: no join
  r.feedEof();
  assertEquals(dec.decode(await r.read()), "h");
});

// ---- UnixReadPipeTransport and a BufferedProtocol ---------------------------------------------

class Into extends BufferedProtocol {
  buf = new Uint8Array(1000);
  got: Uint8Array[] = [];
  events: string[] = [];
  lost = Promise.withResolvers<Error | null>();
  fail = false;
  override connectionMade(_t: BaseTransport): void {
    this.events.push("made");
  }
  override getBuffer(sizeHint: number): Uint8Array {
    assertEquals(sizeHint, -1);
    if (this.fail) throw new Error("no buffer today");
    return this.buf;
  }
  override bufferUpdated(n: number): void {
    this.got.push(this.buf.slice(0, n));
  }
  override eofReceived(): void {
    this.events.push("eof");
  }
  override connectionLost(exc: Error | null): void {
    this.events.push("lost");
    this.lost.resolve(exc);
  }
}

forEachLoop(["pipes"], (lc, test) => {
  test(
    `${lc.tag}: connectReadPipe() reads straight into a BufferedProtocol's buffer`,
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      const [transport, p] = await loop.connectReadPipe(() => new Into(), r); // owns r now
      assert(transport instanceof UnixReadPipeTransport);
      const data = noise(5000, 2); // more than the protocol's buffer: several reads
      assertEquals(writeFd(w, data), 5000);
      closeFd(w);
      assertEquals(await p.lost.promise, null);
      assertEquals(sameBytes(concat(p.got), data), null);
      assert(p.got.every((g) => g.byteLength <= 1000));
      assertEquals(p.events, ["made", "eof", "lost"]);
    }),
  );
});

forOneLoop(["pipes", "readers"], (lc, test) => {
  test(
    "UnixReadPipeTransport: a getBuffer() that throws ends the transport and is reported",
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      const p = new Into();
      p.fail = true;
      const seen: string[] = [];
      loop.setExceptionHandler((_l, ctx) => void seen.push(ctx.message));
      new UnixReadPipeTransport(loop, r, p);
      writeFd(w, enc.encode("x"));
      const exc = await p.lost.promise;
      assertEquals(exc?.message, "no buffer today");
      assertEquals(seen, ["Fatal error: protocol.getBuffer() call failed."]);
      closeFd(w);
    }),
  );
});
