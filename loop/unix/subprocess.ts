/**
 * `subprocessExec` and `subprocessShell` (asyncio's
 * `loop.subprocess_exec()`/`subprocess_shell()`) for the Unix loops, and
 * the process-wide child watcher the policy's `getChildWatcher()` and
 * `setChildWatcher()` manage.
 *
 * Children are started with `posix_spawnp` (never `fork()`, which is unsafe
 * in a multi-threaded V8 process); their pipes become pipe transports, and a
 * child watcher reports their exit.
 *
 * @module
 */
import { OS_FAMILY, PLATFORM } from "../../ffi/sys.ts";
import { describe } from "../../ffi/unix/libc.ts";
import { pidfdSupport } from "../../ffi/linux/pidfd.ts";
import { type SpawnOptions, spawnProcess } from "../../ffi/unix/spawn.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import { UnixSubprocessTransport } from "./subprocess_transport.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { SubprocessOptions } from "../subprocess_options.ts";
import { notSupported } from "../_platform_table.ts";
import type { AbstractChildWatcher, ChildWatcherLoop } from "./child_watcher.ts";
import { KqueueChildWatcher } from "./kqueue_child_watcher.ts";
import { PidfdChildWatcher } from "./pidfd_child_watcher.ts";
import { SigchldChildWatcher } from "./sigchld_child_watcher.ts";
import { checkArgv, checkFactory } from "../_check.ts";

/** The loop a subprocess needs: any `AbstractEventLoop` with pipes (a `SelectorEventLoop`). */
export type SubprocessLoop = AbstractEventLoop;

const OPTION_NAMES = new Set([
  "stdin",
  "stdout",
  "stderr",
  "cwd",
  "env",
  "argv0",
  "startNewSession",
  "processGroup",
  "closeFds",
]);

function checkUnix(method: string): void {
  if (OS_FAMILY === "windows") {
    throw notSupported(method, "UnixSelectorEventLoop");
  }
}

function spawnOptions(options: SubprocessOptions | undefined, method: string): SpawnOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${method}() options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) {
      throw new TypeError(
        `${method}(): unknown option ${JSON.stringify(key)} (known: ${
          [...OPTION_NAMES].join(", ")
        })`,
      );
    }
  }
  const { startNewSession, processGroup, closeFds } = options;
  for (const [name, v] of [["startNewSession", startNewSession], ["closeFds", closeFds]]) {
    if (v !== undefined && typeof v !== "boolean") {
      throw new TypeError(`${method}(): options.${name} must be a boolean, got ${describe(v)}`);
    }
  }
  return {
    stdin: options.stdin ?? "pipe",
    stdout: options.stdout ?? "pipe",
    stderr: options.stderr ?? "pipe",
    cwd: options.cwd,
    env: options.env,
    argv0: options.argv0,
    setsid: startNewSession,
    pgroup: processGroup,
    closeOtherFds: closeFds,
  };
}

/** Spawns `args` and wraps the child; resolves once `connectionMade()` is scheduled. */
async function start<P extends SubprocessProtocol>(
  loop: SubprocessLoop,
  protocolFactory: () => P,
  args: readonly string[],
  spawn: SpawnOptions,
): Promise<[UnixSubprocessTransport, P]> {
  if (loop.isClosed()) throw new Error("Event loop is closed");
  const protocol = protocolFactory();
  const watcher = _currentChildWatcher();
  const child = spawnProcess(args, spawn); // NotFound/PermissionDenied naming the program
  usedWatchers.add(watcher);
  const waiter = loop.createFuture<void>();
  const transport = new UnixSubprocessTransport(loop, protocol, child, { watcher, waiter });
  try {
    await waiter;
  } catch (e) {
    transport.close();
    await transport.wait();
    throw e;
  }
  return [transport, protocol];
}

