/**
 * The stream transport of the ProactorEventLoop (asyncio's
 * `proactor_events._ProactorSocketTransport`): one overlapped receive in
 * flight at a time, re-armed after each; pausing never cancels it (a
 * cancelled receive can lose what it took, bpo-33694), so data read while
 * paused is delivered on resume. One send in flight plus a buffer behind it;
 * the bytes in flight count against the high-water mark. `writeEof()` shuts
 * the writing side once everything went out; `close()` flushes first;
 * `abort()` drops the buffer and cancels both operations.
 *
 * @module
 */
import {
  ProactorBaseTransport,
  type ProactorTransportKind,
  type ProactorTransportLoop,
} from "./_proactor_base_transport.ts";
import { SHUT_RDWR, SHUT_WR, type Socket } from "../../net/mod.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { ServerHooks, SocketTransportOptions } from "../base/loop_hooks.ts";

/** The bytes one receive of the transport asks for (CPython's proactor: 64 KiB, one in flight). */
export const PROACTOR_READ_SIZE = 64 * 1024;

const SOCKET: ProactorTransportKind = {
  name: "socket",
  reads: true,
  lostWrite: "socket.send() raised exception.",
};

/**
 * A stream transport over a connected socket, driven by overlapped
 * operations. Made by the ProactorEventLoop's `createConnection`,
 * `createServer` and `connectAcceptedSocket`.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await loop.createConnection(() => new MyProtocol(), "127.0.0.1", 8080);
 * ```
 */
export class ProactorSocketTransport extends ProactorBaseTransport {
  #sock: Socket;
  #fd: number;
  #server: ServerHooks | null;
  #shutDown = false;

  /** Wraps `sock` (connected) and starts the protocol on the loop's next turn. */
  constructor(
    loop: ProactorTransportLoop,
    sock: Socket,
    protocol: StreamProtocol,
    options: SocketTransportOptions = {},
  ) {
    super(loop, extraInfo(sock, options.extra), protocol, SOCKET, options.waiter);
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#server = options.server ?? null;
    if ((options.noDelay ?? true) && sock.type === "stream") {
      try {
        sock.setsockopt("TCP_NODELAY", true);
      } catch {
        // Not TCP: nothing to set.
      }
    }
    this.#server?.attach(this);
  }

  /**
   * A hook of ProactorBaseTransport.
   * @internal
   */
  protected _startRead(signal: AbortSignal): Promise<Uint8Array> {
    return this._proactor.recv(this.#sock, PROACTOR_READ_SIZE, signal, "read");
  }

  /**
   * A hook of ProactorBaseTransport.
   * @internal
   */
  protected _startWrite(data: Uint8Array, signal: AbortSignal): Promise<number> {
    return this._proactor.send(this.#sock, data, signal, "write");
  }

  /**
   * A hook of ProactorBaseTransport.
   * @internal
   */
  protected _peerGone(e: unknown): boolean {
    return e instanceof Deno.errors.ConnectionReset;
  }

  /**
   * A hook of ProactorBaseTransport.
   * @internal
   */
  protected _staysOpenAfterEof(answer: unknown): boolean {
    return Boolean(answer); // half-closed: writing goes on
  }

  // ---- writing -------------------------------------------------------------------

  /**
   * Sends `data` (a copy is kept until it went out): at once when nothing
   * is in flight, else after what is buffered. Throws after `writeEof()`.
   */
  write(data: Uint8Array): void {
    this._write(data);
  }

  /**
   * A hook of ProactorBaseTransport.
   * @internal
   */
  protected _writeEnded(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    try {
      this.#sock.shutdown(SHUT_WR);
    } catch (e) {
      this._fatalError(e, "Fatal error on socket transport: shutdown() failed");
    }
  }

  /** Closes the writing side once everything buffered went out; reading goes on. */
  writeEof(): void {
    this._endWriting();
  }

  /** `true`: sockets can close their writing side. */
  canWriteEof(): boolean {
    return true;
  }

  // ---- the end -------------------------------------------------------------------

  /**
   * A hook of ProactorBaseTransport.
   * @internal
   */
  protected _release(): void {
    // Shut down first so the peer sees EOF, not a reset (CPython's _call_connection_lost).
    if (!this.#sock.closed) {
      try {
        this.#sock.shutdown(SHUT_RDWR);
      } catch {
        // Not connected any more: nothing to shut down.
      }
      this.#sock.close();
    }
    const server = this.#server;
    this.#server = null;
    server?.detach(this);
  }

  /** A short description: socket, state and buffer size. */
  override toString(): string {
    const state = this.#sock.closed
      ? "closed"
      : this.isClosing()
      ? "closing"
      : this.isReading()
      ? "reading"
      : "paused";
    return `<ProactorSocketTransport fd=${this.#fd} ${state} bufsize=${this.getWriteBufferSize()}>`;
  }
}

function extraInfo(
  sock: Socket,
  extra?: Partial<Record<string, unknown>>,
): Record<string, unknown> {
  const info: Record<string, unknown> = { ...extra, socket: sock };
  for (const [name, peer] of [["sockname", false], ["peername", true]] as const) {
    if (info[name] !== undefined) continue;
    try {
      info[name] = peer ? sock.getpeername() : sock.getsockname();
    } catch {
      // Not connected, or reset before we looked: no name.
    }
  }
  return info;
}
