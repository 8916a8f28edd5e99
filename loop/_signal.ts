/**
 * Ties a future to an AbortSignal: aborting cancels the future.
 *
 * @module
 */
import { CancelledError } from "./errors.ts";
import type { Future } from "./future.ts";

/** The message to cancel with when `signal` aborted with `reason`. */
export function abortMessage(reason: unknown): string | undefined {
  if (reason instanceof CancelledError) return reason.message || undefined;
  return undefined;
}

/** Throws `TypeError` unless `signal` is undefined or an AbortSignal. */
export function checkSignal(signal: unknown, fn: string): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${fn}() options.signal must be an AbortSignal, got ${typeof signal}`);
  }
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
