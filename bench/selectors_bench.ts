/**
 * Selector benchmarks (issue A):
 *
 * 1. The cost of one `select(0)` against the number of registered idle fds,
 *    for SelectSelector, PollSelector and EpollSelector. Each group is one
 *    selector with its 10-fd case as baseline, so `deno bench` prints how
 *    much more n idle fds cost. The emulated KqueueSelector of the tests is
 *    not a kernel (it is `poll` underneath) and is left out.
 * 2. The cost of the FFI call itself: a synchronous `poll(0)`, a `nonblocking`
 *    `poll_async(0)` round trip, and a `selectAsync()` woken by `wakeup()`.
 * 3. `select(1)` on a ready fd: the loop's brief wait on every wake (a wait
 *    with a deadline, so its clock read counts; decisions.md, "Performance",
 *    P5).
 *
 * Run: `deno bench --allow-ffi bench/selectors_bench.ts`
 *
 * @module
 */
import {
  closeFd,
  getNofileLimit,
  libc,
  makeSocketPair,
  setNofileSoftLimit,
} from "../ffi/unix/libc.ts";
import { POLLIN, setPollfd } from "../ffi/unix/pollfd.ts";
import {
  type BaseSelector,
  EpollSelector,
  EVENT_READ,
  PollSelector,
  SelectSelector,
} from "../selectors/mod.ts";

const onLinux = Deno.build.os === "linux";
const SIZES = [10, 100, 1_000, 10_000];
/** FD_SETSIZE minus a margin for Deno's own fds and the selectors' wakeup fds. */
const SELECT_MAX = 1024 - 64;

interface Backend {
  name: string;
  make(): BaseSelector;
  /** The largest fd number (exclusive) the backend accepts. */
  fdLimit: number;
}

const BACKENDS: Backend[] = [
  { name: "SelectSelector", make: () => new SelectSelector(), fdLimit: 1024 },
  { name: "PollSelector", make: () => new PollSelector(), fdLimit: Infinity },
  ...(onLinux
    ? [{ name: "EpollSelector", make: () => new EpollSelector(), fdLimit: Infinity }]
    : []),
];

// Room for 10,000 idle fds plus Deno's and the selectors' own.
const want = SIZES[SIZES.length - 1] + 512;
const { soft, hard } = getNofileLimit();
if (soft < want) setNofileSoftLimit(Math.min(want, hard));
const limit = getNofileLimit().soft;

// Selectors first, so that SelectSelector's wakeup fds get numbers below 1024.
const cases: { backend: Backend; n: number; sel: BaseSelector }[] = [];
for (const backend of BACKENDS) {
  for (const n of SIZES) {
    const size = backend.fdLimit === 1024 ? Math.min(n, SELECT_MAX) : n;
    if (cases.some((c) => c.backend === backend && c.n === size)) continue;
    cases.push({ backend, n: size, sel: backend.make() });
  }
}

const sys = libc();
const wakeSelectors = BACKENDS.map((b) => ({ name: b.name, sel: b.make() }));

// One fd that stays readable: a byte written and never read.
const [readyA, readyB] = makeSocketPair();
sys.write(readyB, new Uint8Array([1]), 1n);
const readySelectors = BACKENDS.map((b) => {
  const sel = b.make();
  sel.register(readyA, EVENT_READ);
  return { name: b.name, sel };
});

// Idle fds: both ends of socket pairs, with nothing written, so never readable.
const pool: number[] = [];
while (pool.length < SIZES[SIZES.length - 1] && pool.length + 2 <= limit - 128) {
  pool.push(...makeSocketPair());
}
pool.sort((a, b) => a - b);

for (const c of cases) {
  const fds = pool.filter((fd) => fd < c.backend.fdLimit).slice(0, c.n);
  if (fds.length < c.n) {
    console.error(
      `${c.backend.name}: only ${fds.length} fds for n=${c.n} (RLIMIT_NOFILE ${limit})`,
    );
    c.n = fds.length;
  }
  for (const fd of fds) c.sel.register(fd, EVENT_READ);
}

for (const c of cases) {
  Deno.bench({
    name: `${c.backend.name}.select(0), ${c.n.toLocaleString("en-US")} idle fds`,
    group: c.backend.name,
    baseline: c.n === SIZES[0],
    fn() {
      if (c.sel.select(0).length !== 0) throw new Error("an idle fd was ready");
    },
  });
}

// --- The FFI call itself ------------------------------------------------------

const [idleA, idleB] = makeSocketPair();
const pollfd = new Uint8Array(new ArrayBuffer(8));
setPollfd(new DataView(pollfd.buffer), 0, idleA, POLLIN);
const pollfdAsync = new Uint8Array(new ArrayBuffer(8));
setPollfd(new DataView(pollfdAsync.buffer), 0, idleA, POLLIN);

Deno.bench({
  name: "sync poll(1 fd, 0) through FFI",
  group: "ffi",
  baseline: true,
  fn() {
    sys.poll(pollfd, 1, 0);
  },
});

Deno.bench({
  name: "nonblocking poll_async(1 fd, 0) round trip",
  group: "ffi",
  async fn() {
    await sys.poll_async(pollfdAsync, 1, 0);
  },
});

for (const { name, sel } of wakeSelectors) {
  Deno.bench({
    name: `${name}.selectAsync() woken by wakeup()`,
    group: "ffi",
    async fn() {
      // selectAsync() parks off-thread before returning its promise; wakeup() then unparks it.
      const p = sel.selectAsync();
      sel.wakeup();
      await p;
    },
  });
}

for (const { name, sel } of readySelectors) {
  Deno.bench({
    name: `${name}.select(1), one ready fd`,
    group: "ready",
    fn() {
      if (sel.select(1).length !== 1) throw new Error("the ready fd was not reported");
    },
  });
}

// deno bench has no teardown hook: close everything when the process unloads.
globalThis.addEventListener("unload", () => {
  for (const c of cases) c.sel.close();
  for (const { sel } of [...wakeSelectors, ...readySelectors]) sel.close();
  for (const fd of [...pool, idleA, idleB, readyA, readyB]) closeFd(fd);
});
