/**
 * Gathered writes on Windows: `WSASend` over an off-heap `WSABUF` array that
 * is made once and reused, the twin of `../unix/iovec.ts` (whose `writev` and
 * `sendmsg` both become `WSASend` here: only sockets are written this way).
 * Every entry is bounds-checked against its `Uint8Array` before its address
 * is written, at most {@linkcode IOV_MAX} entries go into one call, and one
 * call moves at most 2^31-1 bytes.
 *
 * @module
 */
import { WSABUF } from "./structs.ts";
import { checkFd, E, errno, osError } from "./socket.ts";
import { ws2_32 } from "./ws2_32.ts";

/**
 * The most entries one `WSASend` is given here (1024, as `IOV_MAX` on Linux
 * and macOS; Winsock sets no smaller limit).
 *
 * @example
 * ```ts
 * import { IOV_MAX } from "./iovec.ts";
 * console.log(IOV_MAX); // 1024
 * ```
 */
export const IOV_MAX = 1024;

const MAX_IO = 0x7fffffff;

/**
 * A reusable array of `WSABUF`, off the V8 heap. `push()` adds views;
 * `sendmsg()`/`writev()` send them in one nonoverlapped `WSASend` (the
 * socket's own blocking mode applies). The arrays pushed are kept
 * referenced (so they stay alive) until `clear()`.
 *
 * @example
 * ```ts
 * import { IovecArray } from "./iovec.ts";
 * import { loopbackSocketPair } from "./waker.ts";
 * import { sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const [a, b] = loopbackSocketPair();
 *   const iov = new IovecArray(4);
 *   iov.push(new TextEncoder().encode("hello, "));
 *   iov.push(new TextEncoder().encode("world"));
 *   console.log(iov.sendmsg(a)); // 12
 *   iov.clear();
 *   sock().closesocket(a);
 *   sock().closesocket(b);
 * }
 * ```
 */
export class IovecArray {
  #capacity: number;
  #bufs: DataView;
  #bufsPtr: Deno.PointerValue;
  #sent = new Uint32Array(new ArrayBuffer(4));
  #sentPtr: Deno.PointerValue;
  #refs: Uint8Array[] = [];
  #bytes = 0;

  /** Makes room for `capacity` entries (1 to {@linkcode IOV_MAX}; all of them by default). */
  constructor(capacity: number = IOV_MAX) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > IOV_MAX) {
      throw new RangeError(`IovecArray: capacity must be from 1 to ${IOV_MAX}, got ${capacity}`);
    }
    this.#capacity = capacity;
    const bytes = new Uint8Array(new ArrayBuffer(capacity * WSABUF.SIZE));
    this.#bufs = new DataView(bytes.buffer);
    // An explicit ArrayBuffer lives off the V8 heap: its address never changes.
    this.#bufsPtr = Deno.UnsafePointer.of(bytes);
    this.#sentPtr = Deno.UnsafePointer.of(this.#sent);
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
    // Reading .buffer moves a small on-heap typed array's bytes off the heap for good.
    void data.buffer;
    const view = start === 0 ? data : data.subarray(start);
    const ptr = Deno.UnsafePointer.value(Deno.UnsafePointer.of(view));
    const off = i * WSABUF.SIZE;
    this.#bufs.setUint32(off + WSABUF.len, n, true);
    this.#bufs.setUint32(off + WSABUF.len + 4, 0, true);
    this.#bufs.setBigUint64(off + WSABUF.buf, BigInt(ptr), true);
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
   * `WSASend(s, bufs, count, &sent, flags, NULL, NULL)`. Returns the bytes
   * sent, or **-1 when the call would block** (WSAEWOULDBLOCK); other
   * errors throw `Deno.errors.*` (`BadResource` for a closed SOCKET).
   */
  sendmsg(fd: number, flags = 0): number {
    checkFd(fd);
    if ((flags | 0) !== flags) throw new TypeError("IovecArray.sendmsg(): flags must be an i32");
    const count = this.#refs.length;
    if (count === 0) return 0;
    const w = ws2_32();
    this.#sent[0] = 0;
    for (;;) {
      const rc = w.WSASend(
        BigInt(fd),
        this.#bufsPtr,
        count,
        this.#sentPtr,
        flags >>> 0,
        null,
        null,
      );
      if (rc === 0) return this.#sent[0];
      const e = errno();
      if (e === E.EWOULDBLOCK) return -1;
      if (e !== E.EINTR) throw osError(e, "WSASend", `socket ${fd}`);
    }
  }

  /** The same as {@linkcode IovecArray.sendmsg} with no flags (Windows writes sockets only here). */
  writev(fd: number): number {
    return this.sendmsg(fd, 0);
  }
}
