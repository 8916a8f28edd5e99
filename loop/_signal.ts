/**
 * The abort and cancel helpers the loop, its socket calls and the streams
 * share: tying a future to an AbortSignal (aborting cancels the future),
 * checking a signal argument, the `CancelledError` an abort rejects with,
 * and setting a result unless the future was cancelled.
 *
 * @module
 */
import { CancelledError } from "./errors.ts";
import type { Future } from "./future.ts";

/** The message to cancel with when `signal` aborted with `reason`. */
export function abortMessage(reason: unknown): string | undefined {
  if (reason instanceof CancelledError) return reason.cancelMessage || undefined;
  return undefined;
}

/**
 * The `CancelledError` that `what` (`"sockRecv()"`, say) rejects with when
 * `signal` aborted: the abort's cancel message if it had one, its reason as
 * the cause.
 */
export function cancelledError(signal: AbortSignal, what: string): CancelledError {
  return new CancelledError(abortMessage(signal.reason), { cause: signal.reason, what });
}

/** Throws `TypeError` unless `signal` is undefined or an AbortSignal; returns it. */
export function checkSignal(signal: unknown, fn: string): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${fn}() options.signal must be an AbortSignal, got ${typeof signal}`);
  }
  return signal;
}

/** Sets `value` as the result of `fut` unless it was cancelled (a timer's or `callSoon()`'s callback). */
export function setResultUnlessCancelled<T>(fut: Future<T>, value: T): void {
  if (!fut.cancelled()) fut.setResult(value);
}

/**
 * Cancels `fut` when `signal` aborts (at once if it already has), and stops
 * listening once `fut` is done.
 */
export function cancelOnAbort(fut: Future<unknown>, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    fut.cancel(abortMessage(signal.reason));
    return;
  }
  const onAbort = () => fut.cancel(abortMessage(signal.reason));
  signal.addEventListener("abort", onAbort, { once: true });
  fut.addDoneCallback(() => signal.removeEventListener("abort", onAbort));
}
