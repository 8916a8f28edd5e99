/**
 * TLS against real peers (issue 14): our client against `openssl s_server`,
 * a CPython asyncio TLS server and `Deno.listenTls`; our server against
 * `openssl s_client`, a CPython asyncio client and `Deno.connectTls`. 16 MiB
 * each way, byte-exact; ALPN, SNI, TLS 1.2 and 1.3. Each test checks that
 * no fd and no OpenSSL object leaked.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { SSLError, type SSLObject, type Transport } from "../mod.ts";
import { liveOpenSslObjects } from "../ffi/openssl/mod.ts";
import { forOneLoop, type LoopCase, type TestLoop } from "./_loops.ts";
import { onLoop, pattern, portOf, sameBytes, tick, until } from "./_stream_helpers.ts";
import { freePort, Pump, readAll, testCerts, warmOpenSsl, writeAll } from "./_tls_helpers.ts";

const certs = await testCerts();
await warmOpenSsl();
const N = 16 * 1024 * 1024;
const UP = pattern(N, 1); // what our side sends
const DOWN = pattern(N, 2); // what the peer sends
const DOWN_FILE = `${certs.dir}/down.bin`;
Deno.writeFileSync(DOWN_FILE, DOWN);
const UP_FILE = `${certs.dir}/up.bin`;
Deno.writeFileSync(UP_FILE, UP);
const dec = new TextDecoder();

async function sha256(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}
const UP_SHA = await sha256(UP);

function onTlsLoop(lc: LoopCase, fn: (loop: TestLoop) => Promise<void>): () => Promise<void> {
  return async () => {
    await onLoop(lc, (loop) => fn(loop))();
    assertEquals(liveOpenSslObjects(), { contexts: 0, sessions: 0, callbacks: 0 });
  };
}

/** Reads the first line of a process's stdout; the rest is drained in the background. */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
): Promise<{ line: string; rest: Promise<string> }> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value);
  }
  const i = text.indexOf("\n");
  const line = i < 0 ? text : text.slice(0, i);
  const rest = (async () => {
    let more = i < 0 ? "" : text.slice(i + 1);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return more;
      more += dec.decode(value);
    }
  })();
  return { line, rest };
}

// A CPython asyncio peer: sends DOWN_FILE, reads N bytes, prints "count sha256 alpn version sni".
const PY_PEER = `
import asyncio, hashlib, ssl, sys
role, cert, key, ca, sendfile, n = sys.argv[1:7]
n = int(n)
data = open(sendfile, 'rb').read()
async def exchange(r, w):
    w.write(data)
    h = hashlib.sha256(); got = 0
    while got < n:
        chunk = await r.read(1 << 20)
        if not chunk: break
        h.update(chunk); got += len(chunk)
    await w.drain()
    obj = w.get_extra_info('ssl_object')
    return f"{got} {h.hexdigest()} {obj.selected_alpn_protocol()} {obj.version()}"
async def main():
    if role == 'server':
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(['h2', 'http/1.1'])
        names = []
        ctx.sni_callback = lambda obj, name, c: names.append(name)
        done = asyncio.get_running_loop().create_future()
        async def handle(r, w):
            line = await exchange(r, w)
            print(line, names[0] if names else None, flush=True)
            w.close()
            try: await w.wait_closed()
            except Exception as e: print('close error', repr(e), flush=True)
            done.set_result(None)
        srv = await asyncio.start_server(handle, '127.0.0.1', 0, ssl=ctx)
        print(srv.sockets[0].getsockname()[1], flush=True)
        await done
        srv.close()
        await srv.wait_closed()
    else:
        port = int(sys.argv[7])
        ctx = ssl.create_default_context(cafile=ca)
        ctx.set_alpn_protocols(['http/1.1'])
        r, w = await asyncio.open_connection('localhost', port, ssl=ctx)
        line = await exchange(r, w)
        print(line, flush=True)
        rest = await r.read()  # our server closes with close_notify: a clean EOF
        print('eof', len(rest), flush=True)
        w.close()
        try: await w.wait_closed()
        except Exception as e: print('close error', repr(e), flush=True)
asyncio.run(main())
`;

