// The conformance suite of the selectors: every test runs against every selector.
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
import {
  closeFd,
  getNofileLimit,
  makePipe,
  makeSocketPair,
  readFd,
  setNofileSoftLimit,
  writeFd,
} from "../ffi/unix/libc.ts";
import { assertNoFdLeak, fdOpenedBy } from "./_fd_leak.ts";
import { SELECTORS } from "./_selector_factories.ts";

const BYTE = new Uint8Array([42]);

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
    for (let i = 0; i < n; i++) pairs.push(makeSocketPair());
    await fn(pairs);
  } finally {
    for (const [a, b] of pairs) {
      closeFd(a);
      closeFd(b);
    }
  }
}

/** A regular file's real fd: Deno hides fds, so find the one Deno.openSync opened. */
function regularFileFd(): { fd: number; file: Deno.FsFile; path: string } {
  const path = Deno.makeTempFileSync();
  let file: Deno.FsFile | undefined;
  const fd = fdOpenedBy(() => file = Deno.openSync(path, { read: true }));
  return { fd, file: file!, path };
}

function suite(name: string, fn: (sel: BaseSelector) => unknown | Promise<unknown>) {
  for (const f of SELECTORS) {
    Deno.test(`${f.name}: ${name}`, () =>
      assertNoFdLeak(async () => {
        const sel = f.make();
        try {
          await fn(sel);
        } finally {
          sel.close();
        }
      }));
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
  }));

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
  const [a, b] = makeSocketPair();
  let open = true;
  const obj = {
    fileno: () => {
      if (!open) throw new Error("closed");
      return a;
    },
  };
  sel.register(obj, EVENT_READ | EVENT_WRITE);
  closeFd(a);
  open = false;
  const key = sel.unregister(obj); // found by identity, no OS error escapes
  assertEquals(key.fd, a);
  assertEquals(sel.getMap().size, 0);
  closeFd(b);
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
    [2 ** 40, RangeError],
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
  const [a, b] = makeSocketPair();
  closeFd(a);
  closeFd(b);
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
  let dev: Deno.FsFile | undefined;
  const fd = fdOpenedBy(() => dev = Deno.openSync("/dev/null", { read: true }));
  try {
    if (sel.name === "epoll") {
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
});

const FD_SETSIZE = 1024;

/** Opens socket pairs until one fd is >= 1024, raising RLIMIT_NOFILE if needed. */
async function withHighFd(fn: (fd: number, peer: number) => unknown): Promise<void> {
  const { soft, hard } = getNofileLimit();
  if (soft < 2048) setNofileSoftLimit(Math.min(hard, 4096));
  const pairs: Array<[number, number]> = [];
  try {
    while (pairs.length === 0 || pairs[pairs.length - 1][0] < FD_SETSIZE + 10) {
      pairs.push(makeSocketPair());
    }
    const [a, b] = pairs[pairs.length - 1];
    await fn(a, b);
  } finally {
    for (const [a, b] of pairs) {
      closeFd(a);
      closeFd(b);
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
    const [a, b] = makeSocketPair();
    sel.register(a, EVENT_READ);
    closeFd(a);
    const e = assertThrows(() => sel.select(0), Deno.errors.BadResource, `fd ${a}`);
    assertInstanceOf(e, Error);
    sel.unregister(a);
    closeFd(b);
  });
});

Deno.test("SelectSelector: refuses to start when its wakeup fd would be >= 1024", () =>
  assertNoFdLeak(async () => {
    const { SelectSelector } = await import("../selectors/mod.ts");
    await withHighFd(() => {
      const e = assertThrows(() => new SelectSelector(), RangeError, "FD_SETSIZE");
      assertStringIncludes(e.message, "PollSelector");
    });
  }));
