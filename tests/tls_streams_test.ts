/**
 * TLS through the streams API (issue 14): `openConnection`/`startServer`
 * with `ssl`, and `StreamWriter.startTls()` on both sides of a plain
 * connection (STARTTLS). No fd or OpenSSL object may leak.
 *
 * @module
 */
import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import {
  openConnection,
  type SSLObject,
  SSLProtocolTransport,
  startServer,
  type StreamReader,
  type StreamWriter,
} from "../mod.ts";
import { liveOpenSslObjects } from "../ffi/openssl/mod.ts";
import { forOneLoop, type LoopCase, type TestLoop } from "./_loops.ts";
import { onLoop, portOf } from "./_stream_helpers.ts";
import { testCerts, warmOpenSsl } from "./_tls_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const certs = await testCerts();
await warmOpenSsl();

function onTlsLoop(lc: LoopCase, fn: (loop: TestLoop) => Promise<void>): () => Promise<void> {
  return async () => {
    await onLoop(lc, (loop) => fn(loop))();
    assertEquals(liveOpenSslObjects(), { contexts: 0, sessions: 0, callbacks: 0 });
  };
}

async function line(reader: StreamReader): Promise<string> {
  return dec.decode(await reader.readline());
}

forOneLoop([], (lc, test) => {
  test(
    "TLS streams: openConnection/startServer with ssl echo lines",
    onTlsLoop(lc, async () => {
      const server = await startServer(async (reader, writer) => {
        for (;;) {
          const l = await reader.readline();
          if (l.byteLength === 0) break;
          writer.write(l);
          await writer.drain();
        }
        writer.close();
        await writer.waitClosed();
      }, { host: "127.0.0.1", port: 0, ssl: { cert: certs.cert, key: certs.key } });
      const [reader, writer] = await openConnection({
        host: "localhost",
        port: portOf(server),
        ssl: { caCerts: [certs.ca] },
      });
      assertInstanceOf(writer.transport, SSLProtocolTransport);
      assertEquals((writer.getExtraInfo("sslObject") as SSLObject).version(), "TLSv1.3");
      writer.write(enc.encode("one\n"));
      assertEquals(await line(reader), "one\n");
      writer.write(enc.encode("two\n"));
      assertEquals(await line(reader), "two\n");
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    }),
  );

  test(
    "TLS streams: StreamWriter.startTls() upgrades both sides after a STARTTLS line",
    onTlsLoop(lc, async () => {
      let serverSide: StreamWriter | undefined;
      const done = Promise.withResolvers<void>();
      const server = await startServer(async (reader, writer) => {
        try {
          assertEquals(await line(reader), "STARTTLS\n");
          writer.write(enc.encode("GO\n"));
          await writer.startTls({ cert: certs.cert, key: certs.key });
          serverSide = writer;
          const l = await reader.readline();
          writer.write(enc.encode(`secure ${dec.decode(l)}`));
          await writer.drain();
          writer.close();
          await writer.waitClosed();
          done.resolve();
        } catch (e) {
          done.reject(e);
        }
      }, { host: "127.0.0.1", port: 0 });
      const [reader, writer] = await openConnection({ host: "127.0.0.1", port: portOf(server) });
      writer.write(enc.encode("STARTTLS\n"));
      assertEquals(await line(reader), "GO\n");
      await writer.startTls({ caCerts: [certs.ca] }, { serverHostname: "localhost" });
      assertInstanceOf(writer.transport, SSLProtocolTransport);
      assertEquals((writer.getExtraInfo("sslObject") as SSLObject).serverSide, false);
      writer.write(enc.encode("hello\n"));
      assertEquals(await line(reader), "secure hello\n");
      assertEquals(await reader.read(), new Uint8Array(0)); // close_notify: a clean EOF
      await done.promise;
      assertEquals((serverSide!.getExtraInfo("sslObject") as SSLObject).serverSide, true);
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    }),
  );

  test(
    "TLS streams: a refused certificate rejects openConnection() with the reason",
    onTlsLoop(lc, async () => {
      const server = await startServer((_r, w) => w.close(), {
        host: "127.0.0.1",
        port: 0,
        ssl: { cert: certs.expired, key: Deno.readTextFileSync(`${certs.dir}/expired.key`) },
      });
      await assertRejects(
        () =>
          openConnection({ host: "localhost", port: portOf(server), ssl: { caCerts: [certs.ca] } }),
        Deno.errors.InvalidData,
        "certificate has expired",
      );
      server.close();
      await server.waitClosed();
    }),
  );
});
