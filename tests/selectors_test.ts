// The conformance suite of the selectors: every test runs against every selector of this
// platform (on Windows: SelectSelector and DefaultSelector, both the Winsock one, over loopback
// TCP pairs). Tests of what Windows has no counterpart for (pipes, POSIX signals, RLIMIT_NOFILE
// and fd_set bitmaps) are ignored there, each saying why.
import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { type BaseSelector, EVENT_READ, EVENT_WRITE, type SelectResult } from "../selectors/mod.ts";
import { closeFd, getNofileLimit, makePipe, setNofileSoftLimit } from "../ffi/unix/libc.ts";
import { kernel32 } from "../ffi/windows/kernel32.ts";
import { assertNoFdLeak, fdOpenedBy } from "./_fd_leak.ts";
import { SELECTORS } from "./_selector_factories.ts";
import { closeSocketFd, recvFd, sendDelivered, sendFd, socketPairFds } from "./_sockets.ts";

const BYTE = new Uint8Array([42]);
const onWindows = Deno.build.os === "windows";

// Each end's peer, for the pairs made here.
const peers = new Map<number, number>();

/** A connected socket pair (see `socketPairFds`), its ends known to `writeFd`. */
function pairFds(): [number, number] {
  const [a, b] = socketPairFds();
  peers.set(a, b);
  peers.set(b, a);
  return [a, b];
}

/**
 * Sends `data` on a socket fd (it must not block). On Windows, where a
 * loopback TCP send reaches the peer asynchronously, it then waits (up to
 * 10 s) until the peer is readable, so that a `select(0)` after it sees the
 * data, as it does at once over an AF_UNIX pair.
 */
function writeFd(fd: number, data: Uint8Array): void {
  const peer = peers.get(fd);
  if (peer === undefined) assertEquals(sendFd(fd, data), data.byteLength, `send on fd ${fd}`);
  else assert(sendDelivered(fd, data, peer), `send on fd ${fd} did not reach fd ${peer}`);
}

/** Reads what is waiting on a socket fd. */
function readFd(fd: number, buf: Uint8Array): number {
  const n = recvFd(fd, buf);
  assert(n >= 0, `recv on fd ${fd} failed`);
  return n;
}

/**
 * A Windows handle opened with CreateFileW (read access, shared): Deno does
 * not give out the handle of a `Deno.FsFile`. `close()` closes it.
 */
function openWindowsHandle(path: string): { fd: number; close(): void } {
  const k = kernel32();
  const name = new Uint16Array(path.length + 1);
  for (let i = 0; i < path.length; i++) name[i] = path.charCodeAt(i);
  const FILE_SHARE_ALL = 7; // read | write | delete
  const h = k.CreateFileW(
    new Uint8Array(name.buffer),
    0x8000_0000, // GENERIC_READ
    FILE_SHARE_ALL,
    null,
    3, // OPEN_EXISTING
    0,
    null,
  );
  const v = Deno.UnsafePointer.value(h);
  assert(h !== null && v !== 0xFFFF_FFFF_FFFF_FFFFn, `CreateFileW(${path}) failed`);
  return { fd: Number(v), close: () => void k.CloseHandle(h) };
}

function fds(ready: SelectResult): Array<[number, number]> {
  return ready.map(([k, ev]) => [k.fd, ev] as [number, number]).sort((a, b) => a[0] - b[0]);
}

