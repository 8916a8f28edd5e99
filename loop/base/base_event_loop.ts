/**
 * `BaseEventLoop`: the ready queue, the timer heap, run/stop/close, the
 * exception handler and debug mode. It knows nothing about readiness or
 * completion: subclasses supply the poll, wait and wake steps.
 *
 * @module
 */
import type {
  AbstractEventLoop,
  Awaitable,
  CoroutineFunction,
  DatagramEndpointOptions,
  EventLoopOptions,
  ExceptionContext,
  ExceptionHandler,
  PipeFileObj,
  SendfileFile,
  SendfileOptions,
  SockOptions,
  TaskOptions,
} from "../abstract_event_loop.ts";
import type { FileObj } from "../../selectors/mod.ts";
import {
  type Address,
  type AddrInfo,
  getaddrinfo,
  type GetaddrinfoOptions,
  getnameinfo,
  type NetAddress,
  type Socket,
} from "../../net/mod.ts";
import type {
  DatagramTransport,
  ReadTransport,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from "../../transports/base_transport.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import type {
  ConnectAcceptedSocketOptions,
  CreateConnectionOptions,
  CreateServerOptions,
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
  SSLOption,
  StartTlsOptions,
} from "../connection_options.ts";
import type { SubprocessOptions } from "../subprocess_options.ts";
import { hostYield } from "../../ffi/sys.ts";
import { monotonic, monotonicResolution, timerResolution } from "../clock.ts";
import { Future, isFuture } from "../future.ts";
import { _runHandle, type Callback, Handle, TimerHandle } from "../handle.ts";
import { notSupported } from "../_platform_table.ts";
import { _getRunningLoop, _setRunningLoop } from "../running.ts";
import { Task } from "../task.ts";
import { ensureFuture } from "../tasks/ensure_future.ts";
import { TimerHeap } from "./_heap.ts";
import { connectAcceptedSocket, createConnection } from "./create_connection.ts";
import { createDatagramEndpoint } from "./create_datagram_endpoint.ts";
import { createServer } from "./create_server.ts";
import { startTls } from "./_ssl_connect.ts";
import { SendfileNotAvailableError, type SendfileSource, sockSendfile } from "./_sendfile.ts";
import type {
  DatagramTransportOptions,
  LoopHooks,
  ServingTarget,
  SocketTransportOptions,
} from "./loop_hooks.ts";
import type { Server } from "./server.ts";

/** While callbacks keep coming, poll for I/O once every this many iterations (Tokio's value). */
export const EVENT_INTERVAL = 61;
/** A busy loop gives Deno a turn once this many ms passed since the last one. */
export const YIELD_INTERVAL_MS = 5;
/** Check the clock for a yield after this many callbacks or iterations. */
const YIELD_CHECK_EVERY = 64;
/** The longest single wait (CPython's `MAXIMUM_SELECT_TIMEOUT`, one day). */
export const MAXIMUM_SELECT_TIMEOUT_MS = 24 * 3600 * 1000;
/** Microtask turns to let run before parking, so a promise chain's callSoon() lands first. */
const SETTLE_TURNS = 16;
/**
 * While I/O keeps arriving, the loop first waits about this long on the JS
 * thread (1 ms: epoll's and poll's granularity; up to twice that where a
 * periodic tick ends the wait) before parking off it: the thread hop of a park
 * costs 20-30 µs, the time of several requests. Deno's own timers and I/O wait
 * at most that long, and still get a turn every {@linkcode YIELD_INTERVAL_MS}.
 */
export const BRIEF_WAIT_MS = 1;

/**
 * The bound of a timed brief wait: {@linkcode BRIEF_WAIT_MS}, or the loop's
 * timeout when a timer is due sooner.
 * @internal
 */
export function briefWaitBound(timeoutMs: number | null): number {
  return timeoutMs === null || timeoutMs > BRIEF_WAIT_MS ? BRIEF_WAIT_MS : timeoutMs;
}

function checkCallback(callback: unknown, method: string): void {
  if (typeof callback !== "function") {
    throw new TypeError(
      `a callable object was expected by ${method}(), got ${
        callback === null ? "null" : typeof callback
      }`,
    );
  }
}

function checkTime(value: unknown, what: string, method: string): void {
  if (typeof value !== "number") {
    throw new TypeError(`${method}() ${what} must be a number of ms, got ${typeof value}`);
  }
  if (Number.isNaN(value)) throw new RangeError(`${method}() ${what} must not be NaN`);
}

// Throws the error callLater() owes for these arguments.
function checkLater(delayMs: unknown, callback: unknown): void {
  checkTime(delayMs, "delay", "callLater");
  if ((delayMs as number) < 0) {
    throw new RangeError(`callLater() delay must be >= 0 ms, got ${delayMs}`);
  }
  checkCallback(callback, "callLater");
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) {
    const s = String(value);
    return s === "[object Object]" ? (value.constructor?.name ?? "object") : s;
  }
  return String(value);
}

