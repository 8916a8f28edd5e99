/**
 * asyncio's `FlowControlMixin`: the write-side flow control a stream
 * protocol needs for `StreamWriter.drain()`. JavaScript has single
 * inheritance, so it is a `Protocol` subclass the stream protocols
 * (`StreamReaderProtocol`, the subprocess streams) extend.
 *
 * @module
 */
import { cancelledError, checkSignal } from "../loop/_signal.ts";
import { Protocol } from "../transports/protocol.ts";

/** Options of `drain()`. */
export interface DrainOptions {
  /** Aborting it rejects a pending drain with `CancelledError`. */
  signal?: AbortSignal;
}

const RESOLVED = Promise.resolve();

/**
 * Keeps track of the transport's `pauseWriting()`/`resumeWriting()` calls
 * and of the connection's loss, and lets writers wait while writing is
 * paused (`_drainHelper()`).
 *
 * @example
 * ```ts
 * import { FlowControlMixin } from "@aio/loop";
 * const p = new FlowControlMixin();
 * p.pauseWriting();
 * const drained = p._drainHelper();
 * p.resumeWriting();
 * await drained;
 * ```
 */
export class FlowControlMixin extends Protocol {
  #paused = false;
  #connectionLost = false;
  #drainWaiters: PromiseWithResolvers<void>[] = [];

  /**
   * The transport's buffer went over its high-water mark: drains wait.
   *
   * @example
   * ```ts ignore
   * protocol.pauseWriting();
   * ```
   */
  override pauseWriting(): void {
    this.#paused = true;
  }

  /**
   * The buffer drained to its low-water mark: waiting drains resolve.
   *
   * @example
   * ```ts ignore
   * protocol.resumeWriting();
   * ```
   */
  override resumeWriting(): void {
    this.#paused = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /**
   * The connection is gone: waiting drains resolve (`exc` null) or reject
   * with `exc`; later drains throw.
   *
   * @example
   * ```ts ignore
   * protocol.connectionLost(null);
   * ```
   */
  override connectionLost(exc: Error | null): void {
    this.#connectionLost = true;
    if (!this.#paused) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) exc === null ? w.resolve() : w.reject(exc);
  }

  /**
   * Resolves when writing is not paused; rejects with
   * `ConnectionReset("Connection lost")` once the connection is gone.
   *
   * @example
   * ```ts ignore
   * await protocol._drainHelper();
   * ```
   * @internal
   */
  _drainHelper(options?: DrainOptions): Promise<void> {
    if (this.#connectionLost) {
      return Promise.reject(new Deno.errors.ConnectionReset("Connection lost"));
    }
    if (!this.#paused) return RESOLVED;
    const signal = options?.signal;
    checkSignal(signal, "drain");
    if (signal?.aborted) return Promise.reject(cancelledError(signal, "drain()"));
    const w = Promise.withResolvers<void>();
    this.#drainWaiters.push(w);
    if (signal === undefined) return w.promise;
    const onAbort = (): void => {
      const i = this.#drainWaiters.indexOf(w);
      if (i >= 0) this.#drainWaiters.splice(i, 1);
      w.reject(cancelledError(signal, "drain()"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const off = (): void => signal.removeEventListener("abort", onAbort);
    w.promise.then(off, off);
    return w.promise;
  }
}
