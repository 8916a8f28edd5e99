/**
 * The `sock*` calls of `SelectorEventLoop` (asyncio's `loop.sock_recv()`
 * and friends), as functions of the loop. Each call tries its syscall at
 * once and resolves without registering anything when it succeeds; only
 * when the call would block does it wait for readiness (through the loop's
 * `addReader`/`addWriter`) and retry. Calls waiting on the same fd in the
 * same direction are served in order (see docs/decisions.md).
 *
 * @module
 */
import { describe, E, encodeAddress, ipFamily, osError, SOCKADDR_MAX } from "../../ffi/sys.ts";
import { type Address, getaddrinfo, type NetAddress, Socket } from "../../net/mod.ts";
import type { AbstractEventLoop, SockOptions } from "../abstract_event_loop.ts";
import type { Handle, TimerHandle } from "../handle.ts";
import { cancelledError, checkSignal } from "../_signal.ts";

/** What the sock calls need of a loop; `_release` is SelectorEventLoop's lazy removal. */
type IoLoop =
  & Pick<
    AbstractEventLoop,
    "addReader" | "addWriter" | "removeReader" | "removeWriter" | "callLater" | "isClosed"
  >
  & { _release?(fileobj: Socket, write: boolean, lazy?: boolean): void };

// Operation kinds: a switch on small integers, no per-call closures.
const RECV = 0, RECV_INTO = 1, RECVFROM = 2, RECVFROM_INTO = 3, ACCEPT = 4;
const SENDALL = 5, SENDTO = 6, CONNECT = 7;
// The calls' names, by kind (for their argument errors and their CancelledErrors).
const NAMES = [
  "sockRecv",
  "sockRecvInto",
  "sockRecvfrom",
  "sockRecvfromInto",
  "sockAccept",
  "sockSendall",
  "sockSendto",
  "sockConnect",
];
const EINPROGRESS = E.EINPROGRESS, EAGAIN = E.EAGAIN;
/** What `attempt()` returns when the syscall would block. */
const AGAIN: unique symbol = Symbol("again");
const resolvedVoid: Promise<void> = Promise.resolve();
/** Where sockConnect() checks an address before resolving its name. */
const SCRATCH = new Uint8Array(SOCKADDR_MAX);

/** The calls waiting on one loop, by fd: the head of a FIFO per direction. */
class Waiting {
  readers = new Map<number, SockOp>();
  writers = new Map<number, SockOp>();
}
const waiting = new WeakMap<IoLoop, Waiting>();
// One-entry cache in front of the WeakMap: a program almost always has one loop.
let lastLoop: IoLoop | null = null;
let lastWaiting: Waiting | null = null;

function waitingOf(loop: IoLoop): Waiting {
  if (loop === lastLoop) return lastWaiting!;
  let w = waiting.get(loop);
  if (w === undefined) waiting.set(loop, w = new Waiting());
  lastLoop = loop;
  lastWaiting = w;
  return w;
}

/** Whether calls already wait on `fd` in that direction (a new one must queue behind them). */
function busy(loop: IoLoop, fd: number, write: boolean): boolean {
  const w = loop === lastLoop ? lastWaiting! : waiting.get(loop);
  if (w === undefined) return false;
  const m = write ? w.writers : w.readers;
  return m.size !== 0 && m.has(fd);
}

/**
 * A call that waits for readiness. It is its own abort listener
 * (`handleEvent`), so waiting allocates no closures of ours.
 */
class SockOp implements EventListenerObject {
  next: SockOp | null = null;
  handle: Handle | null = null;
  timer: TimerHandle | null = null;
  resolve!: (value: unknown) => void;
  reject!: (reason: unknown) => void;
  readonly fd: number;
  readonly write: boolean;

  constructor(
    readonly kind: number,
    readonly loop: IoLoop,
    readonly sock: Socket,
    readonly buf: Uint8Array | null,
    public n: number,
    readonly addr: Address | null,
    readonly signal: AbortSignal | undefined,
  ) {
    this.fd = sock.fileno();
    this.write = kind >= SENDALL;
  }

  /** The signal aborted: stop waiting and reject. */
  handleEvent(): void {
    finish(this);
    this.reject(cancelledError(this.signal!, `${NAMES[this.kind]}()`));
  }
}

function rejectAborted(signal: AbortSignal, kind: number): Promise<never> {
  return Promise.reject(cancelledError(signal, `${NAMES[kind]}()`));
}

// A call with nothing to move never reaches the socket, but a closed one is still refused.
function rejectClosed(kind: number): Promise<never> {
  return Promise.reject(osError(E.EBADF, NAMES[kind], "the socket is closed"));
}

