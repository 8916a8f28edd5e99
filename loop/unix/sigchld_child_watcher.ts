/**
 * `SigchldChildWatcher`: the fallback where pidfds and kqueue are missing.
 *
 * @module
 */
import { OS_FAMILY } from "../../ffi/sys.ts";
import { waitpidNoHang } from "../../ffi/unix/wait.ts";
import { AbstractChildWatcher, type ChildEntry, UNKNOWN_RETURNCODE } from "./child_watcher.ts";

/**
 * Watches children through `SIGCHLD` (asyncio's `SafeChildWatcher`): a
 * `Deno.addSignalListener("SIGCHLD")` listener, held only while there are
 * children, checks each child it watches with `waitpid(pid, WNOHANG)`. It
 * never calls `waitpid(-1)`, so it reaps no process it was not given
 * (`Deno.Command` children stay Deno's). Each SIGCHLD costs one `waitpid`
 * per watched child: fine for tens of children, the reason pidfds are
 * preferred.
 *
 * @example
 * ```ts ignore
 * import { getEventLoopPolicy, SigchldChildWatcher } from "@aio/loop";
 * getEventLoopPolicy().setChildWatcher(new SigchldChildWatcher());
 * ```
 */
export class SigchldChildWatcher extends AbstractChildWatcher {
  /** `"sigchld"`. */
  readonly name: string = "sigchld";
  #listening = false;

  /** Makes the watcher; Unix only (`NotSupported` on Windows). */
  constructor() {
    super();
    if (OS_FAMILY === "windows") {
      throw new Deno.errors.NotSupported(
        "SigchldChildWatcher: windows has no SIGCHLD; child processes are waited for by handle",
      );
    }
  }

  /**
   * Starts listening if needed, then checks the child once (it may have exited already).
   * @internal
   */
  protected _watch(entry: ChildEntry): void {
    if (!this.#listening) {
      Deno.addSignalListener("SIGCHLD", this.#onSigchld);
      this.#listening = true;
    }
    // A SIGCHLD that came before the listener is not repeated: look now (asyncio does too).
    entry.loop.callSoonThreadsafe(this.#check, entry);
  }

  /**
   * Nothing per child.
   * @internal
   */
  protected _unwatch(_entry: ChildEntry): void {}

  /**
   * Removes the listener once no child is watched.
   * @internal
   */
  protected override _release(): void {
    if (!this.#listening) return;
    this.#listening = false;
    Deno.removeSignalListener("SIGCHLD", this.#onSigchld);
  }

  #onSigchld = (): void => {
    // Signals coalesce: one SIGCHLD may stand for several exits.
    for (const entry of [...this._entries()]) this.#check(entry);
  };

  #check = (entry: ChildEntry): void => {
    if (this._entry(entry.pid) !== entry) return;
    let returncode: number;
    try {
      const exit = waitpidNoHang(entry.pid);
      if (exit === null) return;
      returncode = exit.returncode;
    } catch {
      returncode = UNKNOWN_RETURNCODE; // ECHILD: reaped by someone else
    }
    this._exited(entry, returncode, false);
  };
}
