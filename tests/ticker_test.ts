/**
 * The brief wait's tick (decision 4b): a `timerfd` that an `EpollSelector`
 * watches and reads, so that an untimed `select(null)` on the JS thread ends
 * at the next tick and no kernel timer is armed per wait. The loop
 * runs the tick only while it runs and is not parked. No test reads a clock:
 * a tick is seen as the fd turning readable (a `poll` that fails after 10 s
 * if it never does) or as a `select(null)` that returns.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { EpollSelector, EVENT_READ, PollSelector, SelectorEventLoop } from "../mod.ts";
import { SelectSelector } from "../selectors/select_selector.ts";
import { selectorsSettled } from "../selectors/base_selector.ts";
import { HAS_TICKER, Ticker } from "../ffi/unix/ticker.ts";
import { closeFd, isOpenFd, libc } from "../ffi/unix/libc.ts";
import { POLLFD_SIZE, POLLIN, setPollfd } from "../ffi/unix/pollfd.ts";
import { assertNoFdLeak, openFds } from "./_fd_leak.ts";
import { recvFd, sendDelivered, socketPairFds } from "./_sockets.ts";

const LINUX = Deno.build.os === "linux";
const onUnix = Deno.build.os !== "windows";
const GUARD_MS = 10_000; // only a broken tick waits this long

const timerfd = LINUX
  ? Deno.dlopen(
    "libc.so.6",
    {
      timerfd_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    } as const,
  )
  : null;

/** Whether `fd` is readable within `timeoutMs` (`poll(2)`). */
function readable(fd: number, timeoutMs: number): boolean {
  const pfd = new Uint8Array(POLLFD_SIZE);
  setPollfd(new DataView(pfd.buffer), 0, fd, POLLIN);
  return libc().poll(pfd, 1n, timeoutMs) === 1;
}

/** Whether the timerfd `fd` is armed (`timerfd_gettime`: a nonzero `it_value`). */
function armed(fd: number): boolean {
  const spec = new BigInt64Array(4);
  assertEquals(timerfd!.symbols.timerfd_gettime(fd, spec), 0, `timerfd_gettime(${fd})`);
  return spec[2] !== 0n || spec[3] !== 0n;
}

/** The one fd `fn` opened and left open. */
function newFd(before: Set<number>): number {
  const added = [...openFds()].filter((fd) => !before.has(fd));
  assertEquals(added.length, 1, `new fds: ${added}`);
  return added[0];
}

Deno.test({
  name: "Ticker: started, its fd turns readable; drain() re-arms it; stop() disarms it; close()",
  ignore: !HAS_TICKER,
  fn: () =>
    assertNoFdLeak(() => {
      const t = new Ticker(1);
      const fd = t.fd;
      assertEquals(t.started, false);
      assertEquals(armed(fd), false);
      assertEquals(readable(fd, 0), false);
      t.start();
      t.start(); // a no-op
      assert(t.started);
      assert(armed(fd));
      assert(readable(fd, GUARD_MS), "no tick");
      // A periodic timerfd is re-armed only once its expiry is read.
      for (let i = 0; i < 3; i++) {
        assert(t.drain());
        assert(readable(fd, GUARD_MS), `no tick after drain ${i}`);
      }
      t.stop();
      assertEquals(t.started, false);
      assertEquals(armed(fd), false);
      assertEquals(readable(fd, 0), false, "the tick not read is dropped");
      assertEquals(t.drain(), false);
      t.stop(); // a no-op
      t.start();
      assert(readable(fd, GUARD_MS), "no tick after a restart");
      t.close();
      assertEquals(isOpenFd(fd), false);
      t.close(); // idempotent
      assertEquals(t.drain(), false);
      assertThrows(() => t.start(), Deno.errors.BadResource, "closed");
    }),
});

Deno.test({
  name: "Ticker: a period outside 0.001–1000 ms is a RangeError, and nothing is opened",
  ignore: !HAS_TICKER,
  fn: () =>
    assertNoFdLeak(() => {
      for (const bad of [0, -1, NaN, Infinity, 1001, 0.0001]) {
        assertThrows(() => new Ticker(bad), RangeError, "periodMs must be from 0.001 to 1000");
      }
    }),
});

