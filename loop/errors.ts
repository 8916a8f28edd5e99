/**
 * asyncio's own exceptions, under their Python names.
 *
 * @module
 */

/**
 * The operation was cancelled: what a cancelled `Future` or `Task` rejects
 * with, and what `Task.cancel()` aborts the task's signal with. Without a
 * message given to `cancel()`, the message says what was cancelled
 * ("Task-3 was cancelled"); `cancelMessage` tells the two apart.
 *
 * @example
 * ```ts
 * import { CancelledError } from "@aio/loop";
 * const e = new CancelledError("shutting down");
 * console.log(e.name, e.message); // CancelledError shutting down
 * const d = new CancelledError(undefined, { what: "sockRecv()" });
 * console.log(d.message, d.cancelMessage); // sockRecv() was cancelled undefined
 * ```
 */
export class CancelledError extends Error {
  /**
   * The message given to `cancel()` (asyncio's `args[0]`), or `undefined`
   * when none was and `message` only says what was cancelled.
   */
  readonly cancelMessage: string | undefined;

  /**
   * Makes a cancellation error; `message` is the message given to
   * `cancel()`. Without one, the message is "`options.what` was cancelled"
   * ("The operation was cancelled" without `what`).
   */
  constructor(message?: string, options?: ErrorOptions & { what?: string }) {
    super(message ?? `${options?.what ?? "The operation"} was cancelled`, options);
    this.name = "CancelledError";
    this.cancelMessage = message;
  }
}

/**
 * A `Future` was used in a state that does not allow it: `result()` of a
 * pending future, `setResult()` of a done one.
 *
 * @example
 * ```ts
 * import { InvalidStateError } from "@aio/loop";
 * const err = new InvalidStateError("Result is not ready.");
 * console.log(err.name); // "InvalidStateError"
 * ```
 */
export class InvalidStateError extends Error {
  /** Makes the error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "", options);
    this.name = "InvalidStateError";
  }
}

/**
 * A deadline passed: thrown by `waitFor()` and `timeout()` (Python's
 * built-in `TimeoutError`, which `asyncio.TimeoutError` aliases).
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@aio/loop";
 * const e = new TimeoutError();
 * console.log(e.name); // TimeoutError
 * ```
 */
export class TimeoutError extends Error {
  /** Makes the error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "", options);
    this.name = "TimeoutError";
  }
}

/**
 * The stream ended before `expected` bytes were read; `partial` holds what was.
 *
 * @example
 * ```ts
 * import { IncompleteReadError } from "@aio/loop";
 * const e = new IncompleteReadError(new Uint8Array(2), 10);
 * console.log(e.message); // 2 bytes read on a total of 10 expected bytes
 * ```
 */
export class IncompleteReadError extends Error {
  /** The bytes read before the end of the stream. */
  readonly partial: Uint8Array;
  /** The byte count that was asked for, or `null` when reading until a separator. */
  readonly expected: number | null;

  /** Makes the error for `partial` out of `expected` bytes. */
  constructor(partial: Uint8Array, expected: number | null) {
    super(
      `${partial.byteLength} bytes read on a total of ` +
        `${expected === null ? "undefined" : expected} expected bytes`,
    );
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * A buffer limit was reached while looking for a separator; `consumed` is
 * how many bytes may be dropped.
 *
 * @example
 * ```ts
 * import { LimitOverrunError } from "@aio/loop";
 * const e = new LimitOverrunError("Separator is not found, and chunk exceed the limit", 65536);
 * console.log(e.consumed); // 65536
 * ```
 */
export class LimitOverrunError extends Error {
  /** The number of bytes to be consumed. */
  readonly consumed: number;

  /** Makes the error. */
  constructor(message: string, consumed: number) {
    super(message);
    this.name = "LimitOverrunError";
    this.consumed = consumed;
  }
}
