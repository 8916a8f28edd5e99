/**
 * `struct pollfd` (Linux and macOS): `int fd; short events; short revents;`,
 * 8 bytes, and the `POLL*` bits, which the two systems share.
 *
 * @module
 */

/** Size of one `struct pollfd` in bytes. */
export const POLLFD_SIZE = 8;
/** Data to read. */
export const POLLIN = 0x1;
/** Urgent data to read. */
export const POLLPRI = 0x2;
/** Writing will not block. */
export const POLLOUT = 0x4;
/** Error condition (revents only). */
export const POLLERR = 0x8;
/** Hung up (revents only). */
export const POLLHUP = 0x10;
/** The fd is not open (revents only). */
export const POLLNVAL = 0x20;

/** Writes entry `i` of a pollfd array; `view` must hold at least `i + 1` entries. */
export function setPollfd(view: DataView, i: number, fd: number, events: number): void {
  const off = i * POLLFD_SIZE;
  view.setInt32(off, fd, true);
  view.setInt16(off + 4, events, true);
  view.setInt16(off + 6, 0, true);
}

/** The `fd` of entry `i`. */
export function pollfdFd(view: DataView, i: number): number {
  return view.getInt32(i * POLLFD_SIZE, true);
}

/** The `revents` of entry `i`. */
export function pollfdRevents(view: DataView, i: number): number {
  return view.getUint16(i * POLLFD_SIZE + 6, true);
}
