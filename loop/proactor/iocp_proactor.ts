/**
 * `IocpProactor` (asyncio's `windows_events.IocpProactor`): the JavaScript
 * state machine over an I/O completion port. Each operation is started on
 * the JS thread, kept by the port under its OVERLAPPED's address until its
 * packet is dequeued, and settles its promise exactly once: from its packet,
 * or at once when it is cancelled (an abort, or `close()`), the packet then
 * only freeing its slot. Cancelling is `CancelIoEx`; the slot is never freed
 * before the packet came. `close()` cancels everything and drains the port
 * until nothing is pending, then closes it.
 *
 * @module
 */
import {
  ADDR_MAX,
  CompletionPort,
  type Overlapped,
  RECV_MAX,
  SEND_MAX,
  TRANSMIT_MAX,
  updateAcceptContext,
  updateConnectContext,
} from "../../ffi/windows/iocp.ts";
import { addressToString, decodeAddress, encodeAddress, PLATFORM } from "../../ffi/sys.ts";
import { AfdPoller, type AfdPollerOptions } from "../../selectors/afd_poller.ts";
import { type Address, Socket } from "../../net/mod.ts";
import { CancelledError } from "../errors.ts";
import { cancelledError } from "../_signal.ts";

/** The longest single wait of the port, in ms (Deno #18131: never leave one pending long). */
export const WAIT_CAP_MS = 1000;
export { TRANSMIT_MAX };
/** How long `close()` waits for the packets of cancelled operations, in all. */
const CLOSE_DRAIN_MS = 10_000;

const ERROR_NETNAME_DELETED = 64;
const ERROR_OPERATION_ABORTED = 995;
/**
 * How an AcceptEx ends whose connection went away while it was queued: Windows says
 * ERROR_NETNAME_DELETED (gh-93821); Wine 10 completes it with STATUS_INVALID_CONNECTION
 * (ERROR_UNEXP_NET_ERR, 59); an abort is ERROR_CONNECTION_ABORTED. Transient: accept again.
 */
const GONE_BEFORE_ACCEPT = new Set([ERROR_NETNAME_DELETED, 59, 1236]);

/**
 * One operation's JavaScript side: what settles its promise, once. It is
 * its own abort listener.
 */
// deno-lint-ignore no-explicit-any
class Op<T = any> implements EventListenerObject {
  done = false;
  ov: Overlapped | null = null;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;
  readonly promise: Promise<T>;

  constructor(
    readonly proactor: IocpProactor,
    /** The method's name, for its CancelledError (`"sockRecv()"`). */
    readonly what: string,
    readonly signal: AbortSignal | undefined,
    /** Turns a successful completion into the result (runs in the completion). */
    readonly finish: (ov: Overlapped) => T,
    /** Runs when the completion comes after the promise was settled (closes an accepted socket). */
    readonly late: ((ov: Overlapped) => void) | null = null,
    /** Turns a failed completion into the error to reject with. */
    readonly fail: ((ov: Overlapped) => unknown) | null = null,
  ) {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.promise = promise;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.proactor._cancel(this, cancelledError(this.signal!, this.what));
  }

  /** Settles once: later calls do nothing. */
  settle(error: unknown, value?: T): boolean {
    if (this.done) return false;
    this.done = true;
    this.signal?.removeEventListener("abort", this);
    if (error !== undefined) this.reject(error);
    else this.resolve(value as T);
    return true;
  }
}

/** The completion of every operation: settle it from its packet. */
function onCompletion(ov: Overlapped): void {
  const op = ov.owner as Op;
  op.proactor._completed(op, ov);
}

/**
 * The proactor: starts overlapped socket operations and settles their
 * promises from the completion port. Windows only (the constructor throws
 * `NotSupported` elsewhere).
 *
 * @example
 * ```ts ignore
 * const proactor = new IocpProactor();
 * const data = proactor.recv(sock, 4096); // a Promise<Uint8Array>
 * await proactor.wait(100);               // dequeues, settles
 * proactor.close();
 * ```
 */
