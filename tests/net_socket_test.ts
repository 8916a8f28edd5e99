import {
  assert,
  assertEquals,
  assertGreater,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertMatch,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { F_GETFD, FD_CLOEXEC, libc, makePipe } from "../ffi/unix/libc.ts";
import { K32, kernel32 } from "../ffi/windows/kernel32.ts";
import { wineVersion } from "../ffi/windows/ntdll.ts";
import { E, errnoName, sock } from "../ffi/sys.ts";
import { EVENT_READ, EVENT_WRITE, SelectSelector } from "../selectors/mod.ts";
import {
  type Address,
  type NetAddress,
  SHUT_RDWR,
  SHUT_WR,
  Socket,
  type SocketOptionInputs,
  socketpair,
  type UnixAddress,
} from "../net/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";

const onWindows = Deno.build.os === "windows";
const UNDER_WINE = onWindows && wineVersion() !== null;
/** Appended to the name of a test of what Windows lacks (AF_UNIX); such tests are ignored there. */
const UNIX_ONLY = onWindows ? " [AF_UNIX: ignored on Windows, which has none here]" : "";

// Open the libraries before any test, so no test is charged with them.
if (!onWindows) libc();
sock();

const IPV6 = (() => {
  try {
    using s = new Socket({ family: "inet6" });
    s.bind({ transport: "tcp", hostname: "::1", port: 0 });
    return true;
  } catch {
    return false;
  }
})();
// Skipped tests say why in their name.
const V6_SKIP = IPV6 ? "" : " [skipped: this kernel has no IPv6 loopback (::1)]";

const POLLIN = EVENT_READ, POLLOUT = EVENT_WRITE;

/** The `code` this OS gives the error POSIX calls `posix` ("ECONNREFUSED"; "WSAECONNREFUSED" on Windows). */
const codeOf = (posix: string): string => errnoName(E[posix]);

/** Waits up to `ms` for `events` on `fd` (a selector, so on every OS); the events ready (0 on timeout). */
function waitFd(fd: number, events: number, ms = 2000): number {
  using sel = new SelectSelector();
  sel.register(fd, events);
  const ready = sel.select(ms);
  return ready.length === 0 ? 0 : ready[0][1];
}

/** Whether a child process would not inherit `fd` (FD_CLOEXEC; on Windows no HANDLE_FLAG_INHERIT). */
function notInherited(fd: number): boolean {
  if (!onWindows) return (libc().fcntl(fd, F_GETFD) & FD_CLOEXEC) === FD_CLOEXEC;
  const flags = new Uint32Array(1);
  const h = Deno.UnsafePointer.create(BigInt(fd));
  assert(kernel32().GetHandleInformation(h, new Uint8Array(flags.buffer)) !== 0, "no handle");
  return (flags[0] & K32.HANDLE_FLAG_INHERIT) === 0;
}

/** An anonymous pipe (nonblocking ends on Unix; CreatePipe on Windows) and its closer. */
function pipe(): [number, number, () => void] {
  if (!onWindows) {
    const [r, w] = makePipe();
    return [r, w, () => (libc().close(r), libc().close(w))];
  }
  const hs = new BigUint64Array(2);
  const k = kernel32();
  const u8 = (i: number) => new Uint8Array(hs.buffer, 8 * i, 8);
  assert(k.CreatePipe(u8(0), u8(1), null, 0) !== 0, "CreatePipe failed");
  const [r, w] = [Number(hs[0]), Number(hs[1])];
  return [r, w, () => {
    k.CloseHandle(Deno.UnsafePointer.create(hs[0]));
    k.CloseHandle(Deno.UnsafePointer.create(hs[1]));
  }];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function tcp(hostname: string, port = 0): NetAddress {
  return { transport: "tcp", hostname, port };
}
function udp(hostname: string, port = 0): NetAddress {
  return { transport: "udp", hostname, port };
}

/** A listening server, a client connected to it, and the accepted end. */
function tcpPair(family: "inet" | "inet6"): [Socket, Socket, Socket, Address] {
  const host = family === "inet" ? "127.0.0.1" : "::1";
  const server = new Socket({ family });
  server.setsockopt("SO_REUSEADDR", true);
  server.bind(tcp(host));
  server.listen();
  const client = new Socket({ family });
  try {
    client.connect(server.getsockname());
  } catch (e) {
    assertInstanceOf(e, Deno.errors.WouldBlock);
    assertEquals((e as { code?: string }).code, codeOf("EINPROGRESS"));
  }
  assert(waitFd(client.fileno(), POLLOUT) & POLLOUT, "connect never finished");
  client.checkConnect();
  assert(waitFd(server.fileno(), POLLIN) & POLLIN, "no pending connection");
  const [conn, peer] = server.accept();
  return [server, client, conn, peer];
}

function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "aio_net_" });
}

