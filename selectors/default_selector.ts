/**
 * `DefaultSelector`: the best selector that really works here, found by
 * creating each backend in turn, as CPython does: kqueue, epoll, poll, select.
 *
 * @module
 */
import { HAS_EPOLL, HAS_KQUEUE, OS_FAMILY, PLATFORM } from "../ffi/sys.ts";
import type { BaseSelector } from "./base_selector.ts";
import { EpollSelector } from "./epoll_selector.ts";
import { KqueueSelector } from "./kqueue_selector.ts";
import { PollSelector } from "./poll_selector.ts";
import { SelectSelector } from "./platform_select_selector.ts";

/**
 * One candidate tried by the probe.
 *
 * @example
 * ```ts
 * import { probeDefaultSelector } from "@aio/loop";
 * for (const c of probeDefaultSelector().tried) console.log(c.name, c.ok, c.reason);
 * ```
 */
export interface SelectorCandidate {
  /** The class name, such as `"EpollSelector"`. */
  name: string;
  /** Whether an instance could be made and closed. */
  ok: boolean;
  /** Why it was skipped or failed; empty for the chosen one. */
  reason: string;
}

/**
 * What the probe found: the chosen class and every candidate tried.
 *
 * @example
 * ```ts
 * import { probeDefaultSelector } from "@aio/loop";
 * console.log(probeDefaultSelector().chosen.name);
 * ```
 */
export interface DefaultSelectorProbe {
  /** The class `new DefaultSelector()` makes. */
  chosen: new () => BaseSelector;
  /** Each candidate in order, with its outcome. */
  tried: SelectorCandidate[];
}

let probe: DefaultSelectorProbe | undefined;

/**
 * Finds, once, the best selector this machine really supports.
 *
 * @example
 * ```ts
 * import { probeDefaultSelector } from "@aio/loop";
 * const { chosen, tried } = probeDefaultSelector();
 * console.log(`DefaultSelector is ${chosen.name}`, tried);
 * ```
 */
export function probeDefaultSelector(): DefaultSelectorProbe {
  if (probe) return probe;
  const candidates: Array<[new () => BaseSelector, string | null]> = [
    [KqueueSelector, HAS_KQUEUE ? null : `no kqueue on ${PLATFORM}`],
    [EpollSelector, HAS_EPOLL ? null : `no epoll on ${PLATFORM}`],
    [
      PollSelector,
      OS_FAMILY === "windows"
        ? "no poll() on windows (WSAPoll misses failed connects; CPython does not use it)"
        : null,
    ],
    [SelectSelector, null],
  ];
  const tried: SelectorCandidate[] = [];
  for (const [cls, skip] of candidates) {
    if (skip !== null) {
      tried.push({ name: cls.name, ok: false, reason: skip });
      continue;
    }
    try {
      new cls().close();
      tried.push({ name: cls.name, ok: true, reason: "" });
      return probe = { chosen: cls, tried };
    } catch (e) {
      tried.push({ name: cls.name, ok: false, reason: String((e as Error)?.message ?? e) });
    }
  }
  throw new Deno.errors.NotSupported(
    `no selector works on ${PLATFORM}: ${tried.map((t) => `${t.name}: ${t.reason}`).join("; ")}`,
  );
}

/**
 * The constructor type of `DefaultSelector`.
 *
 * @example
 * ```ts
 * import { DefaultSelector, type DefaultSelectorConstructor } from "@aio/loop";
 * const ctor: DefaultSelectorConstructor = DefaultSelector;
 * ```
 */
export interface DefaultSelectorConstructor {
  /** Makes an instance of the probed class (`instanceof EpollSelector` on Linux). */
  new (): BaseSelector;
}

/**
 * The best selector for this machine: `new DefaultSelector()` returns an
 * instance of the class `probeDefaultSelector()` chose.
 *
 * @example
 * ```ts
 * import { DefaultSelector, EVENT_READ } from "@aio/loop";
 * using sel = new DefaultSelector();
 * console.log(sel.name); // "epoll" on Linux, "kqueue" on macOS
 * ```
 */
export const DefaultSelector: DefaultSelectorConstructor =
  function DefaultSelector(): BaseSelector {
    return new (probeDefaultSelector().chosen)();
  } as unknown as DefaultSelectorConstructor;
