/**
 * `SelectSelector` as the package exports it: this OS family's `select()`
 * selector, as Python's `selectors.SelectSelector` is on each OS. On Linux
 * and macOS it is the POSIX one (`./select_selector.ts`, fd_set bitmaps of
 * 1024 bits); on Windows the Winsock one (`./winsock_select_selector.ts`,
 * counted SOCKET arrays of 512).
 *
 * @module
 */
import { OS_FAMILY } from "../ffi/sys.ts";
import { SelectSelector as PosixSelectSelector } from "./select_selector.ts";
import { WinsockSelectSelector } from "./winsock_select_selector.ts";

/** An instance of {@linkcode SelectSelector}: the POSIX or the Winsock `select()` selector. */
export type SelectSelector = PosixSelectSelector | WinsockSelectSelector;

/** What {@linkcode SelectSelector} is: a class whose instances are this OS family's. */
export interface SelectSelectorConstructor {
  /** Opens a `select()` selector (its wakeup channel). */
  new (): SelectSelector;
  /** For `instanceof`. */
  readonly prototype: SelectSelector;
}

/**
 * The `select()` selector of this OS: POSIX `select(2)` on Linux and macOS
 * (fds below FD_SETSIZE, 1024), Winsock `select()` on Windows (at most 512
 * sockets, sockets only). Portable and small; prefer `DefaultSelector`
 * unless you need `select()` itself.
 *
 * @example
 * ```ts
 * import { EVENT_READ, SelectSelector, Socket } from "@aio/loop";
 * using sock = new Socket();
 * using sel = new SelectSelector();
 * sel.register(sock, EVENT_READ);
 * console.log(sel.select(0)); // []
 * ```
 */
export const SelectSelector: SelectSelectorConstructor = OS_FAMILY === "windows"
  ? WinsockSelectSelector
  : PosixSelectSelector;
