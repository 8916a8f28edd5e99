/**
 * `AfdSelector`: a Windows selector on AFD polling (`IOCTL_AFD_POLL`
 * through `\Device\Afd`, delivered on its own I/O completion port), as mio,
 * wepoll and libuv get readiness on Windows: no 512-socket limit, no extra
 * thread. Beyond CPython, whose Windows `SelectSelector` stops at 512.
 *
 * @module
 */
import { fileKind, PLATFORM } from "../ffi/sys.ts";
import { CompletionPort } from "../ffi/windows/iocp.ts";
import { K32 } from "../ffi/windows/kernel32.ts";
import { AfdPoller } from "./afd_poller.ts";
import { BaseSelector } from "./base_selector.ts";
import { EVENT_READ, type SelectResult } from "./selector_key.ts";

const noop = () => {};
/** How many times one wait re-submits polls that came back with nothing to report. */
const RETRY_ROUNDS = 3;

/**
 * A selector on AFD polling, for Windows: any number of sockets (the
 * 512-socket limit of Winsock `select()` does not apply), sockets only (a
 * pipe or other handle is refused with `NotSupported` naming the
 * ProactorEventLoop's pipe transports; a disk file with the `TypeError` of
 * every selector). Readiness is level-triggered, as Python's selectors:
 * each socket's one-shot poll is re-armed before every wait.
 *
 * The wakeup channel is `BaseSelector`'s loopback socket pair, watched by
 * its own AFD poll; `selectAsync()` waits off the JS thread
 * (`GetQueuedCompletionStatusEx`, `nonblocking`). Use it as
 * `new SelectorEventLoop(new AfdSelector())`. On any other OS the
 * constructor throws `NotSupported`.
 *
 * @example
 * ```ts
 * import { AfdSelector } from "@aio/loop";
 * if (Deno.build.os === "windows") {
 *   using sel = new AfdSelector();
 *   console.log(sel.name, sel.select(0)); // "afd" []
 * }
 * ```
 */
export class AfdSelector extends BaseSelector {
  /** `"afd"`. */
  readonly name: string = "afd";
  #port: CompletionPort;
  #poller: AfdPoller;
  // What the packets handled since the last collect reported, by fd.
  #ready = new Map<number, number>();

  /** Opens the selector: its completion port, its wakeup pair. `NotSupported` off Windows. */
  constructor() {
    if (PLATFORM !== "windows") {
      throw new Deno.errors.NotSupported(
        `AfdSelector is for Windows (AFD polling on an I/O completion port); this is ` +
          `${PLATFORM}: use EpollSelector or DefaultSelector`,
      );
    }
    super();
    let port: CompletionPort | null = null;
    try {
      port = new CompletionPort();
      this.#port = port;
      this.#poller = new AfdPoller(port, {
        onEvents: (fd, events) => this.#ready.set(fd, (this.#ready.get(fd) ?? 0) | events),
        onDropped: (fd) => this.#ready.delete(fd),
        name: "AfdSelector",
        alternative: "for pipes use the ProactorEventLoop (connectReadPipe/connectWritePipe)",
      });
      this.#poller.register(this.wakeupFd, EVENT_READ);
    } catch (e) {
      try {
        port?.close();
      } finally {
        this.abandon();
      }
      throw e;
    }
  }

  /** How many AFD polls are in flight (leak checks). */
  get pendingPolls(): number {
    return this.#poller.pendingCount;
  }

  /**
   * Refuses a handle that is not a socket (`NotSupported`) or not open
   * (`BadResource`); a disk file is left to `BaseSelector`, whose
   * `TypeError` names Deno's file APIs as on Unix.
   */
  protected override checkBackendFd(fd: number): void {
    let kind: string;
    try {
      kind = fileKind(fd);
    } catch (e) {
      throw new Deno.errors.BadResource(
        `AfdSelector cannot watch fd ${fd}: it is not an open socket or handle (closed already?)`,
        { cause: e },
      );
    }
    if (kind === "socket" || kind === "file" || kind === "directory") return;
    const what = kind === "fifo" ? "pipe" : kind;
    throw new Deno.errors.NotSupported(
      `AfdSelector cannot watch fd ${fd} (${/^[aeiou]/.test(what) ? "an" : "a"} ${what} ` +
        `handle): AFD polling watches sockets only; for pipes use the ProactorEventLoop ` +
        `(connectReadPipe/connectWritePipe)`,
    );
  }

  /** Starts the socket's poll (now if a wait is in flight, else before the next wait). */
  protected addFd(fd: number, events: number): void {
    this.#poller.register(fd, events);
  }

  /** Changes the socket's interest. */
  protected modifyFd(fd: number, _old: number, events: number): void {
    this.#poller.modify(fd, events);
  }

  /** Stops watching the socket (its pending poll is cancelled); never throws. */
  protected removeFd(fd: number): void {
    this.#ready.delete(fd);
    try {
      this.#poller.unregister(fd);
    } catch {
      // Nothing to undo: the socket is forgotten either way.
    }
  }

  /**
   * Re-arms the polls, then waits on the JS thread; the count of sockets
   * ready, or -1 when a timeout ended early (a packet that reported nothing
   * the caller asked for, or the timer's tick), so that `BaseSelector.select()`
   * waits out the rest.
   */
  protected wait(timeoutMs: number): number {
    this.#poller.update();
    // A wait in flight (ended early by wakeup()) takes the packets: report what is here.
    if (this.#port.waiting) return this.#ready.size;
    const end = timeoutMs > 0 ? performance.now() + timeoutMs : 0;
    if (this.#ready.size === 0) {
      this.#port.waitSync(timeoutMs < 0 ? K32.INFINITE : timeoutMs, noop);
    }
    // A poll cancelled to ask for more (or that reported only what is no longer wanted) is
    // submitted again at once: a socket ready now is then reported by this same select().
    for (let i = 0; i < RETRY_ROUNDS && this.#poller.retryPending; i++) {
      this.#poller.update();
      this.#port.waitSync(0, noop);
    }
    const n = this.#ready.size;
    if (n === 0 && (timeoutMs < 0 || (end > 0 && performance.now() < end))) return -1;
    return n;
  }

  /** Turns what the packets reported into entries; the wakeup socket is drained. */
  protected collect(_n: number, out: SelectResult): void {
    const wake = this.wakeupFd;
    for (const [fd, ev] of this.#ready) {
      if (fd === wake) {
        this.drainWakeup();
        continue;
      }
      const key = this.fdMap.get(fd);
      if (key === undefined) continue;
      const mine = ev & key.events;
      if (mine !== 0) out.push([key, mine]);
    }
    this.#ready.clear();
  }

  /**
   * Re-arms the polls, then waits off the JS thread (`nonblocking`
   * `GetQueuedCompletionStatusEx`) until a packet comes, `wakeup()` writes
   * to the pair, or `timeoutMs` passes (-1: no limit); the packets are
   * handled when it returns, the caller's `select(0)` takes the results.
   */
  protected waitAsync(timeoutMs: number): Promise<number> {
    this.#poller.update();
    if (this.#ready.size > 0) return Promise.resolve(this.#ready.size);
    return this.#port.wait(timeoutMs < 0 ? K32.INFINITE : timeoutMs, noop);
  }

  /** Cancels every poll, waits for their packets, closes the helpers and the port. */
  protected closeBackend(): void {
    try {
      this.#poller.close();
    } finally {
      this.#ready.clear();
      if (this.#poller.pendingCount === 0) this.#port.close();
    }
  }
}
