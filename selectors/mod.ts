/**
 * Python's `selectors` module for Deno: wait for many file descriptors with
 * the kernel's own calls (`select`, `poll`, `epoll`, `kqueue`, and Winsock
 * `select` and AFD polling on Windows) through FFI.
 *
 * @example
 * ```ts
 * import { DefaultSelector, EVENT_READ, Socket } from "@aio/loop";
 * using sock = new Socket();
 * using sel = new DefaultSelector();
 * sel.register(sock, EVENT_READ);
 * const ready = await sel.selectAsync(100);
 * ```
 * @module
 */
export { BaseSelector, selectorsSettled } from "./base_selector.ts";
export {
  EVENT_READ,
  EVENT_WRITE,
  FD_KIND,
  type FileObj,
  type HasFileno,
  type SelectorKey,
  type SelectResult,
} from "./selector_key.ts";
export { SelectSelector, type SelectSelectorConstructor } from "./platform_select_selector.ts";
export { SelectSelector as PosixSelectSelector } from "./select_selector.ts";
export { WinsockSelectSelector } from "./winsock_select_selector.ts";
export { AfdSelector } from "./afd_selector.ts";
export { PollSelector } from "./poll_selector.ts";
export { EpollSelector } from "./epoll_selector.ts";
export { KqueueSelector, type KqueueSelectorOptions } from "./kqueue_selector.ts";
export {
  DefaultSelector,
  type DefaultSelectorConstructor,
  type DefaultSelectorProbe,
  probeDefaultSelector,
  type SelectorCandidate,
} from "./default_selector.ts";
export type { KqueueApi } from "../ffi/darwin/sys.ts";
