/**
 * The options of `subprocessExec()`/`subprocessShell()` (asyncio's keyword
 * arguments of `subprocess_exec`, in camelCase).
 *
 * @module
 */

/**
 * How a child's standard stream is set up: `"pipe"` (`PIPE`), `"inherit"`,
 * `"null"` (`DEVNULL`) or an open fd of this process.
 */
export type SubprocessStdio = "pipe" | "inherit" | "null" | number;

/**
 * Options of `subprocessExec()` and `subprocessShell()` (asyncio's keyword
 * arguments of `subprocess_exec`, in camelCase).
 *
 * @example
 * ```ts ignore
 * const options: SubprocessOptions = { stdin: DEVNULL, stdout: PIPE, stderr: STDOUT, cwd: "/tmp" };
 * ```
 */
export interface SubprocessOptions {
  /** The child's stdin: default `"pipe"` at the loop level (asyncio's default). */
  stdin?: SubprocessStdio;
  /** The child's stdout: default `"pipe"`. */
  stdout?: SubprocessStdio;
  /** The child's stderr, or `"stdout"` (`STDOUT`) to merge it into stdout: default `"pipe"`. */
  stderr?: SubprocessStdio | "stdout";
  /** The child's working directory. */
  cwd?: string;
  /** The child's whole environment (a record or `"KEY=value"` strings); default: ours. */
  env?: Readonly<Record<string, string>> | readonly string[];
  /** The child's `argv[0]` when it should differ from the program (`args[0]`). */
  argv0?: string;
  /** Starts the child in a new session (`setsid`; Python's `start_new_session`). */
  startNewSession?: boolean;
  /** Puts the child in process group `processGroup`; 0 makes a new group (Python 3.11+). */
  processGroup?: number;
  /** Closes every fd but 0, 1 and 2 in the child; default `true` (Python's `close_fds`). */
  closeFds?: boolean;
}