/** Runs the op's syscall once: its result, or `AGAIN` when it would block. */
function attempt(op: SockOp): unknown {
  const sock = op.sock;
  switch (op.kind) {
    case RECV: {
      const data = sock.recv(op.n);
      return data === null ? AGAIN : data;
    }
    case RECV_INTO: {
      const n = sock.recvInto(op.buf!);
      return n < 0 ? AGAIN : n;
    }
    case RECVFROM:
      return sock.recvfrom(op.n) ?? AGAIN;
    case RECVFROM_INTO:
      return sock.recvfromInto(op.buf!, op.n < 0 ? undefined : op.n) ?? AGAIN;
    case ACCEPT:
      return tryAccept(sock);
    case SENDALL:
      return sendSome(sock, op.buf!, op) ? undefined : AGAIN;
    case SENDTO: {
      const n = sock.sendto(op.buf!, op.addr!);
      return n < 0 ? AGAIN : n;
    }
    default: // CONNECT, once writable (or retrying a unix connect that met a full backlog)
      if (op.n === EAGAIN) {
        const rc = sock.connectEx(op.addr!);
        if (rc === EAGAIN) return AGAIN;
        if (rc !== 0 && rc !== EINPROGRESS) throw osError(rc, "connect", `fd ${op.fd}`);
        if (rc === EINPROGRESS) op.n = EINPROGRESS;
        return rc === 0 ? undefined : AGAIN;
      }
      sock.checkConnect();
      return undefined;
  }
}

function tryAccept(sock: Socket): [Socket, Address] | typeof AGAIN {
  try {
    return sock.accept();
  } catch (e) {
    if (e instanceof Deno.errors.WouldBlock) return AGAIN;
    throw e;
  }
}

/** Sends from `state.n` on; whether everything was sent. */
function sendSome(sock: Socket, data: Uint8Array, state: { n: number }): boolean {
  const len = data.byteLength;
  while (state.n < len) {
    const sent = sock.send(state.n === 0 ? data : data.subarray(state.n));
    if (sent < 0) return false;
    state.n += sent;
  }
  return true;
}

/** The selector callback: retries the op at the head of its fd's queue. */
function onReady(op: SockOp): void {
  let result: unknown;
  try {
    result = attempt(op);
    if (result === AGAIN) return;
  } catch (e) {
    finish(op);
    op.reject(e);
    return;
  }
  finish(op, true);
  op.resolve(result);
}

function onTimer(op: SockOp): void {
  op.timer = null;
  let result: unknown;
  try {
    result = attempt(op);
  } catch (e) {
    finish(op);
    op.reject(e);
    return;
  }
  if (result !== AGAIN) {
    finish(op);
    op.resolve(result);
  } else if (op.n === EAGAIN) op.timer = op.loop.callLater(UNIX_RETRY_MS, onTimer, op);
  else watch(op); // the connect is now in progress: wait for writability
}

/** A unix connect that met a full backlog is retried this often (no readiness event exists). */
const UNIX_RETRY_MS = 1;

// The Socket itself is watched (not its fd number): the selector then trusts
// its kind (no fstat), and a reused fd number is told apart by identity.
function watch(op: SockOp): void {
  op.handle = op.write
    ? op.loop.addWriter(op.sock, onReady, op)
    : op.loop.addReader(op.sock, onReady, op);
}

/** Queues `op` behind its fd's waiting calls (or watches the fd for it) and returns its promise. */
function wait<T>(op: SockOp): Promise<T> {
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  op.resolve = resolve as (value: unknown) => void;
  op.reject = reject;
  const w = waitingOf(op.loop);
  const queue = op.write ? w.writers : w.readers;
  const head = queue.get(op.fd);
  if (head === undefined) {
    try {
      if (op.kind === CONNECT && op.n === EAGAIN) {
        op.timer = op.loop.callLater(UNIX_RETRY_MS, onTimer, op);
      } else watch(op);
    } catch (e) {
      reject(e); // a closed loop, or an fd the selector refuses
      return promise;
    }
    queue.set(op.fd, op);
  } else {
    let tail = head;
    while (tail.next !== null) tail = tail.next;
    tail.next = op;
  }
  op.signal?.addEventListener("abort", op);
  return promise;
}

/**
 * Stops watching the op's socket. `_release` never throws for a socket
 * closed meanwhile (a closed Socket is an invalid fileobj to `removeReader`).
 */
