import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { type Address, type NetAddress, Socket, type UnixAddress } from "../net/mod.ts";
import { DatagramProtocol } from "../transports/datagram_protocol.ts";
import type { DatagramTransport } from "../transports/mod.ts";
import { DATAGRAM_HEADER_SIZE } from "../loop/selector/datagram_transport.ts";
import { wineVersion } from "../ffi/windows/ntdll.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, type LoopCase, selectorOf, type TestLoop } from "./_loops.ts";

const enc = new TextEncoder();
const V4 = "127.0.0.1";
const onWindows = Deno.build.os === "windows";
const UNDER_WINE = onWindows && wineVersion() !== null;

function hasIPv6(): boolean {
  try {
    using s = new Socket({ family: "inet6", type: "dgram" });
    s.bind({ transport: "udp", hostname: "::1", port: 0 });
    return true;
  } catch {
    return false;
  }
}
const IPV6 = hasIPv6();

/**
 * Runs `fn` as the main task of a fresh loop of `lc`, checking that no fd leaks and that
 * nothing reached the loop's exception handler.
 */
function onLoop(
  lc: LoopCase,
  fn: (loop: TestLoop) => Promise<void>,
): () => Promise<void> {
  return () =>
    assertNoFdLeak(async () => {
      using loop = lc.make();
      const reported: unknown[] = [];
      loop.setExceptionHandler((_loop, context) => void reported.push(context));
      await loop.runUntilComplete(() => fn(loop));
      assertEquals(reported, [], "the loop's exception handler was called");
    });
}

/** A protocol that records everything and lets a test wait for a condition. */
class Recorder extends DatagramProtocol {
  transport!: DatagramTransport;
  made = 0;
  datagrams: [Uint8Array, Address][] = [];
  errors: Error[] = [];
  lost: (Error | null)[] = [];
  paused = 0;
  resumed = 0;
  echo = false;
  #wake: (() => void) | null = null;

  override connectionMade(transport: DatagramTransport): void {
    this.made++;
    this.transport = transport;
  }
  override datagramReceived(data: Uint8Array, addr: Address): void {
    this.datagrams.push([data, addr]);
    if (this.echo) this.transport.sendto(data, addr);
    this.#notify();
  }
  override errorReceived(exc: Error): void {
    this.errors.push(exc);
    this.#notify();
  }
  override connectionLost(exc: Error | null): void {
    this.lost.push(exc);
    this.#notify();
  }
  override pauseWriting(): void {
    this.paused++;
    this.#notify();
  }
  override resumeWriting(): void {
    this.resumed++;
    this.#notify();
  }
  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
  /** Resolves once `cond()` holds (checked after every protocol event). */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.#wake = r);
  }
  /** Closes the transport and waits for connectionLost. */
  async close(): Promise<void> {
    this.transport.close();
    await this.until(() => this.lost.length > 0);
  }
}

function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >>> 11)) & 0xff;
  return b;
}

function freeUdpPort(hostname = V4): number {
  using s = new Socket({ family: hostname.includes(":") ? "inet6" : "inet", type: "dgram" });
  s.bind({ transport: "udp", hostname, port: 0 });
  return (s.getsockname() as NetAddress).port;
}

/** Nothing is left registered with the loop's selector (on a loop that has one). */
function assertNothingWatched(lc: LoopCase, loop: TestLoop): void {
  if (lc.caps.selector) assertEquals(selectorOf(loop).getMap().size, 0);
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "aio_dgram_" });
}

