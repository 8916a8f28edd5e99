/**
 * `BaseSelector`: the fd → key map, every check of the caller's input, the
 * timeout rules and the off-thread wait. Backends only translate events to
 * and from their system call.
 *
 * @module
 */
import { checkFd, describe, fileKind, osMonotonicClock, Waker } from "../ffi/sys.ts";
import { SelectorMap } from "./_selector_map.ts";
import {
  EVENT_READ,
  EVENT_WRITE,
  FD_KIND,
  type FileObj,
  type SelectorKey,
  type SelectResult,
} from "./selector_key.ts";

const ALL_EVENTS = EVENT_READ | EVENT_WRITE;
/** The longest single wait a kernel call is given; longer waits just return early. */
export const MAX_WAIT_MS = 0x7fffffff;

// Selectors closed while a wait of theirs was still returning, until they released their fds.
const releasing = new Set<Promise<void>>();

/**
 * Resolves once every selector closed while an off-thread wait of its own
 * was still returning (a wait that `wakeup()` ended early) has closed its
 * fds: a few microseconds after `close()`. For leak checks, as
 * `lookupsSettled()` is for name lookups.
 *
 * @example
 * ```ts
 * import { DefaultSelector, selectorsSettled } from "@aio/loop";
 * const sel = new DefaultSelector();
 * sel.close();
 * await selectorsSettled(); // its fds are closed now
 * ```
 */
export async function selectorsSettled(): Promise<void> {
  while (releasing.size > 0) await Promise.all([...releasing]);
}

class Key implements SelectorKey {
  constructor(
    readonly fileobj: FileObj,
    readonly fd: number,
    readonly events: number,
    readonly data: unknown,
  ) {
    Object.freeze(this);
  }
}

// A range test, not a bitwise one: `&` sees only the low 32 bits of a
// number, so 2 ** 32 + 3 would pass as 3.
function checkEvents(events: unknown): number {
  if (typeof events !== "number" || !Number.isInteger(events)) {
    throw new TypeError(
      `events must be EVENT_READ (1), EVENT_WRITE (2) or both (3), got ${describe(events)}`,
    );
  }
  if (events < EVENT_READ || events > ALL_EVENTS) {
    throw new RangeError(
      `events must be EVENT_READ (1), EVENT_WRITE (2) or both (3), got ${events}`,
    );
  }
  return events;
}

/**
 * The fd of a fileobj: an fd number, or what its `fileno()` returns, checked.
 * Anything else is a `TypeError` (a `RangeError` for an integer out of
 * range), whatever the object does: a throwing `fileno` getter or call is
 * reported as the `TypeError`'s cause.
 *
 * @example
 * ```ts
 * import { fileobjToFd } from "./base_selector.ts";
 * console.log(fileobjToFd(3), fileobjToFd({ fileno: () => 4 })); // 3 4
 * ```
 */
export function fileobjToFd(fileobj: FileObj): number {
  if (typeof fileobj === "number") return checkFd(fileobj);
  let fileno: unknown;
  if (fileobj !== null && (typeof fileobj === "object" || typeof fileobj === "function")) {
    try {
      fileno = (fileobj as { fileno?: unknown }).fileno;
    } catch (e) {
      throw new TypeError(
        `reading fileno of ${describe(fileobj)} threw: ${(e as Error)?.message ?? e}`,
        { cause: e },
      );
    }
  }
  if (typeof fileno !== "function") {
    throw new TypeError(
      `expected an fd number or an object with fileno(), got ${describe(fileobj)}`,
    );
  }
  let fd: unknown;
  try {
    fd = fileno.call(fileobj);
  } catch (e) {
    throw new TypeError(
      `fileno() of ${describe(fileobj)} threw: ${(e as Error)?.message ?? e}`,
      { cause: e },
    );
  }
  return checkFd(fd, `fileno() of ${describe(fileobj)}`);
}

