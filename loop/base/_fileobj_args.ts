/**
 * The argument checks of `addReader`/`addWriter`/`removeReader`/
 * `removeWriter`, shared by the selector and proactor loops so that their
 * errors read the same.
 *
 * @module
 */
import { describe } from "../../ffi/sys.ts";
import { fileobjToFd } from "../../selectors/base_selector.ts";
import type { FileObj } from "../../selectors/mod.ts";

/**
 * The fd of `fileobj`, checked before the loop looks at any map (asyncio's
 * `_ensure_fd_no_transport` raises `ValueError` first too): the selector's
 * own check, reworded to name the method; a `RangeError` for an integer out
 * of range, a `TypeError` for anything else.
 */
export function fdOf(fileobj: unknown, method: string): number {
  try {
    return fileobjToFd(fileobj as FileObj);
  } catch (e) {
    throw badFileobj(e, method);
  }
}

/** The error for a `fileobj` whose fd could not be had (`e`, from `fileobjToFd`). */
export function badFileobj(e: unknown, method: string): TypeError | RangeError {
  let why: string;
  try {
    why = e instanceof Error ? e.message : String(e);
  } catch {
    why = "not a file descriptor";
  }
  return new (e instanceof RangeError ? RangeError : TypeError)(
    `${method}(): invalid fileobj: ${why}`,
    { cause: e },
  );
}

/** Throws a `TypeError` naming `method` unless `callback` is a function. */
export function checkHandler(callback: unknown, method: string): void {
  if (typeof callback !== "function") {
    throw new TypeError(
      `${method}(): callback must be a callable object, got ${describe(callback)}`,
    );
  }
}

/** Whether `v` can be found by identity (an object or a function). */
export const isObject = (v: unknown): v is object =>
  v !== null && (typeof v === "object" || typeof v === "function");
