/**
 * `EpollSelector`: Linux epoll, level-triggered; registrations live in the kernel.
 *
 * @module
 */
import { E, osError } from "../ffi/unix/errno.ts";
import { rewordError } from "../ffi/os_error.ts";
import { OS_FAMILY } from "../ffi/sys.ts";
import { closeFd, errno } from "../ffi/unix/libc.ts";
import {
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLL_EVENT_SIZE,
  epollEvents,
  epollFd,
  EPOLLIN,
  EPOLLOUT,
  setEpollEvent,
} from "../ffi/linux/epoll_event.ts";
import { linux } from "../ffi/linux/sys.ts";
import { Ticker } from "../ffi/unix/ticker.ts";
import { BaseSelector } from "./base_selector.ts";
import { EVENT_READ, EVENT_WRITE, type SelectResult } from "./selector_key.ts";

function toEpoll(events: number): number {
  return (events & EVENT_READ ? EPOLLIN : 0) | (events & EVENT_WRITE ? EPOLLOUT : 0);
}

const evBuf = (n: number) => new Uint8Array(new ArrayBuffer(n * EPOLL_EVENT_SIZE));

/**
 * Linux `epoll`: the cost of a wait does not grow with idle fds.
 *
 * @example
 * ```ts
 * import { EpollSelector, EVENT_WRITE, Socket } from "@aio/loop";
 * using sock = new Socket();
 * if (Deno.build.os === "linux") {
 *   using sel = new EpollSelector();
 *   sel.register(sock, EVENT_WRITE);
 *   console.log(sel.select(0));
 * }
 * ```
 */
export class EpollSelector extends BaseSelector {
  /** `"epoll"`. */
  readonly name: string = "epoll";
  // The periodic tick (_startTicks); undefined: not opened yet, null: none here.
  #ticker: Ticker | null | undefined = undefined;
  #epfd: number;
  #ctl = evBuf(1);
  #ctlView = new DataView(this.#ctl.buffer);
  #events = evBuf(64);
  #eventsView = new DataView(this.#events.buffer);
  #capacity = 64;
  #async = evBuf(1);

