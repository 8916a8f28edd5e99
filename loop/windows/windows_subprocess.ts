/**
 * `subprocessExec` and `subprocessShell` (asyncio's
 * `loop.subprocess_exec()`/`subprocess_shell()`) for the ProactorEventLoop
 * of Windows, and its subprocess transport (asyncio's
 * `_WindowsSubprocessTransport` over `windows_utils.Popen`).
 *
 * A child is started with `CreateProcessW` (ffi/windows/process.ts) and
 * inherits exactly its three stdio handles. A `"pipe"` stream is a named
 * pipe pair from `pipe()` (ffi/windows/pipes.ts): the child's end
 * synchronous, ours overlapped and connected to the loop with
 * `connectWritePipe()`/`connectReadPipe()`; stdin is duplex so its write
 * transport can see the child close it. The exit is watched off the JS
 * thread (`ExitWatch`) and delivered through `callSoonThreadsafe()`, so
 * `wait()` finishes when the child exits even while a grandchild still
 * holds its pipes.
 *
 * The protocol's calls come in asyncio's order, as on Unix:
 * `connectionMade()` once every pipe is connected, then
 * `pipeDataReceived()`/`pipeConnectionLost()` and `processExited()`, and
 * `connectionLost()` last, once the process exited and every pipe closed.
 *
 * @module
 */
import {
  closeProcessHandle,
  createProcess,
  duplicateHandle,
  duplicateStdHandle,
  exitCodeOf,
  ExitWatch,
  openNul,
  shellCommandLine,
  terminateProcess,
} from "../../ffi/windows/process.ts";
import { closeHandle, pipe } from "../../ffi/windows/pipes.ts";
import { OS_FAMILY, PLATFORM } from "../../ffi/sys.ts";
import { describe } from "../../ffi/os_error.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { SubprocessOptions, SubprocessStdio } from "../subprocess_options.ts";
import type { Future } from "../future.ts";
import { checkArgv, checkFactory } from "../_check.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import { BaseSubprocessTransport } from "../base/_base_subprocess_transport.ts";

/** The loop a Windows subprocess needs: one with pipes on handles (the ProactorEventLoop). */
export type WindowsSubprocessLoop = AbstractEventLoop;

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

const STREAMS = ["stdin", "stdout", "stderr"] as const;

function checkWindows(method: string): void {
  if (OS_FAMILY !== "windows") {
    throw new Deno.errors.NotSupported(
      `${method}() of the Windows ProactorEventLoop runs only on Windows; this is ` +
        `${PLATFORM}: use the loop's own subprocessExec()`,
    );
  }
}

interface Checked {
  stdio: [SubprocessStdio, SubprocessStdio, SubprocessStdio | "stdout"];
  cwd?: string;
  env?: Readonly<Record<string, string>> | readonly string[];
}

function checkOptions(options: SubprocessOptions | undefined, method: string): Checked {
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
  for (const name of ["argv0", "startNewSession", "processGroup"] as const) {
    if (options[name] !== undefined) {
      throw new Deno.errors.NotSupported(
        `${method}(): options.${name} has no Windows equivalent on the ProactorEventLoop ` +
          `(CreateProcessW has no sessions, process groups or separate argv[0] here)`,
      );
    }
  }
  if (options.closeFds !== undefined && typeof options.closeFds !== "boolean") {
    throw new TypeError(
      `${method}(): options.closeFds must be a boolean, got ${describe(options.closeFds)}`,
    );
  }
  const stdio = [
    options.stdin ?? "pipe",
    options.stdout ?? "pipe",
    options.stderr ?? "pipe",
  ] as Checked["stdio"];
  stdio.forEach((s, i) => {
    const ok = s === "pipe" || s === "inherit" || s === "null" || (i === 2 && s === "stdout") ||
      (typeof s === "number" && Number.isSafeInteger(s) && s > 0);
    if (!ok) {
      throw new TypeError(
        `${method}(): options.${STREAMS[i]} must be "pipe", "inherit", "null"${
          i === 2 ? ', "stdout"' : ""
        } or a HANDLE number, got ${describe(s)}`,
      );
    }
  });
  if (options.cwd !== undefined && typeof options.cwd !== "string") {
    throw new TypeError(`${method}(): options.cwd must be a string, got ${describe(options.cwd)}`);
  }
  return { stdio, cwd: options.cwd, env: options.env };
}

/** The parent's ends of a started child's pipes (HANDLEs), by child fd. */
interface StartedChild {
  handle: number;
  pid: number;
  pipes: (number | undefined)[];
}

