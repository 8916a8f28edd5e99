// Named pipes on the ProactorEventLoop (issue 11): ffi/windows/pipes.ts (pipe(), server
// instances, client ends), the overlapped ReadFile/WriteFile/ConnectNamedPipe of the proactor,
// PipeHandle, the pipe transports, connectReadPipe/connectWritePipe, startServingPipe and
// createPipeConnection. Windows only: run under Wine with
// `.ci/wine/run.sh . test --allow-all tests/windows/pipes_test.ts`. On other systems only the
// "off Windows" tests run. No assertion depends on timing.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { BaseProtocol, CancelledError, type ExceptionContext, Protocol } from "../../mod.ts";
import type { BaseTransport, Transport, WriteTransport } from "../../transports/base_transport.ts";
import { wineVersion } from "../../ffi/windows/ntdll.ts";
import {
  closeHandle,
  createPipeInstance,
  openPipe,
  pipe as ffiPipe,
  uniquePipeName,
} from "../../ffi/windows/pipes.ts";
import { openPipeHandleCount, pipe, PipeHandle } from "../../loop/windows/pipe_handle.ts";
import { ProactorEventLoop } from "../../loop/windows/proactor_event_loop.ts";
import { notSupported } from "../../loop/_platform_table.ts";

const onWindows = Deno.build.os === "windows";
const ignore = !onWindows;
const UNDER_WINE = onWindows && wineVersion() !== null;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs `fn` on a fresh loop, closes it, and checks nothing is pending, reported or left open. */
async function withLoop(fn: (loop: ProactorEventLoop) => Promise<void>): Promise<void> {
  const before = openPipeHandleCount();
  const loop = new ProactorEventLoop();
  const errors: ExceptionContext[] = [];
  loop.setExceptionHandler((_l, ctx) => errors.push(ctx));
  try {
    await loop.runUntilComplete(() => fn(loop));
  } finally {
    loop.close();
  }
  assertEquals(loop._proactor.pendingCount, 0, "operations still pending after close()");
  assertEquals(loop._proactor.slotsInUse, 0, "slots still in use after close()");
  assertEquals(errors.map((e) => `${e.message}: ${e.exception}`), [], "exception handler");
  assertEquals(openPipeHandleCount(), before, "PipeHandles left open");
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The first index where `a` and `b` differ, or -1 (assertEquals on 16 MiB is slow). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Collects everything, records the order of the protocol's calls. */
class Collect extends Protocol {
  parts: Uint8Array[] = [];
  events: string[] = [];
  transport: Transport | null = null;
  lost = Promise.withResolvers<Error | null>();
  pauseOnConnect = false;
  override connectionMade(t: BaseTransport): void {
    this.transport = t as Transport;
    this.events.push("made");
    if (this.pauseOnConnect) this.transport.pauseReading();
  }
  override dataReceived(data: Uint8Array): void {
    this.parts.push(data);
  }
  override eofReceived(): boolean {
    this.events.push("eof");
    return false;
  }
  override connectionLost(exc: Error | null): void {
    this.events.push("lost");
    this.lost.resolve(exc);
  }
  get data(): Uint8Array {
    return concat(this.parts);
  }
}

class WriterProtocol extends BaseProtocol {
  lost = Promise.withResolvers<Error | null>();
  override connectionLost(exc: Error | null): void {
    this.lost.resolve(exc);
  }
}

/** Lets the loop run `n` iterations (a callSoon chain). */
function iterations(loop: ProactorEventLoop, n: number): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const step = (left: number): void => {
    if (left === 0) resolve();
    else loop.callSoon(() => step(left - 1));
  };
  step(n);
  return promise;
}

/** Reads from `h` through the proactor until `n` bytes came. */
async function readExactly(loop: ProactorEventLoop, h: PipeHandle, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const d = await loop._proactor.readFile(h, n - got);
    if (d.length === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    parts.push(d);
    got += d.length;
  }
  return concat(parts);
}

async function writeAll(loop: ProactorEventLoop, h: PipeHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await loop._proactor.writeFile(h, data.subarray(off));
}

/**
 * openPipe(address), retried on the next loop iterations while every instance is busy
 * (a server makes its next spare instance on its next turn).
 */
async function openRetrying(loop: ProactorEventLoop, address: string): Promise<number> {
  for (let i = 0;; i++) {
    try {
      return openPipe(address);
    } catch (e) {
      if (!(e instanceof Deno.errors.Busy) || i >= 10_000) throw e;
    }
    await iterations(loop, 1);
  }
}

