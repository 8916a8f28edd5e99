// Bad input to the loop (issue 15): junk fileobjs and callbacks for addReader/addWriter/
// removeReader/removeWriter, the size-0 edges of the sock* calls and of the stream reads, empty
// datagrams, and a seeded property test per loop mixing real fds with junk, real sock* calls with
// junk ones, and checking after every call that a failed call changed nothing.
//
// "At once" is measured in loop iterations (a callSoon() chain), never with a clock. The property
// test's seed is printed in every failure; AIO_FUZZ_SEED=<n> replays one, AIO_FUZZ_SEED=random
// draws a new one.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { CancelledError, type Handle } from "../mod.ts";
import { EVENT_INTERVAL } from "../loop/base/base_event_loop.ts";
import { EVENT_READ, EVENT_WRITE, FD_KIND, type FileObj } from "../selectors/mod.ts";
import { wineVersion } from "../ffi/windows/ntdll.ts";
import { closeSocketFd, socketPairFds } from "./_sockets.ts";
import { describe } from "../ffi/os_error.ts";
import { type Address, type NetAddress, Socket } from "../net/mod.ts";
import { DatagramProtocol } from "../transports/datagram_protocol.ts";
import { openConnection, startServer } from "../streams/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { forEachLoop, selectorOf, type TestLoop } from "./_loops.ts";
import { onLoop, portOf } from "./_stream_helpers.ts";
import { fuzzSeed, mulberry32 } from "./_fuzz.ts";

type ErrorCtor = new (...args: never[]) => Error;
type Method = "addReader" | "addWriter" | "removeReader" | "removeWriter";
const METHODS: readonly Method[] = ["addReader", "addWriter", "removeReader", "removeWriter"];
const enc = new TextEncoder();
const dec = new TextDecoder();
const V4 = "127.0.0.1";
const onWindows = Deno.build.os === "windows";
const UNDER_WINE = onWindows && wineVersion() !== null;
const noop = (): void => {};

// ---- helpers ---------------------------------------------------------------------------------

/** Calls `method` on `loop` with arguments of any type (an add gets `noop` unless `cb` is given). */
function call(loop: TestLoop, method: Method, fileobj: unknown, ...cb: unknown[]): unknown {
  const f = loop[method] as (fileobj: unknown, callback?: unknown) => unknown;
  if (!method.startsWith("add")) return f.call(loop, fileobj);
  return f.call(loop, fileobj, cb.length > 0 ? cb[0] : noop);
}

/** Fileobjs that are not fds, with the class they throw; each call makes fresh objects. */
function badFileobjs(): Array<[unknown, ErrorCtor]> {
  const closed = new Socket();
  closed.close(); // fileno() is -1 now
  return [
    [NaN, TypeError],
    [-1, RangeError],
    [1.5, TypeError],
    ["3", TypeError],
    [null, TypeError],
    [undefined, TypeError],
    [{}, TypeError],
    [[], TypeError],
    [3n, TypeError],
    [true, TypeError],
    [Symbol("fd"), TypeError],
    [Infinity, TypeError],
    [-Infinity, TypeError],
    // A SOCKET is a 64-bit handle: the numbers above 2^31 - 1 that Unix refuses are plausible
    // SOCKETs on Windows, which refuses those above 2^53 - 1 (a number's exact integers).
    [onWindows ? 2 ** 53 + 2 : 2 ** 31, RangeError],
    [2 ** 53, RangeError],
    [-(2 ** 32) + 1, RangeError],
    [() => 3, TypeError],
    [Object.create(null), TypeError],
    [{ fileno: 3 }, TypeError],
    [{ fileno: () => "3" }, TypeError],
    [{ fileno: () => -1 }, RangeError],
    [{ fileno: () => NaN }, TypeError],
    [{ fileno: () => 1.5 }, TypeError],
    [{ fileno: () => onWindows ? 2 ** 54 : 2 ** 40 }, RangeError],
    [{ fileno: () => 3n }, TypeError],
    [{ fileno: () => null }, TypeError],
    [closed, RangeError],
    [{
      fileno() {
        throw new Error("boom");
      },
    }, TypeError],
    [{
      fileno() {
        throw "a string"; // not an Error
      },
    }, TypeError],
    [{
      get fileno(): never {
        throw new Error("getter boom");
      },
    }, TypeError],
    [
      new Proxy({}, {
        get() {
          throw new Error("proxy boom");
        },
      }),
      TypeError,
    ],
  ];
}

/** Callbacks that are not functions. */
const BAD_CALLBACKS: readonly unknown[] = [undefined, null, 42, "cb", {}, [], Symbol("cb"), 1n];

/** Asserts `e` is what a refused call may throw: a TypeError/RangeError/Deno.errors.*. */
function assertRefusal(e: unknown, why: string): asserts e is Error {
  const ok = e instanceof TypeError || e instanceof RangeError ||
    Object.values(Deno.errors).some((C) => e instanceof C);
  assert(ok, `${why}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? e}`);
  assert(typeof (e as Error).message === "string" && (e as Error).message.length > 0, why);
}

type Watchers = { reader: Handle | null; writer: Handle | null };

/** The loop's registrations: fd, fileobj, events and the live watchers of each key, by fd. */
function registrations(loop: TestLoop): Array<[number, unknown, number, unknown, unknown]> {
  return [...selectorOf(loop).getMap().values()]
    .map((k): [number, unknown, number, unknown, unknown] => {
      const w = k.data as Watchers;
      return [k.fd, k.fileobj, k.events, w.reader, w.writer];
    })
    .sort((x, y) => x[0] - y[0]);
}

/** Whether the loop has a live reader or writer on `fd`. */
function watched(loop: TestLoop, fd: number): boolean {
  const w = selectorOf(loop).getMap().get(fd)?.data as Watchers | undefined;
  return w !== undefined && (w.reader !== null || w.writer !== null);
}

/** How many fds the loop has a live reader or writer on. */
function liveWatches(loop: TestLoop): number {
  let n = 0;
  for (const key of selectorOf(loop).getMap().values()) {
    const w = key.data as Watchers;
    if (w.reader !== null || w.writer !== null) n++;
  }
  return n;
}