// A Deno TLS peer in its own process (Deno closes its sockets lazily: in this process they would
// blur the fd-leak check). Same protocol as the Python peer; prints "count sha256 alpn".
const DENO_PEER = `
const [role, cert, key, ca, sendfile, nText, portText] = Deno.args;
const n = Number(nText);
const data = Deno.readFileSync(sendfile);
async function exchange(conn) {
  const hs = await conn.handshake();
  const w = conn.writable.getWriter();
  const writing = (async () => {
    for (let at = 0; at < data.length; at += 1 << 20) await w.write(data.subarray(at, at + (1 << 20)));
  })();
  const reader = conn.readable.getReader();
  const got = new Uint8Array(n);
  let k = 0;
  while (k < n) {
    const { value, done } = await reader.read();
    if (done) break;
    got.set(value.subarray(0, Math.min(value.length, n - k)), k);
    k += value.length;
  }
  await writing;
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", got.subarray(0, Math.min(k, n))));
  const sha = [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
  // Wait for the peer's end (it closes once it has everything), then close.
  for (;;) {
    const r = await reader.read().catch(() => ({ done: true }));
    if (r.done) break;
  }
  try { conn.close(); } catch {}
  return \`\${k} \${sha} \${hs.alpnProtocol}\`;
}
if (role === "server") {
  const l = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: Deno.readTextFileSync(cert),
    key: Deno.readTextFileSync(key), alpnProtocols: ["h2"] });
  console.log(l.addr.port);
  const conn = await l.accept();
  console.log(await exchange(conn));
  l.close();
} else {
  const conn = await Deno.connectTls({ hostname: "localhost", port: Number(portText),
    caCerts: [Deno.readTextFileSync(ca)], alpnProtocols: ["http/1.1", "h2"] });
  console.log(await exchange(conn));
}
`;

