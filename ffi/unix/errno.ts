/**
 * errno for this OS: names and numbers (the tables are in `./_abi_*.ts`),
 * and the conversion of a failed call into the matching `Deno.errors` class
 * carrying `code`, `errno` and `syscall` (built by `../os_error.ts`).
 *
 * @module
 */
import { makeOSError, type OSError } from "../os_error.ts";
import { ABI } from "./_abi.ts";

export type { OSError } from "../os_error.ts";

/** errno numbers of the running OS, by name (`E.EAGAIN`, `E.EBADF`, ...), aliases included. */
export const E: Readonly<Record<string, number>> = ABI.errno;

/**
 * The second names of this OS's errno numbers (`EWOULDBLOCK`), each with the
 * name an error carries instead (`EAGAIN`).
 *
 * @example
 * ```ts
 * import { E, ERRNO_ALIASES, errnoName } from "./errno.ts";
 * console.log(ERRNO_ALIASES.EWOULDBLOCK, errnoName(E.EWOULDBLOCK)); // "EAGAIN" "EAGAIN"
 * ```
 */
export const ERRNO_ALIASES: Readonly<Record<string, string>> = ABI.errnoAliases;

// One name per number: an alias never names an error, so `code` is the same
// whichever name the C headers used at the failing call.
const NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(E)) {
  if (!Object.hasOwn(ERRNO_ALIASES, name) && !NAMES.has(num)) NAMES.set(num, name);
}

/**
 * The symbolic name of errno `n` on this OS (`"ECONNREFUSED"`), or `"E<n>"`
 * for a number the OS does not define (Linux has holes at 41 and 58).
 */
export function errnoName(n: number): string {
  return NAMES.get(n) ?? `E${n}`;
}

/**
 * Builds the error for errno `errno` from the call `syscall`; `detail` (such
 * as `"fd 7"`) goes into the message.
 */
export function osError(errno: number, syscall: string, detail?: string): OSError {
  return makeOSError(errnoName(errno), errno, syscall, detail);
}
