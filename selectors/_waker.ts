import { E, osError } from "../ffi/unix/errno.ts";
import { closeFd, errno, libc, makePipe } from "../ffi/unix/libc.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK, linux } from "../ffi/linux/sys.ts";

/**
 * A selector's wakeup channel: an eventfd on Linux, a pipe elsewhere. At most
 * one wake is outstanding, so waking a parked selector costs one write.
 */
export class Waker {
  /** The fd the selector watches for reading. */
  readonly fd: number;
  #writeFd: number;
  #buf = new Uint8Array(new ArrayBuffer(8));
  #pending = false;
  #closed = false;

  constructor() {
    if (Deno.build.os === "linux") {
      const fd = linux().eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
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
