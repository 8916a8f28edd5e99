/**
 * Event-loop policies and the current loop: asyncio's
 * `AbstractEventLoopPolicy`, `DefaultEventLoopPolicy`, the Windows
 * policies, `getEventLoopPolicy()`/`setEventLoopPolicy()` and
 * `getEventLoop()`/`setEventLoop()`/`newEventLoop()`, as Python 3.14 has
 * them: `getEventLoop()` never makes a loop, it returns the running one or
 * the one set with `setEventLoop()`, and throws otherwise. `run()` and
 * `Runner` (in `loop/runner.ts`) are the simpler way to get a loop.
 *
 * @example
 * ```ts
 * import { getEventLoop, newEventLoop, setEventLoop } from "@aio/loop";
 * const loop = newEventLoop();
 * setEventLoop(loop);
 * console.log(getEventLoop() === loop); // true
 * setEventLoop(null);
 * loop.close();
 * ```
 * @module
 */
import { OS_FAMILY, PLATFORM } from "./ffi/sys.ts";
import type { AbstractEventLoop } from "./loop/abstract_event_loop.ts";
import { _getRunningLoop } from "./loop/running.ts";
import { notSupported } from "./loop/_platform_table.ts";
import { UnixSelectorEventLoop } from "./loop/unix/unix_selector_event_loop.ts";
import { WindowsSelectorEventLoop } from "./loop/windows/windows_selector_event_loop.ts";
import { ProactorEventLoop } from "./loop/windows/proactor_event_loop.ts";
import type { BaseSelector } from "./selectors/base_selector.ts";
import type { EventLoopOptions } from "./loop/abstract_event_loop.ts";
import type { AbstractChildWatcher } from "./loop/unix/child_watcher.ts";

/** The child-watcher type `getChildWatcher()` returns (the class is in `@aio/loop/unix`). */
export type { AbstractChildWatcher };
import { _currentChildWatcher, _setChildWatcher } from "./loop/unix/subprocess.ts";
import { describe } from "./ffi/os_error.ts";

/** An instance of this platform's {@linkcode SelectorEventLoop}. */
export type SelectorEventLoop = UnixSelectorEventLoop | WindowsSelectorEventLoop;

/** What {@linkcode SelectorEventLoop} and {@linkcode EventLoop} are: this platform's loop class. */
export interface SelectorEventLoopConstructor {
  /** Makes a loop over a new `DefaultSelector`. */
  new (options?: EventLoopOptions): SelectorEventLoop;
  /** Makes a loop over `selector` (a new `DefaultSelector` when `null`). */
  new (selector: BaseSelector | null | undefined, options?: EventLoopOptions): SelectorEventLoop;
  /** For `instanceof`. */
  readonly prototype: SelectorEventLoop;
}

/**
 * This platform's selector event loop (asyncio's `SelectorEventLoop`
 * alias): `UnixSelectorEventLoop` on Linux and macOS,
 * `WindowsSelectorEventLoop` (Winsock `select()`) on Windows. Takes an
 * optional selector (`DefaultSelector` when omitted), then options.
 *
 * @example
 * ```ts
 * import { PollSelector, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop(new PollSelector());
 * loop.callSoon(() => loop.stop());
 * await loop.runForever();
 * ```
 */
export const SelectorEventLoop: SelectorEventLoopConstructor = OS_FAMILY === "windows"
  ? WindowsSelectorEventLoop
  : UnixSelectorEventLoop;

/** An instance of this platform's {@linkcode EventLoop}. */
export type EventLoop = UnixSelectorEventLoop | ProactorEventLoop;

/** What {@linkcode EventLoop} is: this platform's default loop class. */
export interface EventLoopConstructor {
  /** Makes a loop (with its selector or completion port). */
  new (options?: EventLoopOptions): EventLoop;
  /** For `instanceof`. */
  readonly prototype: EventLoop;
}