/** Makes the child's stdio, starts it, closes the child's ends: the parent's ends are returned. */
function spawn(args: readonly string[], commandLine: string | undefined, o: Checked): StartedChild {
  const childEnds: number[] = []; // pipe ends: ours to close once the child has started
  const ownEnds: number[] = []; // NUL and duplicates (process.ts handles): the same
  const parentEnds: (number | undefined)[] = [undefined, undefined, undefined];
  const stdio: [number, number, number] = [0, 0, 0];
  let nul = 0;
  try {
    for (let fd = 0; fd < 3; fd++) {
      const s = o.stdio[fd];
      if (s === "stdout") {
        stdio[fd] = stdio[1];
      } else if (s === "pipe") {
        if (fd === 0) {
          // Duplex, so our write end sees the child close its end (CPython's choice).
          const [child, parent] = pipe({ duplex: true, overlapped: [false, true] });
          childEnds.push(child);
          parentEnds[0] = parent;
          stdio[0] = child;
        } else {
          const [parent, child] = pipe({ overlapped: [true, false] });
          childEnds.push(child);
          parentEnds[fd] = parent;
          stdio[fd] = child;
        }
      } else if (s === "null") {
        if (nul === 0) ownEnds.push(nul = openNul());
        stdio[fd] = nul;
      } else if (s === "inherit") {
        const h = duplicateStdHandle(fd as 0 | 1 | 2);
        if (h !== 0) ownEnds.push(h);
        stdio[fd] = h;
      } else {
        const h = duplicateHandle(s as number);
        ownEnds.push(h);
        stdio[fd] = h;
      }
    }
    const child = createProcess(args, { commandLine, stdio, cwd: o.cwd, env: o.env });
    return { ...child, pipes: parentEnds };
  } catch (e) {
    for (const h of parentEnds) if (h !== undefined) closeHandle(h);
    throw e;
  } finally {
    for (const h of childEnds) closeHandle(h);
    for (const h of ownEnds) closeProcessHandle(h);
  }
}

// The transports of each loop whose child may still run (the loop's close() kills them).
const running = new WeakMap<AbstractEventLoop, Set<WindowsSubprocessTransport>>();

/**
 * For a closing loop: kills its children that still run (their loop can no
 * longer report them); each exit watch then ends and frees its handles.
 * The ProactorEventLoop calls it from `close()`.
 */
export function _detachLoopFromChildren(loop: AbstractEventLoop): void {
  const set = running.get(loop);
  if (set === undefined) return;
  running.delete(loop);
  for (const t of set) t._killForClosedLoop();
}

/** The exit of every child started so far was seen (for tests: no wait left pending). */
export function _childrenSettled(): Promise<void> {
  return Promise.all([...watches]).then(() => {});
}
const watches = new Set<Promise<unknown>>();

