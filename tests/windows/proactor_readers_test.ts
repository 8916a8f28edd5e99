// addReader/addWriter/removeReader/removeWriter on every loop of LOOPS that has readers: on
// Windows the SelectorEventLoops (SelectSelector, DefaultSelector, AfdSelector) and the
// ProactorEventLoop, whose readers are AFD polls on its completion port (beyond CPython); on
// Linux the selector loops (the first block is portable). The second block is the Proactor's
// own: raw SOCKETs, pipes refused, sockets closed while watched, leaks. Run under Wine with
// `.ci/wine/run.sh . test --allow-all tests/windows/proactor_readers_test.ts`.
// No timing in any assertion: the loop is stopped by what happened, never by a clock.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { afdCounters } from "../../ffi/windows/afd.ts";
import { openSockets } from "../../ffi/windows/socket.ts";
import { WS, ws2_32 } from "../../ffi/windows/ws2_32.ts";
import { pipe } from "../../loop/windows/pipe_handle.ts";
import { ProactorEventLoop } from "../../mod.ts";
import { countFds } from "../_fd_leak.ts";
import { forEachLoop } from "../_loops.ts";
import { closeSocketFd, recvFd, sendFd, socketPairFds } from "../_sockets.ts";

const onWindows = Deno.build.os === "windows";
const ONE = new Uint8Array([1]);

function drain(fd: number): number {
  const buf = new Uint8Array(4096);
  let total = 0;
  for (;;) {
    const n = recvFd(fd, buf);
    if (n <= 0) return total;
    total += n;
  }
}

function send(fd: number): void {
  assertEquals(sendFd(fd, ONE), 1);
}

