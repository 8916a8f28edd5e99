// WinsockSelectSelector (selectors/winsock_select_selector.ts) on real Winsock sockets.
// Windows only: run under Wine with
// `.ci/wine/run.sh . test --allow-all tests/windows/winsock_select_selector_test.ts`.
// On other systems only the NotSupported test runs.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import * as win from "../../ffi/windows/seam.ts";
import { kernel32 } from "../../ffi/windows/kernel32.ts";
import { ws2_32 } from "../../ffi/windows/ws2_32.ts";
import {
  fdSetSize,
  readFdSet,
  TIMEVAL,
  writeFdSet,
  writeTimeval,
} from "../../ffi/windows/structs.ts";
import { WinsockSelectSelector } from "../../selectors/winsock_select_selector.ts";
import { EVENT_READ, EVENT_WRITE, type SelectResult } from "../../selectors/selector_key.ts";

const onWindows = Deno.build.os === "windows";
const ignore = !onWindows;
const { SOCK } = win;

/** Exposes the wakeup socket, to check that it is never reported and is closed by close(). */
class Probe extends WinsockSelectSelector {
  get wakeSocket(): number {
    return this.wakeupFd;
  }
}

function check(rc: number, what: string): void {
  if (rc < 0) throw win.osError(win.errno(), what);
}

function newSocket(): number {
  const fd = win.sock().socket(SOCK.AF_INET, SOCK.SOCK_STREAM, 0);
  check(fd, "socket");
  return fd;
}

function pair(): [number, number] {
  const [a, b] = win.loopbackSocketPair("inet");
  win.setNonBlocking(a);
  win.setNonBlocking(b);
  return [a, b];
}

const summary = (r: SelectResult) => r.map(([k, ev]) => [k.fd, ev]);

Deno.test({
  name: "WinsockSelectSelector: off Windows the constructor throws NotSupported naming Windows",
  ignore: onWindows,
  fn() {
    assertThrows(() => new WinsockSelectSelector(), Deno.errors.NotSupported, "Windows");
  },
});

Deno.test({
  name: "WinsockSelectSelector: register, modify, unregister loopback sockets",
  ignore,
  fn() {
    const [a, b] = pair();
    using sel = new WinsockSelectSelector();
    assertEquals(sel.name, "select");
    const k = sel.register(a, EVENT_READ, "a");
    assertEquals([k.fd, k.events, k.data], [a, EVENT_READ, "a"]);
    assertEquals(sel.select(0), []);
    const k2 = sel.modify(a, EVENT_READ | EVENT_WRITE, "a2");
    assertEquals([k2.events, k2.data], [EVENT_READ | EVENT_WRITE, "a2"]);
    assertEquals(summary(sel.select(0)), [[a, EVENT_WRITE]]);
    sel.register({ fileno: () => b }, EVENT_WRITE);
    assertEquals(sel.getMap().size, 2);
    assertEquals(sel.unregister(a).data, "a2");
    assertThrows(() => sel.getKey(a), Deno.errors.NotFound);
    assertEquals(summary(sel.select(0)), [[b, EVENT_WRITE]]);
    sel.unregister(b);
    assertEquals(sel.select(0), []);
    win.closeFd(a);
    win.closeFd(b);
  },
});

Deno.test({
  name: "WinsockSelectSelector: a reader is woken by exactly its peer's write",
  ignore,
  fn() {
    const [a, b] = pair();
    const [c, d] = pair();
    using sel = new WinsockSelectSelector();
    sel.register(b, EVENT_READ, "b");
    sel.register(d, EVENT_READ, "d");
    assertEquals(sel.select(0), []);
    assertEquals(win.sock().send(a, new Uint8Array([42]), 1n, 0), 1);
    const ready = sel.select(5000);
    assertEquals(summary(ready), [[b, EVENT_READ]]);
    assertEquals(ready[0][0].data, "b");
    const buf = new Uint8Array(4);
    assertEquals(win.sock().recv(b, buf, 4n, 0), 1);
    assertEquals(buf[0], 42);
    assertEquals(sel.select(0), []);
    for (const fd of [a, b, c, d]) win.closeFd(fd);
  },
});