/** Socket pairs that are closed after `fn`, whatever happens. */
async function withPairs(
  n: number,
  fn: (pairs: Array<[number, number]>) => unknown,
): Promise<void> {
  const pairs: Array<[number, number]> = [];
  try {
    for (let i = 0; i < n; i++) pairs.push(pairFds());
    await fn(pairs);
  } finally {
    for (const [a, b] of pairs) {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  }
}

/**
 * A regular file's real fd: Deno hides fds, so find the one Deno.openSync
 * opened (on Windows: a handle of the file opened with CreateFileW).
 */
function regularFileFd(): { fd: number; file: { close(): void }; path: string } {
  const path = Deno.makeTempFileSync();
  if (onWindows) {
    const h = openWindowsHandle(path);
    return { fd: h.fd, file: h, path };
  }
  let file: Deno.FsFile | undefined;
  const fd = fdOpenedBy(() => file = Deno.openSync(path, { read: true }));
  return { fd, file: file!, path };
}

/**
 * Registers `name` on every selector. `ignore` (with the reason in a
 * comment at the call) skips it where the OS has nothing of the kind.
 */
function suite(
  name: string,
  fn: (sel: BaseSelector) => unknown | Promise<unknown>,
  options: { ignore?: boolean; why?: string } = {},
) {
  for (const f of SELECTORS) {
    const ignore = options.ignore ?? false;
    Deno.test({
      name: `${f.name}: ${name}${ignore && options.why ? ` [${options.why}: ignored here]` : ""}`,
      ignore,
      fn: () =>
        assertNoFdLeak(async () => {
          const sel = f.make();
          try {
            await fn(sel);
          } finally {
            sel.close();
          }
        }),
    });
  }
}

suite("register() returns a key and getKey()/getMap() see it", (sel) =>
  withPairs(1, ([[a]]) => {
    const obj = { fileno: () => a };
    const key = sel.register(obj, EVENT_READ, "data");
    assertEquals([key.fd, key.events, key.data], [a, EVENT_READ, "data"]);
    assertStrictEquals(key.fileobj, obj);
    assertStrictEquals(sel.getKey(obj), key);
    assertStrictEquals(sel.getKey(a), key);
    const map = sel.getMap();
    assertEquals(map.size, 1);
    assertStrictEquals(map.get(a), key);
    assert(map.has(a));
    assertEquals([...map.keys()], [a]);
    assertEquals([...map.values()], [key]);
    assertEquals([...map].length, 1);
    assert(!("set" in map) && !("delete" in map), "getMap() must be read-only");
    assert(Object.isFrozen(key), "keys are immutable");
  }));

suite("unregister() returns the key and forgets the fd", (sel) =>
  withPairs(1, ([[a]]) => {
    const key = sel.register(a, EVENT_READ);
    assertStrictEquals(sel.unregister(a), key);
    assertEquals(sel.getMap().size, 0);
    assertThrows(() => sel.getKey(a), Deno.errors.NotFound);
    assertThrows(() => sel.unregister(a), Deno.errors.NotFound, "not registered");
    sel.register(a, EVENT_WRITE); // may be registered again
  }));

suite("modify() changes events only, data only, or both", (sel) =>
  withPairs(1, ([[a, b]]) => {
    sel.register(a, EVENT_READ, "d");
    writeFd(b, BYTE);
    const k1 = sel.modify(a, EVENT_WRITE, "d");
    assertEquals([k1.events, k1.data], [EVENT_WRITE, "d"]);
    assertEquals(fds(sel.select(0)), [[a, EVENT_WRITE]]);
    const k2 = sel.modify(a, EVENT_WRITE, "e");
    assertEquals([k2.events, k2.data], [EVENT_WRITE, "e"]);
    assertStrictEquals(sel.getKey(a), k2);
    const k3 = sel.modify(a, EVENT_READ | EVENT_WRITE);
    assertEquals([k3.events, k3.data], [EVENT_READ | EVENT_WRITE, undefined]);
    assertEquals(fds(sel.select(0)), [[a, EVENT_READ | EVENT_WRITE]]);
  }));

suite(
  "select() reports read, write, and both bits on one entry",
  (sel) =>
    withPairs(3, ([[r, rPeer], [w], [rw, rwPeer]]) => {
      sel.register(r, EVENT_READ, "r");
      sel.register(w, EVENT_WRITE, "w");
      sel.register(rw, EVENT_READ | EVENT_WRITE, "rw");
      assertEquals(fds(sel.select(0)), [[w, EVENT_WRITE], [rw, EVENT_WRITE]]);
      writeFd(rPeer, BYTE);
      writeFd(rwPeer, BYTE);
      const ready = sel.select(0);
      assertEquals(fds(ready), [[r, EVENT_READ], [w, EVENT_WRITE], [rw, EVENT_READ | EVENT_WRITE]]);
      for (const [key] of ready) assertStrictEquals(key, sel.getKey(key.fd));
    }),
);

suite("select() reports only the events asked for", (sel) =>
  withPairs(1, ([[a, b]]) => {
    sel.register(a, EVENT_READ);
    assertEquals(sel.select(0), []); // writable, but not watched for writing
    writeFd(b, BYTE);
    assertEquals(fds(sel.select(0)), [[a, EVENT_READ]]);
    readFd(a, new Uint8Array(8));
    assertEquals(sel.select(0), []);
  }));

// Pipes are Unix fds: Windows' select() watches sockets only (a socket's hang-up is below).
suite("select() sees a hang-up as readable", (sel) =>
  withPairs(1, ([[a, b]]) => {
    sel.register(a, EVENT_READ);
    const [c, d] = makePipe();
    sel.register(c, EVENT_READ);
    closeFd(d);
    writeFd(b, BYTE);
    assertEquals(
      fds(sel.select(0)),
      [[a, EVENT_READ], [c, EVENT_READ]].sort((x, y) => x[0] - y[0]),
    );
    sel.unregister(c);
    closeFd(c);
  }), { ignore: onWindows, why: "pipes: Winsock select() watches sockets only" });

suite("select() sees a socket peer's close as readable, and only that socket", (sel) => {
  const [a, b] = pairFds();
  const [c, d] = pairFds();
  try {
    sel.register(a, EVENT_READ, "a");
    sel.register(c, EVENT_READ, "c");
    assertEquals(sel.select(0), []);
    closeSocketFd(b);
    // A loopback close reaches the peer at once on Unix; on Windows the FIN may take a moment.
    let ready: SelectResult = [];
    for (let i = 0; i < 50 && ready.length === 0; i++) ready = sel.select(100);
    assertEquals(fds(ready), [[a, EVENT_READ]]);
    assertEquals(readFd(a, new Uint8Array(8)), 0, "end of stream");
  } finally {
    closeSocketFd(a);
    closeSocketFd(c);
    closeSocketFd(d);
  }
});

suite("select(0), select(<0) and an empty selector return [] at once", (sel) => {
  assertEquals(sel.select(0), []);
  assertEquals(sel.select(-5), []);
});

suite(
  "select(timeout) waits at least the timeout when nothing is ready",
  (sel) =>
    withPairs(1, ([[a]]) => {
      sel.register(a, EVENT_READ);
      for (const t of [15, 2.5]) {
        const t0 = performance.now();
        assertEquals(sel.select(t), []);
        const took = performance.now() - t0;
        // The kernel waits at least the (rounded-up) timeout; the upper bound is loose.
        assertGreaterOrEqual(took, t - 1);
        assertLess(took, 5000);
      }
    }),
);

suite("an empty selector still waits for its timeout", (sel) => {
  const t0 = performance.now();
  assertEquals(sel.select(10), []);
  assertGreaterOrEqual(performance.now() - t0, 9);
});

suite("12 socket pairs at once", (sel) =>
  withPairs(12, (pairs) => {
    pairs.forEach(([a], i) => sel.register(a, EVENT_READ, i));
    assertEquals(sel.select(0), []);
    for (const [, b] of pairs) writeFd(b, BYTE);
    const ready = sel.select(0);
    assertEquals(ready.length, 12);
    assertEquals(ready.map(([k]) => k.data as number).sort((x, y) => x - y), [...Array(12).keys()]);
    for (const [, ev] of ready) assertEquals(ev, EVENT_READ);
  }));

suite("unregister() works after the fd was closed", (sel) => {
  const [a, b] = pairFds();
  let open = true;
  const obj = {
    fileno: () => {
      if (!open) throw new Error("closed");
      return a;
    },
  };
  sel.register(obj, EVENT_READ | EVENT_WRITE);
  closeSocketFd(a);
  open = false;
  const key = sel.unregister(obj); // found by identity, no OS error escapes
  assertEquals(key.fd, a);
  assertEquals(sel.getMap().size, 0);
  closeSocketFd(b);
});

suite(
  "close() and using: every call fails clearly afterwards, getMap() is empty",
  (sel) =>
    withPairs(1, ([[a]]) => {
      sel.register(a, EVENT_READ);
      const map = sel.getMap();
      sel.close();
      sel.close(); // idempotent
      assert(sel.closed);
      assertEquals(map.size, 0);
      assertThrows(() => sel.register(a, EVENT_READ), Deno.errors.BadResource, "closed");
      assertThrows(() => sel.modify(a, EVENT_READ), Deno.errors.BadResource, "closed");
      assertThrows(() => sel.unregister(a), Deno.errors.BadResource, "closed");
      assertThrows(() => sel.getKey(a), Deno.errors.BadResource, "closed");
      assertThrows(() => sel.select(0), Deno.errors.BadResource, "closed");
    }),
);

for (const f of SELECTORS) {
  Deno.test(`${f.name}: \`using\` closes the selector`, () =>
    assertNoFdLeak(() => {
      let outer: BaseSelector;
      {
        using sel = f.make();
        outer = sel;
        assert(!sel.closed);
      }
      assert(outer.closed);
    }));
}

suite("bad events are refused with TypeError/RangeError", (sel) =>
  withPairs(1, ([[a]]) => {
    assertThrows(() => sel.register(a, 0), RangeError, "events");
    assertThrows(() => sel.register(a, 4), RangeError, "events");
    assertThrows(() => sel.register(a, 7), RangeError, "events");
    assertThrows(() => sel.register(a, 1.5), TypeError, "events");
    assertThrows(() => sel.register(a, "1" as unknown as number), TypeError, "events");
    sel.register(a, EVENT_READ);
    assertThrows(() => sel.modify(a, 0), RangeError, "events");
    assertEquals(sel.getKey(a).events, EVENT_READ);
  }));

suite("bad fds are refused: negative, non-integer, strings, null, junk objects", (sel) => {
  const bad: Array<[unknown, ErrorConstructor | RangeErrorConstructor]> = [
    [-1, RangeError],
    [1.5, TypeError],
    ["3", TypeError],
    [null, TypeError],
    [undefined, TypeError],
    [{}, TypeError],
    [{ fileno: 3 }, TypeError],
    [{ fileno: () => "3" }, TypeError],
    [{ fileno: () => -1 }, RangeError],
    [{ fileno: () => NaN }, TypeError],
    [2 ** 53, RangeError],
    // Past 2^31 - 1 no Unix fd; on Windows a plausible SOCKET (pointer-sized), no junk there.
    ...(onWindows ? [] : [[2 ** 40, RangeError]] as Array<[unknown, RangeErrorConstructor]>),
  ];
  for (const [v, cls] of bad) {
    assertThrows(() => sel.register(v as number, EVENT_READ), cls);
    assertThrows(() => sel.getKey(v as number), cls);
  }
  const e = assertThrows(() =>
    sel.register({
      fileno() {
        throw new Error("boom");
      },
    }, EVENT_READ), TypeError);
  assertStringIncludes(e.message, "boom");
  assertEquals(sel.getMap().size, 0);
});

suite("a double registration is refused and keeps the first", (sel) =>
  withPairs(1, ([[a]]) => {
    const key = sel.register(a, EVENT_READ, 1);
    assertThrows(() => sel.register(a, EVENT_WRITE, 2), Deno.errors.AlreadyExists, "already");
    assertThrows(
      () => sel.register({ fileno: () => a }, EVENT_WRITE),
      Deno.errors.AlreadyExists,
    );
    assertStrictEquals(sel.getKey(a), key);
  }));

suite("a closed fd is refused with BadResource, and nothing is registered", (sel) => {
  const [a, b] = pairFds();
  closeSocketFd(a);
  closeSocketFd(b);
  assertThrows(() => sel.register(a, EVENT_READ), Deno.errors.BadResource, `fd ${a}`);
  assertEquals(sel.getMap().size, 0);
});

suite("a regular file and a directory are refused, naming Deno's file APIs", async (sel) => {
  const { fd, file, path } = regularFileFd();
  try {
    const e = assertThrows(() => sel.register(fd, EVENT_READ), TypeError, `fd ${fd}`);
    assertStringIncludes(e.message, "regular file");
    assertStringIncludes(e.message, "Deno");
    assertEquals(sel.getMap().size, 0);
  } finally {
    file.close();
    await Deno.remove(path);
  }
});

suite("a registration the kernel refuses is rolled back", (sel) => {
  let dev: { close(): void } | undefined;
  const fd = onWindows
    ? (dev = openWindowsHandle("NUL")).fd
    : fdOpenedBy(() => dev = Deno.openSync("/dev/null", { read: true }));
  try {
    if (onWindows) {
      // Winsock select() takes sockets only: the NUL device is refused before any call.
      const e = assertThrows(
        () => sel.register(fd, EVENT_READ),
        Deno.errors.NotSupported,
        `fd ${fd}`,
      );
      assertStringIncludes(e.message, "sockets only");
      assertEquals(sel.getMap().size, 0);
      assertEquals(sel.select(0), []);
    } else if (sel.name === "epoll") {
      // /dev/null has no poll support: epoll_ctl fails with EPERM.
      const e = assertThrows(
        () => sel.register(fd, EVENT_READ),
        Deno.errors.PermissionDenied,
        `fd ${fd}`,
      );
      assertStringIncludes(e.message, "EPERM");
      assertEquals(sel.getMap().size, 0);
    } else {
      // poll, select and kqueue accept character devices.
      sel.register(fd, EVENT_READ);
      assertEquals(fds(sel.select(0)), [[fd, EVENT_READ]]);
    }
  } finally {
    dev!.close();
  }
});

suite(
  "selectAsync() returns events that arrive while it waits",
  (sel) =>
    withPairs(1, async ([[a, b]]) => {
      sel.register(a, EVENT_READ);
      const timer = setTimeout(() => writeFd(b, BYTE), 5);
      const ready = await sel.selectAsync(10_000);
      clearTimeout(timer);
      assertEquals(fds(ready), [[a, EVENT_READ]]);
    }),
);

suite("selectAsync() returns early when woken, and Deno timers run meanwhile", async (sel) => {
  let ticks = 0;
  const interval = setInterval(() => {
    if (++ticks === 3) {
      clearInterval(interval);
      sel.wakeup();
    }
  }, 1);
  const ready = await sel.selectAsync(60_000);
  assertEquals(ready, []);
  assertEquals(ticks, 3);
});

suite("wakeup() before selectAsync() makes it return at once", async (sel) => {
  sel.wakeup();
  sel.wakeup();
  assertEquals(await sel.selectAsync(60_000), []);
  // Drained: the next wait honours its timeout again.
  assertEquals(await sel.selectAsync(1), []);
});

suite(
  "selectAsync() picks up a registration made while it waits",
  (sel) =>
    withPairs(1, async ([[a, b]]) => {
      writeFd(b, BYTE);
      setTimeout(() => sel.register(a, EVENT_READ), 2);
      assertEquals(fds(await sel.selectAsync(60_000)), [[a, EVENT_READ]]);
    }),
);

suite("selectAsync() refuses a second concurrent call", async (sel) => {
  const first = sel.selectAsync(60_000);
  await assertRejects(() => sel.selectAsync(10), Deno.errors.Busy, "pending");
  sel.wakeup();
  assertEquals(await first, []);
});

suite("close() during selectAsync() ends it with [] and leaks nothing", async (sel) => {
  const pending = sel.selectAsync(60_000);
  setTimeout(() => sel.close(), 2);
  assertEquals(await pending, []);
  assert(sel.closed);
});

suite("fetch() to Deno.serve completes while selectAsync() waits", async (sel) => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    () => new Response("hello", { headers: { connection: "close" } }),
  );
  const port = server.addr.port;
  const waiting = sel.selectAsync(60_000);
  // No keep-alive: the client's pooled connection would look like a leaked fd.
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
  const body = await res.text();
  assertEquals(body, "hello");
  sel.wakeup();
  assertEquals(await waiting, []);
  ac.abort();
  await server.finished;
});

