import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { CancelledError, type ExceptionContext } from "../mod.ts";
import { interleaveAddrinfos } from "../loop/base/create_connection.ts";
import type { AddrInfo } from "../net/mod.ts";
import { Socket } from "../net/mod.ts";
import { getNofileLimit, setNofileSoftLimit } from "../ffi/unix/libc.ts";
import { wineVersion } from "../ffi/windows/ntdll.ts";
import { forEachLoop, forOneLoop, LOOPS, type TestLoop } from "./_loops.ts";
import {
  hasIPv6,
  onLoop,
  pattern,
  portOf,
  Recorder,
  sameBytes,
  tick,
  until,
} from "./_stream_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const IPV6 = hasIPv6();
const onWindows = Deno.build.os === "windows";
const UNDER_WINE = onWindows && wineVersion() !== null;

/** Echoes what it gets; closes at EOF. */
class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

function info(hostname: string, port: number): AddrInfo {
  return {
    family: hostname.includes(":") ? "inet6" : "inet",
    type: "stream",
    proto: 6,
    canonname: "",
    address: { transport: "tcp", hostname, port },
  };
}

/** A port nothing listens on (bound, then closed). */
function closedPort(): number {
  using s = new Socket();
  s.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  return (s.getsockname() as { port: number }).port;
}

async function roundTrip(
  loop: TestLoop,
  hostname: string,
  port: number,
  text: string,
): Promise<string> {
  const [t, p] = await loop.createConnection(() => new Recorder(), { host: hostname, port });
  t.write(enc.encode(text));
  t.writeEof();
  await p.lost.promise;
  return dec.decode(p.bytes());
}

Deno.test("interleaveAddrinfos() alternates families as asyncio's _interleave_addrinfos", () => {
  const a = [
    info("::1", 1),
    info("::2", 2),
    info("::3", 3),
    info("1.1.1.1", 4),
    info("2.2.2.2", 5),
  ];
  const names = (l: AddrInfo[]) => l.map((i) => i.address.hostname);
  assertEquals(names(interleaveAddrinfos(a)), ["::1", "1.1.1.1", "::2", "2.2.2.2", "::3"]);
  assertEquals(names(interleaveAddrinfos(a, 2)), ["::1", "::2", "1.1.1.1", "::3", "2.2.2.2"]);
});

