/**
 * The subprocess transport of the Unix loops (asyncio's
 * `_UnixSubprocessTransport` on `base_subprocess.BaseSubprocessTransport`,
 * here `loop/base/_base_subprocess_transport.ts`): a child started with
 * `posix_spawn`, its pipes wrapped in pipe transports, its exit learned
 * from a child watcher.
 *
 * @module
 */
import { PLATFORM } from "../../ffi/sys.ts";
import { signalNumber } from "../../ffi/unix/signals.ts";
import { killProcess } from "../../ffi/unix/kill.ts";
import { closeFd, describe } from "../../ffi/unix/libc.ts";
import type { SpawnedProcess } from "../../ffi/unix/spawn.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import { type AbstractChildWatcher, killAndReap } from "./child_watcher.ts";
import type { Future } from "../future.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import { BaseSubprocessTransport } from "../base/_base_subprocess_transport.ts";

/** Options of `new UnixSubprocessTransport()`. */
export interface UnixSubprocessTransportOptions {
  /** The watcher that reports the child's exit. */
  watcher: AbstractChildWatcher;
  /** Resolved once `connectionMade()` is scheduled; rejected if a pipe cannot be connected. */
  waiter?: Future<void> | null;
  /** Extra information for `getExtraInfo()`. */
  extra?: Record<string, unknown>;
}

/**
 * A running child and its pipes, as `loop.subprocessExec()` and
 * `loop.subprocessShell()` make it. It takes over the parent's ends of the
 * child's pipes and watches the child with `options.watcher`; if that
 * fails the child is killed and reaped, its pipes closed, and the
 * constructor throws.
 *
 * `sendSignal()`, `terminate()` and `kill()` do nothing once the child's
 * exit was seen (its pid may belong to another process by then), and
 * throw an `Error` with `code` `"ESRCH"` (Python's `ProcessLookupError`)
 * once the transport has finished. `close()` closes the pipes and kills a
 * child that still runs; the watcher then reaps it. The example of
 * `SubprocessTransport` shows its methods at work.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await loop.subprocessExec(() => new MyProtocol(), ["ls", "-l"]);
 * console.log(transport.getPid());
 * const code = await transport.wait();
 * transport.close();
 * ```
 */
export class UnixSubprocessTransport extends BaseSubprocessTransport {
  /** Takes over the started `child` for `protocol`; see the class for what follows. */
  constructor(
    loop: AbstractEventLoop,
    protocol: SubprocessProtocol,
    child: SpawnedProcess,
    options: UnixSubprocessTransportOptions,
  ) {
    const ends = [child.stdin, child.stdout, child.stderr];
    super(loop, protocol, child.pid, ends, options.extra);
    try {
      options.watcher.addChildHandler(child.pid, this.#onExit, { loop });
    } catch (e) {
      for (const fd of ends) if (fd !== undefined) closeFd(fd);
      killAndReap(child.pid);
      throw e;
    }
    void this._connectPipes(ends, options.waiter ?? null);
  }

  #onExit = (_pid: number, returncode: number): void => this._processExited(returncode);

  /** SIGKILL; an exited child is the watcher's to reap. */
  protected _killChild(): void {
    try {
      killProcess(this.getPid(), 9);
    } catch {
      // ESRCH: it exited already; the watcher reaps it.
    }
  }

  /** `close(2)`. */
  protected _closePipeEnd(fd: number): void {
    closeFd(fd);
  }

  /**
   * Sends `signal` (Deno's name, such as `"SIGUSR1"`, or a number) to the
   * child. Nothing happens once its exit was seen.
   */
  sendSignal(signal: Deno.Signal | number): void {
    const num = typeof signal === "number" ? signal : signalNumber(signal);
    if (num === undefined || !Number.isInteger(num) || num < 0 || num > 64) {
      throw new RangeError(`unknown signal ${describe(signal)} on ${PLATFORM}`);
    }
    if (!this._signallable()) return; // reaped: the pid may be someone else's now
    try {
      killProcess(this.getPid(), num);
    } catch (e) {
      // Exited, not reaped yet: the watcher is about to report it.
      if ((e as { code?: string }).code !== "ESRCH") throw e;
    }
  }

  /** Sends SIGTERM. */
  terminate(): void {
    this.sendSignal("SIGTERM");
  }

  /** Sends SIGKILL. */
  kill(): void {
    this.sendSignal("SIGKILL");
  }
}
