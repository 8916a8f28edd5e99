/**
 * `AfdPoller`: the state machine of AFD polling (mio's and wepoll's), over
 * the pointer-level `ffi/windows/afd.ts`. One poll per socket for reader and
 * writer interest together (two polls on one socket confuse each other,
 * trio #52); polls are one-shot, so each socket with interest is re-armed
 * just before every wait ({@linkcode AfdPoller.update}), which makes the
 * readiness level-triggered as asyncio's `add_reader` is. A poll is
 * cancelled only when more is wanted than it covers (then re-submitted once
 * its cancelled packet came); when less is wanted it stays pending and its
 * extra events are filtered. A slot is freed only after its packet.
 *
 * Used by `AfdSelector` (its own completion port) and by the
 * ProactorEventLoop's `addReader`/`addWriter` (the proactor's port).
 *
 * @module
 */
import {
  AFD_POLL,
  AFD_READ_EVENTS,
  AFD_WRITE_EVENTS,
  AfdDevice,
  type AfdSlot,
  baseSocket,
  STATUS_CANCELLED,
} from "../ffi/windows/afd.ts";
import type { CompletionPort } from "../ffi/windows/iocp.ts";
import { fileKind } from "../ffi/sys.ts";
import { EVENT_READ, EVENT_WRITE } from "./selector_key.ts";

/** How long `close()` waits for the packets of cancelled polls, in all. */
const CLOSE_DRAIN_MS = 10_000;

/** Where a socket's poll is. */
type Status = "idle" | "pending" | "cancelled";

/** One registered socket. */
class SockState {
  /** The EVENT_READ/EVENT_WRITE the owner wants. */
  interest = 0;
  /** The AFD events of the poll in flight. */
  pollMask = 0;
  status: Status = "idle";
  /** Unregistered (or dropped) while its poll was pending: freed when the packet comes. */
  deletePending = false;
  queued = false;
  slot!: AfdSlot;

  constructor(readonly fd: number, readonly base: number) {}
}

/** The AFD events that `interest` (EVENT_READ | EVENT_WRITE) is woken for. */
function afdMask(interest: number): number {
  return ((interest & EVENT_READ) !== 0 ? AFD_READ_EVENTS : 0) |
    ((interest & EVENT_WRITE) !== 0 ? AFD_WRITE_EVENTS : 0);
}

/** What the owner of an {@linkcode AfdPoller} is told. */
export interface AfdPollerOptions {
  /**
   * A socket is ready: `events` is EVENT_READ, EVENT_WRITE or both (only
   * what was asked for). Called while the port's packets are handled.
   */
  onEvents(fd: number, events: number): void;
  /**
   * The socket `fd` was closed while registered (AFD_POLL_LOCAL_CLOSE, or
   * its handle is no longer valid): the poller dropped it without an error;
   * the owner may forget it.
   */
  onDropped?(fd: number): void;
  /** Who watches, in error messages (`"AfdSelector"`). */
  name?: string;
  /** What to use for handles that are not sockets, in the `NotSupported` message. */
  alternative?: string;
}

/**
 * The AFD poll state machine: register sockets for EVENT_READ/EVENT_WRITE,
 * call {@linkcode AfdPoller.update} just before each wait of the port, and
 * get `onEvents` as the port's packets are handled. Sockets only (any
 * socket, by its SOCKET number); each group of 32 shares one AFD helper
 * handle. Windows only: the constructor throws `NotSupported` elsewhere.
 *
 * @example
 * ```ts ignore
 * const port = new CompletionPort();
 * const poller = new AfdPoller(port, { onEvents: (fd, ev) => console.log(fd, ev) });
 * poller.register(sock.fileno(), EVENT_READ);
 * poller.update();
 * port.waitSync(100, () => {});
 * ```
 */
export class AfdPoller {
  #port: CompletionPort;
  #device: AfdDevice;
  #byFd = new Map<number, SockState>();
  #queue = new Set<SockState>();
  #opts: AfdPollerOptions;
  #closed = false;
  // Queued sockets whose last packet told the owner nothing (cancelled to widen, or filtered).
  #retries = 0;

  /** A poller whose polls complete on `port`. */
  constructor(port: CompletionPort, options: AfdPollerOptions) {
    this.#port = port;
    this.#opts = options;
    this.#device = new AfdDevice(port, (slot) => this.#completed(slot));
  }

  /** Registered sockets. */
  get size(): number {
    return this.#byFd.size;
  }