function unwatch(op: SockOp, lazy: boolean): void {
  const loop = op.loop;
  if (loop._release !== undefined) loop._release(op.sock, op.write, lazy);
  else if (!op.sock.closed) {
    if (op.write) loop.removeWriter(op.sock);
    else loop.removeReader(op.sock);
  }
}

/**
 * Takes `op` out of its queue: the next call takes over the fd, or the fd is
 * no longer watched. After a success (`lazy`) the kernel registration is kept
 * until the next poll, as the next call on the socket usually comes at once.
 */
function finish(op: SockOp, lazy = false): void {
  op.signal?.removeEventListener("abort", op);
  op.timer?.cancel();
  op.timer = null;
  const w = waitingOf(op.loop);
  const queue = op.write ? w.writers : w.readers;
  const head = queue.get(op.fd);
  if (head === op) {
    const next = op.next;
    if (next === null) {
      queue.delete(op.fd);
      // Not when someone replaced our callback with their own (CPython's bpo-30064 fix).
      if (op.handle !== null && !op.handle.cancelled()) unwatch(op, lazy);
    } else {
      queue.set(op.fd, next);
      if (!op.loop.isClosed()) {
        try {
          watch(next); // replaces our handle: the fd stays registered
        } catch (e) {
          finish(next);
          next.reject(e);
        }
      }
    }
  } else if (head !== undefined) {
    let prev = head;
    while (prev.next !== null && prev.next !== op) prev = prev.next;
    if (prev.next === op) prev.next = op.next;
  }
  op.next = null;
  op.handle = null;
}

// ---- argument checks ------------------------------------------------------

function checkSocket(sock: unknown, what: string): asserts sock is Socket {
  if (!(sock instanceof Socket)) {
    throw new TypeError(`${what}: sock must be a Socket, got ${describe(sock)}`);
  }
  // asyncio checks this only in debug mode; one fcntl() is cheap enough to do always.
  if (!sock.closed && sock.getBlocking()) {
    throw new TypeError(
      `${what}: the socket must be non-blocking (fd ${sock.fileno()}); call sock.setBlocking(false)`,
    );
  }
}

