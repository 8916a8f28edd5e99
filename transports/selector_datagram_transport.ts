/**
 * The readiness-based datagram transport over a `"dgram"` `Socket` (asyncio's
 * `selector_events._SelectorDatagramTransport`). Datagrams are read into one
 * shared 256 KiB off-heap buffer, several per readiness event, and reach the
 * protocol as fresh copies. `sendto()` tries the socket at once and buffers
 * (a copy of) the datagram only when the kernel would block, with asyncio's
 * write-buffer limits driving `pauseWriting()`/`resumeWriting()`.
 *
 * @module
 */
import { encodeAddress, SOCKADDR_MAX } from "../ffi/unix/sockaddr.ts";
import { describe } from "../ffi/unix/libc.ts";
import type { Future } from "../loop/future.ts";
import type { Address, Socket } from "../net/mod.ts";
import {
  DatagramTransport,
  type TransportExtraInfo,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "./base_transport.ts";
import type { DatagramProtocol } from "./datagram_protocol.ts";
import type { BaseProtocol } from "./protocol.ts";
import { normalizeLimits } from "./_flow_control.ts";
import { MAX_READ_SIZE, type TransportLoop } from "./selector_socket_transport.ts";

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

/** asyncio's `LOG_THRESHOLD_FOR_CONNLOST_WRITES`: sends after the loss before a warning. */
const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;

// One read buffer for every datagram transport: JS is single-threaded and each datagram is
// copied out before the protocol sees it. An explicit ArrayBuffer lives off the V8 heap.
const READ_BUF = new Uint8Array(new ArrayBuffer(MAX_READ_SIZE));
// Validates the addresses of buffered datagrams now, not when the buffer drains.
const ADDR_SCRATCH = new Uint8Array(SOCKADDR_MAX);

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

// Errors from the OS (asyncio's OSError) go to errorReceived(); others are fatal.
const OS_ERRORS = Object.values(Deno.errors) as (new (...args: never[]) => Error)[];
function isOSError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  const errno = (e as { errno?: unknown }).errno;
  if (typeof errno === "number" && typeof (e as { code?: unknown }).code === "string") return true;
  for (const C of OS_ERRORS) if (e instanceof C) return true;
  return false;
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  throw new TypeError(
    `sendto(): data must be a Uint8Array (or another ArrayBufferView), not ${describe(data)}`,
  );
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

function setResultUnlessCancelled(fut: Future<void>): void {
  if (!fut.cancelled()) fut.setResult(undefined);
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
 * `resumeReading()`, `setWriteBufferLimits()` and `getWriteBufferLimits()`.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, Socket } from "@aio/loop";
 * import { DatagramProtocol } from "./datagram_protocol.ts";
 * import { SelectorDatagramTransport } from "./selector_datagram_transport.ts";
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
  // The datagrams waiting to go out, FIFO from #head; each a private copy.
  #buffer: Array<[Uint8Array, Address | null]> = [];
  #head = 0;
  #bufferSize = 0;
  #connLost = 0;
  #closing = false;
  #paused = false;
  #protocolPaused = false;
  #high: number;
  #low: number;
  // Bound once: the loop's handles call these with no per-event closure.
  #readReady = (): void => this.#onReadable();
  #sendtoReady = (): void => this.#onWritable();
  #connectionLost = (exc: Error | null): void => this.#callConnectionLost(exc);
  #connectionMade = (): void => this.#protocol.connectionMade(this);
  #startReading = (): void => this.#addReader();

  /** Wraps `sock` (nonblocking, `"dgram"`) and starts the protocol on the loop's next turn. */
  constructor(
    loop: TransportLoop,
    sock: Socket,
    protocol: DatagramProtocol,
    options: SelectorDatagramTransportOptions = {},
  ) {
    super(options.extra);
    this.#loop = loop;
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#protocol = protocol;
    this.#address = options.address ?? null;
    ({ high: this.#high, low: this.#low } = normalizeLimits());
    this._setExtraInfo("socket", sock);
    for (const [name, peer] of [["sockname", false], ["peername", true]] as const) {
      if (this.getExtraInfo(name) !== undefined) continue;
      try {
        this._setExtraInfo(name, peer ? sock.getpeername() : sock.getsockname());
      } catch {
        // Not connected (ENOTCONN): there is no peer name, as asyncio's None.
      }
    }
    this.#connected = this.getExtraInfo("peername") !== undefined;
    loop.callSoon(this.#connectionMade);
    loop.callSoon(this.#startReading);
    if (options.waiter) loop.callSoon(setResultUnlessCancelled, options.waiter);
  }

  // ---- BaseTransport ---------------------------------------------------------

  /**
   * Whether `close()` or `abort()` was called.
   *
   * @example
   * ```ts ignore
   * if (!transport.isClosing()) transport.sendto(data, addr);
   * ```
   */
  isClosing(): boolean {
    return this.#closing;
  }

  /**
   * Stops reading, sends the buffered datagrams, then closes; the
   * protocol's `connectionLost(null)` follows.
   *
   * @example
   * ```ts ignore
   * transport.close();
   * ```
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#loop.removeReader(this.#fd);
    if (this.#bufferedCount() === 0) {
      this.#connLost++;
      this.#loop.removeWriter(this.#fd);
      this.#loop.callSoon(this.#connectionLost, null);
    }
  }

  /**
   * Closes at once, dropping the buffered datagrams; the protocol's
   * `connectionLost(null)` follows.
   *
   * @example
   * ```ts ignore
   * transport.abort();
   * ```
   */
  abort(): void {
    this.#forceClose(null);
  }

  /**
   * Replaces the protocol.
   *
   * @example
   * ```ts ignore
   * transport.setProtocol(new OtherProtocol());
   * ```
   */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as DatagramProtocol;
  }

  /**
   * The current protocol.
   *
   * @example
   * ```ts ignore
   * const protocol = transport.getProtocol();
   * ```
   */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  // ---- reading -----------------------------------------------------------------

  /**
   * Whether the transport is receiving (neither paused nor closing).
   *
   * @example
   * ```ts ignore
   * console.log(transport.isReading());
   * ```
   */
  isReading(): boolean {
    return !this.#paused && !this.#closing;
  }

  /**
   * Stops receiving until `resumeReading()`; datagrams queue in the kernel
   * meanwhile (and are dropped when its buffer is full).
   *
   * @example
   * ```ts ignore
   * transport.pauseReading();
   * ```
   */
  pauseReading(): void {
    if (!this.isReading()) return;
    this.#paused = true;
    this.#loop.removeReader(this.#fd);
  }

  /**
   * Receives again (no effect unless paused).
   *
   * @example
   * ```ts ignore
   * transport.resumeReading();
   * ```
   */
  resumeReading(): void {
    if (this.#closing || !this.#paused) return;
    this.#paused = false;
    this.#addReader();
  }

  #addReader(): void {
    if (!this.isReading()) return;
    this.#loop.addReader(this.#fd, this.#readReady);
  }

  #onReadable(): void {
    const sock = this.#sock;
    for (let i = 0; i < DATAGRAMS_PER_EVENT; i++) {
      if (this.#connLost || !this.isReading()) return;
      let got: [number, Address] | null;
      try {
        got = sock.recvfromInto(READ_BUF);
      } catch (e) {
        if (isOSError(e)) this.#protocol.errorReceived(e);
        else this.#fatalError(e, "Fatal read error on datagram transport");
        return;
      }
      if (got === null) return; // drained (or a spurious wakeup)
      this.#protocol.datagramReceived(READ_BUF.slice(0, got[0]), got[1]);
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
    const view = toBytes(data);
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
      // Checked now so a bad address fails here, not later when the buffer drains.
      encodeAddress(to, this.#sock.family, "dgram", ADDR_SCRATCH, "sendto()");
    }
    if (this.#connLost) {
      if (this.#connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
        console.warn("socket.send() raised exception.");
      }
      this.#connLost++;
      return;
    }
    if (this.#bufferedCount() === 0) {
      try {
        const n = this.#connected ? this.#sock.send(view) : this.#sock.sendto(view, to!);
        if (n >= 0) return;
      } catch (e) {
        if (isOSError(e)) this.#protocol.errorReceived(e);
        else this.#fatalError(e, "Fatal write error on datagram transport");
        return;
      }
      this.#loop.addWriter(this.#fd, this.#sendtoReady);
    }
    this.#buffer.push([view.slice(), to]);
    this.#bufferSize += view.byteLength + DATAGRAM_HEADER_SIZE;
    this.#maybePauseProtocol();
  }

  #bufferedCount(): number {
    return this.#buffer.length - this.#head;
  }

  #onWritable(): void {
    while (this.#head < this.#buffer.length) {
      const [data, addr] = this.#buffer[this.#head];
      let n: number;
      try {
        n = this.#connected ? this.#sock.send(data) : this.#sock.sendto(data, addr!);
      } catch (e) {
        this.#dropHead(data);
        if (isOSError(e)) this.#protocol.errorReceived(e);
        else this.#fatalError(e, "Fatal write error on datagram transport");
        return; // the writer stays: the next writable event goes on
      }
      if (n < 0) break; // would block: try again when writable
      this.#dropHead(data);
    }
    this.#maybeResumeProtocol(); // may sendto() more
    if (this.#bufferedCount() === 0) {
      this.#loop.removeWriter(this.#fd);
      if (this.#closing && !this.#connLost) {
        this.#connLost++;
        this.#callConnectionLost(null);
      }
    }
  }

  #dropHead(data: Uint8Array): void {
    this.#bufferSize -= data.byteLength + DATAGRAM_HEADER_SIZE;
    this.#buffer[this.#head++] = undefined!; // let the copy go
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer.splice(0, this.#head);
      this.#head = 0;
    }
  }

  // ---- flow control ------------------------------------------------------------

  /**
   * The bytes buffered: each waiting datagram's length plus
   * {@linkcode DATAGRAM_HEADER_SIZE} (as asyncio 3.12+ counts them).
   *
   * @example
   * ```ts ignore
   * console.log(transport.getWriteBufferSize());
   * ```
   */
  getWriteBufferSize(): number {
    return this.#bufferSize;
  }

  /**
   * The write-buffer limits (asyncio returns the tuple `(low, high)`).
   *
   * @example
   * ```ts ignore
   * const { low, high } = transport.getWriteBufferLimits();
   * ```
   */
  getWriteBufferLimits(): WriteBufferLimits {
    return { low: this.#low, high: this.#high };
  }

  /**
   * Sets the high- and low-water marks (defaults 64 KiB and 16 KiB) that
   * drive the protocol's `pauseWriting()`/`resumeWriting()`; pauses at once
   * when the buffer is already above the new high mark.
   *
   * @example
   * ```ts ignore
   * transport.setWriteBufferLimits({ high: 256 * 1024 });
   * ```
   */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    ({ high: this.#high, low: this.#low } = normalizeLimits(limits));
    this.#maybePauseProtocol();
  }

  #maybePauseProtocol(): void {
    if (this.#bufferSize <= this.#high || this.#protocolPaused) return;
    this.#protocolPaused = true;
    try {
      this.#protocol.pauseWriting();
    } catch (e) {
      this.#loop.callExceptionHandler({
        message: "protocol.pauseWriting() failed",
        exception: e,
        transport: this,
        protocol: this.#protocol,
      });
    }
  }

  #maybeResumeProtocol(): void {
    if (!this.#protocolPaused || this.#bufferSize > this.#low) return;
    this.#protocolPaused = false;
    try {
      this.#protocol.resumeWriting();
    } catch (e) {
      this.#loop.callExceptionHandler({
        message: "protocol.resumeWriting() failed",
        exception: e,
        transport: this,
        protocol: this.#protocol,
      });
    }
  }

  // ---- closing -----------------------------------------------------------------

  #fatalError(exc: unknown, message: string): void {
    // OS errors are the peer's doing, not a bug: asyncio logs them only in debug mode.
    if (!isOSError(exc) || this.#loop.getDebug()) {
      this.#loop.callExceptionHandler({
        message,
        exception: exc,
        transport: this,
        protocol: this.#protocol,
      });
    }
    this.#forceClose(exc instanceof Error ? exc : new Error(String(exc)));
  }

  #forceClose(exc: Error | null): void {
    if (this.#connLost) return;
    if (this.#bufferedCount() !== 0) {
      this.#buffer = [];
      this.#head = 0;
      this.#bufferSize = 0;
      this.#loop.removeWriter(this.#fd);
    }
    if (!this.#closing) {
      this.#closing = true;
      this.#loop.removeReader(this.#fd);
    }
    this.#connLost++;
    this.#loop.callSoon(this.#connectionLost, exc);
  }

  #callConnectionLost(exc: Error | null): void {
    try {
      this.#protocol.connectionLost(exc);
    } finally {
      this.#sock.close();
    }
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
    const state = this.#sock.closed ? "closed" : this.#closing ? "closing" : "open";
    return `<SelectorDatagramTransport fd=${this.#fd} ${state}>`;
  }
}
