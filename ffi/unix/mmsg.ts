/**
 * Batched datagram receive: `recvmmsg(2)` over an off-heap array of
 * `struct mmsghdr`, made once and reused. Linux only (macOS has no
 * `recvmmsg`): {@linkcode HAS_RECVMMSG} says whether it exists, and where it
 * does not, constructing a {@linkcode DatagramBatch} throws
 * `Deno.errors.NotSupported` (callers keep their one-datagram path).
 *
 * Each of the `capacity` slots has its own `slotSize`-byte data area and a
 * `SOCKADDR_MAX`-byte address area; one call fills up to `capacity` of them
 * and says how many. A datagram longer than `slotSize` is cut to it (as
 * `recvfrom` cuts it to its buffer) and its slot's `truncated()` says so.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { LINUX, OS } from "./_abi.ts";
import { E, osError } from "./errno.ts";
import { checkFd, errno, LIBC_PATH } from "./libc.ts";
import { SOCKADDR_MAX } from "./sockaddr.ts";

/** Whether this OS has `recvmmsg(2)` (Linux ≥ 2.6.33). */
export const HAS_RECVMMSG: boolean = LINUX;

// 64-bit Linux: struct msghdr is 56 bytes (msg_name 0, msg_namelen 8, msg_iov 16,
// msg_iovlen 24, msg_control 32, msg_controllen 40, msg_flags 48); struct mmsghdr adds
// msg_len (u32) at 56 and pads to 64. struct iovec is 16 bytes.
const MMSGHDR_SIZE = 64, IOVEC_SIZE = 16;
const MSG_TRUNC = 0x20;
const EAGAIN = E.EAGAIN, EINTR = E.EINTR;

const SYMBOLS = {
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
} as const;

const symbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: HAS_RECVMMSG,
  unsupported: `recvmmsg is a Linux call; on ${OS} receive one datagram per recvfrom`,
});

/**
 * A reusable `recvmmsg` batch: `capacity` slots of `slotSize` bytes, off
 * the V8 heap. After `recv(fd)` returned `n`, slot `i < n` holds
 * `data(i)` (a view into the batch's memory, valid until the next
 * `recv()`), `length(i)`, and the raw sender address `name(i)` with its
 * length `nameLength(i)`.
 *
 * @example
 * ```ts ignore
 * const batch = new DatagramBatch(16, 65536);
 * const n = batch.recv(fd); // -1: would block
 * for (let i = 0; i < n; i++) console.log(batch.length(i));
 * ```
 */
export class DatagramBatch {
  readonly capacity: number;
  readonly slotSize: number;
  #hdrs: Uint8Array;
  #hv: DataView;
  #data: Uint8Array;
  #names: Uint8Array;
  #iovs: Uint8Array;
  #slots: Uint8Array[] = [];
  #nameViews: Uint8Array[] = [];

  /** Makes `capacity` slots (1 to 1024) of `slotSize` bytes (1 to 2^24). */
  constructor(capacity: number, slotSize: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1024) {
      throw new RangeError(`DatagramBatch: capacity must be from 1 to 1024, got ${capacity}`);
    }
    if (!Number.isInteger(slotSize) || slotSize < 1 || slotSize > 1 << 24) {
      throw new RangeError(`DatagramBatch: slotSize must be from 1 to 2^24, got ${slotSize}`);
    }
    symbols(); // throws NotSupported where there is no recvmmsg
    this.capacity = capacity;
    this.slotSize = slotSize;
    // Explicit ArrayBuffers live off the V8 heap: their addresses never change.
    this.#hdrs = new Uint8Array(new ArrayBuffer(capacity * MMSGHDR_SIZE));
    this.#hv = new DataView(this.#hdrs.buffer);
    const iovs = new Uint8Array(new ArrayBuffer(capacity * IOVEC_SIZE));
    const iv = new DataView(iovs.buffer);
    this.#data = new Uint8Array(new ArrayBuffer(capacity * slotSize));
    this.#names = new Uint8Array(new ArrayBuffer(capacity * SOCKADDR_MAX));
    const dataPtr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#data)));
    const namePtr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#names)));
    const iovPtr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iovs)));
    for (let i = 0; i < capacity; i++) {
      iv.setBigUint64(i * IOVEC_SIZE, dataPtr + BigInt(i * slotSize), true);
      iv.setBigUint64(i * IOVEC_SIZE + 8, BigInt(slotSize), true);
      const h = i * MMSGHDR_SIZE;
      this.#hv.setBigUint64(h, namePtr + BigInt(i * SOCKADDR_MAX), true);
      this.#hv.setBigUint64(h + 16, iovPtr + BigInt(i * IOVEC_SIZE), true);
      this.#hv.setBigUint64(h + 24, 1n, true);
    }
    // Keep the iovec array alive as long as the headers that point at it.
    this.#iovs = iovs;
    for (let i = 0; i < capacity; i++) {
      this.#slots.push(this.#data.subarray(i * slotSize, (i + 1) * slotSize));
      this.#nameViews.push(this.#names.subarray(i * SOCKADDR_MAX, (i + 1) * SOCKADDR_MAX));
    }
  }

  /**
   * `recvmmsg(fd, slots, capacity, flags, NULL)`: the datagrams received
   * (1 to `capacity`), or **-1 when the call would block**. An error on the
   * first datagram (such as `ConnectionRefused` after an ICMP port
   * unreachable) throws `Deno.errors.*`; one after it waits for the next call
   * (the kernel keeps it).
   */
  recv(fd: number, flags = 0): number {
    checkFd(fd);
    if ((flags | 0) !== flags) throw new TypeError("DatagramBatch.recv(): flags must be an i32");
    const hv = this.#hv;
    for (let i = 0, h = 8; i < this.capacity; i++, h += MMSGHDR_SIZE) {
      hv.setUint32(h, SOCKADDR_MAX, true); // msg_namelen, in and out
    }
    const s = symbols();
    for (;;) {
      const n = s.recvmmsg(fd, this.#hdrs, this.capacity, flags, null);
      if (n >= 0) return n === 0 ? -1 : n;
      const e = errno();
      if (e === EAGAIN) return -1;
      if (e !== EINTR) throw osError(e, "recvmmsg", `fd ${fd}`);
    }
  }

  /** Slot `i`'s datagram length (cut to `slotSize`). */
  length(i: number): number {
    return Math.min(this.#hv.getUint32(i * MMSGHDR_SIZE + 56, true), this.slotSize);
  }

  /** Whether slot `i`'s datagram was longer than `slotSize` (MSG_TRUNC). */
  truncated(i: number): boolean {
    return (this.#hv.getInt32(i * MMSGHDR_SIZE + 48, true) & MSG_TRUNC) !== 0;
  }

  /** Slot `i`'s whole data area (`slotSize` bytes; the datagram is its first `length(i)`). */
  slot(i: number): Uint8Array {
    return this.#slots[i];
  }

  /** Slot `i`'s address area (`SOCKADDR_MAX` bytes). */
  name(i: number): Uint8Array {
    return this.#nameViews[i];
  }

  /** Slot `i`'s address length as the kernel set it (0: no address). */
  nameLength(i: number): number {
    return this.#hv.getUint32(i * MMSGHDR_SIZE + 8, true);
  }
}
