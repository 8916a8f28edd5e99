/**
 * `waitpid(pid, WNOHANG)` on one child and the decoding of its wait status.
 * Only ever called with the pid of a child this module started: a pid of
 * -1 or 0 would reap children that belong to Deno (`Deno.Command`).
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { OS } from "./_abi.ts";
import { E, osError } from "./errno.ts";
import { errno, LIBC_PATH } from "./libc.ts";

const SYMBOLS = {
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
} as const;

const sys = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: OS !== "windows",
  unsupported: "waitpid is a Unix call; on windows wait on the process handle instead",
});

/** `WNOHANG`: the same value on Linux and macOS. */
export const WNOHANG = 1;

/** How a child ended, decoded from its wait status (asyncio's `returncode` included). */
export interface ChildExit {
  /** The child's pid. */
  pid: number;
  /** The exit code, or `-N` when signal `N` killed the child (asyncio's convention). */
  returncode: number;
  /** The exit code when the child exited, else `null`. */
  exitCode: number | null;
  /** The number of the signal that killed the child, else `null`. */
  signal: number | null;
  /** Whether the killed child dumped core. */
  coreDumped: boolean;
}

/**
 * Decodes a `waitpid` status (WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG,
 * WCOREDUMP: the same bits on Linux and macOS). Returns `null` for a stopped
 * or continued child, which is not an exit.
 *
 * @example
 * ```ts ignore
 * decodeWaitStatus(1234, 3 << 8); // { pid: 1234, returncode: 3, exitCode: 3, signal: null, ... }
 * decodeWaitStatus(1234, 9); // { pid: 1234, returncode: -9, exitCode: null, signal: 9, ... }
 * ```
 */
export function decodeWaitStatus(pid: number, status: number): ChildExit | null {
  const low = status & 0x7f;
  if (low === 0) {
    const code = (status >> 8) & 0xff;
    return { pid, returncode: code, exitCode: code, signal: null, coreDumped: false };
  }
  if (low === 0x7f || status === 0xffff) return null; // stopped, or continued
  return { pid, returncode: -low, exitCode: null, signal: low, coreDumped: (status & 0x80) !== 0 };
}

const statusBuf = new Int32Array(new ArrayBuffer(4));

/**
 * `waitpid(pid, WNOHANG)` for one child this process started: its exit,
 * reaped, or `null` while it runs. A pid that is not (or no longer) our
 * child throws the ECHILD error.
 *
 * @example
 * ```ts ignore
 * const exit = waitpidNoHang(pid);
 * if (exit !== null) console.log(exit.returncode);
 * ```
 */
export function waitpidNoHang(pid: number): ChildExit | null {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw new RangeError(`pid must be a positive integer (one child's pid), got ${pid}`);
  }
  for (;;) {
    statusBuf[0] = 0;
    const r = sys().waitpid(pid, statusBuf, WNOHANG);
    if (r === pid) return decodeWaitStatus(pid, statusBuf[0]);
    if (r === 0) return null;
    const e = errno();
    if (e !== E.EINTR) throw osError(e, "waitpid", `pid ${pid}`);
  }
}
