/**
 * The LOOPS matrix the loop conformance tests run over (CPython's
 * `EventLoopTestsMixin` pattern): every loop this platform has, each with the
 * capabilities that decide which tests run on it. A test a loop lacks a
 * capability for is replaced by a test that the platform table's error comes
 * (`Deno.errors.NotSupported` naming the method), so the suite has the same
 * tests on every loop.
 *
 * On Linux and macOS the list is `SelectorEventLoop` over each selector of
 * `_selector_factories.ts`; on Windows `SelectorEventLoop` (the Windows one)
 * over its selectors, without pipes, subprocesses, AF_UNIX, signals and child
 * watchers (the platform table's refusals are checked instead); a
 * ProactorEventLoop joins with its own capabilities.
 *
 * @module
 */
import { assert, assertInstanceOf, assertStringIncludes, assertThrows } from "@std/assert";
import type { AbstractEventLoop, BaseSelector, EventLoopOptions } from "../mod.ts";
import {
  BaseSelectorEventLoop,
  createSubprocessExec,
  createSubprocessShell,
  DatagramProtocol,
  getEventLoopPolicy,
  openUnixConnection,
  ProactorEventLoop,
  Protocol,
  SelectorEventLoop,
  startUnixServer,
  SubprocessProtocol,
} from "../mod.ts";
import { SELECTORS } from "./_selector_factories.ts";

/**
 * What a loop can do, as the platform table and the tests see it:
 * - `readers`: `addReader`/`addWriter`/`removeReader`/`removeWriter`;
 * - `unixSockets`: `createUnixConnection`/`createUnixServer` (and the streams over them);
 * - `pipes`: `connectReadPipe`/`connectWritePipe`;
 * - `subprocesses`: `subprocessExec`/`subprocessShell` (and `createSubprocess*`);
 * - `signals`: `addSignalHandler`/`removeSignalHandler`;
 * - `childWatchers`: subprocesses are reaped by the policy's child watcher
 *   (`getChildWatcher`/`setChildWatcher`);
 * - `highFds`: fds >= 1024 (FD_SETSIZE) can be watched;
 * - `selector`: the loop is a `BaseSelectorEventLoop` whose `selector` the
 *   test inspects (no platform error: a loop without one skips such tests);
 * - `unixFds`: the test makes Unix fds through libc (pipes, ptys, AF_UNIX
 *   socketpairs, `fcntl`): nothing of the kind exists on Windows, so such a
 *   test is reported as ignored there, with the reason in its name.
 */
export type Cap =
  | "readers"
  | "unixSockets"
  | "pipes"
  | "subprocesses"
  | "signals"
  | "childWatchers"
  | "highFds"
  | "selector"
  | "unixFds";

/** Every capability, in a fixed order. */
export const CAPS: readonly Cap[] = [
  "readers",
  "unixSockets",
  "pipes",
  "subprocesses",
  "signals",
  "childWatchers",
  "highFds",
  "selector",
  "unixFds",
];

/** The loop a conformance test gets: asyncio's `AbstractEventLoop`. */
export type TestLoop = AbstractEventLoop;

/** A loop of the matrix. */
export interface LoopCase {
  /** The loop's name in test names, e.g. `SelectorEventLoop(EpollSelector)`. */
  readonly name: string;
  /**
   * A short name kept by suites that always named their cases by selector
   * (`Server (EpollSelector)`): the selector's name, or the loop's name for
   * a loop without a selector.
   */
  readonly tag: string;
  /** Makes a new loop of this kind. */
  make(options?: EventLoopOptions): TestLoop;
  /** What the loop can do (every capability is stated, true or false). */
  readonly caps: Readonly<Record<Cap, boolean>>;
}

const unix = Deno.build.os !== "windows";

/**
 * Windows' ProactorEventLoop (I/O completion ports): named pipes and
 * subprocesses, readers and writers on sockets through AFD polls (beyond
 * CPython), no selector to inspect.
 */