export class IocpProactor {
  #port: CompletionPort;
  // A handle belongs to one port forever; tracked by object (handle values are reused).
  #associated = new WeakSet<object>();
  #closed = false;
  // Operations whose promise is pending (the port keeps every started one until its packet).
  #live = new Set<Op>();
  #addr = new Uint8Array(ADDR_MAX);
  // The promises of the calls made of several operations (sendall, accept), while pending.
  #outer = new Set<Promise<unknown>>();
  // AFD readiness on the same port (addReader/addWriter), made on first use.
  #poller: AfdPoller | null = null;

  /** Makes the completion port. */
  constructor() {
    if (PLATFORM !== "windows") {
      throw new Deno.errors.NotSupported(
        `IocpProactor needs I/O completion ports, which only Windows has; this is ${PLATFORM}`,
      );
    }
    this.#port = new CompletionPort();
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Operations started and not dequeued yet (cancelled ones wait for their packet too). */
  get pendingCount(): number {
    return this.#port.pendingCount;
  }

  /** Off-heap slots in use (one per started operation whose packet has not come). */
  get slotsInUse(): number {
    return this.#port.slotsInUse;
  }

  /** AFD polls in flight (addReader/addWriter), cancelled ones included. */
  get pollsPending(): number {
    return this.#poller?.pendingCount ?? 0;
  }

  /**
   * The AFD poller on this proactor's port (made on the first call, with
   * `options`; later calls return the same one): its polls are re-armed
   * before each wait, and `close()` cancels them and waits for their packets.
   */
  poller(options: AfdPollerOptions): AfdPoller {
    this.#check();
    return this.#poller ??= new AfdPoller(this.#port, options);
  }

  #check(): void {
    if (this.#closed) throw new Error("the proactor is closed");
  }

  /** Associates `sock` (a Socket or a pipe handle object) with the port once. */
  #register(sock: { fileno(): number }, kind = "socket"): number {
    const fd = sock.fileno();
    if (fd < 0) {
      const e = new Deno.errors.BadResource(`the ${kind} is closed`);
      throw e;
    }
    if (!this.#associated.has(sock)) {
      this.#port.associate(fd);
      this.#associated.add(sock);
    }
    return fd;
  }