/**
 * This platform's default event loop class (asyncio 3.13's `EventLoop`):
 * `SelectorEventLoop` on Linux and macOS, `ProactorEventLoop` (I/O
 * completion ports) on Windows, as asyncio has it since 3.8.
 * `newEventLoop()`, `run()` and `DefaultEventLoopPolicy` make one.
 *
 * @example
 * ```ts
 * import { EventLoop } from "@aio/loop";
 * using loop = new EventLoop();
 * console.log(await loop.runUntilComplete(async () => 42)); // 42
 * ```
 */
export const EventLoop: EventLoopConstructor = OS_FAMILY === "windows"
  ? ProactorEventLoop
  : UnixSelectorEventLoop;

/** Makes a new event loop: what a policy's and `run()`'s `loopFactory` is. */
export type EventLoopFactory = () => AbstractEventLoop;

/** Options of `new DefaultEventLoopPolicy()`. */
export interface DefaultEventLoopPolicyOptions {
  /** What `newEventLoop()` calls; this platform's default loop when omitted. */
  loopFactory?: EventLoopFactory;
}

// asyncio checks isinstance(loop, AbstractEventLoop); ours is an interface, so check its shape.
const LOOP_METHODS = ["runForever", "runUntilComplete", "stop", "close", "isClosed", "callSoon"];
const POLICY_METHODS = ["getEventLoop", "setEventLoop", "newEventLoop"];

function hasMethods(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== "object" || value === null) return false;
  const obj = value as Record<string, unknown>;
  return names.every((name) => typeof obj[name] === "function");
}

/** Throws a `TypeError` unless `loop` is `null` or has an event loop's methods. */
function checkLoopOrNull(loop: unknown, what: string): void {
  if (loop !== null && !hasMethods(loop, LOOP_METHODS)) {
    throw new TypeError(`${what} must be an event loop or null, not ${describe(loop)}`);
  }
}

/** This platform's default loop: `EventLoop` (the ProactorEventLoop on Windows). */
function defaultLoopFactory(): AbstractEventLoop {
  return new EventLoop();
}

/**
 * What every policy does (asyncio's `AbstractEventLoopPolicy`): keep the
 * current loop and make new ones, and (on Unix) hold the child watcher.
 * `setEventLoopPolicy()` takes an instance of a subclass, or any object
 * with the three loop methods.
 *
 * @example
 * ```ts
 * import {
 *   AbstractEventLoopPolicy,
 *   type AbstractEventLoop,
 *   SelectorEventLoop,
 *   setEventLoopPolicy,
 * } from "@aio/loop";
 *
 * class OneLoopPolicy extends AbstractEventLoopPolicy {
 *   #loop: AbstractEventLoop | null = null;
 *   getEventLoop(): AbstractEventLoop {
 *     return this.#loop ??= this.newEventLoop();
 *   }
 *   setEventLoop(loop: AbstractEventLoop | null): void {
 *     this.#loop = loop;
 *   }
 *   newEventLoop(): AbstractEventLoop {
 *     return new SelectorEventLoop();
 *   }
 * }
 * setEventLoopPolicy(new OneLoopPolicy());
 * setEventLoopPolicy(null); // back to the default policy
 * ```
 */
export abstract class AbstractEventLoopPolicy {
  /**
   * The current loop of this policy.
   *
   * @example
   * ```ts
   * import { getEventLoopPolicy, newEventLoop } from "@aio/loop";
   * const policy = getEventLoopPolicy();
   * using loop = newEventLoop();
   * policy.setEventLoop(loop);
   * console.log(policy.getEventLoop() === loop); // true
   * policy.setEventLoop(null);
   * ```
   */
  abstract getEventLoop(): AbstractEventLoop;

  /**
   * Makes `loop` the current loop of this policy; `null` clears it.
   *
   * @example
   * ```ts
   * import { getEventLoopPolicy } from "@aio/loop";
   * getEventLoopPolicy().setEventLoop(null);
   * ```
   */
  abstract setEventLoop(loop: AbstractEventLoop | null): void;

