// AfdSelector (selectors/afd_selector.ts) and the AFD poll layer under it
// (selectors/afd_poller.ts, ffi/windows/afd.ts), on real Winsock sockets. Windows only: run
// under Wine with `.ci/wine/run.sh . test --allow-all tests/windows/afd_selector_test.ts`.
// No timing in any assertion: waits are bounded, results are counted.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import * as win from "../../ffi/windows/seam.ts";
import { AFD_POLL, AFD_SLOT, afdCounters, IOCTL_AFD_POLL } from "../../ffi/windows/afd.ts";
import { openSockets } from "../../ffi/windows/socket.ts";
import { pipe } from "../../loop/windows/pipe_handle.ts";
import { AfdSelector } from "../../selectors/afd_selector.ts";
import { EVENT_READ, EVENT_WRITE, type SelectResult } from "../../selectors/selector_key.ts";
import { SelectorEventLoop, selectorsSettled } from "../../mod.ts";

const onWindows = Deno.build.os === "windows";
const ignore = !onWindows;
const ONE = new Uint8Array([1]);

function pair(): [number, number] {
  const [a, b] = win.loopbackSocketPair("inet");
  win.setNonBlocking(a);
  win.setNonBlocking(b);
  return [a, b];
}

function close(...fds: number[]): void {
  for (const fd of fds) win.sock().closesocket(fd);
}

function send(fd: number, data = ONE): void {
  const n = win.sock().send(fd, data, BigInt(data.byteLength), 0);
  if (n !== data.byteLength) throw win.osError(win.errno(), "send");
}

function drain(fd: number): number {
  const buf = new Uint8Array(4096);
  let total = 0;
  for (;;) {
    const n = win.sock().recv(fd, buf, BigInt(buf.byteLength), 0);
    if (n <= 0) return total;
    total += n;
  }
}

/** Selects until `done(results so far)` or `rounds` waits of up to 2 s went by. */
function selectUntil(
  sel: AfdSelector,
  done: (all: SelectResult) => boolean,
  rounds = 20,
): SelectResult {
  const all: SelectResult = [];
  for (let i = 0; i < rounds && !done(all); i++) all.push(...sel.select(2000));
  return all;
}

const summary = (r: SelectResult) => r.map(([k, ev]) => [k.fd, ev]).sort((x, y) => x[0] - y[0]);

Deno.test("AFD layouts: the poll slot and the IOCTL match BRIEF §2 (AFD_POLL_INFO, one handle)", () => {
  assertEquals(AFD_SLOT.SIZE, 16 + 32);
  assertEquals([AFD_SLOT.timeout, AFD_SLOT.handles, AFD_SLOT.exclusive], [16, 24, 28]);
  assertEquals([AFD_SLOT.handle, AFD_SLOT.events, AFD_SLOT.handleStatus], [32, 40, 44]);
  assertEquals(IOCTL_AFD_POLL, 0x00012024);
  assertEquals(
    [AFD_POLL.RECEIVE, AFD_POLL.SEND, AFD_POLL.LOCAL_CLOSE, AFD_POLL.ACCEPT, AFD_POLL.CONNECT_FAIL],
    [0x1, 0x4, 0x20, 0x80, 0x100],
  );
});

Deno.test({
  name: "AfdSelector: register, modify, unregister; readers and writers reported as asked",
  ignore,
  fn() {
    const before = afdCounters();
    const [a, b] = pair();
    try {
      using sel = new AfdSelector();
      assertEquals(sel.name, "afd");
      sel.register(a, EVENT_READ, "a");
      assertEquals(sel.select(0), []);
      send(b);
      const got = selectUntil(sel, (r) => r.length > 0);
      assertEquals(summary(got), [[a, EVENT_READ]]);
      assertEquals(got[0][0].data, "a");
      sel.modify(a, EVENT_READ | EVENT_WRITE, "a");
      const both = selectUntil(sel, (r) => r.some(([, ev]) => ev === (EVENT_READ | EVENT_WRITE)));
      assert(both.some(([k, ev]) => k.fd === a && ev === 3), JSON.stringify(summary(both)));
      sel.modify(a, EVENT_WRITE);
      const w = sel.select(2000);
      assertEquals(summary(w), [[a, EVENT_WRITE]]);
      sel.unregister(a);
      assertEquals(sel.getMap().size, 0);
    } finally {
      close(a, b);
    }
    assertEquals(afdCounters(), before);
  },
});

