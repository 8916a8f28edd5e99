/**
 * TLS between our own client and server (issue 14): the handshake, the
 * extra information, ALPN, SNI, versions, verification failures, flow
 * control with 16 MiB each way, startTls on both sides, unix sockets, and
 * faults (reset mid-handshake, handshake timeout, garbage, a close without
 * close_notify). Every test checks that no fd and no OpenSSL object leaked.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  type ExceptionContext,
  SHUT_WR,
  type Socket,
  SSLCertVerificationError,
  SSLContext,
  SSLError,
  type SSLObject,
  SSLProtocolTransport,
  type Transport,
} from "../mod.ts";
import { liveOpenSslObjects } from "../ffi/openssl/mod.ts";
import { forEachLoop, forOneLoop, type LoopCase, type TestLoop } from "./_loops.ts";
import { onLoop, pattern, portOf, Recorder, sameBytes, tick, until } from "./_stream_helpers.ts";
import { keyOf, testCerts, warmOpenSsl } from "./_tls_helpers.ts";
import { fuzzSeed, mulberry32 } from "./_fuzz.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const certs = await testCerts();
await warmOpenSsl();
const MiB = 1024 * 1024;

/** `onLoop`, and then no OpenSSL object may be alive. */
function onTlsLoop(lc: LoopCase, fn: (loop: TestLoop) => Promise<void>): () => Promise<void> {
  return async () => {
    await onLoop(lc, (loop) => fn(loop))();
    assertEquals(liveOpenSslObjects(), { contexts: 0, sessions: 0, callbacks: 0 });
  };
}

const serverSsl = (extra: Record<string, unknown> = {}) => ({
  cert: certs.cert,
  key: certs.key,
  ...extra,
});
const clientSsl = (extra: Record<string, unknown> = {}) => ({ caCerts: [certs.ca], ...extra });

/** Echoes what it gets. */
class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

async function close(t: Transport, p: Recorder): Promise<Error | null> {
  t.close();
  return await p.lost.promise;
}

forEachLoop([], (lc, test) => {
  test(
    `${lc.name}: a TLS echo between our client and our server, with the extra information`,
    onTlsLoop(lc, async (loop) => {
      const served: Echo[] = [];
      await using server = await loop.createServer(() => {
        const p = new Echo();
        served.push(p);
        return p;
      }, { host: "127.0.0.1", port: 0, ssl: serverSsl() });
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl(),
      });
      assertInstanceOf(t, SSLProtocolTransport);
      t.write(enc.encode("hello over TLS"));
      await until(loop, () => p.received >= 14);
      assertEquals(dec.decode(p.bytes()), "hello over TLS");
      const cert = t.getExtraInfo("peercert") as {
        subject: string[][][];
        subjectAltName: string[][];
      };
      assertEquals(cert.subject, [[["commonName", "localhost"]]]);
      assertEquals(cert.subjectAltName, [["DNS", "localhost"], ["IP Address", "127.0.0.1"]]);
      const cipher = t.getExtraInfo("cipher") as [string, string, number];
      assertEquals(cipher[1], "TLSv1.3");
      assert(cipher[2] >= 128);
      assertEquals(t.getExtraInfo("compression"), null);
      assertEquals(t.getExtraInfo("alpnProtocol"), null);
      const obj = t.getExtraInfo("sslObject") as SSLObject;
      assertEquals(obj.version(), "TLSv1.3");
      assertEquals(obj.serverSide, false);
      assertEquals(t.getExtraInfo("peername"), {
        transport: "tcp",
        hostname: "127.0.0.1",
        port: portOf(server),
      });
      assertEquals(t.canWriteEof(), false);
      assertThrows(() => t.writeEof(), Deno.errors.NotSupported, "half-close");
      // close(): close_notify both ways, a clean end on both sides.
      assertEquals(await close(t, p), null);
      await until(loop, () => served[0]?.events.includes("lost"));
      assertEquals(await served[0].lost.promise, null);
      assert(served[0].events.includes("eof"), `server events: ${served[0].events}`);
      // As asyncio: the peer's close_notify answering ours is reported as eofReceived().
      assertEquals(p.events, ["made", "data", "eof", "lost"]);
    }),
  );
});