/**
 * asyncio's `BaseEventLoop`, in milliseconds. `runForever()` runs on top of
 * Deno's event loop: while callbacks are ready it polls for I/O with a
 * timeout of 0 every `EVENT_INTERVAL` iterations; when nothing is ready it
 * waits off the JS thread, and anything scheduled meanwhile wakes it.
 * Abstract: use `SelectorEventLoop`.
 *
 * @example
 * ```ts
 * import { BaseEventLoop, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * console.log(loop instanceof BaseEventLoop); // true
 * ```
 */
export abstract class BaseEventLoop implements AbstractEventLoop {
  // Double buffer with explicit counts: truncating an array makes V8 reallocate it.
  #ready: (Handle | undefined)[] = [];
  #readyLen = 0;
  #spare: (Handle | undefined)[] = [];
  #scheduled = new TimerHeap();
  #stopping = false;
  #running = false;
  #closed = false;
  #parked = false;
  #woken = false;
  #debug: boolean;
  #clock: () => number;
  #clockResolution: number;
  #timerResolution: number;
  #exceptionHandler: ExceptionHandler | null = null;
  #currentHandle: Handle | null = null;
  // Reused for every handle made here: the constructors copy what they need.
  #handleOptions: { loop: BaseEventLoop; args: unknown[]; sourceTraceback: string | null } = {
    loop: this,
    args: [],
    sourceTraceback: null,
  };

  // The protected transport hooks as one object (made once: the shared code keeps it).
  #hooks: LoopHooks = {
    makeSocketTransport: (sock, protocol, options) =>
      this._makeSocketTransport(sock, protocol, options),
    makeDatagramTransport: (sock, protocol, options) =>
      this._makeDatagramTransport(sock, protocol, options),
    startServing: (target, sock) => this._startServing(target, sock),
    stopServing: (sock) => this._stopServing(sock),
  };

  /** In debug mode, callbacks slower than this many ms are reported (asyncio's default 100 ms). */
  slowCallbackDuration = 100;

  /** Sets up the queues; `options` chooses debug mode and the clock. */
  constructor(options?: EventLoopOptions) {
    this.#debug = options?.debug ?? false;
    const clock = options?.clock;
    if (clock !== undefined && typeof clock !== "function") {
      throw new TypeError(`clock must be a function returning ms, got ${typeof clock}`);
    }
    this.#clock = clock ?? monotonic;
    const res = options?.clockResolution ?? (clock === undefined ? monotonicResolution() : 0.001);
    if (typeof res !== "number" || !(res > 0)) {
      throw new RangeError(`clockResolution must be a positive number of ms, got ${res}`);
    }
    this.#clockResolution = res;
    const tres = options?.timerResolution ?? (clock === undefined ? timerResolution() : res);
    if (typeof tres !== "number" || !(tres > 0)) {
      throw new RangeError(`timerResolution must be a positive number of ms, got ${tres}`);
    }
    this.#timerResolution = Math.max(tres, res);
    // Written once more so V8 treats them as mutable from the first loop on: code
    // compiled while they looked constant (the timer path reads both) is thrown
    // away when the first loop closes or its runForever() ends.
    this.#closed = this.#parked = false;
  }

  // --- The I/O step, supplied by subclasses -------------------------------

  /**
   * Polls for I/O without waiting and queues the callbacks of what is ready.
   * @internal
   */
  protected abstract _poll(): void;
  /**
   * Waits off the JS thread up to `timeoutMs` (`null`: no limit), then queues
   * what is ready. Resolves to whether I/O callbacks were queued.
   * @internal
   */
  protected abstract _wait(timeoutMs: number | null): Promise<boolean>;
  /**
   * Waits on the JS thread for about {@linkcode BRIEF_WAIT_MS} (at most twice
   * that), never past `timeoutMs` (> 0; `null`: no timer due), then queues
   * what is ready. Returns whether I/O callbacks were queued.
   * @internal
   */
  protected abstract _waitBriefly(timeoutMs: number | null): boolean;
  /**
   * Makes a pending `_wait()` return early; called at most once per wait.
   * @internal
   */
  protected abstract _wakeup(): void;

  /**
   * Gives Deno's event loop a turn (its timers, sockets and promises).
   * @internal
   */
  protected _yield(): Promise<void> {
    return hostYield();
  }

  /**
   * Queues a handle made ready by I/O; cancelled handles are dropped.
   * @internal
   */
  protected _addCallback(handle: Handle): void {
    if (!handle.cancelled()) this.#ready[this.#readyLen++] = handle;
  }

  // --- Running ------------------------------------------------------------

  /**
   * Runs the loop until `stop()` is called. The promise rejects at once if
   * the loop is closed or already running, or if another loop is running.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.callLater(10, () => loop.stop());
   * await loop.runForever();
   * ```
   */
  async runForever(): Promise<void> {
    this.#checkClosed();
    this.#checkNotRunning();
    this.#running = true;
    _setRunningLoop(this);
    try {
      await this.#run();
    } finally {
      this.#stopping = false;
      this.#running = false;
      this.#parked = false;
      _setRunningLoop(null);
      this._runEnded();
    }
  }

  /**
   * Releases what only a running loop needs (the selector loop's tick).
   * @internal
   */
  protected _runEnded(): void {}

  async #run(): Promise<void> {
    const heap = this.#scheduled;
    let sincePoll = 0, sinceCheck = 0, lastYield = monotonic();
    let hot = false; // the last wait ended with I/O
    for (;;) {
      if (heap.cancelledCount > 0) heap.prune();
      if (this.#readyLen > 0) {
        if (++sincePoll >= EVENT_INTERVAL) {
          sincePoll = 0;
          this._poll();
        }
      } else {
        sincePoll = 0;
        let timeout = this.#timeout();
        if (timeout !== 0) {
          // A promise chain may still be settling: let it run before paying for a park.
          for (let i = 0; i < SETTLE_TURNS && this.#readyLen === 0 && !this.#stopping; i++) {
            await null;
          }
          timeout = this.#readyLen > 0 ? 0 : this.#timeout();
        }
        if (timeout !== 0 && hot) {
          // Busy with I/O: the next event is likely close, so wait for it here.
          hot = this._waitBriefly(timeout);
          // The wait may have taken a few ms, and gave Deno no turn: check the clock now.
          sinceCheck = YIELD_CHECK_EVERY;
          timeout = hot ? 0 : this.#timeout();
        }
        if (timeout === 0) {
          if (!hot) this._poll();
        } else {
          this.#parked = true;
          this.#woken = false;
          try {
            hot = await this._wait(timeout);
          } finally {
            this.#parked = false;
          }
          lastYield = monotonic();
          sinceCheck = 0;
        }
      }
      if (heap.size > 0) {
        const end = this.#clock() + this.#clockResolution;
        if (heap.peekWhen() < end) this.#readyLen = heap.popDue(end, this.#ready, this.#readyLen);
      }
      const n = this.#runReady();
      await null; // the promise jobs this batch queued (task steps) run now
      if (this.#stopping) break;
      if ((sinceCheck += n + 1) >= YIELD_CHECK_EVERY) {
        sinceCheck = 0;
        if (monotonic() - lastYield >= YIELD_INTERVAL_MS) {
          await this._yield();
          lastYield = monotonic();
        }
      }
    }
  }

  #timeout(): number | null {
    if (this.#stopping) return 0;
    const heap = this.#scheduled;
    if (heap.size === 0) return null;
    const t = heap.peekWhen() - this.#clock();
    return t <= 0 ? 0 : t > MAXIMUM_SELECT_TIMEOUT_MS ? MAXIMUM_SELECT_TIMEOUT_MS : t;
  }

  #runReady(): number {
    const batch = this.#ready;
    const n = this.#readyLen;
    if (n === 0) return 0;
    this.#ready = this.#spare;
    this.#readyLen = 0;
    if (this.#debug) {
      this.#runDebug(batch, n);
    } else {
      for (let i = 0; i < n; i++) {
        const h = batch[i]!;
        batch[i] = undefined;
        _runHandle(h);
      }
    }
    if (batch.length > 65536) batch.length = 0; // don't keep a burst's memory
    this.#spare = batch;
    return n;
  }

  #runDebug(batch: (Handle | undefined)[], n: number): void {
    for (let i = 0; i < n; i++) {
      const h = batch[i]!;
      batch[i] = undefined;
      if (h.cancelled()) continue;
      this.#currentHandle = h;
      const t0 = this.#clock();
      try {
        _runHandle(h);
      } finally {
        this.#currentHandle = null;
      }
      const dt = this.#clock() - t0;
      if (dt >= this.slowCallbackDuration) {
        console.warn(`Executing ${h} took ${dt.toFixed(3)} ms`);
      }
    }
  }

  /**
   * Runs the loop until `future` is done and returns its result (or throws
   * its exception). Takes a `Future`, a `Task`, a promise or an async
   * function (run as a task).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, sleep } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const n = await loop.runUntilComplete(async () => {
   *   await sleep(5);
   *   return 1;
   * });
   * ```
   */
  async runUntilComplete<T>(future: Awaitable<T> | CoroutineFunction<T>): Promise<T> {
    this.#checkClosed();
    this.#checkNotRunning();
    const newTask = !isFuture(future);
    const fut = ensureFuture(future, { loop: this });
    const done = (f: Future<T>) => f.getLoop().stop();
    fut.addDoneCallback(done);
    try {
      await this.runForever();
    } catch (e) {
      if (newTask && fut.done() && !fut.cancelled()) fut.exception();
      throw e;
    } finally {
      fut.removeDoneCallback(done);
    }
    if (!fut.done()) throw new Error("Event loop stopped before Future completed.");
    return fut.result();
  }

  /**
   * Stops the loop after the current iteration; wakes it if it is waiting.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * setTimeout(() => loop.stop(), 10);
   * await loop.runForever();
   * ```
   */
  stop(): void {
    this.#stopping = true;
    if (this.#parked) this.#wake();
  }

  /**
   * Whether `runForever()` is in progress.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.isRunning()); // false
   * ```
   */
  isRunning(): boolean {
    return this.#running;
  }

  /**
   * Whether `close()` was called.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * const loop = new SelectorEventLoop();
   * loop.close();
   * console.log(loop.isClosed()); // true
   * ```
   */
  isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Closes the loop and drops every pending callback. Throws if the loop is
   * running; closing twice does nothing.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * const loop = new SelectorEventLoop();
   * loop.close();
   * ```
   */
  close(): void {
    if (this.#running) throw new Error("Cannot close a running event loop");
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = [];
    this.#readyLen = 0;
    this.#scheduled.clear();
  }

  /**
   * Closes the loop (`using loop = new SelectorEventLoop()`).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * {
   *   using loop = new SelectorEventLoop();
   * } // closed here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  #checkClosed(): void {
    if (this.#closed) throw new Error("Event loop is closed");
  }

  #checkNotRunning(): void {
    if (this.#running) throw new Error("This event loop is already running");
    if (_getRunningLoop() !== null) {
      throw new Error("Cannot run the event loop while another loop is running");
    }
  }

  #wake(): void {
    if (!this.#woken) {
      this.#woken = true;
      this._wakeup();
    }
  }

  // --- Scheduling ---------------------------------------------------------

  /**
   * Calls `callback(...args)` on the next iteration, after the callbacks
   * already queued (FIFO). Wakes the loop if it is waiting.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.callSoon((a: number, b: number) => console.log(a + b), 1, 2);
   * loop.callSoon(() => loop.stop());
   * await loop.runForever();
   * ```
   */
  callSoon(callback: (value?: undefined) => unknown): Handle;
  callSoon<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle;
  callSoon<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle {
    if (this.#closed) this.#checkClosed();
    if (typeof callback !== "function") checkCallback(callback, "callSoon");
    const o = this.#handleOptions;
    o.args = args;
    o.sourceTraceback = this.#debug ? this.#stack() : null;
    const handle = new Handle(callback as Callback, o);
    this.#ready[this.#readyLen++] = handle;
    if (this.#parked) this.#wake();
    return handle;
  }

  /**
   * `callSoon()` for code outside the loop's dispatch (a Deno timer, a
   * signal listener): JavaScript has one thread, so it is `callSoon()`,
   * which already wakes a waiting loop.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * setTimeout(() => loop.callSoonThreadsafe(() => loop.stop()), 10);
   * await loop.runForever();
   * ```
   */
  callSoonThreadsafe(callback: (value?: undefined) => unknown): Handle;
  callSoonThreadsafe<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle;
  callSoonThreadsafe<A extends unknown[]>(callback: Callback<A>, ...args: A): Handle {
    if (typeof callback !== "function") checkCallback(callback, "callSoonThreadsafe");
    return this.callSoon(callback, ...args);
  }

  /**
   * Calls `callback(...args)` once `delayMs` ms have passed. Timers due at
   * the same time run in the order they were scheduled.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.callLater(20, () => loop.stop());
   * await loop.runForever();
   * ```
   */
  callLater(delayMs: number, callback: (value?: undefined) => unknown): TimerHandle;
  callLater<A extends unknown[]>(delayMs: number, callback: Callback<A>, ...args: A): TimerHandle;
  callLater<A extends unknown[]>(delayMs: number, callback: Callback<A>, ...args: A): TimerHandle {
    // One test on the hot path; checkLater() says what is wrong.
    if (typeof delayMs !== "number" || !(delayMs >= 0) || typeof callback !== "function") {
      checkLater(delayMs, callback);
    }
    return this.#schedule(this.#clock() + delayMs, callback as Callback, args);
  }

  /**
   * Calls `callback(...args)` at loop time `when` (ms, as `time()`).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.callAt(loop.time() + 20, () => loop.stop());
   * await loop.runForever();
   * ```
   */
  callAt(when: number, callback: (value?: undefined) => unknown): TimerHandle;
  callAt<A extends unknown[]>(when: number, callback: Callback<A>, ...args: A): TimerHandle;
  callAt<A extends unknown[]>(when: number, callback: Callback<A>, ...args: A): TimerHandle {
    if (typeof when !== "number" || when !== when || typeof callback !== "function") {
      checkTime(when, "when", "callAt");
      checkCallback(callback, "callAt");
    }
    return this.#schedule(when, callback as Callback, args);
  }

  #schedule(when: number, callback: Callback, args: unknown[]): TimerHandle {
    if (this.#closed) this.#checkClosed();
    const o = this.#handleOptions;
    o.args = args;
    o.sourceTraceback = this.#debug ? this.#stack() : null;
    const timer = new TimerHandle(when, callback, o);
    this.#scheduled.push(timer, when);
    if (this.#parked) this.#wake();
    return timer;
  }

  #stack(): string | null {
    return new Error().stack?.split("\n").slice(3).join("\n") ?? null;
  }

  /**
   * The loop's monotonic clock, in ms.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.time() >= 0); // true
   * ```
   */
  time(): number {
    return this.#clock();
  }

  /**
   * The resolution of `time()`, in ms: measured for `performance.now()`.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.clockResolution > 0); // true
   * ```
   */
  get clockResolution(): number {
    return this.#clockResolution;
  }

  /**
   * How finely a wait of this loop can end, in ms (never below
   * `clockResolution`): on Windows the system timer's resolution (usually
   * 15.625 ms, 0.5 ms at best); elsewhere the clock's. A timer never fires
   * before its time: a wait that ends early is waited again.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.timerResolution >= loop.clockResolution); // true
   * ```
   */
  get timerResolution(): number {
    return this.#timerResolution;
  }

  /**
   * Makes a pending `Future` on this loop.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const fut = loop.createFuture<string>();
   * ```
   */
  createFuture<T = unknown>(): Future<T> {
    return new Future<T>({ loop: this });
  }

  /**
   * Runs `coro(signal)` as a `Task`, from the loop's next iteration.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const task = loop.createTask(async () => "done", { name: "job" });
   * console.log(await loop.runUntilComplete(task)); // done
   * ```
   */
  createTask<T>(coro: CoroutineFunction<T>, options?: TaskOptions): Task<T> {
    this.#checkClosed();
    return new Task(coro, { loop: this, name: options?.name });
  }

  // --- I/O watchers: loop kinds that have them override these ------------

  /**
   * Calls `callback(...args)` whenever `fileobj` is readable. This default
   * throws `NotSupported` naming the alternative; loop kinds with readiness
   * override it.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, Socket } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * using sock = new Socket();
   * loop.addReader(sock, () => {});
   * loop.removeReader(sock);
   * ```
   */
  addReader<A extends unknown[]>(_fileobj: FileObj, _callback: Callback<A>, ..._args: A): Handle {
    throw notSupported("addReader", this);
  }

  /**
   * Stops watching `fileobj` for reading; returns whether it was watched.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeReader(0)); // false
   * ```
   */
  removeReader(_fileobj: FileObj): boolean {
    throw notSupported("removeReader", this);
  }

  /**
   * Calls `callback(...args)` whenever `fileobj` is writable (see `addReader()`).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, Socket } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * using sock = new Socket();
   * loop.addWriter(sock, () => loop.removeWriter(sock));
   * loop.removeWriter(sock);
   * ```
   */
  addWriter<A extends unknown[]>(_fileobj: FileObj, _callback: Callback<A>, ..._args: A): Handle {
    throw notSupported("addWriter", this);
  }

  /**
   * Stops watching `fileobj` for writing; returns whether it was watched.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeWriter(1)); // false
   * ```
   */
  removeWriter(_fileobj: FileObj): boolean {
    throw notSupported("removeWriter", this);
  }

  /**
   * Calls `callback(...args)` on the loop whenever signal `sig` arrives.
   * This default throws `NotSupported`; the Unix loop overrides it.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.addSignalHandler("SIGUSR1", () => loop.stop());
   * loop.removeSignalHandler("SIGUSR1");
   * ```
   */
  addSignalHandler<A extends unknown[]>(
    _sig: Deno.Signal,
    _callback: Callback<A>,
    ..._args: A
  ): void {
    throw notSupported("addSignalHandler", this);
  }

  /**
   * Removes the handler of signal `sig`; returns whether there was one.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.removeSignalHandler("SIGUSR1")); // false
   * ```
   */
  removeSignalHandler(_sig: Deno.Signal): boolean {
    throw notSupported("removeSignalHandler", this);
  }

  // --- Socket calls, supplied by loop kinds ---------------------------------

  /** Receives up to `nbytes` bytes from the nonblocking `sock`. */
  abstract sockRecv(sock: Socket, nbytes: number, options?: SockOptions): Promise<Uint8Array>;
  /** Receives into `buf`; resolves to the byte count. */
  abstract sockRecvInto(sock: Socket, buf: Uint8Array, options?: SockOptions): Promise<number>;
  /** Receives a datagram and its sender's address. */
  abstract sockRecvfrom(
    sock: Socket,
    bufsize: number,
    options?: SockOptions,
  ): Promise<[Uint8Array, Address]>;
  /** Receives a datagram into `buf`: the byte count and the sender's address. */
  abstract sockRecvfromInto(
    sock: Socket,
    buf: Uint8Array,
    nbytes?: number,
    options?: SockOptions,
  ): Promise<[number, Address]>;
  /** Sends all of `data`. */
  abstract sockSendall(sock: Socket, data: Uint8Array, options?: SockOptions): Promise<void>;
  /** Sends the datagram `data` to `address`. */
  abstract sockSendto(
    sock: Socket,
    data: Uint8Array,
    address: Address,
    options?: SockOptions,
  ): Promise<number>;
  /** Connects `sock` to `address`. */
  abstract sockConnect(sock: Socket, address: Address, options?: SockOptions): Promise<void>;
  /** Accepts a connection on the listening `sock`. */
  abstract sockAccept(sock: Socket, options?: SockOptions): Promise<[Socket, Address]>;

  /**
   * Sends the regular file `file` (a path, or an open fd — a file HANDLE on
   * Windows — that the caller owns and that stays open) on the connected,
   * nonblocking stream socket `sock`; resolves to the bytes sent. Natively
   * where the loop kind can (`sendfile(2)` on Linux and macOS,
   * TransmitFile on the ProactorEventLoop), else (unless `fallback` is
   * false: then `SendfileNotAvailableError`, a `NotSupported`) by reading
   * 256 KiB at a time and `sockSendall`-ing each chunk. Sends from `offset`
   * (default 0) up to `count` bytes or the end of the file; an fd is left
   * positioned at `offset` + the bytes sent. Not a regular file, or not a
   * stream socket: `TypeError`; a bad `offset`/`count`: `RangeError`.
   * Aborting `signal` rejects with `CancelledError`.
   *
   * @example
   * ```ts ignore
   * const sent = await loop.sockSendfile(conn, "./index.html");
   * ```
   */
  sockSendfile(sock: Socket, file: SendfileFile, options?: SendfileOptions): Promise<number> {
    return sockSendfile(this, sock, file, options, (...a) => this._sockSendfileNative(...a));
  }

  /**
   * The loop kind's native sendfile (asyncio's `_sock_sendfile_native`):
   * this default has none and throws `SendfileNotAvailableError`, so
   * `sockSendfile()` falls back to reading and sending.
   * @internal
   */
  protected _sockSendfileNative(
    _sock: Socket,
    _file: SendfileSource,
    _offset: number,
    _count: number | null,
    _signal: AbortSignal | undefined,
    _progress: (sent: number) => void,
  ): Promise<number> {
    return Promise.reject(
      new SendfileNotAvailableError(`${this.constructor.name} has no native sendfile`),
    );
  }

  // --- Transports, supplied by loop kinds (asyncio's protected hooks) -------

  /**
   * Wraps a connected stream socket in this loop kind's transport.
   * @internal
   */
  protected abstract _makeSocketTransport(
    sock: Socket,
    protocol: StreamProtocol,
    options: SocketTransportOptions,
  ): Transport;
  /**
   * Wraps a datagram socket in this loop kind's transport.
   * @internal
   */
  protected abstract _makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocol,
    options: DatagramTransportOptions,
  ): DatagramTransport;
  /**
   * Starts accepting on the listening `sock` for a server.
   * @internal
   */
  protected abstract _startServing(target: ServingTarget, sock: Socket): void;
  /**
   * Stops accepting on `sock`.
   * @internal
   */
  protected abstract _stopServing(sock: Socket): void;

  /**
   * The hooks above as one object, for the shared connection code and `Server`.
   * @internal
   */
  protected get _hooks(): LoopHooks {
    return this.#hooks;
  }

  // --- Name resolution, connections and servers: written once ---------------

  /**
   * Resolves `host` and `port` off the JavaScript thread (see `getaddrinfo`
   * of `net/`).
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const infos = await loop.getaddrinfo("localhost", 80, { type: "stream" });
   * console.log(infos[0].address); // { transport: "tcp", hostname: "127.0.0.1", port: 80 }
   * ```
   */
  getaddrinfo(
    host: string | null,
    port: number | string | null,
    options?: GetaddrinfoOptions,
  ): Promise<AddrInfo[]> {
    return getaddrinfo(host, port, options);
  }

  /**
   * The host and service names of `addr`, looked up off the JavaScript thread.
   *
   * @example
   * ```ts
   * import { NI_NUMERICSERV, SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * const [host, port] = await loop.getnameinfo(
   *   { transport: "tcp", hostname: "127.0.0.1", port: 80 },
   *   NI_NUMERICSERV,
   * );
   * ```
   */
  getnameinfo(addr: NetAddress, flags?: number): Promise<[string, string]> {
    return getnameinfo(addr, flags);
  }

  /**
   * Opens a stream connection (asyncio's `create_connection()`, with `host`
   * and `port` in `options`): resolves the host, tries each address in turn
   * (or staggered by `happyEyeballsDelay` ms), and resolves to
   * `[transport, protocol]` once the protocol's `connectionMade()` ran.
   * `TCP_NODELAY` is set unless `noDelay: false`. With `ssl` the connection
   * speaks TLS (OpenSSL through FFI; `NotSupported` where it cannot be loaded).
   *
   * @example
   * ```ts ignore
   * import { Protocol, SelectorEventLoop } from "@aio/loop";
   * const [transport, protocol] = await loop.createConnection(() => new Protocol(), {
   *   host: "localhost",
   *   port: 8080,
   * });
   * transport.close();
   * ```
   */
  createConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    options?: CreateConnectionOptions,
  ): Promise<[Transport, P]> {
    return createConnection(this, this.#hooks, protocolFactory, options);
  }

  /**
   * Listens for stream connections (asyncio's `create_server()`, with `host`
   * and `port` in `options`): on each host given, or on every interface
   * (IPv4 and IPv6 sockets) when `host` is `null`/omitted.
   *
   * @example
   * ```ts ignore
   * import { Protocol, SelectorEventLoop } from "@aio/loop";
   * await using server = await loop.createServer(() => new Protocol(), { host: "127.0.0.1", port: 0 });
   * console.log(server.sockets[0].getsockname());
   * ```
   */
  createServer<P extends StreamProtocol>(
    protocolFactory: () => P,
    options?: CreateServerOptions,
  ): Promise<Server> {
    return createServer(this, this.#hooks, protocolFactory, options);
  }

  /**
   * Upgrades an open connection to TLS (asyncio's `loop.start_tls()`):
   * `protocol` goes on receiving, now the decrypted data, and the returned
   * transport replaces `transport`. Resolves once the handshake completed;
   * on failure `transport` is closed. `options.serverSide` accepts instead.
   *
   * @example
   * ```ts ignore
   * import { Protocol, SelectorEventLoop } from "@aio/loop";
   * const tls = await loop.startTls(transport, protocol, { caCerts: [ca] }, {
   *   serverHostname: "localhost",
   * });
   * tls.write(new TextEncoder().encode("hello over TLS"));
   * ```
   */
  startTls(
    transport: Transport,
    protocol: StreamProtocol,
    ssl: SSLOption,
    options?: StartTlsOptions,
  ): Promise<Transport> {
    return startTls(this, transport, protocol, ssl, options);
  }

  /**
   * Wraps an accepted (connected) stream socket in a transport.
   *
   * @example
   * ```ts ignore
   * const [conn] = await loop.sockAccept(listener);
   * const [transport] = await loop.connectAcceptedSocket(() => new Protocol(), conn);
   * ```
   */
  connectAcceptedSocket<P extends StreamProtocol>(
    protocolFactory: () => P,
    sock: Socket,
    options?: ConnectAcceptedSocketOptions,
  ): Promise<[Transport, P]> {
    return connectAcceptedSocket(this, this.#hooks, protocolFactory, sock, options);
  }

  /**
   * Opens a datagram endpoint (asyncio's `create_datagram_endpoint()`): a
   * UDP socket (IPv4 or IPv6) or a unix datagram socket, bound to
   * `options.localAddr` and/or connected to `options.remoteAddr` (host names
   * are resolved off the JavaScript thread), wrapped in a datagram transport
   * whose protocol `protocolFactory` makes. Resolves once the protocol's
   * `connectionMade()` ran. `reuseAddress` is refused (`TypeError`), as in
   * asyncio 3.11+.
   *
   * @example A UDP echo server and a client on one loop
   * ```ts
   * import { type Address, SelectorEventLoop } from "@aio/loop";
   * import { DatagramProtocol, type DatagramTransport } from "../../transports/mod.ts";
   * using loop = new SelectorEventLoop();
   * class Echo extends DatagramProtocol {
   *   transport?: DatagramTransport;
   *   override connectionMade(transport: DatagramTransport): void {
   *     this.transport = transport;
   *   }
   *   override datagramReceived(data: Uint8Array, addr: Address): void {
   *     this.transport!.sendto(data, addr);
   *   }
   * }
   * class Client extends DatagramProtocol {
   *   reply = Promise.withResolvers<string>();
   *   override datagramReceived(data: Uint8Array): void {
   *     this.reply.resolve(new TextDecoder().decode(data));
   *   }
   * }
   * const answer = await loop.runUntilComplete(async () => {
   *   const [server] = await loop.createDatagramEndpoint(() => new Echo(), {
   *     localAddr: { transport: "udp", hostname: "127.0.0.1", port: 0 },
   *   });
   *   const [client, protocol] = await loop.createDatagramEndpoint(() => new Client(), {
   *     remoteAddr: server.getExtraInfo("sockname"),
   *   });
   *   client.sendto(new TextEncoder().encode("ping"));
   *   const reply = await protocol.reply.promise;
   *   client.close();
   *   server.close();
   *   return reply;
   * });
   * console.log(answer); // ping
   * ```
   */
  createDatagramEndpoint<P extends DatagramProtocol>(
    protocolFactory: () => P,
    options?: DatagramEndpointOptions,
  ): Promise<[DatagramTransport, P]> {
    return createDatagramEndpoint(this, this.#hooks, protocolFactory, options);
  }

  // --- What only some loop kinds have: the platform table's refusals --------

  /**
   * Connects to the unix socket `path`. This default rejects with
   * `NotSupported`; the Unix loop overrides it.
   *
   * @example
   * ```ts ignore
   * const [transport] = await loop.createUnixConnection(() => new Protocol(), "/tmp/app.sock");
   * ```
   */
  createUnixConnection<P extends StreamProtocol>(
    _protocolFactory: () => P,
    _path?: string | null,
    _options?: CreateUnixConnectionOptions,
  ): Promise<[Transport, P]> {
    return Promise.reject(notSupported("createUnixConnection", this));
  }

  /**
   * Listens on the unix socket `path`. This default rejects with
   * `NotSupported`; the Unix loop overrides it.
   *
   * @example
   * ```ts ignore
   * await using server = await loop.createUnixServer(() => new Protocol(), "/tmp/app.sock");
   * ```
   */
  createUnixServer<P extends StreamProtocol>(
    _protocolFactory: () => P,
    _path?: string | null,
    _options?: CreateUnixServerOptions,
  ): Promise<Server> {
    return Promise.reject(notSupported("createUnixServer", this));
  }

  /**
   * Wraps the read end of a pipe. This default rejects with `NotSupported`.
   *
   * @example
   * ```ts ignore
   * const [transport, protocol] = await loop.connectReadPipe(() => new Collect(), fd);
   * ```
   */
  connectReadPipe<P extends StreamProtocol>(
    _protocolFactory: () => P,
    _pipe: PipeFileObj,
  ): Promise<[ReadTransport, P]> {
    return Promise.reject(notSupported("connectReadPipe", this));
  }

  /**
   * Wraps the write end of a pipe. This default rejects with `NotSupported`.
   *
   * @example
   * ```ts ignore
   * const [transport] = await loop.connectWritePipe(() => new BaseProtocol(), fd);
   * ```
   */
  connectWritePipe<P extends BaseProtocol>(
    _protocolFactory: () => P,
    _pipe: PipeFileObj,
  ): Promise<[WriteTransport, P]> {
    return Promise.reject(notSupported("connectWritePipe", this));
  }

  /**
   * Starts a subprocess. This default rejects with `NotSupported`.
   *
   * @example
   * ```ts ignore
   * const [transport, protocol] = await loop.subprocessExec(() => new Exit(), ["true"]);
   * ```
   */
  subprocessExec<P extends SubprocessProtocol>(
    _protocolFactory: () => P,
    _args: readonly string[],
    _options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]> {
    return Promise.reject(notSupported("subprocessExec", this));
  }

  /**
   * Runs a shell command. This default rejects with `NotSupported`.
   *
   * @example
   * ```ts ignore
   * const [transport, protocol] = await loop.subprocessShell(() => new Exit(), "true");
   * ```
   */
  subprocessShell<P extends SubprocessProtocol>(
    _protocolFactory: () => P,
    _cmd: string,
    _options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]> {
    return Promise.reject(notSupported("subprocessShell", this));
  }

  // --- Errors and debugging -----------------------------------------------

  /**
   * Sets the handler called as `handler(loop, context)` for errors nobody
   * else can receive; `null` restores the default.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.setExceptionHandler((_loop, ctx) => console.log(ctx.message));
   * ```
   */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(`A callable object or null is expected, got ${typeof handler}`);
    }
    this.#exceptionHandler = handler;
  }

  /**
   * The handler set with `setExceptionHandler()`, or `null`.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(loop.getExceptionHandler()); // null
   * ```
   */
  getExceptionHandler(): ExceptionHandler | null {
    return this.#exceptionHandler;
  }

  /**
   * Reports `context` through `console.error`: the message, then every
   * other key, then the exception with its stack.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.defaultExceptionHandler({ message: "something odd happened" });
   * ```
   */
  defaultExceptionHandler(context: ExceptionContext): void {
    const lines = [context.message || "Unhandled exception in event loop"];
    if (
      this.#debug && context.sourceTraceback === undefined &&
      this.#currentHandle?.sourceTraceback
    ) {
      context = { ...context, handleTraceback: this.#currentHandle.sourceTraceback };
    }
    for (const key of Object.keys(context).sort()) {
      if (key === "message" || key === "exception") continue;
      const value = context[key];
      if (key === "sourceTraceback") {
        lines.push(`Object created at (most recent call first):\n${value}`);
      } else if (key === "handleTraceback") {
        lines.push(`Handle created at (most recent call first):\n${value}`);
      } else lines.push(`${key}: ${formatValue(value)}`);
    }
    if ("exception" in context) console.error(lines.join("\n"), context.exception);
    else console.error(lines.join("\n"));
  }

  /**
   * Calls the exception handler (or the default one) with `context`.
   * Errors thrown by the handler are reported by the default handler.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.setExceptionHandler((_loop, ctx) => console.log(ctx.message));
   * loop.callExceptionHandler({ message: "lost a connection", exception: new Error("reset") });
   * ```
   */
  callExceptionHandler(context: ExceptionContext): void {
    if (typeof context !== "object" || context === null) {
      throw new TypeError(`context must be an object with a message, got ${context}`);
    }
    const handler = this.#exceptionHandler;
    if (handler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch (e) {
        console.error("Exception in default exception handler", e);
      }
      return;
    }
    try {
      handler(this, context);
    } catch (exc) {
      try {
        this.defaultExceptionHandler({
          message: "Unhandled error in exception handler",
          exception: exc,
          context,
        });
      } catch (e) {
        console.error(
          "Exception in default exception handler while handling an unexpected error " +
            "in custom exception handler",
          e,
        );
      }
    }
  }

  /**
   * Whether the loop is in debug mode.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop({ debug: true });
   * console.log(loop.getDebug()); // true
   * ```
   */
  getDebug(): boolean {
    return this.#debug;
  }

  /**
   * Turns debug mode on or off: slow callbacks are reported and handles and
   * futures keep the stack where they were made.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * loop.setDebug(true);
   * ```
   */
  setDebug(enabled: boolean): void {
    this.#debug = Boolean(enabled);
  }

  /**
   * A short description: the class and its state.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * console.log(String(loop)); // <SelectorEventLoop running=false closed=false debug=false>
   * ```
   */
  toString(): string {
    return `<${this.constructor.name} running=${this.#running} closed=${this.#closed} debug=${this.#debug}>`;
  }
}