Deno.test({
  name: "WinsockSelectSelector: writers are reported, only for the events asked",
  ignore,
  fn() {
    const [a, b] = pair();
    using sel = new WinsockSelectSelector();
    sel.register(a, EVENT_WRITE);
    sel.register(b, EVENT_READ);
    assertEquals(summary(sel.select(0)), [[a, EVENT_WRITE]]);
    win.closeFd(a);
    win.closeFd(b);
  },
});

Deno.test({
  name:
    "WinsockSelectSelector: a refused nonblocking connect shows in the except set, is reported writable, SO_ERROR WSAECONNREFUSED",
  ignore,
  fn() {
    const s = win.sock();
    const probe = newSocket();
    const addr = new Uint8Array(win.SOCKADDR_MAX);
    const len = new Uint8Array(4);
    const lenView = new DataView(len.buffer);
    let n = win.encodeAddress(
      { transport: "tcp", hostname: "127.0.0.1", port: 0 },
      "inet",
      "stream",
      addr,
      "bind",
    );
    check(s.bind(probe, addr, n), "bind");
    lenView.setInt32(0, win.SOCKADDR_MAX, true);
    check(s.getsockname(probe, addr, len), "getsockname");
    n = lenView.getInt32(0, true);
    win.closeFd(probe); // the port is free and nobody listens
    const cli = newSocket();
    win.setNonBlocking(cli);
    const rc = s.connect(cli, addr, n);
    if (rc < 0) assertEquals(win.errno(), win.E.EWOULDBLOCK);
    // Winsock itself reports the failure in the except set only, never in the write set.
    const wr = new Uint8Array(fdSetSize(1));
    const ex = new Uint8Array(fdSetSize(1));
    const tv = new Uint8Array(TIMEVAL.SIZE);
    let got = 0;
    for (let i = 0; i < 10 && got === 0; i++) {
      writeFdSet(wr, 0, [BigInt(cli)]);
      writeFdSet(ex, 0, [BigInt(cli)]);
      writeTimeval(tv, 0, 1);
      got = ws2_32().select(0, null, wr, ex, tv);
    }
    assertEquals(got, 1, "the failed connect shows in one set");
    assertEquals(readFdSet(wr, 0), [], "not in the write set");
    assertEquals(readFdSet(ex, 0), [BigInt(cli)], "in the except set");
    // The selector watches writers in the except set too, and reports that as writable.
    using sel = new WinsockSelectSelector();
    sel.register(cli, EVENT_WRITE, "cli");
    const ready = sel.select(0);
    assertEquals(summary(ready), [[cli, EVENT_WRITE]]);
    assertEquals(ready[0][0].data, "cli");
    const opt = new Uint8Array(4);
    const optLen = new Uint8Array(new Int32Array([4]).buffer);
    check(s.getsockopt(cli, SOCK.SOL_SOCKET, SOCK.SO_ERROR, opt, optLen), "getsockopt");
    const soError = new DataView(opt.buffer).getInt32(0, true);
    assertEquals(soError, 10061);
    assertEquals(win.errnoName(soError), "WSAECONNREFUSED");
    sel.unregister(cli);
    win.closeFd(cli);
  },
});

Deno.test({
  name: "WinsockSelectSelector: 512 sockets register, the 513th is refused and nothing changes",
  ignore,
  fn() {
    const fds = Array.from({ length: 513 }, newSocket);
    try {
      using sel = new WinsockSelectSelector();
      for (const fd of fds.slice(0, 512)) sel.register(fd, EVENT_READ | EVENT_WRITE);
      assertEquals(sel.getMap().size, 512);
      const before = [...sel.getMap().keys()];
      const e = assertThrows(() => sel.register(fds[512], EVENT_READ), RangeError);
      for (const word of ["at most 512 sockets", "ProactorEventLoop", "AfdSelector"]) {
        assert(e.message.includes(word), `"${word}" missing from: ${e.message}`);
      }
      assertStringIncludes(e.message, `fd ${fds[512]}`);
      assertEquals(sel.getMap().size, 512);
      assertEquals([...sel.getMap().keys()], before, "the registrations are unchanged");
      assertThrows(() => sel.getKey(fds[512]), Deno.errors.NotFound);
      // All 512 (and the wakeup socket) go to select(): unconnected sockets are not writable.
      assertEquals(sel.select(0), []);
      sel.unregister(fds[0]);
      sel.register(fds[512], EVENT_READ);
      assertEquals(sel.getMap().size, 512);
    } finally {
      for (const fd of fds) win.closeFd(fd);
    }
  },
});

