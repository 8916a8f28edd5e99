/**
 * `WinsockSelectSelector`: Winsock `select()` over three counted fd_sets
 * (a SOCKET array, not a bitmap), at most 512 sockets, as CPython's
 * `SelectSelector` on Windows. On Windows, `SelectSelector` and
 * `DefaultSelector` are this class (`./mod.ts`).
 *
 * @module
 */
import { fileKind, PLATFORM } from "../ffi/sys.ts";
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

const setBuf = () => new Uint8Array(new ArrayBuffer(SET_BYTES));

/**
 * The Windows selector: Winsock `select()`. Watches sockets only (at most
 * 512, FD_SETSIZE): the 513th registration is refused with a `RangeError`
 * naming 512 and the ways past it, a pipe, console or other handle with
 * `NotSupported`, and a disk file with the `TypeError` naming Deno's file
 * APIs that Unix selectors give. A writer is also watched in the except
 * set, where Windows reports a failed connect, and is then reported
 * writable (read `SO_ERROR` to learn why).
 *
 * The wakeup socket (one end of a loopback TCP pair, as CPython's
 * `socketpair()` on Windows) is always first in the read set, so the sets
 * are never empty (Winsock refuses empty sets with WSAEINVAL): a wait with
 * nothing registered is a sleep that `wakeup()` ends. `selectAsync()` runs
 * the same `select()` off the JS thread on a copy of the sets, and
 * `wakeup()` ends it by writing a byte to the pair.
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
  // The off-thread wait's own copies: the JS thread may rebuild the sets meanwhile.
  #rdAsync = setBuf();
  #wrAsync = setBuf();
  #exAsync = setBuf();
  #tvAsync = new Uint8Array(new ArrayBuffer(TIMEVAL.SIZE));
  #dirty = true;

  /** Opens the selector (its wakeup socket pair). `NotSupported` off Windows. */
  constructor() {
    if (PLATFORM !== "windows") {
      throw new Deno.errors.NotSupported(
        `WinsockSelectSelector is for Windows (Winsock select()); this is ${PLATFORM}: ` +
          `use SelectSelector, PollSelector or DefaultSelector`,
      );
    }
    super();
  }

  /**
   * Refuses the 513th socket, and any handle that is not a socket; a disk
   * file is left to `BaseSelector`, whose `TypeError` names Deno's file APIs
   * as on Unix.
   */
  protected override checkBackendFd(fd: number): void {
    if (this.fdMap.size >= MAX_SOCKETS) {
      throw new RangeError(
        `WinsockSelectSelector cannot watch fd ${fd}: Winsock select() takes at most ` +
          `${MAX_SOCKETS} sockets (FD_SETSIZE), and ${this.fdMap.size} are registered; for more ` +
          `use the ProactorEventLoop (I/O completion ports) or the AfdSelector`,
      );
    }
    let kind: string;
    try {
      kind = fileKind(fd);
    } catch (e) {
      throw new Deno.errors.BadResource(
        `WinsockSelectSelector cannot watch fd ${fd}: it is not an open socket or ` +
          `handle (closed already?)`,
        { cause: e },
      );
    }
    if (kind === "socket" || kind === "file" || kind === "directory") return;
    const what = kind === "fifo" ? "pipe" : kind;
    throw new Deno.errors.NotSupported(
      `WinsockSelectSelector cannot watch fd ${fd} (${/^[aeiou]/.test(what) ? "an" : "a"} ` +
        `${what} handle): Winsock select() watches sockets only; for pipes use the ` +
        `ProactorEventLoop (connectReadPipe/connectWritePipe)`,
    );
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
    this.#dirty = false;
  }

  /**
   * One synchronous wait; -1 after WSAEINTR, and after a timeout that ended
   * early (Windows' waits end on the timer tick, up to one early), so that
   * `BaseSelector.select()` waits out the rest.
   */
  protected wait(timeoutMs: number): number {
    this.#rebuild();
    this.#rdOut.set(this.#rd);
    this.#wrOut.set(this.#wr);
    this.#exOut.set(this.#wr);
    let tv: Uint8Array | null = null;
    let end = 0;
    if (timeoutMs >= 0) {
      writeTimeval(this.#tv, 0, timeoutMs / 1000);
      tv = this.#tv;
      if (timeoutMs > 0) end = performance.now() + timeoutMs;
    }
    const n = ws2_32().select(0, this.#rdOut, this.#wrOut, this.#exOut, tv);
    if (n === 0 && end > 0 && performance.now() < end) return -1;
    if (n >= 0) return n;
    const e = wsaLastError("select");
    if (e.code === "WSAEINTR") return -1;
    if (e.code === "WSAENOTSOCK") {
      for (const fd of this.fdMap.keys()) {
        let open: boolean;
        try {
          open = fileKind(fd) === "socket";
        } catch {
          open = false;
        }
        if (!open) {
          throw new Deno.errors.BadResource(
            `fd ${fd} (a socket) was closed while registered in WinsockSelectSelector: ` +
              `unregister it before closing it`,
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
   * The same `select()` off the JS thread, on copies of the sets: returns
   * when something is ready, `wakeup()` writes to the pair, or `timeoutMs`
   * passes (-1: no limit). The caller's `select(0)` then takes the results
   * (and reports a failure, whose WSAGetLastError stayed on the other thread).
   */
  protected waitAsync(timeoutMs: number): Promise<number> {
    this.#rebuild();
    this.#rdAsync.set(this.#rd);
    this.#wrAsync.set(this.#wr);
    this.#exAsync.set(this.#wr);
    let tv: Uint8Array | null = null;
    if (timeoutMs >= 0) {
      writeTimeval(this.#tvAsync, 0, timeoutMs / 1000);
      tv = this.#tvAsync;
    }
    return ws2_32().selectAsync(0, this.#rdAsync, this.#wrAsync, this.#exAsync, tv);
  }

  /** Nothing of its own: the wakeup pair is closed by `BaseSelector`. */
  protected closeBackend(): void {}
}
