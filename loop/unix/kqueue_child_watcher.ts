/**
 * `KqueueChildWatcher` (macOS, FreeBSD): `EVFILT_PROC`/`NOTE_EXIT`.
 *
 * @module
 */
import { E, osError } from "../../ffi/unix/errno.ts";
import {
  EV_DELETE,
  EVFILT_PROC,
  KEVENT_SIZE,
  keventFilter,
  keventIdent,
  setKevent,
} from "../../ffi/darwin/kevent.ts";
import { setProcExitKevent } from "../../ffi/darwin/proc_exit.ts";
import { type KqueueApi, systemKqueue } from "../../ffi/darwin/sys.ts";
import { TIMESPEC_SIZE, writeTimespec } from "../../ffi/unix/time.ts";
import { waitpidNoHang } from "../../ffi/unix/wait.ts";
import {
  AbstractChildWatcher,
  type ChildEntry,
  type ChildWatcherLoop,
  UNKNOWN_RETURNCODE,
} from "./child_watcher.ts";

/** Options of `new KqueueChildWatcher()`. */
export interface KqueueChildWatcherOptions {
  /** The kqueue calls; the system's by default (tests on Linux pass an emulation). */
  api?: KqueueApi;
}

const BATCH = 64;

/**
 * Watches children with a kqueue of its own: one `EVFILT_PROC` filter
 * (`NOTE_EXIT`, `EV_ONESHOT`) per child. The kqueue's fd is a reader in
 * every loop that has a child (a kqueue fd is readable while events are
 * pending, under any selector); the exit event does not reap, so
 * `waitpid(pid, WNOHANG)` then does, for that pid only. A child that
 * exited before its filter was added (`ESRCH`) is reaped on the loop's
 * next turn. The kqueue is open only while there are children.
 *
 * @example
 * ```ts ignore
 * import { getEventLoopPolicy, KqueueChildWatcher } from "@aio/loop";
 * getEventLoopPolicy().setChildWatcher(new KqueueChildWatcher());
 * ```
 */
export class KqueueChildWatcher extends AbstractChildWatcher {
  /** `"kqueue"`. */
  readonly name: string = "kqueue";
  #api: KqueueApi;
  #kq = -1;
  #loops = new Map<ChildWatcherLoop, number>(); // children per loop
  #change = new Uint8Array(new ArrayBuffer(KEVENT_SIZE));
  #changeView = new DataView(this.#change.buffer);
  #events = new Uint8Array(new ArrayBuffer(BATCH * KEVENT_SIZE));
  #eventsView = new DataView(this.#events.buffer);
  #zero = new Uint8Array(new ArrayBuffer(TIMESPEC_SIZE));

  /** Makes the watcher; `NotSupported` where there is no kqueue (and no `options.api`). */
  constructor(options?: KqueueChildWatcherOptions) {
    super();
    this.#api = options?.api ?? systemKqueue();
    writeTimespec(new DataView(this.#zero.buffer), 0);
  }

  /**
   * Adds the child's EVFILT_PROC filter, and the kqueue to its loop.
   * @internal
   */
  protected _watch(entry: ChildEntry): void {
    if (this.#kq < 0) {
      const kq = this.#api.kqueue();
      if (kq < 0) throw osError(this.#api.errno(), "kqueue");
      this.#kq = kq;
    }
    setProcExitKevent(this.#changeView, 0, entry.pid);
    if (this.#api.kevent(this.#kq, this.#change, 1, null, 0, null) < 0) {
      const e = this.#api.errno();
      if (e !== E.ESRCH) {
        if (this.size === 1) this._release(); // this child is the only one
        throw osError(e, "kevent(EVFILT_PROC)", `pid ${entry.pid}`);
      }
      // Exited already (a zombie has no filter to attach to): reap on the next turn.
      entry.loop.callSoonThreadsafe(this.#reap, entry, false);
    }
    const n = this.#loops.get(entry.loop) ?? 0;
    if (n === 0) entry.loop.addReader(this.#kq, this.#onReadable, entry.loop);
    this.#loops.set(entry.loop, n + 1);
  }

  /**
   * Drops the child's filter (if it did not fire) and, with its last child, the loop's reader.
   * @internal
   */
  protected _unwatch(entry: ChildEntry): void {
    if (this.#kq < 0) return;
    setKevent(this.#changeView, 0, entry.pid, EVFILT_PROC, EV_DELETE);
    this.#api.kevent(this.#kq, this.#change, 1, null, 0, null); // ENOENT once it fired: fine
    const n = this.#loops.get(entry.loop) ?? 0;
    if (n <= 1) {
      this.#loops.delete(entry.loop);
      if (!entry.loop.isClosed()) entry.loop.removeReader(this.#kq);
    } else {
      this.#loops.set(entry.loop, n - 1);
    }
  }

  /**
   * Closes the kqueue once no child is watched.
   * @internal
   */
  protected override _release(): void {
    if (this.#kq < 0) return;
    for (const loop of this.#loops.keys()) if (!loop.isClosed()) loop.removeReader(this.#kq);
    this.#loops.clear();
    this.#api.close(this.#kq);
    this.#kq = -1;
  }

  #onReadable = (loop: ChildWatcherLoop): void => {
    if (this.#kq < 0) return;
    const n = this.#api.kevent(this.#kq, null, 0, this.#events, BATCH, this.#zero);
    for (let i = 0; i < n; i++) {
      if (keventFilter(this.#eventsView, i) !== EVFILT_PROC) continue;
      const entry = this._entry(keventIdent(this.#eventsView, i));
      if (entry !== undefined) this.#reap(entry, entry.loop === loop);
    }
  };

  #reap = (entry: ChildEntry, direct: boolean): void => {
    if (this._entry(entry.pid) !== entry) return;
    let returncode: number;
    try {
      const exit = waitpidNoHang(entry.pid);
      if (exit === null) return; // NOTE_EXIT comes after the exit: cannot happen
      returncode = exit.returncode;
    } catch {
      returncode = UNKNOWN_RETURNCODE;
    }
    this._exited(entry, returncode, direct);
  };
}