// POSIX signals: Windows has none (and no EINTR from select()).
suite("select() retries an interrupted wait (EINTR) with the remaining time", async (sel) => {
  let got = 0;
  const onSignal = () => got++;
  Deno.addSignalListener("SIGUSR1", onSignal);
  try {
    const child = new Deno.Command("sh", {
      args: ["-c", `sleep 0.05; kill -USR1 ${Deno.pid}`],
    }).spawn();
    const t0 = performance.now();
    assertEquals(sel.select(400), []); // the signal arrives during the wait
    assertGreaterOrEqual(performance.now() - t0, 399);
    assertEquals((await child.status).code, 0);
    await new Promise((r) => setTimeout(r, 0));
    assertEquals(got, 1);
  } finally {
    Deno.removeSignalListener("SIGUSR1", onSignal);
  }
}, { ignore: onWindows, why: "POSIX signals: Windows has none" });

const FD_SETSIZE = 1024;

/**
 * Opens socket pairs until one fd is >= 1024, raising RLIMIT_NOFILE if
 * needed (on Windows, where SOCKETs are handle numbers, until one is).
 */
async function withHighFd(fn: (fd: number, peer: number) => unknown): Promise<void> {
  if (!onWindows) {
    const { soft, hard } = getNofileLimit();
    if (soft < 2048) setNofileSoftLimit(Math.min(hard, 4096));
  }
  const pairs: Array<[number, number]> = [];
  try {
    while (pairs.length === 0 || pairs[pairs.length - 1][0] < FD_SETSIZE + 10) {
      assert(pairs.length < 2000, "2000 socket pairs and no fd above 1034");
      pairs.push(pairFds());
    }
    const [a, b] = pairs[pairs.length - 1];
    await fn(a, b);
  } finally {
    for (const [a, b] of pairs) {
      closeSocketFd(a);
      closeSocketFd(b);
    }
  }
}