// ---- off Windows ------------------------------------------------------------------------

Deno.test({
  name: "pipes: off Windows pipe(), the instances and the client end throw NotSupported",
  ignore: onWindows,
  fn() {
    assertThrows(() => ffiPipe(), Deno.errors.NotSupported, Deno.build.os);
    assertThrows(() => pipe(), Deno.errors.NotSupported, Deno.build.os);
    assertThrows(() => createPipeInstance(uniquePipeName()), Deno.errors.NotSupported);
    assertThrows(() => openPipe(uniquePipeName()), Deno.errors.NotSupported);
    assertThrows(() => new ProactorEventLoop(), Deno.errors.NotSupported, Deno.build.os);
  },
});

Deno.test({
  name: "pipes: unique names have the windows_utils shape; the platform table has no pipes " +
    "NOT_YET for the ProactorEventLoop",
  fn() {
    const a = uniquePipeName(), b = uniquePipeName();
    assert(a !== b);
    assert(a.startsWith(`\\\\.\\pipe\\aio-${Deno.pid}-`), a);
    const e = notSupported("connectReadPipe", "ProactorEventLoop");
    assert(!e.message.includes("not implemented yet"), e.message);
  },
});

// ---- pipe() and the overlapped operations ------------------------------------------------

Deno.test({
  name: "pipe(): a one-way pair carries bytes from the write end to the read end; a duplex " +
    "pair both ways",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      {
        const [r, w] = pipe();
        try {
          assert(r.fileno() > 0 && w.fileno() > 0 && r.fileno() !== w.fileno());
          const pending = loop._proactor.readFile(r, 100); // in flight before the data exists
          await writeAll(loop, w, enc.encode("one way"));
          assertEquals(dec.decode(await pending), "one way");
        } finally {
          r.close();
          w.close();
        }
        assertEquals([r.fileno(), w.fileno()], [-1, -1]);
      }
      {
        const [a, b] = pipe({ duplex: true });
        try {
          await writeAll(loop, a, enc.encode("a to b"));
          assertEquals(dec.decode(await readExactly(loop, b, 6)), "a to b");
          await writeAll(loop, b, enc.encode("b to a!"));
          assertEquals(dec.decode(await readExactly(loop, a, 7)), "b to a!");
          // The writer closes: the reader's next read is end of file (ERROR_BROKEN_PIPE).
          b.close();
          assertEquals((await loop._proactor.readFile(a, 10)).length, 0);
        } finally {
          a.close();
          b.close();
        }
      }
    });
  },
});

Deno.test({
  name: "PipeHandle: fileno/handle, close once, using closes, a closed handle is refused",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      {
        using held = w;
        assertEquals(held.handle, held.fileno());
        assertStringIncludes(String(held), "PipeHandle 0x");
      }
      assert(w.closed);
      w.close(); // a second close does nothing
      assertStringIncludes(String(w), "closed");
      r.close();
      await assertRejects(
        () => loop.connectReadPipe(() => new Collect(), r),
        Deno.errors.BadResource,
      );
      await assertRejects(() => loop._proactor.readFile(r, 1), Deno.errors.BadResource, "pipe");
      assertThrows(() => new PipeHandle(0), RangeError);
    });
  },
});

Deno.test({
  name: "IocpProactor pipes: ConnectNamedPipe after the client came (ERROR_PIPE_CONNECTED) " +
    "resolves at once with no packet to wait for; a cancelled read leaves the pipe readable",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const address = uniquePipeName();
      const server = new PipeHandle(createPipeInstance(address, { first: true }));
      const client = new PipeHandle(openPipe(address));
      try {
        await loop._proactor.connectPipe(server); // the client was first: 535
        assertEquals([loop._proactor.pendingCount, loop._proactor.slotsInUse], [0, 0]);
        // Cancel a read before any data: CancelledError at once, then the pipe reads on.
        const ac = new AbortController();
        const cancelled = loop._proactor.readFile(server, 100, ac.signal);
        ac.abort();
        await assertRejects(() => cancelled, CancelledError);
        await writeAll(loop, client, enc.encode("after the cancel"));
        assertEquals(dec.decode(await readExactly(loop, server, 16)), "after the cancel");
        // A pending ConnectNamedPipe on a fresh instance completes when a client opens it.
        const second = new PipeHandle(createPipeInstance(address));
        try {
          const accepted = loop._proactor.connectPipe(second);
          assertEquals(loop._proactor.pendingCount, 1);
          const c2 = new PipeHandle(openPipe(address));
          await accepted;
          c2.close();
        } finally {
          second.close();
        }
      } finally {
        server.close();
        client.close();
      }
    });
  },
});

