/**
 * `struct timespec` and `struct timeval` for 64-bit Linux and macOS: 16 bytes
 * each. `tv_nsec` is a 64-bit long; `tv_usec` is a 64-bit long on Linux and a
 * 32-bit `suseconds_t` (then 4 bytes of padding) on macOS.
 *
 * @module
 */
import { ABI } from "./_abi.ts";

/** Size of `struct timespec`. */
export const TIMESPEC_SIZE = 16;
/** Size of `struct timeval`. */
export const TIMEVAL_SIZE = 16;
const USEC_IS_32 = ABI.TIMEVAL_USEC_32;

/** Writes `ms` (>= 0, may be fractional) as a timespec, rounding up to whole nanoseconds. */
export function writeTimespec(view: DataView, ms: number): void {
  const ns = Math.ceil(ms * 1e6);
  const sec = Math.floor(ns / 1e9);
  view.setBigInt64(0, BigInt(sec), true);
  view.setBigInt64(8, BigInt(ns - sec * 1e9), true);
}

/** Reads a timespec as milliseconds. */
export function readTimespec(view: DataView): number {
  return Number(view.getBigInt64(0, true)) * 1e3 + Number(view.getBigInt64(8, true)) / 1e6;
}

/** Writes `ms` (>= 0, may be fractional) as a timeval, rounding up to whole microseconds. */
export function writeTimeval(view: DataView, ms: number): void {
  const us = Math.ceil(ms * 1e3);
  const sec = Math.floor(us / 1e6);
  view.setBigInt64(0, BigInt(sec), true);
  if (USEC_IS_32) {
    view.setInt32(8, us - sec * 1e6, true);
    view.setInt32(12, 0, true);
  } else {
    view.setBigInt64(8, BigInt(us - sec * 1e6), true);
  }
}

/** Reads a timeval as milliseconds. */
export function readTimeval(view: DataView): number {
  const usec = USEC_IS_32 ? view.getInt32(8, true) : Number(view.getBigInt64(8, true));
  return Number(view.getBigInt64(0, true)) * 1e3 + usec / 1e3;
}