  // Starts `start` for `op`; a synchronous failure rejects (no packet comes).
  #start<T>(op: Op<T>, start: () => Overlapped): Promise<T> {
    try {
      this.#check();
      if (op.signal?.aborted) throw cancelledError(op.signal, op.what);
      op.ov = start();
    } catch (e) {
      op.settle(e);
      return op.promise;
    }
    this.#live.add(op);
    op.signal?.addEventListener("abort", op);
    return op.promise;
  }

  // Keeps the promise of a call made of several operations until it settles, so that
  // close() can make its CancelledError silent (no handler is attached before that).
  #track<T>(run: (done: () => void) => Promise<T>): Promise<T> {
    const token: { p: Promise<unknown> | null } = { p: null };
    const p = run(() => {
      if (token.p !== null) this.#outer.delete(token.p);
      token.p = null;
    });
    token.p = p;
    this.#outer.add(p);
    return p;
  }

  /** @internal An abort (or close): cancel the I/O, settle at once; the packet comes later. */
  _cancel(op: Op, reason: unknown): void {
    if (op.done) return;
    this.#live.delete(op);
    op.settle(reason);
    if (op.ov !== null && op.ov.state === "pending") this.#port.cancel(op.ov);
  }

  /** @internal A packet was dequeued for `op`. */
  _completed(op: Op, ov: Overlapped): void {
    this.#live.delete(op);
    if (op.done) {
      op.late?.(ov);
      return;
    }
    if (!ov.ok) {
      const r = op.fail !== null ? op.fail(ov) : ov.error();
      if (r instanceof Resolve) op.settle(undefined, r.value);
      else op.settle(r);
      return;
    }
    let value: unknown;
    try {
      value = op.finish(ov);
    } catch (e) {
      op.settle(e);
      return;
    }
    op.settle(undefined, value);
  }

  // ---- the operations --------------------------------------------------------------

  /** WSARecv of up to `nbytes` (at most 256 KiB per call); an empty array at end of stream. */
  recv(
    sock: Socket,
    nbytes: number,
    signal?: AbortSignal,
    what = "sockRecv()",
  ): Promise<Uint8Array> {
    const op = new Op<Uint8Array>(this, what, signal, (ov) => ov.read(), null, resetError);
    return this.#start(op, () => {
      const fd = this.#register(sock);
      return this.#port.recv(fd, Math.min(nbytes, RECV_MAX), op);
    });
  }

  /** WSARecv into `buf` (through an off-heap buffer); the byte count, 0 at end of stream. */
  recvInto(
    sock: Socket,
    buf: Uint8Array,
    signal?: AbortSignal,
    what = "sockRecvInto()",
  ): Promise<number> {
    const op = new Op<number>(this, what, signal, (ov) => ov.readInto(buf), null, resetError);
    return this.#start(op, () => {
      const fd = this.#register(sock);
      return this.#port.recv(fd, Math.min(buf.byteLength, RECV_MAX), op);
    });
  }

  /** WSARecvFrom of one datagram of up to `nbytes`, with its sender. */
  recvfrom(
    sock: Socket,
    nbytes: number,
    signal?: AbortSignal,
    what = "sockRecvfrom()",
  ): Promise<[Uint8Array, Address]> {
    const op = new Op<[Uint8Array, Address]>(
      this,
      what,
      signal,
      (ov) => [ov.read(), senderOf(ov, sock)],
      null,
      resetError,
    );
    return this.#start(op, () => {
      const fd = this.#register(sock);
      return this.#port.recvFrom(fd, Math.min(nbytes, RECV_MAX), op);
    });
  }

  /** WSARecvFrom into `buf` (at most `nbytes`): the byte count and the sender. */
  recvfromInto(
    sock: Socket,
    buf: Uint8Array,
    nbytes: number,
    signal?: AbortSignal,
    what = "sockRecvfromInto()",
  ): Promise<[number, Address]> {
    const dst = buf.subarray(0, nbytes);
    const op = new Op<[number, Address]>(
      this,
      what,
      signal,
      (ov) => [ov.readInto(dst), senderOf(ov, sock)],
      null,
      resetError,
    );
    return this.#start(op, () => {
      const fd = this.#register(sock);
      return this.#port.recvFrom(fd, Math.min(nbytes, RECV_MAX), op);
    });
  }

  /** One WSASend of `data` (at most 16 MiB); resolves to the bytes sent. */
  send(
    sock: Socket,
    data: Uint8Array,
    signal?: AbortSignal,
    what = "sockSendall()",
  ): Promise<number> {
    const op = new Op<number>(this, what, signal, (ov) => ov.bytes, null, resetError);
    return this.#start(op, () => {
      const fd = this.#register(sock);
      return this.#port.send(
        fd,
        data.byteLength > SEND_MAX ? data.subarray(0, SEND_MAX) : data,
        op,
      );
    });
  }

  /** Sends all of `data`, one WSASend after another. */
  sendall(sock: Socket, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.#track((done) => this.#sendall(sock, data, signal).finally(done));
  }

  async #sendall(sock: Socket, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    let off = 0;
    while (off < data.byteLength) {
      const n = await this.send(sock, off === 0 ? data : data.subarray(off), signal);
      if (n <= 0) throw new Deno.errors.BrokenPipe("WSASend sent nothing: the connection is gone");
      off += n;
    }
  }

  /** WSASendTo of the datagram `data` to `address`; resolves to the bytes sent. */
  sendto(
    sock: Socket,
    data: Uint8Array,
    address: Address,
    signal?: AbortSignal,
    what = "sockSendto()",
  ): Promise<number> {
    const op = new Op<number>(this, what, signal, (ov) => ov.bytes, null, resetError);
    return this.#start(op, () => {
      const len = encodeAddress(address, sock.family, sock.type, this.#addr, what);
      const fd = this.#register(sock);
      return this.#port.sendTo(fd, data, this.#addr, len, op);
    });
  }

  /**
   * AcceptEx on the listening `sock` into a new socket of its family; the
   * new (nonblocking) socket and the peer's address. A connection reset
   * while queued (ERROR_NETNAME_DELETED; under Wine STATUS_INVALID_CONNECTION, 59) is
   * skipped and the accept re-issued.
   */
  accept(
    sock: Socket,
    signal?: AbortSignal,
    what = "sockAccept()",
  ): Promise<[Socket, Address]> {
    return this.#track((done) => this.#accept(sock, signal, what).finally(done));
  }

  async #accept(
    sock: Socket,
    signal?: AbortSignal,
    what = "sockAccept()",
  ): Promise<[Socket, Address]> {
    for (;;) {
      try {
        return await this.#acceptOnce(sock, signal, what);
      } catch (e) {
        if (!(e instanceof NetnameDeleted) || this.#closed || signal?.aborted) {
          throw e instanceof NetnameDeleted ? e.error : e;
        }
      }
    }
  }

  #acceptOnce(
    listener: Socket,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<[Socket, Address]> {
    let conn: Socket | null = null;
    const closeConn = () => {
      if (conn !== null && !conn.closed) conn.close();
    };
    const op = new Op<[Socket, Address]>(
      this,
      what,
      signal,
      () => {
        try {
          updateAcceptContext(conn!.fileno(), listener.fileno());
          return [conn!, conn!.getpeername()];
        } catch (e) {
          closeConn();
          throw e;
        }
      },
      closeConn,
      (ov) => {
        closeConn();
        const err = ov.error();
        return GONE_BEFORE_ACCEPT.has(ov.win32Error) ? new NetnameDeleted(err) : err;
      },
    );
    const promise = this.#start(op, () => {
      const fd = this.#register(listener);
      conn = new Socket({ family: listener.family, type: listener.type });
      try {
        return this.#port.accept(fd, conn.fileno(), op);
      } catch (e) {
        closeConn();
        throw e;
      }
    });
    // Cancelled before the packet: the accept socket is closed when the packet comes (late).
    return promise;
  }

  /**
   * ConnectEx of the stream `sock` to `address` (numeric), binding it to
   * the wildcard address first if it is unbound; then SO_UPDATE_CONNECT_CONTEXT.
   * A datagram socket connects synchronously.
   */
  connect(
    sock: Socket,
    address: Address,
    signal?: AbortSignal,
    what = "sockConnect()",
  ): Promise<void> {
    if (sock.type === "dgram") {
      try {
        sock.connect(address);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const fd = sock.fileno();
    // The target in the message, as the selector loop's (createConnection tells errors apart by it).
    const op = new Op<void>(
      this,
      what,
      signal,
      () => updateConnectContext(fd),
      null,
      (ov) => ov.error(`socket ${fd}, ${addressToString(address)}`),
    );
    return this.#start(op, () => {
      const len = encodeAddress(address, sock.family, sock.type, this.#addr, what);
      const fd = this.#register(sock);
      bindIfUnbound(sock);
      return this.#port.connect(fd, this.#addr, len, op);
    });
  }

  /**
   * TransmitFile of `count` bytes (at most {@linkcode TRANSMIT_MAX}) of the
   * file HANDLE `file` from `offset` on the connected stream `sock`;
   * resolves to the bytes sent. Aborting cancels it (CancelIoEx); the slot
   * is freed when its packet comes.
   */
  transmitFile(
    sock: Socket,
    file: number,
    offset: number,
    count: number,
    signal?: AbortSignal,
    what = "sockSendfile()",
  ): Promise<number> {
    const op = new Op<number>(this, what, signal, (ov) => ov.bytes, null, resetError);
    return this.#start(op, () => {
      const fd = this.#register(sock);
      return this.#port.transmitFile(fd, file, offset, Math.min(count, TRANSMIT_MAX), op);
    });
  }

  // ---- named pipes -------------------------------------------------------------------

  /**
   * Overlapped ReadFile of up to `nbytes` (at most 256 KiB) on the pipe
   * `pipe`; an empty array at end of file (ERROR_BROKEN_PIPE, at once or
   * in the completion, as CPython's `recv` on a pipe).
   */
  readFile(
    pipe: { fileno(): number },
    nbytes: number,
    signal?: AbortSignal,
    what = "readFile()",
  ): Promise<Uint8Array> {
    const op = new Op<Uint8Array>(this, what, signal, (ov) => ov.read(), null, (ov) => {
      if (PIPE_EOF.has(ov.win32Error)) return new Resolve(new Uint8Array(0));
      return pipeError(ov);
    });
    try {
      this.#check();
      if (signal?.aborted) throw cancelledError(signal, what);
      const h = this.#register(pipe, "pipe");
      op.ov = this.#port.readFile(h, Math.min(nbytes, RECV_MAX), op);
    } catch (e) {
      // A pipe whose writer is gone fails at once, and no packet comes: end of file.
      if (PIPE_EOF.has((e as { errno?: number })?.errno ?? 0)) {
        op.settle(undefined, new Uint8Array(0));
      } else op.settle(e);
      return op.promise;
    }
    this.#live.add(op);
    signal?.addEventListener("abort", op);
    return op.promise;
  }

  /** One overlapped WriteFile of `data` (at most 16 MiB) on `pipe`; resolves to the bytes written. */
  writeFile(
    pipe: { fileno(): number },
    data: Uint8Array,
    signal?: AbortSignal,
    what = "writeFile()",
  ): Promise<number> {
    const op = new Op<number>(this, what, signal, (ov) => ov.bytes, null, pipeError);
    return this.#start(op, () => {
      const h = this.#register(pipe, "pipe");
      return this.#port.writeFile(
        h,
        data.byteLength > SEND_MAX ? data.subarray(0, SEND_MAX) : data,
        op,
      );
    });
  }

  /**
   * Overlapped ConnectNamedPipe on the server instance `pipe`: resolves once
   * a client opened it (at once when one was there first: ERROR_PIPE_CONNECTED).
   * A client that came and went already rejects with `BrokenPipe` (ERROR_NO_DATA).
   */
  connectPipe(
    pipe: { fileno(): number },
    signal?: AbortSignal,
    what = "acceptPipe()",
  ): Promise<void> {
    const op = new Op<void>(this, what, signal, () => {}, null, pipeError);
    try {
      this.#check();
      if (signal?.aborted) throw cancelledError(signal, what);
      const h = this.#register(pipe, "pipe");
      const ov = this.#port.connectPipe(h, op);
      if (ov === null) {
        op.settle(undefined);
        return op.promise;
      }
      op.ov = ov;
    } catch (e) {
      op.settle(e);
      return op.promise;
    }
    this.#live.add(op);
    signal?.addEventListener("abort", op);
    return op.promise;
  }

  // ---- waiting ---------------------------------------------------------------------

  /**
   * Dequeues what is there without waiting (the AFD polls re-armed first);
   * returns how many operations (and polls) completed.
   */
  poll(): number {
    if (this.#closed) return 0;
    this.#poller?.update();
    return this.#port.poll(onCompletion) + this.#retry();
  }

  // A poll cancelled to ask for more (or that reported only what is no longer wanted) is
  // submitted again at once, so that a socket ready now is reported by this same dequeue.
  #retry(): number {
    const p = this.#poller;
    if (p === null || !p.retryPending || this.#closed) return 0;
    p.update();
    return this.#port.poll(onCompletion);
  }

  /** Waits on the JS thread up to `ms` (the AFD polls re-armed first); returns how many completed. */
  waitSync(ms: number): number {
    if (this.#closed) return 0;
    this.#poller?.update();
    return this.#port.waitSync(ms, onCompletion) + this.#retry();
  }

  /**
   * Waits off the JS thread up to `ms` (`null`: capped at {@linkcode WAIT_CAP_MS});
   * the AFD polls are re-armed first.
   */
  async wait(ms: number | null): Promise<number> {
    if (this.#closed) return 0;
    this.#poller?.update();
    const t = ms === null || ms > WAIT_CAP_MS ? WAIT_CAP_MS : ms;
    return (await this.#port.wait(t, onCompletion)) + this.#retry();
  }

  /** Ends a pending `wait()` (one wake packet, coalesced). */
  wakeup(): void {
    if (!this.#closed) this.#port.wakeup();
  }

  /**
   * Cancels every operation (their promises reject with `CancelledError`),
   * dequeues until no packet is outstanding, then closes the port. Closing
   * twice does nothing. Throws if a `wait()` is in flight.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#port.waiting) throw new Error("cannot close the proactor while it waits");
    // Cancelled by the close, as CPython's futures: silent for whoever dropped the promise
    // (awaiting it still gives the CancelledError).
    for (const p of this.#outer) p.catch(() => {});
    this.#outer.clear();
    for (const op of [...this.#live]) op.promise.catch(() => {});
    for (const op of [...this.#live]) {
      this._cancel(op, new CancelledError(undefined, { what: `${op.what} (the proactor closed)` }));
    }
    // Pending ops not in #live were cancelled before; cancel them again (idempotent for the kernel).
    for (const ov of this.#port.pending()) this.#port.cancel(ov);
    // The AFD polls too: every socket forgotten, each poll cancelled, its slot kept until its packet.
    this.#poller?.cancelAll();
    const deadline = performance.now() + CLOSE_DRAIN_MS;
    while (this.#port.pendingCount > 0 || (this.#poller?.pendingCount ?? 0) > 0) {
      const left = deadline - performance.now();
      if (left <= 0) {
        // Never free what the kernel may still write: keep the port and its slots.
        this.#closed = true;
        throw new Error(
          `IocpProactor.close(): ${this.#port.pendingCount} operations and ` +
            `${this.#poller?.pendingCount ?? 0} AFD polls were still pending ` +
            `after ${CLOSE_DRAIN_MS} ms; their memory is kept`,
        );
      }
      this.#port.waitSync(Math.min(left, WAIT_CAP_MS), onCompletion);
    }
    this.#closed = true;
    this.#poller?.close(); // nothing pending: closes its helper handles
    this.#port.close();
  }
}

/** What a failed completion resolves with instead of rejecting (end of file on a pipe). */
class Resolve<T = unknown> {
  constructor(readonly value: T) {}
}

/** ERROR_BROKEN_PIPE, ERROR_PIPE_NOT_CONNECTED: the other end of the pipe is gone (end of file). */
const PIPE_EOF = new Set([109, 233]);

// A pipe operation's failure; ERROR_OPERATION_ABORTED (the handle closed under it) is a reset.
function pipeError(ov: Overlapped): unknown {
  const err = ov.error(`HANDLE ${ov.handle}`);
  if (ov.win32Error === ERROR_OPERATION_ABORTED) {
    const e = new Deno.errors.ConnectionAborted(err?.message ?? "pipe closed", { cause: err });
    Object.assign(e, {
      code: (err as { code?: string })?.code,
      errno: ov.win32Error,
      syscall: ov.kind,
    });
    return e;
  }
  return err;
}

/** The error of an AcceptEx whose connection was reset while queued: retried. */
class NetnameDeleted extends Error {
  constructor(readonly error: Error | null) {
    super("ERROR_NETNAME_DELETED");
  }
}

// CPython: a receive or send ending with NETNAME_DELETED or OPERATION_ABORTED is a reset.
function resetError(ov: Overlapped): unknown {
  const err = ov.error();
  const code = ov.win32Error;
  if (code === ERROR_NETNAME_DELETED || code === ERROR_OPERATION_ABORTED) {
    const e = new Deno.errors.ConnectionReset(err?.message ?? "connection reset", { cause: err });
    Object.assign(e, { code: (err as { code?: string })?.code, errno: code, syscall: ov.kind });
    return e;
  }
  return err;
}

function senderOf(ov: Overlapped, sock: Socket): Address {
  const { bytes, length } = ov.address();
  const addr = decodeAddress(bytes, length, sock.type);
  if (addr !== null) return addr;
  return sock.getpeername(); // a connected socket may leave the address unwritten
}

const ANY4: Address = { transport: "tcp", hostname: "0.0.0.0", port: 0 };
const ANY6: Address = { transport: "tcp", hostname: "::", port: 0 };

// ConnectEx needs a bound socket (WSAEINVAL otherwise); an unbound one reads as port 0.
function bindIfUnbound(sock: Socket): void {
  const name = sock.getsockname();
  if ("port" in name && name.port !== 0) return;
  try {
    sock.bind(sock.family === "inet6" ? ANY6 : ANY4);
  } catch (e) {
    // Already bound (to port 0 of a specific address, which getsockname cannot tell apart).
    if ((e as { errno?: number }).errno !== 10022) throw e;
  }
}