Deno.test({
  name:
    "AfdSelector: level-triggered — a reader not drained is reported again, a drained one is not",
  ignore,
  fn() {
    const [a, b] = pair();
    const [c, d] = pair();
    try {
      using sel = new AfdSelector();
      sel.register(a, EVENT_READ);
      sel.register(c, EVENT_READ);
      send(b);
      send(d);
      const first = selectUntil(sel, (r) => r.length >= 2);
      assertEquals(summary(first), [[a, EVENT_READ], [c, EVENT_READ]].sort((x, y) => x[0] - y[0]));
      assertEquals(drain(c), 1); // c drained, a not
      for (let i = 0; i < 3; i++) {
        const again = selectUntil(sel, (r) => r.length > 0);
        assertEquals(summary(again), [[a, EVENT_READ]], `round ${i}`);
      }
      assertEquals(drain(a), 1);
      assertEquals(sel.select(0), []);
    } finally {
      close(a, b, c, d);
    }
  },
});

Deno.test({
  name:
    "AfdSelector: 2,000 sockets at once — every writer in one wait, each reader woken by its own write",
  ignore,
  fn() {
    const N = 1000; // 1,000 pairs: 2,000 sockets
    const before = afdCounters();
    const pairs: [number, number][] = [];
    try {
      for (let i = 0; i < N; i++) pairs.push(pair());
      using sel = new AfdSelector();
      for (const [a, b] of pairs) {
        sel.register(a, EVENT_WRITE, "a");
        sel.register(b, EVENT_WRITE, "b");
      }
      assertEquals(sel.getMap().size, 2 * N);
      assert(afdCounters().helpers - before.helpers >= Math.ceil((2 * N + 1) / 32));
      // Every writer in one wait: the polls of writable sockets complete at submission.
      const w = sel.select(10_000);
      const fds = new Set(w.map(([k]) => k.fd));
      assertEquals(fds.size, 2 * N);
      assert(w.every(([, ev]) => ev === EVENT_WRITE));
      for (const [a, b] of pairs) {
        sel.modify(a, EVENT_READ, "a");
        sel.modify(b, EVENT_READ, "b");
      }
      assertEquals(sel.select(0), []);
      // Each reader woken by exactly its own write, one pair at a time.
      for (let i = 0; i < N; i++) {
        const [a, b] = pairs[i];
        send(b);
        const r = selectUntil(sel, (x) => x.length > 0);
        assertEquals(summary(r), [[a, EVENT_READ]], `pair ${i}`);
        assertEquals(drain(a), 1);
      }
      // And all of them at once: exactly the written ones, each once per wait.
      for (const [, b] of pairs) send(b);
      const all = selectUntil(sel, (x) => new Set(x.map(([k]) => k.fd)).size >= N);
      assertEquals(new Set(all.map(([k]) => k.fd)), new Set(pairs.map(([a]) => a)));
      assert(all.every(([k, ev]) => ev === EVENT_READ && k.data === "a"));
    } finally {
      for (const [a, b] of pairs) close(a, b);
    }
    assertEquals(afdCounters(), before);
  },
});

Deno.test({
  name: "AfdSelector: a socket closed while registered unregisters without an error or a leak",
  ignore,
  async fn() {
    const before = afdCounters();
    const [a, b] = pair();
    const [c, d] = pair();
    try {
      const sel = new AfdSelector();
      sel.register(a, EVENT_READ);
      sel.register(c, EVENT_READ);
      assertEquals(sel.select(0), []); // both polls pending now
      close(a); // closed with its poll pending: LOCAL_CLOSE
      send(d);
      const r = selectUntil(sel, (x) => x.length > 0);
      assertEquals(summary(r), [[c, EVENT_READ]]);
      assertEquals(sel.select(0), [[sel.getKey(c), EVENT_READ]]);
      // a's poll ended with AFD_POLL_LOCAL_CLOSE: the poller dropped it and freed its slot
      // (the wakeup socket's and c's remain); a is never reported.
      for (let i = 0; i < 20 && afdCounters().slots > before.slots + 2; i++) {
        for (const [k] of sel.select(100)) assertEquals(k.fd, c);
      }
      assertEquals(afdCounters().slots, before.slots + 2);
      sel.unregister(a); // no error
      assertEquals(sel.getMap().size, 1);
      sel.close();
      await selectorsSettled();
    } finally {
      close(b, c, d);
    }
    assertEquals(afdCounters(), before);
  },
});