Deno.test({
  name: "pipe transports: writing to a pipe whose reader closed ends the write transport " +
    "with BrokenPipe",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      r.close();
      const [wt, writer] = await loop.connectWritePipe(() => new WriterProtocol(), w);
      wt.write(enc.encode("nobody reads this"));
      const exc = await writer.lost.promise;
      assertInstanceOf(exc, Deno.errors.BrokenPipe);
      assert(w.closed);
      wt.write(enc.encode("dropped")); // after the loss: dropped, no throw
    });
  },
});

Deno.test({
  name: "pipe transports: a BufferedProtocol gets the bytes through getBuffer/bufferUpdated",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      const got: number[] = [];
      const lost = Promise.withResolvers<void>();
      const buf = new Uint8Array(7); // small: one read is split over several buffers
      const protocol = {
        connectionMade() {},
        getBuffer: () => buf,
        bufferUpdated: (n: number) => void got.push(...buf.subarray(0, n)),
        eofReceived: () => false,
        connectionLost: () => lost.resolve(),
      };
      // deno-lint-ignore no-explicit-any
      await loop.connectReadPipe(() => protocol as any, r);
      const [wt] = await loop.connectWritePipe(() => new WriterProtocol(), w);
      const data = pattern(1000, 7);
      wt.write(data);
      wt.writeEof();
      await lost.promise;
      assertEquals(new Uint8Array(got), data);
    });
  },
});

// ---- connectReadPipe / connectWritePipe --------------------------------------------------

Deno.test({
  name: "connectReadPipe/connectWritePipe: data, then writeEof() closes the writer and the " +
    "reader gets eofReceived then connectionLost(null)",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      // A PipeHandle for the read end, a bare HANDLE number (the transport owns it) for the other.
      const [rh, wh] = ffiPipe();
      const r = new PipeHandle(rh);
      const [rt, reader] = await loop.connectReadPipe(() => new Collect(), r);
      const [wt, writer] = await loop.connectWritePipe(() => new WriterProtocol(), wh);
      assert(rt.isReading());
      assert((wt as WriteTransport).canWriteEof());
      wt.write(enc.encode("hello "));
      wt.writelines([enc.encode("pipe"), enc.encode("\n")]);
      wt.writeEof();
      assertEquals(await writer.lost.promise, null);
      assertEquals(await reader.lost.promise, null);
      assertEquals(dec.decode(reader.data), "hello pipe\n");
      assertEquals(reader.events, ["made", "eof", "lost"]);
      assertEquals([r.closed, wt.isClosing()], [true, true]);
      assertThrows(() => wt.write(enc.encode("x")), Error, "writeEof");
    });
  },
});

Deno.test({
  name: "connectWritePipe on a duplex end: the reader closing ends the write transport",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const [a, b] = pipe({ duplex: true });
      const [, writer] = await loop.connectWritePipe(() => new WriterProtocol(), a);
      b.close(); // the only reader goes away
      const exc = await writer.lost.promise;
      assertEquals(exc, null); // nothing was being written: a clean close
      assert(a.closed);
    });
  },
});

Deno.test({
  name: "connectReadPipe/connectWritePipe: not a pipe is a TypeError naming it; nothing closed",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      for (const bad of [0, -1, 1.5, "x", {}, null]) {
        await assertRejects(
          // deno-lint-ignore no-explicit-any
          () => loop.connectReadPipe(() => new Collect(), bad as any),
          TypeError,
          "connectReadPipe()",
        );
      }
      // A number that is no open handle: GetFileType says unknown.
      const e = await assertRejects(
        () => loop.connectWritePipe(() => new BaseProtocol(), 0x7fff_fff0),
        TypeError,
      );
      assertStringIncludes(e.message, String(0x7fff_fff0));
      assertStringIncludes(e.message, "not a pipe");
    });
  },
});

// The write-pipe semantics tests/pipes_test.ts checks on Unix pipes, on a Windows pipe().

