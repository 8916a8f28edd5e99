/**
 * A periodic tick on an fd: a `timerfd` (Linux) that turns readable every
 * `periodMs` while started. An epoll selector watches it, so that a blocking
 * wait can be bounded without a timeout of its own: a wait with a timeout
 * arms a kernel timer on every call, which costs microseconds on a VM, while
 * a started timerfd needs one `read` per tick (the kernel re-arms a periodic
 * timerfd only once its expiry was read). Linux only:
 * {@linkcode HAS_TICKER} says whether it exists, and where it does not,
 * constructing a {@linkcode Ticker} throws `Deno.errors.NotSupported`.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, LINUX, OS } from "./_abi.ts";
import { E, osError } from "./errno.ts";
import { closeFd, errno, libc, LIBC_PATH } from "./libc.ts";

/** Whether this OS has `timerfd_create(2)` (Linux ≥ 2.6.25). */
export const HAS_TICKER: boolean = LINUX;

const CLOCK_MONOTONIC = 1;
// timerfd's TFD_CLOEXEC and TFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.
const TFD_FLAGS = ABI.O_CLOEXEC | ABI.O_NONBLOCK;

const SYMBOLS = {
  timerfd_create: { parameters: ["i32", "i32"], result: "i32" },
  // struct itimerspec: { it_interval, it_value }, each a 64-bit { tv_sec, tv_nsec }.
  timerfd_settime: { parameters: ["i32", "i32", "buffer", "pointer"], result: "i32" },
} as const;

const symbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: HAS_TICKER,
  unsupported: `timerfd is a Linux call; on ${OS} bound the wait with its timeout`,
});

/**
 * A periodic timer whose `fd` turns readable every `periodMs` while
 * started; `drain()` reads the tick, which the next one needs (until read,
 * the kernel does not re-arm it); `stop()` disarms it and drops the tick not
 * read.
 *
 * @example
 * ```ts ignore
 * const t = new Ticker(1);
 * t.start();
 * // ... watch t.fd for reading; on each readable: t.drain()
 * t.stop();
 * t.close();
 * ```
 */
export class Ticker {
  /** The fd to watch for reading. */
  readonly fd: number;
  readonly #on: BigInt64Array;
  readonly #off = new BigInt64Array(4);
  readonly #buf = new Uint8Array(8);
  #started = false;
  #closed = false;

  /** Opens a stopped timerfd (nonblocking, close-on-exec) that ticks every `periodMs` (0.001–1000). */
  constructor(periodMs: number) {
    if (!(periodMs >= 0.001 && periodMs <= 1000)) {
      throw new RangeError(`Ticker: periodMs must be from 0.001 to 1000, got ${periodMs}`);
    }
    const ns = BigInt(Math.round(periodMs * 1e6));
    const sec = ns / 1_000_000_000n, nsec = ns % 1_000_000_000n;
    this.#on = new BigInt64Array([sec, nsec, sec, nsec]);
    const fd = symbols().timerfd_create(CLOCK_MONOTONIC, TFD_FLAGS);
    if (fd < 0) throw osError(errno(), "timerfd_create");
    this.fd = fd;
  }

  /** Whether the ticks are running. */
  get started(): boolean {
    return this.#started;
  }

  /** Starts ticking (the first tick one period from now); no-op when started. */
  start(): void {
    if (this.#started) return;
    this.#set(this.#on);
    this.#started = true;
  }

  /** Stops ticking and drops the tick not read (the fd is no longer readable). */
  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#set(this.#off);
  }

  /** Reads the tick (and re-arms the timer); returns whether there was one. */
  drain(): boolean {
    if (this.#closed) return false;
    return libc().read(this.fd, this.#buf, 8n) === 8;
  }

  /** Closes the fd; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#started = false;
    closeFd(this.fd);
  }

  #set(spec: BigInt64Array): void {
    if (this.#closed) throw new Deno.errors.BadResource("Ticker is closed");
    if (symbols().timerfd_settime(this.fd, 0, spec, null) < 0) {
      const e = errno();
      throw osError(e, "timerfd_settime", `fd ${this.fd}${e === E.EBADF ? " (closed)" : ""}`);
    }
  }
}