Deno.test("new Socket() is a nonblocking, close-on-exec TCP/IPv4 socket", async () => {
  await assertNoFdLeak(() => {
    using s = new Socket();
    assertEquals(s.family, "inet");
    assertEquals(s.type, "stream");
    assertEquals(s.getBlocking(), false);
    assert(notInherited(s.fileno()), "close-on-exec / not inheritable");
    assertEquals(s.getsockname(), tcp("0.0.0.0", 0));
    s.setBlocking(true);
    assertEquals(s.getBlocking(), true);
    s.setBlocking(false);
    assertEquals(s.getBlocking(), false);
  });
});

for (const family of ["inet", "inet6"] as const) {
  const host = family === "inet" ? "127.0.0.1" : "::1";
  Deno.test({
    name: `Socket over TCP/${family}: connect (EINPROGRESS), accept, send, recv, EOF${
      family === "inet6" ? V6_SKIP : ""
    }`,
    ignore: family === "inet6" && !IPV6,
    fn: async () => {
      await assertNoFdLeak(() => {
        const [server, client, conn, peer] = tcpPair(family);
        using _s = server, _c = client, _a = conn;
        const local = server.getsockname() as NetAddress;
        assertEquals(local.transport, "tcp");
        assertEquals(local.hostname, host);
        assertGreater(local.port, 0);
        assertEquals(client.getpeername(), local);
        assertEquals(peer, client.getsockname());
        assertEquals(conn.getpeername(), peer);
        assertEquals(conn.getBlocking(), false);
        assert(notInherited(conn.fileno()), "close-on-exec / not inheritable");

        // Nothing to read yet: -1 / null, no exception.
        const buf = new Uint8Array(64);
        assertEquals(conn.recvInto(buf), -1);
        assertEquals(conn.recv(10), null);

        assertEquals(client.send(enc.encode("hello, world")), 12);
        assert(waitFd(conn.fileno(), POLLIN) & POLLIN);
        assertEquals(conn.recvInto(buf, 5), 5);
        assertEquals(dec.decode(buf.subarray(0, 5)), "hello");
        assertEquals(dec.decode(conn.recv(100)!), ", world");

        assertEquals(conn.send(enc.encode("pong")), 4);
        assert(waitFd(client.fileno(), POLLIN) & POLLIN);
        const [data, from] = client.recvfrom(16)!;
        assertEquals(dec.decode(data), "pong");
        assertEquals(from, local);

        client.shutdown(SHUT_WR);
        assert(waitFd(conn.fileno(), POLLIN) & POLLIN);
        assertEquals(conn.recv(10), new Uint8Array(0));
        assertEquals(conn.recvInto(buf), 0);
      });
    },
  });
}

Deno.test("Socket.accept() throws WouldBlock when nothing is pending", async () => {
  await assertNoFdLeak(() => {
    using server = new Socket();
    server.bind(tcp("127.0.0.1"));
    server.listen(4);
    const e = assertThrows(() => server.accept(), Deno.errors.WouldBlock);
    assertEquals((e as unknown as { code: string }).code, codeOf("EAGAIN"));
  });
});

Deno.test("Socket.connect() to a closed port rejects with ConnectionRefused", async () => {
  await assertNoFdLeak(() => {
    let port: number;
    {
      using probe = new Socket();
      probe.bind(tcp("127.0.0.1"));
      port = (probe.getsockname() as NetAddress).port;
    }
    using client = new Socket();
    try {
      client.connect(tcp("127.0.0.1", port));
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionRefused) return; // refused at once: also right
      assertInstanceOf(e, Deno.errors.WouldBlock);
      assert(waitFd(client.fileno(), POLLOUT) !== 0, "connect never finished");
      const err = assertThrows(() => client.checkConnect(), Deno.errors.ConnectionRefused);
      assertEquals((err as unknown as { code: string }).code, codeOf("ECONNREFUSED"));
      assertStringIncludes(err.message, `127.0.0.1:${port}`);
      return;
    }
    throw new Error("connect to a closed port succeeded");
  });
});

