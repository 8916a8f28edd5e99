/**
 * Streams over real loopback sockets, on every selector: the reading
 * methods with asyncio's semantics, drain() backpressure, half-close, unix
 * paths, cancellation, and CPython's asyncio as a peer.
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { CancelledError, IncompleteReadError, LimitOverrunError } from "../mod.ts";
import type { AbstractServer, SelectorEventLoop } from "../mod.ts";
import { newEventLoop, setEventLoop } from "../policy.ts";
import {
  DEFAULT_LIMIT,
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
  StreamReader,
  StreamReaderProtocol,
  type StreamWriter,
} from "../streams/mod.ts";
import { wineVersion } from "../ffi/windows/ntdll.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop } from "./_loops.ts";
import { onLoop, pattern, portOf, sameBytes, tick, until } from "./_stream_helpers.ts";

const enc = new TextEncoder();
const UNDER_WINE = Deno.build.os === "windows" && wineVersion() !== null;
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);
const s = (u: Uint8Array): string => dec.decode(u);

/** A reader fed `chunks` exactly as given, then EOF (if `eof`). */
function fed(chunks: (string | Uint8Array)[], eof = true, limit?: number): StreamReader {
  const r = new StreamReader({ limit });
  for (const c of chunks) r.feedData(typeof c === "string" ? b(c) : c);
  if (eof) r.feedEof();
  return r;
}

/** How many bytes `reader` buffers (from its description). */
function buffered(reader: StreamReader): number {
  return Number(/ (\d+) bytes/.exec(String(reader))?.[1] ?? 0);
}

async function lineEchoServer(): Promise<AbstractServer> {
  return await startServer(async (reader, writer) => {
    for await (const line of reader) {
      writer.write(line);
      await writer.drain();
    }
    writer.close();
  }, { host: "127.0.0.1", port: 0 });
}

// ---- StreamReader on its own (exact chunk boundaries) -----------------------------------------

Deno.test("StreamReader.readuntil() finds a multi-byte separator split over three chunks", async () => {
  const r = fed(["head\r", "\n", "\r", "\nbody"]);
  assertEquals(s(await r.readuntil("\r\n\r\n")), "head\r\n\r\n");
  assertEquals(s(await r.read()), "body");
});

Deno.test("StreamReader.readuntil() with several separators returns the shortest result", async () => {
  const r = fed(["abc", "--xyz", "==", "tail"]);
  // "==" ends at 10, "--" ends at 5: the earliest end wins.
  assertEquals(s(await r.readuntil(["==", b("--")])), "abc--");
  assertEquals(s(await r.readuntil(["xyz==", "=="])), "xyz==");
  assertEquals(s(await r.read()), "tail");
});

Deno.test("StreamReader.readuntil() refuses bad separators", async () => {
  const r = fed(["x\n"]);
  await assertRejects(() => r.readuntil([]), RangeError, "at least one element");
  await assertRejects(() => r.readuntil(""), RangeError, "at least one-byte");
  // deno-lint-ignore no-explicit-any
  await assertRejects(() => r.readuntil(42 as any), TypeError);
});

Deno.test("StreamReader.readuntil() over the limit: LimitOverrunError, buffer kept", async () => {
  const r = fed(["0123456789", "abcdef"], false, 8);
  const e = await assertRejects(() => r.readuntil("\n"), LimitOverrunError);
  assertEquals(e.message, "Separator is not found, and chunk exceed the limit");
  assertEquals(e.consumed, 16);
  assertEquals(s(await r.read(100)), "0123456789abcdef"); // nothing was consumed
  // Found, but too far: consumed is the separator's position.
  const r2 = fed(["0123456789\nrest"], true, 8);
  const e2 = await assertRejects(() => r2.readuntil("\n"), LimitOverrunError);
  assertEquals(e2.message, "Separator is found, but chunk is longer than limit");
  assertEquals(e2.consumed, 10);
  assertEquals(s(await r2.read()), "0123456789\nrest");
});

