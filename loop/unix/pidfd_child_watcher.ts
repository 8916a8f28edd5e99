/**
 * `PidfdChildWatcher` (asyncio's, Linux ≥ 5.4): a pidfd per child in the
 * loop's selector.
 *
 * @module
 */
import { PLATFORM } from "../../ffi/sys.ts";
import { closeFd } from "../../ffi/unix/libc.ts";
import { pidfdOpen, pidfdSupport, pidfdWait } from "../../ffi/linux/pidfd.ts";
import { AbstractChildWatcher, type ChildEntry, UNKNOWN_RETURNCODE } from "./child_watcher.ts";

/**
 * Watches each child through a pidfd (`pidfd_open`), registered as a
 * reader in the child's loop: it turns readable when the child exits, and
 * `waitid(P_PIDFD)` then reaps that child and no other. Throws
 * `NotSupported` where the kernel has no pidfds (see `pidfdSupport()`).
 *
 * @example
 * ```ts ignore
 * import { DefaultEventLoopPolicy, PidfdChildWatcher } from "@aio/loop";
 * new DefaultEventLoopPolicy().setChildWatcher(new PidfdChildWatcher());
 * ```
 */
export class PidfdChildWatcher extends AbstractChildWatcher {
  /** `"pidfd"`. */
  readonly name: string = "pidfd";
  #pidfds = new Map<ChildEntry, number>();

  /** Makes the watcher; `NotSupported` where pidfds do not work. */
  constructor() {
    super();
    const support = pidfdSupport();
    if (!support.supported) {
      throw new Deno.errors.NotSupported(
        `PidfdChildWatcher needs pidfd_open and waitid(P_PIDFD) (Linux ≥ 5.4), but ${support.reason} on ${PLATFORM}: use SigchldChildWatcher`,
      );
    }
  }

  /**
   * Opens the child's pidfd and watches it.
   * @internal
   */
  protected _watch(entry: ChildEntry): void {
    const pidfd = pidfdOpen(entry.pid); // a zombie still has one: an early exit is not missed
    try {
      entry.loop.addReader(pidfd, this.#onReadable, entry);
    } catch (e) {
      closeFd(pidfd);
      throw e;
    }
    this.#pidfds.set(entry, pidfd);
  }

  /**
   * Stops watching and closes the pidfd.
   * @internal
   */
  protected _unwatch(entry: ChildEntry): void {
    const pidfd = this.#pidfds.get(entry);
    if (pidfd === undefined) return;
    this.#pidfds.delete(entry);
    // Never close an fd the selector still watches: its number could come back at once.
    if (!entry.loop.isClosed()) entry.loop.removeReader(pidfd);
    closeFd(pidfd);
  }

  #onReadable = (entry: ChildEntry): void => {
    const pidfd = this.#pidfds.get(entry);
    if (pidfd === undefined) return;
    let returncode: number;
    try {
      const exit = pidfdWait(pidfd);
      if (exit === null) return; // not an exit (cannot happen with WEXITED only)
      returncode = exit.returncode;
    } catch {
      returncode = UNKNOWN_RETURNCODE; // ECHILD: someone else reaped it (asyncio: 255)
    }
    this._exited(entry, returncode, true);
  };
}
