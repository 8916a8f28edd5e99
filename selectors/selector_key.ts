/**
 * The registration record of Python's `selectors` module, and the event bits.
 *
 * @module
 */

/**
 * The fd is readable.
 *
 * @example
 * ```ts
 * import { EVENT_READ, EVENT_WRITE } from "@aio/loop";
 * const both = EVENT_READ | EVENT_WRITE; // 3
 * ```
 */
export const EVENT_READ = 1;
/**
 * The fd is writable.
 *
 * @example
 * ```ts
 * import { EVENT_WRITE } from "@aio/loop";
 * console.log(EVENT_WRITE); // 2
 * ```
 */
export const EVENT_WRITE = 2;

/**
 * Anything with a file descriptor: a socket, or a wrapper of one.
 *
 * @example
 * ```ts
 * import type { HasFileno } from "@aio/loop";
 * const stdin: HasFileno = { fileno: () => 0 };
 * ```
 */
export interface HasFileno {
  /** The file descriptor number. */
  fileno(): number;
  /** What the fd is, when the object knows (see {@linkcode FD_KIND}). */
  [FD_KIND]?(): string;
}

/**
 * An optional method of a fileobj that says what its fd is (`"socket"`,
 * `"fifo"` ...), so that `register()` can skip the `fstat` it otherwise
 * makes to refuse regular files. `Socket` has it.
 *
 * @example
 * ```ts
 * import { FD_KIND, type HasFileno } from "@aio/loop";
 * const wrapped: HasFileno = { fileno: () => 5, [FD_KIND]: () => "socket" };
 * ```
 */
export const FD_KIND: unique symbol = Symbol.for("@aio/loop.fdKind");

/**
 * What a selector watches: an fd number or an object with `fileno()`.
 *
 * @example
 * ```ts
 * import type { FileObj } from "@aio/loop";
 * const a: FileObj = 0;
 * const b: FileObj = { fileno: () => 0 };
 * ```
 */
export type FileObj = number | HasFileno;

/**
 * One registration: the object, its fd, the events watched and the caller's data.
 * Keys are immutable; `modify()` returns a new one.
 *
 * @example
 * ```ts
 * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
 * using sock = new Socket();
 * using sel = new DefaultSelector();
 * const key = sel.register(sock, EVENT_READ, "sock");
 * console.log(key.fd, key.events, key.data); // 0 1 "sock"
 * ```
 */
export interface SelectorKey<T = unknown> {
  /** The object given to `register`. */
  readonly fileobj: FileObj;
  /** Its file descriptor. */
  readonly fd: number;
  /** `EVENT_READ`, `EVENT_WRITE` or both. */
  readonly events: number;
  /** The data given to `register` or `modify`. */
  readonly data: T;
}

/**
 * What `select()` returns: one entry per ready fd, with the ready bits.
 *
 * @example
 * ```ts
 * import { DefaultSelector, type SelectResult } from "@aio/loop";
 * using sel = new DefaultSelector();
 * const ready: SelectResult = sel.select(0);
 * ```
 */
export type SelectResult = Array<[SelectorKey, number]>;