for (const f of SELECTORS) {
  Deno.test(
    f.highFds
      ? `${f.name}: watches fds above 1024`
      : `${f.name}: refuses fd >= 1024 naming FD_SETSIZE and the fd`,
    () =>
      assertNoFdLeak(async () => {
        // Made first, so that its own wakeup fd is a low one.
        using sel = f.make();
        await withHighFd((a, b) => {
          if (f.highFds) {
            sel.register(a, EVENT_READ | EVENT_WRITE);
            writeFd(b, BYTE);
            assertEquals(fds(sel.select(0)), [[a, EVENT_READ | EVENT_WRITE]]);
          } else {
            const e = assertThrows(() => sel.register(a, EVENT_READ), RangeError);
            assertStringIncludes(e.message, "FD_SETSIZE");
            assertStringIncludes(e.message, `fd ${a}`);
            assertEquals(sel.getMap().size, 0);
          }
        });
      }),
  );
}

Deno.test("SelectSelector: a closed but registered fd is named by select()", async () => {
  const { SelectSelector } = await import("../selectors/mod.ts");
  await assertNoFdLeak(() => {
    using sel = new SelectSelector();
    const [a, b] = pairFds();
    sel.register(a, EVENT_READ);
    closeSocketFd(a);
    const e = assertThrows(() => sel.select(0), Deno.errors.BadResource, `fd ${a}`);
    assertInstanceOf(e, Error);
    sel.unregister(a);
    closeSocketFd(b);
  });
});