Deno.test({
  name: "WinsockSelectSelector: an empty wait returns after its timeout, with no events",
  ignore,
  async fn() {
    using sel = new WinsockSelectSelector();
    assertEquals(sel.select(30), []);
    assertEquals(sel.select(0), []);
    assertEquals(await sel.selectAsync(30), []);
  },
});

Deno.test({
  name: "WinsockSelectSelector: selectAsync is woken by wakeup() from a setTimeout",
  ignore,
  async fn() {
    const [a, b] = pair();
    using sel = new Probe();
    sel.register(b, EVENT_READ);
    const t = setTimeout(() => sel.wakeup(), 30);
    assertEquals(await sel.selectAsync(), []);
    clearTimeout(t);
    // The wakeup socket is never reported, however often it fires.
    sel.wakeup();
    assertEquals(sel.select(0), []);
    assertThrows(() => sel.register(sel.wakeSocket, EVENT_READ), TypeError, "wakeup");
    // And a real event arrives through selectAsync too.
    const t2 = setTimeout(() => win.sock().send(a, new Uint8Array([1]), 1n, 0), 30);
    assertEquals(summary(await sel.selectAsync(10_000)), [[b, EVENT_READ]]);
    clearTimeout(t2);
    win.closeFd(a);
    win.closeFd(b);
  },
});

Deno.test({
  name: "WinsockSelectSelector: close() closes the wakeup pair; a pending selectAsync returns []",
  ignore,
  async fn() {
    const sel = new Probe();
    const fd = sel.wakeSocket;
    assert(win.isOpenFd(fd));
    sel.close();
    sel.close();
    assert(sel.closed);
    assert(!win.isOpenFd(fd), "the wakeup socket is still open after close()");
    const sel2 = new Probe();
    const fd2 = sel2.wakeSocket;
    const pending = sel2.selectAsync();
    setTimeout(() => sel2.close(), 20);
    assertEquals(await pending, []);
    assert(!win.isOpenFd(fd2), "the wakeup socket is still open after close() under selectAsync");
    assertThrows(() => sel2.select(0), Deno.errors.BadResource);
    assertThrows(() => sel2.register(12345, EVENT_READ), Deno.errors.BadResource);
  },
});

Deno.test({
  name: "WinsockSelectSelector: junk masks and fileobjs are refused as B1 says; nothing changes",
  ignore,
  fn() {
    const fd = newSocket();
    using sel = new WinsockSelectSelector();
    for (const ev of [0, 4, -1, 2 ** 32 + 1, 2 ** 53]) {
      assertThrows(() => sel.register(fd, ev), RangeError);
    }
    for (const ev of [1.5, NaN, "1", 1n, null, undefined]) {
      assertThrows(() => sel.register(fd, ev as number), TypeError);
    }
    for (const obj of ["3", 1.5, {}, { fileno: 5 }, null]) {
      assertThrows(() => sel.register(obj as number, EVENT_READ), TypeError);
    }
    assertThrows(() => sel.register(-1, EVENT_READ), RangeError);
    const boom = {
      fileno(): number {
        throw new Error("boom");
      },
    };
    const e = assertThrows(() => sel.register(boom, EVENT_READ), TypeError);
    assertEquals((e.cause as Error).message, "boom");
    assertEquals(sel.getMap().size, 0);
    sel.register(fd, EVENT_READ);
    assertThrows(() => sel.register(fd, EVENT_READ), Deno.errors.AlreadyExists);
    assertThrows(() => sel.modify(fd, 8), RangeError);
    assertThrows(() => sel.modify(fd, "2" as unknown as number), TypeError);
    assertEquals(sel.getKey(fd).events, EVENT_READ);
    win.closeFd(fd);
  },
});

Deno.test({
  name: "WinsockSelectSelector: a closed or invalid SOCKET is refused with BadResource",
  ignore,
  fn() {
    const fd = newSocket();
    win.closeFd(fd);
    using sel = new WinsockSelectSelector();
    assertThrows(() => sel.register(fd, EVENT_READ), Deno.errors.BadResource, "not an open socket");
    assertThrows(() => sel.register(0x7777, EVENT_READ), Deno.errors.BadResource, "not an open");
    assertEquals(sel.getMap().size, 0);
  },
});