  /**
   * Makes a new loop (it does not become the current one).
   *
   * @example
   * ```ts
   * import { getEventLoopPolicy } from "@aio/loop";
   * using loop = getEventLoopPolicy().newEventLoop();
   * ```
   */
  abstract newEventLoop(): AbstractEventLoop;

  /**
   * The child watcher that reports the exit of the loops' child processes
   * (made on first use: `PidfdChildWatcher` on Linux ≥ 5.4,
   * `KqueueChildWatcher` on macOS, else `SigchldChildWatcher`). There is one
   * per process (per Worker), shared by every policy. Windows has none:
   * `NotSupported` there.
   *
   * @example
   * ```ts
   * import { getEventLoopPolicy } from "@aio/loop";
   * if (Deno.build.os !== "windows") {
   *   console.log(getEventLoopPolicy().getChildWatcher().name); // "pidfd" on Linux
   * }
   * ```
   */
  getChildWatcher(): AbstractChildWatcher {
    refuseOnWindows("getChildWatcher");
    return _currentChildWatcher();
  }

  /**
   * Replaces the child watcher (`null`: a default one is made on next use).
   * The old one is closed: it still reaps the children it watches, and
   * takes no new ones. Windows has none: `NotSupported` there.
   *
   * @example
   * ```ts
   * import { getEventLoopPolicy } from "@aio/loop";
   * import { SigchldChildWatcher } from "@aio/loop/unix";
   * if (Deno.build.os !== "windows") {
   *   const policy = getEventLoopPolicy();
   *   policy.setChildWatcher(new SigchldChildWatcher()); // the SIGCHLD fallback
   *   policy.setChildWatcher(null); // back to the default kind
   * }
   * ```
   */
  setChildWatcher(watcher: AbstractChildWatcher | null): void {
    refuseOnWindows("setChildWatcher");
    if (watcher !== null && typeof watcher?.addChildHandler !== "function") {
      throw new TypeError(
        `setChildWatcher() takes an AbstractChildWatcher or null, not ${describe(watcher)}`,
      );
    }
    _setChildWatcher(watcher);
  }
}

function refuseOnWindows(method: string): void {
  if (OS_FAMILY === "windows") {
    throw notSupported(method, "DefaultEventLoopPolicy");
  }
}

/**
 * The default policy (asyncio's `DefaultEventLoopPolicy`, as Python 3.14
 * has it): `newEventLoop()` makes this platform's default loop
 * (`EventLoop`: the `SelectorEventLoop`, on Windows the
 * `ProactorEventLoop`) or calls `options.loopFactory`; `getEventLoop()` returns the loop set
 * with `setEventLoop()` and throws when there is none: it never makes one.
 *
 * @example
 * ```ts
 * import { DefaultEventLoopPolicy, PollSelector, SelectorEventLoop } from "@aio/loop";
 * const policy = new DefaultEventLoopPolicy({
 *   loopFactory: () => new SelectorEventLoop(new PollSelector()),
 * });
 * using loop = policy.newEventLoop();
 * policy.setEventLoop(loop);
 * console.log(policy.getEventLoop() === loop); // true
 * ```
 */
export class DefaultEventLoopPolicy extends AbstractEventLoopPolicy {
  #loop: AbstractEventLoop | null = null;
  #loopFactory: EventLoopFactory;

  /** Makes the policy; `options.loopFactory` replaces the platform's default loop. */
  constructor(options?: DefaultEventLoopPolicyOptions) {
    super();
    const factory = options?.loopFactory;
    if (factory !== undefined && typeof factory !== "function") {
      throw new TypeError(
        `loopFactory must be a function returning a loop, not ${describe(factory)}`,
      );
    }
    this.#loopFactory = factory ?? defaultLoopFactory;
  }