// The clock of a wait's deadline: clock_gettime through FFI's fast path where it can (~0.05 µs
// here) rather than the performance.now() op (~0.25 µs), since the loop's brief wait pays it on
// every wake. Chosen on first use.
let deadlineClock = (): number =>
  (deadlineClock = osMonotonicClock() ?? (() => performance.now()))();

function normalizeTimeout(timeoutMs: unknown): number {
  if (timeoutMs === undefined || timeoutMs === null) return -1;
  if (typeof timeoutMs !== "number") {
    throw new TypeError(`timeout must be a number of ms or null, got ${describe(timeoutMs)}`);
  }
  if (Number.isNaN(timeoutMs)) throw new RangeError("timeout must not be NaN");
  if (timeoutMs === Infinity) return -1;
  return timeoutMs <= 0 ? 0 : timeoutMs;
}

/**
 * Python's `selectors.BaseSelector`: register file objects, then wait for
 * them to be ready. Times are in milliseconds.
 *
 * @example
 * ```ts
 * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
 * using sock = new Socket();
 * using sel = new DefaultSelector();
 * sel.register(sock, EVENT_READ);
 * for (const [key, events] of sel.select(0)) console.log(key.fd, events);
 * ```
 */
export abstract class BaseSelector implements Disposable {
  #map = new Map<number, SelectorKey>();
  #view = new SelectorMap(this.#map);
  #closed = false;
  #parked = false;
  #waker: Waker;
  // The off-thread wait a JavaScript wakeup() ended early, until it returns (see selectAsync).
  #inflight: Promise<unknown> | null = null;
  #jsWake: (() => void) | null = null;
  // wakeup() was called since this selectAsync() began (JavaScript only: Deno is one thread).
  #wokenByJs = false;
  // A select() saw the wakeup fd while a wait was still returning: drain it once that is back.
  #drainOwed = false;

  /** Creates the wakeup channel; a backend then opens its kernel object. */
  constructor() {
    this.#waker = new Waker();
  }

  /** The backend's short name: `"select"`, `"poll"`, `"epoll"` or `"kqueue"`. */
  abstract readonly name: string;

  /** The fd of the wakeup channel, which the backend watches for reading. */
  protected get wakeupFd(): number {
    return this.#waker.fd;
  }

  /** The registrations, for the backend's collect step. */
  protected get fdMap(): ReadonlyMap<number, SelectorKey> {
    return this.#map;
  }

  /** Whether registrations reach the kernel at once (epoll, kqueue) or at the next wait. */
  protected get registersLive(): boolean {
    return true;
  }

  /** Refuses fds the backend cannot hold (select: fd >= FD_SETSIZE; epoll, kqueue: their own). */
  protected checkBackendFd(_fd: number): void {}
  /** Adds `fd` for `events` to the kernel object. */
  protected abstract addFd(fd: number, events: number): void;
  /** Changes the events of `fd`. */
  protected abstract modifyFd(fd: number, oldEvents: number, events: number): void;
  /** Removes `fd`; never throws, even when the fd is closed already. */
  protected abstract removeFd(fd: number, events: number): void;
  /** Waits synchronously; returns the raw count, or -1 after EINTR. `timeoutMs` -1 blocks. */
  protected abstract wait(timeoutMs: number): number;
  /** Turns the raw results of the last `wait` into entries of `out`. */
  protected abstract collect(n: number, out: SelectResult): void;
  /** Waits off the JS thread until something may be ready; results are taken afterwards. */
  protected abstract waitAsync(timeoutMs: number): Promise<unknown>;
  /** Closes the kernel object. */
  protected abstract closeBackend(): void;

  /** For a backend whose constructor failed: closes the wakeup channel. */
  protected abandon(): void {
    this.#closed = true;
    this.#waker.close();
  }