Deno.test({
  name: "Ticker: NotSupported where there is no timerfd",
  ignore: HAS_TICKER || !onUnix,
  fn: () => {
    assertThrows(() => new Ticker(1), Deno.errors.NotSupported, "timerfd is a Linux call");
  },
});

Deno.test({
  name: "EpollSelector: ticks end select(null) with no results, tick after tick",
  ignore: !LINUX,
  fn: () =>
    assertNoFdLeak(() => {
      using sel = new EpollSelector();
      const before = openFds();
      assert(sel._startTicks(1));
      const tfd = newFd(before);
      assert(armed(tfd));
      assert(readable(tfd, GUARD_MS), "no tick");
      // Each tick ends a wait; the selector reads it, so that the next one comes.
      for (let i = 0; i < 3; i++) assertEquals(sel.select(null), []);
      assertEquals(sel.getMap().size, 0, "the tick is not a registration");
      assertThrows(() => sel.register(tfd, EVENT_READ), TypeError, "own tick fd");
      assert(sel._startTicks(1), "started twice: a no-op");
      assertEquals(newFd(before), tfd, "one timerfd for the selector's life");
      sel._stopTicks();
      assertEquals(armed(tfd), false);
      assertEquals(sel.select(0), []);
      sel._stopTicks(); // a no-op
      sel.close();
      assertEquals(isOpenFd(tfd), false, "close() closes the timerfd");
      assertEquals(sel._startTicks(1), false, "no tick on a closed selector");
    }),
});

Deno.test({
  name: "EpollSelector: with ticks running, select(null) still returns the I/O that is ready",
  ignore: !LINUX,
  fn: () =>
    assertNoFdLeak(() => {
      const [a, b] = socketPairFds();
      try {
        using sel = new EpollSelector();
        const key = sel.register(a, EVENT_READ, "a");
        assert(sel._startTicks(1));
        assert(sendDelivered(b, new Uint8Array([7]), a));
        // Ticks may end waits before the byte is seen; the byte is seen in the end.
        let got = sel.select(null);
        for (let i = 0; got.length === 0 && i < 100; i++) got = sel.select(null);
        assertEquals(got, [[key, EVENT_READ]]);
        assertEquals(recvFd(a, new Uint8Array(4)), 1);
      } finally {
        closeFd(a);
        closeFd(b);
      }
    }),
});

Deno.test({
  name: "PollSelector and SelectSelector have no tick: _startTicks() is false and opens nothing",
  ignore: !onUnix,
  fn: () =>
    assertNoFdLeak(() => {
      for (const make of [() => new PollSelector(), () => new SelectSelector()]) {
        using sel = make();
        const before = openFds();
        assertEquals(sel._startTicks(1), false);
        sel._stopTicks();
        assertEquals(openFds(), before);
      }
    }),
});

Deno.test({
  name: "SelectorEventLoop: the tick runs only while the loop runs, is off while it is parked, " +
    "and closes with it",
  ignore: !LINUX,
  fn: () =>
    assertNoFdLeak(async () => {
      const [a, b] = socketPairFds();
      try {
        const loop = new SelectorEventLoop(new EpollSelector());
        const before = openFds();
        let reads = 0;
        loop.addReader(a, () => {
          recvFd(a, new Uint8Array(16));
          reads++;
        });
        const parkedArmed: boolean[] = [];
        // Deno's timers run only while the loop gives Deno a turn: here, once it parked after
        // its brief wait (nothing keeps it busy).
        setTimeout(() => assert(sendDelivered(b, new Uint8Array([1]), a)), 20);
        const tfdOf = () => [...openFds()].filter((fd) => !before.has(fd));
        setTimeout(() => {
          const fds = tfdOf();
          if (fds.length === 1) parkedArmed.push(armed(fds[0]));
          loop.stop();
        }, 80);
        await loop.runForever();
        assertEquals(reads, 1);
        // The I/O made the loop hot: its brief wait started the selector's tick.
        const tfd = newFd(before);
        assertEquals(parkedArmed, [false], "the tick was still running while the loop was parked");
        assertEquals(armed(tfd), false, "the tick is still running after runForever()");
        loop.close();
        await selectorsSettled(); // a wait ended early by stop() still holds the fds
        assertEquals(isOpenFd(tfd), false);
      } finally {
        closeFd(a);
        closeFd(b);
      }
    }),
});
