/**
 * Signal handlers of a loop (asyncio's `add_signal_handler`), built on
 * `Deno.addSignalListener`: a signal queues its callback on the loop as
 * `callSoonThreadsafe()` does, waking the loop if it is parked.
 *
 * @module
 */
import { notSupported } from "../_platform_table.ts";
import { OS_FAMILY, PLATFORM } from "../../ffi/sys.ts";
import { SIGNAL_NUMBERS } from "../../ffi/unix/signals.ts";
import type { Callback } from "../handle.ts";

/** What a `SignalHandlers` needs of its loop. */
export interface SignalLoop {
  /** Queues `callback(...args)` and wakes the loop. */
  callSoonThreadsafe<A extends unknown[]>(callback: Callback<A>, ...args: A): unknown;
  /** Whether the loop is closed. */
  isClosed(): boolean;
}

const UNCATCHABLE = new Set(["SIGKILL", "SIGSTOP"]);
// Deno refuses to listen for these (a handler that returns would re-run the fault).
const DENO_REFUSES = new Set(["SIGILL", "SIGFPE", "SIGSEGV"]);

/**
 * The signal names `addSignalHandler()` accepts on this OS, as Python's
 * `signal.valid_signals()` minus what cannot be caught (SIGKILL, SIGSTOP)
 * and what Deno refuses (SIGILL, SIGFPE, SIGSEGV). Empty on Windows.
 *
 * @example
 * ```ts
 * import { validSignals } from "@aio/loop/unix";
 * console.log(validSignals().includes("SIGUSR1")); // true on Linux and macOS
 * ```
 */
export function validSignals(): Deno.Signal[] {
  return Object.keys(SIGNAL_NUMBERS).filter((s) => !UNCATCHABLE.has(s) && !DENO_REFUSES.has(s))
    .sort() as Deno.Signal[];
}

function checkPlatform(method: string): void {
  if (OS_FAMILY === "windows") {
    throw notSupported(method, "UnixSelectorEventLoop");
  }
}

/** Checks that `sig` names a signal a handler can be set for; returns it. */
export function checkSignalName(sig: unknown, method: string): Deno.Signal {
  if (UNCATCHABLE.has(sig as string)) {
    throw new Deno.errors.NotSupported(`${method}(): ${sig} cannot be caught`);
  }
  if (DENO_REFUSES.has(sig as string)) {
    throw new Deno.errors.NotSupported(
      `${method}(): Deno does not allow listening for ${sig} (a synchronous fault signal)`,
    );
  }
  return knownSignal(sig, method);
}

// `sig` as the name of a signal this OS has (Python's `valid_signals()`, SIGKILL included).
function knownSignal(sig: unknown, method: string): Deno.Signal {
  if (typeof sig !== "string") {
    throw new TypeError(`${method}() takes a signal name such as "SIGUSR1", got ${typeof sig}`);
  }
  if (!Object.hasOwn(SIGNAL_NUMBERS, sig)) {
    throw new RangeError(
      `${method}(): unknown signal ${JSON.stringify(sig)} on ${PLATFORM}; valid signals: ${
        validSignals().join(", ")
      }`,
    );
  }
  return sig as Deno.Signal;
}

function isAsyncFunction(fn: Callback): boolean {
  const tag = (fn as unknown as Record<symbol, unknown>)[Symbol.toStringTag];
  const ctor = fn.constructor?.name;
  return tag === "AsyncFunction" || tag === "AsyncGeneratorFunction" ||
    ctor === "AsyncFunction" || ctor === "AsyncGeneratorFunction";
}

/**
 * The signal handlers of one loop: at most one per signal, each a Deno
 * signal listener that queues the callback on the loop. `clear()` removes
 * them all (the loop calls it from `close()`).
 *
 * @example
 * ```ts
 * import { SelectorEventLoop } from "@aio/loop";
 * import { SignalHandlers } from "./signal_handlers.ts";
 * using loop = new SelectorEventLoop();
 * const handlers = new SignalHandlers(loop);
 * if (Deno.build.os !== "windows") {
 *   handlers.add("SIGUSR1", () => console.log("got SIGUSR1"), []);
 *   handlers.clear();
 * }
 * ```
 */
export class SignalHandlers {
  #loop: SignalLoop;
  #listeners = new Map<Deno.Signal, () => void>();

  /** Makes an empty set of handlers for `loop`. */
  constructor(loop: SignalLoop) {
    this.#loop = loop;
  }

  /** How many signals have a handler. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Sets `callback(...args)` as the handler of `sig`, replacing an earlier one. */
  add(sig: Deno.Signal, callback: Callback, args: unknown[]): void {
    checkPlatform("addSignalHandler");
    const name = checkSignalName(sig, "addSignalHandler");
    if (typeof callback !== "function") {
      throw new TypeError(
        `a callable object was expected by addSignalHandler(), got ${typeof callback}`,
      );
    }
    if (isAsyncFunction(callback)) {
      throw new TypeError(
        "coroutines cannot be used with addSignalHandler(): pass a plain function that calls loop.createTask()",
      );
    }
    if (this.#loop.isClosed()) throw new Error("Event loop is closed");
    const loop = this.#loop;
    const listener = (): void => {
      loop.callSoonThreadsafe(callback, ...args);
    };
    // The new listener goes in before the old one leaves: with no listener
    // at all, Deno restores the default action and the signal could kill us.
    Deno.addSignalListener(name, listener);
    const old = this.#listeners.get(name);
    this.#listeners.set(name, listener);
    if (old !== undefined) Deno.removeSignalListener(name, old);
  }

  /**
   * Removes the handler of `sig`; returns whether there was one (`false`
   * for a signal that can have none, such as SIGKILL, as asyncio).
   */
  remove(sig: Deno.Signal): boolean {
    checkPlatform("removeSignalHandler");
    const name = knownSignal(sig, "removeSignalHandler");
    const listener = this.#listeners.get(name);
    if (listener === undefined) return false;
    this.#listeners.delete(name);
    Deno.removeSignalListener(name, listener);
    return true;
  }

  /** Removes every handler. */
  clear(): void {
    for (const [name, listener] of this.#listeners) Deno.removeSignalListener(name, listener);
    this.#listeners.clear();
  }
}