forOneLoop([], (lc, test) => {
  test(
    "TLS: ALPN is negotiated by the server's preference; none in common gives null",
    onTlsLoop(lc, async (loop) => {
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl({ alpnProtocols: ["h2", "http/1.1"] }),
      });
      const port = portOf(server);
      const [t1, p1] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port,
        ssl: clientSsl({ alpnProtocols: ["http/1.1", "h2"] }),
      });
      assertEquals(t1.getExtraInfo("alpnProtocol"), "h2");
      await close(t1, p1);
      const [t2, p2] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port,
        ssl: clientSsl({ alpnProtocols: ["spdy/3"] }),
      });
      assertEquals(t2.getExtraInfo("alpnProtocol"), null);
      await close(t2, p2);
    }),
  );

  test(
    "TLS: the server sees the SNI name; an IP address is not sent as SNI",
    onTlsLoop(lc, async (loop) => {
      const names: (string | null)[] = [];
      class Sni extends Recorder {
        override connectionMade(t: Transport): void {
          super.connectionMade(t);
          names.push((t.getExtraInfo("sslObject") as SSLObject).serverName());
          t.close();
        }
      }
      await using server = await loop.createServer(() => new Sni(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      for (const host of ["localhost", "127.0.0.1"]) {
        const [t, p] = await loop.createConnection(() => new Recorder(), {
          host,
          port: portOf(server),
          ssl: clientSsl(),
        });
        assertEquals(
          (t.getExtraInfo("sslObject") as SSLObject).serverName(),
          host === "localhost" ? "localhost" : null,
        );
        await p.lost.promise;
      }
      // serverHostname replaces the host for SNI and the certificate check.
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: portOf(server),
        ssl: clientSsl(),
        serverHostname: "localhost",
      });
      await p.lost.promise;
      void t;
      assertEquals(names, ["localhost", null, "localhost"]);
    }),
  );

  test(
    "TLS: minVersion TLSv1.3 on both sides negotiates TLS 1.3",
    onTlsLoop(lc, async (loop) => {
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl({ minVersion: "TLSv1.3" }),
      });
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl({ minVersion: "TLSv1.3" }),
      });
      assertEquals((t.getExtraInfo("sslObject") as SSLObject).version(), "TLSv1.3");
      await close(t, p);
    }),
  );

  test(
    "TLS: untrusted, expired and wrong-host certificates are refused clearly; the server keeps serving",
    onTlsLoop(lc, async (loop) => {
      const handled: ExceptionContext[] = [];
      loop.setExceptionHandler((_l, ctx) => void handled.push(ctx));
      const cases: [string, string, string, string][] = [
        [
          "untrusted",
          certs.untrusted,
          keyOf(certs, "untrusted"),
          "unable to get local issuer certificate",
        ],
        ["expired", certs.expired, keyOf(certs, "expired"), "certificate has expired"],
        [
          "wrong",
          certs.wrong,
          keyOf(certs, "wrong"),
          "hostname mismatch, certificate is not valid for 'localhost'",
        ],
      ];
      for (const [name, cert, key, reason] of cases) {
        await using server = await loop.createServer(() => new Echo(), {
          host: "127.0.0.1",
          port: 0,
          ssl: { cert, key },
        });
        const e = await assertRejects(
          () =>
            loop.createConnection(() => new Recorder(), {
              host: "localhost",
              port: portOf(server),
              ssl: clientSsl(),
            }),
          SSLCertVerificationError,
        );
        assertStringIncludes(e.message, "certificate verify failed", name);
        assertStringIncludes(e.message, reason, name);
        assertEquals(e.verifyMessage?.startsWith(reason.split(",")[0]), true, name);
        assertInstanceOf(e, Deno.errors.InvalidData);
        // verify: false connects to the same server, and it still serves.
        const [t, p] = await loop.createConnection(() => new Recorder(), {
          host: "localhost",
          port: portOf(server),
          ssl: { verify: false },
        });
        t.write(enc.encode("x"));
        await until(loop, () => p.received === 1);
        await close(t, p);
      }
      assertEquals(handled, [], "TLS failures are the caller's news, not the handler's");
    }),
  );

  test(
    "TLS: ssl: true verifies against the system store (our test CA is not in it)",
    onTlsLoop(lc, async (loop) => {
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      const e = await assertRejects(
        () =>
          loop.createConnection(() => new Recorder(), {
            host: "localhost",
            port: portOf(server),
            ssl: true,
          }),
        SSLCertVerificationError,
      );
      assertStringIncludes(e.message, "unable to get local issuer certificate");
    }),
  );

  test(
    "TLS: 300 handshakes with ALPN in a row (the selection callback under optimized code), nothing leaks",
    onTlsLoop(lc, async (loop) => {
      using sctx = new SSLContext(serverSsl({ alpnProtocols: ["h2", "http/1.1"] }));
      using cctx = new SSLContext(clientSsl({ alpnProtocols: ["http/1.1"] }));
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: sctx,
      });
      for (let i = 0; i < 300; i++) {
        const [t, p] = await loop.createConnection(() => new Recorder(), {
          host: "localhost",
          port: portOf(server),
          ssl: cctx,
        });
        assertEquals(t.getExtraInfo("alpnProtocol"), "http/1.1");
        t.abort();
        await p.lost.promise;
      }
      server.close();
      server.abortClients();
    }),
  );

  test(
    "TLS: a server with clientCertificate: required verifies the client's certificate",
    onTlsLoop(lc, async (loop) => {
      const seen: unknown[] = [];
      class Who extends Echo {
        override connectionMade(t: Transport): void {
          super.connectionMade(t);
          seen.push((t.getExtraInfo("peercert") as { subject: unknown } | null)?.subject ?? null);
        }
      }
      const lost: (Error | null)[] = [];
      await using server = await loop.createServer(() => {
        const w = new Who();
        w.lost.promise.then((e) => lost.push(e));
        return w;
      }, {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl({ caCerts: [certs.ca], clientCertificate: "required" }),
      });
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl({ cert: certs.clientCert, key: keyOf(certs, "client") }),
      });
      t.write(enc.encode("me"));
      await until(loop, () => p.received === 2);
      assertEquals(seen, [[[["commonName", "aio client"]]]]);
      await close(t, p);
      // Without a certificate: TLS 1.3 finishes the client's handshake first, then the server's
      // alert ends the connection; either way it is an SSLError, and the server keeps serving.
      let failure: unknown;
      try {
        const [t2, p2] = await loop.createConnection(() => new Recorder(), {
          host: "localhost",
          port: portOf(server),
          ssl: clientSsl(),
        });
        t2.write(enc.encode("anonymous"));
        failure = await p2.lost.promise;
      } catch (e) {
        failure = e;
      }
      assertInstanceOf(failure, SSLError);
      assertStringIncludes((failure as Error).message, "certificate required");
      assertEquals(seen.length, 1, "the anonymous client never reached the protocol");
    }),
  );

  test(
    "TLS: one SSLContext serves many connections and frees its SSL_CTX on close()",
    onTlsLoop(lc, async (loop) => {
      const sctx = new SSLContext(serverSsl());
      const cctx = new SSLContext(clientSsl());
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: sctx,
      });
      const conns = await Promise.all(
        [1, 2, 3].map(() =>
          loop.createConnection(() => new Recorder(), {
            host: "localhost",
            port: portOf(server),
            ssl: cctx,
          })
        ),
      );
      assertEquals(liveOpenSslObjects().contexts, 2); // one per side, shared
      assertEquals(liveOpenSslObjects().sessions, 6);
      for (const [t, p] of conns) await close(t, p);
      cctx.close();
      server.close();
      await server.waitClosed();
      sctx.close();
      await until(loop, () => liveOpenSslObjects().sessions === 0);
      assertEquals(liveOpenSslObjects().contexts, 0);
      await assertRejects(
        () =>
          loop.createConnection(() => new Recorder(), { host: "localhost", port: 1, ssl: cctx }),
        Deno.errors.BadResource,
        "closed",
      );
    }),
  );

  test(
    "TLS: 16 MiB each way, byte-exact, with flow control on both sides",
    onTlsLoop(lc, async (loop) => {
      const N = 16 * MiB;
      const up = pattern(N, 1);
      const down = pattern(N, 2);
      /** Sends `data` in 64 KiB writes while not paused; records what it receives. */
      class Pump extends Recorder {
        #sent = 0;
        #paused = false;
        pauses = 0;
        constructor(readonly data: Uint8Array) {
          super();
        }
        override connectionMade(t: Transport): void {
          super.connectionMade(t);
          this.#pump();
        }
        override pauseWriting(): void {
          this.#paused = true;
          this.pauses++;
        }
        override resumeWriting(): void {
          this.#paused = false;
          this.#pump();
        }
        #pump(): void {
          while (!this.#paused && this.#sent < this.data.byteLength) {
            const end = Math.min(this.#sent + 65536, this.data.byteLength);
            this.transport.write(this.data.subarray(this.#sent, end));
            this.#sent = end;
          }
        }
      }
      let served: Pump | undefined;
      await using server = await loop.createServer(() => served = new Pump(down), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      const [t, p] = await loop.createConnection(() => new Pump(up), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl(),
      });
      await until(loop, () => p.received >= N && (served?.received ?? 0) >= N);
      assertEquals(sameBytes(p.bytes(), down), null);
      assertEquals(sameBytes(served!.bytes(), up), null);
      assert(p.pauses + served!.pauses > 0, "the writers were paused at least once");
      await close(t, p);
    }),
  );

  test(
    "TLS: pauseReading() on the TLS transport stops delivery until resumeReading()",
    onTlsLoop(lc, async (loop) => {
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl(),
      });
      t.pauseReading();
      assertEquals(t.isReading(), false);
      t.write(enc.encode("ping"));
      // Wait until the echo is back in the TLS layer's hands (its ciphertext arrived).
      for (let i = 0; i < 50; i++) await tick(loop, 1);
      assertEquals(p.received, 0);
      t.resumeReading();
      await until(loop, () => p.received === 4);
      assertEquals(t.getWriteBufferSize(), 0);
      t.setWriteBufferLimits({ high: 100 });
      assertEquals(t.getWriteBufferLimits(), { high: 100, low: 25 });
      await close(t, p);
    }),
  );

  test(
    "TLS: startTls() upgrades a plain connection on both sides (STARTTLS)",
    onTlsLoop(lc, async (loop) => {
      let serverTls: Promise<Transport> | undefined;
      class PlainServer extends Recorder {
        override dataReceived(data: Uint8Array): void {
          super.dataReceived(data);
          if (serverTls === undefined && dec.decode(this.bytes()) === "STARTTLS\n") {
            this.transport.write(enc.encode("OK\n"));
            serverTls = loop.startTls(this.transport, this, serverSsl(), { serverSide: true });
            this.chunks = [];
          } else if (serverTls !== undefined) {
            serverTls.then((t) => t.write(data)); // echo, now over TLS
          }
        }
      }
      await using server = await loop.createServer(() => new PlainServer(), {
        host: "127.0.0.1",
        port: 0,
      });
      const [plain, p] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: portOf(server),
      });
      plain.write(enc.encode("STARTTLS\n"));
      await until(loop, () => dec.decode(p.bytes()) === "OK\n");
      p.chunks = [];
      p.received = 0;
      const t = await loop.startTls(plain, p, clientSsl(), { serverHostname: "localhost" });
      assertInstanceOf(t, SSLProtocolTransport);
      assertEquals((t.getExtraInfo("sslObject") as SSLObject).version(), "TLSv1.3");
      assertEquals(((await serverTls!).getExtraInfo("sslObject") as SSLObject).serverSide, true);
      t.write(enc.encode("secret"));
      await until(loop, () => p.received === 6);
      assertEquals(dec.decode(p.bytes()), "secret");
      assertEquals(p.events.filter((e) => e === "made").length, 1, "connectionMade() ran once");
      await close(t, p);
      await assertRejects(
        () => loop.startTls(t, p, clientSsl(), { serverHostname: "localhost" }),
        TypeError,
        "already speaks TLS",
      );
    }),
  );

  test(
    "TLS: createUnixServer/createUnixConnection and connectAcceptedSocket with ssl",
    ["unixSockets"],
    onTlsLoop(lc, async (loop) => {
      const path = await Deno.makeTempFile({ prefix: "aio_tls_", suffix: ".sock" });
      await Deno.remove(path);
      {
        await using _server = await loop.createUnixServer(() => new Echo(), path, {
          ssl: serverSsl(),
        });
        await assertRejects(
          () => loop.createUnixConnection(() => new Recorder(), path, { ssl: clientSsl() }),
          TypeError,
          "serverHostname",
        );
        const [t, p] = await loop.createUnixConnection(() => new Recorder(), path, {
          ssl: clientSsl(),
          serverHostname: "localhost",
        });
        t.write(enc.encode("unix"));
        await until(loop, () => p.received === 4);
        await close(t, p);
      }
      // connectAcceptedSocket: the accepted socket is the server's side.
      const { Socket } = await import("../net/mod.ts");
      using listener = new Socket();
      listener.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
      listener.listen(1);
      listener.setBlocking(false);
      const port = (listener.getsockname() as { port: number }).port;
      const client = loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port,
        ssl: clientSsl(),
      });
      const [conn] = await loop.sockAccept(listener);
      const [st, sp] = await loop.connectAcceptedSocket(() => new Echo(), conn, {
        ssl: serverSsl(),
      });
      const [t, p] = await client;
      t.write(enc.encode("accepted"));
      await until(loop, () => p.received === 8);
      await close(t, p);
      await sp.lost.promise;
      void st;
    }),
  );

  test(
    "TLS: bad ssl options are refused before connecting",
    onTlsLoop(lc, async (loop) => {
      const opts = { host: "127.0.0.1", port: 1 };
      const f = () => new Recorder();
      await assertRejects(
        () => loop.createConnection(f, { ...opts, ssl: 42 as never }),
        TypeError,
        "ssl must be",
      );
      await assertRejects(
        () => loop.createConnection(f, { ...opts, serverHostname: "x" }),
        TypeError,
        "only meaningful with ssl",
      );
      await assertRejects(
        () => loop.createConnection(f, { ...opts, ssl: true, sslHandshakeTimeout: -1 }),
        RangeError,
        "sslHandshakeTimeout",
      );
      await assertRejects(
        () => loop.createServer(f, { ...opts, ssl: true }),
        TypeError,
        "cert and key",
      );
      await assertRejects(
        () => loop.createServer(f, { ...opts, ssl: { verify: false } }),
        TypeError,
        "cert and key",
      );
      await assertRejects(
        () => loop.createConnection(f, { ...opts, ssl: { caCerts: ["not a certificate"] } }),
        SSLError,
        "caCerts[0] holds no PEM certificate",
      );
      await assertRejects(
        () =>
          loop.createServer(f, { ...opts, ssl: { cert: certs.cert, key: keyOf(certs, "wrong") } }),
        SSLError,
        "key does not match",
      );
      const { Socket } = await import("../net/mod.ts");
      using unconnected = new Socket();
      await assertRejects(
        () => loop.createConnection(f, { sock: unconnected, ssl: clientSsl() }),
        TypeError,
        "serverHostname must be given",
      );
      assertThrows(
        () => new SSLContext({ minVersion: "TLSv1.0" as never }),
        RangeError,
        "minVersion",
      );
      assertThrows(() => new SSLContext({ cert: certs.cert }), TypeError, "together");
      assertThrows(() => new SSLContext({ alpnProtocols: [""] }), RangeError, "alpnProtocols[0]");
      const e = await assertRejects(
        () =>
          loop.createConnection(f, { ...opts, ssl: { libraryPath: "/nonexistent/libssl.so.3" } }),
        Deno.errors.NotSupported,
      );
      assertStringIncludes(e.message, "/nonexistent/libssl.so.3");
      assertStringIncludes(e.message, "Deno.connectTls");
      assertStringIncludes(e.message, Deno.build.os);
    }),
  );

  test(
    "TLS: random ssl options are refused with TypeError/RangeError/SSLError, never a crash (seeded)",
    onTlsLoop(lc, async (loop) => {
      const seed = fuzzSeed();
      const rnd = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const junk: unknown[] = [
        undefined,
        null,
        0,
        -1,
        1.5,
        NaN,
        "",
        "x",
        "\0",
        "-----BEGIN CERTIFICATE-----\nAAAA\n",
        certs.ca,
        certs.key,
        [],
        [""],
        ["h2"],
        [1],
        {},
        true,
        false,
        "a".repeat(300),
        ["a".repeat(300)],
        "TLSv1.2",
        "TLSv1.3",
        "required",
        "optional",
        "SSLv3",
        new Uint8Array(4),
        "/nonexistent.so",
      ];
      const keys = [
        "caCerts",
        "cert",
        "key",
        "verify",
        "serverName",
        "alpnProtocols",
        "minVersion",
        "libraryPath",
        "clientCertificate",
      ];
      for (let i = 0; i < 200; i++) {
        const opts: Record<string, unknown> = {};
        for (const k of keys) if (rnd() < 0.4) opts[k] = pick(junk);
        const side = rnd() < 0.5;
        try {
          const ctx = new SSLContext(opts);
          try {
            ctx._native(side);
          } finally {
            ctx.close();
          }
        } catch (e) {
          const ok = e instanceof TypeError || e instanceof RangeError || e instanceof SSLError ||
            e instanceof Deno.errors.NotSupported;
          assert(ok, `seed ${seed}, case ${i}: ${JSON.stringify(opts)} threw ${e}`);
        }
      }
      void loop;
      await Promise.resolve(); // the body is synchronous; onTlsLoop takes an async one
    }),
  );
});

