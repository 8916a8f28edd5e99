// Bad input to the selectors (issue 15): event masks past 32 bits, the order of the checks,
// junk fileobjs, a selector's own fds, and a seeded property test per selector that mixes
// real socket pairs with junk and checks after every call that a failed call changed nothing,
// in the map and in the kernel.
//
// The property test's seed is printed in every failure; AIO_FUZZ_SEED=<n> replays one, and
// AIO_FUZZ_SEED=random draws a new one.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import {
  type BaseSelector,
  EpollSelector,
  EVENT_READ,
  EVENT_WRITE,
  type FileObj,
  KqueueSelector,
  PollSelector,
  type SelectorKey,
} from "../selectors/mod.ts";
import { fileobjToFd } from "../selectors/base_selector.ts";
import { SelectSelector } from "../selectors/select_selector.ts";
import { WinsockSelectSelector } from "../selectors/winsock_select_selector.ts";
import { getNofileLimit, setNofileSoftLimit } from "../ffi/unix/libc.ts";
import { E } from "../ffi/unix/errno.ts";
import { isOpenFd } from "../ffi/sys.ts";
import { describe } from "../ffi/os_error.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";
import { SELECTORS } from "./_selector_factories.ts";
import { KqueueEmulation } from "./_kqueue_emulation.ts";
import { fuzzSeed, mulberry32 } from "./_fuzz.ts";
import { closeSocketFd, sendDelivered, socketPairFds } from "./_sockets.ts";

const onLinux = Deno.build.os === "linux";
const onWindows = Deno.build.os === "windows";
const closeFd = closeSocketFd;

/** A connected socket pair (AF_UNIX on Unix, loopback TCP on Windows). */
const makeSocketPair = socketPairFds;

/**
 * Sends `data` on socket `fd`; on Windows, where a loopback TCP send reaches
 * the peer asynchronously, then waits (up to 10 s) until `peer` is readable,
 * so that a `select(0)` after it sees the data, as over an AF_UNIX pair.
 */
function writeFd(fd: number, data: Uint8Array, peer: number): void {
  assert(sendDelivered(fd, data, peer), `send on fd ${fd} did not reach fd ${peer}`);
}
type ErrorCtor = new (...args: never[]) => Error;

/** Masks that must be refused, with the class: past 32 bits, zero, signs, non-integers. */
const BAD_MASKS: Array<[unknown, ErrorCtor]> = [
  [2 ** 32 + 3, RangeError], // low 32 bits: 3
  [2 ** 32 + 1, RangeError], // low 32 bits: 1
  [2 ** 53, RangeError], // low 32 bits: 0
  [-(2 ** 32) + 1, RangeError], // low 32 bits: 1
  [2 ** 31 + 1, RangeError],
  [0, RangeError],
  [-0, RangeError],
  [4, RangeError],
  [7, RangeError],
  [-1, RangeError],
  [1.5, TypeError],
  [NaN, TypeError],
  [Infinity, TypeError],
  ["1", TypeError],
  [null, TypeError],
  [undefined, TypeError],
  [{}, TypeError],
  [[1], TypeError],
  [true, TypeError],
  [1n, TypeError],
  [2n ** 64n + 1n, TypeError],
];

/**
 * Integers past 2^31 - 1 that are fd numbers on no Unix, but on Windows
 * plausible SOCKETs (a SOCKET is pointer-sized: ffi/windows' checkFd takes 0
 * to 2^53 - 1), which are refused there as no open handle, not as junk.
 */
function beyondUnixFds(): Array<[unknown, ErrorCtor]> {
  if (onWindows) return [];
  return [
    [2 ** 31, RangeError],
    [2 ** 32 + 3, RangeError],
    [{ fileno: () => 2 ** 40 }, RangeError],
  ];
}