const PROACTOR: LoopCase = {
  name: "ProactorEventLoop",
  tag: "ProactorEventLoop",
  make: (options?: EventLoopOptions): TestLoop => new ProactorEventLoop(options),
  caps: {
    readers: true,
    unixSockets: false,
    pipes: true,
    subprocesses: true,
    signals: false,
    childWatchers: false,
    highFds: true,
    selector: false,
    unixFds: false,
  },
};

/** Every loop the conformance suites run against here. */
export const LOOPS: readonly LoopCase[] = [
  ...SELECTORS.map((s) => ({
    name: `SelectorEventLoop(${s.name})`,
    tag: s.name,
    make: (options?: EventLoopOptions): TestLoop => new SelectorEventLoop(s.make(), options),
    caps: {
      readers: true,
      unixSockets: unix,
      pipes: unix,
      subprocesses: unix,
      signals: unix,
      childWatchers: unix,
      highFds: s.highFds,
      selector: true,
      unixFds: unix,
    },
  })),
  ...(unix ? [] : [PROACTOR]),
];

/** The capabilities of `needs` that `lc` lacks. */
export function missingCaps(lc: LoopCase, needs: readonly Cap[]): Cap[] {
  return needs.filter((c) => !lc.caps[c]);
}

/** A loop test's body. */
export type TestFn = (t: Deno.TestContext) => void | Promise<void>;

/** A `Deno.TestDefinition` that may name the capabilities it needs beyond its block's. */
export interface LoopTestDefinition extends Deno.TestDefinition {
  /** Capabilities this test needs on top of those of its `forEachLoop()` block. */
  needs?: readonly Cap[];
}

/**
 * Registers a test on one loop, as `Deno.test` does: the test runs when the
 * loop has the capabilities needed (the block's and the test's own), and is
 * otherwise replaced by {@linkcode checkRefused} of the missing ones.
 */
export interface LoopTest {
  /** A test with a name and a body. */
  (name: string, fn: TestFn): void;
  /** A test needing `needs` beyond its block's capabilities. */
  (name: string, needs: readonly Cap[], fn: TestFn): void;
  /** A test with `Deno.test` options (and `needs`). */
  (def: LoopTestDefinition): void;
}

/** The replacement of a test `lc` lacks `missing` for. */
function replacement(lc: LoopCase, def: LoopTestDefinition, missing: Cap[]): Deno.TestDefinition {
  const checkable = missing.filter((c) => REFUSALS[c] !== undefined);
  const unchecked = missing.filter((c) => REFUSALS[c] === undefined);
  if (unchecked.length > 0) {
    // No platform error to check (e.g. no selector to inspect): the test is reported as ignored.
    return {
      name: `${def.name} [needs ${unchecked.join(", ")}: ignored on ${lc.name}]`,
      ignore: true,
      fn: () => {},
    };
  }
  return {
    name: `${def.name} [no ${checkable.join(", ")}: the platform table's error instead]`,
    fn: () => checkRefused(lc, checkable),
  };
}

/** A registrar for `lc` whose tests need `blockNeeds` at least. */
function registrar(lc: LoopCase, blockNeeds: readonly Cap[]): LoopTest {
  return ((a: string | LoopTestDefinition, b?: TestFn | readonly Cap[], c?: TestFn) => {
    let def: LoopTestDefinition;
    if (typeof a === "string") {
      def = typeof b === "function"
        ? { name: a, fn: b }
        : { name: a, needs: b ?? [], fn: c as TestFn };
    } else {
      def = a;
    }
    const missing = missingCaps(lc, [...new Set([...blockNeeds, ...(def.needs ?? [])])]);
    const { needs: _needs, ...plain } = def;
    Deno.test(missing.length === 0 ? plain : replacement(lc, def, missing));
  }) as LoopTest;
}

