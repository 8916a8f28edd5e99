/**
 * `struct kevent` on 64-bit macOS (and FreeBSD before 12): 32 bytes,
 * `uintptr_t ident` (0), `int16_t filter` (8), `uint16_t flags` (10),
 * `uint32_t fflags` (12), `intptr_t data` (16), `void *udata` (24).
 *
 * @module
 */

/** Size of one `struct kevent`. */
export const KEVENT_SIZE = 32;
/** Filters. */
export const EVFILT_READ = -1, EVFILT_WRITE = -2, EVFILT_PROC = -5, EVFILT_USER = -10;
/** Flags. */
export const EV_ADD = 0x1, EV_DELETE = 0x2, EV_ENABLE = 0x4, EV_ONESHOT = 0x10, EV_CLEAR = 0x20;
/** Returned flags. */
export const EV_ERROR = 0x4000, EV_EOF = 0x8000;
/** `EVFILT_PROC` note: the process exited. */
export const NOTE_EXIT = 0x80000000;

/** One kevent, decoded. */
export interface Kevent {
  /** The identifier (an fd, a pid ...). */
  ident: number;
  /** The filter, such as `EVFILT_READ`. */
  filter: number;
  /** `EV_*` flags. */
  flags: number;
  /** Filter-specific flags. */
  fflags: number;
  /** Filter-specific data (bytes readable, an errno with EV_ERROR ...). */
  data: number;
  /** The user's cookie (kept as a 64-bit number, never dereferenced). */
  udata: bigint;
}

/** Writes entry `i` of a kevent array. */
export function setKevent(
  view: DataView,
  i: number,
  ident: number,
  filter: number,
  flags: number,
): void {
  const off = i * KEVENT_SIZE;
  view.setBigUint64(off, BigInt(ident), true);
  view.setInt16(off + 8, filter, true);
  view.setUint16(off + 10, flags, true);
  view.setUint32(off + 12, 0, true);
  view.setBigInt64(off + 16, 0n, true);
  view.setBigUint64(off + 24, 0n, true);
}

/** Writes a whole kevent at entry `i`. */
export function encodeKevent(view: DataView, i: number, ev: Kevent): void {
  const off = i * KEVENT_SIZE;
  view.setBigUint64(off, BigInt(ev.ident), true);
  view.setInt16(off + 8, ev.filter, true);
  view.setUint16(off + 10, ev.flags, true);
  view.setUint32(off + 12, ev.fflags >>> 0, true);
  view.setBigInt64(off + 16, BigInt(ev.data), true);
  view.setBigUint64(off + 24, ev.udata, true);
}

/** Reads entry `i` of a kevent array. */
export function decodeKevent(view: DataView, i: number): Kevent {
  const off = i * KEVENT_SIZE;
  return {
    ident: Number(view.getBigUint64(off, true)),
    filter: view.getInt16(off + 8, true),
    flags: view.getUint16(off + 10, true),
    fflags: view.getUint32(off + 12, true),
    data: Number(view.getBigInt64(off + 16, true)),
    udata: view.getBigUint64(off + 24, true),
  };
}

/** The ident (fd) of entry `i`, without allocating. */
export function keventIdent(view: DataView, i: number): number {
  // Idents used here are fds and pids: the low 32 bits suffice.
  return view.getUint32(i * KEVENT_SIZE, true);
}

/** The filter of entry `i`. */
export function keventFilter(view: DataView, i: number): number {
  return view.getInt16(i * KEVENT_SIZE + 8, true);
}

/** The flags of entry `i`. */
export function keventFlags(view: DataView, i: number): number {
  return view.getUint16(i * KEVENT_SIZE + 10, true);
}

/** The data of entry `i` (an errno when flags has EV_ERROR). */
export function keventData(view: DataView, i: number): number {
  return Number(view.getBigInt64(i * KEVENT_SIZE + 16, true));
}