Deno.test("StreamReader.readline() over the limit: RangeError, the long line dropped", async () => {
  const r = fed(["0123456789", "\nnext\n"], true, 4);
  const e = await assertRejects(() => r.readline(), RangeError);
  assertInstanceOf(e.cause, LimitOverrunError);
  assertEquals(s(await r.readline()), "next\n");
  // Not found: the whole buffer is dropped (asyncio's rule).
  const r2 = fed(["0123456789"], false, 4);
  await assertRejects(() => r2.readline(), RangeError);
  r2.feedData(b("ok\n"));
  assertEquals(s(await r2.readline()), "ok\n");
});

Deno.test("StreamReader.readline() at EOF returns the partial line, then empty", async () => {
  const r = fed(["a\nb"]);
  assertEquals(s(await r.readline()), "a\n");
  assertEquals(s(await r.readline()), "b");
  assertEquals((await r.readline()).byteLength, 0);
  assert(r.atEof());
});

Deno.test("StreamReader.readuntil() at EOF: IncompleteReadError with the rest, buffer emptied", async () => {
  const r = fed(["abc\r"]);
  const e = await assertRejects(() => r.readuntil("\r\n"), IncompleteReadError);
  assertEquals(s(e.partial), "abc\r");
  assertEquals(e.expected, null);
  assert(r.atEof());
});

Deno.test("StreamReader.read() serves from one chunk without joining, and across chunks", async () => {
  const whole = b("abcdef");
  const r = fed([whole, "gh"]);
  assertStrictEquals(await r.read(6), whole); // the chunk itself
  const r2 = fed(["abcdef", "gh"]);
  assertEquals(s(await r2.read(3)), "abc");
  assertEquals(s(await r2.read(100)), "defgh"); // up to n across chunks, as asyncio
  assertEquals((await r2.read(0)).byteLength, 0);
  await assertRejects(() => r2.read(1.5), TypeError);
});

Deno.test("StreamReader.readexactly() checks n", async () => {
  const r = fed(["abc"]);
  await assertRejects(() => r.readexactly(-1), RangeError, "less than zero");
  assertEquals((await r.readexactly(0)).byteLength, 0);
  assertEquals(s(await r.readexactly(2)), "ab");
});

Deno.test("StreamReader: exception(), setException() wakes a waiting read", async () => {
  const r = new StreamReader();
  assertEquals(r.exception(), null);
  const pending = r.readline();
  r.setException(new Deno.errors.ConnectionReset("gone"));
  await assertRejects(() => pending, Deno.errors.ConnectionReset, "gone");
  await assertRejects(() => r.read(1), Deno.errors.ConnectionReset);
});

Deno.test("StreamReader: a second concurrent read is refused", async () => {
  const r = new StreamReader();
  const first = r.read(1);
  await assertRejects(() => r.readline(), Error, "already waiting for incoming data");
  r.feedData(b("x"));
  assertEquals(s(await first), "x");
});

Deno.test("StreamReader: bad limits and feedData after feedEof throw", () => {
  assertThrows(() => new StreamReader({ limit: 0 }), RangeError, "Limit cannot be <= 0");
  // deno-lint-ignore no-explicit-any
  assertThrows(() => new StreamReader({ limit: "1" as any }), TypeError);
  assertEquals(new StreamReader().limit, DEFAULT_LIMIT);
  const r = fed([]);
  assertThrows(() => r.feedData(b("x")), Error, "feedData after feedEof");
});

Deno.test("StreamReader: pauses the transport above 2 * limit, resumes at <= limit", async () => {
  const events: string[] = [];
  const r = new StreamReader({ limit: 4 });
  r.setTransport({
    pauseReading: () => void events.push("pause"),
    resumeReading: () => void events.push("resume"),
    close: () => void events.push("close"),
  });
  r.feedData(b("12345678"));
  assertEquals(events, []); // 8 is not above 2 * 4
  r.feedData(b("9"));
  assertEquals(events, ["pause"]);
  await r.read(4); // 5 left: still above the limit
  assertEquals(events, ["pause"]);
  await r.read(1);
  assertEquals(events, ["pause", "resume"]);
});