  /**
   * The loop set with `setEventLoop()`. Throws an `Error` when none is set:
   * unlike Python before 3.14, no loop is made here.
   *
   * @example
   * ```ts
   * import { DefaultEventLoopPolicy } from "@aio/loop";
   * const policy = new DefaultEventLoopPolicy();
   * try {
   *   policy.getEventLoop();
   * } catch (e) {
   *   console.log((e as Error).message); // There is no current event loop ...
   * }
   * ```
   */
  getEventLoop(): AbstractEventLoop {
    if (this.#loop === null) {
      throw new Error(
        "There is no current event loop: make one with setEventLoop(newEventLoop()), " +
          "or run the code with run(main), which gives main a running loop",
      );
    }
    return this.#loop;
  }

  /**
   * Makes `loop` the current loop; `null` clears it. Anything else throws a
   * `TypeError`. The loop is not closed when replaced.
   *
   * @example
   * ```ts
   * import { DefaultEventLoopPolicy, SelectorEventLoop } from "@aio/loop";
   * const policy = new DefaultEventLoopPolicy();
   * using loop = new SelectorEventLoop();
   * policy.setEventLoop(loop);
   * policy.setEventLoop(null);
   * ```
   */
  setEventLoop(loop: AbstractEventLoop | null): void {
    checkLoopOrNull(loop, "setEventLoop() loop");
    this.#loop = loop;
  }

  /**
   * Makes a new loop with the factory; it does not become the current one.
   *
   * @example
   * ```ts
   * import { DefaultEventLoopPolicy } from "@aio/loop";
   * using loop = new DefaultEventLoopPolicy().newEventLoop();
   * console.log(loop.isClosed()); // false
   * ```
   */
  newEventLoop(): AbstractEventLoop {
    const loop = this.#loopFactory();
    if (!hasMethods(loop, LOOP_METHODS)) {
      throw new TypeError(`loopFactory must return an event loop, returned ${describe(loop)}`);
    }
    return loop;
  }
}

/** The factory of a Windows-only policy: refuses elsewhere; `make` on Windows. */
function windowsOnly(policy: string, make: () => AbstractEventLoop): EventLoopFactory {
  return () => {
    if (OS_FAMILY !== "windows") {
      throw new Deno.errors.NotSupported(
        `${policy} makes Windows loops only, and this is ${PLATFORM}: ` +
          "use DefaultEventLoopPolicy (the default policy) instead",
      );
    }
    return make();
  };
}

/**
 * asyncio's `WindowsSelectorEventLoopPolicy`: its loops are
 * `SelectorEventLoop`s over `SelectSelector` (Winsock `select()`) on
 * Windows. The class exists on every platform; elsewhere than Windows its
 * `newEventLoop()` throws `Deno.errors.NotSupported` (use
 * `DefaultEventLoopPolicy`).
 *
 * @example
 * ```ts
 * import { WindowsSelectorEventLoopPolicy } from "@aio/loop";
 * const policy = new WindowsSelectorEventLoopPolicy();
 * if (Deno.build.os === "windows") {
 *   using loop = policy.newEventLoop();
 *   console.log(loop.constructor.name); // "WindowsSelectorEventLoop"
 * }
 * ```
 */
export class WindowsSelectorEventLoopPolicy extends DefaultEventLoopPolicy {
  /** Makes the policy; its `newEventLoop()` makes a `WindowsSelectorEventLoop`. */
  constructor() {
    super({
      loopFactory: windowsOnly(
        "WindowsSelectorEventLoopPolicy",
        () => new WindowsSelectorEventLoop(),
      ),
    });
  }
}

/**
 * asyncio's `WindowsProactorEventLoopPolicy`: its loops are
 * `ProactorEventLoop`s (I/O completion ports) on Windows. The class exists
 * on every platform; elsewhere than Windows its `newEventLoop()` throws
 * `Deno.errors.NotSupported` (use `DefaultEventLoopPolicy`).
 *
 * @example
 * ```ts
 * import { WindowsProactorEventLoopPolicy } from "@aio/loop";
 * const policy = new WindowsProactorEventLoopPolicy();
 * if (Deno.build.os === "windows") {
 *   using loop = policy.newEventLoop();
 *   console.log(loop.constructor.name); // "ProactorEventLoop"
 * }
 * ```
 */