type Outcome<T> =
  | { state: "resolved"; value: T }
  | { state: "rejected"; error: unknown; sync: boolean }
  | { state: "pending" };

/**
 * What `fn()` comes to within `turns` iterations of the running `loop` (a
 * callSoon() chain, so no clock): a synchronous throw counts as a rejection.
 */
function within<T>(loop: TestLoop, fn: () => Promise<T> | T, turns = 3): Promise<Outcome<T>> {
  let p: Promise<T>;
  try {
    p = Promise.resolve(fn());
  } catch (error) {
    return Promise.resolve({ state: "rejected", error, sync: true });
  }
  return new Promise((resolve) => {
    let settled = false;
    p.then(
      (value) => {
        settled = true;
        resolve({ state: "resolved", value });
      },
      (error) => {
        settled = true;
        resolve({ state: "rejected", error, sync: false });
      },
    );
    let n = 0;
    const step = (): void => {
      if (settled) return;
      if (n++ >= turns) resolve({ state: "pending" });
      else loop.callSoon(step);
    };
    loop.callSoon(step);
  });
}

/** Enough iterations for the loop to have polled its selector at least once. */
const A_POLL = EVENT_INTERVAL + 2;

/** The value `fn()` resolves to within a few loop iterations; fails otherwise. */
async function atOnce<T>(loop: TestLoop, fn: () => Promise<T>, what: string): Promise<T> {
  const o = await within(loop, fn);
  if (o.state === "resolved") return o.value;
  if (o.state === "pending") throw new Error(`${what} did not settle within 3 loop iterations`);
  throw new Error(`${what} failed: ${o.error}`, { cause: o.error });
}

/** The error `fn()` throws or rejects with within a few loop iterations; fails otherwise. */
async function refusedAtOnce(loop: TestLoop, fn: () => unknown, what: string): Promise<Error> {
  const o = await within(loop, fn as () => Promise<unknown>);
  assert(o.state !== "pending", `${what} did not settle within 3 loop iterations`);
  assert(o.state === "rejected", `${what} succeeded`);
  assertRefusal(o.error, what);
  return o.error;
}

/** A connected TCP pair through the loop: [client, server side]. */
async function tcpPair(loop: TestLoop): Promise<[Socket, Socket]> {
  using lsock = new Socket();
  lsock.bind({ transport: "tcp", hostname: V4, port: 0 });
  lsock.listen();
  const client = new Socket();
  const accepted = loop.sockAccept(lsock);
  await loop.sockConnect(client, lsock.getsockname());
  const [conn] = await accepted;
  return [client, conn];
}

function udpSocket(): Socket {
  const s = new Socket({ type: "dgram" });
  s.bind({ transport: "udp", hostname: V4, port: 0 });
  return s;
}

// ---- addReader/addWriter/removeReader/removeWriter -------------------------------------------

