/**
 * `KqueueSelector`: BSD/macOS kqueue, one filter per direction.
 *
 * @module
 */
import { E, osError } from "../ffi/unix/errno.ts";
import { rewordError } from "../ffi/os_error.ts";
import { OS_FAMILY } from "../ffi/sys.ts";
import {
  EV_ADD,
  EV_DELETE,
  EVFILT_READ,
  EVFILT_WRITE,
  KEVENT_SIZE,
  keventFilter,
  keventIdent,
  setKevent,
} from "../ffi/darwin/kevent.ts";
import { type KqueueApi, systemKqueue } from "../ffi/darwin/sys.ts";
import { TIMESPEC_SIZE, writeTimespec } from "../ffi/unix/time.ts";
import { BaseSelector } from "./base_selector.ts";
import { EVENT_READ, EVENT_WRITE, type SelectResult } from "./selector_key.ts";

/**
 * Options of `KqueueSelector`.
 *
 * @example
 * ```ts
 * import type { KqueueSelectorOptions } from "@aio/loop";
 * const opts: KqueueSelectorOptions = {};
 * ```
 */
export interface KqueueSelectorOptions {
  /** The kqueue calls to use; the system's by default (tests put an emulation here). */
  api?: KqueueApi;
}

const kevBuf = (n: number) => new Uint8Array(new ArrayBuffer(n * KEVENT_SIZE));

/**
 * macOS/BSD `kqueue`. Read and write readiness of one fd come back as one
 * entry with both bits. Not yet run on a real macOS kernel: tested here
 * against an emulation of kqueue built on Linux `poll`.
 *
 * @example
 * ```ts
 * import { KqueueSelector, EVENT_WRITE, Socket } from "@aio/loop";
 * using sock = new Socket();
 * if (Deno.build.os === "darwin") {
 *   using sel = new KqueueSelector();
 *   sel.register(sock, EVENT_WRITE);
 *   console.log(sel.select(0));
 * }
 * ```
 */
export class KqueueSelector extends BaseSelector {
  /** `"kqueue"`. */
  readonly name: string = "kqueue";
  #api: KqueueApi;
  #kq: number;
  #changes = kevBuf(2);
  #changesView = new DataView(this.#changes.buffer);
  #events = kevBuf(64);
  #eventsView = new DataView(this.#events.buffer);
  #capacity = 64;
  #async = kevBuf(1);
  #ts = new Uint8Array(new ArrayBuffer(TIMESPEC_SIZE));
  #tsView = new DataView(this.#ts.buffer);
  #tsAsync = new Uint8Array(new ArrayBuffer(TIMESPEC_SIZE));
  #tsAsyncView = new DataView(this.#tsAsync.buffer);
  #merge = new Map<number, number>();

