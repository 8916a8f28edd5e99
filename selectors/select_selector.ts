/**
 * `SelectSelector`: `select(2)` over two fd_sets of FD_SETSIZE (1024) bits.
 *
 * @module
 */
import { E, osError } from "../ffi/unix/errno.ts";
import { OS_FAMILY } from "../ffi/sys.ts";
import { errno, isOpenFd, libc } from "../ffi/unix/libc.ts";
import { FD_SET_BYTES, FD_SETSIZE, fdClr, fdIsSet, fdSet } from "../ffi/unix/fd_set.ts";
import { TIMEVAL_SIZE, writeTimeval } from "../ffi/unix/time.ts";
import { BaseSelector } from "./base_selector.ts";
import { EVENT_READ, EVENT_WRITE, type SelectResult } from "./selector_key.ts";

const fdSetBuf = () => new Uint8Array(new ArrayBuffer(FD_SET_BYTES));

/**
 * The portable selector: `select(2)`. Watches fds below FD_SETSIZE (1024)
 * only, and its cost grows with the highest fd. Unix only: on Windows the
 * constructor throws `NotSupported`, and the `SelectSelector` the package
 * exports there is the Winsock one (`./winsock_select_selector.ts`).
 *
 * @example
 * ```ts
 * import { SelectSelector, EVENT_READ, Socket } from "@aio/loop";
 * using sock = new Socket();
 * using sel = new SelectSelector();
 * sel.register(sock, EVENT_READ);
 * console.log(sel.select(0));
 * ```
 */
export class SelectSelector extends BaseSelector {
  /** `"select"`. */
  readonly name: string = "select";
  #rd = fdSetBuf();
  #wr = fdSetBuf();
  #rdOut = fdSetBuf();
  #wrOut = fdSetBuf();
  #rdAsync = fdSetBuf();
  #wrAsync = fdSetBuf();
  #tv = new Uint8Array(new ArrayBuffer(TIMEVAL_SIZE));
  #tvView = new DataView(this.#tv.buffer);
  #tvAsync = new Uint8Array(new ArrayBuffer(TIMEVAL_SIZE));
  #tvAsyncView = new DataView(this.#tvAsync.buffer);
  #maxFd: number;

  /** Opens the selector; `NotSupported` on Windows, before anything is opened. */
  constructor() {
    if (OS_FAMILY === "windows") {
      throw new Deno.errors.NotSupported(
        "the POSIX SelectSelector (select(2) over fd_set bitmaps) is for Unix; this is " +
          "windows: use SelectSelector or DefaultSelector from the package, which are the " +
          "Winsock one (WinsockSelectSelector) there",
      );
    }
    super();
    if (this.wakeupFd >= FD_SETSIZE) {
      const fd = this.wakeupFd;
      this.abandon();
      throw new RangeError(
        `SelectSelector cannot start: its wakeup channel got fd ${fd}, and select() takes only ` +
          `fds below FD_SETSIZE (${FD_SETSIZE}); with this many fds open use PollSelector or ` +
          `EpollSelector (DefaultSelector picks the best)`,
      );
    }
    fdSet(this.#rd, this.wakeupFd);
    this.#maxFd = this.wakeupFd;
  }

  /** Refuses fds at or above FD_SETSIZE. */
  protected override checkBackendFd(fd: number): void {
    if (fd >= FD_SETSIZE) {
      throw new RangeError(
        `SelectSelector cannot watch fd ${fd}: select() takes only fds below FD_SETSIZE ` +
          `(${FD_SETSIZE}); use PollSelector or EpollSelector (DefaultSelector picks the best)`,
      );
    }
  }

  /** False: a change reaches the kernel at the next wait, so a parked wait is woken. */
  protected override get registersLive(): boolean {
    return false;
  }

  /** Adds `fd` to the kernel object. */
  protected addFd(fd: number, events: number): void {
    if (events & EVENT_READ) fdSet(this.#rd, fd);
    if (events & EVENT_WRITE) fdSet(this.#wr, fd);
    if (fd > this.#maxFd) this.#maxFd = fd;
  }

  /** Changes the events of `fd`. */
  protected modifyFd(fd: number, _old: number, events: number): void {
    fdClr(this.#rd, fd);
    fdClr(this.#wr, fd);
    this.addFd(fd, events);
  }

  /** Removes `fd`; silent when it is closed already. */
  protected removeFd(fd: number): void {
    fdClr(this.#rd, fd);
    fdClr(this.#wr, fd);
    if (fd === this.#maxFd) {
      let max = this.wakeupFd;
      for (const k of this.fdMap.keys()) if (k > max) max = k;
      this.#maxFd = max;
    }
  }

  #timeval(view: DataView, buf: Uint8Array, timeoutMs: number): Uint8Array | null {
    if (timeoutMs < 0) return null;
    writeTimeval(view, timeoutMs);
    return buf;
  }

  /** One synchronous wait; -1 after EINTR. */
  protected wait(timeoutMs: number): number {
    this.#rdOut.set(this.#rd);
    this.#wrOut.set(this.#wr);
    const tv = this.#timeval(this.#tvView, this.#tv, timeoutMs);
    const n = libc().select(this.#maxFd + 1, this.#rdOut, this.#wrOut, null, tv);
    if (n >= 0) return n;
    const e = errno();
    if (e === E.EINTR) return -1;
    if (e === E.EBADF) {
      for (const fd of this.fdMap.keys()) {
        if (!isOpenFd(fd)) {
          throw new Deno.errors.BadResource(
            `fd ${fd} was closed while registered in SelectSelector: unregister it before closing it`,
          );
        }
      }
    }
    throw osError(e, "select");
  }

  /** Turns the raw results into entries. */
  protected collect(_n: number, out: SelectResult): void {
    const rd = this.#rdOut, wr = this.#wrOut;
    if (fdIsSet(rd, this.wakeupFd)) this.drainWakeup();
    this.fdMap.forEach((key, fd) => {
      let ev = 0;
      if (rd[fd >> 3] & (1 << (fd & 7))) ev |= EVENT_READ;
      if (wr[fd >> 3] & (1 << (fd & 7))) ev |= EVENT_WRITE;
      ev &= key.events;
      if (ev !== 0) out.push([key, ev]);
    });
  }

  /** One wait off the JS thread. */
  protected waitAsync(timeoutMs: number): Promise<number> {
    this.#rdAsync.set(this.#rd);
    this.#wrAsync.set(this.#wr);
    const tv = this.#timeval(this.#tvAsyncView, this.#tvAsync, timeoutMs);
    return libc().select_async(this.#maxFd + 1, this.#rdAsync, this.#wrAsync, null, tv);
  }

  /** Closes the kernel object. */
  protected closeBackend(): void {}
}