Deno.test("StreamReader: a read that must wait resumes a paused transport", async () => {
  const events: string[] = [];
  const r = new StreamReader({ limit: 2 });
  r.setTransport({
    pauseReading: () => void events.push("pause"),
    resumeReading: () => void events.push("resume"),
    close: () => {},
  });
  r.feedData(b("abcdefg"));
  const p = r.readexactly(10); // needs more than the paused buffer holds
  assertEquals(events, ["pause", "resume"]);
  r.feedData(b("hij"));
  assertEquals(s(await p), "abcdefghij");
});

Deno.test("StreamReader: an aborted readline rejects with CancelledError, data stays", async () => {
  const r = new StreamReader();
  r.feedData(b("par"));
  const ac = new AbortController();
  const pending = r.readline({ signal: ac.signal });
  ac.abort();
  await assertRejects(() => pending, CancelledError);
  r.feedData(b("tial\n"));
  assertEquals(s(await r.readline()), "partial\n");
  const ac2 = new AbortController();
  ac2.abort();
  await assertRejects(() => r.read(1, { signal: ac2.signal }), CancelledError);
});

// ---- Over real sockets, on every selector -------------------------------------------------------

forEachLoop([], (lc, test) => {
  const L = `streams (${lc.tag})`;

  test(
    `${L}: startServer + openConnection round-trip lines`,
    onLoop(lc, async () => {
      await using server = await lineEchoServer();
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const lines = ["hello\n", "wörld\n", "\n", "x".repeat(10000) + "\n"];
      for (const line of lines) {
        writer.write(b(line));
        await writer.drain();
        assertEquals(s(await reader.readline()), line);
      }
      writer.writelines([b("a\n"), b("b\n")]);
      assertEquals(s(await reader.readline()) + s(await reader.readline()), "a\nb\n");
      assert(writer.canWriteEof());
      writer.writeEof();
      assertEquals((await reader.read()).byteLength, 0); // the server closed after our EOF
      assert(reader.atEof());
      writer.close();
      assert(writer.isClosing());
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: 16 MiB echoed byte for byte, written with drain()`,
    onLoop(lc, async () => {
      await using server = await startServer(async (reader, writer) => {
        for (;;) {
          const data = await reader.read(65536);
          if (data.byteLength === 0) break;
          writer.write(data);
          await writer.drain();
        }
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const data = pattern(16 * 1024 * 1024, 3);
      const sending = (async () => {
        for (let off = 0; off < data.byteLength; off += 100_000) {
          writer.write(data.subarray(off, off + 100_000));
          await writer.drain();
        }
        writer.writeEof();
      })();
      const got = await reader.readexactly(data.byteLength);
      await sending;
      assertEquals(sameBytes(got, data), null);
      assertEquals((await reader.read()).byteLength, 0);
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: readline/readuntil with separators sent one byte at a time`,
    onLoop(lc, async (loop) => {
      await using server = await startServer(async (_reader, writer) => {
        for (const byte of b("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody\nline2\n")) {
          writer.write(new Uint8Array([byte]));
          await writer.drain();
          await tick(loop); // separate segments, so the separators arrive split
        }
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      assertEquals(s(await reader.readuntil("\r\n")), "GET / HTTP/1.1\r\n");
      assertEquals(s(await reader.readuntil(["\r\n\r\n", "\n\n"])), "Host: x\r\n\r\n");
      assertEquals(s(await reader.readline()), "body\n");
      assertEquals(s(await reader.readline()), "line2\n");
      assertEquals(s(await reader.readline()), "");
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: readexactly at EOF throws IncompleteReadError with the partial data`,
    onLoop(lc, async () => {
      await using server = await startServer((_reader, writer) => {
        writer.write(b("12345"));
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const e = await assertRejects(() => reader.readexactly(10), IncompleteReadError);
      assertEquals(s(e.partial), "12345");
      assertEquals(e.expected, 10);
      assertEquals(e.message, "5 bytes read on a total of 10 expected bytes");
      assert(reader.atEof());
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: readuntil over the limit throws LimitOverrunError and keeps the data`,
    onLoop(lc, async () => {
      const long = "y".repeat(3000);
      await using server = await startServer(async (_reader, writer) => {
        writer.write(b(long + "\nshort\n"));
        await writer.drain();
        writer.close();
      }, { host: "127.0.0.1", port: 0, limit: 1024 });
      const [reader, writer] = await openConnection({
        host: "127.0.0.1",
        port: portOf(server),
        limit: 1024,
      });
      const e = await assertRejects(() => reader.readuntil("\n"), LimitOverrunError);
      assert(e.consumed > 1024);
      // The data is still there: it can be read past the limit another way.
      assertEquals(s(await reader.readexactly(3000)), long);
      assertEquals(s(await reader.readline()), "\n");
      assertEquals(s(await reader.readline()), "short\n");
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: read(-1) reads to EOF; read(0) returns empty; lines by async iteration`,
    onLoop(lc, async () => {
      const text = Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join("");
      await using server = await startServer(async (_reader, writer) => {
        writer.write(b(text));
        await writer.drain();
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const port = portOf(server);
      {
        const [reader, writer] = await openConnection({ host: "127.0.0.1", port });
        assertEquals((await reader.read(0)).byteLength, 0);
        assertEquals(s(await reader.read(-1)), text);
        assertEquals((await reader.read()).byteLength, 0);
        writer.close();
        await writer.waitClosed();
      }
      {
        const [reader, writer] = await openConnection({ host: "127.0.0.1", port });
        const lines: string[] = [];
        for await (const line of reader) lines.push(s(line));
        assertEquals(lines.join(""), text);
        assertEquals(lines.length, 200);
        writer.close();
        await writer.waitClosed();
      }
    }),
  );

  test(
    `${L}: drain() stays pending until the peer reads`,
    onLoop(lc, async (loop) => {
      const order: string[] = [];
      const startReading = Promise.withResolvers<void>();
      let serverRead = 0;
      await using server = await startServer(async (reader, writer) => {
        await startReading.promise; // not reading: our send buffer and the kernel's fill up
        order.push("peer reads");
        for (;;) {
          const d = await reader.read(1 << 20);
          if (d.byteLength === 0) break;
          serverRead += d.byteLength;
        }
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      try {
        // Far more than the kernel buffers take. Windows never reports a partial nonblocking
        // send: it takes the whole of a send that finds room in the socket's buffer (and sends
        // the rest in the background), and refuses one only when the buffer is full. So write
        // until something stays in the transport's buffer (at once on Unix).
        const chunk = pattern(32 * 1024 * 1024);
        let written = 0;
        for (let i = 0; i < 4 && writer.transport.getWriteBufferSize() === 0; i++) {
          writer.write(chunk);
          written += chunk.byteLength;
        }
        assert(writer.transport.getWriteBufferSize() > 0);
        let drained = false;
        const draining = writer.drain().then(() => {
          drained = true;
          order.push("drained");
        });
        // Let the loop run a while: the kernel buffers fill, and nothing more can leave.
        for (let i = 0; i < 20; i++) await tick(loop);
        assert(!drained, "drain() resolved although the peer read nothing");
        assertEquals(serverRead, 0);
        startReading.resolve();
        await draining;
        assertEquals(order, ["peer reads", "drained"]);
        assert(serverRead > 0);
        writer.writeEof();
        assertEquals((await reader.read()).byteLength, 0);
        assertEquals(serverRead, written);
      } catch (e) {
        // Not a hang: let the peer go (it waits for startReading, then for the end of stream).
        startReading.resolve();
        writer.transport.abort();
        throw e;
      }
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: drain() after the connection is lost rejects`,
    onLoop(lc, async () => {
      await using server = await startServer((_r, writer) => writer.close(), {
        host: "127.0.0.1",
        port: 0,
      });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      assertEquals((await reader.read()).byteLength, 0);
      writer.close();
      await writer.waitClosed();
      await assertRejects(() => writer.drain(), Deno.errors.ConnectionReset, "Connection lost");
    }),
  );

  test(
    `${L}: a reset connection: drain() and reads reject with the connection's error`,
    onLoop(lc, async (loop) => {
      await using server = await startServer(async (reader, writer) => {
        await reader.readexactly(1);
        // Stop reading (our buffer is full) so unread bytes sit in the kernel: abort() resets.
        const t = writer.transport as unknown as { isReading(): boolean };
        await until(loop, () => !t.isReading());
        for (let i = 0; i < 5; i++) await tick(loop);
        writer.transport.abort();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      // Until bytes stay in the transport's buffer (so that drain() waits): at once on Unix; on
      // Windows, whose nonblocking send takes the whole of a send that finds room, next time.
      const chunk = pattern(32 * 1024 * 1024);
      for (let i = 0; i < 4 && writer.transport.getWriteBufferSize() === 0; i++) {
        writer.write(chunk);
      }
      assert(writer.transport.getWriteBufferSize() > 0);
      const e = await assertRejects(() => writer.drain());
      assert(
        e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe,
        String(e),
      );
      assertStrictEquals(reader.exception(), e);
      await assertRejects(() => reader.read(1), Error, e.message);
      await assertRejects(() => writer.waitClosed(), Error, e.message);
      assert(writer.isClosing());
    }),
  );

  test(
    `${L}: waitClosed() resolves after close(); getExtraInfo and transport`,
    onLoop(lc, async () => {
      let serverWriter: StreamWriter | undefined;
      const gone = Promise.withResolvers<void>();
      await using server = await startServer(async (reader, writer) => {
        serverWriter = writer;
        assertEquals((await reader.read()).byteLength, 0);
        writer.close();
        await writer.waitClosed();
        gone.resolve();
      }, { host: "127.0.0.1", port: 0 });
      const [, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const peer = writer.getExtraInfo("peername") as { port: number; hostname: string };
      assertEquals(peer.port, portOf(server));
      assertStrictEquals(writer.getExtraInfo("nope", 7), 7);
      assertStrictEquals(writer.getExtraInfo("socket"), writer.transport.getExtraInfo("socket"));
      assert(!writer.isClosing());
      writer.close();
      assert(writer.isClosing());
      await writer.waitClosed();
      await gone.promise;
      assert(serverWriter!.isClosing());
    }),
  );

  test(
    `${L}: writeEof() half-closes: the peer reads to EOF and still answers`,
    onLoop(lc, async () => {
      await using server = await startServer(async (reader, writer) => {
        const all = await reader.read(-1);
        writer.write(b(`got ${all.byteLength} bytes`));
        await writer.drain();
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      writer.write(pattern(300_000));
      writer.writeEof();
      assertThrows(() => writer.write(b("late")), Error, "writeEof");
      assertEquals(s(await reader.read()), "got 300000 bytes");
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: cancelling a pending readline via signal leaves the data for the next read`,
    onLoop(lc, async (loop) => {
      const send = Promise.withResolvers<void>();
      await using server = await startServer(async (_reader, writer) => {
        writer.write(b("partial"));
        await send.promise;
        writer.write(b(" line\n"));
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const ac = new AbortController();
      const pending = reader.readline({ signal: ac.signal });
      await until(loop, () => buffered(reader) === 7); // "partial" arrived, no newline yet
      ac.abort();
      await assertRejects(() => pending, CancelledError);
      send.resolve();
      assertEquals(s(await reader.readline()), "partial line\n");
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: a client callback that throws is reported and its connection closed`,
    onLoop(lc, async (loop) => {
      const reported: unknown[] = [];
      loop.setExceptionHandler((_l, ctx) => void reported.push(ctx.message, ctx.exception));
      const boom = new Error("boom");
      await using server = await startServer(async () => {
        await Promise.resolve();
        throw boom;
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      assertEquals((await reader.read()).byteLength, 0);
      assertEquals(reported, ["Unhandled exception in client_connected_cb", boom]);
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: unix streams over a path`,
    ["unixSockets"],
    onLoop(lc, async () => {
      const dir = await Deno.makeTempDir();
      const path = `${dir}/s.sock`;
      try {
        await using _server = await startUnixServer(async (reader, writer) => {
          for await (const line of reader) writer.write(b(s(line).toUpperCase()));
          writer.close();
        }, path);
        const [reader, writer] = await openUnixConnection(path);
        writer.write(b("over unix\n"));
        assertEquals(s(await reader.readline()), "OVER UNIX\n");
        assertEquals(writer.getExtraInfo("peername"), { transport: "unix", path });
        writer.writeEof();
        assertEquals((await reader.read()).byteLength, 0);
        writer.close();
        await writer.waitClosed();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
  );

  test({
    name: `${L}: CPython's asyncio streams client talks to our startServer` +
      (UNDER_WINE ? " [the Wine environment has no CPython to run]" : ""),
    ignore: UNDER_WINE,
    fn: onLoop(lc, async () => {
      await using server = await lineEchoServer();
      const script = `
import asyncio, sys
async def main(port):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    out = []
    for i in range(100):
        w.write(f"line {i} \\u00e9\\n".encode())
        await w.drain()
        out.append((await r.readline()).decode())
    # 1 MB in lines of 50 kB (under the server's 64 KiB limit)
    big = b"".join(bytes((i * 7 + k) % 90 + 32 for i in range(50000)) + b"\\n" for k in range(20))
    w.write(big)
    await w.drain()
    ok_big = (await r.readexactly(len(big))) == big
    w.write_eof()
    rest = await r.read()
    w.close()
    await w.wait_closed()
    ok = all(out[i] == f"line {i} \\u00e9\\n" for i in range(100))
    print("OK" if ok and ok_big and rest == b"" else f"MISMATCH {out[:3]} {ok_big} {rest[:20]}")
asyncio.run(main(int(sys.argv[1])))
`;
      const out = await new Deno.Command("python3", {
        args: ["-c", script, String(portOf(server))],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(dec.decode(out.stderr), "");
      assertEquals(dec.decode(out.stdout).trim(), "OK");
    }),
  });
});

// ---- Finding the loop -----------------------------------------------------------------------

Deno.test("openConnection() outside a run uses the loop set with setEventLoop()", async () => {
  await assertNoFdLeak(async () => {
    const loop = newEventLoop() as SelectorEventLoop;
    setEventLoop(loop);
    try {
      // Called while no loop runs: the current loop is used, and runs the connection.
      const serving = startServer(async (reader, writer) => {
        writer.write(await reader.readline());
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const server = await loop.runUntilComplete(() => serving);
      const connecting = openConnection({ host: "127.0.0.1", port: portOf(server) });
      const [reader, writer] = await loop.runUntilComplete(() => connecting);
      writer.write(b("current loop\n"));
      assertEquals(s(await loop.runUntilComplete(() => reader.readline())), "current loop\n");
      writer.close();
      await loop.runUntilComplete(() => writer.waitClosed());
      server.close();
      await loop.runUntilComplete(() => server.waitClosed());
    } finally {
      setEventLoop(null);
      loop.close();
    }
  });
});

Deno.test("StreamReaderProtocol without a reader makes a write-only stream", () => {
  const p = new StreamReaderProtocol(null);
  p.dataReceived(b("ignored"));
  assertEquals(p.eofReceived(), true);
});