/**
 * Starts `args[0]` (looked up in `PATH` unless it has a slash) with the
 * arguments `args`, and connects a protocol made by `protocolFactory`
 * (asyncio's `loop.subprocess_exec()`). Resolves to `[transport, protocol]`
 * once every pipe is connected. stdin, stdout and stderr are pipes unless
 * `options` says otherwise. A program that cannot be run rejects with
 * `Deno.errors.NotFound` or `PermissionDenied` naming it, leaving no
 * process and no fd behind.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await subprocessExec(loop, () => new MyProtocol(), ["ls", "-l"]);
 * ```
 */
export async function subprocessExec<P extends SubprocessProtocol>(
  loop: SubprocessLoop,
  protocolFactory: () => P,
  args: readonly string[],
  options?: SubprocessOptions,
): Promise<[UnixSubprocessTransport, P]> {
  checkUnix("subprocessExec");
  checkFactory(protocolFactory, "subprocessExec()");
  checkArgv(args, "subprocessExec()");
  return await start(loop, protocolFactory, args, spawnOptions(options, "subprocessExec"));
}

/**
 * Runs the shell command `cmd` with `/bin/sh -c` (asyncio's
 * `loop.subprocess_shell()`); otherwise as `subprocessExec()`. Quoting is
 * the caller's job: never pass unchecked input.
 *
 * @example
 * ```ts ignore
 * const [transport] = await subprocessShell(loop, () => new MyProtocol(), "ls -l | wc -l");
 * ```
 */
export async function subprocessShell<P extends SubprocessProtocol>(
  loop: SubprocessLoop,
  protocolFactory: () => P,
  cmd: string,
  options?: SubprocessOptions,
): Promise<[UnixSubprocessTransport, P]> {
  checkUnix("subprocessShell");
  checkFactory(protocolFactory, "subprocessShell()");
  if (typeof cmd !== "string") {
    throw new TypeError(`subprocessShell(): cmd must be a string, got ${describe(cmd)}`);
  }
  const spawn = spawnOptions(options, "subprocessShell");
  return await start(loop, protocolFactory, ["/bin/sh", "-c", cmd], spawn);
}

// ---- the child watcher ------------------------------------------------------------

let current: AbstractChildWatcher | null = null;
// Watchers that may still watch children of some loop (a replaced one keeps its children).
const usedWatchers = new Set<AbstractChildWatcher>();

/**
 * A new child watcher of the best kind for this machine: `PidfdChildWatcher`
 * where pidfds work (Linux ≥ 5.4), `KqueueChildWatcher` on macOS and the
 * BSDs, else `SigchldChildWatcher`. `NotSupported` on Windows.
 *
 * @example
 * ```ts ignore
 * console.log(defaultChildWatcher().name); // "pidfd" on a recent Linux
 * ```
 */
export function defaultChildWatcher(): AbstractChildWatcher {
  checkUnix("defaultChildWatcher");
  const os = PLATFORM;
  if (os === "linux" && pidfdSupport().supported) return new PidfdChildWatcher();
  if (os === "darwin" || os === "freebsd") return new KqueueChildWatcher();
  return new SigchldChildWatcher();
}

/** The current child watcher, made on first use (for the policy and the loops). */
export function _currentChildWatcher(): AbstractChildWatcher {
  if (current === null || !current.isActive()) current = defaultChildWatcher();
  return current;
}

/**
 * Replaces the current child watcher (`null`: a default one is made on next
 * use). The old one is closed: it keeps watching the children it has until
 * they exit, and takes no new ones.
 */
export function _setChildWatcher(watcher: AbstractChildWatcher | null): void {
  if (current !== null && current !== watcher) current.close();
  current = watcher;
}

/**
 * For a closing loop: every watcher kills and reaps that loop's children
 * still running (their loop can no longer report them).
 */
export function _detachLoopFromWatchers(loop: ChildWatcherLoop): void {
  for (const w of usedWatchers) {
    w.detachLoop(loop);
    if (w.size === 0 && w !== current) usedWatchers.delete(w);
  }
}
