/**
 * A selector's wakeup channel on Unix: an eventfd where libc has one
 * (Linux), else a nonblocking pipe (macOS). At most one wake is outstanding,
 * so waking a parked selector costs one `write`.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, LIBC_PATH, OS } from "./_abi.ts";
import { E, osError } from "./errno.ts";
import { closeFd, errno, libc, makePipe } from "./libc.ts";

const eventfdLib = lazyLibrary(
  LIBC_PATH,
  { eventfd: { parameters: ["u32", "i32"], result: "i32" } } as const,
  { available: ABI.HAS_EVENTFD, unsupported: `no eventfd on ${OS}` },
);
// eventfd's EFD_CLOEXEC and EFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.
const EFD_FLAGS = ABI.O_CLOEXEC | ABI.O_NONBLOCK;

/**
 * A wakeup channel: `fd` turns readable after `wake()` until `drain()`.
 *
 * @example
 * ```ts
 * import { Waker } from "./waker.ts";
 * const w = new Waker();
 * w.wake();
 * console.log(w.pending); // true
 * w.drain();
 * w.close();
 * ```
 */
export class Waker {
  /** The fd the selector watches for reading. */
  readonly fd: number;
  #writeFd: number;
  #buf = new Uint8Array(new ArrayBuffer(8));
  #pending = false;
  #closed = false;

  /** Opens the channel (an eventfd, or a pipe), nonblocking and close-on-exec. */
  constructor() {
    if (ABI.HAS_EVENTFD) {
      const fd = eventfdLib().eventfd(0, EFD_FLAGS);
      if (fd < 0) throw osError(errno(), "eventfd");
      this.fd = this.#writeFd = fd;
    } else {
      [this.fd, this.#writeFd] = makePipe();
    }
  }

  /** Whether a wake was written and not yet drained. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Makes the read end readable (once until the next drain). */
  wake(): void {
    if (this.#pending || this.#closed) return;
    this.#pending = true;
    const b = this.#buf;
    b.fill(0);
    b[0] = 1;
    const n = libc().write(this.#writeFd, b, this.fd === this.#writeFd ? 8n : 1n);
    // EAGAIN means the channel is already full: readable, which is all we need.
    if (n < 0 && errno() !== E.EAGAIN) {
      throw osError(errno(), "write", `wakeup fd ${this.#writeFd}`);
    }
  }

  /** Empties the channel. */
  drain(): void {
    this.#pending = false;
    const s = libc();
    while (s.read(this.fd, this.#buf, 8n) > 0 && this.fd !== this.#writeFd);
  }

  /** Closes the fds. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
    if (this.#writeFd !== this.fd) closeFd(this.#writeFd);
  }
}