  /** Opens a kqueue; `NotSupported` on Windows (without `api`), before anything is opened. */
  constructor(options: KqueueSelectorOptions = {}) {
    if (OS_FAMILY === "windows" && options.api === undefined) {
      throw new Deno.errors.NotSupported(
        "KqueueSelector is for macOS and the BSDs (kqueue); this is windows: use " +
          "SelectSelector (Winsock select()) or DefaultSelector",
      );
    }
    super();
    try {
      this.#api = options.api ?? systemKqueue();
      this.#kq = this.#api.kqueue();
      if (this.#kq < 0) throw osError(this.#api.errno(), "kqueue");
    } catch (e) {
      this.abandon();
      throw e;
    }
    try {
      this.#change(this.wakeupFd, EVFILT_READ, EV_ADD);
    } catch (e) {
      this.#api.close(this.#kq);
      this.abandon();
      throw e;
    }
  }

  /** The kqueue's own fd. */
  fileno(): number {
    return this.#kq;
  }

  #change(fd: number, filter: number, flags: number): boolean {
    setKevent(this.#changesView, 0, fd, filter, flags);
    return this.#api.kevent(this.#kq, this.#changes, 1, null, 0, null) >= 0;
  }

  #changeOrThrow(fd: number, filter: number, flags: number): void {
    if (this.#change(fd, filter, flags)) return;
    const e = this.#api.errno();
    const err = osError(e, "kevent", `fd ${fd}`);
    // The argument the kernel refused is the fd: name it (decisions.md B3).
    if (e === E.EINVAL) {
      throw rewordError(
        err,
        `fd ${fd} cannot be watched by this kqueue (EINVAL, os error ${e}): it is the kqueue ` +
          `itself, or kqueue has no ${filter === EVFILT_READ ? "read" : "write"} filter for it`,
        TypeError,
      );
    }
    throw err;
  }

  /**
   * Refuses the kqueue fd itself before the kernel does, so that the emulated
   * kqueue of the tests refuses it too; the error carries the EINVAL the
   * kernel would give, for callers that match on `code`.
   */
  protected override checkBackendFd(fd: number): void {
    if (fd === this.#kq) {
      throw rewordError(
        osError(E.EINVAL, "kevent", `fd ${fd}`),
        `cannot register the selector's own kqueue fd in itself (fd ${fd}): kqueue refuses it ` +
          `(EINVAL); register it in another selector to nest selectors`,
        TypeError,
      );
    }
  }

  /** Adds `fd` to the kernel object. */
  protected addFd(fd: number, events: number): void {
    if (events & EVENT_READ) this.#changeOrThrow(fd, EVFILT_READ, EV_ADD);
    if (events & EVENT_WRITE) {
      try {
        this.#changeOrThrow(fd, EVFILT_WRITE, EV_ADD);
      } catch (e) {
        if (events & EVENT_READ) this.#change(fd, EVFILT_READ, EV_DELETE);
        throw e;
      }
    }
  }

  /** Changes the events of `fd`. */
  protected modifyFd(fd: number, old: number, events: number): void {
    const gone = old & ~events, added = events & ~old;
    if (gone & EVENT_READ) this.#change(fd, EVFILT_READ, EV_DELETE);
    if (gone & EVENT_WRITE) this.#change(fd, EVFILT_WRITE, EV_DELETE);
    if (added & EVENT_READ) this.#changeOrThrow(fd, EVFILT_READ, EV_ADD);
    if (added & EVENT_WRITE) this.#changeOrThrow(fd, EVFILT_WRITE, EV_ADD);
  }

  /** Removes `fd`; silent when it is closed already. */
  protected removeFd(fd: number, events: number): void {
    // Failures mean the fd was closed, and kqueue dropped its filters already.
    if (events & EVENT_READ) this.#change(fd, EVFILT_READ, EV_DELETE);
    if (events & EVENT_WRITE) this.#change(fd, EVFILT_WRITE, EV_DELETE);
  }

  /** One synchronous wait; -1 after EINTR. */
  protected wait(timeoutMs: number): number {
    const want = this.fdMap.size * 2 + 1;
    if (want > this.#capacity) {
      this.#capacity = Math.max(want, this.#capacity * 2);
      this.#events = kevBuf(this.#capacity);
      this.#eventsView = new DataView(this.#events.buffer);
    }
    let ts: Uint8Array | null = null;
    if (timeoutMs >= 0) {
      writeTimespec(this.#tsView, timeoutMs);
      ts = this.#ts;
    }
    const n = this.#api.kevent(this.#kq, null, 0, this.#events, this.#capacity, ts);
    if (n >= 0) return n;
    const e = this.#api.errno();
    if (e === E.EINTR) return -1;
    throw osError(e, "kevent");
  }

  /** Turns the raw results into entries. */
  protected collect(n: number, out: SelectResult): void {
    const view = this.#eventsView, map = this.fdMap, merge = this.#merge;
    merge.clear();
    for (let i = 0; i < n; i++) {
      const fd = keventIdent(view, i);
      const filter = keventFilter(view, i);
      if (fd === this.wakeupFd && filter === EVFILT_READ) {
        this.drainWakeup();
        continue;
      }
      const key = map.get(fd);
      if (key === undefined) continue;
      const ev = (filter === EVFILT_READ ? EVENT_READ : filter === EVFILT_WRITE ? EVENT_WRITE : 0) &
        key.events;
      if (ev === 0) continue;
      const at = merge.get(fd);
      if (at === undefined) {
        merge.set(fd, out.length);
        out.push([key, ev]);
      } else {
        out[at][1] |= ev;
      }
    }
  }

  /** One wait off the JS thread. */
  protected waitAsync(timeoutMs: number): Promise<number> {
    let ts: Uint8Array | null = null;
    if (timeoutMs >= 0) {
      writeTimespec(this.#tsAsyncView, timeoutMs);
      ts = this.#tsAsync;
    }
    return this.#api.keventAsync(this.#kq, null, 0, this.#async, 1, ts);
  }

  /** Closes the kernel object. */
  protected closeBackend(): void {
    this.#api.close(this.#kq);
  }
}
