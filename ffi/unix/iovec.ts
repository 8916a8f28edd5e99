/**
 * Gathered writes: `writev(2)` and `sendmsg(2)` over an off-heap `struct iovec`
 * array that is made once and reused. Every entry is bounds-checked against
 * its `Uint8Array` before its address reaches the kernel, at most
 * {@linkcode IOV_MAX} entries go into one call, and one call moves at most
 * 2^31-1 bytes (byte counts come back as `i32`, as in `./socket.ts`).
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { DARWIN, LINUX, OS } from "./_abi.ts";
import { E, osError } from "./errno.ts";
import { checkFd, errno, LIBC_PATH } from "./libc.ts";
import { SOCK } from "./socket.ts";

/**
 * The most entries one `writev`/`sendmsg` takes (`IOV_MAX`: 1024 on Linux
 * and macOS).
 *
 * @example
 * ```ts
 * import { IOV_MAX } from "./iovec.ts";
 * console.log(IOV_MAX); // 1024
 * ```
 */
export const IOV_MAX = 1024;

// struct iovec { void *iov_base; size_t iov_len; } on 64-bit Linux and macOS.
const IOVEC_SIZE = 16;
// struct msghdr, zeroed except msg_iov (offset 16) and msg_iovlen (offset 24). Linux makes
// msg_iovlen a size_t, macOS an int followed by padding: a u32 at 24 with 0 at 28 suits both.
const MSGHDR_SIZE = 56;
const MAX_IO = 0x7fffffff;
const EAGAIN = E.EAGAIN, EINTR = E.EINTR;

const SYMBOLS = {
  writev: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
} as const;

const symbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: LINUX || DARWIN,
  unsupported: `writev/sendmsg bindings support Linux and macOS, not ${OS}`,
});

/**
 * A reusable array of `struct iovec`, off the V8 heap. `push()` adds views;
 * `sendmsg()`/`writev()` send them in one call. The arrays pushed are kept
 * referenced (so they stay alive) until `clear()`.
 *
 * @example
 * ```ts
 * import { IovecArray } from "./iovec.ts";
 * import { closeFd, makeSocketPair, readFd } from "./libc.ts";
 * const [a, b] = makeSocketPair();
 * const iov = new IovecArray(4);
 * iov.push(new TextEncoder().encode("hello, "));
 * iov.push(new TextEncoder().encode("world"));
 * console.log(iov.sendmsg(a)); // 12
 * iov.clear();
 * const buf = new Uint8Array(64);
 * console.log(new TextDecoder().decode(buf.subarray(0, readFd(b, buf)))); // "hello, world"
 * closeFd(a);
 * closeFd(b);
 * ```
 */
export class IovecArray {
  #capacity: number;
  #iov: DataView;
  #msg: Uint8Array;
  #refs: Uint8Array[] = [];
  #bytes = 0;

  /** Makes room for `capacity` entries (1 to {@linkcode IOV_MAX}; all of them by default). */
  constructor(capacity: number = IOV_MAX) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > IOV_MAX) {
      throw new RangeError(`IovecArray: capacity must be from 1 to ${IOV_MAX}, got ${capacity}`);
    }
    this.#capacity = capacity;
    const iovBytes = new Uint8Array(new ArrayBuffer(capacity * IOVEC_SIZE));
    this.#iov = new DataView(iovBytes.buffer);
    this.#msg = new Uint8Array(new ArrayBuffer(MSGHDR_SIZE));
    const msgView = new DataView(this.#msg.buffer);
    // An explicit ArrayBuffer lives off the V8 heap: its address never changes.
    msgView.setBigUint64(16, Deno.UnsafePointer.value(Deno.UnsafePointer.of(iovBytes)), true);
  }

  /** How many entries fit. */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many entries are set. */
  get length(): number {
    return this.#refs.length;
  }

  /** The bytes the entries hold together. */
  get byteLength(): number {
    return this.#bytes;
  }

  /**
   * Adds `data` from byte `start` on. Returns `false`, adding nothing, when
   * the array is full or the call would exceed 2^31-1 bytes (and it already
   * holds something; a lone large entry is cut to that size). Empty views
   * are skipped (and count as added).
   */
  push(data: Uint8Array, start = 0): boolean {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError("IovecArray.push(): data must be a Uint8Array");
    }
    const len = data.byteLength;
    if (!Number.isInteger(start) || start < 0 || start > len) {
      throw new RangeError(`IovecArray.push(): start must be from 0 to ${len}, got ${start}`);
    }
    let n = len - start;
    if (n === 0) return true;
    const i = this.#refs.length;
    if (i >= this.#capacity) return false;
    if (this.#bytes + n > MAX_IO) {
      if (i > 0) return false;
      n = MAX_IO;
    }
    // Reading .buffer moves a small on-heap typed array's bytes off the heap for good, so the
    // address taken next stays valid until the call (JS cannot run in between).
    void data.buffer;
    const view = start === 0 ? data : data.subarray(start);
    const ptr = Deno.UnsafePointer.value(Deno.UnsafePointer.of(view));
    const off = i * IOVEC_SIZE;
    this.#iov.setBigUint64(off, BigInt(ptr), true);
    this.#iov.setUint32(off + 8, n, true);
    this.#iov.setUint32(off + 12, 0, true);
    this.#refs.push(view);
    this.#bytes += n;
    return true;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#refs.length = 0;
    this.#bytes = 0;
  }

  /**
   * `sendmsg(fd, {iov}, flags)` (`MSG_NOSIGNAL` is always added, so a closed
   * peer gives `EPIPE`, never `SIGPIPE`). Returns the bytes sent, or **-1
   * when the call would block**; other errors throw `Deno.errors.*`.
   */
  sendmsg(fd: number, flags = 0): number {
    return this.#call(fd, flags, true);
  }

  /** `writev(fd, iov)`: the bytes written, or **-1 when the call would block**. */
  writev(fd: number): number {
    return this.#call(fd, 0, false);
  }

  #call(fd: number, flags: number, msg: boolean): number {
    checkFd(fd);
    if ((flags | 0) !== flags) throw new TypeError("IovecArray.sendmsg(): flags must be an i32");
    const count = this.#refs.length;
    if (count === 0) return 0;
    const s = symbols();
    if (msg) {
      const dv = new DataView(this.#msg.buffer);
      dv.setUint32(24, count, true);
      dv.setUint32(28, 0, true);
    }
    for (;;) {
      const n = msg
        ? s.sendmsg(fd, this.#msg, flags | SOCK.MSG_NOSIGNAL)
        : s.writev(fd, this.#iov, count);
      if (n >= 0) return n;
      const e = errno();
      if (e === EAGAIN) return -1;
      if (e !== EINTR) throw osError(e, msg ? "sendmsg" : "writev", `fd ${fd}`);
    }
  }
}