// fd_set bitmaps of FD_SETSIZE bits are POSIX: Winsock's fd_set is a counted SOCKET array, so
// no SOCKET value is too high (checked by "watches fds above 1024" above).
Deno.test({
  name: "SelectSelector: refuses to start when its wakeup fd would be >= 1024" +
    (onWindows ? " [POSIX fd_set bitmaps: ignored on Windows]" : ""),
  ignore: onWindows,
  fn: () =>
    assertNoFdLeak(async () => {
      const { SelectSelector } = await import("../selectors/mod.ts");
      await withHighFd(() => {
        const e = assertThrows(() => new SelectSelector(), RangeError, "FD_SETSIZE");
        assertStringIncludes(e.message, "PollSelector");
      });
    }),
});

Deno.test({
  name: "on Windows the Unix selectors refuse at construction with NotSupported, opening nothing",
  ignore: !onWindows,
  fn: () =>
    assertNoFdLeak(async () => {
      const { EpollSelector, KqueueSelector, PollSelector } = await import("../selectors/mod.ts");
      const { SelectSelector: PosixSelectSelector } = await import(
        "../selectors/select_selector.ts"
      );
      const cases: Array<[string, new () => BaseSelector, string]> = [
        ["PollSelector", PollSelector, "PollSelector is for Unix"],
        ["SelectSelector (POSIX)", PosixSelectSelector, "POSIX SelectSelector"],
        ["EpollSelector", EpollSelector, "EpollSelector is for Linux"],
        ["KqueueSelector", KqueueSelector, "KqueueSelector is for macOS"],
      ];
      for (const [name, cls, words] of cases) {
        const e = assertThrows(() => new cls(), Deno.errors.NotSupported, words);
        // Each names this platform and what to use instead (never another Unix selector).
        assertStringIncludes(e.message, "windows", name);
        assertStringIncludes(e.message, "DefaultSelector", name);
      }
    }),
});
