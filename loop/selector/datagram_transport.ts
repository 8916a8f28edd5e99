/**
 * The readiness-based datagram transport over a `"dgram"` `Socket` (asyncio's
 * `selector_events._SelectorDatagramTransport`). Datagrams are read into one
 * shared 256 KiB off-heap buffer, several per readiness event, and reach the
 * protocol as copies (small ones in a shared pooled slab, as the stream
 * transport's reads). `sendto()` tries the socket at once and buffers
 * (a copy of) the datagram only when the kernel would block, with asyncio's
 * write-buffer limits driving `pauseWriting()`/`resumeWriting()`.
 *
 * @module
 */
import {
  DatagramBatch,
  decodeAddress,
  describe,
  E,
  encodeAddress,
  errno,
  HAS_RECVMMSG,
  osError,
  SOCK,
  sock as sockCalls,
  SOCKADDR_MAX,
} from "../../ffi/sys.ts";
import type { Future } from "../future.ts";
import type { Address, Socket } from "../../net/mod.ts";
import {
  DatagramTransport,
  type TransportExtraInfo,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import { WriteFlowControl } from "../base/_flow_control.ts";
import { SelectorTransportCore, socketExtraInfo } from "./_selector_transport.ts";
import {
  isOSError,
  toBytes,
  type TransportLoop,
  warnWriteAfterLoss,
} from "../base/_transport_util.ts";
import { READ_BUF, takeRead } from "../base/_read_pool.ts";

/**
 * What each buffered datagram adds to `getWriteBufferSize()` besides its
 * payload (asyncio's `_header_size`, 3.12+): so a flood of empty datagrams
 * still reaches the high-water mark.
 */
export const DATAGRAM_HEADER_SIZE = 8;

/**
 * The most datagrams read per readiness event (asyncio reads one). Reading
 * on until the socket would block saves a selector round trip per datagram
 * under load; the cap keeps one busy endpoint from starving the others.
 */
export const DATAGRAMS_PER_EVENT = 16;

// Validates the addresses of buffered datagrams now, not when the buffer drains.
const ADDR_SCRATCH = new Uint8Array(SOCKADDR_MAX);

/**
 * Whether UDP endpoints read a batch of datagrams per `recvmmsg` call
 * (Linux; decision U1; off, or elsewhere, each datagram takes one
 * `recvfrom`), and whether a batched endpoint's `sendto()` to the `Address`
 * object it just delivered reuses the sender's address as the kernel
 * encoded it (`replyAddress`). Read when a transport is made; the
 * benchmark's A/B switches.
 */
export const datagramBatching: { enabled: boolean; replyAddress: boolean } = {
  enabled: HAS_RECVMMSG,
  replyAddress: true,
};

// A UDP payload is at most 65,535 bytes (65,507 over IPv4): one slot per datagram of the
// batch, shared by every transport (JS is single threaded, and each datagram is copied
// out before the next read). 16 × 64 KiB of address space; only the pages used get memory.
const SLOT_SIZE = 65536;
let sharedBatch: DatagramBatch | null = null;
function batch(): DatagramBatch {
  return sharedBatch ??= new DatagramBatch(DATAGRAMS_PER_EVENT, SLOT_SIZE);
}
const EAGAIN_ = E.EAGAIN, E_INTR = E.EINTR;

/** Options of {@linkcode SelectorDatagramTransport}'s constructor. */
export interface SelectorDatagramTransportOptions {
  /**
   * The peer the socket is connected to (asyncio's `address`): `sendto()`
   * then refuses any other address. `null` for an unconnected endpoint.
   */
  address?: Address | null;
  /** Resolved (unless cancelled) once `connectionMade()` was called. */
  waiter?: Future<void> | null;
  /** Extra information; `sockname`, `peername` and `socket` are filled in when missing. */
  extra?: Partial<TransportExtraInfo> & Record<string, unknown>;
}

function sameAddress(a: Address, b: Address): boolean {
  if ("path" in a || "path" in b) return "path" in a && "path" in b && a.path === b.path;
  return a.hostname === b.hostname && a.port === b.port;
}

function addressText(addr: Address): string {
  return "path" in addr
    ? `{ transport: "${addr.transport}", path: ${JSON.stringify(addr.path)} }`
    : `{ transport: "${addr.transport}", hostname: "${addr.hostname}", port: ${addr.port} }`;
}

// OS errors are the peer's doing, not a bug: asyncio logs them only in debug mode.
function quietUnlessDebug(exc: unknown, loop: TransportLoop): boolean {
  return isOSError(exc) && !loop.getDebug();
}

/** The datagrams waiting to go out, FIFO; each a private copy with its address. */
class DatagramQueue {
  #items: Array<[Uint8Array, Address | null]> = [];
  #head = 0;
  /** The bytes buffered: payloads plus a header's worth each (0 exactly when empty). */
  size = 0;

  /** Adds a copy of `data` for `addr`. */
  push(data: Uint8Array, addr: Address | null): void {
    this.#items.push([data.slice(), addr]);
    this.size += data.byteLength + DATAGRAM_HEADER_SIZE;
  }

  /** The oldest datagram (the queue must not be empty). */
  first(): [Uint8Array, Address | null] {
    return this.#items[this.#head];
  }

  /** Drops the oldest datagram, `data`. */
  shift(data: Uint8Array): void {
    this.size -= data.byteLength + DATAGRAM_HEADER_SIZE;
    this.#items[this.#head++] = undefined!; // let the copy go
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.size = 0;
  }
}

/**
 * A datagram transport over a nonblocking `"dgram"` `Socket` (UDP over IPv4
 * or IPv6, or a unix datagram socket), driven by the loop's
 * `addReader`/`addWriter`. `createDatagramEndpoint()` makes it; construct
 * it directly only to wrap a socket you set up yourself.
 *
 * `connectionMade()` runs on the loop's next iteration, then reading starts.
 * Errors of single sends and receives (such as `ConnectionRefused` after an
 * ICMP port unreachable on a connected socket) go to the protocol's
 * `errorReceived()` and the endpoint stays open; `connectionLost()` runs
 * exactly once, last, after which the socket is closed.
 *
 * Beyond asyncio's `DatagramTransport` interface it has what asyncio's
 * selector transport has: `isReading()`, `pauseReading()`,
 * `resumeReading()`, `setWriteBufferLimits()` and `getWriteBufferLimits()`
 * (the example of `DatagramTransport` shows them at work).
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, Socket } from "@aio/loop";
 * import { DatagramProtocol } from "../../transports/datagram_protocol.ts";
 * import { SelectorDatagramTransport } from "./datagram_transport.ts";
 * using loop = new SelectorEventLoop();
 * const sock = new Socket({ type: "dgram" });
 * sock.bind({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const transport = new SelectorDatagramTransport(loop, sock, new DatagramProtocol());
 * transport.close();
 * await loop.runUntilComplete(async () => {}); // connectionMade, then connectionLost
 * ```
 */
export class SelectorDatagramTransport extends DatagramTransport {
  #loop: TransportLoop;
  #sock: Socket;
  #fd: number;
  #protocol: DatagramProtocol;
  #address: Address | null;
  #connected: boolean; // the socket has a peer: send(), not sendto()
  #buffer = new DatagramQueue();
  #flow: WriteFlowControl;
  #t: SelectorTransportCore; // closing, paused, connLost and the closing sequence
  // Bound once: the loop's handles call these with no per-event closure.
  #readReady = (): void => this.#onReadable();
  #sendtoReady = (): void => this.#onWritable();
  #batched: boolean; // reads with recvmmsg (a UDP socket on Linux)
  #replyAddress: boolean; // remembers the last sender's encoded address
  // Datagrams read in a batch but not yet delivered (the protocol paused reading mid-batch).
  #pending: Array<[Uint8Array, Address]> = [];
  #drainPending = (): void => {
    this.#deliverPending();
  };
  // The sender of the last datagram delivered, as the kernel encoded it: a reply to that
  // same Address object (an echo) skips re-encoding the address.
  #lastAddr: Address | null = null;
  #lastHost = "";
  #lastPort = -1;
  #lastName = new Uint8Array(new ArrayBuffer(SOCKADDR_MAX));
  #lastNameLen = 0;

  /** Wraps `sock` (nonblocking, `"dgram"`) and starts the protocol on the loop's next turn. */
  constructor(
    loop: TransportLoop,
    sock: Socket,
    protocol: DatagramProtocol,
    options: SelectorDatagramTransportOptions = {},
  ) {
    super(socketExtraInfo(sock, options.extra));
    this.#loop = loop;
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#protocol = protocol;
    this.#address = options.address ?? null;
    this.#flow = new WriteFlowControl(loop, this, this.#buffer);
    this.#t = new SelectorTransportCore(loop, this.#fd, this, {
      readReady: this.#readReady,
      buffer: this.#buffer,
      release: () => this.#sock.close(),
      quiet: quietUnlessDebug,
    });
    this.#connected = this.getExtraInfo("peername") !== undefined;
    this.#batched = datagramBatching.enabled && HAS_RECVMMSG &&
      (sock.family === "inet" || sock.family === "inet6");
    this.#replyAddress = this.#batched && datagramBatching.replyAddress;
    this.#t.start(options.waiter);
  }

  // ---- BaseTransport ---------------------------------------------------------

  /**
   * Whether `close()` or `abort()` was called.
   */
  isClosing(): boolean {
    return this.#t.closing;
  }

  /**
   * Stops reading, sends the buffered datagrams, then closes; the
   * protocol's `connectionLost(null)` follows.
   */
  close(): void {
    this.#t.close();
  }

  /**
   * Closes at once, dropping the buffered datagrams; the protocol's
   * `connectionLost(null)` follows.
   */
  abort(): void {
    this.#t.forceClose(null);
  }

  /**
   * Replaces the protocol.
   */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as DatagramProtocol;
  }

  /**
   * The current protocol.
   */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  // ---- reading -----------------------------------------------------------------

  /**
   * Whether the transport is receiving (neither paused nor closing).
   */
  isReading(): boolean {
    return this.#t.isReading();
  }

  /**
   * Stops receiving until `resumeReading()`; datagrams queue in the kernel
   * meanwhile (and are dropped when its buffer is full).
   */
  pauseReading(): void {
    this.#t.pauseReading();
  }

  /**
   * Receives again (no effect unless paused).
   */
  resumeReading(): void {
    const wasPaused = !this.#t.isReading();
    this.#t.resumeReading();
    if (wasPaused && this.#pending.length !== 0 && this.#t.isReading()) {
      this.#loop.callSoon(this.#drainPending);
    }
  }

  // Delivers what a batch read but the protocol had not taken; false if it paused again.
  #deliverPending(): boolean {
    const p = this.#pending;
    const t = this.#t;
    while (p.length !== 0) {
      if (t.connLost || !t.isReading()) return false;
      const [data, addr] = p.shift()!;
      this.#protocol.datagramReceived(data, addr);
    }
    return true;
  }

  #onReadable(): void {
    if (this.#pending.length !== 0 && !this.#deliverPending()) return;
    if (this.#batched) return this.#readBatch();
    const sock = this.#sock;
    const t = this.#t;
    for (let i = 0; i < DATAGRAMS_PER_EVENT; i++) {
      if (t.connLost || !t.isReading()) return;
      let got: [number, Address] | null;
      try {
        got = sock.recvfromInto(READ_BUF);
      } catch (e) {
        if (isOSError(e)) this.#protocol.errorReceived(e);
        else t.fatalError(e, "Fatal read error on datagram transport");
        return;
      }
      if (got === null) return; // drained (or a spurious wakeup)
      this.#protocol.datagramReceived(takeRead(READ_BUF, got[0]), got[1]);
    }
  }

  // One recvmmsg of up to DATAGRAMS_PER_EVENT datagrams, each delivered as its own copy with
  // its sender, in order. Fewer than asked means the socket is drained: no second call.
  #readBatch(): void {
    const t = this.#t;
    if (t.connLost || !t.isReading()) return;
    const b = batch();
    let n: number;
    try {
      n = b.recv(this.#fd);
    } catch (e) {
      if (isOSError(e)) this.#protocol.errorReceived(e);
      else t.fatalError(e, "Fatal read error on datagram transport");
      return;
    }
    const type = this.#sock.type;
    for (let i = 0; i < n; i++) {
      const len = b.length(i);
      const name = b.name(i), nameLen = b.nameLength(i);
      const data = takeRead(b.slot(i), len);
      const addr = decodeAddress(name, nameLen, type) ?? this.#sock.getpeername();
      if (t.connLost || !t.isReading()) {
        // Paused (or closed) by the protocol mid-batch: keep the rest for resumeReading().
        if (!t.connLost && !t.closing) this.#pending.push([data, addr]);
        continue;
      }
      if (this.#replyAddress && nameLen > 0 && nameLen <= SOCKADDR_MAX && "hostname" in addr) {
        this.#lastAddr = addr;
        this.#lastHost = addr.hostname;
        this.#lastPort = addr.port;
        this.#lastName.set(nameLen === SOCKADDR_MAX ? name : name.subarray(0, nameLen));
        this.#lastNameLen = nameLen;
      }
      this.#protocol.datagramReceived(data, addr);
    }
  }

  // sendto() to the sender of the last datagram delivered, with its address as the kernel
  // gave it; the bytes sent, or -1 when it would block.
  #sendtoLast(data: Uint8Array): number {
    const s = sockCalls();
    for (;;) {
      const n = s.sendto(
        this.#fd,
        data,
        BigInt(data.byteLength),
        SOCK.MSG_NOSIGNAL,
        this.#lastName,
        this.#lastNameLen,
      );
      if (n >= 0) return n;
      const e = errno();
      if (e === EAGAIN_) return -1;
      if (e !== E_INTR) throw osError(e, "sendto", `fd ${this.#fd}`);
    }
  }

  // ---- writing -----------------------------------------------------------------

  /**
   * Sends the datagram `data` to `addr` (to the connected peer when `addr`
   * is omitted). It goes out at once when nothing is buffered; when the
   * kernel would block, a copy is buffered and sent when the socket is
   * writable. Empty datagrams are sent too. An OS error goes to the
   * protocol's `errorReceived()`. On a connected endpoint an `addr` other
   * than the peer's throws `TypeError` ("Invalid address"); a bad `addr`
   * throws `TypeError` at once.
   *
   * @example
   * ```ts ignore
   * transport.sendto(new TextEncoder().encode("ping"), {
   *   transport: "udp",
   *   hostname: "127.0.0.1",
   *   port: 5353,
   * });
   * ```
   */
  sendto(data: Uint8Array, addr?: Address | null): void {
    const view = toBytes(data, "sendto()", false);
    let to: Address | null = addr ?? null;
    if (this.#address !== null) {
      if (to !== null && !sameAddress(to, this.#address)) {
        throw new TypeError(
          `Invalid address: must be undefined or ${addressText(this.#address)}, ` +
            `got ${"path" in to || "hostname" in to ? addressText(to) : describe(to)}`,
        );
      }
      to = this.#address;
    } else if (!this.#connected) {
      if (to === null) {
        throw new TypeError("sendto(): addr is required: the endpoint has no remote address");
      }
      if (
        to === this.#lastAddr && (to as { hostname?: string }).hostname === this.#lastHost &&
        (to as { port?: number }).port === this.#lastPort
      ) {
        // A reply to the last sender, its address unchanged: sent as the kernel encoded it.
        if (this.#t.connLost === 0 && this.#buffer.size === 0) {
          try {
            if (this.#sendtoLast(view) >= 0) return;
          } catch (e) {
            if (isOSError(e)) this.#protocol.errorReceived(e);
            else this.#t.fatalError(e, "Fatal write error on datagram transport");
            return;
          }
          this.#loop.addWriter(this.#fd, this.#sendtoReady);
          this.#buffer.push(view, to);
          this.#flow.maybePause();
          return;
        }
      } else {
        // Checked now so a bad address fails here, not later when the buffer drains.
        encodeAddress(to, this.#sock.family, "dgram", ADDR_SCRATCH, "sendto()");
      }
    }
    const t = this.#t;
    if (t.connLost) {
      warnWriteAfterLoss(t.connLost++, "socket.send() raised exception.");
      return;
    }
    if (this.#buffer.size === 0) {
      try {
        const n = this.#connected ? this.#sock.send(view) : this.#sock.sendto(view, to!);
        if (n >= 0) return;
      } catch (e) {
        if (isOSError(e)) this.#protocol.errorReceived(e);
        else t.fatalError(e, "Fatal write error on datagram transport");
        return;
      }
      this.#loop.addWriter(this.#fd, this.#sendtoReady);
    }
    this.#buffer.push(view, to);
    this.#flow.maybePause();
  }

  #onWritable(): void {
    const buf = this.#buffer;
    while (buf.size !== 0) {
      const [data, addr] = buf.first();
      let n: number;
      try {
        n = this.#connected ? this.#sock.send(data) : this.#sock.sendto(data, addr!);
      } catch (e) {
        buf.shift(data);
        if (isOSError(e)) this.#protocol.errorReceived(e);
        else this.#t.fatalError(e, "Fatal write error on datagram transport");
        return; // the writer stays: the next writable event goes on
      }
      if (n < 0) break; // would block: try again when writable
      buf.shift(data);
    }
    this.#flow.maybeResume(); // may sendto() more
    if (buf.size === 0) {
      this.#loop.removeWriter(this.#fd);
      const t = this.#t;
      if (t.closing && !t.connLost) {
        t.connLost++;
        t.callConnectionLost(null);
      }
    }
  }

  // ---- flow control ------------------------------------------------------------

  /**
   * The bytes buffered: each waiting datagram's length plus
   * {@linkcode DATAGRAM_HEADER_SIZE} (as asyncio 3.12+ counts them).
   */
  getWriteBufferSize(): number {
    return this.#buffer.size;
  }

  /**
   * The write-buffer limits (asyncio returns the tuple `(low, high)`).
   */
  getWriteBufferLimits(): WriteBufferLimits {
    return this.#flow.limits();
  }

  /**
   * Sets the high- and low-water marks (defaults 64 KiB and 16 KiB) that
   * drive the protocol's `pauseWriting()`/`resumeWriting()`; pauses at once
   * when the buffer is already above the new high mark.
   */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    this.#flow.setLimits(limits);
  }

  /**
   * A short description for logs: the class, fd and state.
   *
   * @example
   * ```ts ignore
   * console.log(String(transport)); // <SelectorDatagramTransport fd=7 open>
   * ```
   */
  override toString(): string {
    const state = this.#sock.closed ? "closed" : this.#t.closing ? "closing" : "open";
    return `<SelectorDatagramTransport fd=${this.#fd} ${state}>`;
  }
}