forEachLoop([], (lc, test) => {
  const L = `Server (${lc.tag})`;

  test(
    `${L}: createServer() with host null listens on IPv4 and IPv6`,
    onLoop(lc, async (loop) => {
      const server = await loop.createServer(() => new Echo(), { port: 0 });
      const addrs = server.sockets.map((s) =>
        s.getsockname() as { hostname: string; port: number }
      );
      const v4 = addrs.find((a) => a.hostname === "0.0.0.0");
      assert(v4, `no IPv4 wildcard among ${JSON.stringify(addrs)}`);
      assertEquals(await roundTrip(loop, "127.0.0.1", v4.port, "four"), "four");
      if (IPV6) {
        const v6 = addrs.find((a) => a.hostname === "::");
        assert(v6, `no IPv6 wildcard among ${JSON.stringify(addrs)}`);
        const s6 = server.sockets[addrs.indexOf(v6)];
        assertEquals(s6.getsockopt("IPV6_V6ONLY"), true);
        assertEquals(await roundTrip(loop, "::1", v6.port, "six"), "six");
      }
      assert(server.isServing());
      // SO_REUSEADDR by default on Unix only, as asyncio (on Windows it lets another socket
      // take the port over).
      assert(server.sockets.every((s) => s.getsockopt("SO_REUSEADDR") === !onWindows));
      server.close();
      assertEquals(server.sockets, []);
      assert(!server.isServing());
      await server.waitClosed();
    }),
  );

  test(
    `${L}: createServer() on several hosts`,
    onLoop(lc, async (loop) => {
      const hosts = IPV6 ? ["127.0.0.1", "::1"] : ["127.0.0.1"];
      await using server = await loop.createServer(() => new Echo(), { host: hosts, port: 0 });
      assertEquals(server.sockets.length, hosts.length);
      for (let i = 0; i < hosts.length; i++) {
        assertEquals(await roundTrip(loop, hosts[i], portOf(server, i), hosts[i]), hosts[i]);
      }
      assertEquals(server.getLoop(), loop);
    }),
  );

  test(
    `${L}: happy eyeballs: the first address is refused, the second connects`,
    onLoop(lc, async (loop) => {
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
      });
      const good = portOf(server), bad = closedPort();
      const asked: unknown[] = [];
      (loop as unknown as { getaddrinfo: unknown }).getaddrinfo = (
        host: string,
        port: number,
        opts: unknown,
      ) => {
        asked.push([host, port, opts]);
        return Promise.resolve([info("127.0.0.1", bad), info("127.0.0.1", good)]);
      };
      for (const happyEyeballsDelay of [250, undefined]) {
        const [t, p] = await loop.createConnection(() => new Recorder(), {
          host: "example.invalid",
          port: 80,
          happyEyeballsDelay,
        });
        assertEquals((t.getExtraInfo("peername") as { port: number }).port, good);
        t.write(enc.encode("hi"));
        t.writeEof();
        await p.lost.promise;
        assertEquals(dec.decode(p.bytes()), "hi");
      }
      assertEquals(asked.length, 2);
      assertEquals((asked[0] as unknown[])[0], "example.invalid");
      // Every address refused: the error of them all (same class).
      (loop as unknown as { getaddrinfo: unknown }).getaddrinfo = () =>
        Promise.resolve([info("127.0.0.1", bad), info("127.0.0.1", closedPort())]);
      const err = await assertRejects(
        () =>
          loop.createConnection(() => new Recorder(), {
            host: "x",
            port: 1,
            happyEyeballsDelay: 50,
          }),
        Deno.errors.ConnectionRefused,
      );
      assertStringIncludes(err.message, "Multiple exceptions");
      const all = await assertRejects(
        () => loop.createConnection(() => new Recorder(), { host: "x", port: 1, allErrors: true }),
        AggregateError,
      );
      assertEquals(all.errors.length, 2);
    }),
  );

  test(
    `${L}: createConnection() binds localAddr, and an aborted signal cancels it`,
    onLoop(lc, async (loop) => {
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
      });
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: portOf(server),
        localAddr: { hostname: "127.0.0.1", port: 0 },
      });
      assertEquals((t.getExtraInfo("sockname") as { hostname: string }).hostname, "127.0.0.1");
      t.close();
      await p.lost.promise;
      const ac = new AbortController();
      const pending = loop.createConnection(() => new Recorder(), {
        host: "localhost",
        port: portOf(server),
        signal: ac.signal,
      });
      ac.abort();
      await assertRejects(() => pending, CancelledError);
      server.closeClients();
    }),
  );

  test(
    `${L}: close(), waitClosed(), closeClients() and abortClients()`,
    onLoop(lc, async (loop) => {
      const made: Recorder[] = [];
      const server = await loop.createServer(() => {
        const r = new Recorder();
        made.push(r);
        return r;
      }, { host: "127.0.0.1", port: 0 });
      const port = portOf(server);
      const [t1, c1] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port,
      });
      const [t2, c2] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port,
      });
      await until(loop, () => made.length === 2);
      let closed = false;
      const waiting = server.waitClosed().then(() => closed = true);
      server.close();
      server.close();
      await tick(loop, 5);
      assert(!closed, "waitClosed() resolved while connections were open");
      // A closed server refuses new connections.
      await assertRejects(
        () => loop.createConnection(() => new Recorder(), { host: "127.0.0.1", port }),
        Deno.errors.ConnectionRefused,
      );
      server.closeClients();
      assertEquals(await c1.lost.promise, null);
      made[1].transport.write(enc.encode("late")); // abortClients drops nothing visible here
      server.abortClients();
      await c2.lost.promise;
      await waiting;
      assert(closed);
      await server.waitClosed(); // again: at once
      t1.close();
      t2.close();
    }),
  );

  test(
    `${L}: serveForever() ends with CancelledError on close() and on abort`,
    onLoop(lc, async (loop) => {
      const server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        startServing: false,
      });
      assert(!server.isServing());
      const forever = server.serveForever();
      assert(server.isServing());
      await assertRejects(() => server.serveForever(), Error, "already");
      assertEquals(await roundTrip(loop, "127.0.0.1", portOf(server), "ok"), "ok");
      server.close();
      await assertRejects(() => forever, CancelledError);
      await assertRejects(() => server.serveForever(), Error, "closed");

      const s2 = await loop.createServer(() => new Echo(), { host: "127.0.0.1", port: 0 });
      const ac = new AbortController();
      const f2 = s2.serveForever({ signal: ac.signal });
      loop.callLater(1, () => ac.abort());
      await assertRejects(() => f2, CancelledError);
      assertEquals(s2.sockets, []);
    }),
  );

  test(
    `${L}: createServer({ sock }), startServing() and connectAcceptedSocket()`,
    onLoop(lc, async (loop) => {
      const sock = new Socket();
      sock.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
      const server = await loop.createServer(() => new Echo(), { sock, startServing: false });
      assert(!server.isServing());
      await server.startServing();
      await server.startServing();
      assertEquals(
        await roundTrip(loop, "127.0.0.1", (sock.getsockname() as { port: number }).port, "s"),
        "s",
      );
      server.close();
      await server.waitClosed();
      assert(sock.closed);

      using lsock = new Socket();
      lsock.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
      lsock.listen();
      const client = new Socket();
      const connecting = loop.sockConnect(client, lsock.getsockname());
      const [conn] = await loop.sockAccept(lsock);
      await connecting;
      const [st, sp] = await loop.connectAcceptedSocket(() => new Echo(), conn);
      const [ct, cp] = await loop.connectAcceptedSocket(() => new Recorder(), client);
      ct.write(enc.encode("accepted"));
      ct.writeEof();
      assertEquals(await cp.lost.promise, null);
      assertEquals(dec.decode(cp.bytes()), "accepted");
      await sp.lost.promise;
      assert(st.isClosing());
    }),
  );

  test(
    `${L}: accept() out of fds (EMFILE) pauses accepting, reports, and recovers`,
    ["unixFds"], // RLIMIT_NOFILE, which Windows does not have
    onLoop(lc, async (loop) => {
      const contexts: ExceptionContext[] = [];
      loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
      const made: Recorder[] = [];
      const server = await loop.createServer(() => {
        const r = new Echo();
        made.push(r);
        return r;
      }, { host: "127.0.0.1", port: 0, acceptRetryDelay: 20 });
      const client = new Socket();
      const fillers: Socket[] = [];
      const { soft } = getNofileLimit();
      try {
        // Lower the limit, then use up every fd below it: accept() must fail.
        setNofileSoftLimit(Math.min(soft, 2048));
        for (let i = 0; i < 4096; i++) {
          try {
            fillers.push(new Socket());
          } catch (e) {
            assertEquals((e as { code?: string }).code, "EMFILE");
            break;
          }
        }
        await loop.sockConnect(client, {
          transport: "tcp",
          hostname: "127.0.0.1",
          port: portOf(server),
        });
        await until(loop, () => contexts.length > 0);
        assertEquals(contexts[0].message, "socket.accept() out of system resource");
        assertEquals((contexts[0].exception as { code: string }).code, "EMFILE");
        assertEquals(made.length, 0);
        await tick(loop, 50); // it keeps retrying while out of fds, reporting each time
        assertEquals(made.length, 0);
      } finally {
        for (const s of fillers) s.close();
        setNofileSoftLimit(soft);
      }
      await until(loop, () => made.length === 1);
      // And it accepts new connections as before.
      const client2 = new Socket();
      await loop.sockConnect(client2, {
        transport: "tcp",
        hostname: "127.0.0.1",
        port: portOf(server),
      });
      await until(loop, () => made.length === 2);
      client.close();
      client2.close();
      await Promise.all(made.map((m) => m.lost.promise));
      server.close();
      await server.waitClosed();
    }),
  );

  test(
    `${L}: createServer() rejects ssl without a certificate, and a busy address with AddrInUse`,
    onLoop(lc, async (loop) => {
      // TLS is tests/tls_*_test.ts's; a server context without cert and key is refused.
      await assertRejects(
        () => loop.createServer(() => new Echo(), { port: 0, ssl: true }),
        TypeError,
        "cert and key",
      );
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
        reuseAddress: false,
      });
      const err = await assertRejects(
        () =>
          loop.createServer(() => new Echo(), {
            host: "127.0.0.1",
            port: portOf(server),
            reuseAddress: false,
          }),
        Deno.errors.AddrInUse,
      );
      assertStringIncludes(err.message, "error while attempting to bind on address");
    }),
  );
});

