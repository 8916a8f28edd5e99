/**
 * asyncio's `subprocess.PIPE`, `DEVNULL` and `STDOUT`: how a child's
 * standard stream is set up. They are the strings the spawn options take,
 * so `stdout: PIPE` and `stdout: "pipe"` are the same.
 *
 * @module
 */

/**
 * A new pipe between the loop and the child (asyncio's `subprocess.PIPE`).
 *
 * @example
 * ```ts ignore
 * const proc = await createSubprocessExec(["ls"], { stdout: PIPE });
 * ```
 */
export const PIPE = "pipe" as const;

/**
 * `/dev/null` (asyncio's `subprocess.DEVNULL`).
 *
 * @example
 * ```ts ignore
 * const proc = await createSubprocessExec(["make"], { stdout: DEVNULL });
 * ```
 */
export const DEVNULL = "null" as const;

/**
 * For `stderr` only: the child's stderr goes where its stdout goes
 * (asyncio's `subprocess.STDOUT`).
 *
 * @example
 * ```ts ignore
 * const proc = await createSubprocessExec(["make"], { stdout: PIPE, stderr: STDOUT });
 * ```
 */
export const STDOUT = "stdout" as const;