Deno.test({
  name: "connectWritePipe: close() is the reader's EOF after what was written; later writes " +
    "are dropped",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      const [, reader] = await loop.connectReadPipe(() => new Collect(), r);
      const [wt, writer] = await loop.connectWritePipe(() => new WriterProtocol(), w);
      wt.writelines([enc.encode("a"), enc.encode("bc"), new Uint8Array(0)]);
      wt.close();
      assert(wt.isClosing());
      wt.write(enc.encode("dropped")); // asyncio drops writes once closing
      assertEquals(await writer.lost.promise, null);
      assertEquals(await reader.lost.promise, null);
      assertEquals(dec.decode(reader.data), "abc");
      assertEquals(reader.events, ["made", "eof", "lost"]);
      assert(w.closed);
    });
  },
});

Deno.test({
  name: "connectWritePipe: abort() drops the write buffer; the reader sees a prefix, then EOF",
  ignore,
  async fn() {
    const MiB = 1 << 20;
    const data = pattern(MiB, 0xab07);
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      const [rt, reader] = await loop.connectReadPipe(() => {
        const c = new Collect();
        c.pauseOnConnect = true;
        return c;
      }, r);
      const [wt, writer] = await loop.connectWritePipe(() => new WriterProtocol(), w);
      wt.write(data); // an 8 KiB pipe, nobody reading: most of it waits
      assert(wt.getWriteBufferSize() > 0, "nothing buffered");
      wt.abort();
      assertEquals(wt.getWriteBufferSize(), 0);
      assertEquals(await writer.lost.promise, null);
      rt.resumeReading();
      assertEquals(await reader.lost.promise, null);
      const got = reader.data;
      assert(got.length < MiB, `the reader got all ${got.length} bytes`);
      assertEquals(firstDifference(got, data.subarray(0, got.length)), -1, "not a prefix");
      assertEquals(reader.events, ["made", "eof", "lost"]);
    });
  },
});

Deno.test({
  name: "pipe pair: 16 MiB through connectWritePipe -> connectReadPipe arrive byte-exact",
  ignore,
  async fn() {
    const N = 16 * 1024 * 1024;
    const data = pattern(N, 0x5eed);
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      const [, reader] = await loop.connectReadPipe(() => new Collect(), r);
      const [wt, writer] = await loop.connectWritePipe(() => new WriterProtocol(), w);
      for (let off = 0; off < N; off += 1 << 20) wt.write(data.subarray(off, off + (1 << 20)));
      wt.writeEof();
      assertEquals(await writer.lost.promise, null);
      assertEquals(await reader.lost.promise, null);
      const got = reader.data;
      assertEquals(got.length, N);
      assertEquals(firstDifference(got, data), -1, "the bytes differ");
      assertEquals(reader.events, ["made", "eof", "lost"]);
    });
  },
});

Deno.test({
  name: "pipe transports: write flow control pauses above the high-water mark and resumes",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      class Flow extends WriterProtocol {
        calls: string[] = [];
        resumed = Promise.withResolvers<void>();
        override pauseWriting(): void {
          this.calls.push("pause");
        }
        override resumeWriting(): void {
          this.calls.push("resume");
          this.resumed.resolve();
        }
      }
      const [wt, flow] = await loop.connectWritePipe(() => new Flow(), w);
      wt.setWriteBufferLimits({ high: 1024, low: 0 });
      wt.write(new Uint8Array(64 * 1024)); // more than the pipe holds: stays in flight
      assert(wt.getWriteBufferSize() > 1024);
      assertEquals(flow.calls, ["pause"]);
      const [, reader] = await loop.connectReadPipe(() => new Collect(), r);
      await flow.resumed.promise;
      assertEquals(flow.calls, ["pause", "resume"]);
      assertEquals(wt.getWriteBufferSize(), 0);
      wt.close();
      await reader.lost.promise;
      assertEquals(reader.data.length, 64 * 1024);
    });
  },
});

Deno.test({
  name: "pipe transports: pausing in connectionMade delivers nothing until resumeReading(), " +
    "then everything, then EOF",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const [r, w] = pipe();
      const [rt, reader] = await loop.connectReadPipe(() => {
        const p = new Collect();
        p.pauseOnConnect = true;
        return p;
      }, r);
      assert(!rt.isReading());
      rt.pauseReading(); // idempotent
      const [wt, writer] = await loop.connectWritePipe(() => new WriterProtocol(), w);
      wt.write(enc.encode("while paused"));
      wt.writeEof();
      await writer.lost.promise; // everything was written and the writer closed
      await iterations(loop, 50);
      assertEquals(reader.parts.length, 0, "data was delivered while paused");
      assertEquals(reader.events, ["made"]);
      rt.resumeReading();
      rt.resumeReading(); // idempotent
      assertEquals(await reader.lost.promise, null);
      assertEquals(dec.decode(reader.data), "while paused");
      assertEquals(reader.events, ["made", "eof", "lost"]);
    });
  },
});

