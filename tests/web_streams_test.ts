/**
 * The Web stream views of streams (`reader.readable`, `writer.writable`)
 * over real loopback sockets, on every selector: pipeTo, TextDecoderStream,
 * Response, BYOB reads, and backpressure that reaches the socket.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { openConnection, startServer, StreamReader } from "../streams/mod.ts";
import { forEachLoop } from "./_loops.ts";
import { MAX_READ_SIZE } from "../loop/selector/socket_transport.ts";
import { onLoop, pattern, portOf, sameBytes, tick, until } from "./_stream_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);

/** How many bytes `reader` buffers (from its description). */
function buffered(reader: StreamReader): number {
  return Number(/ (\d+) bytes/.exec(String(reader))?.[1] ?? 0);
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("StreamReader.readable without a transport: chunks, then close at EOF", async () => {
  const r = new StreamReader();
  const fedChunk = b("abc");
  r.feedData(fedChunk);
  r.feedData(b("def"));
  r.feedEof();
  const got: string[] = [];
  for await (const chunk of r.readable) got.push(dec.decode(chunk));
  assertEquals(got, ["abc", "def"]); // one chunk per pull, no joining
});

Deno.test("StreamReader.readable copies chunks that do not own their buffer", async () => {
  const r = new StreamReader();
  const backing = b("xxhelloxx");
  r.feedData(backing.subarray(2, 7));
  r.feedEof();
  assertEquals(await new Response(r.readable).text(), "hello");
  assertEquals(dec.decode(backing), "xxhelloxx"); // not transferred away
});

Deno.test("StreamReader.readable with a BYOB reader fills the given views", async () => {
  const r = new StreamReader();
  r.feedData(b("0123"));
  r.feedData(b("456789"));
  r.feedEof();
  const byob = r.readable.getReader({ mode: "byob" });
  let res = await byob.read(new Uint8Array(7));
  assertEquals(dec.decode(res.value), "0123456"); // across chunks
  res = await byob.read(new Uint8Array(7));
  assertEquals(dec.decode(res.value), "789");
  res = await byob.read(new Uint8Array(7));
  assert(res.done);
});

Deno.test("StreamReader.readable errors with the reader's exception", async () => {
  const r = new StreamReader();
  const reading = new Response(r.readable).text();
  r.setException(new Deno.errors.ConnectionReset("reset"));
  await assertRejects(() => reading, Deno.errors.ConnectionReset);
});

forEachLoop([], (lc, test) => {
  const L = `web streams (${lc.tag})`;

  test(
    `${L}: reader.readable piped through a TextDecoderStream`,
    onLoop(lc, async () => {
      const text = "héllo wörld — ünïcode ✓\n".repeat(2000);
      const bytes = b(text);
      await using server = await startServer(async (_reader, writer) => {
        // Odd-sized pieces split multi-byte characters between chunks.
        for (let off = 0; off < bytes.byteLength; off += 777) {
          writer.write(bytes.subarray(off, off + 777));
          await writer.drain();
        }
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      let got = "";
      await reader.readable.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (chunk) => void (got += chunk) }),
      );
      assertEquals(got, text);
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: new Response(reader.readable).text()`,
    onLoop(lc, async () => {
      await using server = await startServer(async (_reader, writer) => {
        writer.write(b("HTTP-ish body\n"));
        await writer.drain();
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      assertEquals(await new Response(reader.readable).text(), "HTTP-ish body\n");
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: a ReadableStream piped to writer.writable; close() sends EOF, the reply still arrives`,
    onLoop(lc, async () => {
      const data = pattern(4 * 1024 * 1024, 5);
      await using server = await startServer(async (reader, writer) => {
        const all = await reader.read(-1);
        writer.write(b(sameBytes(all, data) ?? "same"));
        await writer.drain();
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const chunks = function* () {
        for (let off = 0; off < data.byteLength; off += 65536) {
          yield data.slice(off, off + 65536);
        }
      };
      await ReadableStream.from(chunks()).pipeTo(writer.writable);
      assertEquals(await new Response(reader.readable).text(), "same");
      // Both directions ended, so the connection closed by itself.
      await writer.waitClosed();
      assert(writer.isClosing());
    }),
  );

  test(
    `${L}: echo server with reader.readable.pipeTo(writer.writable), 8 MiB byte for byte`,
    onLoop(lc, async () => {
      await using server = await startServer(async (reader, writer) => {
        await reader.readable.pipeTo(writer.writable);
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const data = pattern(8 * 1024 * 1024, 11);
      const sending = ReadableStream.from([data.subarray(0, 3_000_000), data.subarray(3_000_000)])
        .pipeTo(writer.writable);
      const got = await collect(reader.readable);
      await sending;
      assertEquals(sameBytes(got, data), null);
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: a consumer that stops pulling pauses the socket reads; resuming gets every byte`,
    onLoop(lc, async (loop) => {
      const data = pattern(8 * 1024 * 1024, 2);
      let sent = false;
      await using server = await startServer(async (_reader, writer) => {
        writer.write(data);
        await writer.drain();
        sent = true;
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({
        host: "127.0.0.1",
        port: portOf(server),
        limit: 16 * 1024,
      });
      const rs = reader.readable.getReader();
      const first = await rs.read();
      assert(!first.done);
      // Nobody pulls: the reader's buffer passes 2 * limit and the transport stops reading.
      const t = writer.transport as unknown as { isReading(): boolean };
      await until(loop, () => !t.isReading());
      // Paused: the buffer stays bounded (2 * limit plus the read that crossed it) and still.
      const held = buffered(reader);
      assert(held > 2 * 16 * 1024 && held <= 2 * 16 * 1024 + MAX_READ_SIZE, `${held}`);
      for (let i = 0; i < 10; i++) await tick(loop);
      assertEquals(buffered(reader), held);
      const parts = [first.value];
      for (;;) {
        const { done, value } = await rs.read();
        if (done) break;
        parts.push(value);
      }
      assertEquals(sameBytes(await collect(ReadableStream.from(parts)), data), null);
      assert(sent);
      writer.close();
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: cancelling reader.readable closes the connection`,
    onLoop(lc, async () => {
      const peerEof = Promise.withResolvers<number>();
      await using server = await startServer(async (reader, writer) => {
        writer.write(b("hello"));
        peerEof.resolve((await reader.read()).byteLength);
        writer.close();
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const rs = reader.readable.getReader();
      assertEquals(dec.decode((await rs.read()).value), "hello");
      await rs.cancel("done");
      assert(writer.isClosing());
      assertEquals(await peerEof.promise, 0);
      await writer.waitClosed();
    }),
  );

  test(
    `${L}: aborting writer.writable aborts the connection`,
    onLoop(lc, async () => {
      const peer = Promise.withResolvers<number>();
      await using server = await startServer(async (reader, writer) => {
        try {
          peer.resolve((await reader.read(-1)).byteLength);
        } catch (e) {
          peer.resolve(-1);
          throw e;
        } finally {
          writer.close();
        }
      }, { host: "127.0.0.1", port: 0 });
      const [, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      const w = writer.writable.getWriter();
      await w.write(b("some"));
      await w.abort(new Error("stop"));
      assert(writer.isClosing());
      await writer.waitClosed();
      assert((await peer.promise) >= 0);
    }),
  );
});