Deno.test({
  name: "AfdSelector: removing interest while a poll is pending, then adding it back, works",
  ignore,
  fn() {
    const [a, b] = pair();
    try {
      using sel = new AfdSelector();
      sel.register(a, EVENT_READ);
      assertEquals(sel.select(0), []); // pending
      sel.unregister(a); // cancelled while pending
      send(b);
      assertEquals(sel.select(0), []);
      sel.register(a, EVENT_READ); // a new poll on a fresh slot, the old one's packet aside
      const r = selectUntil(sel, (x) => x.length > 0);
      assertEquals(summary(r), [[a, EVENT_READ]]);
      // Pending for READ; WRITE added: the poll is cancelled and re-submitted for both.
      drain(a);
      assertEquals(sel.select(0), []);
      sel.modify(a, EVENT_READ | EVENT_WRITE);
      const w = selectUntil(sel, (x) => x.length > 0);
      assertEquals(summary(w), [[a, EVENT_WRITE]]);
      // WRITE removed while pending for both: the writable event is filtered out.
      sel.modify(a, EVENT_READ);
      assertEquals(sel.select(0), []);
      send(b);
      assertEquals(summary(selectUntil(sel, (x) => x.length > 0)), [[a, EVENT_READ]]);
    } finally {
      close(a, b);
    }
  },
});

Deno.test({
  name: "AfdSelector: closing with polls pending leaks no handle, slot or socket",
  ignore,
  async fn() {
    const before = afdCounters();
    const socketsBefore = openSockets().length;
    const pairs: [number, number][] = [];
    for (let i = 0; i < 40; i++) pairs.push(pair());
    try {
      const sel = new AfdSelector();
      for (const [a] of pairs) sel.register(a, EVENT_READ);
      assertEquals(sel.select(0), []);
      assert(sel.pendingPolls >= 40, `${sel.pendingPolls} polls pending`);
      assert(afdCounters().helpers > before.helpers);
      sel.close();
      await selectorsSettled();
      assertEquals(afdCounters(), before);
    } finally {
      for (const [a, b] of pairs) close(a, b);
    }
    assertEquals(openSockets().length, socketsBefore);
  },
});

Deno.test({
  name: "AfdSelector: a pipe handle is refused with NotSupported naming the alternative",
  ignore,
  fn() {
    const [r, w] = pipe();
    try {
      using sel = new AfdSelector();
      const e = assertThrows(() => sel.register(r.fileno(), EVENT_READ), Deno.errors.NotSupported);
      assertStringIncludes(e.message, "sockets only");
      assertStringIncludes(e.message, "connectReadPipe");
      assertEquals(sel.getMap().size, 0);
    } finally {
      r.close();
      w.close();
    }
  },
});

Deno.test({
  name: "AfdSelector: selectAsync() waits off the JS thread; wakeup() ends it",
  ignore,
  async fn() {
    const [a, b] = pair();
    try {
      using sel = new AfdSelector();
      sel.register(a, EVENT_READ);
      const t = setTimeout(() => sel.wakeup(), 20);
      assertEquals(await sel.selectAsync(10_000), []);
      clearTimeout(t);
      const p = sel.selectAsync(10_000);
      setTimeout(() => send(b), 20);
      assertEquals(summary(await p), [[a, EVENT_READ]]);
    } finally {
      close(a, b);
    }
  },
});

Deno.test({
  name: "AfdSelector: new SelectorEventLoop(new AfdSelector()) runs readers",
  ignore,
  async fn() {
    const [a, b] = pair();
    try {
      using loop = new SelectorEventLoop(new AfdSelector());
      assertEquals(loop.selector.name, "afd");
      const seen: number[] = [];
      loop.addReader(a, () => {
        seen.push(drain(a));
        loop.stop();
      });
      loop.callLater(5, () => send(b));
      await loop.runForever();
      assertEquals(seen, [1]);
      assert(loop.removeReader(a));
    } finally {
      close(a, b);
    }
  },
});