// The signal of the call `kind`'s options, checked.
function signalOf(options: SockOptions | undefined, kind: number): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${NAMES[kind]}(): options must be an object, got ${describe(options)}`);
  }
  return checkSignal(options.signal, NAMES[kind]);
}

function checkCount(n: unknown, what: string, name: string): number {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`${what}: ${name} must be an integer, got ${describe(n)}`);
  }
  if (n < 0 || n > 0x7fffffff) {
    throw new RangeError(`${what}: ${name} must be from 0 to 2147483647, got ${n}`);
  }
  return n;
}

function checkBuffer(buf: unknown, what: string, name: string): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  throw new TypeError(`${what}: ${name} must be a Uint8Array, got ${describe(buf)}`);
}

function checkAddress(addr: unknown, what: string): asserts addr is Address {
  if (addr === null || typeof addr !== "object") {
    throw new TypeError(`${what}: address must be an address object, got ${describe(addr)}`);
  }
}

// ---- the calls -------------------------------------------------------------

/**
 * Receives up to `nbytes` bytes from `sock` (an empty array at end of
 * stream). Backs `SelectorEventLoop.sockRecv()`.
 *
 * @example
 * ```ts ignore
 * const data = await sockRecv(loop, sock, 4096);
 * ```
 */
export function sockRecv(
  loop: IoLoop,
  sock: Socket,
  nbytes: number,
  options?: SockOptions,
): Promise<Uint8Array> {
  checkSocket(sock, "sockRecv()");
  checkCount(nbytes, "sockRecv()", "nbytes");
  const signal = signalOf(options, RECV);
  if (signal?.aborted) return rejectAborted(signal, RECV);
  // recv(2) of 0 bytes would block on an idle stream and eat a datagram: CPython never makes it.
  if (nbytes === 0) return sock.closed ? rejectClosed(RECV) : Promise.resolve(new Uint8Array(0));
  try {
    if (!busy(loop, sock.fileno(), false)) {
      const data = sock.recv(nbytes);
      if (data !== null) return Promise.resolve(data);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(new SockOp(RECV, loop, sock, null, nbytes, null, signal));
}

/**
 * Receives into `buf`; resolves to the byte count (0 at end of stream).
 * Backs `SelectorEventLoop.sockRecvInto()`.
 *
 * @example
 * ```ts ignore
 * const n = await sockRecvInto(loop, sock, new Uint8Array(65536));
 * ```
 */
export function sockRecvInto(
  loop: IoLoop,
  sock: Socket,
  buf: Uint8Array,
  options?: SockOptions,
): Promise<number> {
  checkSocket(sock, "sockRecvInto()");
  const view = checkBuffer(buf, "sockRecvInto()", "buf");
  const signal = signalOf(options, RECV_INTO);
  if (signal?.aborted) return rejectAborted(signal, RECV_INTO);
  if (view.byteLength === 0) return sock.closed ? rejectClosed(RECV_INTO) : Promise.resolve(0);
  try {
    if (!busy(loop, sock.fileno(), false)) {
      const n = sock.recvInto(view);
      if (n >= 0) return Promise.resolve(n);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(new SockOp(RECV_INTO, loop, sock, view, 0, null, signal));
}

/**
 * Receives a datagram of up to `bufsize` bytes and its sender's address.
 * Backs `SelectorEventLoop.sockRecvfrom()`.
 *
 * @example
 * ```ts ignore
 * const [data, from] = await sockRecvfrom(loop, udp, 2048);
 * ```
 */
export function sockRecvfrom(
  loop: IoLoop,
  sock: Socket,
  bufsize: number,
  options?: SockOptions,
): Promise<[Uint8Array, Address]> {
  checkSocket(sock, "sockRecvfrom()");
  checkCount(bufsize, "sockRecvfrom()", "bufsize");
  const signal = signalOf(options, RECVFROM);
  if (signal?.aborted) return rejectAborted(signal, RECVFROM);
  try {
    if (!busy(loop, sock.fileno(), false)) {
      const got = sock.recvfrom(bufsize);
      if (got !== null) return Promise.resolve(got);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(new SockOp(RECVFROM, loop, sock, null, bufsize, null, signal));
}

/**
 * Receives a datagram into `buf` (at most `nbytes`, all of `buf` when
 * omitted): the byte count and the sender's address. Backs
 * `SelectorEventLoop.sockRecvfromInto()`.
 *
 * @example
 * ```ts ignore
 * const [n, from] = await sockRecvfromInto(loop, udp, new Uint8Array(2048));
 * ```
 */
export function sockRecvfromInto(
  loop: IoLoop,
  sock: Socket,
  buf: Uint8Array,
  nbytes?: number,
  options?: SockOptions,
): Promise<[number, Address]> {
  checkSocket(sock, "sockRecvfromInto()");
  const view = checkBuffer(buf, "sockRecvfromInto()", "buf");
  if (nbytes !== undefined) {
    checkCount(nbytes, "sockRecvfromInto()", "nbytes");
    if (nbytes > view.byteLength) {
      throw new RangeError(
        `sockRecvfromInto(): nbytes (${nbytes}) is larger than the buffer (${view.byteLength})`,
      );
    }
  }
  const signal = signalOf(options, RECVFROM_INTO);
  if (signal?.aborted) return rejectAborted(signal, RECVFROM_INTO);
  try {
    if (!busy(loop, sock.fileno(), false)) {
      const got = sock.recvfromInto(view, nbytes);
      if (got !== null) return Promise.resolve(got);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(new SockOp(RECVFROM_INTO, loop, sock, view, nbytes ?? -1, null, signal));
}

/**
 * Sends all of `data`, waiting for writability as often as needed. Backs
 * `SelectorEventLoop.sockSendall()`.
 *
 * @example
 * ```ts ignore
 * await sockSendall(loop, sock, new TextEncoder().encode("hello"));
 * ```
 */
export function sockSendall(
  loop: IoLoop,
  sock: Socket,
  data: Uint8Array,
  options?: SockOptions,
): Promise<void> {
  checkSocket(sock, "sockSendall()");
  const view = checkBuffer(data, "sockSendall()", "data");
  const signal = signalOf(options, SENDALL);
  if (signal?.aborted) return rejectAborted(signal, SENDALL);
  // Nothing to send: done at once, even behind calls still sending (as CPython).
  if (view.byteLength === 0) return sock.closed ? rejectClosed(SENDALL) : resolvedVoid;
  const state = { n: 0 };
  try {
    if (!busy(loop, sock.fileno(), true) && sendSome(sock, view, state)) return resolvedVoid;
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(new SockOp(SENDALL, loop, sock, view, state.n, null, signal));
}

/**
 * Sends the datagram `data` to `address`; resolves to the bytes sent.
 * Backs `SelectorEventLoop.sockSendto()`.
 *
 * @example
 * ```ts ignore
 * await sockSendto(loop, udp, data, { transport: "udp", hostname: "127.0.0.1", port: 5353 });
 * ```
 */
export function sockSendto(
  loop: IoLoop,
  sock: Socket,
  data: Uint8Array,
  address: Address,
  options?: SockOptions,
): Promise<number> {
  checkSocket(sock, "sockSendto()");
  const view = checkBuffer(data, "sockSendto()", "data");
  checkAddress(address, "sockSendto()");
  const signal = signalOf(options, SENDTO);
  if (signal?.aborted) return rejectAborted(signal, SENDTO);
  try {
    if (!busy(loop, sock.fileno(), true)) {
      const n = sock.sendto(view, address);
      if (n >= 0) return Promise.resolve(n);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(new SockOp(SENDTO, loop, sock, view, 0, address, signal));
}

/**
 * Accepts a connection on the listening `sock`: the new (nonblocking)
 * socket and the peer's address. Backs `SelectorEventLoop.sockAccept()`.
 *
 * @example
 * ```ts ignore
 * const [conn, peer] = await sockAccept(loop, server);
 * ```
 */
export function sockAccept(
  loop: IoLoop,
  sock: Socket,
  options?: SockOptions,
): Promise<[Socket, Address]> {
  checkSocket(sock, "sockAccept()");
  const signal = signalOf(options, ACCEPT);
  if (signal?.aborted) return rejectAborted(signal, ACCEPT);
  try {
    if (!busy(loop, sock.fileno(), false)) {
      const got = tryAccept(sock);
      if (got !== AGAIN) return Promise.resolve(got);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return wait(new SockOp(ACCEPT, loop, sock, null, 0, null, signal));
}

/**
 * Connects `sock` to `address`. A host name (not a numeric address) is
 * resolved first with `getaddrinfo`, for the socket's family and type, and
 * the first address is used (asyncio's `_ensure_resolved`). Backs
 * `SelectorEventLoop.sockConnect()`.
 *
 * @example
 * ```ts ignore
 * await sockConnect(loop, sock, { transport: "tcp", hostname: "localhost", port: 8080 });
 * ```
 */
export function sockConnect(
  loop: IoLoop,
  sock: Socket,
  address: Address,
  options?: SockOptions,
): Promise<void> {
  checkSocket(sock, "sockConnect()");
  checkAddress(address, "sockConnect()");
  const signal = signalOf(options, CONNECT);
  if (signal?.aborted) return rejectAborted(signal, CONNECT);
  if (
    sock.family !== "unix" && "hostname" in address && typeof address.hostname === "string" &&
    ipFamily(address.hostname) === null
  ) {
    // The rest of the address (transport, port) is checked before the name is looked up:
    // a bad argument must not wait for a resolver.
    const numeric = sock.family === "inet6" ? "::" : "0.0.0.0";
    encodeAddress(
      { ...address, hostname: numeric },
      sock.family,
      sock.type,
      SCRATCH,
      "sockConnect()",
    );
    return resolveThenConnect(loop, sock, address, signal);
  }
  return connect(loop, sock, address, signal);
}

function connect(
  loop: IoLoop,
  sock: Socket,
  address: Address,
  signal: AbortSignal | undefined,
): Promise<void> {
  let rc: number;
  try {
    rc = sock.connectEx(address);
  } catch (e) {
    return Promise.reject(e);
  }
  if (rc === 0) return resolvedVoid;
  if (rc !== EINPROGRESS && !(rc === EAGAIN && sock.family === "unix")) {
    return Promise.reject(osError(rc, "connect", `fd ${sock.fileno()}`));
  }
  return wait(new SockOp(CONNECT, loop, sock, null, rc, address, signal));
}

async function resolveThenConnect(
  loop: IoLoop,
  sock: Socket,
  address: NetAddress,
  signal: AbortSignal | undefined,
): Promise<void> {
  const lookup = getaddrinfo(address.hostname, address.port, {
    family: sock.family === "inet6" ? "inet6" : "inet",
    type: sock.type === "dgram" ? "dgram" : "stream",
  });
  let infos;
  if (signal === undefined) infos = await lookup;
  else {
    // The lookup runs off-thread and cannot be interrupted: stop waiting for it.
    lookup.catch(() => {}); // its failure, after an abort, is nobody's concern
    const aborted = Promise.withResolvers<never>();
    const onAbort = () => aborted.reject(cancelledError(signal, "sockConnect()"));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      infos = await Promise.race([lookup, aborted.promise]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
  if (infos.length === 0) {
    throw new Deno.errors.NotFound(`sockConnect(): no address found for ${address.hostname}`);
  }
  return connect(loop, sock, { ...address, hostname: infos[0].address.hostname }, signal);
}
