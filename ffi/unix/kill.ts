/**
 * `kill(2)`: sends a signal to one process by pid, with no `--allow-run`
 * (`Deno.kill` needs it). Only ever called with the pid of a child this
 * module started and has not reaped yet, so the pid cannot have been reused.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { OS } from "./_abi.ts";
import { osError } from "./errno.ts";
import { errno, LIBC_PATH } from "./libc.ts";

const SYMBOLS = { kill: { parameters: ["i32", "i32"], result: "i32" } } as const;

const symbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: OS !== "windows",
  unsupported: "kill(2) is a Unix call; on windows use Deno.kill()",
});

/**
 * `kill(pid, signal)` for one process (`pid > 0`; groups and -1 are
 * refused). A process that is gone throws an `Error` whose `code` is
 * `"ESRCH"` (Python's `ProcessLookupError`).
 *
 * @example
 * ```ts ignore
 * killProcess(child.pid, 15); // SIGTERM
 * ```
 */
export function killProcess(pid: number, signal: number): void {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw new RangeError(`pid must be a positive integer (one process), got ${pid}`);
  }
  if (!Number.isInteger(signal) || signal < 0 || signal > 64) {
    throw new RangeError(`signal must be a signal number (0-64), got ${signal}`);
  }
  if (symbols().kill(pid, signal) < 0) {
    throw osError(errno(), "kill", `pid ${pid}, signal ${signal}`);
  }
}
