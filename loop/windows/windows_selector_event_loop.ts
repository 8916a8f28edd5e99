/**
 * `WindowsSelectorEventLoop` (asyncio's `windows_events._WindowsSelectorEventLoop`):
 * the selector loop on Winsock `select()`. What Windows lacks there is the
 * platform table's: no pipes, subprocesses, AF_UNIX or signal handlers
 * (`BaseEventLoop`'s refusals), and `addReader`/`addWriter` on sockets only.
 *
 * @module
 */
import { fileKind, PLATFORM } from "../../ffi/sys.ts";
import type { BaseSelector } from "../../selectors/base_selector.ts";
import { fileobjToFd } from "../../selectors/base_selector.ts";
import type { FileObj } from "../../selectors/selector_key.ts";
import type { EventLoopOptions } from "../abstract_event_loop.ts";
import type { Callback, Handle } from "../handle.ts";
import { notSupported } from "../_platform_table.ts";
import { BaseSelectorEventLoop } from "../selector/selector_event_loop.ts";

const SOCKETS_ONLY = "Windows selectors (Winsock select(), AFD polling) watch sockets only: " +
  "for a pipe use the ProactorEventLoop (connectReadPipe/connectWritePipe)";

/**
 * The selector event loop of Windows: `SelectorEventLoop` is this class
 * there, over `SelectSelector` (Winsock `select()`, at most 512 sockets)
 * unless given another selector. Callbacks, timers, `addReader`/`addWriter`
 * on sockets, every `sock*` call, TCP and UDP transports, servers and
 * streams work; pipes, subprocesses, AF_UNIX sockets and signal handlers
 * throw `NotSupported` naming the alternative, as does `addReader` on a
 * handle that is not a socket. On any other OS the constructor throws
 * `NotSupported`.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, WindowsSelectorEventLoop } from "@aio/loop";
 * if (Deno.build.os === "windows") {
 *   using loop = new SelectorEventLoop();
 *   console.log(loop instanceof WindowsSelectorEventLoop); // true
 * }
 * ```
 */
export class WindowsSelectorEventLoop extends BaseSelectorEventLoop {
  /** Makes a loop over a new `DefaultSelector` (`SelectSelector`). */
  constructor(options?: EventLoopOptions);
  /** Makes a loop over `selector` (a new `DefaultSelector` when `null`). */
  constructor(selector: BaseSelector | null | undefined, options?: EventLoopOptions);
  constructor(
    selectorOrOptions?: BaseSelector | EventLoopOptions | null,
    options?: EventLoopOptions,
  ) {
    if (PLATFORM !== "windows") {
      throw new Deno.errors.NotSupported(
        `WindowsSelectorEventLoop is the SelectorEventLoop of Windows; this is ${PLATFORM}: ` +
          `use SelectorEventLoop`,
      );
    }
    super(selectorOrOptions as BaseSelector | null | undefined, options);
  }

  /**
   * Calls `callback(...args)` whenever socket `fileobj` is readable; a
   * handle that is not a socket throws `NotSupported`.
   *
   * @example
   * ```ts ignore
   * loop.addReader(sock, () => console.log(sock.recv(100)));
   * ```
   */
  override addReader<A extends unknown[]>(
    fileobj: FileObj,
    callback: Callback<A>,
    ...args: A
  ): Handle {
    // A junk callback is the shared code's TypeError first (B4), whatever the handle.
    if (typeof callback === "function") this.#onlySockets(fileobj, "addReader");
    return super.addReader(fileobj, callback, ...args);
  }

  /**
   * Calls `callback(...args)` whenever socket `fileobj` is writable; a
   * handle that is not a socket throws `NotSupported`.
   *
   * @example
   * ```ts ignore
   * loop.addWriter(sock, () => loop.removeWriter(sock));
   * ```
   */
  override addWriter<A extends unknown[]>(
    fileobj: FileObj,
    callback: Callback<A>,
    ...args: A
  ): Handle {
    // A junk callback is the shared code's TypeError first (B4), whatever the handle.
    if (typeof callback === "function") this.#onlySockets(fileobj, "addWriter");
    return super.addWriter(fileobj, callback, ...args);
  }

  // Junk and closed handles are left to the shared checks, which name them.
  #onlySockets(fileobj: FileObj, method: string): void {
    let kind: string;
    try {
      kind = fileKind(fileobjToFd(fileobj));
    } catch {
      return;
    }
    if (kind !== "socket") throw notSupported(method, this, SOCKETS_ONLY);
  }
}
