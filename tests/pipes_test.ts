import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import type { ExceptionContext } from "../mod.ts";
import { BaseProtocol, Protocol, ReadTransport, WriteTransport } from "../transports/mod.ts";
import { UnixReadPipeTransport } from "../loop/unix/read_pipe_transport.ts";
import { UnixWritePipeTransport } from "../loop/unix/write_pipe_transport.ts";
import type { BaseTransport } from "../transports/mod.ts";
import {
  closeFd,
  isNonBlocking,
  isOpenFd,
  makePipe,
  makeSocketPair,
  readFd,
  setNonBlocking,
  writeFd,
} from "../ffi/unix/libc.ts";
import { openFd, openpty } from "../ffi/unix/pty.ts";
import { forEachLoop, forOneLoop, type TestLoop } from "./_loops.ts";
import { onLoop, pattern, sameBytes, tick, until } from "./_stream_helpers.ts";

const MiB = 1024 * 1024;
const BIG = 4 * MiB;
const BIG_DATA = pattern(BIG, 7);
const onLinux = Deno.build.os === "linux";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A read-side protocol that records its calls in order. */
class Reader extends Protocol {
  transport!: UnixReadPipeTransport;
  events: string[] = [];
  chunks: Uint8Array[] = [];
  received = 0;
  lost: PromiseWithResolvers<Error | null> = Promise.withResolvers();
  onData?: (data: Uint8Array) => void;
  override connectionMade(transport: BaseTransport): void {
    this.transport = transport as UnixReadPipeTransport;
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    if (this.events.at(-1) !== "data") this.events.push("data");
    this.chunks.push(data);
    this.received += data.byteLength;
    this.onData?.(data);
  }
  override eofReceived(): boolean {
    this.events.push("eof");
    return false;
  }
  override connectionLost(exc: Error | null): void {
    this.events.push("lost");
    this.lost.resolve(exc);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.received);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.byteLength;
    }
    return out;
  }
  text(): string {
    return dec.decode(this.bytes());
  }
}

/** A write-side protocol that records its calls in order. */
class Writer extends BaseProtocol {
  transport!: UnixWritePipeTransport;
  events: string[] = [];
  paused = false;
  lost: PromiseWithResolvers<Error | null> = Promise.withResolvers();
  onResume?: () => void;
  override connectionMade(transport: BaseTransport): void {
    this.transport = transport as UnixWritePipeTransport;
    this.events.push("made");
  }
  override pauseWriting(): void {
    this.events.push("pause");
    this.paused = true;
  }
  override resumeWriting(): void {
    this.events.push("resume");
    this.paused = false;
    this.onResume?.();
  }
  override connectionLost(exc: Error | null): void {
    this.events.push("lost");
    this.lost.resolve(exc);
  }
  count(name: string): number {
    return this.events.filter((e) => e === name).length;
  }
}

/** Records what reaches the loop's exception handler. */
function recordExceptions(loop: TestLoop): ExceptionContext[] {
  const seen: ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, ctx) => void seen.push(ctx));
  return seen;
}

/** Connects both ends of a fresh pipe(2). */
async function pipePair(
  loop: TestLoop,
): Promise<{ reader: Reader; writer: Writer; r: number; w: number }> {
  const [r, w] = makePipe();
  const [rt, reader] = await loop.connectReadPipe(() => new Reader(), r);
  const [wt, writer] = await loop.connectWritePipe(() => new Writer(), w);
  assertStrictEquals(reader.transport, rt);
  assertStrictEquals(writer.transport, wt);
  return { reader, writer, r, w };
}

/** Writes `data` in 256 KiB pieces, honouring pauseWriting/resumeWriting, then closes. */
function pump(writer: Writer, data: Uint8Array): void {
  let sent = 0;
  const go = (): void => {
    while (!writer.paused && sent < data.byteLength) {
      const n = Math.min(256 * 1024, data.byteLength - sent);
      writer.transport.write(data.subarray(sent, sent + n));
      sent += n;
    }
    if (sent === data.byteLength && !writer.transport.isClosing()) writer.transport.close();
  };
  writer.onResume = go;
  go();
}