/** Fileobjs that are not fds, with the class; each call makes fresh objects. */
function badFileobjs(): Array<[unknown, ErrorCtor]> {
  return [
    ...beyondUnixFds(),
    [NaN, TypeError],
    [-1, RangeError],
    [1.5, TypeError],
    ["3", TypeError],
    [null, TypeError],
    [undefined, TypeError],
    [{}, TypeError],
    [[], TypeError],
    [3n, TypeError],
    [2n ** 70n, TypeError],
    [true, TypeError],
    [Symbol("fd"), TypeError],
    [Infinity, TypeError],
    [2 ** 53, RangeError],
    [-(2 ** 32) + 1, RangeError],
    [() => 3, TypeError],
    [Object.create(null), TypeError],
    [{ fileno: 3 }, TypeError],
    [{ fileno: () => "3" }, TypeError],
    [{ fileno: () => -1 }, RangeError],
    [{ fileno: () => NaN }, TypeError],
    [{ fileno: () => 1.5 }, TypeError],
    [{ fileno: () => 2 ** 53 }, RangeError],
    [{ fileno: () => 3n }, TypeError],
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

/** Asserts `e` is what a refused call may throw: a TypeError/RangeError/Deno.errors.*. */
function assertRefusal(e: unknown, why: string): asserts e is Error {
  const ok = e instanceof TypeError || e instanceof RangeError ||
    Object.values(Deno.errors).some((C) => e instanceof C);
  assert(ok, `${why}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? e}`);
  assert((e as Error).message.length > 0, `${why}: empty message`);
}

/** The selector's map as [fd, fileobj, events, data] rows, sorted by fd. */
function rows(map: ReadonlyMap<number, SelectorKey>): unknown[][] {
  return [...map].sort((a, b) => a[0] - b[0]).map(([fd, k]) => {
    assertStrictEquals(k.fd, fd);
    return [fd, k.fileobj, k.events, k.data];
  });
}

/** Socket pairs closed after `fn`, whatever happens. */
async function withPairs(n: number, fn: (pairs: Array<[number, number]>) => unknown) {
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

function forEachSelector(name: string, fn: (sel: BaseSelector) => unknown) {
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

// ---- plain tests -------------------------------------------------------------------------

forEachSelector(
  "event masks past 32 bits, zero, signs and non-integers are refused",
  (sel) =>
    withPairs(1, ([[a]]) => {
      for (const [mask, cls] of BAD_MASKS) {
        const e = assertThrows(() => sel.register(a, mask as number), cls, "events");
        if (typeof mask === "number" && Number.isInteger(mask)) {
          assertStringIncludes(e.message, String(mask));
        }
        assertEquals(sel.getMap().size, 0);
      }
      const data = { tag: "kept" };
      const key = sel.register(a, EVENT_READ, data);
      for (const [mask, cls] of BAD_MASKS) {
        assertThrows(() => sel.modify(a, mask as number, "other"), cls, "events");
        // Nothing changed: the same key object, events and data.
        assertStrictEquals(sel.getKey(a), key);
        assertStrictEquals(key.data, data);
      }
      assertEquals(sel.getKey(a).events, EVENT_READ);
      // The kernel kept EVENT_READ only: a writable, unreadable socket is not reported.
      assertEquals(sel.select(0), []);
    }),
);

forEachSelector(
  "a bad argument is reported before NotFound/AlreadyExists/closed",
  (sel) =>
    withPairs(2, ([[a], [b]]) => {
      sel.register(a, EVENT_READ);
      // register(registered fd, bad mask): the mask, not AlreadyExists.
      assertThrows(() => sel.register(a, 2 ** 32 + 3), RangeError, "events");
      assertThrows(() => sel.register(a, "3" as unknown as number), TypeError, "events");
      // register(junk, good mask) is the fileobj's error.
      assertThrows(() => sel.register(1.5, EVENT_READ), TypeError, "fd");
      // modify(unregistered fd, bad mask): the mask, not NotFound.
      assertThrows(() => sel.modify(b, 2 ** 53), RangeError, "events");
      assertThrows(() => sel.modify(b, 0), RangeError, "events");
      // modify/unregister/getKey(junk): TypeError/RangeError, not NotFound.
      for (const [junk, cls] of badFileobjs()) {
        assertThrows(() => sel.modify(junk as FileObj, EVENT_WRITE), cls);
        assertThrows(() => sel.unregister(junk as FileObj), cls);
        assertThrows(() => sel.getKey(junk as FileObj), cls);
        assertThrows(() => sel.register(junk as FileObj, EVENT_WRITE), cls);
      }
      // The good-argument errors come after.
      assertThrows(() => sel.register(a, EVENT_WRITE), Deno.errors.AlreadyExists);
      assertThrows(() => sel.modify(b, EVENT_WRITE), Deno.errors.NotFound);
      assertThrows(() => sel.unregister(b), Deno.errors.NotFound);
      assertEquals(rows(sel.getMap()), [[a, a, EVENT_READ, undefined]]);
      // A closed selector still says what is wrong with the argument first.
      sel.close();
      assertThrows(() => sel.register(b, 4), RangeError, "events");
      assertThrows(() => sel.modify(b, 2 ** 32 + 1), RangeError, "events");
      assertThrows(() => sel.unregister("3" as unknown as number), TypeError);
      assertThrows(() => sel.register(b, EVENT_READ), Deno.errors.BadResource, "closed");
      assertThrows(() => sel.getKey(a), Deno.errors.BadResource, "closed");
    }),
);

forEachSelector("junk fileobjs are refused with a message and a cause for what threw", (sel) => {
  for (const [junk, cls] of badFileobjs()) {
    const e = assertThrows(() => sel.register(junk as FileObj, EVENT_READ), cls);
    assertRefusal(e, "register(junk)");
  }
  const thrown = new Error("boom");
  const e = assertThrows(
    () =>
      sel.register({
        fileno() {
          throw thrown;
        },
      }, EVENT_READ),
    TypeError,
    "boom",
  );
  assertStrictEquals(e.cause, thrown);
  const g = assertThrows(
    () =>
      sel.register({
        get fileno(): never {
          throw thrown;
        },
      }, EVENT_READ),
    TypeError,
    "boom",
  );
  assertStrictEquals(g.cause, thrown);
  assertEquals(sel.getMap().size, 0);
});

forEachSelector(
  "data is kept as given, by identity, through register and modify",
  (sel) =>
    withPairs(1, ([[a]]) => {
      const d1 = { n: 1 }, d2 = [2];
      assertStrictEquals(sel.register(a, EVENT_READ, d1).data, d1);
      assertStrictEquals(sel.modify(a, EVENT_READ, d2).data, d2);
      assertStrictEquals(sel.getKey(a).data, d2);
      // A failed modify keeps the old data.
      assertThrows(() => sel.modify(a, 8, d1), RangeError);
      assertStrictEquals(sel.getKey(a).data, d2);
      assertStrictEquals(sel.unregister(a).data, d2);
    }),
);

Deno.test("fileobjToFd(): -0 is fd 0, never -0", () => {
  assert(Object.is(fileobjToFd(-0), 0));
  assert(Object.is(fileobjToFd({ fileno: () => -0 }), 0));
});

/** Each selector class of this OS, made so that a test can read its wakeup fd. */
const OWN_FDS: Array<[string, () => BaseSelector & { wakeup_: number }]> = onWindows
  ? [["SelectSelector", () =>
    new (class extends WinsockSelectSelector {
      get wakeup_(): number {
        return this.wakeupFd;
      }
    })()]]
  : [
    ["SelectSelector", () =>
      new (class extends SelectSelector {
        get wakeup_(): number {
          return this.wakeupFd;
        }
      })()],
    ["PollSelector", () =>
      new (class extends PollSelector {
        get wakeup_(): number {
          return this.wakeupFd;
        }
      })()],
    ...(onLinux
      ? [["EpollSelector", () =>
        new (class extends EpollSelector {
          get wakeup_(): number {
            return this.wakeupFd;
          }
        })()] as [string, () => BaseSelector & { wakeup_: number }]]
      : []),
    [
      onLinux ? "KqueueSelector (emulated)" : "KqueueSelector",
      () =>
        new (class extends KqueueSelector {
          get wakeup_(): number {
            return this.wakeupFd;
          }
        })(onLinux ? { api: new KqueueEmulation() } : {}),
    ],
  ];

for (const [name, make] of OWN_FDS) {
  Deno.test(`${name}: its own wakeup fd cannot be registered`, () =>
    assertNoFdLeak(() => {
      using sel = make();
      const e = assertThrows(() => sel.register(sel.wakeup_, EVENT_READ), TypeError, "wakeup");
      assertStringIncludes(e.message, `fd ${sel.wakeup_}`);
      assertEquals(sel.getMap().size, 0);
      assertEquals(sel.select(0), []);
    }));
}

for (
  const [name, make] of OWN_FDS.filter(([n]) => !n.startsWith("Select") && !n.startsWith("Poll"))
) {
  const kind = name.startsWith("Epoll") ? "epoll" : "kqueue";
  Deno.test(`${name}: registering the selector in itself is a clear TypeError with EINVAL`, () =>
    assertNoFdLeak(() => {
      using sel = make();
      const own = (sel as unknown as { fileno(): number }).fileno();
      for (const fileobj of [sel as unknown as FileObj, own]) {
        const e = assertThrows(
          () => sel.register(fileobj, EVENT_READ),
          TypeError,
          `cannot register the selector's own ${kind} fd in itself`,
        );
        const oe = e as TypeError & { code: string; errno: number; syscall: string };
        assertEquals([oe.code, oe.errno], ["EINVAL", E.EINVAL]);
        assertEquals(oe.syscall, kind === "epoll" ? "epoll_ctl" : "kevent");
        assertEquals(sel.getMap().size, 0);
      }
      // In another selector it is an ordinary, pollable fd.
      using outer = make();
      outer.register(sel as unknown as FileObj, EVENT_READ, "inner");
      assertEquals(outer.getKey(own).data, "inner");
      outer.unregister(own);
    }));
}

Deno.test({
  name: "EpollSelector: a loop of epoll instances is a TypeError naming the fd, code ELOOP",
  ignore: !onLinux,
  fn: () =>
    assertNoFdLeak(() => {
      using a = new EpollSelector();
      using b = new EpollSelector();
      a.register(b, EVENT_READ);
      const e = assertThrows(() => b.register(a, EVENT_READ), TypeError, `fd ${a.fileno()}`);
      assertEquals((e as TypeError & { code: string }).code, "ELOOP");
      assertEquals(b.getMap().size, 0);
      a.unregister(b);
    }),
});

Deno.test({
  name:
    "PollSelector: poll()'s EINVAL (more fds than RLIMIT_NOFILE) is a RangeError naming the count",
  ignore: !onLinux,
  fn: () =>
    assertNoFdLeak(() =>
      withPairs(3, (pairs) => {
        using sel = new PollSelector();
        for (const [a] of pairs) sel.register(a, EVENT_WRITE);
        const { soft } = getNofileLimit();
        let e: unknown;
        // Lowered for one poll() only: nothing else may open an fd meanwhile.
        setNofileSoftLimit(2);
        try {
          sel.select(0);
        } catch (err) {
          e = err;
        } finally {
          setNofileSoftLimit(soft);
        }
        assertInstanceOf(e, RangeError);
        assertStringIncludes(e.message, "4 fds");
        assertStringIncludes(e.message, "RLIMIT_NOFILE");
        assertEquals((e as RangeError & { code: string }).code, "EINVAL");
        // Nothing changed: with the limit back, the same registrations are ready.
        assertEquals(sel.select(0).length, 3);
      })
    ),
});

// ---- the property test -------------------------------------------------------------------

const SEED = fuzzSeed();
const CALLS = 4000;

/** What every run must have met at least a few times. */
const OUTCOMES = [
  "register: ok",
  "register: AlreadyExists",
  "register: BadResource",
  "register: TypeError",
  "register: RangeError",
  "modify: ok",
  "modify: NotFound",
  "modify: TypeError",
  "modify: RangeError",
  "unregister: ok",
  "unregister: NotFound",
  "unregister: TypeError",
  "unregister: RangeError",
  "getKey: ok",
  "getKey: NotFound",
  "getKey: TypeError",
];

interface Entry {
  fileobj: FileObj;
  events: number;
  data: unknown;
}

/** An object whose fileno() works until `ok` is turned off (its fd "closed"). */
interface Flaky {
  ok: boolean;
  fileno(): number;
}

type Outcome = { ok: true; fd: number } | { ok: false; cls: ErrorCtor };

/** One fileobj the property test passes, with what it must resolve to. */
interface Candidate {
  value: unknown;
  desc: string;
  /** The fd it resolves to (when it resolves). */
  fd?: number;
  /** The class it is refused with, for junk. */
  cls?: ErrorCtor;
  /** Set for the flaky objects, whose outcome depends on `ok` and on the model. */
  flaky?: Flaky;
}

for (const f of SELECTORS) {
  Deno.test(`${f.name}: ${CALLS} random calls with junk change nothing when they fail`, () =>
    assertNoFdLeak(() => {
      const rnd = mulberry32(SEED ^ [...f.name].reduce((h, c) => h * 31 + c.charCodeAt(0), 7));
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const sel = f.make();
      const pairs: Array<[number, number]> = [];
      let step = -1;
      let what = "";
      try {
        for (let i = 0; i < 4; i++) pairs.push(makeSocketPair());
        // Pairs 0 and 1 have a byte waiting at their first end: readable and writable.
        writeFd(pairs[0][1], new Uint8Array([1]), pairs[0][0]);
        writeFd(pairs[1][1], new Uint8Array([1]), pairs[1][0]);
        const readable = new Set([pairs[0][0], pairs[1][0]]);
        const valid = pairs.flat();
        const wrappers = new Map(valid.map((fd) => [fd, { fileno: () => fd }]));
        const flakyFds = [pairs[2][0], pairs[3][1]];
        const flakies: Flaky[] = flakyFds.map((fd) => ({
          ok: true,
          fileno() {
            if (!this.ok) throw new Error("fd gone");
            return fd;
          },
        }));
        // A pair closed at once: its numbers are closed fds (unless reused, checked at use).
        const [c1, c2] = makeSocketPair();
        closeFd(c1);
        closeFd(c2);
        const closedFds = [c1, c2, 0x7fffffff];
        const own = (sel as unknown as { fileno?: () => number }).fileno?.call(sel);

        const model = new Map<number, Entry>();
        const seen = new Map<string, number>();

        // What resolving a candidate gives: for register() (no identity fallback) or the others.
        const resolve = (c: Candidate, identity: boolean): Outcome => {
          if (c.flaky !== undefined && !c.flaky.ok) {
            if (identity) {
              for (const [fd, e] of model) if (e.fileobj === c.flaky) return { ok: true, fd };
            }
            return { ok: false, cls: TypeError };
          }
          return c.cls !== undefined ? { ok: false, cls: c.cls } : { ok: true, fd: c.fd! };
        };
        const maskError = (m: unknown): ErrorCtor | null =>
          typeof m !== "number" || !Number.isInteger(m)
            ? TypeError
            : m < 1 || m > 3
            ? RangeError
            : null;

        const candidate = (): Candidate => {
          const r = rnd();
          if (r < 0.3) {
            const fd = pick(valid);
            return { value: fd, desc: `fd ${fd}`, fd };
          }
          if (r < 0.45) {
            const fd = pick(valid);
            return { value: wrappers.get(fd), desc: `wrapper of ${fd}`, fd };
          }
          if (r < 0.5) {
            const fd = pick(valid);
            return { value: { fileno: () => fd }, desc: `fresh wrapper of ${fd}`, fd };
          }
          if (r < 0.6) {
            const i = Math.floor(rnd() * flakies.length);
            const flaky = flakies[i];
            return { value: flaky, desc: `flaky ${i} (ok: ${flaky.ok})`, fd: flakyFds[i], flaky };
          }
          if (r < 0.66) {
            const fd = pick(closedFds);
            if (!isOpenFd(fd)) return { value: fd, desc: `closed fd ${fd}`, fd };
          }
          if (r < 0.7 && own !== undefined) {
            return rnd() < 0.5
              ? { value: own, desc: `own fd ${own}`, fd: own }
              : { value: sel, desc: "the selector itself", fd: own };
          }
          const [value, cls] = pick(badFileobjs());
          return { value, desc: `junk ${describe(value)}`, cls };
        };
        const masks = (): unknown => rnd() < 0.65 ? pick([1, 2, 3]) : pick(BAD_MASKS)[0];
        const datas = (): unknown => pick([undefined, null, 0, "d", { step }, [step], Symbol("d")]);

        const expectRegister = (c: Candidate, mask: unknown): Outcome => {
          const me = maskError(mask);
          if (me) return { ok: false, cls: me };
          const r = resolve(c, false);
          if (!r.ok) return r;
          if (model.has(r.fd)) return { ok: false, cls: Deno.errors.AlreadyExists };
          if (r.fd === own) return { ok: false, cls: TypeError };
          if (!f.highFds && r.fd >= 1024) return { ok: false, cls: RangeError };
          if (!valid.includes(r.fd)) return { ok: false, cls: Deno.errors.BadResource };
          return r;
        };
        const expectKnown = (c: Candidate): Outcome => {
          const r = resolve(c, true);
          if (!r.ok) return r;
          return model.has(r.fd) ? r : { ok: false, cls: Deno.errors.NotFound };
        };

        const check = () => {
          const got = rows(sel.getMap());
          const want = [...model].sort((a, b) => a[0] - b[0]);
          assertEquals(got.map((r) => r[0]), want.map(([fd]) => fd), "the map's fds differ");
          got.forEach(([fd, fileobj, events, data], i) => {
            const e = want[i][1];
            assertStrictEquals(fileobj, e.fileobj, `fd ${fd}: fileobj`);
            assertStrictEquals(events, e.events, `fd ${fd}: events`);
            assertStrictEquals(data, e.data, `fd ${fd}: data`);
          });
          // The kernel agrees: exactly the registered directions that are ready are reported.
          const ready = sel.select(0).map(([k, ev]) => {
            assertStrictEquals(sel.getMap().get(k.fd), k, "select() returned a stale key");
            return [k.fd, ev];
          }).sort((a, b) => a[0] - b[0]);
          const expected = [...model].sort((a, b) => a[0] - b[0]).map((
            [fd, e],
          ) => [fd, e.events & (EVENT_WRITE | (readable.has(fd) ? EVENT_READ : 0))])
            .filter(([, ev]) => ev !== 0);
          assertEquals(ready, expected, "select(0) differs from the model");
        };

        for (step = 0; step < CALLS; step++) {
          const op = rnd();
          if (op < 0.04) {
            const x = pick(flakies);
            x.ok = !x.ok;
            what = `flaky toggled to ${x.ok}`;
            continue;
          }
          const c = candidate();
          const fileobj = c.value, desc = c.desc;
          let want: Outcome;
          let run: () => SelectorKey;
          let after: (key: SelectorKey) => void;
          if (op < 0.4) {
            const mask = masks(), data = datas();
            what = `register(${desc}, ${describe(mask)})`;
            want = expectRegister(c, mask);
            run = () => sel.register(fileobj as FileObj, mask as number, data);
            after = (key) => {
              assertStrictEquals(key.fileobj, fileobj);
              assertStrictEquals(key.data, data);
              assertStrictEquals(key.events, mask);
              model.set(key.fd, { fileobj: fileobj as FileObj, events: mask as number, data });
            };
          } else if (op < 0.65) {
            const mask = masks(), data = datas();
            what = `modify(${desc}, ${describe(mask)})`;
            const me = maskError(mask);
            want = me ? { ok: false, cls: me } : expectKnown(c);
            run = () => sel.modify(fileobj as FileObj, mask as number, data);
            after = (key) => {
              const old = model.get(key.fd)!;
              assertStrictEquals(key.fileobj, old.fileobj); // the registered object stays
              assertStrictEquals(key.data, data);
              model.set(key.fd, { fileobj: old.fileobj, events: mask as number, data });
            };
          } else if (op < 0.82) {
            what = `unregister(${desc})`;
            want = expectKnown(c);
            run = () => sel.unregister(fileobj as FileObj);
            after = (key) => {
              const old = model.get(key.fd)!;
              assertEquals([key.fileobj, key.events, key.data], [
                old.fileobj,
                old.events,
                old.data,
              ]);
              model.delete(key.fd);
            };
          } else {
            what = `getKey(${desc})`;
            want = expectKnown(c);
            run = () => sel.getKey(fileobj as FileObj);
            after = (key) => {
              const old = model.get(key.fd)!;
              assertEquals([key.fileobj, key.events, key.data], [
                old.fileobj,
                old.events,
                old.data,
              ]);
            };
          }
          let key: SelectorKey | undefined;
          let thrown: unknown;
          try {
            key = run();
          } catch (e) {
            thrown = e;
          }
          if (want.ok) {
            if (thrown !== undefined) throw thrown;
            assertEquals(key!.fd, want.fd);
            after(key!);
          } else {
            assert(thrown !== undefined, `expected ${want.cls.name}, the call succeeded`);
            assertRefusal(thrown, what);
            assertInstanceOf(thrown, want.cls);
            // Exactly the class due: a RangeError where a TypeError is due fails.
            if (want.cls === TypeError || want.cls === RangeError) {
              assertStrictEquals(thrown.constructor, want.cls);
            }
          }
          const outcome = `${what.slice(0, what.indexOf("("))}: ${want.ok ? "ok" : want.cls.name}`;
          seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
          check();
        }
        // The run reached every outcome, so a change that made every call fail (or pass) shows.
        for (const outcome of OUTCOMES) {
          assert(
            (seen.get(outcome) ?? 0) >= 5,
            `outcome "${outcome}" seen ${seen.get(outcome) ?? 0} times`,
          );
        }
        what = "cleanup";
        for (const fd of [...model.keys()].sort(() => rnd() - 0.5)) {
          sel.unregister(fd);
          model.delete(fd);
          check();
        }
        assertEquals(sel.getMap().size, 0, "something is left registered");
        sel.close();
        assertEquals(sel.getMap().size, 0);
      } catch (e) {
        throw new Error(
          `${f.name}: seed ${SEED} (AIO_FUZZ_SEED=${SEED} replays it), step ${step}: ${what}: ${
            (e as Error)?.message ?? e
          }`,
          { cause: e },
        );
      } finally {
        sel.close();
        for (const [a, b] of pairs) {
          closeFd(a);
          closeFd(b);
        }
      }
    }));
}