Deno.test("Socket.connectEx() returns the errno instead of throwing", async () => {
  await assertNoFdLeak(() => {
    using server = new Socket();
    server.bind(tcp("127.0.0.1"));
    server.listen();
    using client = new Socket();
    const rc = client.connectEx(server.getsockname());
    assert(rc === 0 || rc === E.EINPROGRESS, `connectEx gave ${rc}`);
    assert(waitFd(client.fileno(), POLLOUT) & POLLOUT);
    assertEquals(client.getsockopt("SO_ERROR"), 0);
  });
});

Deno.test("SO_LINGER 0 makes close() reset: the peer gets ConnectionReset", async () => {
  await assertNoFdLeak(() => {
    const [server, client, conn] = tcpPair("inet");
    using _s = server, _c = client;
    conn.setsockopt("SO_LINGER", { onoff: true, linger: 0 });
    assertEquals(conn.getsockopt("SO_LINGER"), { onoff: true, linger: 0 });
    conn.close();
    assert(waitFd(client.fileno(), POLLIN) !== 0);
    const e = assertThrows(() => client.recv(10), Deno.errors.ConnectionReset);
    assertEquals((e as unknown as { code: string }).code, codeOf("ECONNRESET"));
  });
});

Deno.test("Socket.send() to a reset peer throws BrokenPipe or ConnectionReset, no SIGPIPE", async () => {
  await assertNoFdLeak(() => {
    const [server, client, conn] = tcpPair("inet");
    using _s = server, _c = client;
    conn.close();
    assert(waitFd(client.fileno(), POLLIN) !== 0);
    let err: unknown;
    for (let i = 0; i < 100 && err === undefined; i++) {
      try {
        client.send(new Uint8Array(1024));
      } catch (e) {
        err = e;
      }
    }
    assert(
      err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.ConnectionReset,
      `got ${err}`,
    );
  });
});

Deno.test("Socket.send() returns -1 when the buffer is full", async () => {
  await assertNoFdLeak(() => {
    const [server, client, conn] = tcpPair("inet");
    using _s = server, _c = client, _a = conn;
    client.setsockopt("SO_SNDBUF", 4096);
    const chunk = new Uint8Array(65536);
    let total = 0;
    for (let i = 0; i < 10000; i++) {
      const n = client.send(chunk);
      if (n === -1) break;
      total += n;
    }
    assertEquals(client.send(chunk), -1);
    assertGreater(total, 0);
  });
});

for (const family of ["inet", "inet6"] as const) {
  const host = family === "inet" ? "127.0.0.1" : "::1";
  Deno.test({
    name: `Socket over UDP/${family}: sendto, recvfrom, recvfromInto${
      family === "inet6" ? V6_SKIP : ""
    }`,
    ignore: family === "inet6" && !IPV6,
    fn: async () => {
      await assertNoFdLeak(() => {
        using a = new Socket({ family, type: "dgram" });
        using b = new Socket({ family, type: "dgram" });
        a.bind(udp(host));
        b.bind(udp(host));
        const aAddr = a.getsockname() as NetAddress;
        assertEquals(aAddr.transport, "udp");
        assertEquals(aAddr.hostname, host);
        assertEquals(b.recvfrom(100), null);
        assertEquals(b.recvfromInto(new Uint8Array(8)), null);

        assertEquals(a.sendto(enc.encode("ping"), b.getsockname()), 4);
        assert(waitFd(b.fileno(), POLLIN) & POLLIN);
        const [data, from] = b.recvfrom(100)!;
        assertEquals(dec.decode(data), "ping");
        assertEquals(from, aAddr);

        assertEquals(b.sendto(enc.encode("pong!"), from), 5);
        assert(waitFd(a.fileno(), POLLIN) & POLLIN);
        const buf = new Uint8Array(16);
        const [n, from2] = a.recvfromInto(buf)!;
        assertEquals(dec.decode(buf.subarray(0, n)), "pong!");
        assertEquals(from2, b.getsockname());

        // A connected datagram socket uses send/recv.
        a.connect(b.getsockname());
        assertEquals(a.getpeername(), b.getsockname());
        assertEquals(a.send(enc.encode("x")), 1);
        assert(waitFd(b.fileno(), POLLIN) & POLLIN);
        assertEquals(b.recv(10), enc.encode("x"));
      });
    },
  });
}