function denoPeer(args: string[]): Deno.ChildProcess {
  const file = `${certs.dir}/deno_peer.mjs`;
  Deno.writeTextFileSync(file, DENO_PEER);
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", file, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

function python(args: string[]): Deno.ChildProcess {
  return new Deno.Command("python3", {
    args: ["-c", PY_PEER, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

forOneLoop([], (lc, test) => {
  test(
    "TLS peers: our client against openssl s_server (TLS 1.2, ALPN), 16 MiB each way",
    onTlsLoop(lc, async (loop) => {
      const port = freePort();
      const child = new Deno.Command("openssl", {
        args: [
          "s_server",
          "-accept",
          `127.0.0.1:${port}`,
          "-cert",
          certs.certFile,
          "-key",
          certs.keyFile,
          "-quiet",
          "-tls1_2",
          "-alpn",
          "h2",
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = readAll(child.stderr);
      const received = readAll(child.stdout);
      let stdin: Promise<WritableStreamDefaultWriter<Uint8Array> | null> = Promise.resolve(null);
      try {
        const pump = new Pump(UP);
        pump.closeAfter = N; // once all is sent and received
        // No probe connection (s_server would send its stdin there): retry until it listens.
        let conn: [Transport, Pump] | undefined;
        for (let i = 0; conn === undefined; i++) {
          try {
            conn = await loop.createConnection(() => pump, {
              host: "localhost",
              port,
              ssl: { caCerts: [certs.ca], alpnProtocols: ["h2"] },
            });
          } catch (e) {
            if (!(e instanceof Deno.errors.ConnectionRefused) || i > 500) throw e;
            await tick(loop, 10);
          }
        }
        const [t, p] = conn;
        stdin = writeAll(child.stdin, DOWN, false).catch(() => null);
        assertEquals((t.getExtraInfo("sslObject") as SSLObject).version(), "TLSv1.2");
        assertEquals(t.getExtraInfo("alpnProtocol"), "h2");
        const exc = await p.lost.promise;
        assert(exc === null || exc instanceof Deno.errors.UnexpectedEof, `got ${exc}`);
        assertEquals(sameBytes(p.bytes(), DOWN), null);
      } finally {
        child.kill("SIGTERM");
        await child.status;
        await (await stdin)?.close().catch(() => {});
      }
      const got = await received;
      await stderr;
      assertEquals(sameBytes(got, UP), null, "what s_server received");
    }),
  );

  test(
    "TLS peers: minVersion TLSv1.3 against openssl s_server -tls1_2 is a clear protocol-version error",
    onTlsLoop(lc, async (loop) => {
      const port = freePort();
      const child = new Deno.Command("openssl", {
        args: [
          "s_server",
          "-accept",
          `127.0.0.1:${port}`,
          "-cert",
          certs.certFile,
          "-key",
          certs.keyFile,
          "-quiet",
          "-tls1_2",
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = readAll(child.stderr);
      const stdout = readAll(child.stdout);
      try {
        let error: unknown;
        for (let i = 0; error === undefined; i++) {
          try {
            const [t] = await loop.createConnection(() => new Pump(new Uint8Array(0)), {
              host: "localhost",
              port,
              ssl: { caCerts: [certs.ca], minVersion: "TLSv1.3" },
            });
            t.abort();
            error = null;
          } catch (e) {
            if (e instanceof Deno.errors.ConnectionRefused && i < 500) await tick(loop, 10);
            else error = e;
          }
        }
        assert(error instanceof SSLError, `got ${error}`);
        assert(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/.test(error.message), error.message);
      } finally {
        child.kill("SIGTERM");
        await child.status;
        await child.stdin.close().catch(() => {});
      }
      await stderr;
      await stdout;
    }),
  );

  test(
    "TLS peers: our server against openssl s_client (TLS 1.2 and 1.3, SNI, ALPN), 16 MiB each way",
    onTlsLoop(lc, async (loop) => {
      for (const version of ["-tls1_2", "-tls1_3"]) {
        let served: Pump | undefined;
        await using server = await loop.createServer(() => {
          served = new Pump(DOWN);
          served.closeAfter = N;
          return served;
        }, {
          host: "127.0.0.1",
          port: 0,
          ssl: { cert: certs.cert, key: certs.key, alpnProtocols: ["h2"] },
        });
        const child = new Deno.Command("openssl", {
          args: [
            "s_client",
            "-connect",
            `127.0.0.1:${portOf(server)}`,
            "-CAfile",
            certs.caFile,
            "-verify_return_error",
            "-servername",
            "localhost",
            "-alpn",
            "h2",
            "-quiet",
            version,
          ],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const stderr = readAll(child.stderr);
        const received = readAll(child.stdout);
        const stdin = writeAll(child.stdin, UP, false);
        await until(loop, () => (served?.received ?? 0) >= N);
        const st = served!.transport;
        const obj = st.getExtraInfo("sslObject") as SSLObject;
        assertEquals(obj.version(), version === "-tls1_2" ? "TLSv1.2" : "TLSv1.3");
        assertEquals(obj.serverName(), "localhost");
        assertEquals(st.getExtraInfo("alpnProtocol"), "h2");
        assertEquals(sameBytes(served!.bytes(), UP), null);
        await served!.lost.promise;
        const status = await child.status;
        await (await stdin).close().catch(() => {});
        const got = await received;
        const err = dec.decode(await stderr);
        assertEquals(sameBytes(got, DOWN), null, `what s_client received (stderr: ${err})`);
        assert(status.success, `s_client failed: ${err}`);
      }
    }),
  );

  test(
    "TLS peers: our client against a CPython asyncio TLS server, 16 MiB each way",
    onTlsLoop(lc, async (loop) => {
      const child = python([
        "server",
        certs.certFile,
        certs.keyFile,
        certs.caFile,
        DOWN_FILE,
        String(N),
      ]);
      const stderr = readAll(child.stderr);
      const { line: portLine, rest } = await firstLine(child.stdout);
      const port = Number(portLine);
      if (!(port > 0)) throw new Error(`python said ${portLine}: ${dec.decode(await stderr)}`);
      const [t, p] = await loop.createConnection(() => new Pump(UP), {
        host: "localhost",
        port,
        ssl: { caCerts: [certs.ca], alpnProtocols: ["http/1.1"] },
      });
      await until(loop, () => p.received >= N);
      assertEquals(sameBytes(p.bytes(), DOWN), null);
      assertEquals(await p.lost.promise, null, "the server closed with close_notify");
      const out = (await rest).trim();
      await child.status;
      await stderr;
      assertEquals(out, `${N} ${UP_SHA} http/1.1 TLSv1.3 localhost`);
      void t;
    }),
  );

  test(
    "TLS peers: our server against a CPython asyncio TLS client, 16 MiB each way",
    onTlsLoop(lc, async (loop) => {
      let served: Pump | undefined;
      await using server = await loop.createServer(() => {
        served = new Pump(DOWN);
        served.closeAfter = N;
        return served;
      }, {
        host: "127.0.0.1",
        port: 0,
        ssl: { cert: certs.cert, key: certs.key, alpnProtocols: ["h2", "http/1.1"] },
      });
      const child = python([
        "client",
        certs.certFile,
        certs.keyFile,
        certs.caFile,
        UP_FILE,
        String(N),
        String(portOf(server)),
      ]);
      const stderr = readAll(child.stderr);
      const out = readAll(child.stdout);
      await until(loop, () => (served?.received ?? 0) >= N);
      assertEquals(sameBytes(served!.bytes(), UP), null);
      assertEquals(
        (served!.transport.getExtraInfo("sslObject") as SSLObject).serverName(),
        "localhost",
      );
      await served!.lost.promise;
      await child.status;
      const err = dec.decode(await stderr);
      const sha = await sha256(DOWN);
      assertEquals(dec.decode(await out).trim(), `${N} ${sha} http/1.1 TLSv1.3\neof 0`, err);
    }),
  );

  test(
    "TLS peers: our client against Deno.listenTls (in its own process), 16 MiB each way",
    onTlsLoop(lc, async (loop) => {
      const child = denoPeer([
        "server",
        certs.certFile,
        certs.keyFile,
        certs.caFile,
        DOWN_FILE,
        String(N),
      ]);
      const stderr = readAll(child.stderr);
      const { line: portLine, rest } = await firstLine(child.stdout);
      const port = Number(portLine);
      if (!(port > 0)) throw new Error(`deno said ${portLine}: ${dec.decode(await stderr)}`);
      const pump = new Pump(UP);
      pump.closeAfter = N;
      const [t, p] = await loop.createConnection(() => pump, {
        host: "localhost",
        port,
        ssl: { caCerts: [certs.ca], alpnProtocols: ["h2"] },
      });
      assertEquals(t.getExtraInfo("alpnProtocol"), "h2");
      const exc = await p.lost.promise;
      assert(exc === null || exc instanceof Deno.errors.UnexpectedEof, `got ${exc}`);
      assertEquals(sameBytes(p.bytes(), DOWN), null);
      const out = (await rest).trim();
      await child.status;
      const err = dec.decode(await stderr);
      assertEquals(out, `${N} ${UP_SHA} h2`, err);
    }),
  );

  test(
    "TLS peers: our server against Deno.connectTls (in its own process; SNI, ALPN), 16 MiB each way",
    onTlsLoop(lc, async (loop) => {
      let served: Pump | undefined;
      await using server = await loop.createServer(() => {
        served = new Pump(DOWN);
        served.closeAfter = N;
        return served;
      }, {
        host: "127.0.0.1",
        port: 0,
        ssl: { cert: certs.cert, key: certs.key, alpnProtocols: ["http/1.1", "h2"] },
      });
      const child = denoPeer([
        "client",
        certs.certFile,
        certs.keyFile,
        certs.caFile,
        UP_FILE,
        String(N),
        String(portOf(server)),
      ]);
      const stderr = readAll(child.stderr);
      const out = readAll(child.stdout);
      await until(loop, () => served?.events.includes("lost") ?? false);
      assertEquals(sameBytes(served!.bytes(), UP), null);
      const obj = served!.transport.getExtraInfo("sslObject") as SSLObject;
      assertEquals(obj.serverName(), "localhost");
      assertEquals(obj.selectedAlpnProtocol(), "http/1.1");
      await child.status;
      const err = dec.decode(await stderr);
      assertEquals(dec.decode(await out).trim(), `${N} ${await sha256(DOWN)} http/1.1`, err);
    }),
  );
});
