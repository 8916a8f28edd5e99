import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { CancelledError, EVENT_READ, EVENT_WRITE, sleep, waitFor } from "../mod.ts";
import { EVENT_INTERVAL } from "../loop/base/base_event_loop.ts";
import {
  type Address,
  type NetAddress,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
  Socket,
  type SocketFamily,
} from "../net/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, forOneLoop, LOOPS, selectorOf, type TestLoop } from "./_loops.ts";
import { onLoop } from "./_stream_helpers.ts";
import { closeSocketFd, sendFd, socketPairFds } from "./_sockets.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function hasIPv6(): boolean {
  try {
    using s = new Socket({ family: "inet6" });
    s.bind({ transport: "tcp", hostname: "::1", port: 0 });
    return true;
  } catch {
    return false;
  }
}
const IPV6 = hasIPv6();

function listener(family: SocketFamily = "inet"): Socket {
  const s = new Socket({ family });
  s.bind({ transport: "tcp", hostname: family === "inet6" ? "::1" : "127.0.0.1", port: 0 });
  s.listen();
  return s;
}

/** A connected pair through the loop: [client, server side]. */
async function connectedPair(
  loop: TestLoop,
  family: SocketFamily = "inet",
): Promise<[Socket, Socket]> {
  using lsock = listener(family);
  const client = new Socket({ family });
  const accepted = loop.sockAccept(lsock);
  await loop.sockConnect(client, lsock.getsockname());
  const [conn] = await accepted;
  return [client, conn];
}

async function recvExactly(loop: TestLoop, sock: Socket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let got = 0; got < n;) {
    const k = await loop.sockRecvInto(sock, out.subarray(got));
    if (k === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

type Watchers = { reader: unknown; writer: unknown };

/** Whether the loop has a reader or writer on `sock` (a released fd may stay registered until the next poll). */
function watched(loop: TestLoop, sock: Socket): boolean {
  const w = selectorOf(loop).getMap().get(sock.fileno())?.data as Watchers | undefined;
  return w !== undefined && (w.reader !== null || w.writer !== null);
}

/**
 * Starts `loop.sockSendall(sock, data)` again and again until one waits for writability (the
 * first, on Unix): Windows never reports a partial nonblocking send. A send that finds room in
 * the socket's buffer is taken whole (the rest goes out in the background) and only one that
 * finds the buffer full would block. Returns the waiting send and how many were taken before it.
 */
async function sendallUntilWatched(
  loop: TestLoop,
  sock: Socket,
  data: Uint8Array,
  options?: { signal?: AbortSignal },
): Promise<[Promise<void>, number]> {
  for (let taken = 0;; taken++) {
    const sending = loop.sockSendall(sock, data, options);
    if (watched(loop, sock) || taken === 8) return [sending, taken];
    await sending;
  }
}

/** How many fds the loop has a reader or writer on. */
function liveWatches(loop: TestLoop): number {
  let n = 0;
  for (const key of selectorOf(loop).getMap().values()) {
    const w = key.data as Watchers;
    if (w.reader !== null || w.writer !== null) n++;
  }
  return n;
}

/** What the selector held when the loop polled it. */
interface Poll {
  /** The fds registered. */
  fds: number[];
  /** The fds registered for events no watcher wants (a release not yet settled). */
  stale: number[];
}

/**
 * Instruments the loop's selector: each `select()`/`selectAsync()` (the loop
 * polling, after it settled released watches) first records what is registered.
 */
function recordPolls(loop: TestLoop): Poll[] {
  const selector = selectorOf(loop);
  const polls: Poll[] = [];
  const snapshot = () => {
    const fds: number[] = [], stale: number[] = [];
    for (const key of selector.getMap().values()) {
      const w = key.data as Watchers;
      const wanted = (w.reader !== null ? EVENT_READ : 0) | (w.writer !== null ? EVENT_WRITE : 0);
      fds.push(key.fd);
      if (key.events !== wanted) stale.push(key.fd);
    }
    polls.push({ fds, stale });
  };
  const { select, selectAsync } = selector;
  selector.select = (timeoutMs) => {
    snapshot();
    return select.call(selector, timeoutMs);
  };
  selector.selectAsync = (timeoutMs) => {
    snapshot();
    return selectAsync.call(selector, timeoutMs);
  };
  return polls;
}

/**
 * Runs the loop one iteration at a time (a callSoon() chain: each iteration
 * has a callback ready) until `cond()` holds; with a callback ready the loop
 * polls every EVENT_INTERVAL iterations, so `cond` waiting for a poll holds
 * within that many, on any machine.
 */
function iterateUntil(loop: TestLoop, cond: () => boolean, max: number): Promise<number> {
  const { promise, resolve, reject } = Promise.withResolvers<number>();
  let n = 0;
  const step = () => {
    if (cond()) resolve(n);
    else if (++n > max) reject(new Error(`still not so after ${max} loop iterations`));
    else loop.callSoon(step);
  };
  loop.callSoon(step);
  return promise;
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 11)) & 0xff;
  return b;
}