export class WindowsProactorEventLoopPolicy extends DefaultEventLoopPolicy {
  /** Makes the policy; its `newEventLoop()` makes a `ProactorEventLoop` on Windows. */
  constructor() {
    super({
      loopFactory: windowsOnly("WindowsProactorEventLoopPolicy", () => new ProactorEventLoop()),
    });
  }
}

// One per JS thread (module state is per Worker), as asyncio's is per process; made lazily.
let currentPolicy: AbstractEventLoopPolicy | null = null;

/**
 * The current policy; a `DefaultEventLoopPolicy` is made on first use and
 * after `setEventLoopPolicy(null)`.
 *
 * @example
 * ```ts
 * import { DefaultEventLoopPolicy, getEventLoopPolicy } from "@aio/loop";
 * console.log(getEventLoopPolicy() instanceof DefaultEventLoopPolicy); // true
 * ```
 */
export function getEventLoopPolicy(): AbstractEventLoopPolicy {
  return currentPolicy ??= new DefaultEventLoopPolicy();
}

/**
 * Replaces the current policy; `null` goes back to a new
 * `DefaultEventLoopPolicy`. Anything without the three policy methods
 * throws a `TypeError`.
 *
 * @example
 * ```ts
 * import {
 *   DefaultEventLoopPolicy,
 *   PollSelector,
 *   SelectorEventLoop,
 *   setEventLoopPolicy,
 * } from "@aio/loop";
 * const loopFactory = () => new SelectorEventLoop(new PollSelector());
 * setEventLoopPolicy(new DefaultEventLoopPolicy({ loopFactory }));
 * setEventLoopPolicy(null);
 * ```
 */
export function setEventLoopPolicy(policy: AbstractEventLoopPolicy | null): void {
  if (policy !== null && !hasMethods(policy, POLICY_METHODS)) {
    throw new TypeError(
      `policy must be an AbstractEventLoopPolicy or null, not ${describe(policy)}`,
    );
  }
  currentPolicy = policy;
}

/**
 * The running loop when called from a task or a callback; otherwise the
 * current policy's loop, set with `setEventLoop()`. With neither it throws
 * an `Error` (Python 3.14's behaviour): it never makes a loop.
 *
 * @example
 * ```ts
 * import { getEventLoop, run } from "@aio/loop";
 * await run(async () => {
 *   const loop = getEventLoop(); // the loop run() made
 *   loop.callSoon(() => console.log("called soon"));
 * });
 * ```
 */
export function getEventLoop(): AbstractEventLoop {
  return _getRunningLoop() ?? getEventLoopPolicy().getEventLoop();
}

/**
 * Makes `loop` the current loop of the current policy; `null` clears it.
 *
 * @example
 * ```ts
 * import { getEventLoop, newEventLoop, setEventLoop } from "@aio/loop";
 * using loop = newEventLoop();
 * setEventLoop(loop);
 * console.log(getEventLoop() === loop); // true
 * setEventLoop(null);
 * ```
 */
export function setEventLoop(loop: AbstractEventLoop | null): void {
  // Checked here too, so a lenient custom policy never stores a non-loop.
  checkLoopOrNull(loop, "setEventLoop() loop");
  getEventLoopPolicy().setEventLoop(loop);
}

/**
 * Makes a new loop with the current policy; it does not become the
 * current loop.
 *
 * @example
 * ```ts
 * import { newEventLoop } from "@aio/loop";
 * using loop = newEventLoop();
 * console.log(await loop.runUntilComplete(async () => 42)); // 42
 * ```
 */
export function newEventLoop(): AbstractEventLoop {
  return getEventLoopPolicy().newEventLoop();
}
