/**
 * `PipeHandle` (asyncio's `windows_utils.PipeHandle`): a named-pipe HANDLE
 * owned by one object. The ProactorEventLoop tracks which handles belong to
 * its completion port by object, never by handle value (values are reused
 * once closed: DESIGN decision 12).
 *
 * @module
 */
import { closeHandle, pipe as ffiPipe, type PipeOptions } from "../../ffi/windows/pipes.ts";

/** Options of {@linkcode pipe} (`duplex`, `overlapped`, `bufsize`). */
export type { PipeOptions };

const open = new Set<PipeHandle>();

/**
 * A pipe HANDLE and its owner: `fileno()` gives the HANDLE (−1 once closed),
 * `close()` closes it once, `using` closes it at the end of the scope.
 *
 * @example
 * ```ts
 * import { pipe } from "./pipe_handle.ts";
 * if (Deno.build.os === "windows") {
 *   const [r, w] = pipe();
 *   r.close();
 *   w.close();
 *   console.log(r.closed, r.fileno()); // true -1
 * }
 * ```
 */
export class PipeHandle {
  #handle: number;

  /** Takes over the HANDLE `handle` (a positive integer). */
  constructor(handle: number) {
    if (!Number.isSafeInteger(handle) || handle <= 0) {
      throw new RangeError(`PipeHandle: a HANDLE is a positive integer, got ${handle}`);
    }
    this.#handle = handle;
    open.add(this);
  }

  /** The HANDLE, or −1 once closed. */
  fileno(): number {
    return this.#handle;
  }

  /** The HANDLE, or −1 once closed (asyncio's `handle` property). */
  get handle(): number {
    return this.#handle;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#handle < 0;
  }

  /** Closes the HANDLE (pending operations on it end with ERROR_OPERATION_ABORTED); once. */
  close(): void {
    const h = this.#handle;
    if (h < 0) return;
    this.#handle = -1;
    open.delete(this);
    closeHandle(h);
  }

  /** Closes the HANDLE. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `<PipeHandle 0x1a4>` or `<PipeHandle closed>`. */
  toString(): string {
    return this.#handle < 0 ? "<PipeHandle closed>" : `<PipeHandle 0x${this.#handle.toString(16)}>`;
  }
}

/**
 * How many `PipeHandle`s are open in this process (for leak checks).
 *
 * @example
 * ```ts
 * import { openPipeHandleCount } from "./pipe_handle.ts";
 * console.log(openPipeHandleCount() >= 0); // true
 * ```
 */
export function openPipeHandleCount(): number {
  return open.size;
}

/**
 * asyncio's `windows_utils.pipe()` as two `PipeHandle`s: `[read end, write
 * end]` (both read and write when `duplex`), overlapped unless said
 * otherwise. The caller owns both.
 */
export function pipe(options: PipeOptions = {}): [PipeHandle, PipeHandle] {
  const [a, b] = ffiPipe(options);
  let h1: PipeHandle;
  try {
    h1 = new PipeHandle(a);
  } catch (e) {
    closeHandle(a);
    closeHandle(b);
    throw e;
  }
  return [h1, new PipeHandle(b)];
}