Deno.test({
  name:
    "Socket.recv()/recvfrom() over 256 KiB: whole and short reads give exactly the bytes, each in a buffer of its own" +
    UNIX_ONLY,
  ignore: onWindows,
  fn: async () => {
    await assertNoFdLeak(() => {
      const [a, b] = socketpair();
      using _a = a;
      using _b = b;
      // An AF_UNIX stream queues up to the sender's SO_SNDBUF, read back in one recv().
      a.setsockopt("SO_SNDBUF", 1024 * 1024);
      const N = 256 * 1024 + 4096;
      const src = new Uint8Array(N).map((_, i) => (i * 7) % 251);
      assertEquals(a.send(src), N, "the whole message was not queued at once");
      const whole = b.recv(N)!;
      assertEquals(whole.byteLength, N);
      assertEquals(whole.buffer.byteLength, N);
      assertEquals(whole, src);
      assertEquals(a.send(src.subarray(0, 1000)), 1000);
      const short = b.recv(N)!; // asks for more than is queued: a copy of what came
      assertEquals(short.byteLength, 1000);
      assertEquals(short.buffer.byteLength, 1000);
      assertEquals(short, src.subarray(0, 1000));
      assert(short.buffer !== whole.buffer);
      assertEquals(whole, src, "a later receive changed an earlier result");
      const [d, from] = (a.send(src), b.recvfrom(N)!);
      assertEquals(d.byteLength, N);
      assertEquals(d, src);
      assert(d.buffer !== whole.buffer);
      assertEquals(from.transport, "unix");
    });
  },
});