forEachLoop(["readers", "selector"], (lc, test) => {
  const L = lc.name;

  test(`${L}: a junk fileobj throws at once, naming the method, and changes nothing`, () => {
    const [a, b] = socketPairFds();
    try {
      using loop = lc.make();
      const reader = loop.addReader(a, noop);
      const writer = loop.addWriter(b, noop);
      const before = registrations(loop);
      for (const [fileobj, C] of badFileobjs()) {
        for (const m of METHODS) {
          const what = `${m}(${describe(fileobj)})`;
          const e = assertThrows(() => call(loop, m, fileobj), C, `${m}()`);
          assertStrictEquals(e.constructor, C, what);
          assertStringIncludes(e.message, "fileobj", what);
          assertEquals(registrations(loop), before, what);
        }
      }
      assert(!reader.cancelled() && !writer.cancelled());
    } finally {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  });

  test(`${L}: a fileno() that throws is the TypeError's cause`, () => {
    using loop = lc.make();
    const boom = new Error("boom");
    const obj = {
      fileno(): number {
        throw boom;
      },
    };
    for (const m of METHODS) {
      const e = assertThrows(() => call(loop, m, obj), TypeError, "boom");
      assertStrictEquals((e.cause as { cause?: unknown })?.cause ?? e.cause, boom);
    }
  });

  test(`${L}: a callback that is not a function throws TypeError; the old one stays`, () => {
    const [a, b] = socketPairFds();
    try {
      using loop = lc.make();
      const reader = loop.addReader(a, noop);
      const before = registrations(loop);
      for (const cb of BAD_CALLBACKS) {
        for (const m of ["addReader", "addWriter"] as const) {
          for (const fd of [a, b]) {
            const e = assertThrows(() => call(loop, m, fd, cb), TypeError, `${m}()`);
            assertStringIncludes(e.message, "callback");
            assertEquals(registrations(loop), before, `${m}(${fd}, ${describe(cb)})`);
          }
        }
      }
      assert(!reader.cancelled());
      // Both arguments bad: the fileobj is reported (it is checked first).
      assertThrows(() => call(loop, "addReader", -1, 42), RangeError, "fileobj");
    } finally {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  });

  test(`${L}: removing a valid fd that is not watched returns false`, () => {
    const [a, b] = socketPairFds();
    const [c, d] = socketPairFds();
    closeSocketFd(c);
    closeSocketFd(d); // c is a valid number with no open fd behind it
    try {
      using loop = lc.make();
      loop.addWriter(a, noop);
      const before = registrations(loop);
      for (const fileobj of [b, c, 2 ** 31 - 1, 1_000_000, { fileno: () => b }, -0]) {
        assertEquals(loop.removeReader(fileobj as FileObj), false);
        assertEquals(loop.removeWriter(fileobj as FileObj), false);
      }
      assertEquals(loop.removeReader(a), false, "a has a writer, not a reader");
      assertEquals(registrations(loop), before);
      assert(loop.removeWriter({ fileno: () => a }), "found by its fd");
      assertEquals(selectorOf(loop).getMap().size, 0);
    } finally {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  });

  test(`${L}: a closed Socket is removed by identity, and refused once it is not watched`, () => {
    using loop = lc.make();
    const sock = new Socket();
    loop.addReader(sock, noop);
    sock.close(); // fileno() is -1 from now on
    assert(loop.removeReader(sock), "found by identity, as CPython's selectors do");
    assertEquals(selectorOf(loop).getMap().size, 0);
    assertThrows(() => loop.removeReader(sock), RangeError, "removeReader()");
    assertThrows(() => loop.addReader(sock, noop), RangeError, "addReader()");
    assertEquals(selectorOf(loop).getMap().size, 0);
  });

  test(`${L}: a refused re-registration under another object keeps the old one`, () => {
    const [a, b] = socketPairFds();
    try {
      using loop = lc.make();
      const reader = loop.addReader(a, noop);
      const before = registrations(loop);
      // Same fd number, another object, which says it is a regular file: refused.
      const liar = { fileno: () => a, [FD_KIND]: () => "file" as const };
      assertThrows(() => loop.addWriter(liar, noop), TypeError, "regular file");
      assertEquals(registrations(loop), before);
      assert(!reader.cancelled());
      assert(loop.removeReader(a));
    } finally {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  });

  test(`${L}: after close, arguments are still checked first; adds throw, removes say false`, () => {
    const [a, b] = socketPairFds();
    try {
      const loop = lc.make();
      loop.addReader(a, noop);
      loop.close();
      for (const [fileobj, C] of badFileobjs()) {
        for (const m of METHODS) assertThrows(() => call(loop, m, fileobj), C, `${m}()`);
      }
      assertThrows(() => loop.addReader(a, 42 as never), TypeError, "callback");
      assertThrows(() => loop.addReader(a, noop), Error, "Event loop is closed");
      assertThrows(() => loop.addWriter(b, noop), Error, "Event loop is closed");
      assertEquals(loop.removeReader(a), false);
      assertEquals(loop.removeWriter(b), false);
    } finally {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  });
});

// ---- sock* calls: size 0, empty buffers, empty datagrams ---------------------------------------

forEachLoop(["selector"], (lc, test) => {
  const L = lc.name;

  test(
    `${L}.sockRecv(sock, 0) and sockRecvInto(sock, empty) resolve at once and take nothing`,
    onLoop(lc, async (loop) => {
      const [client, conn] = await tcpPair(loop);
      using _c = client;
      using _s = conn;
      // Nothing pending: recv(2) of 0 bytes would block here (EAGAIN on Linux).
      const none = await atOnce(loop, () => loop.sockRecv(conn, 0), "sockRecv(idle, 0)");
      assertInstanceOf(none, Uint8Array);
      assertEquals(none.byteLength, 0);
      assertEquals(await atOnce(loop, () => loop.sockRecvInto(conn, new Uint8Array(0)), "into"), 0);
      const view = new DataView(new ArrayBuffer(8), 8);
      assertEquals(await atOnce(loop, () => loop.sockRecvInto(conn, view as never), "view"), 0);
      assertEquals(liveWatches(loop), 0);
      // With data pending, none of it is taken.
      await loop.sockSendall(client, enc.encode("xy"));
      assertEquals((await atOnce(loop, () => loop.sockRecv(conn, 0), "sockRecv(0)")).length, 0);
      assertEquals(await atOnce(loop, () => loop.sockRecvInto(conn, new Uint8Array(0)), "i"), 0);
      assertEquals(dec.decode(await loop.sockRecv(conn, 10)), "xy");
      // Behind a waiting call too: the size-0 call does not queue behind it.
      const waiting = loop.sockRecv(conn, 10);
      assert(watched(loop, conn.fileno()));
      assertEquals((await atOnce(loop, () => loop.sockRecv(conn, 0), "behind")).length, 0);
      await loop.sockSendall(client, enc.encode("z"));
      assertEquals(dec.decode(await waiting), "z");
    }),
  );

  test(
    `${L}: sockRecv(udp, 0) resolves at once and leaves the datagram queued`,
    onLoop(lc, async (loop) => {
      using a = udpSocket();
      using b = udpSocket();
      assertEquals((await atOnce(loop, () => loop.sockRecv(b, 0), "idle")).length, 0);
      await loop.sockSendto(a, enc.encode("kept"), b.getsockname());
      assertEquals((await atOnce(loop, () => loop.sockRecv(b, 0), "queued")).length, 0);
      assertEquals(await atOnce(loop, () => loop.sockRecvInto(b, new Uint8Array(0)), "into"), 0);
      const [data, from] = await loop.sockRecvfrom(b, 100);
      assertEquals(dec.decode(data), "kept");
      assertEquals(from, a.getsockname());
    }),
  );

  test(
    `${L}: sockRecvfrom(udp, 0) waits for a datagram and consumes it, as CPython`,
    onLoop(lc, async (loop) => {
      using a = udpSocket();
      using b = udpSocket();
      const zero = loop.sockRecvfrom(b, 0);
      // Nothing sent: it waits (through a poll of the selector), watching b.
      assertEquals((await within(loop, () => zero, A_POLL)).state, "pending");
      assert(watched(loop, b.fileno()));
      await loop.sockSendto(a, enc.encode("eaten"), b.getsockname());
      const [data, from] = await zero;
      assertEquals(data.byteLength, 0);
      assertEquals(from, a.getsockname());
      // The same for sockRecvfromInto() with an empty buffer, and with nbytes 0.
      const buf = new Uint8Array(16);
      const into = loop.sockRecvfromInto(b, new Uint8Array(0));
      assertEquals((await within(loop, () => into, A_POLL)).state, "pending");
      await loop.sockSendto(a, enc.encode("eaten too"), b.getsockname());
      assertEquals(await into, [0, a.getsockname()]);
      await loop.sockSendto(a, enc.encode("and this"), b.getsockname());
      assertEquals(await loop.sockRecvfromInto(b, buf, 0), [0, a.getsockname()]);
      assertEquals(buf, new Uint8Array(16), "nothing was written");
      // Those datagrams are gone: the next one read is the next one sent.
      await loop.sockSendto(a, enc.encode("next"), b.getsockname());
      const [next] = await loop.sockRecvfrom(b, 100);
      assertEquals(dec.decode(next), "next");
      assertEquals(liveWatches(loop), 0);
    }),
  );

  test(
    `${L}: an empty datagram is sent, and received as an empty Uint8Array (not EOF)`,
    onLoop(lc, async (loop) => {
      using a = udpSocket();
      using b = udpSocket();
      assertEquals(await loop.sockSendto(a, new Uint8Array(0), b.getsockname()), 0);
      const [data, from] = await loop.sockRecvfrom(b, 100);
      assertInstanceOf(data, Uint8Array);
      assertEquals(data.byteLength, 0);
      assertEquals(from, a.getsockname());
      await loop.sockSendto(a, new Uint8Array(0), b.getsockname());
      const viaRecv = await loop.sockRecv(b, 100);
      assertInstanceOf(viaRecv, Uint8Array);
      assertEquals(viaRecv.byteLength, 0);
      await loop.sockSendto(a, new Uint8Array(0), b.getsockname());
      assertEquals(await loop.sockRecvInto(b, new Uint8Array(8)), 0);
      // The socket goes on: an empty datagram was no end of stream.
      await loop.sockSendto(a, enc.encode("after"), b.getsockname());
      assertEquals(dec.decode(await loop.sockRecv(b, 100)), "after");
    }),
  );

  test(
    `${L}.sockSendall(sock, empty) resolves at once, even behind a pending send`,
    onLoop(lc, async (loop) => {
      const [client, conn] = await tcpPair(loop);
      using _c = client;
      using _s = conn;
      await atOnce(loop, () => loop.sockSendall(client, new Uint8Array(0)), "idle");
      assertEquals(conn.recv(10), null, "nothing was sent");
      client.setsockopt("SO_SNDBUF", 16384);
      const big = new Uint8Array(4 * 1024 * 1024);
      const ac = new AbortController();
      // Windows never reports a partial nonblocking send: a send that finds room in the
      // socket's buffer is taken whole (the rest goes out in the background), and only one that
      // finds the buffer full waits. So send until one waits (the first, on Unix).
      let sending = loop.sockSendall(client, big, { signal: ac.signal });
      for (let i = 0; i < 8 && !watched(loop, client.fileno()); i++) {
        await sending;
        sending = loop.sockSendall(client, big, { signal: ac.signal });
      }
      assert(watched(loop, client.fileno()), "the big send waits for writability");
      await atOnce(loop, () => loop.sockSendall(client, new Uint8Array(0)), "behind");
      ac.abort();
      const e = await within(loop, () => sending);
      assert(e.state === "rejected" && e.error instanceof CancelledError);
      assertEquals(liveWatches(loop), 0);
    }),
  );

  test(
    `${L}: size-0 calls on a closed socket still reject with BadResource`,
    onLoop(lc, async (loop) => {
      const sock = new Socket();
      sock.close();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["sockRecv", () => loop.sockRecv(sock, 0)],
        ["sockRecvInto", () => loop.sockRecvInto(sock, new Uint8Array(0))],
        ["sockSendall", () => loop.sockSendall(sock, new Uint8Array(0))],
        ["sockRecv", () => loop.sockRecv(sock, 10)],
      ];
      for (const [name, fn] of calls) {
        const e = await refusedAtOnce(loop, fn, name);
        assertInstanceOf(e, Deno.errors.BadResource);
        assertStringIncludes(e.message, "closed");
        // Windows: what a call on a closed SOCKET says.
        assertEquals((e as { code?: string }).code, onWindows ? "WSAENOTSOCK" : "EBADF");
      }
      assertEquals(selectorOf(loop).getMap().size, 0);
    }),
  );

  test(
    `${L}: a sock call aborted after its socket was closed rejects and leaves nothing watched`,
    onLoop(lc, async (loop) => {
      const [client, conn] = await tcpPair(loop);
      using _c = client;
      const ac = new AbortController();
      const pending = loop.sockRecv(conn, 10, { signal: ac.signal });
      assert(watched(loop, conn.fileno()));
      conn.close(); // its fileno() is -1 now: only identity finds its registration
      ac.abort(); // the abort listener must not throw (a closed Socket is no valid fileobj)
      const o = await within(loop, () => pending);
      assert(o.state === "rejected" && o.error instanceof CancelledError, `${o.state}`);
      const keys = [...selectorOf(loop).getMap().values()];
      assertEquals(keys.filter((k) => k.fileobj === conn), [], "removed at once, by identity");
      assertEquals(liveWatches(loop), 0);
      await within(loop, () => new Promise(() => {}), A_POLL); // the connect's released watches
      assertEquals(selectorOf(loop).getMap().size, 0);
    }),
  );

  test(
    `${L}: bad sizes throw at once, naming the method and the argument`,
    onLoop(lc, async (loop) => {
      using u = udpSocket();
      const sizes: Array<[unknown, ErrorCtor]> = [
        [-1, RangeError],
        [2 ** 31, RangeError],
        [-(2 ** 53), RangeError],
        [1.5, TypeError],
        [NaN, TypeError],
        [Infinity, TypeError],
        ["3", TypeError],
        [null, TypeError],
        [10n, TypeError],
        [{}, TypeError],
      ];
      const buf = new Uint8Array(8);
      for (const [n, C] of sizes) {
        const calls: Array<[string, string, () => unknown]> = [
          ["sockRecv", "nbytes", () => loop.sockRecv(u, n as number)],
          ["sockRecvfrom", "bufsize", () => loop.sockRecvfrom(u, n as number)],
          ["sockRecvfromInto", "nbytes", () => loop.sockRecvfromInto(u, buf, n as number)],
        ];
        for (const [name, arg, fn] of calls) {
          const e = await refusedAtOnce(loop, fn, `${name}(${describe(n)})`);
          assertStrictEquals(e.constructor, C, `${name}(${describe(n)}): ${e.message}`);
          assertStringIncludes(e.message, `${name}()`);
          assertStringIncludes(e.message, arg);
        }
      }
      assertEquals(selectorOf(loop).getMap().size, 0);
    }),
  );
});

// ---- empty datagrams through a DatagramProtocol --------------------------------------------------

class Datagrams extends DatagramProtocol {
  got: Array<[Uint8Array, Address]> = [];
  lost: PromiseWithResolvers<void> = Promise.withResolvers();
  override connectionLost(): void {
    this.lost.resolve();
  }
  #wake: (() => void) | null = null;
  override datagramReceived(data: Uint8Array, addr: Address): void {
    this.got.push([data, addr]);
    this.#wake?.();
  }
  /** Resolves once `n` datagrams arrived (woken by each one, no clock). */
  async count(n: number): Promise<void> {
    while (this.got.length < n) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#wake = resolve;
      await promise;
    }
    this.#wake = null;
  }
}

forEachLoop([], (lc, test) => {
  const L = lc.name;

  test(
    `${L}: a DatagramProtocol gets an empty datagram as an empty Uint8Array, and sends one`,
    onLoop(lc, async (loop) => {
      const [transport, proto] = await loop.createDatagramEndpoint(() => new Datagrams(), {
        localAddr: { transport: "udp", hostname: V4, port: 0 },
      });
      const here = transport.getExtraInfo("sockname") as NetAddress;
      using peer = udpSocket();
      await loop.sockSendto(peer, new Uint8Array(0), here);
      await loop.sockSendto(peer, enc.encode("x"), here);
      await proto.count(2);
      assertInstanceOf(proto.got[0][0], Uint8Array);
      assertEquals(proto.got[0][0].byteLength, 0);
      assertEquals(proto.got[0][1], peer.getsockname());
      assertEquals(dec.decode(proto.got[1][0]), "x");
      // And the transport's sendto() of an empty datagram reaches the peer as 0 bytes.
      transport.sendto(new Uint8Array(0), peer.getsockname());
      const [data, from] = await loop.sockRecvfrom(peer, 100);
      assertEquals(data.byteLength, 0);
      assertEquals(from, here);
      transport.close();
      await proto.lost.promise;
    }),
  );
});

// ---- stream reads of nothing ---------------------------------------------------------------------

forEachLoop([], (lc, test) => {
  const L = lc.name;

  test(
    `${L}: read(0) and readexactly(0) resolve empty at once; bad separators and sizes throw`,
    onLoop(lc, async (loop) => {
      const release = Promise.withResolvers<void>();
      await using server = await startServer(async (_r, writer) => {
        await release.promise; // sends nothing until told
        writer.write(enc.encode("data\n"));
        await writer.drain();
        writer.close();
      }, { host: V4, port: 0 });
      const [reader, writer] = await openConnection({ host: V4, port: portOf(server) });
      try {
        // Nothing arrived (the server waits): these must not wait for data.
        assertEquals((await atOnce(loop, () => reader.read(0), "read(0)")).byteLength, 0);
        assertEquals((await atOnce(loop, () => reader.readexactly(0), "rx(0)")).byteLength, 0);
        const refusals: Array<[() => Promise<unknown>, ErrorCtor, string]> = [
          [() => reader.readuntil(""), RangeError, "readuntil()"],
          [() => reader.readuntil(new Uint8Array(0)), RangeError, "readuntil()"],
          [() => reader.readuntil([]), RangeError, "readuntil()"],
          [() => reader.readuntil(["\n", ""]), RangeError, "readuntil()"],
          [() => reader.readuntil(42 as never), TypeError, "readuntil()"],
          [() => reader.readuntil([null] as never), TypeError, "readuntil()"],
          [() => reader.read(1.5), TypeError, "read()"],
          [() => reader.read(NaN), TypeError, "read()"],
          [() => reader.read("3" as never), TypeError, "read()"],
          [() => reader.read(Symbol("n") as never), TypeError, "read()"],
          [() => reader.readexactly(-1), RangeError, "readexactly()"],
          [() => reader.readexactly(1.5), TypeError, "readexactly()"],
          [() => reader.readexactly(NaN), TypeError, "readexactly()"],
          [() => reader.readexactly(10n as never), TypeError, "readexactly()"],
        ];
        for (const [fn, C, name] of refusals) {
          const e = await refusedAtOnce(loop, fn, name);
          assertStrictEquals(e.constructor, C, `${name}: ${e.message}`);
          assertStringIncludes(e.message, name);
        }
        // None of that took anything or left a waiter behind: the data reads normally.
        release.resolve();
        assertEquals(dec.decode(await reader.readuntil("\n")), "data\n");
        assertEquals((await reader.read(0)).byteLength, 0);
        assertEquals((await reader.read()).byteLength, 0); // EOF
      } finally {
        release.resolve(); // a failed check must not leave the server waiting
        writer.close();
        await writer.waitClosed();
      }
    }),
  );
});

// ---- the property test ------------------------------------------------------------------------

const SEED = fuzzSeed();
/** Calls per loop: fd calls and sock* calls together. */
const CALLS = 5000;

/** What every run must have met at least a few times. */
const OUTCOMES: readonly string[] = [
  ...METHODS.flatMap((m) => [`${m}: junk fileobj`, `${m}: unopened fd`]),
  ...["addReader", "addWriter"].flatMap((m) => [
    `${m}: ok`,
    `${m}: bad callback`,
    `${m}: another object takes over`,
  ]),
  ...["removeReader", "removeWriter"].flatMap((m) => [`${m}: true`, `${m}: false`]),
  ...["sock", "size", "opts", "valid"].map((j) => `sockRecv: ${j}`),
  ...["sock", "buf", "opts", "valid"].map((j) => `sockRecvInto: ${j}`),
  ...["sock", "size", "opts", "valid"].map((j) => `sockRecvfrom: ${j}`),
  ...["sock", "size", "buf", "opts"].map((j) => `sockRecvfromInto: ${j}`),
  ...["sock", "buf", "opts", "valid"].map((j) => `sockSendall: ${j}`),
  ...["sock", "buf", "addr", "opts", "valid"].map((j) => `sockSendto: ${j}`),
  ...["sock", "addr", "opts"].map((j) => `sockConnect: ${j}`),
  ...["sock", "opts"].map((j) => `sockAccept: ${j}`),
  "aborted: valid",
  "sockRecv(udp, 0): valid",
];

/** The model of one watched fd. */
interface Watch {
  fileobj: unknown;
  reader: Handle | null;
  writer: Handle | null;
}

forEachLoop(["readers", "selector"], (lc, test) => {
  const L = lc.name;

  test(`${L}: property test: random fd and sock* calls with junk change nothing when they fail`, () =>
    assertNoFdLeak(async () => {
      using loop = lc.make();
      await loop.runUntilComplete(() => fuzz(loop, L));
    }));
});

async function fuzz(loop: TestLoop, name: string): Promise<void> {
  const rnd = mulberry32(SEED ^ [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7));
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  let step = 0;
  let what = "setup";
  const fail = (why: string): never => {
    throw new Error(
      `${name}: seed ${SEED} (AIO_FUZZ_SEED=${SEED} replays it), step ${step}: ${what}: ${why}`,
    );
  };
  const check = (cond: unknown, why: string): void => {
    if (!cond) fail(why);
  };
  const seen = new Map<string, number>();
  const tally = (outcome: string): void => void seen.set(outcome, (seen.get(outcome) ?? 0) + 1);

  // -- the fds the fd calls watch: numbers, Socket objects, and objects with fileno() --
  const pairs = [socketPairFds(), socketPairFds(), socketPairFds()];
  const owned = socketPairFds(); // owned[0] becomes a Socket: its number and the object alias
  const owner = Socket.fromFd(owned[0]);
  const tcp = new Socket();
  const udp = new Socket({ type: "dgram" });
  const valid: unknown[] = [
    ...pairs.flat(),
    owned[0],
    owned[1],
    owner,
    tcp,
    udp,
    { fileno: () => pairs[0][0] },
    { fileno: () => owned[1] },
  ];
  const callbacks = Array.from({ length: 4 }, () => () => {});

  // -- the sockets the sock* calls use --
  const [client, conn] = await tcpPair(loop);
  const ua = udpSocket();
  const ub = udpSocket();
  using listener = new Socket();
  listener.bind({ transport: "tcp", hostname: V4, port: 0 });
  listener.listen();
  const fresh = new Socket(); // never connected: sockConnect()'s target
  const blocking = new Socket();
  blocking.setBlocking(true);
  const closedSock = new Socket();
  closedSock.close();
  // Made last, so that no socket of this test takes the number over.
  const stale = socketPairFds();
  closeSocketFd(stale[0]);
  closeSocketFd(stale[1]);
  const unopened = [stale[0], 2 ** 31 - 1, 1_000_000]; // valid numbers, no open fd behind them
  const sockFds = new Set([client, conn, ua, ub, listener, fresh, blocking].map((s) => s.fileno()));
  let tcpPending: number[] = []; // bytes sent client -> conn, not yet read
  const udpPending: Uint8Array[] = []; // datagrams sent ua -> ub, not yet read

  const model = new Map<number, Watch>();
  const fdOf = (fileobj: unknown): number =>
    typeof fileobj === "number" ? fileobj : (fileobj as { fileno(): number }).fileno();

  /** The loop's registrations agree with the model; sock* sockets have no live watch. */
  const verify = (): void => {
    const map = selectorOf(loop).getMap();
    for (const key of map.values()) {
      const w = key.data as Watchers;
      if (sockFds.has(key.fd)) {
        check(w.reader === null && w.writer === null, `a live watch left on sock fd ${key.fd}`);
        continue;
      }
      const m = model.get(key.fd);
      check(m !== undefined, `fd ${key.fd} is registered, the model has nothing`);
      check(key.fileobj === m!.fileobj, `fd ${key.fd}'s fileobj is ${describe(key.fileobj)}`);
      check(w.reader === m!.reader && w.writer === m!.writer, `fd ${key.fd}'s watchers differ`);
      const events = (m!.reader ? EVENT_READ : 0) | (m!.writer ? EVENT_WRITE : 0);
      check(key.events === events, `fd ${key.fd} has events ${key.events}, not ${events}`);
      check(!m!.reader?.cancelled() && !m!.writer?.cancelled(), `fd ${key.fd}: a handle died`);
    }
    for (const fd of model.keys()) check(map.has(fd), `fd ${fd} is in the model, not registered`);
  };

  const refusal = (e: unknown, sync: boolean, method?: string): void => {
    const ok = e instanceof TypeError || e instanceof RangeError ||
      Object.values(Deno.errors).some((C) => e instanceof C);
    check(ok, `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? e}`);
    const msg = (e as Error).message;
    check(typeof msg === "string" && msg.length > 0, "an empty message");
    if (method !== undefined && sync && (e instanceof TypeError || e instanceof RangeError)) {
      check(msg.includes(method), `the message does not name ${method}: ${msg}`);
    }
  };

  // -- one fd call --
  const fdCall = (): void => {
    const m = pick(METHODS);
    const adding = m.startsWith("add");
    const r = rnd();
    const kind = r < 0.5 ? "valid" : r < 0.85 ? "junk" : "unopened";
    const junk = kind === "junk" ? pick(badFileobjs()) : null;
    const fileobj = junk !== null ? junk[0] : kind === "valid" ? pick(valid) : pick(unopened);
    const badCb = adding && rnd() < 0.2;
    const cb = badCb ? pick(BAD_CALLBACKS) : pick(callbacks);
    what = `${m}(${describe(fileobj)}${adding ? `, ${describe(cb)}` : ""})`;
    let result: unknown, error: unknown, threw = false;
    try {
      result = call(loop, m, fileobj, cb);
    } catch (e) {
      threw = true;
      error = e;
    }
    if (junk !== null) {
      check(threw, "a junk fileobj was accepted");
      check(error instanceof junk[1] && (error as Error).constructor === junk[1], `${error}`);
      refusal(error, true, `${m}()`);
      check((error as Error).message.includes("fileobj"), "the message does not name fileobj");
      tally(`${m}: junk fileobj`);
    } else if (badCb) {
      check(threw && error instanceof TypeError, `a bad callback: ${threw ? error : "accepted"}`);
      refusal(error, true, `${m}()`);
      tally(`${m}: bad callback`);
    } else if (kind === "unopened") {
      if (adding) {
        check(threw, "an fd with nothing behind it was registered");
        refusal(error, true);
      } else check(!threw && result === false, `removing it gave ${threw ? error : result}`);
      tally(`${m}: unopened fd`);
    } else {
      check(!threw, `a valid call threw ${error}`);
      const fd = fdOf(fileobj);
      const w = model.get(fd);
      if (adding) {
        const h = result as Handle;
        if (w !== undefined && w.fileobj !== fileobj) tally(`${m}: another object takes over`);
        tally(`${m}: ok`);
        const next: Watch = w ?? { fileobj, reader: null, writer: null };
        next.fileobj = fileobj; // another object on the same fd takes the registration over
        if (m === "addReader") next.reader = h;
        else next.writer = h;
        model.set(fd, next);
      } else {
        const had = m === "removeReader" ? w?.reader ?? null : w?.writer ?? null;
        check(result === (had !== null), `returned ${result}, the model says ${had !== null}`);
        tally(`${m}: ${result}`);
        if (w !== undefined) {
          if (m === "removeReader") w.reader = null;
          else w.writer = null;
          if (w.reader === null && w.writer === null) model.delete(fd);
        }
      }
    }
    verify();
  };

  // -- one sock* call: mostly with one junk argument, sometimes a valid one --
  const JUNK_SOCKS: unknown[] = [undefined, null, 3, "sock", {}, { fileno: () => conn.fileno() }];
  const JUNK_SIZES: unknown[] = [-1, 1.5, NaN, "3", null, 10n, Infinity, 2 ** 31, -0.5, {}];
  const JUNK_BUFS: unknown[] = [null, undefined, "buf", [1, 2], new ArrayBuffer(8), 42, {
    byteLength: 3,
  }];
  const bAddr = ub.getsockname() as NetAddress;
  const JUNK_ADDRS: unknown[] = [
    null,
    undefined,
    "127.0.0.1",
    42,
    {},
    [],
    { transport: "udp" },
    { ...bAddr, port: -1 },
    { ...bAddr, port: 65536 },
    { ...bAddr, port: 1.5 },
    { ...bAddr, port: "80" },
    { ...bAddr, port: 9n },
    { ...bAddr, hostname: 5 },
    { ...bAddr, hostname: "::1" },
    { ...bAddr, transport: "tcp" },
    { ...bAddr, transport: "bogus" },
    { transport: "unix", path: "/nonexistent" },
    // Port 0: EINVAL on Unix, WSAEADDRNOTAVAIL on Windows; Wine's sendto() takes it and reports
    // the datagram sent, so under Wine it is no junk.
    ...(UNDER_WINE ? [] : [{ ...bAddr, port: 0 }]),
  ];
  const JUNK_CONNECT: unknown[] = [
    null,
    "127.0.0.1:80",
    {},
    { transport: "udp", hostname: V4, port: 9 },
    { transport: "tcp", hostname: V4, port: -1 },
    { transport: "tcp", hostname: V4, port: 70000 },
    { transport: "tcp", hostname: V4 },
    { transport: "tcp", hostname: 7, port: 80 },
    { transport: "udp", hostname: "example.invalid", port: 80 }, // refused before any lookup
    { transport: "tcp", hostname: "localhost", port: -5 },
    { transport: "tcp", hostname: "::1", port: 80 },
  ];
  const JUNK_OPTS: unknown[] = [null, 42, "opts", true, { signal: "x" }, { signal: {} }, {
    signal: 1,
  }];

  type Junk = "sock" | "size" | "buf" | "addr" | "opts";
  const sockCall = async (): Promise<void> => {
    const which = int(10);
    const junkOf = (kinds: Junk[]): Junk | null => rnd() < 0.85 ? pick(kinds) : null;
    let fn: () => unknown;
    let junk: Junk | null;
    let expect: ((v: unknown) => void) | null = null; // checks a valid call's result
    const sockFor = (valid: Socket) =>
      junk === "sock" ? pick([...JUNK_SOCKS, closedSock, blocking]) as Socket : valid;
    const opts = () => (junk === "opts" ? pick(JUNK_OPTS) : undefined) as never;
    switch (which) {
      case 0: { // sockRecv on conn
        junk = junkOf(["sock", "size", "opts"]);
        const n = junk === "size" ? pick(JUNK_SIZES) : tcpPending.length > 0 ? 1 + int(8) : 0;
        what = `sockRecv(${junk ?? "valid"}, ${describe(n)})`;
        fn = () => loop.sockRecv(sockFor(conn), n as number, opts());
        if (junk === null) {
          expect = (v) => {
            const got = [...(v as Uint8Array)];
            check(got.length <= (n as number), `got ${got.length} bytes`);
            check(n === 0 || got.length > 0, "an empty read with data pending");
            check(
              got.every((x, i) => x === tcpPending[i]),
              `got [${got}], pending [${tcpPending}]`,
            );
            tcpPending = tcpPending.slice(got.length);
          };
        }
        break;
      }
      case 1: { // sockRecvInto on conn
        junk = junkOf(["sock", "buf", "opts"]);
        const buf = junk === "buf" ? pick(JUNK_BUFS) : new Uint8Array(0);
        what = `sockRecvInto(${junk ?? "valid"}, ${describe(buf)})`;
        fn = () => loop.sockRecvInto(sockFor(conn), buf as Uint8Array, opts());
        if (junk === null) expect = (v) => check(v === 0, `got ${v}`);
        break;
      }
      case 2: { // sockRecvfrom on ub
        junk = junkOf(["sock", "size", "opts"]);
        if (junk === null && udpPending.length === 0) junk = "size";
        const n = junk === "size" ? pick(JUNK_SIZES) : 2048;
        what = `sockRecvfrom(${junk ?? "valid"}, ${describe(n)})`;
        fn = () => loop.sockRecvfrom(sockFor(ub), n as number, opts());
        if (junk === null) {
          const want = udpPending.shift()!;
          expect = (v) => {
            const [data, from] = v as [Uint8Array, Address];
            check(dec.decode(data) === dec.decode(want), `got "${dec.decode(data)}"`);
            check((from as NetAddress).port === (ua.getsockname() as NetAddress).port, "from");
          };
        }
        break;
      }
      case 3: { // sockRecvfromInto on ub
        junk = pick(["sock", "size", "buf", "opts"] as Junk[]);
        const buf = junk === "buf" ? pick(JUNK_BUFS) : new Uint8Array(4);
        const n = junk === "size" ? pick([...JUNK_SIZES, 5]) : undefined; // 5: more than buf
        what = `sockRecvfromInto(${junk}, ${describe(buf)}, ${describe(n)})`;
        fn = () => loop.sockRecvfromInto(sockFor(ub), buf as Uint8Array, n as number, opts());
        break;
      }
      case 4: { // sockSendall on client
        junk = junkOf(["sock", "buf", "opts"]);
        const data = junk === "buf"
          ? pick(JUNK_BUFS)
          : Uint8Array.from({ length: int(4) }, () => int(256));
        what = `sockSendall(${junk ?? "valid"}, ${describe(data)})`;
        fn = () => loop.sockSendall(sockFor(client), data as Uint8Array, opts());
        if (junk === null) expect = () => void tcpPending.push(...(data as Uint8Array));
        break;
      }
      case 5: { // sockSendto ua -> ub
        junk = junkOf(["sock", "buf", "addr", "opts"]);
        // A receive buffer holds a few hundred small datagrams: never let the kernel drop one.
        if (junk === null && udpPending.length >= 32) junk = "addr";
        const data = junk === "buf" ? pick(JUNK_BUFS) : enc.encode(int(3) === 0 ? "" : `d${step}`);
        const addr = junk === "addr" ? pick(JUNK_ADDRS) : bAddr;
        what = `sockSendto(${junk ?? "valid"}, ${describe(data)}, ${describe(addr)})`;
        fn = () => loop.sockSendto(sockFor(ua), data as Uint8Array, addr as Address, opts());
        if (junk === null) {
          expect = (v) => {
            check(v === (data as Uint8Array).byteLength, `sent ${v}`);
            udpPending.push(data as Uint8Array);
          };
        }
        break;
      }
      case 6: { // sockConnect on the fresh socket: never valid here
        junk = pick(["sock", "addr", "opts"] as Junk[]);
        const addr = junk === "addr" ? pick(JUNK_CONNECT) : listener.getsockname();
        what = `sockConnect(${junk}, ${describe(addr)})`;
        fn = () => loop.sockConnect(sockFor(fresh), addr as Address, opts());
        break;
      }
      case 7: { // sockAccept on the listener: never valid here (nobody connects)
        junk = pick(["sock", "opts"] as Junk[]);
        what = `sockAccept(${junk})`;
        fn = () => loop.sockAccept(sockFor(listener), opts());
        break;
      }
      case 8: { // an aborted signal: CancelledError at once, nothing taken
        junk = null;
        what = "sockRecv(conn, 10, aborted signal)";
        fn = () => loop.sockRecv(conn, 10, { signal: AbortSignal.abort() });
        break;
      }
      default: { // sockRecv(udp, 0): empty at once, no datagram taken
        junk = null;
        what = "sockRecv(ub, 0)";
        fn = () => loop.sockRecv(ub, 0);
        expect = (v) => check(v instanceof Uint8Array && v.byteLength === 0, `got ${v}`);
      }
    }
    const method = what.slice(0, what.indexOf("("));
    tally(
      `${which === 8 ? "aborted" : which === 9 ? "sockRecv(udp, 0)" : method}: ${junk ?? "valid"}`,
    );
    // A valid read may wait for data that is on its way (loopback delivers it soon, but a test
    // must not count on when): it must settle, but is given no bound. Everything else is.
    const waitsForData = junk === null && (which === 0 || which === 2);
    const o = await within(loop, fn as () => Promise<unknown>, waitsForData ? Infinity : 3);
    check(o.state !== "pending", "did not settle within 3 loop iterations");
    if (which === 8) {
      check(o.state === "rejected" && o.error instanceof CancelledError, "not cancelled");
    } else if (junk !== null) {
      check(o.state === "rejected", "a call with a junk argument succeeded");
      if (o.state === "rejected") refusal(o.error, o.sync, `${method}()`);
    } else {
      if (o.state === "rejected") fail(`a valid call failed: ${o.error}`);
      if (o.state === "resolved") expect?.(o.value);
    }
    verify();
  };

  try {
    for (step = 0; step < CALLS; step++) {
      if (rnd() < 0.6) fdCall();
      else await sockCall();
      // Let the loop poll now and then: watched fds get their events, released watches settle.
      if (step % 200 === 199) {
        what = "a few loop iterations";
        await within(loop, () => new Promise(() => {}), A_POLL);
        verify();
      }
    }
    // Whatever data the junk calls left is exactly what the valid calls sent: nothing was taken.
    what = "draining";
    while (tcpPending.length > 0) {
      const got = await loop.sockRecv(conn, tcpPending.length);
      check(got.length > 0, "EOF while draining");
      check([...got].every((x, i) => x === tcpPending[i]), `drained [${[...got]}]`);
      tcpPending = tcpPending.slice(got.length);
    }
    while (udpPending.length > 0) {
      const [data] = await loop.sockRecvfrom(ub, 2048);
      check(dec.decode(data) === dec.decode(udpPending.shift()!), "a datagram out of order");
    }
    check(conn.recv(1) === null && ub.recv(1) === null, "more data than the model has");
    // Everything removed, then one poll: nothing is left registered.
    what = "removing everything";
    for (const [fd, w] of [...model]) {
      if (w.reader !== null) check(loop.removeReader(w.fileobj as FileObj), `reader of ${fd}`);
      if (w.writer !== null) check(loop.removeWriter(w.fileobj as FileObj), `writer of ${fd}`);
      model.delete(fd);
    }
    await within(loop, () => new Promise(() => {}), A_POLL);
    check(selectorOf(loop).getMap().size === 0, `still registered: ${registrations(loop)}`);
    what = "coverage";
    for (const outcome of OUTCOMES) {
      check((seen.get(outcome) ?? 0) >= 3, `"${outcome}" happened ${seen.get(outcome) ?? 0} times`);
    }
  } finally {
    for (const [a, b] of pairs) {
      closeSocketFd(a);
      closeSocketFd(b);
    }
    owner.close();
    closeSocketFd(owned[1]);
    for (const s of [tcp, udp, client, conn, ua, ub, fresh, blocking]) s.close();
  }
}