/**
 * Runs `body` once per loop of {@linkcode LOOPS}: `body` registers its tests
 * with the `test` it is given. On a loop lacking any of `needs` (or a test's
 * own `needs`), each test is replaced by a check that the missing
 * capability's methods refuse with the platform table's `NotSupported`.
 *
 * @example
 * ```ts ignore
 * forEachLoop(["readers"], (lc, test) => {
 *   test(`${lc.name}.addReader() calls back`, async () => {
 *     using loop = lc.make();
 *     // ...
 *   });
 * });
 * ```
 */
export function forEachLoop(
  needs: readonly Cap[],
  body: (lc: LoopCase, test: LoopTest) => void,
): void {
  for (const lc of LOOPS) body(lc, registrar(lc, needs));
}

/**
 * Runs `body` for one loop only: the `nth` (0-based) loop of LOOPS that has
 * `needs`, for tests that need not run on every loop. When fewer loops have
 * them, `body` gets the first loop, and its tests check the refusals instead.
 */
export function forOneLoop(
  needs: readonly Cap[],
  body: (lc: LoopCase, test: LoopTest) => void,
  nth = 0,
): void {
  const able = LOOPS.filter((lc) => missingCaps(lc, needs).length === 0);
  const lc = able[Math.min(nth, able.length - 1)] ?? LOOPS[0];
  body(lc, registrar(lc, needs));
}

/** The selector of a loop with the `selector` capability. */
export function selectorOf(loop: TestLoop): BaseSelector {
  assertInstanceOf(loop, BaseSelectorEventLoop, `${loop} has no selector`);
  return loop.selector;
}

/**
 * Asserts that `fn()` throws, or returns a promise that rejects with,
 * `Deno.errors.NotSupported` whose message names `method()` and this
 * platform (the platform table's error). Returns the error.
 */
export async function assertNotSupported(
  fn: () => unknown,
  method: string,
): Promise<Deno.errors.NotSupported> {
  let error: unknown;
  let threw = false;
  try {
    await fn();
  } catch (e) {
    error = e;
    threw = true;
  }
  assert(threw, `${method}() neither threw nor rejected: expected NotSupported`);
  assertInstanceOf(error, Deno.errors.NotSupported, `${method}(): ${error}`);
  assertStringIncludes(error.message, `${method}()`);
  assertStringIncludes(error.message, Deno.build.os);
  return error;
}

/** A method of a capability and a call that must refuse when the capability is missing. */
type Refusal = readonly [method: string, call: (loop: TestLoop) => unknown];

/** Runs `fn` as the main task of `loop` (for the streams functions, which find the running loop). */
const onIt = (loop: TestLoop, fn: () => Promise<unknown>) => loop.runUntilComplete(fn);

/**
 * For each capability with a platform-table error: its methods, each with a
 * call that must refuse. The streams functions delegate to the loop, whose
 * method the message names.
 */
