/**
 * `staggeredRace`: asyncio's `staggered.staggered_race`, the engine of
 * Happy Eyeballs (RFC 8305). Attempts start one after another: the next one
 * when the latest fails, or when `delayMs` passed since it started; the
 * first to succeed wins and the others are aborted.
 *
 * @module
 */
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { TimerHandle } from "../handle.ts";
import type { CancelledError } from "../errors.ts";
import { cancelledError } from "../_signal.ts";

/** One attempt: given a signal that aborts when another attempt won. */
export type StaggeredAttempt<T> = (signal: AbortSignal) => Promise<T>;

/** What `staggeredRace` resolves to (asyncio's `(winner_result, winner_index, exceptions)`). */
export interface StaggeredResult<T> {
  /** The winner's result, or `undefined` when every attempt failed. */
  result: T | undefined;
  /** The winner's index, or -1. */
  index: number;
  /** Per started attempt, its error (`undefined` for the winner and the aborted). */
  errors: unknown[];
}

/** Options of {@linkcode staggeredRace}. */
export interface StaggeredOptions<T> {
  /** Aborting it aborts every attempt; the race rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Gets the result of an attempt that succeeded after another had won (to close it). */
  discard?: (result: T) => void;
}

/**
 * Runs `attempts` staggered by `delayMs` (ms) on `loop`'s clock. Resolves
 * once a winner is known and every other started attempt has settled.
 */
export function staggeredRace<T>(
  loop: Pick<AbstractEventLoop, "callLater">,
  attempts: readonly StaggeredAttempt<T>[],
  delayMs: number,
  options: StaggeredOptions<T> = {},
): Promise<StaggeredResult<T>> {
  const { signal, discard } = options;
  const n = attempts.length;
  const errors: unknown[] = [];
  const controllers: AbortController[] = [];
  const out: StaggeredResult<T> = { result: undefined, index: -1, errors };
  const { promise, resolve, reject } = Promise.withResolvers<StaggeredResult<T>>();
  let started = 0, running = 0, decided = false;
  let timer: TimerHandle | null = null;
  let cancelled: CancelledError | null = null;

  const settleIfDone = (): void => {
    if (!decided || running !== 0) return;
    signal?.removeEventListener("abort", onAbort);
    if (cancelled !== null) reject(cancelled);
    else resolve(out);
  };
  const decide = (): void => {
    decided = true;
    timer?.cancel();
    timer = null;
    for (let i = 0; i < controllers.length; i++) if (i !== out.index) controllers[i].abort();
  };
  const startNext = (): void => {
    timer?.cancel();
    timer = null;
    if (decided || started >= n) return;
    const i = started++;
    const ac = new AbortController();
    controllers.push(ac);
    errors.push(undefined);
    running++;
    if (started < n) timer = loop.callLater(delayMs, startNext);
    let p: Promise<T>;
    try {
      p = Promise.resolve(attempts[i](ac.signal));
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then((value) => {
      running--;
      if (decided) discard?.(value);
      else {
        out.result = value;
        out.index = i;
        decide();
      }
      settleIfDone();
    }, (e) => {
      running--;
      if (!ac.signal.aborted) errors[i] = e;
      if (!decided) {
        if (i === started - 1 && started < n) startNext(); // the latest failed: go on now
        else if (running === 0 && started >= n) decided = true;
      }
      settleIfDone();
    });
  };
  const onAbort = (): void => {
    cancelled = cancelledError(signal!, "staggeredRace()");
    decide();
    settleIfDone();
  };

  if (signal?.aborted) return Promise.reject(cancelledError(signal, "staggeredRace()"));
  signal?.addEventListener("abort", onAbort);
  if (n === 0) decided = true;
  else startNext();
  settleIfDone();
  return promise;
}