/** Runs `fn` with `n` connected socket pairs, closing them afterwards. */
async function withPairs(n: number, fn: (p: [number, number][]) => unknown): Promise<void> {
  const pairs: [number, number][] = [];
  try {
    for (let i = 0; i < n; i++) pairs.push(socketPairFds());
    await fn(pairs);
  } finally {
    for (const [a, b] of pairs) {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  }
}

forEachLoop(["readers"], (lc, test) => {
  const L = lc.name;

  test(`${L}.addReader() calls back with its args; removeReader() says whether it was set`, () =>
    withPairs(1, async ([[a, b]]) => {
      using loop = lc.make();
      const seen: unknown[] = [];
      loop.addReader(
        a,
        (tag: string, n: number) => {
          seen.push([tag, n, drain(a)]);
          loop.stop();
        },
        "data",
        7,
      );
      loop.callSoon(() => send(b));
      await loop.runForever();
      assertEquals(seen, [["data", 7, 1]]);
      assert(loop.removeReader(a));
      assertEquals(loop.removeReader(a), false);
      assertEquals(loop.removeWriter(a), false);
    }));

  test(`${L}: a second addReader() replaces the callback and cancels the first handle`, () =>
    withPairs(1, async ([[a, b]]) => {
      using loop = lc.make();
      const seen: string[] = [];
      const first = loop.addReader(a, () => seen.push("first"));
      const second = loop.addReader(a, () => {
        seen.push("second");
        drain(a);
        loop.stop();
      });
      assert(first.cancelled() && !second.cancelled());
      send(b);
      await loop.runForever();
      assertEquals(seen, ["second"]);
      assert(loop.removeReader(a));
      assert(second.cancelled());
    }));

  test(`${L}.addWriter() calls back when writable; removeWriter() stops it`, () =>
    withPairs(1, async ([[a]]) => {
      using loop = lc.make();
      let calls = 0;
      loop.addWriter({ fileno: () => a }, () => {
        calls++;
        assert(loop.removeWriter(a));
        loop.callSoon(() => loop.stop());
      });
      await loop.runForever();
      assertEquals(calls, 1);
      assertEquals(loop.removeWriter(a), false);
    }));

  test(`${L} watches one socket for reading and writing, and removes them apart`, () =>
    withPairs(1, async ([[a, b]]) => {
      using loop = lc.make();
      const seen: string[] = [];
      loop.addWriter(a, () => {
        seen.push("w");
        assert(loop.removeWriter(a));
        send(b);
      });
      loop.addReader(a, () => {
        seen.push("r");
        drain(a);
        loop.stop();
      });
      await loop.runForever();
      assertEquals(seen, ["w", "r"]);
      assert(loop.removeReader(a));
      assertEquals(loop.removeWriter(a), false);
    }));

  test(`${L}: level-triggered — a reader not drained is called again, a drained one is not`, () =>
    withPairs(2, async ([[a, b], [c, d]]) => {
      using loop = lc.make();
      let undrained = 0, drained = 0;
      // c is read once; a is never read, so it stays readable and is reported at every poll.
      loop.addReader(c, () => {
        drained++;
        assertEquals(drain(c), 1);
      });
      loop.addReader(a, () => {
        if (++undrained === 6) loop.stop();
      });
      send(d);
      send(b);
      await loop.runForever();
      assertEquals(undrained, 6);
      assertEquals(drained, 1);
      assertEquals(drain(a), 1);
      assert(loop.removeReader(a) && loop.removeReader(c));
    }));

  test(`${L}: removing a reader while its wait is pending, then adding one back, works`, () =>
    withPairs(1, async ([[a, b]]) => {
      using loop = lc.make();
      const seen: string[] = [];
      loop.addReader(a, () => seen.push("old"));
      // One turn with the reader waiting (its poll pending), then remove it and add another.
      await loop.runUntilComplete(() => new Promise<void>((r) => loop.callSoon(r)));
      assert(loop.removeReader(a));
      loop.addReader(a, () => {
        seen.push("new");
        drain(a);
        loop.stop();
      });
      send(b);
      await loop.runForever();
      assertEquals(seen, ["new"]);
      assert(loop.removeReader(a));
    }));

  test(`${L}: a writer added while the reader's wait is pending is called`, () =>
    withPairs(1, async ([[a, b]]) => {
      using loop = lc.make();
      const seen: string[] = [];
      loop.addReader(a, () => {
        seen.push("r");
        drain(a);
        loop.stop();
      });
      await loop.runUntilComplete(() => new Promise<void>((r) => loop.callSoon(r)));
      // The reader's poll is pending: asking for more cancels it and polls for both.
      loop.addWriter(a, () => {
        seen.push("w");
        assert(loop.removeWriter(a));
        send(b);
      });
      await loop.runForever();
      assertEquals(seen, ["w", "r"]);
      assert(loop.removeReader(a));
    }));

  test(`${L}: reader calls on a closed loop`, () =>
    withPairs(1, ([[a]]) => {
      const loop = lc.make();
      loop.addReader(a, () => {});
      loop.close();
      assertEquals(loop.removeReader(a), false);
      assertEquals(loop.removeWriter(a), false);
      assertThrows(() => loop.addReader(a, () => {}), Error, "Event loop is closed");
      assertThrows(() => loop.addWriter(a, () => {}), Error, "Event loop is closed");
    }));

  test(`${L}: bad fileobjs and callbacks are refused before anything changes`, () => {
    using loop = lc.make();
    // deno-lint-ignore no-explicit-any
    const l = loop as any;
    assertThrows(() => l.addReader(-1, () => {}), RangeError);
    assertThrows(() => l.addReader("3", () => {}), TypeError);
    assertThrows(() => l.addReader(null, () => {}), TypeError);
    assertThrows(() => l.addReader({ fileno: () => "x" }, () => {}), TypeError);
    assertThrows(() => l.addReader(0, 42), TypeError);
    assertEquals(loop.removeReader(12345), false);
  });

  test(`${L}: a handle cancelled before its event is dropped then`, () =>
    withPairs(1, async ([[a, b]]) => {
      using loop = lc.make();
      let calls = 0;
      loop.addReader(a, () => calls++).cancel();
      let ticks = 0;
      // The writer is the clock: it runs at each poll while the reader's event comes and goes.
      loop.addWriter(b, () => {
        if (++ticks === 1) send(b);
        if (ticks === 5) loop.stop();
      });
      await loop.runForever();
      assertEquals(calls, 0);
      assertEquals(loop.removeReader(a), false); // dropped at its event
      assert(loop.removeWriter(b));
    }));
});

// ---- the ProactorEventLoop's own ---------------------------------------------------------

const ignore = !onWindows;

/** A raw TCP SOCKET straight from ws2_32 (not through net/ or ffi/windows/socket.ts). */
function rawListener(): { fd: number; port: number } {
  const w = ws2_32();
  const s = BigInt(w.WSASocketW(WS.AF_INET, WS.SOCK_STREAM, 6, null, 0, 0x01 | 0x80));
  assert(s !== WS.INVALID_SOCKET, `WSASocketW: ${w.WSAGetLastError()}`);
  const sa = new Uint8Array(16);
  new DataView(sa.buffer).setUint16(0, WS.AF_INET, true);
  sa.set([127, 0, 0, 1], 4);
  assertEquals(w.bind(s, sa, 16), 0);
  assertEquals(w.listen(s, 8), 0);
  const len = new Int32Array([16]);
  assertEquals(w.getsockname(s, sa, new Uint8Array(len.buffer)), 0);
  const port = new DataView(sa.buffer).getUint16(2, false);
  return { fd: Number(s), port };
}

function rawConnect(port: number): number {
  const w = ws2_32();
  const s = BigInt(w.WSASocketW(WS.AF_INET, WS.SOCK_STREAM, 6, null, 0, 0x01 | 0x80));
  const sa = new Uint8Array(16);
  const v = new DataView(sa.buffer);
  v.setUint16(0, WS.AF_INET, true);
  v.setUint16(2, port, false);
  sa.set([127, 0, 0, 1], 4);
  assertEquals(w.connect(s, sa, 16), 0); // blocking: the listener's backlog takes it
  return Number(s);
}

const rawClose = (...fds: number[]) => {
  for (const fd of fds) ws2_32().closesocket(BigInt(fd));
};

Deno.test({
  name: "ProactorEventLoop.addReader() watches a raw SOCKET made straight through ws2_32",
  ignore,
  async fn() {
    const before = afdCounters();
    const { fd: listener, port } = rawListener();
    let client = -1, conn = -1;
    try {
      using loop = new ProactorEventLoop();
      loop.addReader(listener, () => {
        const peer = new Uint8Array(128);
        const len = new Int32Array([128]);
        conn = Number(ws2_32().accept(BigInt(listener), peer, new Uint8Array(len.buffer)));
        assert(loop.removeReader(listener));
        loop.stop();
      });
      loop.callSoon(() => client = rawConnect(port));
      await loop.runForever();
      assert(conn > 0 && BigInt(conn) !== WS.INVALID_SOCKET, "accepted");
      // The accepted raw socket, for reading: the client's byte wakes it.
      let got = 0;
      loop.addReader(conn, () => {
        const buf = new Uint8Array(8);
        got = ws2_32().recv(BigInt(conn), buf, 8, 0);
        loop.removeReader(conn);
        loop.stop();
      });
      ws2_32().send(BigInt(client), new Uint8Array([42]), 1, 0);
      await loop.runForever();
      assertEquals(got, 1);
    } finally {
      rawClose(...[listener, client, conn].filter((x) => x > 0));
    }
    assertEquals(afdCounters(), before);
  },
});

Deno.test({
  name:
    "ProactorEventLoop.addReader() refuses a pipe handle with NotSupported naming connectReadPipe",
  ignore,
  fn() {
    const [r, w] = pipe();
    try {
      using loop = new ProactorEventLoop();
      for (const add of [loop.addReader, loop.addWriter]) {
        const e = assertThrows(
          () => add.call(loop, r.fileno(), () => {}),
          Deno.errors.NotSupported,
        );
        assertStringIncludes(e.message, "sockets only");
        assertStringIncludes(e.message, "connectReadPipe");
      }
      assertEquals(loop.removeReader(r.fileno()), false);
      assertEquals(loop.removeWriter(r.fileno()), false);
    } finally {
      r.close();
      w.close();
    }
  },
});

Deno.test({
  name: "ProactorEventLoop: a socket closed while watched is dropped without an error or a leak",
  ignore,
  async fn() {
    const before = afdCounters();
    const sockets = countFds();
    const [a, b] = socketPairFds();
    const [c, d] = socketPairFds();
    try {
      using loop = new ProactorEventLoop();
      const errors: unknown[] = [];
      loop.setExceptionHandler((_l, ctx) => errors.push(ctx));
      let aCalls = 0, cCalls = 0;
      loop.addReader(a, () => aCalls++);
      loop.addReader(c, () => {
        cCalls++;
        drain(c);
        // a's poll ended with AFD_POLL_LOCAL_CLOSE: its slot is freed (c's remains).
        if (afdCounters().slots === before.slots + 1 || cCalls >= 50) loop.stop();
        else send(d);
      });
      await loop.runUntilComplete(() => new Promise<void>((r) => loop.callSoon(r)));
      closeSocketFd(a); // closed with its poll pending
      send(d);
      await loop.runForever();
      assertEquals(aCalls, 0);
      assertEquals(afdCounters().slots, before.slots + 1);
      assertEquals(errors, []);
      assertEquals(loop.removeReader(a), true); // still known to the loop, forgotten by AFD
      assertEquals(loop.removeReader(a), false);
      assert(loop.removeReader(c));
    } finally {
      closeSocketFd(b);
      closeSocketFd(c);
      closeSocketFd(d);
    }
    assertEquals(afdCounters(), before);
    assertEquals(countFds(), sockets);
  },
});

Deno.test({
  name: "ProactorEventLoop: closing the loop with polls pending leaks no handle, slot or socket",
  ignore,
  async fn() {
    const before = afdCounters();
    const sockets = openSockets().length;
    await withPairs(40, async (pairs) => {
      const loop = new ProactorEventLoop();
      for (const [a] of pairs) loop.addReader(a, () => {});
      loop.addWriter(pairs[0][1], () => loop.stop());
      await loop.runForever(); // every reader's poll is pending now
      assert(afdCounters().helpers > before.helpers);
      assert(afdCounters().slots >= before.slots + 41);
      loop.close();
      assertEquals(afdCounters(), before);
    });
    assertEquals(openSockets().length, sockets);
  },
});