async function start<P extends SubprocessProtocol>(
  loop: WindowsSubprocessLoop,
  protocolFactory: () => P,
  args: readonly string[],
  commandLine: string | undefined,
  options: Checked,
): Promise<[WindowsSubprocessTransport, P]> {
  if (loop.isClosed()) throw new Error("Event loop is closed");
  const protocol = protocolFactory();
  const child = spawn(args, commandLine, options); // NotFound naming the program
  const waiter = loop.createFuture<void>();
  const transport = new WindowsSubprocessTransport(loop, protocol, child, waiter);
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
 * Starts `args[0]` with the arguments `args` (one command line quoted as
 * `subprocess.list2cmdline` does; the program looked up as
 * `CreateProcessW` does, `.exe` added) and connects a protocol made by
 * `protocolFactory` (asyncio's `loop.subprocess_exec()` on Windows).
 * Resolves to `[transport, protocol]` once every pipe is connected. stdin,
 * stdout and stderr are pipes unless `options` says otherwise; `cwd` and
 * `env` reach the child; a stream given as a number is a HANDLE of ours
 * (the child gets a duplicate: it stays ours). `closeFds` is accepted and
 * changes nothing: the child always inherits its three stdio handles and
 * no other. `argv0`, `startNewSession` and `processGroup` are
 * `NotSupported`. A missing program rejects with
 * `Deno.errors.NotFound` naming it, leaving no process and no handle behind.
 *
 * @example
 * ```ts ignore
 * const [transport] = await subprocessExec(loop, () => new MyProtocol(), ["cmd.exe", "/c", "exit 3"]);
 * console.log(await transport.wait()); // 3
 * ```
 */
export async function subprocessExec<P extends SubprocessProtocol>(
  loop: WindowsSubprocessLoop,
  protocolFactory: () => P,
  args: readonly string[],
  options?: SubprocessOptions,
): Promise<[WindowsSubprocessTransport, P]> {
  checkWindows("subprocessExec");
  checkFactory(protocolFactory, "subprocessExec()");
  checkArgv(args, "subprocessExec()");
  const checked = checkOptions(options, "subprocessExec");
  return await start(loop, protocolFactory, args, undefined, checked);
}

/**
 * Runs the shell command `cmd` with `%ComSpec% /c` (asyncio's
 * `loop.subprocess_shell()` on Windows: `cmd.exe` unless `ComSpec` says
 * otherwise); otherwise as `subprocessExec()`. Quoting is the caller's
 * job: never pass unchecked input.
 *
 * @example
 * ```ts ignore
 * const [transport] = await subprocessShell(loop, () => new MyProtocol(), "echo hi");
 * ```
 */
export async function subprocessShell<P extends SubprocessProtocol>(
  loop: WindowsSubprocessLoop,
  protocolFactory: () => P,
  cmd: string,
  options?: SubprocessOptions,
): Promise<[WindowsSubprocessTransport, P]> {
  checkWindows("subprocessShell");
  checkFactory(protocolFactory, "subprocessShell()");
  if (typeof cmd !== "string") {
    throw new TypeError(`subprocessShell(): cmd must be a string, got ${describe(cmd)}`);
  }
  const checked = checkOptions(options, "subprocessShell");
  const line = shellCommandLine(cmd);
  return await start(loop, protocolFactory, [line], line, checked);
}

/**
 * A running child and its pipes on the ProactorEventLoop, as
 * `subprocessExec()`/`subprocessShell()` make it. `terminate()` and
 * `kill()` are both `TerminateProcess(h, 1)` (returncode 1, as CPython);
 * `sendSignal()` takes `"SIGTERM"`/`"SIGKILL"` (the same) and refuses
 * others. They do nothing once the exit was seen, and throw an `Error`
 * with `code` `"ESRCH"` (Python's `ProcessLookupError`) once the
 * transport has finished. `close()` closes the pipes and kills a child
 * that still runs.
 *
 * @example
 * ```ts ignore
 * const [transport] = await subprocessExec(loop, () => new MyProtocol(), ["cmd.exe", "/c", "exit 3"]);
 * console.log(await transport.wait()); // 3
 * transport.close();
 * ```
 */
export class WindowsSubprocessTransport extends BaseSubprocessTransport {
  #handle: number | null; // the process HANDLE, closed once the exit is seen
  #exitCode: number | null = null; // seen by the watch, before the loop delivers it

  /** Takes over the started child (its process handle and our pipe ends); see the class. */
  constructor(
    loop: AbstractEventLoop,
    protocol: SubprocessProtocol,
    child: StartedChild,
    waiter: Future<void> | null = null,
  ) {
    super(loop, protocol, child.pid, child.pipes);
    this.#handle = child.handle;
    let set = running.get(loop);
    if (set === undefined) running.set(loop, set = new Set());
    set.add(this);
    const watch = new ExitWatch(child.handle);
    const settled = watch.done.then((exited) => this.#watchEnded(exited), (e) => {
      this.#watchEnded(true);
      console.error(`${this}: watching the exit failed:`, e);
    });
    watches.add(settled);
    void settled.finally(() => watches.delete(settled));
    void this._connectPipes(child.pipes, waiter);
  }

  // The exit watch ended (off-thread wait returned): read the code, free the handle.
  #watchEnded(exited: boolean): void {
    const h = this.#handle;
    if (h === null) return;
    let code: number | null = null;
    try {
      code = exitCodeOf(h);
    } catch {
      code = null;
    }
    if (code === null && !exited) {
      // Cancelled while it still runs (only if TerminateProcess failed): keep the handle.
      return;
    }
    this.#handle = null;
    closeProcessHandle(h);
    const loop = this._loop;
    running.get(loop)?.delete(this);
    const rc = code ?? 1;
    this.#exitCode = rc;
    if (loop.isClosed()) this._processExited(rc, false); // wait() settles; no protocol call
    else loop.callSoonThreadsafe(this.#onExit, rc);
  }

  #onExit = (returncode: number): void => this._processExited(returncode);

  /** `TerminateProcess(h, 1)` while the process handle is ours. */
  protected _killChild(): void {
    const h = this.#handle;
    if (h === null) return; // exited: the watch reports it
    try {
      terminateProcess(h, 1);
    } catch {
      // it exited already: the watch reports it
    }
  }

  /** `CloseHandle`. */
  protected _closePipeEnd(h: number): void {
    closeHandle(h);
  }

  /** @internal The loop closed: kill the child if it runs (its exit watch then ends). */
  _killForClosedLoop(): void {
    this._killChild();
  }

  /** The child's exit code (an unsigned 32-bit number on Windows), `null` while it runs. */
  override getReturncode(): number | null {
    // A closed loop no longer runs the delivery: then the code the watch saw.
    return super.getReturncode() ?? (this._loop.isClosed() ? this.#exitCode : null);
  }

  /**
   * `"SIGTERM"` and `"SIGKILL"` (or 15 and 9) end the child with
   * `TerminateProcess(h, 1)`, as CPython's `send_signal` on Windows; any
   * other signal is `NotSupported` (console control events need a console
   * process group, which these children do not have).
   */
  sendSignal(signal: Deno.Signal | number): void {
    const name = signal === 15 ? "SIGTERM" : signal === 9 ? "SIGKILL" : signal;
    if (name !== "SIGTERM" && name !== "SIGKILL") {
      throw new Deno.errors.NotSupported(
        `sendSignal(${describe(signal)}): on Windows only SIGTERM and SIGKILL (TerminateProcess) ` +
          `reach a child of the ProactorEventLoop`,
      );
    }
    if (!this._signallable()) return;
    const h = this.#handle;
    if (h === null) return; // exited: the exit is on its way to the loop
    terminateProcess(h, 1);
  }

  /** `TerminateProcess(h, 1)`. */
  terminate(): void {
    this.sendSignal("SIGTERM");
  }

  /** `TerminateProcess(h, 1)` (Windows has no gentler kind). */
  kill(): void {
    this.sendSignal("SIGKILL");
  }
}