Deno.test({
  name: "Socket over unix stream with a path: addresses and data" + UNIX_ONLY,
  ignore: onWindows,
  fn: async () => {
    const dir = tempDir();
    try {
      await assertNoFdLeak(() => {
        const path = `${dir}/s.sock`;
        using server = new Socket({ family: "unix" });
        server.bind({ transport: "unix", path });
        server.listen();
        assertEquals(server.getsockname(), { transport: "unix", path });
        using client = new Socket({ family: "unix" });
        assertEquals(client.getsockname(), { transport: "unix", path: "" });
        client.connect({ transport: "unix", path });
        assert(waitFd(server.fileno(), POLLIN) & POLLIN);
        const [conn, peer] = server.accept();
        using _a = conn;
        assertEquals(peer, { transport: "unix", path: "" });
        assertEquals(client.getpeername(), { transport: "unix", path });
        assertEquals(conn.family, "unix");
        assertEquals(conn.type, "stream");
        assertEquals(client.send(enc.encode("over unix")), 9);
        assert(waitFd(conn.fileno(), POLLIN) & POLLIN);
        assertEquals(dec.decode(conn.recv(64)!), "over unix");
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Socket over unix dgram with a path: sendto/recvfrom give the sender's path" + UNIX_ONLY,
  ignore: onWindows,
  fn: async () => {
    const dir = tempDir();
    try {
      await assertNoFdLeak(() => {
        const pa: UnixAddress = { transport: "unix", path: `${dir}/a.sock` };
        const pb: UnixAddress = { transport: "unix", path: `${dir}/b.sock` };
        using a = new Socket({ family: "unix", type: "dgram" });
        using b = new Socket({ family: "unix", type: "dgram" });
        a.bind(pa);
        b.bind(pb);
        assertEquals(a.sendto(enc.encode("hi"), pb), 2);
        assert(waitFd(b.fileno(), POLLIN) & POLLIN);
        assertEquals(b.recvfrom(10), [enc.encode("hi"), pa]);
        // Deno names unix datagram addresses "unixpacket": accepted on input.
        assertEquals(b.sendto(enc.encode("yo"), { transport: "unixpacket", path: pa.path }), 2);
        assert(waitFd(a.fileno(), POLLIN) & POLLIN);
        assertEquals(a.recvfrom(10), [enc.encode("yo"), pb]);
        // An unnamed sender shows as path "".
        using anon = new Socket({ family: "unix", type: "dgram" });
        anon.sendto(enc.encode("?"), pb);
        assert(waitFd(b.fileno(), POLLIN) & POLLIN);
        assertEquals(b.recvfrom(10), [enc.encode("?"), { transport: "unix", path: "" }]);
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Socket over unix with Linux abstract names (stream and dgram)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await assertNoFdLeak(() => {
      const tag = `aio-${Deno.pid}-${Math.random().toString(36).slice(2)}`;
      const sAddr: UnixAddress = { transport: "unix", path: `\0${tag}-stream` };
      using server = new Socket({ family: "unix" });
      server.bind(sAddr);
      server.listen();
      assertEquals(server.getsockname(), sAddr);
      using client = new Socket({ family: "unix" });
      client.connect(sAddr);
      assertEquals(client.getpeername(), sAddr);
      assert(waitFd(server.fileno(), POLLIN) & POLLIN);
      const [conn] = server.accept();
      using _a = conn;
      assertEquals(conn.getsockname(), sAddr);

      const dAddr: UnixAddress = { transport: "unix", path: `\0${tag}-dgram` };
      using d = new Socket({ family: "unix", type: "dgram" });
      d.bind(dAddr);
      using sender = new Socket({ family: "unix", type: "dgram" });
      sender.bind({ transport: "unix", path: "" }); // Linux autobind: an abstract name
      const auto = sender.getsockname() as UnixAddress;
      assert(auto.path.startsWith("\0") && auto.path.length > 1, JSON.stringify(auto));
      sender.sendto(enc.encode("abs"), dAddr);
      assert(waitFd(d.fileno(), POLLIN) & POLLIN);
      assertEquals(d.recvfrom(10), [enc.encode("abs"), auto]);
    });
  },
});

Deno.test({
  name: "Socket over unix seqpacket reports transport unixpacket",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await assertNoFdLeak(() => {
      const addr: UnixAddress = { transport: "unixpacket", path: `\0aio-seq-${Deno.pid}` };
      using server = new Socket({ family: "unix", type: "seqpacket" });
      server.bind(addr);
      server.listen();
      assertEquals(server.getsockname(), addr);
      using client = new Socket({ family: "unix", type: "seqpacket" });
      client.connect(addr);
      assert(waitFd(server.fileno(), POLLIN) & POLLIN);
      const [conn, peer] = server.accept();
      using _a = conn;
      assertEquals(peer, { transport: "unixpacket", path: "" });
      assertEquals(conn.type, "seqpacket");
    });
  },
});

Deno.test("Socket.setsockopt()/getsockopt() round-trip every named option", async () => {
  await assertNoFdLeak(() => {
    using t = new Socket();
    using u = new Socket({ type: "dgram" });
    // Windows has no SO_REUSEPORT: refused by name before the OS is asked.
    const reusePort = onWindows ? [] : ["SO_REUSEPORT"] as const;
    if (onWindows) {
      assertThrows(() => t.setsockopt("SO_REUSEPORT", true), Deno.errors.NotSupported, "windows");
      assertThrows(() => t.getsockopt("SO_REUSEPORT"), Deno.errors.NotSupported, "windows");
    }
    for (const name of ["SO_REUSEADDR", ...reusePort, "SO_KEEPALIVE", "TCP_NODELAY"] as const) {
      t.setsockopt(name, true);
      assertStrictEquals(t.getsockopt(name), true, name);
      t.setsockopt(name, 0);
      assertStrictEquals(t.getsockopt(name), false, name);
    }
    u.setsockopt("SO_BROADCAST", 1);
    assertStrictEquals(u.getsockopt("SO_BROADCAST"), true);
    for (const name of ["SO_RCVBUF", "SO_SNDBUF"] as const) {
      t.setsockopt(name, 16384);
      assertGreaterOrEqual(t.getsockopt(name), 16384, name); // Linux doubles it
    }
    t.setsockopt("SO_LINGER", { onoff: true, linger: 5 });
    assertEquals(t.getsockopt("SO_LINGER"), { onoff: true, linger: 5 });
    t.setsockopt("SO_LINGER", { onoff: false, linger: 0 });
    assertEquals(t.getsockopt("SO_LINGER").onoff, false);
    assertStrictEquals(t.getsockopt("SO_ERROR"), 0);

    u.setsockopt("IP_MULTICAST_TTL", 7);
    assertStrictEquals(u.getsockopt("IP_MULTICAST_TTL"), 7);
    u.setsockopt("IP_MULTICAST_LOOP", false);
    assertStrictEquals(u.getsockopt("IP_MULTICAST_LOOP"), false);
    u.setsockopt("IP_MULTICAST_LOOP", true);
    assertStrictEquals(u.getsockopt("IP_MULTICAST_LOOP"), true);
    u.setsockopt("IP_ADD_MEMBERSHIP", { group: "239.255.42.1", interface: "127.0.0.1" });
    u.setsockopt("IP_DROP_MEMBERSHIP", { group: "239.255.42.1", interface: "127.0.0.1" });
    u.setsockopt("IP_ADD_MEMBERSHIP", { group: "239.255.42.2" });
    u.setsockopt("IP_DROP_MEMBERSHIP", { group: "239.255.42.2" });
  });
});

Deno.test({
  name: "Socket.setsockopt()/getsockopt() round-trip the IPv6 options (ff02::1 on lo)" + V6_SKIP,
  ignore: !IPV6,
  fn: async () => {
    await assertNoFdLeak(() => {
      using s = new Socket({ family: "inet6", type: "dgram" });
      s.setsockopt("IPV6_V6ONLY", true);
      assertStrictEquals(s.getsockopt("IPV6_V6ONLY"), true);
      s.setsockopt("IPV6_V6ONLY", false);
      assertStrictEquals(s.getsockopt("IPV6_V6ONLY"), false);
      s.setsockopt("IPV6_MULTICAST_HOPS", 9);
      assertStrictEquals(s.getsockopt("IPV6_MULTICAST_HOPS"), 9);
      s.setsockopt("IPV6_MULTICAST_HOPS", -1); // the default
      assertGreaterOrEqual(s.getsockopt("IPV6_MULTICAST_HOPS"), 0);
      s.setsockopt("IPV6_MULTICAST_LOOP", false);
      assertStrictEquals(s.getsockopt("IPV6_MULTICAST_LOOP"), false);
      // By name where the loopback interface has a short one; Windows' is index 1.
      const ifc = Deno.build.os === "darwin" ? "lo0" : onWindows ? 1 : "lo";
      s.setsockopt("IPV6_JOIN_GROUP", { group: "ff02::1", interface: ifc });
      s.setsockopt("IPV6_LEAVE_GROUP", { group: "ff02::1", interface: ifc });
      s.setsockopt("IPV6_JOIN_GROUP", { group: "ff12::4242", interface: 1 });
      s.setsockopt("IPV6_LEAVE_GROUP", { group: "ff12::4242", interface: 1 });
    });
  },
});

Deno.test("Socket.setsockopt()/getsockopt() reject unknown names and bad values", async () => {
  await assertNoFdLeak(() => {
    using s = new Socket();
    // deno-lint-ignore no-explicit-any
    const anyS = s as any;
    const e = assertThrows(() => anyS.setsockopt("SO_BOGUS", 1), TypeError, "unknown option");
    assertStringIncludes(e.message, "SO_REUSEADDR");
    assertStringIncludes(e.message, "IPV6_LEAVE_GROUP");
    assertThrows(() => anyS.getsockopt("SO_BOGUS"), TypeError, "known options");
    assertThrows(() => anyS.getsockopt(42), TypeError, "unknown option");
    assertThrows(() => anyS.setsockopt("SO_REUSEADDR", "yes"), TypeError, "boolean");
    assertThrows(() => anyS.setsockopt("SO_REUSEADDR", 2), TypeError, "boolean");
    assertThrows(() => anyS.setsockopt("SO_RCVBUF", "big"), TypeError, "integer");
    assertThrows(() => anyS.setsockopt("SO_RCVBUF", -1), RangeError);
    assertThrows(() => anyS.setsockopt("IP_MULTICAST_TTL", 256), RangeError);
    assertThrows(() => anyS.setsockopt("SO_LINGER", 5), TypeError, "{ onoff, linger }");
    assertThrows(() => anyS.setsockopt("SO_LINGER", { onoff: true }), TypeError, "integer");
    assertThrows(() => anyS.setsockopt("SO_ERROR", 0), TypeError, "can only be read");
    assertThrows(() => anyS.getsockopt("IP_ADD_MEMBERSHIP"), TypeError, "can only be set");
    assertThrows(
      () => anyS.setsockopt("IP_ADD_MEMBERSHIP", { group: "ff02::1" }),
      TypeError,
      "IPv4",
    );
    assertThrows(
      () => anyS.setsockopt("IPV6_JOIN_GROUP", { group: "ff02::1", interface: "nope0" }),
      TypeError,
      "no network interface",
    );
  });
});

Deno.test({
  name: "Socket.setsockopt(): the kernel's refusal is a Deno-style error with a code" +
    (UNDER_WINE ? " [Wine accepts IPV6_V6ONLY on an IPv4 socket, Windows does not]" : ""),
  ignore: UNDER_WINE,
  fn: async () => {
    await assertNoFdLeak(() => {
      using s = new Socket();
      const k = assertThrows(() => s.setsockopt("IPV6_V6ONLY", true), Error);
      // Linux and macOS: ENOPROTOOPT; Windows: WSAEINVAL (Python's socket tests expect it too).
      const want = onWindows ? codeOf("EINVAL") : codeOf("ENOPROTOOPT");
      assertEquals((k as unknown as { code: string }).code, want);
    });
  },
});

Deno.test("Socket rejects bad arguments with TypeError/RangeError", async () => {
  const dir = tempDir();
  try {
    await assertNoFdLeak(() => {
      using s = new Socket();
      // deno-lint-ignore no-explicit-any
      const anyS = s as any;
      assertThrows(() => s.bind(tcp("127.0.0.1", 70000)), RangeError, "between 0 and 65535");
      assertThrows(() => s.bind(tcp("127.0.0.1", 1.5)), TypeError, "integer");
      assertThrows(
        () => anyS.bind({ transport: "tcp", hostname: "127.0.0.1", port: "80" }),
        TypeError,
      );
      assertThrows(() => s.bind(tcp("not-an-ip")), TypeError, "getaddrinfo");
      assertThrows(() => s.bind(tcp("::1")), TypeError, "inet6 socket");
      assertThrows(() => s.bind(udp("127.0.0.1")), TypeError, '"tcp"');
      assertThrows(() => anyS.bind(null), TypeError, "object");
      assertThrows(() => anyS.bind("127.0.0.1:80"), TypeError, "object");
      assertThrows(() => s.bind({ transport: "unix", path: "/tmp/x" }), TypeError, "transport");
      assertThrows(() => anyS.listen(-1), RangeError);
      assertThrows(() => anyS.listen("5"), TypeError);
      assertThrows(() => anyS.send("text"), TypeError, "Uint8Array");
      assertThrows(() => anyS.send(new Uint8Array(1), -1), TypeError, "flags");
      assertThrows(() => s.recvInto(new Uint8Array(4), 5), RangeError);
      assertThrows(() => anyS.recv(-1), RangeError);
      assertThrows(() => s.shutdown(7), RangeError, "SHUT_RD");
      assertThrows(() => anyS.setBlocking(1), TypeError, "boolean");

      assertThrows(() => new Socket({ family: "ipx" as "inet" }), TypeError, '"inet"');
      assertThrows(() => new Socket({ type: "raw" as "stream" }), TypeError, '"stream"');
      assertThrows(() => new Socket({ fd: "3" as unknown as number }), TypeError, "integer");
      assertThrows(() => Socket.fromFd(-1), RangeError);
      assertThrows(() => Socket.fromFd(1.5), TypeError);

      if (onWindows) {
        // No AF_UNIX here: refused by name, nothing opened.
        assertThrows(() => new Socket({ family: "unix" }), Deno.errors.NotSupported, "AF_UNIX");
        return;
      }
      using u = new Socket({ family: "unix" });
      const long = `${dir}/${"x".repeat(200)}`;
      assertThrows(() => u.bind({ transport: "unix", path: long }), RangeError, "limit is 108");
      assertThrows(() => u.bind({ transport: "unix", path: "a\0b" }), TypeError, "NUL");
      assertThrows(() => u.bind(tcp("127.0.0.1")), TypeError, "unix");
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("Socket methods after close() throw BadResource; close() is idempotent", async () => {
  await assertNoFdLeak(() => {
    const s = new Socket({ type: "dgram" });
    assertEquals(s.closed, false);
    s.close();
    s.close();
    s[Symbol.dispose]();
    assertEquals(s.closed, true);
    assertEquals(s.fileno(), -1);
    assertEquals(s.family, "inet");
    const calls: Array<[string, () => unknown]> = [
      ["bind", () => s.bind(udp("127.0.0.1"))],
      ["listen", () => s.listen()],
      ["accept", () => s.accept()],
      ["connect", () => s.connect(udp("127.0.0.1", 9))],
      ["connectEx", () => s.connectEx(udp("127.0.0.1", 9))],
      ["checkConnect", () => s.checkConnect()],
      ["send", () => s.send(new Uint8Array(1))],
      ["sendto", () => s.sendto(new Uint8Array(1), udp("127.0.0.1", 9))],
      ["recv", () => s.recv(1)],
      ["recvInto", () => s.recvInto(new Uint8Array(1))],
      ["recvfrom", () => s.recvfrom(1)],
      ["recvfromInto", () => s.recvfromInto(new Uint8Array(1))],
      ["shutdown", () => s.shutdown(SHUT_RDWR)],
      ["setBlocking", () => s.setBlocking(true)],
      ["getBlocking", () => s.getBlocking()],
      ["getsockname", () => s.getsockname()],
      ["getpeername", () => s.getpeername()],
      ["setsockopt", () => s.setsockopt("SO_BROADCAST", true)],
      ["getsockopt", () => s.getsockopt("SO_BROADCAST")],
      ["detach", () => s.detach()],
    ];
    for (const [name, call] of calls) {
      const e = assertThrows(call, Deno.errors.BadResource, "closed");
      assertStringIncludes(e.message, name, name);
      assertEquals((e as unknown as { code: string }).code, codeOf("EBADF"));
    }
  });
});

Deno.test("Socket.fromFd() adopts a socket fd and reads its family and type", async () => {
  await assertNoFdLeak(() => {
    const orig = new Socket({ family: "inet6", type: "dgram" });
    const fd = orig.detach();
    assertEquals(orig.closed, true);
    using s = Socket.fromFd(fd);
    assertEquals(s.fileno(), fd);
    assertEquals(s.family, "inet6");
    assertEquals(s.type, "dgram");
    assertThrows(() => Socket.fromFd(fd, { type: "stream" }), TypeError, "inet6 dgram");
    assertEquals(new Socket({ fd, family: "inet6" }).detach(), fd);

    const [r, _w, closePipe] = pipe();
    try {
      assertThrows(() => Socket.fromFd(r), TypeError, "not a socket");
    } finally {
      closePipe();
    }
    assertThrows(() => Socket.fromFd(r), Deno.errors.BadResource);
  });
});

Deno.test("Socket.getpeername() of an unconnected socket throws NotConnected", async () => {
  await assertNoFdLeak(() => {
    using s = new Socket();
    const e = assertThrows(() => s.getpeername(), Deno.errors.NotConnected);
    assertMatch(e.message, /getpeername \(fd \d+\) failed/);
  });
});

Deno.test("Socket.bind() of a used address throws AddrInUse", async () => {
  await assertNoFdLeak(() => {
    using a = new Socket();
    a.bind(tcp("127.0.0.1"));
    a.listen();
    using b = new Socket();
    const e = assertThrows(() => b.bind(a.getsockname()), Deno.errors.AddrInUse);
    assertStringIncludes(e.message, (a.getsockname() as NetAddress).port.toString());
  });
});

Deno.test({
  name: "Socket.bind() accepts an IPv6 scope by interface name or number" + V6_SKIP,
  ignore: !IPV6,
  fn: async () => {
    await assertNoFdLeak(() => {
      using s = new Socket({ family: "inet6", type: "dgram" });
      // Windows' loopback interface has a long name; its index is 1.
      const ifc = Deno.build.os === "darwin" ? "lo0" : onWindows ? "1" : "lo";
      s.bind(udp(`::1%${ifc}`));
      const got = s.getsockname() as NetAddress;
      assert(got.hostname === "::1" || got.hostname.startsWith("::1%"), got.hostname);
      using t = new Socket({ family: "inet6", type: "dgram" });
      assertThrows(() => t.bind(udp("::1%nosuchif0")), TypeError, "no network interface");
      assertThrows(() => t.bind(udp("::1%")), TypeError, "scope");
    });
  },
});

Deno.test("Socket options accept the typed shapes", () => {
  // Compile-time check that the option map matches what setsockopt takes.
  const v: SocketOptionInputs["SO_LINGER"] = { onoff: 1, linger: 0 };
  assertEquals(v.onoff, 1);
});