Deno.test({
  name:
    "WinsockSelectSelector: a handle that is not a socket (an event) is refused with NotSupported",
  ignore,
  fn() {
    const k = kernel32();
    const h = k.CreateEventW(null, 1, 0, null);
    assert(h !== null, "CreateEventW failed");
    try {
      const fd = Number(Deno.UnsafePointer.value(h));
      using sel = new WinsockSelectSelector();
      const e = assertThrows(() => sel.register(fd, EVENT_READ), Deno.errors.NotSupported);
      assertStringIncludes(e.message, `fd ${fd} (an unknown handle)`);
      assertStringIncludes(e.message, "sockets only");
      assertStringIncludes(e.message, "ProactorEventLoop");
      assertEquals(sel.getMap().size, 0);
    } finally {
      k.CloseHandle(h);
    }
  },
});

Deno.test({
  name: "WinsockSelectSelector: an anonymous pipe (CreatePipe) is refused with NotSupported",
  ignore,
  fn() {
    const k = kernel32();
    const rd = new BigUint64Array(1), wr = new BigUint64Array(1);
    assert(
      k.CreatePipe(new Uint8Array(rd.buffer), new Uint8Array(wr.buffer), null, 0) !== 0,
      "CreatePipe failed",
    );
    try {
      using sel = new WinsockSelectSelector();
      for (const h of [rd[0], wr[0]]) {
        const fd = Number(h);
        assertEquals(win.fileKind(fd), "fifo");
        for (const ev of [EVENT_READ, EVENT_WRITE]) {
          const e = assertThrows(() => sel.register(fd, ev), Deno.errors.NotSupported);
          assertStringIncludes(e.message, `fd ${fd} (a pipe handle)`);
          assertStringIncludes(e.message, "sockets only");
          assertStringIncludes(e.message, "ProactorEventLoop");
        }
        assertThrows(() => sel.getKey(fd), Deno.errors.NotFound);
      }
      assertEquals(sel.getMap().size, 0);
      assertEquals(sel.select(0), []);
    } finally {
      k.CloseHandle(Deno.UnsafePointer.create(rd[0]));
      k.CloseHandle(Deno.UnsafePointer.create(wr[0]));
    }
  },
});

Deno.test({
  name:
    "WinsockSelectSelector: selectAsync(60 s) parked off the JS thread is woken by wakeup() from a timer",
  ignore,
  async fn() {
    const [a, b] = pair();
    try {
      using sel = new WinsockSelectSelector();
      sel.register(b, EVENT_READ);
      let settled = false;
      let pendingWhenWoken: boolean | undefined;
      // The timer can only run while the wait is off the JS thread.
      const t = setTimeout(() => {
        pendingWhenWoken = !settled;
        sel.wakeup();
      }, 20);
      const waiting = sel.selectAsync(60_000).finally(() => settled = true);
      assertEquals(await waiting, []);
      clearTimeout(t);
      assertEquals(pendingWhenWoken, true, "selectAsync() returned before the timer woke it");
      // The wake was drained: nothing is reported, and the next poll is empty.
      assertEquals(sel.select(0), []);
    } finally {
      win.closeFd(a);
      win.closeFd(b);
    }
  },
});

Deno.test({
  name:
    "WinsockSelectSelector: selectAsync() returns a socket made readable by a write from a timer",
  ignore,
  async fn() {
    const [a, b] = pair();
    const [c, d] = pair();
    try {
      using sel = new WinsockSelectSelector();
      sel.register(b, EVENT_READ, "b");
      sel.register(d, EVENT_READ, "d");
      const t = setTimeout(() => win.sock().send(a, new Uint8Array([7]), 1n, 0), 20);
      const ready = await sel.selectAsync(60_000);
      clearTimeout(t);
      assertEquals(summary(ready), [[b, EVENT_READ]]);
      assertEquals(ready[0][0].data, "b");
      const buf = new Uint8Array(4);
      assertEquals(win.sock().recv(b, buf, 4n, 0), 1);
      assertEquals(buf[0], 7);
      assertEquals(sel.select(0), []);
    } finally {
      for (const fd of [a, b, c, d]) win.closeFd(fd);
    }
  },
});