Deno.test({
  name: "pipe transports: close() and abort() with reads pending leave no handle open and " +
    "nothing pending",
  ignore,
  async fn() {
    const before = openPipeHandleCount();
    await withLoop(async (loop) => {
      const transports: { t: Transport; p: Collect }[] = [];
      const writers: PipeHandle[] = [];
      for (let i = 0; i < 4; i++) {
        const [r, w] = pipe();
        writers.push(w);
        const [t, p] = await loop.connectReadPipe(() => new Collect(), r);
        transports.push({ t: t as Transport, p });
      }
      await iterations(loop, 5); // every read is in flight
      assert(loop._proactor.pendingCount >= 4);
      transports[0].t.close();
      transports[1].t.abort();
      transports[2].t.close();
      transports[2].t.close(); // twice: once
      for (const { p } of transports.slice(0, 3)) assertEquals(await p.lost.promise, null);
      // The fourth stays open with its read pending: the loop's close() cancels it.
      for (const w of writers) w.close();
      await transports[3].p.lost.promise; // its writer closed: EOF
      for (const { p } of transports) assertEquals(p.events.filter((e) => e === "lost").length, 1);
    });
    assertEquals(openPipeHandleCount(), before);
    // A read left pending on a handle when the loop closes: cancelled, its packet drained.
    const [r, w] = pipe();
    const loop = new ProactorEventLoop();
    try {
      const pending = loop._proactor.readFile(r, 10);
      pending.catch(() => {});
      assertEquals(loop._proactor.pendingCount, 1);
      loop.close();
      await assertRejects(() => pending, CancelledError);
      assertEquals([loop._proactor.pendingCount, loop._proactor.slotsInUse], [0, 0]);
    } finally {
      loop.close();
      r.close();
      w.close();
    }
    assertEquals(openPipeHandleCount(), before);
  },
});

// ---- the pipe server and its clients -----------------------------------------------------

class Upper extends Protocol {
  transport: Transport | null = null;
  lost = Promise.withResolvers<void>();
  #line = "";
  override connectionMade(t: BaseTransport): void {
    this.transport = t as Transport;
  }
  override dataReceived(data: Uint8Array): void {
    this.#line += dec.decode(data);
    const i = this.#line.indexOf("\n");
    if (i >= 0) {
      this.transport!.write(enc.encode(this.#line.slice(0, i + 1).toUpperCase()));
      this.#line = this.#line.slice(i + 1);
    }
  }
  override connectionLost(): void {
    this.lost.resolve();
  }
}

class LineClient extends Protocol {
  text = "";
  line = Promise.withResolvers<string>();
  lost = Promise.withResolvers<Error | null>();
  override dataReceived(data: Uint8Array): void {
    this.text += dec.decode(data);
    if (this.text.endsWith("\n")) this.line.resolve(this.text);
  }
  override connectionLost(exc: Error | null): void {
    this.lost.resolve(exc);
  }
}

Deno.test({
  name: "startServingPipe: NotFound before serving; 5 clients each get their line upper-cased; " +
    "NotFound again after server.close()",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const address = uniquePipeName();
      await assertRejects(
        () => loop.createPipeConnection(() => new LineClient(), address),
        Deno.errors.NotFound,
      );
      const served: Upper[] = [];
      const server = await loop.startServingPipe(() => {
        const p = new Upper();
        served.push(p);
        return p;
      }, address);
      assertEquals(server.address, address);
      const clients = [];
      for (let i = 0; i < 5; i++) {
        const [t, p] = await loop.createPipeConnection(() => new LineClient(), address);
        assertEquals(t.getExtraInfo("addr"), address);
        assert(!t.canWriteEof(), "a duplex pipe cannot write EOF alone");
        t.write(enc.encode(`lower case line ${i}\n`));
        clients.push({ t, p });
      }
      for (const [i, { p }] of clients.entries()) {
        assertEquals(await p.line.promise, `LOWER CASE LINE ${i}\n`);
      }
      for (const { t } of clients) t.close();
      for (const { p } of clients) assertEquals(await p.lost.promise, null);
      // Each server side sees its client's EOF and closes its instance.
      await Promise.all(served.map((p) => p.lost.promise));
      assertEquals(served.length, 5);
      server.close();
      assert(server.closed());
      server.close(); // twice: nothing
      await assertRejects(
        () => loop.createPipeConnection(() => new LineClient(), address),
        Deno.errors.NotFound,
      );
    });
  },
});

