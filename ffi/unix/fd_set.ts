/**
 * `fd_set`: a bitmap of FD_SETSIZE = 1024 bits, 128 bytes, on Linux and macOS.
 * On little-endian machines bit `fd` is bit `fd & 7` of byte `fd >> 3` whether
 * the words are 64-bit longs (glibc) or 32-bit ints (macOS).
 *
 * @module
 */

/** The number of descriptors an fd_set can hold; fds must be below it. */
export const FD_SETSIZE = 1024;
/** The size of an fd_set in bytes. */
export const FD_SET_BYTES: number = FD_SETSIZE / 8;

function check(fd: number): void {
  if (!Number.isInteger(fd) || fd < 0 || fd >= FD_SETSIZE) {
    throw new RangeError(
      `fd ${fd} does not fit in an fd_set: select() needs fd < FD_SETSIZE (${FD_SETSIZE})`,
    );
  }
}

/** `FD_SET`: sets bit `fd`, refusing fds at or above FD_SETSIZE. */
export function fdSet(set: Uint8Array, fd: number): void {
  check(fd);
  set[fd >> 3] |= 1 << (fd & 7);
}

/** `FD_CLR`: clears bit `fd`. */
export function fdClr(set: Uint8Array, fd: number): void {
  check(fd);
  set[fd >> 3] &= ~(1 << (fd & 7));
}

/** `FD_ISSET`: whether bit `fd` is set. */
export function fdIsSet(set: Uint8Array, fd: number): boolean {
  check(fd);
  return (set[fd >> 3] & (1 << (fd & 7))) !== 0;
}
