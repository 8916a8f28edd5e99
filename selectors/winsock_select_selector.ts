/**
 * `WinsockSelectSelector`: Winsock `select()` over three counted fd_sets
 * (a SOCKET array, not a bitmap), at most 512 sockets, as CPython's
 * `SelectSelector` on Windows.
 *
 * Not exported yet (issue 10): it runs only once `ffi/sys.ts` picks
 * `ffi/windows/` (until then its constructor refuses), and `selectAsync()`
 * still polls `select(0)` every 10 ms instead of waiting off the JS thread
 * (that needs a buffer-taking wrapper of the nonblocking `select` in
 * `ffi/windows/ws2_32.ts`).
 *
 * @module
 */
import { describe, PLATFORM, Waker as SeamWaker } from "../ffi/sys.ts";
import { fileKind } from "../ffi/windows/socket.ts";
import { Waker as WindowsWaker } from "../ffi/windows/waker.ts";
import { kernel32 } from "../ffi/windows/kernel32.ts";
import { ws2_32, wsaLastError } from "../ffi/windows/ws2_32.ts";
import {
  FD_SETSIZE,
  fdSetSize,
  readFdSet,
  TIMEVAL,
  writeFdSet,
  writeTimeval,
} from "../ffi/windows/structs.ts";
import { BaseSelector } from "./base_selector.ts";
import { EVENT_READ, EVENT_WRITE, type SelectResult } from "./selector_key.ts";

/** The most sockets one selector watches: FD_SETSIZE (512), the wakeup socket not counted. */
const MAX_SOCKETS = FD_SETSIZE;
/** Each set also has room for the wakeup socket. */
const SET_BYTES = fdSetSize(MAX_SOCKETS + 1);
/** Between two `select(timeout 0)` of `selectAsync()`: see {@linkcode WinsockSelectSelector}. */
const POLL_MS = 10;
const INFINITE = 0xFFFF_FFFF;

const setBuf = () => new Uint8Array(new ArrayBuffer(SET_BYTES));

/**
 * The Windows selector: Winsock `select()`. Watches sockets only (at most
 * 512, FD_SETSIZE); a writer is also watched in the except set, where
 * Windows reports a failed connect, and is then reported writable (read
 * `SO_ERROR` to learn why). The wakeup socket (one end of a loopback TCP
 * pair) is always in the read set, so the sets are never empty; were they,
 * the wait would sleep, as Winsock refuses empty sets (WSAEINVAL).
 *
 * `selectAsync()` polls: `select()` with a zero timeout, then a 10 ms timer,
 * until something is ready, `wakeup()` is called or the time is up. The
 * nonblocking twin `selectNB` of `ffi/windows/ws2_32.ts` takes pointers,
 * which code outside `ffi/` may not make (decision O3); an off-thread wait
 * needs a buffer-taking wrapper there.
 *
 * On any other OS the constructor throws `NotSupported`.
 *
 * @example
 * ```ts
 * import { WinsockSelectSelector } from "./winsock_select_selector.ts";
 * if (Deno.build.os === "windows") {
 *   using sel = new WinsockSelectSelector();
 *   console.log(sel.select(0)); // []
 * }
 * ```
 */
export class WinsockSelectSelector extends BaseSelector {
  /** `"select"`. */
  readonly name: string = "select";
  #rd = setBuf();
  #wr = setBuf();
  #rdOut = setBuf();
  #wrOut = setBuf();
  #exOut = setBuf();
  #tv = new Uint8Array(new ArrayBuffer(TIMEVAL.SIZE));
  #dirty = true;
  #count = 0;

  /** Opens the selector (its wakeup socket pair). `NotSupported` off Windows. */
  constructor() {
    if (PLATFORM !== "windows") {
      throw new Deno.errors.NotSupported(
        `WinsockSelectSelector is for Windows (Winsock select()); this is ${PLATFORM}: ` +
          `use SelectSelector, PollSelector or DefaultSelector`,
      );
    }
    if ((SeamWaker as unknown) !== WindowsWaker) {
      throw new Deno.errors.NotSupported(
        "WinsockSelectSelector needs the Windows seam: ffi/sys.ts does not pick " +
          "ffi/windows/ yet, so its wakeup channel would be the Unix one",
      );
    }
    super();
  }

