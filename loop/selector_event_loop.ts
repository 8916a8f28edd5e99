/**
 * `SelectorEventLoop`: `BaseEventLoop` plus readiness I/O over a
 * `BaseSelector` (asyncio's `selector_events.BaseSelectorEventLoop`).
 *
 * @module
 */
import {
  BaseSelector,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  type FileObj,
  type SelectResult,
} from "../selectors/mod.ts";
import type { EventLoopOptions } from "./abstract_event_loop.ts";
import { BaseEventLoop } from "./base_event_loop.ts";
import { type Callback, Handle } from "./handle.ts";

/** What the loop keeps in a selector key: the reader and writer handles of the fd. */
class Watchers {
  constructor(public reader: Handle | null, public writer: Handle | null) {}
}

// Lenient: only finds an existing key; register() does the checking and the error messages.
function toFd(fileobj: FileObj): number {
  if (typeof fileobj === "number") return fileobj;
  try {
    const fileno = (fileobj as { fileno?: unknown } | null)?.fileno;
    return typeof fileno === "function" ? fileno.call(fileobj) : -1;
  } catch {
    return -1;
  }
}

/**
 * asyncio's `SelectorEventLoop`: an event loop that watches fds with a
 * selector (`DefaultSelector` unless one is given). Closing the loop
 * closes the selector.
 *
 * @example
 * ```ts
 * import { PollSelector, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop(new PollSelector());
 * loop.callSoon(() => loop.stop());
 * await loop.runForever();
 * ```
 */
export class SelectorEventLoop extends BaseEventLoop {
  #selector: BaseSelector;

  /** Makes a loop over a new `DefaultSelector`. */
  constructor(options?: EventLoopOptions);
  /** Makes a loop over `selector` (a new `DefaultSelector` when `null`). */
  constructor(selector: BaseSelector | null | undefined, options?: EventLoopOptions);
  constructor(
    selectorOrOptions?: BaseSelector | EventLoopOptions | null,
    options?: EventLoopOptions,
  ) {
    const selector = selectorOrOptions instanceof BaseSelector ? selectorOrOptions : null;
    if (selector === null && selectorOrOptions != null) {
      if (options !== undefined || typeof selectorOrOptions !== "object") {
        throw new TypeError("SelectorEventLoop() takes a BaseSelector, then options");
      }
      options = selectorOrOptions as EventLoopOptions;
    }
    super(options);
    this.#selector = selector ?? new DefaultSelector();
  }

  /**
   * The selector the loop waits with.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.selector.name); // "epoll" on Linux
   * ```
   */
  get selector(): BaseSelector {
    return this.#selector;
  }

  /**
   * Closes the loop and its selector (with its wakeup fds).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * const loop = new SelectorEventLoop();
   * loop.close();
   * ```
   */
  override close(): void {
    if (this.isClosed()) return;
    super.close();
    this.#selector.close();
  }

  /** Polls the selector without waiting. */
  protected _poll(): void {
    const events = this.#selector.select(0);
    if (events.length > 0) this.#processEvents(events);
  }

  /** Waits with the selector off the JS thread. */
  protected async _wait(timeoutMs: number | null): Promise<void> {
    const events = await this.#selector.selectAsync(timeoutMs);
    if (events.length > 0 && !this.isClosed()) this.#processEvents(events);
  }

  /** Wakes a pending `selectAsync()`. */
  protected _wakeup(): void {
    this.#selector.wakeup();
  }

  #processEvents(events: SelectResult): void {
    for (let i = 0; i < events.length; i++) {
      const [key, mask] = events[i];
      const w = key.data as Watchers;
      if ((mask & EVENT_READ) !== 0 && w.reader !== null) {
        if (w.reader.cancelled()) this.removeReader(key.fileobj);
        else this._addCallback(w.reader);
      }
      if ((mask & EVENT_WRITE) !== 0 && w.writer !== null) {
        if (w.writer.cancelled()) this.removeWriter(key.fileobj);
        else this._addCallback(w.writer);
      }
    }
  }

  #add(
    fileobj: FileObj,
    event: number,
    callback: Callback,
    args: unknown[],
    method: string,
  ): Handle {
    if (this.isClosed()) throw new Error("Event loop is closed");
    if (typeof callback !== "function") {
      throw new TypeError(`a callable object was expected by ${method}(), got ${typeof callback}`);
    }
    const handle = new Handle(callback, { loop: this, args });
    const key = this.#selector.getMap().get(toFd(fileobj));
    if (key === undefined) {
      const w = event === EVENT_READ ? new Watchers(handle, null) : new Watchers(null, handle);
      this.#selector.register(fileobj, event, w);
      return handle;
    }
    const w = key.data as Watchers;
    const old = event === EVENT_READ ? w.reader : w.writer;
    if ((key.events & event) === 0) this.#selector.modify(fileobj, key.events | event, w);
    if (event === EVENT_READ) w.reader = handle;
    else w.writer = handle;
    old?.cancel();
    return handle;
  }

  #remove(fileobj: FileObj, event: number): boolean {
    if (this.isClosed()) return false;
    const key = this.#selector.getMap().get(toFd(fileobj));
    if (key === undefined) return false;
    const w = key.data as Watchers;
    const old = event === EVENT_READ ? w.reader : w.writer;
    const mask = key.events & ~event;
    if (mask === 0) this.#selector.unregister(fileobj);
    else if (mask !== key.events) this.#selector.modify(fileobj, mask, w);
    if (event === EVENT_READ) w.reader = null;
    else w.writer = null;
    if (old === null) return false;
    old.cancel();
    return true;
  }

  /**
   * Calls `callback(...args)` whenever `fileobj` (an fd or an object with
   * `fileno()`) is readable; a second call for the same fd replaces the
   * callback. Returns the handle (cancelling it stops the watch at the next event). Regular files and directories are refused (use Deno's file
   * APIs); a closed or invalid fd throws.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fd = 0; // stdin, when it is a terminal, a pipe or a socket
   * loop.addReader(fd, () => loop.stop());
   * loop.removeReader(fd);
   * ```
   */
  addReader<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle {
    return this.#add(fileobj, EVENT_READ, callback as Callback, args, "addReader");
  }

  /**
   * Stops watching `fileobj` for reading; returns whether a reader was set.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeReader(0)); // false
   * ```
   */
  removeReader(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_READ);
  }

  /**
   * Calls `callback(...args)` whenever `fileobj` is writable; a second call
   * for the same fd replaces the callback.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fd = 1; // stdout, when it is a terminal, a pipe or a socket
   * loop.addWriter(fd, () => loop.removeWriter(fd));
   * ```
   */
  addWriter<A extends unknown[]>(fileobj: FileObj, callback: Callback<A>, ...args: A): Handle {
    return this.#add(fileobj, EVENT_WRITE, callback as Callback, args, "addWriter");
  }

  /**
   * Stops watching `fileobj` for writing; returns whether a writer was set.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeWriter(1)); // false
   * ```
   */
  removeWriter(fileobj: FileObj): boolean {
    return this.#remove(fileobj, EVENT_WRITE);
  }
}