forEachLoop([], (lc, test) => {
  const L = lc.name;

  for (const [family, host] of [["inet", V4], ["inet6", "::1"]] as const) {
    test({
      name: `${L} createDatagramEndpoint() echoes UDP ${family} datagrams byte-exact`,
      ignore: family === "inet6" && !IPV6,
      fn: onLoop(lc, async (loop) => {
        const [st, server] = await loop.createDatagramEndpoint(() => new Recorder(), {
          localAddr: { transport: "udp", hostname: host, port: 0 },
        });
        server.echo = true;
        assertEquals(server.made, 1);
        const sname = st.getExtraInfo("sockname") as NetAddress;
        assertEquals(sname.hostname, host);
        assertEquals(st.getExtraInfo("peername"), undefined);
        assertInstanceOf(st.getExtraInfo("socket"), Socket);

        // A connected client: sendto() without an address.
        const [ct, client] = await loop.createDatagramEndpoint(() => new Recorder(), {
          remoteAddr: sname,
        });
        assertEquals(ct.getExtraInfo("peername"), sname);
        const sizes = [1, 0, 100, 1400, 9000, family === "inet" ? 65507 : 65527];
        for (let i = 0; i < sizes.length; i++) ct.sendto(pattern(sizes[i], i));
        await client.until(() => client.datagrams.length === sizes.length);
        for (let i = 0; i < sizes.length; i++) {
          assertEquals(client.datagrams[i][0], pattern(sizes[i], i));
          assertEquals(client.datagrams[i][1], sname);
          assertEquals(server.datagrams[i][1], ct.getExtraInfo("sockname"));
        }
        // Small datagrams may share a pooled buffer, but never overlap, and
        // later reads leave them intact (checked above, after all arrived);
        // large ones get their own.
        const [a, b] = [client.datagrams[0][0], client.datagrams[2][0]];
        assert(a.buffer !== b.buffer || a.byteOffset + a.byteLength <= b.byteOffset);
        assertEquals(client.datagrams[5][0].byteOffset, 0);
        assertEquals(client.datagrams[5][0].buffer.byteLength, sizes[5]);

        // An unconnected client: sendto() with the address.
        const [ut, unconnected] = await loop.createDatagramEndpoint(() => new Recorder(), {
          family,
        });
        ut.sendto(enc.encode("hello"), sname);
        await unconnected.until(() => unconnected.datagrams.length === 1);
        assertEquals(unconnected.datagrams[0][0], enc.encode("hello"));
        assertThrows(() => ut.sendto(enc.encode("x")), TypeError, "addr is required");

        for (const p of [client, unconnected, server]) await p.close();
        for (const p of [client, unconnected, server]) assertEquals(p.lost, [null]);
        assertNothingWatched(lc, loop);
      }),
    });
  }

  test(
    `${L} createDatagramEndpoint() resolves a host name ({ hostname, port } without transport)`,
    onLoop(lc, async (loop) => {
      const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
        localAddr: { hostname: "localhost", port: 0 },
      });
      const name = t.getExtraInfo("sockname") as NetAddress;
      assertEquals(name.transport, "udp");
      assert(name.hostname === V4 || name.hostname === "::1", name.hostname);
      const [ct, client] = await loop.createDatagramEndpoint(() => new Recorder(), {
        remoteAddr: { hostname: "localhost", port: name.port },
        family: name.hostname === V4 ? "inet" : "inet6",
      });
      ct.sendto(enc.encode("hi"));
      await p.until(() => p.datagrams.length === 1);
      await client.close();
      await p.close();
    }),
  );

  test({
    name: `${L} a connected endpoint gets errorReceived(ConnectionRefused) and stays open` +
      (UNDER_WINE
        ? " [Wine: a UDP socket polled with select() never sees the ICMP port unreachable]"
        : ""),
    ignore: UNDER_WINE,
    fn: onLoop(lc, async (loop) => {
      const port = freeUdpPort();
      const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
        remoteAddr: { transport: "udp", hostname: V4, port },
      });
      // The ICMP port unreachable the datagram provokes fails the socket's next recv: with
      // ECONNREFUSED on Unix, with WSAECONNRESET on Windows (recv's documented meaning for a
      // UDP socket: "a previous send operation resulted in an ICMP Port Unreachable message").
      t.sendto(enc.encode("probe"));
      await p.until(() => p.errors.length > 0);
      if (onWindows) {
        assertInstanceOf(p.errors[0], Deno.errors.ConnectionReset);
        assertEquals((p.errors[0] as Error & { code: string }).code, "WSAECONNRESET");
      } else {
        assertInstanceOf(p.errors[0], Deno.errors.ConnectionRefused);
        assertEquals((p.errors[0] as Error & { code: string }).code, "ECONNREFUSED");
      }
      assert(!t.isClosing());
      assertEquals(p.lost, []);
      // Still usable: a server now bound to that port gets the next datagram.
      const [_st, server] = await loop.createDatagramEndpoint(() => new Recorder(), {
        localAddr: { transport: "udp", hostname: V4, port },
      });
      t.sendto(enc.encode("after"));
      await server.until(() => server.datagrams.length === 1);
      assertEquals(server.datagrams[0][0], enc.encode("after"));
      await server.close();
      await p.close();
      assertEquals(p.lost, [null]);
    }),
  });

  test(
    `${L} sendto() buffers on EAGAIN and pauses/resumes the protocol once each`,
    ["unixSockets", "readers"],
    onLoop(lc, async (loop) => {
      // A unix datagram peer that does not read: the kernel blocks the (connected) sender
      // when the peer's queue is full. (UDP over loopback never blocks the sender.)
      const dir = await tempDir();
      try {
        const peerPath = `${dir}/peer.sock`;
        using peer = new Socket({ family: "unix", type: "dgram" });
        peer.bind({ transport: "unix", path: peerPath });
        const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
          remoteAddr: { transport: "unix", path: peerPath },
        });
        t.getExtraInfo("socket")!.setsockopt("SO_SNDBUF", 16 * 1024);
        t.setWriteBufferLimits({ high: 64 * 1024, low: 16 * 1024 });
        const size = 4096;
        let sent = 0;
        while (p.paused === 0) {
          t.sendto(pattern(size, sent++));
          assert(sent < 10_000, "the sender never blocked");
        }
        assertGreater(t.getWriteBufferSize(), 64 * 1024);
        assertEquals(t.getWriteBufferSize() % (size + DATAGRAM_HEADER_SIZE), 0);
        // Let the loop try the buffer while the peer still does not read: no resume.
        await new Promise((r) => setTimeout(r, 5));
        assertEquals(p.resumed, 0);

        // Now the peer drains; the transport flushes and resumes the protocol once.
        const got: Uint8Array[] = [];
        const buf = new Uint8Array(65536);
        loop.addReader(peer, () => {
          for (let r; (r = peer.recvfromInto(buf)) !== null;) got.push(buf.slice(0, r[0]));
        });
        await p.until(() => p.resumed > 0);
        while (got.length < sent) await new Promise((r) => setTimeout(r, 1));
        loop.removeReader(peer);
        assertEquals(p.paused, 1);
        assertEquals(p.resumed, 1);
        assertEquals(t.getWriteBufferSize(), 0);
        assertEquals(got.length, sent);
        for (let i = 0; i < sent; i++) assertEquals(got[i], pattern(size, i));
        assertEquals(p.errors, []);
        await p.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
  );

  for (const how of ["close", "abort"] as const) {
    // Something must pause: a full unix peer blocks the sender; the Proactor queues behind
    // its one send in flight. UDP over loopback never blocks a selector loop's sendto().
    const pauses = lc.caps.unixSockets || !lc.caps.selector;
    test({
      name:
        `${L} ${how}() from resumeWriting() once the queue drained: connectionLost() exactly once` +
        (pauses ? "" : " [no AF_UNIX here, and loopback UDP never blocks: nothing pauses]"),
      ignore: !pauses,
      fn: onLoop(lc, async (loop) => {
        const dir = lc.caps.unixSockets ? await tempDir() : null;
        try {
          using peer = new Socket({ family: dir ? "unix" : "inet", type: "dgram" });
          peer.bind(
            dir
              ? { transport: "unix", path: `${dir}/peer.sock` }
              : { transport: "udp", hostname: V4, port: 0 },
          );
          const p = new Recorder();
          p.resumeWriting = () => {
            Recorder.prototype.resumeWriting.call(p);
            if (p.resumed > 1) return;
            if (how === "close") p.transport.close();
            else p.transport.abort();
          };
          const [t] = await loop.createDatagramEndpoint(() => p, {
            remoteAddr: peer.getsockname(),
          });
          if (dir) t.getExtraInfo("socket")!.setsockopt("SO_SNDBUF", 16 * 1024);
          let sent = 0;
          while (p.paused === 0) {
            t.sendto(pattern(4096, sent++));
            assert(sent < 10_000, "the sender never paused");
          }
          const buf = new Uint8Array(65536);
          if (dir) loop.addReader(peer, () => void (peer.recvfromInto(buf)));
          await p.until(() => p.lost.length > 0);
          // A second connectionLost() would come on a later turn: give it some.
          for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
          if (dir) loop.removeReader(peer);
          assertEquals(p.lost, [null]);
          assertEquals(p.resumed, 1);
          assertEquals(p.errors, []);
        } finally {
          if (dir) await Deno.remove(dir, { recursive: true });
        }
      }),
    });
  }

  test(
    `${L} close() with buffered datagrams sends them, then connectionLost(null) once`,
    ["unixSockets", "readers"],
    onLoop(lc, async (loop) => {
      const dir = await tempDir();
      try {
        const peerPath = `${dir}/peer.sock`;
        using peer = new Socket({ family: "unix", type: "dgram" });
        peer.bind({ transport: "unix", path: peerPath });
        const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
          remoteAddr: { transport: "unix", path: peerPath },
        });
        let sent = 0;
        while (t.getWriteBufferSize() === 0) t.sendto(pattern(2048, sent++));
        t.sendto(pattern(2048, sent++));
        t.close();
        t.close();
        assert(t.isClosing());
        await new Promise((r) => setTimeout(r, 1));
        assertEquals(p.lost, []); // still flushing
        let got = 0;
        const buf = new Uint8Array(4096);
        loop.addReader(peer, () => {
          while (peer.recvfromInto(buf) !== null) got++;
        });
        await p.until(() => p.lost.length > 0);
        while (got < sent) await new Promise((r) => setTimeout(r, 1));
        loop.removeReader(peer);
        assertEquals(got, sent);
        t.abort(); // after the loss: nothing more
        await new Promise((r) => setTimeout(r, 1));
        assertEquals(p.lost, [null]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L} abort() drops buffered datagrams; connectionLost(null) exactly once`,
    ["unixSockets"],
    onLoop(lc, async (loop) => {
      const dir = await tempDir();
      try {
        const peerPath = `${dir}/peer.sock`;
        using peer = new Socket({ family: "unix", type: "dgram" });
        peer.bind({ transport: "unix", path: peerPath });
        const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
          remoteAddr: { transport: "unix", path: peerPath },
        });
        while (t.getWriteBufferSize() === 0) t.sendto(pattern(2048));
        t.abort();
        assertEquals(t.getWriteBufferSize(), 0);
        t.abort();
        t.close();
        t.sendto(enc.encode("ignored")); // after the loss: dropped, no throw
        await p.until(() => p.lost.length > 0);
        await new Promise((r) => setTimeout(r, 1));
        assertEquals(p.lost, [null]);
        assertNothingWatched(lc, loop);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L} unix datagram endpoints: bind a path, connect to an existing socket, reply`,
    ["unixSockets"],
    onLoop(lc, async (loop) => {
      const dir = await tempDir();
      try {
        const sPath = `${dir}/server.sock`, cPath = `${dir}/client.sock`;
        const [st, server] = await loop.createDatagramEndpoint(() => new Recorder(), {
          localAddr: { transport: "unix", path: sPath },
        });
        server.echo = true;
        assertEquals(st.getExtraInfo("sockname"), { transport: "unix", path: sPath });
        const [ct, client] = await loop.createDatagramEndpoint(() => new Recorder(), {
          localAddr: { transport: "unix", path: cPath },
          remoteAddr: { transport: "unix", path: sPath },
        });
        assertEquals(ct.getExtraInfo("peername"), { transport: "unix", path: sPath });
        const big = pattern(100_000);
        ct.sendto(enc.encode("ping"));
        ct.sendto(big);
        await client.until(() => client.datagrams.length === 2);
        assertEquals(server.datagrams[0][1], { transport: "unix", path: cPath });
        assertEquals(client.datagrams[0], [enc.encode("ping"), { transport: "unix", path: sPath }]);
        assertEquals(client.datagrams[1][0], big);
        assertThrows(
          () => ct.sendto(enc.encode("x"), { transport: "unix", path: `${dir}/other` }),
          TypeError,
          "Invalid address: must be undefined or",
        );
        ct.sendto(enc.encode("same"), { transport: "unix", path: sPath }); // the peer: fine

        // A plain socket bound to a path (what Deno.listenDatagram makes) is reachable too.
        const rawPath = `${dir}/raw.sock`;
        using raw = new Socket({ family: "unix", type: "dgram" });
        raw.bind({ transport: "unix", path: rawPath });
        const [rt, rp] = await loop.createDatagramEndpoint(() => new Recorder(), {
          remoteAddr: { transport: "unix", path: rawPath },
        });
        rt.sendto(enc.encode("to raw"));
        const [data, from] = await loop.sockRecvfrom(raw, 100);
        assertEquals(data, enc.encode("to raw"));
        assertEquals((from as UnixAddress).path, ""); // an unbound sender
        for (const p of [client, server, rp]) await p.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L} a unix datagram localAddr replaces a stale socket file, never a regular file`,
    ["unixSockets"],
    onLoop(lc, async (loop) => {
      const dir = await tempDir();
      try {
        const path = `${dir}/stale.sock`;
        {
          using old = new Socket({ family: "unix", type: "dgram" });
          old.bind({ transport: "unix", path });
        } // closed: the file stays behind
        assert(Deno.statSync(path).isSocket);
        const [, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
          localAddr: { transport: "unix", path },
        });
        await p.close();

        const file = `${dir}/regular`;
        Deno.writeTextFileSync(file, "keep me");
        await assertRejects(
          () =>
            loop.createDatagramEndpoint(() => new Recorder(), {
              localAddr: { transport: "unix", path: file },
            }),
          Deno.errors.AddrInUse,
        );
        assertEquals(Deno.readTextFileSync(file), "keep me");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L} allowBroadcast sets SO_BROADCAST and leaves the socket unconnected`,
    onLoop(lc, async (loop) => {
      const [st, server] = await loop.createDatagramEndpoint(() => new Recorder(), {
        localAddr: { transport: "udp", hostname: V4, port: 0 },
      });
      assertEquals(st.getExtraInfo("socket")!.getsockopt("SO_BROADCAST"), false);
      const remote = st.getExtraInfo("sockname") as NetAddress;
      const [bt, b] = await loop.createDatagramEndpoint(() => new Recorder(), {
        remoteAddr: remote,
        allowBroadcast: true,
      });
      assertEquals(bt.getExtraInfo("socket")!.getsockopt("SO_BROADCAST"), true);
      assertEquals(bt.getExtraInfo("peername"), undefined);
      bt.sendto(enc.encode("to the remote")); // the remembered remoteAddr
      await server.until(() => server.datagrams.length === 1);
      assertEquals(server.datagrams[0][0], enc.encode("to the remote"));
      await b.close();
      await server.close();
    }),
  );

  test(
    `${L} reusePort lets two endpoints bind one port; without it the second fails` +
      (onWindows ? " [Windows has no SO_REUSEPORT: refused with NotSupported]" : ""),
    onLoop(lc, async (loop) => {
      if (onWindows) {
        // asyncio refuses reuse_port where the socket module has no SO_REUSEPORT.
        await assertRejects(
          () =>
            loop.createDatagramEndpoint(() => new Recorder(), {
              localAddr: { transport: "udp", hostname: V4, port: 0 },
              reusePort: true,
            }),
          Deno.errors.NotSupported,
          "reusePort is not supported on windows",
        );
        return;
      }
      const [t1, p1] = await loop.createDatagramEndpoint(() => new Recorder(), {
        localAddr: { transport: "udp", hostname: V4, port: 0 },
        reusePort: true,
      });
      assertEquals(t1.getExtraInfo("socket")!.getsockopt("SO_REUSEPORT"), true);
      const localAddr = t1.getExtraInfo("sockname") as NetAddress;
      const [t2, p2] = await loop.createDatagramEndpoint(() => new Recorder(), {
        localAddr,
        reusePort: true,
      });
      assertEquals(t2.getExtraInfo("sockname"), localAddr);
      await assertRejects(
        () => loop.createDatagramEndpoint(() => new Recorder(), { localAddr }),
        Deno.errors.AddrInUse,
      );
      await p1.close();
      await p2.close();
    }),
  );

  test(
    `${L} multicast options go through getExtraInfo("socket").setsockopt()`,
    onLoop(lc, async (loop) => {
      const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), {
        localAddr: { transport: "udp", hostname: "0.0.0.0", port: 0 },
      });
      const sock = t.getExtraInfo("socket")!;
      sock.setsockopt("IP_MULTICAST_TTL", 2);
      assertEquals(sock.getsockopt("IP_MULTICAST_TTL"), 2);
      sock.setsockopt("IP_MULTICAST_LOOP", true);
      try {
        sock.setsockopt("IP_ADD_MEMBERSHIP", { group: "239.255.0.1", interface: V4 });
        sock.setsockopt("IP_DROP_MEMBERSHIP", { group: "239.255.0.1", interface: V4 });
      } catch (e) {
        // A sandbox without a multicast-capable interface: the option still reached the kernel.
        assertStringIncludes(String((e as Error).message), "IP_ADD_MEMBERSHIP");
      }
      await p.close();
    }),
  );

  test(
    `${L} createDatagramEndpoint() refuses reuseAddress and bad options with TypeError`,
    onLoop(lc, async (loop) => {
      const make = () => new Recorder();
      const local = { transport: "udp", hostname: V4, port: 0 } as const;
      for (const reuseAddress of [true, false]) {
        await assertRejects(
          () =>
            loop.createDatagramEndpoint(
              make,
              {
                localAddr: local,
                reuseAddress,
              } as unknown as Parameters<typeof loop.createDatagramEndpoint>[1],
            ),
          TypeError,
          "reuseAddress is not supported",
        );
      }
      const bad: [Record<string, unknown>, string][] = [
        [{ remoteAddr: { transport: "tcp", hostname: V4, port: 9 } }, 'transport "tcp"'],
        [{ localAddr: { transport: "tcp", hostname: V4, port: 0 } }, 'transport "tcp"'],
        [{}, "unexpected address family"],
        [{ family: "unspec" }, "unexpected address family"],
        [{ localAddr: "127.0.0.1:0" }, "localAddr must be"],
        [{ localAddr: { hostname: V4, port: "0" } }, "port must be an integer"],
        [{ family: "unix", localAddr: local }, 'family "unix"'],
        [{ family: "inet", localAddr: { transport: "unix", path: "/x" } }, 'needs family "unix"'],
        [
          { localAddr: local, remoteAddr: { transport: "unix", path: "/x" } },
          "both be unix or both be udp",
        ],
        [{ family: "ipx" }, "family must be"],
        [{ family: "inet", reusePort: "yes" }, "reusePort must be a boolean"],
      ];
      for (const [options, message] of bad) {
        await assertRejects(
          // deno-lint-ignore no-explicit-any
          () => loop.createDatagramEndpoint(make, options as any),
          TypeError,
          message,
        );
      }
      {
        using stream = new Socket();
        await assertRejects(
          () => loop.createDatagramEndpoint(make, { sock: stream }),
          TypeError,
          '"dgram" Socket was expected',
        );
      }
      {
        using udp = new Socket({ type: "dgram" });
        await assertRejects(
          () => loop.createDatagramEndpoint(make, { sock: udp, localAddr: local }),
          TypeError,
          "can not be used when sock is given (localAddr)",
        );
      }
      await assertRejects(
        // deno-lint-ignore no-explicit-any
        () => loop.createDatagramEndpoint(42 as any, { family: "inet" }),
        TypeError,
        "protocolFactory must be a function",
      );
      // A failing factory closes the socket it was given (the fd-leak check sees it).
      await assertRejects(
        () =>
          loop.createDatagramEndpoint(() => {
            throw new RangeError("no protocol");
          }, { family: "inet" }),
        RangeError,
      );
      assertNothingWatched(lc, loop);
    }),
  );

  test(
    `${L} an endpoint over a given sock; sendto() checks data and addresses`,
    onLoop(lc, async (loop) => {
      const sock = new Socket({ type: "dgram" });
      sock.bind({ transport: "udp", hostname: V4, port: 0 });
      const [t, p] = await loop.createDatagramEndpoint(() => new Recorder(), { sock });
      assertEquals(t.getExtraInfo("socket"), sock);
      assertEquals(t.getExtraInfo("sockname"), sock.getsockname());
      assertThrows(
        // deno-lint-ignore no-explicit-any
        () => t.sendto("text" as any, t.getExtraInfo("sockname")),
        TypeError,
        "data must be a Uint8Array",
      );
      assertThrows(
        () => t.sendto(enc.encode("x"), { transport: "udp", hostname: "localhost", port: 9 }),
        TypeError,
        "numeric IPv4 address",
      );
      assertThrows(
        () => t.sendto(enc.encode("x"), { transport: "tcp", hostname: V4, port: 9 }),
        TypeError,
        "udp",
      );
      // To itself: an unconnected endpoint hears its own datagram.
      t.sendto(new Uint16Array([1, 2]) as unknown as Uint8Array, t.getExtraInfo("sockname"));
      await p.until(() => p.datagrams.length === 1);
      assertEquals(p.datagrams[0][0], new Uint8Array(new Uint16Array([1, 2]).buffer));
      assert(t.isReading());
      t.pauseReading();
      assert(!t.isReading());
      t.resumeReading();
      // A selector loop's datagram transport names itself and its fd.
      if (lc.caps.selector) {
        assertEquals(String(t).startsWith("<SelectorDatagramTransport fd="), true);
      }
      await p.close();
      assert(sock.closed);
      assertEquals(p.made, 1);
      assertEquals(p.lost, [null]);
    }),
  );
});