forEachLoop([], (lc, test) => {
  const L = lc.name;

  for (const family of ["inet", "inet6"] as const) {
    test({
      name: `${L} sockConnect/sockAccept/sockSendall/sockRecv echo over TCP ${family}`,
      ignore: family === "inet6" && !IPV6,
      needs: ["selector"],
      fn: onLoop(lc, async (loop) => {
        using lsock = listener(family);
        const server = loop.createTask(async () => {
          const [conn, peer] = await loop.sockAccept(lsock);
          using _ = conn;
          assertEquals((peer as NetAddress).transport, "tcp");
          for (;;) {
            const data = await loop.sockRecv(conn, 1024);
            if (data.length === 0) return;
            await loop.sockSendall(conn, data);
          }
        });
        {
          using client = new Socket({ family });
          await loop.sockConnect(client, lsock.getsockname());
          for (const word of ["hello", "asyncio", "on deno"]) {
            await loop.sockSendall(client, enc.encode(word));
            assertEquals(dec.decode(await recvExactly(loop, client, word.length)), word);
          }
        }
        await server;
        assertEquals(liveWatches(loop), 0);
      }),
    });
  }

  test(
    `${L}.sockSendall() of 4 MiB waits for writability while the peer reads slowly`,
    ["selector"],
    onLoop(lc, async (loop) => {
      const [client, conn] = await connectedPair(loop);
      using _c = client;
      using _s = conn;
      client.setsockopt("SO_SNDBUF", 16384);
      conn.setsockopt("SO_RCVBUF", 16384);
      const data = pattern(4 * 1024 * 1024);
      // The kernel cannot take 4 MiB at once: the rest waits for writability.
      const [sending, taken] = await sendallUntilWatched(loop, client, data);
      assert(watched(loop, client), "sockSendall() should wait for the fd to be writable");
      const got = new Uint8Array(data.length * (taken + 1));
      let n = 0, reads = 0;
      while (n < got.length) {
        const k = await loop.sockRecvInto(conn, got.subarray(n, Math.min(n + 65536, got.length)));
        assert(k > 0);
        n += k;
        if (++reads % 32 === 0) await sleep(1); // a slow reader
      }
      await sending;
      for (let i = 0; i <= taken; i++) {
        assertEquals(got.subarray(i * data.length, (i + 1) * data.length), data);
      }
      assertEquals(watched(loop, client), false);
    }),
  );

  test(
    `${L}.sockSendto()/sockRecvfrom()/sockRecvfromInto() over UDP`,
    ["selector"],
    onLoop(lc, async (loop) => {
      using a = new Socket({ type: "dgram" });
      using b = new Socket({ type: "dgram" });
      a.bind({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      b.bind({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const receiving = loop.sockRecvfrom(b, 2048); // waits: nothing sent yet
      assert(watched(loop, b));
      assertEquals(await loop.sockSendto(a, enc.encode("ping"), b.getsockname()), 4);
      const [data, from] = await receiving;
      assertEquals(dec.decode(data), "ping");
      assertEquals(from, a.getsockname());
      await loop.sockSendto(b, enc.encode("pong!"), from);
      const buf = new Uint8Array(16);
      const [n, from2] = await loop.sockRecvfromInto(a, buf, 8);
      assertEquals(dec.decode(buf.subarray(0, n)), "pong!");
      assertEquals(from2, b.getsockname());
      assertEquals(liveWatches(loop), 0);
    }),
  );

  test(
    `${L}: a datagram longer than the buffer is cut to it and the rest dropped, on every OS`,
    ["selector"],
    onLoop(lc, async (loop) => {
      using a = new Socket({ type: "dgram" });
      using b = new Socket({ type: "dgram" });
      a.bind({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      b.bind({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      // (Winsock fails such a read with WSAEMSGSIZE after filling the buffer; Unix does not.)
      await loop.sockSendto(a, enc.encode("truncated"), b.getsockname());
      const [data, from] = await loop.sockRecvfrom(b, 5);
      assertEquals(dec.decode(data), "trunc");
      assertEquals(from, a.getsockname());
      await loop.sockSendto(a, enc.encode("cut short"), b.getsockname());
      const buf = new Uint8Array(16);
      assertEquals(await loop.sockRecvfromInto(b, buf, 3), [3, a.getsockname()]);
      assertEquals(dec.decode(buf.subarray(0, 4)), "cut\0");
      await loop.sockSendto(a, enc.encode("via recv"), b.getsockname());
      assertEquals(dec.decode(await loop.sockRecv(b, 3)), "via");
      // The rest of each was dropped: the next datagram read is the next one sent.
      await loop.sockSendto(a, enc.encode("next"), b.getsockname());
      assertEquals(dec.decode(await loop.sockRecv(b, 100)), "next");
      assertEquals(liveWatches(loop), 0);
    }),
  );

  test(
    `${L} sock calls over unix stream and datagram sockets`,
    ["unixSockets"],
    onLoop(lc, async (loop) => {
      const dir = Deno.makeTempDirSync();
      try {
        const path = `${dir}/s`;
        {
          using lsock = new Socket({ family: "unix" });
          lsock.bind({ transport: "unix", path });
          lsock.listen();
          using client = new Socket({ family: "unix" });
          const accepted = loop.sockAccept(lsock);
          await loop.sockConnect(client, { transport: "unix", path });
          const [conn, peer] = await accepted;
          using _ = conn;
          assertEquals(peer.transport, "unix");
          await loop.sockSendall(client, enc.encode("over unix"));
          assertEquals(dec.decode(await recvExactly(loop, conn, 9)), "over unix");
          client.close();
          assertEquals((await loop.sockRecv(conn, 100)).length, 0); // end of stream
        }
        {
          const pa = `${dir}/a`, pb = `${dir}/b`;
          using a = new Socket({ family: "unix", type: "dgram" });
          using b = new Socket({ family: "unix", type: "dgram" });
          a.bind({ transport: "unix", path: pa });
          b.bind({ transport: "unix", path: pb });
          const receiving = loop.sockRecvfrom(b, 100);
          await loop.sockSendto(a, enc.encode("dgram"), { transport: "unix", path: pb });
          const [data, from] = await receiving;
          assertEquals(dec.decode(data), "dgram");
          assertEquals((from as { path: string }).path, pa);
        }
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L}.sockConnect() to a closed port rejects with ConnectionRefused`,
    ["selector"],
    onLoop(lc, async (loop) => {
      let addr: Address;
      {
        using probe = new Socket();
        probe.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
        addr = probe.getsockname();
      }
      using client = new Socket();
      const e = await assertRejects(
        () => loop.sockConnect(client, addr),
        Deno.errors.ConnectionRefused,
      );
      assertEquals(
        (e as Error & { code: string }).code,
        Deno.build.os === "windows" ? "WSAECONNREFUSED" : "ECONNREFUSED",
      );
      assertEquals(liveWatches(loop), 0);
    }),
  );

  test(
    `${L}.sockConnect() over unix waits while the listener's backlog is full`,
    ["unixSockets"],
    onLoop(lc, async (loop) => {
      const dir = Deno.makeTempDirSync();
      const extra: Socket[] = [];
      try {
        const path = `${dir}/full`;
        using lsock = new Socket({ family: "unix" });
        lsock.bind({ transport: "unix", path });
        lsock.listen(0);
        for (let i = 0; i < 64; i++) {
          const s = new Socket({ family: "unix" });
          extra.push(s);
          if (s.connectEx({ transport: "unix", path }) !== 0) break; // the backlog is full
        }
        const last = extra.pop()!;
        last.close();
        using client = new Socket({ family: "unix" });
        let connected = false;
        const connecting = loop.sockConnect(client, { transport: "unix", path }).then(() => {
          connected = true;
        });
        await sleep(5);
        assertEquals(connected, false);
        for (;;) {
          const [conn] = await loop.sockAccept(lsock);
          conn.close();
          if (connected) break;
          await sleep(2);
        }
        await connecting;
      } finally {
        for (const s of extra) s.close();
        Deno.removeSync(dir, { recursive: true });
      }
    }),
  );

  test(
    `${L}.sockConnect() resolves "localhost" first`,
    onLoop(lc, async (loop) => {
      using lsock = listener();
      const { port } = lsock.getsockname() as NetAddress;
      using client = new Socket();
      const accepted = loop.sockAccept(lsock);
      await loop.sockConnect(client, { transport: "tcp", hostname: "localhost", port });
      const [conn] = await accepted;
      conn.close();
      assertEquals((client.getpeername() as NetAddress).hostname, "127.0.0.1");
    }),
  );

  test(
    `${L} aborting a pending sockRecv() rejects it and stops watching the fd`,
    ["selector"],
    onLoop(lc, async (loop) => {
      const [client, conn] = await connectedPair(loop);
      using _c = client;
      using _s = conn;
      const ac = new AbortController();
      const pending = loop.sockRecv(conn, 100, { signal: ac.signal });
      assert(watched(loop, conn));
      ac.abort(new CancelledError("enough"));
      const e = await assertRejects(() => pending, CancelledError);
      assertEquals(e.message, "enough");
      assertEquals(watched(loop, conn), false);
      // The socket still works, and no data went to the cancelled call.
      await loop.sockSendall(client, enc.encode("after"));
      assertEquals(dec.decode(await recvExactly(loop, conn, 5)), "after");
    }),
  );

  test(
    `${L} aborting a pending sockAccept() rejects it and stops watching the fd`,
    ["selector"],
    onLoop(lc, async (loop) => {
      using lsock = listener();
      const ac = new AbortController();
      const pending = loop.sockAccept(lsock, { signal: ac.signal });
      assert(watched(loop, lsock));
      ac.abort();
      await assertRejects(() => pending, CancelledError);
      assertEquals(watched(loop, lsock), false);
    }),
  );

  test(
    `${L} aborting a pending sockSendall() rejects it and stops watching the fd`,
    ["selector"],
    onLoop(lc, async (loop) => {
      const [client, conn] = await connectedPair(loop);
      using _c = client;
      using _s = conn;
      client.setsockopt("SO_SNDBUF", 16384);
      const ac = new AbortController();
      const [pending] = await sendallUntilWatched(loop, client, new Uint8Array(4 * 1024 * 1024), {
        signal: ac.signal,
      });
      assert(watched(loop, client));
      loop.callLater(1, () => ac.abort(new Error("timeout")));
      const e = await assertRejects(() => pending, CancelledError);
      assertEquals((e.cause as Error).message, "timeout");
      assertEquals(watched(loop, client), false);
    }),
  );

  test(
    `${L} cancelling a task cancels its sockRecv() through the task's signal`,
    ["selector"],
    onLoop(lc, async (loop) => {
      const [client, conn] = await connectedPair(loop);
      using _c = client;
      using _s = conn;
      const task = loop.createTask((signal) => loop.sockRecv(conn, 100, { signal }));
      await sleep(1);
      assert(watched(loop, conn));
      task.cancel("stop");
      await assertRejects(() => task, CancelledError);
      assert(task.cancelled());
      assertEquals(watched(loop, conn), false);
    }),
  );

  test(
    `${L} a sock call with an aborted signal rejects without touching the socket`,
    onLoop(lc, async (loop) => {
      const [client, conn] = await connectedPair(loop);
      using _c = client;
      using _s = conn;
      await loop.sockSendall(client, enc.encode("x"));
      const signal = AbortSignal.abort();
      await assertRejects(() => loop.sockRecv(conn, 10, { signal }), CancelledError);
      await assertRejects(() => loop.sockSendall(client, enc.encode("y"), { signal }));
      assertEquals(dec.decode(await loop.sockRecv(conn, 10)), "x");
    }),
  );

  test(
    `${L} concurrent sockRecv() calls on one socket are served in order`,
    ["selector"],
    onLoop(lc, async (loop) => {
      const [client, conn] = await connectedPair(loop);
      using _c = client;
      using _s = conn;
      const ac = new AbortController();
      const first = loop.sockRecv(conn, 1);
      const second = loop.sockRecv(conn, 1, { signal: ac.signal });
      const third = loop.sockRecv(conn, 1);
      ac.abort(); // a waiting call in the middle leaves the queue
      await assertRejects(() => second, CancelledError);
      await loop.sockSendall(client, enc.encode("ab"));
      assertEquals(dec.decode(await first), "a");
      assertEquals(dec.decode(await third), "b");
      assertEquals(watched(loop, conn), false);
    }),
  );

  test(
    `${L} sock calls refuse a blocking socket and bad arguments`,
    ["selector"],
    onLoop(lc, async (loop) => {
      using sock = new Socket();
      sock.setBlocking(true);
      assertThrows(() => loop.sockRecv(sock, 10), TypeError, "non-blocking");
      assertThrows(() => loop.sockAccept(sock), TypeError, "non-blocking");
      sock.setBlocking(false);
      const fd = sock.fileno();
      assertThrows(() => loop.sockRecv(fd as unknown as Socket, 10), TypeError, "Socket");
      assertThrows(
        () => loop.sockSendall({ fileno: () => fd } as unknown as Socket, new Uint8Array(1)),
        TypeError,
      );
      assertThrows(() => loop.sockRecv(sock, -1), RangeError);
      assertThrows(() => loop.sockRecv(sock, 1.5), TypeError);
      assertThrows(() => loop.sockRecvInto(sock, "buf" as unknown as Uint8Array), TypeError);
      assertThrows(() => loop.sockSendall(sock, null as unknown as Uint8Array), TypeError);
      assertThrows(() => loop.sockSendto(sock, new Uint8Array(1), null as unknown as Address));
      assertThrows(() => loop.sockRecvfromInto(sock, new Uint8Array(4), 8), RangeError);
      assertThrows(
        () => loop.sockRecv(sock, 1, { signal: "no" as unknown as AbortSignal }),
        TypeError,
      );
      sock.close();
      const e = await assertRejects(() => loop.sockRecv(sock, 10), Deno.errors.BadResource);
      assertStringIncludes(e.message, "closed");
      assertEquals(liveWatches(loop), 0);
    }),
  );

  test(
    `${L}.getaddrinfo() and getnameinfo() delegate to the resolver`,
    onLoop(lc, async (loop) => {
      const infos = await loop.getaddrinfo("localhost", 80, { family: "inet", type: "stream" });
      assert(infos.length > 0);
      assertEquals(infos[0].address, { transport: "tcp", hostname: "127.0.0.1", port: 80 });
      const [host, port] = await loop.getnameinfo(
        infos[0].address,
        NI_NUMERICHOST | NI_NUMERICSERV,
      );
      assertEquals([host, port], ["127.0.0.1", "80"]);
    }),
  );
});

forEachLoop([], (lc, test) => {
  const L = lc.name;

  test(
    `${L}: a completed sock call's registration is gone before the next poll`,
    ["selector"],
    onLoop(lc, async (loop) => {
      const polls = recordPolls(loop);
      const [client, conn] = await connectedPair(loop);
      using _c = client;
      using _s = conn;
      const receiving = loop.sockRecv(conn, 16); // waits: registers conn
      assert(watched(loop, conn));
      await loop.sockSendall(client, enc.encode("x"));
      assertEquals(dec.decode(await receiving), "x");
      assertEquals(watched(loop, conn), false);
      // No timing: step the loop until it polls again after the call completed.
      const done = polls.length;
      await iterateUntil(loop, () => polls.length > done, EVENT_INTERVAL + 1);
      // Released registrations are settled before every poll: conn's is gone at the first
      // poll after its sockRecv() completed, and no poll ever saw one not yet settled.
      assertEquals(polls[done].fds.includes(conn.fileno()), false, `fd ${conn.fileno()} polled`);
      assertEquals(polls.flatMap((p) => p.stale), []);
      assertEquals(selectorOf(loop).getMap().size, 0);
    }),
  );

  test(
    `${L}: a reused fd number is watched again after its socket was closed`,
    onLoop(lc, async (loop) => {
      const [client, conn] = await connectedPair(loop);
      const receiving = loop.sockRecv(conn, 16);
      await loop.sockSendall(client, enc.encode("x"));
      await receiving; // conn's registration is only released, not yet removed
      // Same iteration, no poll in between: close conn and reuse its fd number.
      const fd = conn.fileno();
      conn.close(); // epoll and kqueue drop the closed fd by themselves
      client.close();
      // Lower free fds may exist: take pairs until one end gets conn's number.
      const spare: number[] = [];
      let pair = socketPairFds();
      while (pair[0] !== fd && pair[1] !== fd && spare.length < 64) {
        spare.push(...pair);
        pair = socketPairFds();
      }
      spare.forEach((x) => closeSocketFd(x));
      const [a, b] = pair;
      const mine = a === fd ? a : b;
      assertEquals(mine, fd, `fd ${fd} was not reused`);
      using again = Socket.fromFd(mine);
      using peer = Socket.fromFd(mine === a ? b : a);
      const waiting = loop.sockRecv(again, 16); // must register the new socket afresh
      sendFd(peer.fileno(), enc.encode("y"));
      assertEquals(dec.decode(await waitFor(waiting, 10_000)), "y");
    }),
  );
});

forOneLoop([], (lc, test) => {
  test("sockAccept() returns a nonblocking Socket", async () => {
    await assertNoFdLeak(async () => {
      using loop = lc.make();
      await loop.runUntilComplete(async () => {
        const [client, conn] = await connectedPair(loop);
        using _c = client;
        using _s = conn;
        assertInstanceOf(conn, Socket);
        assertEquals(conn.getBlocking(), false);
      });
    });
  });
}, LOOPS.length - 1);