Deno.test({
  name: "startServingPipe: a second server on the same name is refused (PermissionDenied)",
  // Wine does not enforce FILE_FLAG_FIRST_PIPE_INSTANCE (shared/windows/README.md): real Windows only.
  ignore: !onWindows || UNDER_WINE,
  async fn() {
    await withLoop(async (loop) => {
      const address = uniquePipeName();
      const server = await loop.startServingPipe(() => new Upper(), address);
      try {
        await assertRejects(
          () => loop.startServingPipe(() => new Upper(), address),
          Deno.errors.PermissionDenied,
        );
      } finally {
        server.close();
      }
    });
  },
});

Deno.test({
  name: "createPipeConnection: while every instance is busy it retries, and aborting cancels " +
    "it (CancelledError); once an instance is free it connects",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const address = uniquePipeName();
      // One instance only, taken by a client: the name exists, every instance is busy.
      const inst = createPipeInstance(address, { first: true, maxInstances: 1 });
      const holder = openPipe(address);
      try {
        assertThrows(() => openPipe(address), Deno.errors.Busy);
        const ac = new AbortController();
        const connecting = loop.createPipeConnection(() => new LineClient(), address, {
          signal: ac.signal,
        });
        await iterations(loop, 3); // it tried, found the pipe busy, and waits to retry
        ac.abort();
        await assertRejects(() => connecting, CancelledError);
        // An aborted signal rejects at once.
        await assertRejects(
          () => loop.createPipeConnection(() => new LineClient(), address, { signal: ac.signal }),
          CancelledError,
        );
      } finally {
        closeHandle(holder);
        closeHandle(inst);
      }
      // The name served again: a connect gets through.
      const served: Upper[] = [];
      const server = await loop.startServingPipe(() => {
        const p = new Upper();
        served.push(p);
        return p;
      }, address);
      try {
        const [t, p] = await loop.createPipeConnection(() => new LineClient(), address);
        t.write(enc.encode("retry\n"));
        assertEquals(await p.line.promise, "RETRY\n");
        t.close();
        await p.lost.promise;
        await Promise.all(served.map((s) => s.lost.promise));
      } finally {
        server.close();
      }
    });
  },
});

Deno.test({
  name: "startServingPipe: a client that connects and leaves at once costs only its instance",
  ignore,
  async fn() {
    await withLoop(async (loop) => {
      const address = uniquePipeName();
      const served: Upper[] = [];
      const server = await loop.startServingPipe(() => {
        const p = new Upper();
        served.push(p);
        return p;
      }, address);
      try {
        for (let i = 0; i < 3; i++) closeHandle(await openRetrying(loop, address)); // come and go
        const [t, p] = await loop.createPipeConnection(() => new LineClient(), address);
        t.write(enc.encode("still serving\n"));
        assertEquals(await p.line.promise, "STILL SERVING\n");
        t.close();
        await p.lost.promise;
        await Promise.all(served.map((s) => s.lost.promise));
      } finally {
        server.close();
      }
    });
  },
});

Deno.test({
  name: "ProactorEventLoop.close() closes its pipe servers' instances",
  ignore,
  async fn() {
    const before = openPipeHandleCount();
    const address = uniquePipeName();
    const loop = new ProactorEventLoop();
    let server;
    try {
      server = await loop.runUntilComplete(() => loop.startServingPipe(() => new Upper(), address));
      await loop.runUntilComplete(() => iterations(loop, 3));
    } finally {
      loop.close();
    }
    assert(server.closed());
    assertEquals(openPipeHandleCount(), before);
    assertEquals(loop._proactor.pendingCount, 0);
    assertThrows(() => openPipe(address), Deno.errors.NotFound);
    await assertRejects(
      () => loop.createPipeConnection(() => new LineClient(), address),
      Error,
      "closed",
    );
    assertInstanceOf(server, Object);
  },
});
