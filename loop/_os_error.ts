/**
 * Helpers for the connection and server calls' errors.
 *
 * @module
 */
import { rewordError } from "../ffi/os_error.ts";

/**
 * An error of the same class as `e` (keeping `code`, `errno` and `syscall`)
 * with `message`, and `e` as its cause (`ffi/os_error.ts`).
 */
export { rewordError };

/** The message of `e`, lower-cased as asyncio's `str(exc).lower()`. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * What a failed `createConnection` throws, as asyncio: the one error; or the
 * first when all have the same message; or one error saying "Multiple
 * exceptions: ..." (of the errors' class when they share one, with `cause`
 * an `AggregateError` of them all). `allErrors` gives the `AggregateError`.
 */
export function connectionFailure(errors: unknown[], allErrors: boolean): unknown {
  if (allErrors) return new AggregateError(errors, "createConnection failed");
  if (errors.length === 1) return errors[0];
  const first = errorText(errors[0]);
  if (errors.every((e) => errorText(e) === first)) return errors[0];
  const message = `Multiple exceptions: ${errors.map(errorText).join(", ")}`;
  const ctor = (errors[0] as Error)?.constructor;
  const same = errors.every((e) => (e as Error)?.constructor === ctor);
  const out = same ? rewordError(errors[0], message) : new Error(message);
  (out as Error).cause = new AggregateError(errors, message);
  return out;
}