  /** Refuses the 513th socket, and anything that is not an open socket. */
  protected override checkBackendFd(fd: number): void {
    if (this.fdMap.size >= MAX_SOCKETS) {
      throw new RangeError(
        `WinsockSelectSelector cannot watch socket ${fd}: Winsock select() takes at most ` +
          `${MAX_SOCKETS} sockets (FD_SETSIZE), and ${this.fdMap.size} are registered; for more ` +
          `use the ProactorEventLoop (I/O completion ports) or the AfdSelector`,
      );
    }
    try {
      fileKind(fd);
    } catch (e) {
      if ((e as { code?: string })?.code !== "WSAENOTSOCK") throw e;
      throw new Deno.errors.BadResource(
        `${describe(fd)} is not an open socket (a closed SOCKET, or a handle that is not a ` +
          `socket): Winsock select() watches sockets only; pipes, files and consoles need the ` +
          `ProactorEventLoop`,
        { cause: e },
      );
    }
  }

  /** False: a change reaches `select()` at the next wait. */
  protected override get registersLive(): boolean {
    return false;
  }

  /** Marks the sets for rebuilding. */
  protected addFd(_fd: number, _events: number): void {
    this.#dirty = true;
  }

  /** Marks the sets for rebuilding. */
  protected modifyFd(_fd: number, _old: number, _events: number): void {
    this.#dirty = true;
  }

  /** Marks the sets for rebuilding; never throws. */
  protected removeFd(_fd: number): void {
    this.#dirty = true;
  }

  // The read and write sets from the map (the wakeup socket first); the except
  // set is the write set.
  #rebuild(): void {
    if (!this.#dirty) return;
    const rd: bigint[] = [BigInt(this.wakeupFd)];
    const wr: bigint[] = [];
    for (const [fd, key] of this.fdMap) {
      if (key.events & EVENT_READ) rd.push(BigInt(fd));
      if (key.events & EVENT_WRITE) wr.push(BigInt(fd));
    }
    writeFdSet(this.#rd, 0, rd);
    writeFdSet(this.#wr, 0, wr);
    this.#count = rd.length + wr.length;
    this.#dirty = false;
  }

  /** One synchronous wait; -1 after WSAEINTR. */
  protected wait(timeoutMs: number): number {
    this.#rebuild();
    if (this.#count === 0) {
      kernel32().Sleep(timeoutMs < 0 ? INFINITE : Math.ceil(timeoutMs));
      writeFdSet(this.#rdOut, 0, []);
      writeFdSet(this.#wrOut, 0, []);
      writeFdSet(this.#exOut, 0, []);
      return 0;
    }
    this.#rdOut.set(this.#rd);
    this.#wrOut.set(this.#wr);
    this.#exOut.set(this.#wr);
    let tv: Uint8Array | null = null;
    if (timeoutMs >= 0) {
      writeTimeval(this.#tv, 0, timeoutMs / 1000);
      tv = this.#tv;
    }
    const n = ws2_32().select(0, this.#rdOut, this.#wrOut, this.#exOut, tv);
    if (n >= 0) return n;
    const e = wsaLastError("select");
    if (e.code === "WSAEINTR") return -1;
    if (e.code === "WSAENOTSOCK") {
      for (const fd of this.fdMap.keys()) {
        try {
          fileKind(fd);
        } catch {
          throw new Deno.errors.BadResource(
            `socket ${fd} was closed while registered in WinsockSelectSelector: unregister it ` +
              `before closing it`,
            { cause: e },
          );
        }
      }
    }
    throw e;
  }

  /** Turns the ready sets into entries; the except set counts as writable. */
  protected collect(_n: number, out: SelectResult): void {
    const ready = new Map<number, number>();
    const wake = BigInt(this.wakeupFd);
    let woken = false;
    for (const s of readFdSet(this.#rdOut, 0)) {
      if (s === wake) woken = true;
      else ready.set(Number(s), EVENT_READ);
    }
    for (const s of [...readFdSet(this.#wrOut, 0), ...readFdSet(this.#exOut, 0)]) {
      const fd = Number(s);
      ready.set(fd, (ready.get(fd) ?? 0) | EVENT_WRITE);
    }
    if (woken) this.drainWakeup();
    for (const [fd, ev] of ready) {
      const key = this.fdMap.get(fd);
      if (key === undefined) continue;
      const mine = ev & key.events;
      if (mine !== 0) out.push([key, mine]);
    }
  }

  /**
   * Waits until something may be ready, `wakeup()` is called or `timeoutMs`
   * passes (-1: no limit), keeping the JS thread free: `select()` with a
   * zero timeout every 10 ms. Results are taken by the caller's `select(0)`.
   */
  protected async waitAsync(timeoutMs: number): Promise<number> {
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      let n: number;
      try {
        n = this.wait(0);
      } catch {
        return -1; // select(0) afterwards reports it
      }
      if (n !== 0) return n;
      const left = deadline - performance.now();
      if (left <= 0) return 0;
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, POLL_MS)));
    }
  }

  /** Nothing of its own: the wakeup pair is closed by `BaseSelector`. */
  protected closeBackend(): void {}
}