  /** Opens an epoll instance; `NotSupported` on Windows, before anything is opened. */
  constructor() {
    if (OS_FAMILY === "windows") {
      throw new Deno.errors.NotSupported(
        "EpollSelector is for Linux (epoll); this is windows: use SelectSelector " +
          "(Winsock select()) or DefaultSelector",
      );
    }
    super();
    try {
      const sys = linux();
      this.#epfd = sys.epoll_create1(EPOLL_CLOEXEC);
      if (this.#epfd < 0) throw osError(errno(), "epoll_create1");
    } catch (e) {
      this.abandon();
      throw e;
    }
    try {
      this.#ctlOp(EPOLL_CTL_ADD, this.wakeupFd, EPOLLIN);
    } catch (e) {
      closeFd(this.#epfd);
      this.abandon();
      throw e;
    }
  }

  /** The epoll instance's own fd. */
  fileno(): number {
    return this.#epfd;
  }

  /**
   * Refuses the epoll fd itself before the kernel does, so that the emulated
   * kqueue of the tests refuses it too; the error carries the EINVAL the
   * kernel would give, for callers that match on `code`.
   */
  protected override checkBackendFd(fd: number): void {
    if (fd === this.#ticker?.fd) {
      throw new TypeError(`fd ${fd} is this EpollSelector's own tick fd: it cannot be registered`);
    }
    if (fd === this.#epfd) {
      throw rewordError(
        osError(E.EINVAL, "epoll_ctl", `fd ${fd}`),
        `cannot register the selector's own epoll fd in itself (fd ${fd}): epoll refuses it ` +
          `(EINVAL); register it in another selector to nest selectors`,
        TypeError,
      );
    }
  }

  #ctlOp(op: number, fd: number, events: number): void {
    setEpollEvent(this.#ctlView, 0, events, fd);
    if (linux().epoll_ctl(this.#epfd, op, fd, this.#ctl) < 0) {
      const e = errno();
      const err = osError(e, "epoll_ctl", `fd ${fd}`);
      if (e === E.EPERM) {
        err.message = `fd ${fd} cannot be watched by epoll (EPERM): it is a regular file, a ` +
          `directory or a device without poll support. Use Deno's file APIs for files, or ` +
          `PollSelector/SelectSelector, which accept any fd`;
        throw err;
      }
      // The argument the kernel refused is the fd: name it (decisions.md B3).
      if (e === E.EINVAL) {
        throw rewordError(
          err,
          `fd ${fd} cannot be watched by this epoll instance (EINVAL, os error ${e}): ` +
            `it is the epoll fd itself, or epoll refuses this kind of fd`,
          TypeError,
        );
      }
      if (e === E.ELOOP) {
        throw rewordError(
          err,
          `fd ${fd} is an epoll instance that already watches this one, directly or through ` +
            `others, or nesting it would go deeper than the kernel allows (ELOOP, os error ${e})`,
          TypeError,
        );
      }
      throw err;
    }
  }

  /** Adds `fd` to the kernel object. */
  protected addFd(fd: number, events: number): void {
    this.#ctlOp(EPOLL_CTL_ADD, fd, toEpoll(events));
  }

  /** Changes the events of `fd`. */
  protected modifyFd(fd: number, _old: number, events: number): void {
    this.#ctlOp(EPOLL_CTL_MOD, fd, toEpoll(events));
  }

  /** Removes `fd`; silent when it is closed already. */
  protected removeFd(fd: number): void {
    // EBADF/ENOENT: the fd was closed, and the kernel dropped it already.
    linux().epoll_ctl(this.#epfd, EPOLL_CTL_DEL, fd, this.#ctl);
  }

  /**
   * Starts the tick: a timerfd in the epoll set, read by `collect()` when it
   * fires (which re-arms it).
   * @internal
   */
  override _startTicks(periodMs: number): boolean {
    const ticker = this.#ticker === undefined ? this.#openTicker(periodMs) : this.#ticker;
    if (ticker === null || this.closed) return false;
    ticker.start();
    return true;
  }

  /**
   * Stops the tick.
   * @internal
   */
  override _stopTicks(): void {
    this.#ticker?.stop();
  }

  #openTicker(periodMs: number): Ticker | null {
    this.#ticker = null;
    if (this.closed) return null;
    let ticker: Ticker | undefined;
    try {
      ticker = new Ticker(periodMs);
      this.#ctlOp(EPOLL_CTL_ADD, ticker.fd, EPOLLIN);
    } catch {
      // No timerfd (a sandbox, the fd limit): the caller bounds its waits with a timeout.
      ticker?.close();
      return null;
    }
    return this.#ticker = ticker;
  }

  /** One synchronous wait; -1 after EINTR. */
  protected wait(timeoutMs: number): number {
    const want = this.fdMap.size + 2; // the wakeup fd and the tick
    if (want > this.#capacity) {
      this.#capacity = Math.max(want, this.#capacity * 2);
      this.#events = evBuf(this.#capacity);
      this.#eventsView = new DataView(this.#events.buffer);
    }
    // epoll has 1 ms resolution: round up so that we wait at least timeoutMs.
    const t = timeoutMs < 0 ? -1 : Math.ceil(timeoutMs);
    const n = linux().epoll_wait(this.#epfd, this.#events, this.#capacity, t);
    if (n >= 0) return n;
    const e = errno();
    if (e === E.EINTR) return -1;
    throw osError(e, "epoll_wait");
  }

  /** Turns the raw results into entries. */
  protected collect(n: number, out: SelectResult): void {
    const view = this.#eventsView, map = this.fdMap, wfd = this.wakeupFd;
    const tfd = this.#ticker?.fd ?? -1;
    for (let i = 0; i < n; i++) {
      const fd = epollFd(view, i);
      if (fd === wfd) {
        this.drainWakeup();
        continue;
      }
      if (fd === tfd) {
        this.#ticker!.drain();
        continue;
      }
      const key = map.get(fd);
      if (key === undefined) continue;
      const rev = epollEvents(view, i);
      let ev = 0;
      if (rev & ~EPOLLIN) ev |= EVENT_WRITE;
      if (rev & ~EPOLLOUT) ev |= EVENT_READ;
      ev &= key.events;
      if (ev !== 0) out.push([key, ev]);
    }
  }

  /** One wait off the JS thread. */
  protected waitAsync(timeoutMs: number): Promise<number> {
    const t = timeoutMs < 0 ? -1 : Math.ceil(timeoutMs);
    return linux().epoll_wait_async(this.#epfd, this.#async, 1, t);
  }

  /** Closes the kernel object. */
  protected closeBackend(): void {
    this.#ticker?.close();
    closeFd(this.#epfd);
  }
}