// ---- faults -------------------------------------------------------------------

/** A plain TCP server whose protocol does `onData`/`onMade` to each connection. */
async function plainServer(
  loop: TestLoop,
  make: () => Recorder,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = await loop.createServer(make, { host: "127.0.0.1", port: 0 });
  return {
    port: portOf(server),
    async close() {
      server.close();
      server.abortClients();
      await server.waitClosed();
    },
  };
}

function resetOnClose(t: Transport): void {
  (t.getExtraInfo("socket") as Socket).setsockopt("SO_LINGER", { onoff: true, linger: 0 });
}

forOneLoop([], (lc, test) => {
  test(
    "TLS faults: a peer resetting mid-handshake is a clear error; our server keeps serving",
    onTlsLoop(lc, async (loop) => {
      // Our client against a server that resets once the ClientHello came.
      const rst = await plainServer(loop, () => {
        const r = new Recorder();
        r.onData = () => {
          resetOnClose(r.transport);
          r.transport.abort();
        };
        return r;
      });
      const e = await assertRejects(() =>
        loop.createConnection(() => new Recorder(), {
          host: "localhost",
          port: rst.port,
          ssl: clientSsl(),
        })
      );
      assert(
        e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.ConnectionAborted,
        `got ${e}`,
      );
      await rst.close();
      // Our server against a client that sends half a ClientHello and resets.
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      const [raw, rp] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: portOf(server),
      });
      raw.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
      await tick(loop, 5);
      resetOnClose(raw);
      raw.abort();
      await rp.lost.promise;
      // Still serving.
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl(),
      });
      t.write(enc.encode("still"));
      await until(loop, () => p.received === 5);
      await close(t, p);
    }),
  );

  test(
    "TLS faults: a handshake that never completes times out (sslHandshakeTimeout)",
    onTlsLoop(lc, async (loop) => {
      const silent = await plainServer(loop, () => new Recorder());
      const e = await assertRejects(
        () =>
          loop.createConnection(() => new Recorder(), {
            host: "localhost",
            port: silent.port,
            ssl: clientSsl(),
            sslHandshakeTimeout: 50,
          }),
        Deno.errors.TimedOut,
      );
      assertStringIncludes(e.message, "SSL handshake is taking longer than 50 ms");
      await silent.close();
      // The server side: a client that connects and says nothing is dropped.
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
        sslHandshakeTimeout: 50,
      });
      const [, rp] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: portOf(server),
      });
      await rp.lost.promise;
    }),
  );

  test(
    "TLS faults: garbage instead of TLS is a clear SSLError on both sides",
    onTlsLoop(lc, async (loop) => {
      const http = await plainServer(loop, () => {
        const r = new Recorder();
        r.onData = () => r.transport.write(enc.encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
        return r;
      });
      const e = await assertRejects(
        () =>
          loop.createConnection(() => new Recorder(), {
            host: "localhost",
            port: http.port,
            ssl: clientSsl(),
          }),
        SSLError,
      );
      assertStringIncludes(e.message, "[SSL: ");
      assertEquals(e.library, "SSL");
      assert(e.reason !== null && e.reason.length > 0);
      await http.close();
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      const [raw, rp] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: portOf(server),
      });
      raw.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      await rp.lost.promise; // the server dropped it
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl(),
      });
      await close(t, p);
    }),
  );

  test(
    "TLS faults: garbage after the handshake ends both sides with an SSLError; nothing leaks",
    onTlsLoop(lc, async (loop) => {
      let served: Recorder | undefined;
      await using server = await loop.createServer(() => served = new Echo(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl(),
      });
      t.write(enc.encode("ok"));
      await until(loop, () => p.received === 2);
      // Bytes that look like an application-data record but are not: written under the TLS layer.
      const sock = t.getExtraInfo("socket") as Socket;
      const bogus = new Uint8Array(64).fill(0x41);
      bogus.set([0x17, 0x03, 0x03, 0x00, 59]);
      sock.send(bogus);
      const exc = await served!.lost.promise;
      assertInstanceOf(exc, SSLError);
      assertStringIncludes(exc.message, "[SSL: ");
      const mine = await p.lost.promise; // the server's alert, or its hang-up
      assert(mine === null || mine instanceof Error, `got ${mine}`);
    }),
  );

  test(
    "TLS faults: a peer closing without close_notify ends with UnexpectedEof",
    onTlsLoop(lc, async (loop) => {
      class HangUp extends Recorder {
        override connectionMade(t: Transport): void {
          super.connectionMade(t);
          t.write(enc.encode("partial"));
          // The TCP connection ends with no close_notify (a truncation).
          this.onData = () => (t.getExtraInfo("socket") as Socket).shutdown(SHUT_WR);
        }
      }
      await using server = await loop.createServer(() => new HangUp(), {
        host: "127.0.0.1",
        port: 0,
        ssl: serverSsl(),
      });
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        ssl: clientSsl(),
      });
      t.write(enc.encode("go"));
      const exc = await p.lost.promise;
      assertInstanceOf(exc, Deno.errors.UnexpectedEof);
      assertStringIncludes(exc.message, "without sending close_notify");
      assertEquals(dec.decode(p.bytes()), "partial");
      assert(!p.events.includes("eof"), "no clean EOF was reported");
      server.closeClients();
    }),
  );
});
