/**
 * The argument checks every loop method that takes a protocol factory and
 * an options object makes, so that each says the same thing.
 *
 * @module
 */
import { describe } from "../ffi/os_error.ts";

/** Throws `TypeError` unless `protocolFactory` is a function; `what` is e.g. `"createServer()"`. */
export function checkFactory(protocolFactory: unknown, what: string): void {
  if (typeof protocolFactory !== "function") {
    throw new TypeError(
      `${what}: protocolFactory must be a function, got ${describe(protocolFactory)}`,
    );
  }
}

/** Throws `TypeError` unless `options` is undefined or an object. */
export function checkOptions(options: unknown, what: string): void {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`${what}: options must be an object, got ${describe(options)}`);
  }
}

/** Throws `TypeError` unless `args` is a non-empty array of strings (`subprocessExec()`'s). */
export function checkArgv(args: unknown, what: string): void {
  if (!Array.isArray(args) || args.length === 0) {
    throw new TypeError(
      `${what}: args must be a non-empty array of strings (the program first), got ${
        describe(args)
      }`,
    );
  }
  args.forEach((a, i) => {
    if (typeof a !== "string") {
      throw new TypeError(`${what}: args[${i}] must be a string, got ${describe(a)}`);
    }
  });
}
