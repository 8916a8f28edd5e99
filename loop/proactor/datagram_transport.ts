/**
 * The datagram transport of the ProactorEventLoop (asyncio's
 * `proactor_events._ProactorDatagramTransport`): one 256 KiB WSARecvFrom in
 * flight, re-armed after every datagram and after every error (an ICMP
 * error such as a refused port goes to the protocol's `errorReceived()`
 * and the endpoint keeps working, gh-127057); one WSASendTo in flight with
 * the datagrams behind it queued (copies), counted for flow control.
 *
 * @module
 */
import { describe, encodeAddress, SOCKADDR_MAX } from "../../ffi/sys.ts";
import type { Address, Socket } from "../../net/mod.ts";
import {
  DatagramTransport,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import { CancelledError } from "../errors.ts";
import { WriteFlowControl } from "../base/_flow_control.ts";
import type { DatagramTransportOptions } from "../base/loop_hooks.ts";
import {
  asError,
  isOSError,
  reportError,
  startProtocol,
  toBytes,
  warnWriteAfterLoss,
} from "../base/_transport_util.ts";
import type { ProactorTransportLoop } from "./_proactor_base_transport.ts";

/** The bytes one receive asks for (asyncio's proactor datagram transport: 256 KiB). */
export const DATAGRAM_READ_SIZE = 256 * 1024;
/** What each queued datagram adds to `getWriteBufferSize()` besides its payload (asyncio 3.12+). */
const HEADER_SIZE = 8;
const ADDR_SCRATCH = new Uint8Array(SOCKADDR_MAX);

function sameAddress(a: Address, b: Address): boolean {
  if ("path" in a || "path" in b) return "path" in a && "path" in b && a.path === b.path;
  return a.hostname === b.hostname && a.port === b.port;
}

function addressText(addr: Address): string {
  return "path" in addr
    ? `{ transport: "${addr.transport}", path: ${JSON.stringify(addr.path)} }`
    : `{ transport: "${addr.transport}", hostname: "${addr.hostname}", port: ${addr.port} }`;
}

/**
 * A datagram transport over a `"dgram"` socket, driven by overlapped
 * operations. Made by the ProactorEventLoop's `createDatagramEndpoint()`.
 *
 * @example
 * ```ts ignore
 * const [transport] = await loop.createDatagramEndpoint(() => new MyProtocol(), { localAddr });
 * ```
 */
export class ProactorDatagramTransport extends DatagramTransport {
  #loop: ProactorTransportLoop;
  #sock: Socket;
  #fd: number;
  #protocol: DatagramProtocol;
  #address: Address | null;
  #peer: Address | null;
  #closing = false;
  #paused = false;
  #connLost = 0;
  #reading: AbortController | null = null;
  #writing: AbortController | null = null;
  #queue: Array<[Uint8Array, Address]> = [];
  #size = 0; // queued bytes (+ headers), the one in flight included
  #fc: WriteFlowControl;

  /** Wraps `sock` and starts the protocol on the loop's next turn. */
  constructor(
    loop: ProactorTransportLoop,
    sock: Socket,
    protocol: DatagramProtocol,
    options: DatagramTransportOptions = {},
  ) {
    const info: Record<string, unknown> = { ...options.extra, socket: sock };
    for (const [name, peer] of [["sockname", false], ["peername", true]] as const) {
      if (info[name] !== undefined) continue;
      try {
        info[name] = peer ? sock.getpeername() : sock.getsockname();
      } catch {
        // Not connected: no peer name.
      }
    }
    super(info);
    this.#loop = loop;
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#protocol = protocol;
    this.#address = options.address ?? null;
    this.#peer = (info.peername as Address | undefined) ?? null;
    const size = () => this.#size;
    this.#fc = new WriteFlowControl(loop, this, {
      get size() {
        return size();
      },
    });
    startProtocol(
      loop,
      () => this.#protocol.connectionMade(this),
      () => this.#read(),
      options.waiter,
    );
  }

  /** Whether `close()` or `abort()` was called. */
  isClosing(): boolean {
    return this.#closing;
  }

  /** Stops reading, sends the queued datagrams, then closes; `connectionLost(null)` follows. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reading?.abort();
    this.#reading = null;
    if (this.#writing === null && this.#queue.length === 0) {
      this.#connLost++;
      this.#loop.callSoon(() => this.#callConnectionLost(null));
    }
  }

  /** Closes at once, dropping the queued datagrams. */
  abort(): void {
    this.#forceClose(null);
  }

  /** Replaces the protocol. */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as DatagramProtocol;
  }

  /** The current protocol. */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  /** Whether the transport is receiving (neither paused nor closing). */
  isReading(): boolean {
    return !this.#paused && !this.#closing;
  }

  /** Stops delivering datagrams until `resumeReading()` (the receive in flight stays). */
  pauseReading(): void {
    if (this.#closing || this.#paused) return;
    this.#paused = true;
  }

  /** Receives again (no effect unless paused). */
  resumeReading(): void {
    if (this.#closing || !this.#paused) return;
    this.#paused = false;
    this.#loop.callSoon(() => this.#read());
  }

  #stash: [Uint8Array, Address] | null = null;

  #read(): void {
    if (this.#reading !== null || this.#connLost || this.#closing) return;
    if (this.#paused) return;
    const stash = this.#stash;
    if (stash !== null) {
      this.#stash = null;
      this.#protocol.datagramReceived(stash[0], stash[1]);
      if (this.#paused || this.#closing) return;
    }
    const ac = new AbortController();
    this.#reading = ac;
    this.#loop._proactor.recvfrom(this.#sock, DATAGRAM_READ_SIZE, ac.signal, "recvfrom").then(
      ([data, addr]) => {
        if (this.#reading === ac) this.#reading = null;
        if (this.#connLost || this.#closing) return;
        if (this.#paused) {
          this.#stash = [data, addr];
          return;
        }
        try {
          this.#protocol.datagramReceived(data, addr);
        } catch (e) {
          this.#fatalError(e, "Fatal error: protocol.datagramReceived() call failed.");
          return;
        }
        this.#read();
      },
      (e) => {
        if (this.#reading === ac) this.#reading = null;
        if (e instanceof CancelledError || this.#connLost || this.#closing) return;
        if (isOSError(e)) {
          // An ICMP error (a refused port, ...): the protocol hears of it, reading goes on.
          try {
            this.#protocol.errorReceived(asError(e));
          } catch (e2) {
            this.#fatalError(e2, "Fatal error: protocol.errorReceived() call failed.");
            return;
          }
          this.#read();
          return;
        }
        this.#fatalError(e, "Fatal read error on datagram transport");
      },
    );
  }

  /**
   * Sends the datagram `data` to `addr` (the connected peer when omitted).
   * A copy is queued behind the datagram in flight. An OS error goes to the
   * protocol's `errorReceived()`. On a connected endpoint another `addr`
   * throws `TypeError` ("Invalid address").
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
    } else if (to === null) {
      if (this.#peer === null) {
        throw new TypeError("sendto(): addr is required: the endpoint has no remote address");
      }
      to = this.#peer;
    }
    encodeAddress(to, this.#sock.family, "dgram", ADDR_SCRATCH, "sendto()");
    if (this.#connLost) {
      warnWriteAfterLoss(this.#connLost++, "socket.send() raised exception.");
      return;
    }
    this.#queue.push([view.slice(), to]);
    this.#size += view.byteLength + HEADER_SIZE;
    if (this.#writing === null) this.#send();
    this.#fc.maybePause();
  }

  #send(): void {
    if (this.#queue.length === 0 || this.#connLost) return;
    const [data, to] = this.#queue[0];
    const ac = new AbortController();
    this.#writing = ac;
    const done = () => {
      this.#writing = null;
      this.#queue.shift();
      this.#size -= data.byteLength + HEADER_SIZE;
    };
    this.#loop._proactor.sendto(this.#sock, data, to, ac.signal, "sendto").then(
      () => {
        if (this.#writing !== ac) return;
        done();
        this.#afterSend();
      },
      (e) => {
        if (this.#writing !== ac) return;
        done();
        if (e instanceof CancelledError || this.#connLost) return;
        if (isOSError(e)) {
          try {
            this.#protocol.errorReceived(asError(e));
          } catch (e2) {
            this.#fatalError(e2, "Fatal error: protocol.errorReceived() call failed.");
            return;
          }
          this.#afterSend();
          return;
        }
        this.#fatalError(e, "Fatal write error on datagram transport");
      },
    );
  }

  #afterSend(): void {
    if (this.#connLost) return;
    this.#fc.maybeResume();
    if (this.#connLost) return; // resumeWriting() closed or aborted: connectionLost() is scheduled
    if (this.#queue.length > 0) {
      if (this.#writing === null) this.#send();
      return;
    }
    if (this.#closing) {
      this.#connLost++;
      this.#callConnectionLost(null);
    }
  }

  /** The bytes queued (each datagram's length plus 8), the one in flight included. */
  getWriteBufferSize(): number {
    return this.#size;
  }

  /** The write-buffer limits. */
  getWriteBufferLimits(): WriteBufferLimits {
    return this.#fc.limits();
  }

  /** Sets the high- and low-water marks (defaults 64 KiB and 16 KiB). */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    this.#fc.setLimits(limits);
  }

  #fatalError(exc: unknown, message: string): void {
    if (!isOSError(exc) || this.#loop.getDebug()) {
      reportError(this.#loop, message, exc, this, this.#protocol);
    }
    this.#forceClose(asError(exc));
  }

  #forceClose(exc: Error | null): void {
    if (this.#connLost) return;
    this.#queue.length = 0;
    this.#size = 0;
    this.#writing?.abort();
    this.#writing = null;
    this.#reading?.abort();
    this.#reading = null;
    this.#closing = true;
    this.#connLost++;
    this.#loop.callSoon(() => this.#callConnectionLost(exc));
  }

  #callConnectionLost(exc: Error | null): void {
    try {
      this.#protocol.connectionLost(exc);
    } finally {
      if (!this.#sock.closed) this.#sock.close();
    }
  }

  /** A short description: the class, socket and state. */
  override toString(): string {
    const state = this.#sock.closed ? "closed" : this.#closing ? "closing" : "open";
    return `<ProactorDatagramTransport fd=${this.#fd} ${state}>`;
  }
}
