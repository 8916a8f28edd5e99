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

/** errno numbers of the running OS, by name (`E.EAGAIN`, `E.EBADF`, ...). */
export const E: Readonly<Record<string, number>> = ABI.errno;

const NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(E)) if (!NAMES.has(num)) NAMES.set(num, name);

/** The symbolic name of errno `n` on this OS, or `"E<n>"` when unknown. */
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