  /** Polls in flight (including cancelled ones whose packet has not come). */
  get pendingCount(): number {
    return this.#device.pendingCount;
  }

  /** AFD helper handles open. */
  get helpersOpen(): number {
    return this.#device.helpersOpen;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether sockets are queued whose last poll ended without telling the
   * owner anything (cancelled to ask for more, or only events no longer
   * wanted): submitting them again (`update()`) and dequeuing once more may
   * still report them within the same wait.
   */
  get retryPending(): boolean {
    return this.#retries > 0;
  }

  /** Whether `fd` is registered. */
  has(fd: number): boolean {
    return this.#byFd.has(fd);
  }

  /** The interest (EVENT_READ | EVENT_WRITE) of `fd`, 0 when not registered. */
  interest(fd: number): number {
    return this.#byFd.get(fd)?.interest ?? 0;
  }

  #who(): string {
    return this.#opts.name ?? "AfdPoller";
  }

  #check(): void {
    if (this.#closed) throw new Deno.errors.BadResource(`${this.#who()} is closed`);
  }

  /**
   * Checks that `fd` is an open socket: a pipe, console or other handle is
   * `NotSupported` naming the alternative, a closed handle `BadResource`,
   * a disk file a `TypeError` naming Deno's file APIs. Returns the base SOCKET.
   */
  #base(fd: number): number {
    let kind: string;
    try {
      kind = fileKind(fd);
    } catch (e) {
      throw new Deno.errors.BadResource(
        `${this.#who()} cannot watch fd ${fd}: it is not an open socket or handle (closed already?)`,
        { cause: e },
      );
    }
    if (kind === "file" || kind === "directory") {
      throw new TypeError(
        `${this.#who()} cannot watch fd ${fd}: it is a ${
          kind === "file" ? "regular file" : "directory"
        } (always ready); use Deno's file APIs instead (Deno.open(), FsFile.read()/write())`,
      );
    }
    const alt = this.#opts.alternative ??
      "for pipes use the ProactorEventLoop (connectReadPipe/connectWritePipe)";
    if (kind !== "socket") {
      const what = kind === "fifo" ? "pipe" : kind;
      throw new Deno.errors.NotSupported(
        `${this.#who()} cannot watch fd ${fd} (${/^[aeiou]/.test(what) ? "an" : "a"} ${what} ` +
          `handle): AFD polling watches sockets only; ${alt}`,
      );
    }
    try {
      return baseSocket(fd);
    } catch (e) {
      if (e instanceof Deno.errors.NotSupported) {
        throw new Deno.errors.NotSupported(
          `${this.#who()} cannot watch fd ${fd}: it is not a socket (AFD polling watches ` +
            `sockets only); ${alt}`,
          { cause: e },
        );
      }
      throw e;
    }
  }

  /**
   * Starts watching the socket `fd` for `events` (EVENT_READ, EVENT_WRITE
   * or both); a registered `fd` gets its interest replaced. Throws for what
   * is not an open socket, changing nothing.
   */
  register(fd: number, events: number): void {
    this.#check();
    const old = this.#byFd.get(fd);
    if (old !== undefined) {
      this.modify(fd, events);
      return;
    }
    const st = new SockState(fd, this.#base(fd));
    st.slot = this.#device.take(st);
    st.interest = events & (EVENT_READ | EVENT_WRITE);
    this.#byFd.set(fd, st);
    this.#enqueue(st);
  }

  /** Changes the interest of `fd` (registering it if the poller dropped it). */
  modify(fd: number, events: number): void {
    this.#check();
    const st = this.#byFd.get(fd);
    if (st === undefined) {
      this.register(fd, events);
      return;
    }
    const next = events & (EVENT_READ | EVENT_WRITE);
    if (next === 0) {
      this.unregister(fd);
      return;
    }
    if (next === st.interest) return;
    st.interest = next;
    this.#enqueue(st);
  }

  /** Stops watching `fd`; returns whether it was registered. Never throws. */
  unregister(fd: number): boolean {
    const st = this.#byFd.get(fd);
    if (st === undefined) return false;
    this.#forget(st);
    return true;
  }

  // Detaches `st` from its fd; its slot is freed now, or when its pending poll's packet came.
  #forget(st: SockState): void {
    if (this.#byFd.get(st.fd) === st) this.#byFd.delete(st.fd);
    this.#queue.delete(st);
    st.queued = false;
    st.interest = 0;
    if (st.status === "idle") {
      this.#device.release(st.slot);
      return;
    }
    st.deletePending = true;
    if (st.status === "pending") {
      st.status = "cancelled";
      this.#device.cancel(st.slot);
    }
  }

  #enqueue(st: SockState): void {
    if (!st.queued) {
      st.queued = true;
      this.#queue.add(st);
    }
    // A wait is in flight: it should see this socket now, not after it returns.
    if (this.#port.waiting) this.update();
  }

  /**
   * Submits what changed since the last call: a poll for each idle socket
   * with interest (the re-arm that makes readiness level-triggered), a
   * cancel for a pending poll that covers less than is wanted. Call it just
   * before each wait of the port.
   */
  update(): void {
    if (this.#closed || this.#queue.size === 0) return;
    const batch = [...this.#queue];
    this.#queue.clear();
    this.#retries = 0;
    for (const st of batch) {
      st.queued = false;
      if (st.deletePending || this.#byFd.get(st.fd) !== st) continue;
      if (st.status === "cancelled") continue; // re-queued when its packet comes
      const wanted = afdMask(st.interest);
      if (st.status === "pending") {
        // A superset stays pending (its extra events are filtered); less: cancel, then re-submit.
        if ((st.pollMask & wanted) !== wanted) {
          st.status = "cancelled";
          this.#device.cancel(st.slot);
        }
        continue;
      }
      if (wanted === 0) continue;
      this.#device.submit(st.slot, st.base, wanted);
      if (st.slot.pending) {
        st.status = "pending";
        st.pollMask = wanted;
      } else {
        // An error at once, no packet: the socket is gone (Windows: STATUS_INVALID_HANDLE;
        // Wine 10: STATUS_OBJECT_TYPE_MISMATCH for a closed SOCKET).
        this.#drop(st);
      }
    }
  }

  #drop(st: SockState): void {
    const fd = st.fd;
    const mine = this.#byFd.get(fd) === st;
    this.#forget(st);
    if (mine) this.#opts.onDropped?.(fd);
  }

  // A packet of `slot`: the socket's poll ended.
  #completed(slot: AfdSlot): void {
    const st = slot.owner as SockState;
    st.status = "idle";
    if (st.deletePending || this.#closed) {
      this.#device.release(slot);
      return;
    }
    if (this.#byFd.get(st.fd) !== st) {
      this.#device.release(slot);
      return;
    }
    let events = 0;
    if (slot.status === STATUS_CANCELLED) {
      events = 0; // (the events field then still holds what was asked: never read it)
    } else if (slot.status >= 0xC000_0000) {
      // An error status: treated as a failed connect, which wakes both sides.
      events = AFD_POLL.CONNECT_FAIL;
    } else {
      events = slot.events;
      if ((events & AFD_POLL.LOCAL_CLOSE) !== 0) {
        this.#drop(st);
        return;
      }
    }
    let ready = 0;
    if ((events & AFD_READ_EVENTS) !== 0) ready |= EVENT_READ;
    if ((events & AFD_WRITE_EVENTS) !== 0) ready |= EVENT_WRITE;
    ready &= st.interest;
    if (ready === 0) this.#retries++;
    this.#enqueue(st); // re-armed before the next wait: level-triggered
    if (ready !== 0) this.#opts.onEvents(st.fd, ready);
  }

  /** Cancels every pending poll (their packets still come; close() waits for them). */
  cancelAll(): void {
    for (const st of [...this.#byFd.values()]) this.#forget(st);
    this.#device.cancelAll();
  }

  /**
   * Forgets every socket, cancels every pending poll and dequeues the port
   * (on the JS thread, at most 10 s in all) until each poll's packet came,
   * then closes the helper handles. Idempotent. `drain` dequeues once (the
   * port's owner passes its own, which also settles its other packets);
   * without it the port is waited on with no operation callback.
   */
  close(drain?: (ms: number) => void): void {
    if (this.#closed) return;
    this.cancelAll();
    const wait = drain ?? ((ms: number) => this.#port.waitSync(ms, () => {}));
    const deadline = performance.now() + CLOSE_DRAIN_MS;
    while (this.#device.pendingCount > 0) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#closed = true;
        // Never free what the kernel may still write: keep the slots and the helpers.
        throw new Error(
          `${this.#who()}.close(): ${this.#device.pendingCount} AFD polls were still pending ` +
            `after ${CLOSE_DRAIN_MS} ms; their memory is kept`,
        );
      }
      wait(Math.min(left, 1000));
    }
    this.#closed = true;
    this.#device.close();
  }
}