// Real peers written with something else, on DefaultSelector's loop as before (the first loop
// where there is none).
const DEFAULT = Math.max(0, LOOPS.findIndex((lc) => lc.tag === "DefaultSelector"));
forOneLoop([], (lc, test) => {
  test({
    name: "Server: CPython's asyncio client exchanges 1 MiB with our echo server" +
      (UNDER_WINE ? " [the Wine environment has no CPython to run]" : ""),
    ignore: UNDER_WINE,
    fn: onLoop(lc, async (loop) => {
      await using server = await loop.createServer(() => new Echo(), {
        host: "127.0.0.1",
        port: 0,
      });
      const script = `
import asyncio, sys
async def main(port):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    data = bytes((i * 7 + 3) & 255 for i in range(1 << 20))
    w.write(data)
    await w.drain()
    w.write_eof()
    got = await r.read()
    w.close()
    await w.wait_closed()
    print("OK" if got == data else f"MISMATCH {len(got)}")
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

  test(
    "Server: our client exchanges 4 MiB with an echo server made with Deno.listen",
    onLoop(lc, async (loop) => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      // Deno's own server echoes everything back, then closes.
      const served = (async () => {
        const conn = await listener.accept();
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          let off = 0;
          while (off < n) off += await conn.write(buf.subarray(off, n));
        }
        conn.close();
      })();
      const data = pattern(4 * 1024 * 1024, 9);
      const [t, p] = await loop.createConnection(() => new Recorder(), {
        host: "127.0.0.1",
        port: listener.addr.port,
      });
      t.write(data);
      t.writeEof();
      await served;
      assertEquals(await p.lost.promise, null);
      assertEquals(sameBytes(p.bytes(), data), null);
      assertEquals(p.events.filter((e) => e !== "pause" && e !== "resume" && e !== "data"), [
        "made",
        "eof",
        "lost",
      ]);
      listener.close();
      assertInstanceOf(t.getExtraInfo("socket"), Socket);
    }),
  );
}, DEFAULT);
