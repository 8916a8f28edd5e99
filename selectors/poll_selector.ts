/**
 * `PollSelector`: `poll(2)` over a packed pollfd array, one slot per fd.
 *
 * @module
 */
import { E, osError } from "../ffi/unix/errno.ts";
import { rewordError } from "../ffi/os_error.ts";
import { OS_FAMILY } from "../ffi/sys.ts";
import { errno, libc, nfds } from "../ffi/unix/libc.ts";
import {
  POLLFD_SIZE,
  pollfdFd,
  pollfdRevents,
  POLLIN,
  POLLOUT,
  setPollfd,
} from "../ffi/unix/pollfd.ts";
import { BaseSelector } from "./base_selector.ts";
import { EVENT_READ, EVENT_WRITE, type SelectResult } from "./selector_key.ts";

function toPoll(events: number): number {
  return (events & EVENT_READ ? POLLIN : 0) | (events & EVENT_WRITE ? POLLOUT : 0);
}

/**
 * `poll(2)`: no fd limit, cost grows with the number of registered fds.
 * Unix only: on Windows the constructor throws `NotSupported` (CPython has
 * no `PollSelector` there either: `WSAPoll` misses failed connects).
 *
 * @example
 * ```ts
 * import { PollSelector, EVENT_WRITE, Socket } from "@aio/loop";
 * using sock = new Socket();
 * using sel = new PollSelector();
 * sel.register(sock, EVENT_WRITE);
 * console.log(sel.select(0));
 * ```
 */
export class PollSelector extends BaseSelector {
  /** `"poll"`. */
  readonly name: string = "poll";
  #buf = new Uint8Array(new ArrayBuffer(64 * POLLFD_SIZE));
  #view = new DataView(this.#buf.buffer);
  #async = new Uint8Array(new ArrayBuffer(64 * POLLFD_SIZE));
  #count = 1;
  #slot = new Map<number, number>();

  /** Opens the selector; `NotSupported` on Windows, before anything is opened. */
  constructor() {
    if (OS_FAMILY === "windows") {
      throw new Deno.errors.NotSupported(
        "PollSelector is for Unix (poll(2)); this is windows: use SelectSelector " +
          "(Winsock select()) or DefaultSelector",
      );
    }
    super();
    setPollfd(this.#view, 0, this.wakeupFd, POLLIN);
  }

  /** False: a change reaches the kernel at the next wait, so a parked wait is woken. */
  protected override get registersLive(): boolean {
    return false;
  }

  /** Adds `fd` to the kernel object. */
  protected addFd(fd: number, events: number): void {
    if ((this.#count + 1) * POLLFD_SIZE > this.#buf.byteLength) {
      const bigger = new Uint8Array(new ArrayBuffer(this.#buf.byteLength * 2));
      bigger.set(this.#buf);
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    const i = this.#count++;
    setPollfd(this.#view, i, fd, toPoll(events));
    this.#slot.set(fd, i);
  }

  /** Changes the events of `fd`. */
  protected modifyFd(fd: number, _old: number, events: number): void {
    setPollfd(this.#view, this.#slot.get(fd)!, fd, toPoll(events));
  }

  /** Removes `fd`; silent when it is closed already. */
  protected removeFd(fd: number): void {
    const i = this.#slot.get(fd);
    if (i === undefined) return;
    this.#slot.delete(fd);
    const last = --this.#count;
    if (i !== last) {
      const movedFd = pollfdFd(this.#view, last);
      this.#buf.copyWithin(i * POLLFD_SIZE, last * POLLFD_SIZE, (last + 1) * POLLFD_SIZE);
      this.#slot.set(movedFd, i);
    }
  }

  /** One synchronous wait; -1 after EINTR. */
  protected wait(timeoutMs: number): number {
    const n = libc().poll(this.#buf, nfds(this.#count), timeoutMs < 0 ? -1 : Math.ceil(timeoutMs));
    if (n >= 0) return n;
    const e = errno();
    if (e === E.EINTR) return -1;
    // The one argument poll() can refuse here is the count (nfds > RLIMIT_NOFILE).
    if (e === E.EINVAL) {
      throw rewordError(
        osError(e, "poll"),
        `PollSelector cannot wait on ${this.#count} fds (its ${this.fdMap.size} registrations ` +
          `and its wakeup fd): poll() takes at most RLIMIT_NOFILE fds (EINVAL, os error ${e})`,
        RangeError,
      );
    }
    throw osError(e, "poll");
  }

  /** Turns the raw results into entries. */
  protected collect(n: number, out: SelectResult): void {
    const view = this.#view, map = this.fdMap;
    for (let i = 0, found = 0; i < this.#count && found < n; i++) {
      const rev = pollfdRevents(view, i);
      if (rev === 0) continue;
      found++;
      if (i === 0) {
        this.drainWakeup();
        continue;
      }
      const key = map.get(pollfdFd(view, i));
      if (key === undefined) continue;
      // As CPython: error and hang-up wake both directions.
      let ev = 0;
      if (rev & ~POLLIN) ev |= EVENT_WRITE;
      if (rev & ~POLLOUT) ev |= EVENT_READ;
      ev &= key.events;
      if (ev !== 0) out.push([key, ev]);
    }
  }

  /** One wait off the JS thread. */
  protected waitAsync(timeoutMs: number): Promise<number> {
    const bytes = this.#count * POLLFD_SIZE;
    if (this.#async.byteLength < bytes) {
      this.#async = new Uint8Array(new ArrayBuffer(this.#buf.byteLength));
    }
    this.#async.set(this.#buf.subarray(0, bytes));
    return libc().poll_async(
      this.#async,
      nfds(this.#count),
      timeoutMs < 0 ? -1 : Math.ceil(timeoutMs),
    );
  }

  /** Closes the kernel object. */
  protected closeBackend(): void {}
}