  /** Called by `collect` when the wakeup fd was ready. */
  protected drainWakeup(): void {
    // Not while an off-thread wait is still running: a drained eventfd would leave its
    // level-triggered wait asleep until its timeout. The next selectAsync() drains it.
    this.#wokenByJs = false; // the wake is taken by the select() that saw it
    if (this.#inflight !== null) {
      this.#drainOwed = true;
      return;
    }
    this.#waker.drain();
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new Deno.errors.BadResource(`${this.constructor.name} is closed`);
    }
  }

  #lookup(fileobj: FileObj): number {
    try {
      return fileobjToFd(fileobj);
    } catch (e) {
      // The object may have closed its fd since it was registered: find it by identity.
      if (typeof fileobj === "object" && fileobj !== null) {
        for (const key of this.#map.values()) if (key.fileobj === fileobj) return key.fd;
      }
      throw e;
    }
  }

  // The argument is checked before the selector's state, as CPython checks
  // `events` and the fileobj before its map: a bad argument is a
  // TypeError/RangeError even on a closed selector or an unknown fd.
  #known(fileobj: FileObj): SelectorKey {
    const fd = this.#lookup(fileobj);
    this.#checkOpen();
    const key = this.#map.get(fd);
    if (key === undefined) {
      throw new Deno.errors.NotFound(`${describe(fileobj)} (fd ${fd}) is not registered`);
    }
    return key;
  }

  /**
   * Starts watching `fileobj` for `events`, with `data` kept in its key.
   * The arguments are checked first: `events` must be an integer from 1 to 3
   * and `fileobj` an fd or an object whose `fileno()` returns one
   * (`TypeError`, or `RangeError` for an integer out of range); then the
   * state: `BadResource` once closed, `AlreadyExists` for a registered fd.
   * A failed call changes nothing.
   *
   * @example
   * ```ts
   * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
   * using sock = new Socket();
   * using sel = new DefaultSelector();
   * const key = sel.register(sock, EVENT_READ, { name: "my socket" });
   * ```
   */
  register(fileobj: FileObj, events: number, data?: unknown): SelectorKey {
    checkEvents(events);
    const fd = fileobjToFd(fileobj);
    this.#checkOpen();
    if (this.#map.has(fd)) {
      throw new Deno.errors.AlreadyExists(`${describe(fileobj)} (fd ${fd}) is already registered`);
    }
    if (fd === this.#waker.fd) {
      throw new TypeError(
        `fd ${fd} is this ${this.constructor.name}'s own wakeup fd: it cannot be registered`,
      );
    }
    this.checkBackendFd(fd);
    const known = typeof fileobj === "object" ? fileobj[FD_KIND]?.() : undefined;
    const kind = known ?? fileKind(fd);
    if (kind === "file" || kind === "directory") {
      throw new TypeError(
        `fd ${fd} is a ${kind === "file" ? "regular file" : "directory"}: a selector cannot be ` +
          `used to monitor file I/O (it is always ready); use Deno's file APIs instead ` +
          `(Deno.open(), FsFile.read()/write(), Deno.readFile())`,
      );
    }
    const key = new Key(fileobj, fd, events, data);
    this.addFd(fd, events);
    this.#map.set(fd, key);
    if (this.#parked && !this.registersLive) this.#waker.wake();
    return key;
  }

  /**
   * Stops watching `fileobj` and returns its key. Works after the fd was closed.
   *
   * @example
   * ```ts
   * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
   * using sock = new Socket();
   * using sel = new DefaultSelector();
   * sel.register(sock, EVENT_READ);
   * sel.unregister(sock);
   * ```
   */
  unregister(fileobj: FileObj): SelectorKey {
    const key = this.#known(fileobj);
    this.#map.delete(key.fd);
    this.removeFd(key.fd, key.events);
    return key;
  }

  /**
   * Changes the events and data of a registration, as Python does: `data`
   * is replaced, by `undefined` when omitted. A change the kernel refuses
   * unregisters the fd and throws.
   *
   * @example
   * ```ts
   * import { DefaultSelector, EVENT_READ, EVENT_WRITE, Socket } from "@aio/loop";
   * using sock = new Socket();
   * using sel = new DefaultSelector();
   * sel.register(sock, EVENT_WRITE, "out");
   * sel.modify(sock, EVENT_READ | EVENT_WRITE, "out");
   * ```
   */
  modify(fileobj: FileObj, events: number, data?: unknown): SelectorKey {
    checkEvents(events);
    const key = this.#known(fileobj);
    if (events !== key.events) {
      try {
        this.modifyFd(key.fd, key.events, events);
      } catch (e) {
        this.#map.delete(key.fd);
        this.removeFd(key.fd, key.events);
        throw e;
      }
    }
    const next = events === key.events && data === key.data
      ? key
      : new Key(key.fileobj, key.fd, events, data);
    this.#map.set(key.fd, next);
    if (this.#parked && !this.registersLive) this.#waker.wake();
    return next;
  }

  /**
   * Waits for registered fds to be ready, blocking the JS thread. `null` or
   * omitted blocks; `<= 0` polls. An interrupted wait (EINTR) is retried
   * with the time that remains.
   *
   * @example
   * ```ts
   * import { DefaultSelector, EVENT_WRITE, Socket } from "@aio/loop";
   * using sock = new Socket();
   * using sel = new DefaultSelector();
   * sel.register(sock, EVENT_WRITE);
   * const ready = sel.select(10);
   * ```
   */
  select(timeoutMs?: number | null): SelectResult {
    this.#checkOpen();
    let t = normalizeTimeout(timeoutMs);
    const deadline = t > 0 ? deadlineClock() + t : 0;
    let n: number;
    while ((n = this.wait(t > MAX_WAIT_MS ? MAX_WAIT_MS : t)) < 0) {
      if (t > 0) t = Math.max(0, deadline - deadlineClock());
    }
    const out: SelectResult = [];
    if (n > 0) this.collect(n, out);
    return out;
  }

  /**
   * Like `select()`, but waits off the JS thread, so Deno's timers, I/O and
   * promises keep running. `wakeup()` makes it return early. One call may be
   * pending at a time.
   *
   * @example
   * ```ts
   * import { DefaultSelector, EVENT_WRITE, Socket } from "@aio/loop";
   * using sock = new Socket();
   * using sel = new DefaultSelector();
   * sel.register(sock, EVENT_WRITE);
   * const ready = await sel.selectAsync(1000);
   * ```
   */
  async selectAsync(timeoutMs?: number | null): Promise<SelectResult> {
    this.#checkOpen();
    const t = normalizeTimeout(timeoutMs);
    if (this.#parked) {
      throw new Deno.errors.Busy(`${this.constructor.name}.selectAsync() is already pending`);
    }
    if (this.#inflight !== null) {
      // The last wait was ended early by wakeup() without touching the wakeup fd: wake its
      // worker now, off the wake-up's path, and let it return before waiting again.
      const own = !this.#waker.pending;
      if (own) this.#waker.wake();
      this.#parked = true;
      try {
        await this.#inflight;
      } finally {
        this.#parked = false;
      }
      if (this.#closed) {
        this.#release();
        return [];
      }
      // Our own wake, or one a select() already took: not a reason to return at once.
      if ((own || this.#drainOwed) && !this.#wokenByJs) this.#waker.drain();
      this.#drainOwed = false;
    }
    // Ready now, or woken before the call: no thread hop.
    const woken = this.#waker.pending;
    const ready = this.select(0);
    if (ready.length > 0 || t === 0 || woken) return ready;
    this.#parked = true;
    // A failed off-thread wait has no reliable errno: select(0) below re-examines it.
    const call = this.waitAsync(t > MAX_WAIT_MS ? MAX_WAIT_MS : t);
    const inflight = call.then(
      () => {
        if (this.#inflight === inflight) this.#inflight = null;
      },
      () => {
        if (this.#inflight === inflight) this.#inflight = null;
      },
    );
    this.#inflight = inflight;
    // wakeup() from JavaScript (a timer, a promise) ends the wait at once, without waiting for
    // the worker thread's return to reach this (sleeping) thread: that hop is most of a wake-up.
    let endedEarly = false;
    const early = new Promise<void>((resolve) =>
      this.#jsWake = () => {
        endedEarly = true;
        resolve();
      }
    );
    try {
      await Promise.race([inflight, early]);
    } finally {
      this.#parked = false;
      this.#jsWake = null;
    }
    if (endedEarly) this.#wokenByJs = false; // this return is the wake
    if (this.#closed) {
      // The off-thread wait still uses the fds: release them once it has returned.
      if (this.#inflight !== null) await this.#inflight;
      this.#release();
      return [];
    }
    return this.select(0);
  }

  /**
   * Starts a periodic tick, every `periodMs` (fixed by the first call), that
   * ends a `select(null)` with no results: a blocking wait on the JS thread
   * bounded without a timeout of its own, which would arm a kernel timer on
   * every call (microseconds on a VM). Returns false, and does nothing, where
   * the backend has no tick (every one but epoll). The event loop's brief
   * wait uses it.
   * @internal
   */
  _startTicks(_periodMs: number): boolean {
    return false;
  }

  /**
   * Stops the tick of `_startTicks()`; a no-op when it is not running.
   * @internal
   */
  _stopTicks(): void {}

  /**
   * Makes a pending `selectAsync()` return early, or the next one return at
   * once. Cheap and idempotent: call it from any JavaScript callback.
   *
   * @example
   * ```ts
   * import { DefaultSelector } from "@aio/loop";
   * using sel = new DefaultSelector();
   * setTimeout(() => sel.wakeup(), 10);
   * await sel.selectAsync(); // returns [] after ~10 ms
   * ```
   */
  wakeup(): void {
    if (this.#closed) return;
    this.#wokenByJs = true;
    const early = this.#jsWake;
    if (early !== null) {
      // Parked off-thread: end the wait here, at once; the worker is woken when the next
      // wait needs it (selectAsync), so the eventfd write and the thread hop stay off this path.
      this.#jsWake = null;
      early();
      return;
    }
    this.#waker.wake();
  }

  /**
   * The key of a registered `fileobj`; throws `NotFound` when it isn't registered.
   *
   * @example
   * ```ts
   * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
   * using sock = new Socket();
   * using sel = new DefaultSelector();
   * sel.register(sock, EVENT_READ, "sock");
   * console.log(sel.getKey(sock).data); // "sock"
   * ```
   */
  getKey(fileobj: FileObj): SelectorKey {
    return this.#known(fileobj);
  }

  /**
   * A live, read-only map of fd → key; empty after `close()`.
   *
   * @example
   * ```ts
   * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
   * using sock = new Socket();
   * using sel = new DefaultSelector();
   * sel.register(sock, EVENT_READ);
   * console.log(sel.getMap().size); // 1
   * ```
   */
  getMap(): ReadonlyMap<number, SelectorKey> {
    return this.#view;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Releases the kernel object and the wakeup channel. Idempotent. A pending
   * `selectAsync()` returns `[]`.
   *
   * @example
   * ```ts
   * import { DefaultSelector } from "@aio/loop";
   * const sel = new DefaultSelector();
   * sel.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#map.clear();
    // The off-thread wait still uses the fds: it releases them when it returns.
    if (this.#parked) {
      this.#waker.wake();
      this.#jsWake?.();
    } else if (this.#inflight !== null) {
      // A wait that wakeup() ended early, not yet returned: it returns at once (woken here),
      // and only then are the fds it waits on closed. selectorsSettled() waits for that.
      this.#waker.wake();
      const done = this.#inflight.then(() => this.#release());
      releasing.add(done);
      done.finally(() => releasing.delete(done));
    } else this.#release();
  }

  #release(): void {
    try {
      this.closeBackend();
    } finally {
      this.#waker.close();
    }
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
