/**
 * `struct epoll_event`: `uint32_t events; epoll_data_t data;`. The kernel
 * packs it on x86_64 (12 bytes, data at offset 4); elsewhere, aarch64
 * included, it has natural alignment (16 bytes, data at offset 8).
 *
 * @module
 */

const PACKED = Deno.build.arch === "x86_64";

/** Size of one `struct epoll_event` on this architecture. */
export const EPOLL_EVENT_SIZE: number = PACKED ? 12 : 16;
/** Offset of `data` inside the struct. */
export const EPOLL_DATA_OFFSET: number = PACKED ? 4 : 8;

/** Readable. */
export const EPOLLIN = 0x1;
/** Urgent data. */
export const EPOLLPRI = 0x2;
/** Writable. */
export const EPOLLOUT = 0x4;
/** Error (always reported). */
export const EPOLLERR = 0x8;
/** Hang-up (always reported). */
export const EPOLLHUP = 0x10;
/** Peer closed its writing half. */
export const EPOLLRDHUP = 0x2000;
/** `epoll_ctl` operations. */
export const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
/** `epoll_create1` flag. */
export const EPOLL_CLOEXEC = 0x80000;

/** Writes entry `i`: `events`, and `fd` as the low 32 bits of `data`. */
export function setEpollEvent(view: DataView, i: number, events: number, fd: number): void {
  const off = i * EPOLL_EVENT_SIZE;
  view.setUint32(off, events, true);
  view.setInt32(off + EPOLL_DATA_OFFSET, fd, true);
  view.setInt32(off + EPOLL_DATA_OFFSET + 4, 0, true);
}

/** The `events` of entry `i`. */
export function epollEvents(view: DataView, i: number): number {
  return view.getUint32(i * EPOLL_EVENT_SIZE, true);
}

/** The fd stored in `data` of entry `i`. */
export function epollFd(view: DataView, i: number): number {
  return view.getInt32(i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET, true);
}