const REFUSALS: Partial<Record<Cap, readonly Refusal[]>> = {
  readers: [
    ["addReader", (l) => l.addReader(0, () => {})],
    ["removeReader", (l) => l.removeReader(0)],
    ["addWriter", (l) => l.addWriter(1, () => {})],
    ["removeWriter", (l) => l.removeWriter(1)],
  ],
  unixSockets: [
    ["createUnixConnection", (l) => l.createUnixConnection(() => new Protocol(), "/nonexistent")],
    ["createUnixServer", (l) => l.createUnixServer(() => new Protocol(), "/nonexistent")],
    ["createUnixConnection", (l) => onIt(l, () => openUnixConnection("/nonexistent"))],
    ["createUnixServer", (l) => onIt(l, () => startUnixServer(() => {}, "/nonexistent"))],
    // AF_UNIX datagrams are shared code: refused where the OS has no AF_UNIX (Windows) only.
    ...(unix ? [] : [
      [
        "createDatagramEndpoint",
        (l) => l.createDatagramEndpoint(() => new DatagramProtocol(), { family: "unix" }),
      ],
      [
        "createDatagramEndpoint",
        (l) =>
          l.createDatagramEndpoint(() => new DatagramProtocol(), {
            localAddr: { transport: "unix", path: "/nonexistent/x" },
          }),
      ],
    ] satisfies Refusal[]),
  ],
  pipes: [
    ["connectReadPipe", (l) => l.connectReadPipe(() => new Protocol(), 0)],
    ["connectWritePipe", (l) => l.connectWritePipe(() => new Protocol(), 1)],
  ],
  subprocesses: [
    ["subprocessExec", (l) => l.subprocessExec(() => new SubprocessProtocol(), ["true"])],
    ["subprocessShell", (l) => l.subprocessShell(() => new SubprocessProtocol(), "true")],
    ["subprocessExec", (l) => onIt(l, () => createSubprocessExec(["true"]))],
    ["subprocessShell", (l) => onIt(l, () => createSubprocessShell("true"))],
  ],
  signals: [
    ["addSignalHandler", (l) => l.addSignalHandler("SIGUSR1", () => {})],
    ["removeSignalHandler", (l) => l.removeSignalHandler("SIGUSR1")],
  ],
  childWatchers: [
    ["getChildWatcher", () => getEventLoopPolicy().getChildWatcher()],
    ["setChildWatcher", () => getEventLoopPolicy().setChildWatcher(null)],
  ],
};

/** The capabilities whose absence has a platform-table error to check. */
export const REFUSABLE_CAPS: readonly Cap[] = CAPS.filter((c) =>
  c === "highFds" || REFUSALS[c] !== undefined
);

/**
 * Checks, on a new loop of `lc`, that every method of each of `caps`
 * refuses as the platform table says: `NotSupported` naming the method; for
 * `highFds`, watching an fd >= FD_SETSIZE is refused with a `RangeError`
 * naming FD_SETSIZE and the fd, and nothing is registered.
 */
export async function checkRefused(lc: LoopCase, caps: readonly Cap[]): Promise<void> {
  using loop = lc.make();
  for (const cap of caps) {
    if (cap === "highFds") {
      await checkHighFdRefused(loop);
      continue;
    }
    const refusals = REFUSALS[cap];
    assert(refusals !== undefined, `no platform-table error to check for ${cap}`);
    for (const [method, call] of refusals) await assertNotSupported(() => call(loop), method);
  }
}

/** `addReader()`/`addWriter()` of an fd >= FD_SETSIZE throw a RangeError naming it. */
async function checkHighFdRefused(loop: TestLoop): Promise<void> {
  const libc = await import("../ffi/unix/libc.ts");
  const { soft, hard } = libc.getNofileLimit();
  if (soft < 2048) libc.setNofileSoftLimit(Math.min(hard, 4096));
  const [a, b] = libc.makeSocketPair();
  const high = libc.fcntlArg(a, 0, /* F_DUPFD */ 1100);
  try {
    assert(high >= 1100, `fcntl(F_DUPFD, 1100) gave ${high}`);
    for (const add of [loop.addReader, loop.addWriter]) {
      const e = assertThrows(() => add.call(loop, high, () => {}), RangeError, "FD_SETSIZE");
      assertStringIncludes(e.message, String(high));
    }
    assert(!loop.removeReader(high) && !loop.removeWriter(high), "nothing was registered");
  } finally {
    if (high >= 0) libc.closeFd(high);
    libc.closeFd(a);
    libc.closeFd(b);
  }
}

/** Replaces `console[method]` while `fn` runs, collecting what was printed. */
export async function captureConsole(
  method: "error" | "warn",
  fn: () => unknown,
): Promise<unknown[][]> {
  const calls: unknown[][] = [];
  const saved = console[method];
  console[method] = (...args: unknown[]) => void calls.push(args);
  try {
    await fn();
  } finally {
    console[method] = saved;
  }
  return calls;
}
