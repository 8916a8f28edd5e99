/**
 * Child watching with kqueue (macOS, FreeBSD): an `EVFILT_PROC` filter with
 * `NOTE_EXIT` on the child's pid fires once when it exits. The event does not
 * reap the child: `waitpidNoHang(pid)` still must, and then returns at once.
 *
 * @module
 */
import { encodeKevent, EV_ADD, EV_ONESHOT, EVFILT_PROC, type Kevent, NOTE_EXIT } from "./kevent.ts";

/** `NOTE_EXITSTATUS` (macOS): the exit event carries the wait status in `data`. */
export const NOTE_EXITSTATUS = 0x04000000;

/**
 * Writes at entry `i` of a kevent array the change that watches `pid` for
 * its exit, once (`EV_ADD | EV_ONESHOT`, `NOTE_EXIT | NOTE_EXITSTATUS`).
 *
 * @example
 * ```ts ignore
 * const changes = new Uint8Array(new ArrayBuffer(KEVENT_SIZE));
 * setProcExitKevent(new DataView(changes.buffer), 0, child.pid);
 * kevent(kq, changes, 1, null, 0, null);
 * ```
 */
export function setProcExitKevent(view: DataView, i: number, pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw new RangeError(`pid must be a positive integer, got ${pid}`);
  }
  encodeKevent(view, i, {
    ident: pid,
    filter: EVFILT_PROC,
    flags: EV_ADD | EV_ONESHOT,
    fflags: NOTE_EXIT | NOTE_EXITSTATUS,
    data: 0,
    udata: 0n,
  });
}

/** Whether the decoded event `ev` is the exit of a watched process. */
export function isProcExit(ev: Kevent): boolean {
  return ev.filter === EVFILT_PROC && (ev.fflags & NOTE_EXIT) !== 0;
}