/** A fresh temporary directory, removed after `fn`. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aio_pipes_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

forEachLoop(["pipes"], (lc, test) => {
  const L = `pipes (${lc.tag})`;

  test(
    `${L}: connectWritePipe() → connectReadPipe() carries 4 MiB byte for byte, with flow control`,
    onLoop(lc, async (loop) => {
      const { reader, writer, r, w } = await pipePair(loop);
      assert(reader.transport instanceof ReadTransport);
      assert(writer.transport instanceof WriteTransport);
      assertStrictEquals(reader.transport.getExtraInfo("pipe"), r);
      assertStrictEquals(writer.transport.getExtraInfo("pipe"), w);
      assertEquals(writer.transport.getWriteBufferLimits(), { low: 16 * 1024, high: 64 * 1024 });
      assert(writer.transport.canWriteEof());
      pump(writer, BIG_DATA);
      const [rExc, wExc] = await Promise.all([reader.lost.promise, writer.lost.promise]);
      assertEquals([rExc, wExc], [null, null]);
      assertEquals(sameBytes(reader.bytes(), BIG_DATA), null);
      assertEquals(reader.events, ["made", "data", "eof", "lost"]);
      // A 64 KiB pipe against 4 MiB: the high mark is crossed, and each pause has its resume.
      const crossings = writer.events.filter((e) => e === "pause" || e === "resume");
      assertGreater(writer.count("pause"), 0);
      assertEquals(writer.count("pause"), writer.count("resume"));
      for (let i = 0; i < crossings.length; i++) {
        assertEquals(crossings[i], i % 2 === 0 ? "pause" : "resume");
      }
      assertEquals(writer.events[0], "made");
      assertEquals(writer.events.at(-1), "lost");
      assertEquals(writer.transport.getWriteBufferSize(), 0);
      assertStringIncludes(String(reader.transport), "closed");
      assertStringIncludes(String(writer.transport), "closed");
    }),
  );

  test(
    `${L}: closing the write end gives eofReceived() then connectionLost(null), once each`,
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      const [transport, reader] = await loop.connectReadPipe(() => new Reader(), r);
      assert(transport.isReading());
      writeFd(w, enc.encode("last words"));
      closeFd(w);
      assertEquals(await reader.lost.promise, null);
      await tick(loop, 5); // nothing more may come
      assertEquals(reader.events, ["made", "data", "eof", "lost"]);
      assertEquals(reader.text(), "last words");
      assert(transport.isClosing());
      assert(!transport.isReading());
      transport.close(); // no effect after the end
      await tick(loop);
      assertEquals(reader.events.filter((e) => e === "lost").length, 1);
    }),
  );

  test(
    `${L}: the write transport's close() is the reader's EOF; later writes are dropped`,
    onLoop(lc, async (loop) => {
      const { reader, writer } = await pipePair(loop);
      writer.transport.writelines([enc.encode("a"), enc.encode("bc"), new Uint8Array(0)]);
      writer.transport.close();
      assert(writer.transport.isClosing());
      writer.transport.write(enc.encode("dropped")); // asyncio drops writes once closing
      assertEquals(await writer.lost.promise, null);
      assertEquals(await reader.lost.promise, null);
      assertEquals(reader.text(), "abc");
      assertEquals(reader.events, ["made", "data", "eof", "lost"]);
      assertEquals(writer.events, ["made", "lost"]);
    }),
  );

  test(
    `${L}: the reader closing with nothing pending: connectionLost(null) through the read-side watch`,
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      const seen = recordExceptions(loop);
      const [transport, writer] = await loop.connectWritePipe(() => new Writer(), w);
      transport.write(enc.encode("taken at once"));
      assertEquals(transport.getWriteBufferSize(), 0);
      closeFd(r);
      // No write is made: only the watch on the write end can notice (asyncio: no error then).
      assertEquals(await writer.lost.promise, null);
      assertEquals(writer.events, ["made", "lost"]);
      assertEquals(seen, []);
    }),
  );

  test(
    `${L}: the reader closing with data pending: connectionLost(BrokenPipe)`,
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      const seen = recordExceptions(loop);
      const [transport, writer] = await loop.connectWritePipe(() => new Writer(), w);
      transport.write(BIG_DATA.subarray(0, MiB)); // a 64 KiB pipe: most of it waits
      assertGreater(transport.getWriteBufferSize(), 0);
      closeFd(r);
      const exc = await writer.lost.promise;
      assertInstanceOf(exc, Deno.errors.BrokenPipe);
      assertEquals((exc as Error & { code: string }).code, "EPIPE");
      assertEquals(transport.getWriteBufferSize(), 0);
      assertEquals(writer.events.filter((e) => e === "lost").length, 1);
      assertEquals(seen, []); // OS errors are the protocol's news, not the exception handler's
    }),
  );

  test(
    `${L}: a write failing with EPIPE gives connectionLost(BrokenPipe)`,
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      const seen = recordExceptions(loop);
      const [transport, writer] = await loop.connectWritePipe(() => new Writer(), w);
      closeFd(r);
      transport.write(enc.encode("into the void")); // before the loop polls: write(2) → EPIPE
      assert(transport.isClosing());
      const exc = await writer.lost.promise;
      assertInstanceOf(exc, Deno.errors.BrokenPipe);
      assertEquals(writer.events, ["made", "lost"]);
      assertEquals(seen, []);
      for (let i = 0; i < 3; i++) transport.write(enc.encode("x")); // dropped, quietly
    }),
  );

  test(
    `${L}: writelines() gathers its buffers; what the pipe does not take is buffered in order`,
    onLoop(lc, async (loop) => {
      const { reader, writer } = await pipePair(loop);
      const parts = [0, 1, 2, 3].map((i) => BIG_DATA.subarray(i * 300_000, (i + 1) * 300_000));
      writer.transport.writelines(parts); // one writev: the pipe takes 64 KiB of it
      assertGreater(writer.transport.getWriteBufferSize(), 0);
      writer.transport.writelines([BIG_DATA.subarray(1_200_000, 1_200_001)]);
      writer.transport.close();
      assertEquals(await writer.lost.promise, null);
      assertEquals(await reader.lost.promise, null);
      assertEquals(sameBytes(reader.bytes(), BIG_DATA.subarray(0, 1_200_001)), null);
    }),
  );

  test(
    `${L}: abort() drops the write buffer; the reader sees a prefix, then EOF`,
    onLoop(lc, async (loop) => {
      const { reader, writer } = await pipePair(loop);
      reader.transport.pauseReading();
      writer.transport.write(BIG_DATA.subarray(0, MiB));
      assertGreater(writer.transport.getWriteBufferSize(), 0);
      writer.transport.abort();
      assertEquals(writer.transport.getWriteBufferSize(), 0);
      assertEquals(await writer.lost.promise, null);
      reader.transport.resumeReading();
      assertEquals(await reader.lost.promise, null);
      assert(reader.received < MiB);
      assertEquals(sameBytes(reader.bytes(), BIG_DATA.subarray(0, reader.received)), null);
      assertEquals(reader.events, ["made", "data", "eof", "lost"]);
    }),
  );

  test(
    `${L}: pauseReading() stops dataReceived() until resumeReading()`,
    onLoop(lc, async (loop) => {
      const { reader, writer } = await pipePair(loop);
      const log: string[] = [];
      reader.onData = (d) => log.push(`data ${dec.decode(d)}`);
      writer.transport.write(enc.encode("one"));
      await until(loop, () => reader.received === 3);
      reader.transport.pauseReading();
      assert(!reader.transport.isReading());
      reader.transport.pauseReading(); // twice: no effect
      log.push("paused");
      writer.transport.write(enc.encode("two")); // in the kernel's pipe buffer at once
      assertEquals(writer.transport.getWriteBufferSize(), 0);
      for (let i = 0; i < 20; i++) await tick(loop); // many iterations with the fd readable
      log.push("resuming");
      reader.transport.resumeReading();
      assert(reader.transport.isReading());
      await until(loop, () => reader.received === 6);
      assertEquals(log, ["data one", "paused", "resuming", "data two"]);
      writer.transport.close();
      await Promise.all([reader.lost.promise, writer.lost.promise]);
    }),
  );

  test(
    `${L}: a FIFO made with mkfifo, opened nonblocking`,
    onLoop(lc, (loop) =>
      withTempDir(async (dir) => {
        const path = `${dir}/fifo`;
        const made = await new Deno.Command("mkfifo", { args: [path] }).output();
        assert(made.success, "mkfifo failed");
        const r = openFd(path, { mode: "r" }); // nonblocking: no writer needed yet
        const w = openFd(path, { mode: "w" });
        const [, reader] = await loop.connectReadPipe(() => new Reader(), r);
        const [wt, writer] = await loop.connectWritePipe(() => new Writer(), w);
        wt.write(enc.encode("through the fifo"));
        wt.close();
        assertEquals(await writer.lost.promise, null);
        assertEquals(await reader.lost.promise, null);
        assertEquals(reader.text(), "through the fifo");
        assertEquals(reader.events, ["made", "data", "eof", "lost"]);
      })),
  );

  test(
    `${L}: a socket pair's ends work as read and write pipes`,
    onLoop(lc, async (loop) => {
      const [a, b] = makeSocketPair();
      const [wt, writer] = await loop.connectWritePipe(() => new Writer(), a);
      const [, reader] = await loop.connectReadPipe(() => new Reader(), b);
      wt.write(BIG_DATA.subarray(0, MiB));
      wt.close();
      assertEquals(await writer.lost.promise, null);
      assertEquals(await reader.lost.promise, null);
      assertEquals(sameBytes(reader.bytes(), BIG_DATA.subarray(0, MiB)), null);
      assertEquals(reader.events, ["made", "data", "eof", "lost"]);
    }),
  );

  test(
    `${L}: a socket pair: the read-side watch notices the peer closing`,
    onLoop(lc, async (loop) => {
      const [a, b] = makeSocketPair();
      const [, writer] = await loop.connectWritePipe(() => new Writer(), a);
      closeFd(b);
      assertEquals(await writer.lost.promise, null);
    }),
  );

  test(
    `${L}: a PTY: the master writes, the slave reads a line`,
    onLoop(lc, async (loop) => {
      const { master, slave } = openpty();
      const [mt, writer] = await loop.connectWritePipe(() => new Writer(), master);
      const [st, reader] = await loop.connectReadPipe(() => new Reader(), slave);
      assert(isNonBlocking(master) && isNonBlocking(slave));
      mt.write(enc.encode("hello tty\n")); // cooked mode: a line is delivered at its newline
      await until(loop, () => reader.text().includes("\n"));
      assertEquals(reader.text(), "hello tty\n");
      // The master also gets the echo, which a character device's transport does not watch:
      // the write transport stays open.
      await tick(loop, 5);
      assert(!mt.isClosing());
      // Closing the master hangs the terminal up: the slave reads end of file.
      mt.close();
      assertEquals(await writer.lost.promise, null);
      const exc = await reader.lost.promise;
      if (onLinux) {
        assertEquals(exc, null);
        assertEquals(reader.events, ["made", "data", "eof", "lost"]);
      } else if (!reader.events.includes("eof")) st.close();
    }),
  );

  test(
    `${L}: a PTY: the slave writes, the master reads; the slave closing ends the master quietly`,
    onLoop(lc, async (loop) => {
      const seen = recordExceptions(loop);
      const { master, slave } = openpty();
      const [, reader] = await loop.connectReadPipe(() => new Reader(), master);
      const [st, writer] = await loop.connectWritePipe(() => new Writer(), slave);
      st.write(enc.encode("ping"));
      await until(loop, () => reader.received === 4);
      assertEquals(reader.text(), "ping");
      st.close();
      assertEquals(await writer.lost.promise, null);
      const exc = await reader.lost.promise;
      // Linux answers EIO on the master once no slave is open; asyncio ends quietly then.
      if (onLinux || exc !== null) assertEquals((exc as Error & { code?: string }).code, "EIO");
      assertEquals(reader.events.filter((e) => e === "lost").length, 1);
      assertEquals(seen, []);
    }),
  );

  test(
    `${L}: /dev/null takes writes as a character device`,
    onLoop(lc, async (loop) => {
      const fd = openFd("/dev/null", { mode: "w" });
      const [transport, writer] = await loop.connectWritePipe(() => new Writer(), fd);
      transport.write(BIG_DATA);
      assertEquals(transport.getWriteBufferSize(), 0);
      transport.close();
      assertEquals(await writer.lost.promise, null);
      assertEquals(writer.events, ["made", "lost"]);
    }),
  );

  test(
    `${L}: a fileno() object is kept as the "pipe" extra and closed with its own close()`,
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      let closes = 0;
      const pipe = {
        fileno: () => r,
        close: () => {
          closes++;
          closeFd(r);
        },
      };
      const [transport, reader] = await loop.connectReadPipe(() => new Reader(), pipe);
      assertStrictEquals(transport.getExtraInfo("pipe"), pipe);
      assertEquals((transport as UnixReadPipeTransport).fileno(), r); // the Unix transport's fd
      transport.close();
      assertEquals(await reader.lost.promise, null);
      assertEquals(closes, 1);
      closeFd(w);
    }),
  );
});

forOneLoop(["pipes"], (lc, test) => {
  test(
    "connectReadPipe()/connectWritePipe() refuse a regular file, naming the fd and Deno's file APIs",
    onLoop(lc, (loop) =>
      withTempDir(async (dir) => {
        const path = `${dir}/file.txt`;
        await Deno.writeTextFile(path, "data");
        const fd = openFd(path, { mode: "rw" });
        try {
          const connects = [
            () => loop.connectReadPipe(() => new Reader(), fd),
            () => loop.connectWritePipe(() => new Writer(), fd),
          ];
          for (const connect of connects) {
            const e = await assertRejects(
              connect,
              TypeError,
              "Pipe transport is for pipes/sockets/character devices only",
            );
            assertStringIncludes(e.message, `fd ${fd}`);
            assertStringIncludes(e.message, "regular file");
            assertStringIncludes(e.message, "Deno.open()");
            assert(isOpenFd(fd), "a refused fd stays open and the caller's");
          }
        } finally {
          closeFd(fd);
        }
      })),
  );
});

forOneLoop(["pipes"], (lc, test) => {
  test(
    "connectReadPipe() refuses a directory",
    onLoop(lc, (loop) =>
      withTempDir(async (dir) => {
        const fd = openFd(dir, { mode: "r" });
        try {
          const e = await assertRejects(
            () => loop.connectReadPipe(() => new Reader(), fd),
            TypeError,
            "is a directory",
          );
          assertStringIncludes(e.message, `fd ${fd}`);
        } finally {
          closeFd(fd);
        }
      })),
  );
});

forOneLoop(["pipes"], (lc, test) => {
  test(
    "connectReadPipe()/connectWritePipe() reject a closed fd with BadResource",
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      closeFd(r);
      closeFd(w);
      await assertRejects(
        () => loop.connectReadPipe(() => new Reader(), r),
        Deno.errors.BadResource,
      );
      await assertRejects(
        () => loop.connectWritePipe(() => new Writer(), w),
        Deno.errors.BadResource,
      );
    }),
  );
});

forOneLoop(["pipes"], (lc, test) => {
  test(
    "connectReadPipe()/connectWritePipe() reject bad arguments with TypeError/RangeError",
    onLoop(lc, async (loop) => {
      const bad = (pipe: unknown) => loop.connectReadPipe(() => new Reader(), pipe as number);
      await assertRejects(() => bad("3"), TypeError, "pipe");
      await assertRejects(() => bad(1.5), TypeError);
      await assertRejects(() => bad(null), TypeError);
      await assertRejects(() => bad(undefined), TypeError);
      await assertRejects(() => bad({ fileno: () => "7" }), TypeError);
      await assertRejects(() => bad({ fileno: () => -2 }), RangeError);
      await assertRejects(() => bad(-1), RangeError);
      await assertRejects(
        () => loop.connectWritePipe(() => new Writer(), -5),
        RangeError,
      );
      const [r, w] = makePipe();
      try {
        await assertRejects(
          () => loop.connectReadPipe(42 as unknown as () => Reader, r),
          TypeError,
          "protocolFactory",
        );
        assert(isOpenFd(r));
      } finally {
        closeFd(r);
        closeFd(w);
      }
    }),
  );
});

forOneLoop(["pipes"], (lc, test) => {
  test(
    "connectReadPipe() makes a blocking fd nonblocking",
    onLoop(lc, async (loop) => {
      const [r, w] = makePipe();
      setNonBlocking(r, false);
      const [transport, reader] = await loop.connectReadPipe(() => new Reader(), r);
      assert(isNonBlocking(r));
      transport.close();
      await reader.lost.promise;
      closeFd(w);
    }),
  );
});

forOneLoop(["pipes"], (lc, test) => {
  test(
    "UnixWritePipeTransport: an error thrown by the protocol's pauseWriting() reaches the exception handler",
    onLoop(lc, async (loop) => {
      const seen = recordExceptions(loop);
      const [r, w] = makePipe();
      const [transport, writer] = await loop.connectWritePipe(() => {
        const p = new Writer();
        p.pauseWriting = () => {
          throw new Error("boom");
        };
        return p;
      }, w);
      transport.write(BIG_DATA.subarray(0, MiB));
      assertEquals(seen.length, 1);
      assertEquals(seen[0].message, "protocol.pauseWriting() failed");
      // Drain: read everything, then the close completes.
      transport.close();
      const buf = new Uint8Array(65536);
      let total = 0;
      while (total < MiB) {
        const n = readFd(r, buf);
        if (n > 0) total += n;
        else await tick(loop);
      }
      assertEquals(await writer.lost.promise, null);
      closeFd(r);
    }),
  );
});
