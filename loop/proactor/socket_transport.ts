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
import { OverlappedWriter } from "./_overlapped_writer.ts";
import { SHUT_RDWR, SHUT_WR, type Socket } from "../../net/mod.ts";
import {
  Transport,
  type WriteBufferLimits,
  type WriteBufferLimitsOptions,
} from "../../transports/base_transport.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import { CancelledError } from "../errors.ts";
import type { ServerHooks, SocketTransportOptions } from "../base/loop_hooks.ts";
import {
  asError,
  deliverRead,
  isBuffered,
  isOSError,
  reportError,
  startProtocol,
  toBytes,
  warnWriteAfterLoss,
  writelinesViews,
} from "../base/_transport_util.ts";
import type { IocpProactor } from "./iocp_proactor.ts";

/** The bytes one receive of the transport asks for (CPython's proactor: 64 KiB, one in flight). */
export const PROACTOR_READ_SIZE = 64 * 1024;

/** What the transport needs of its loop. */
export type ProactorTransportLoop =
  & Pick<AbstractEventLoop, "callSoon" | "callExceptionHandler" | "getDebug">
  & { readonly _proactor: IocpProactor };

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
export class ProactorSocketTransport extends Transport {
  #loop: ProactorTransportLoop;
  #sock: Socket;
  #fd: number;
  #protocol!: StreamProtocol;
  #buffered = false;
  #server: ServerHooks | null;
  #closing = false;
  #paused = false;
  #readEnded = false; // EOF seen and kept open (half-closed): no more reads
  #connLost = 0;
  #eof = false; // writeEof() was called
  #shutDown = false;
  // Reading: one receive in flight; what it brought while paused waits for resume.
  #reading: AbortController | null = null;
  #stash: Uint8Array | null = null; // data received while paused (empty: EOF while paused)
  // Writing: one send in flight, the rest buffered (copies).
  #w: OverlappedWriter;
  // Bound once: handed to deliverRead() on every read.
  #fatal = (e: unknown, message: string): void => this.#fatalError(e, message);
  #isClosing = (): boolean => this.#closing;

  /** Wraps `sock` (connected) and starts the protocol on the loop's next turn. */
  constructor(
    loop: ProactorTransportLoop,
    sock: Socket,
    protocol: StreamProtocol,
    options: SocketTransportOptions = {},
  ) {
    super(extraInfo(sock, options.extra));
    this.#loop = loop;
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#server = options.server ?? null;
    this.#w = new OverlappedWriter(loop, this, {
      start: (data, signal) => this.#loop._proactor.send(this.#sock, data, signal, "write"),
      lost: () => this.#connLost > 0,
      drained: () => {
        if (this.#closing) {
          this.#connLost++;
          this.#callConnectionLost(null);
        } else if (this.#eof) this.#shutdownWrite();
      },
      failed: (e) => this.#fatalError(e, "Fatal write error on socket transport"),
    });
    if ((options.noDelay ?? true) && sock.type === "stream") {
      try {
        sock.setsockopt("TCP_NODELAY", true);
      } catch {
        // Not TCP: nothing to set.
      }
    }
    this.setProtocol(protocol);
    this.#server?.attach(this);
    startProtocol(
      loop,
      () => this.#protocol.connectionMade(this),
      () => this.#read(),
      options.waiter,
    );
  }

  // ---- BaseTransport -------------------------------------------------------------

  /** Whether `close()` or `abort()` was called, or the connection was lost. */
  isClosing(): boolean {
    return this.#closing;
  }

  /** Stops reading, sends what is buffered, then closes; `connectionLost(null)` follows. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reading?.abort(); // CPython cancels the read on close
    this.#reading = null;
    if (this.#w.idle) {
      this.#connLost++;
      this.#loop.callSoon(() => this.#callConnectionLost(null));
    }
  }

  /** Replaces the protocol (a `BufferedProtocol` gets its data through `getBuffer`). */
  setProtocol(protocol: BaseProtocol): void {
    this.#protocol = protocol as StreamProtocol;
    this.#buffered = isBuffered(protocol);
  }

  /** The current protocol. */
  getProtocol(): BaseProtocol {
    return this.#protocol;
  }

  // ---- reading -------------------------------------------------------------------

  /** Whether the transport is receiving (neither paused nor closing). */
  isReading(): boolean {
    return !this.#paused && !this.#closing;
  }

  /** Stops delivering data until `resumeReading()`; the receive in flight is not cancelled. */
  pauseReading(): void {
    if (this.#closing || this.#paused) return;
    this.#paused = true;
  }

  /** Delivers what came while paused (on the next turn), then reads again. */
  resumeReading(): void {
    if (this.#closing || !this.#paused) return;
    this.#paused = false;
    this.#loop.callSoon(() => {
      const stash = this.#stash;
      this.#stash = null;
      if (stash !== null) this.#deliver(stash);
      this.#read();
    });
  }

  #read(): void {
    if (this.#reading !== null || this.#connLost || this.#closing || this.#readEnded) return;
    if (this.#paused || this.#stash !== null) return;
    const ac = new AbortController();
    this.#reading = ac;
    this.#loop._proactor.recv(this.#sock, PROACTOR_READ_SIZE, ac.signal, "read").then(
      (data) => {
        if (this.#reading === ac) this.#reading = null;
        if (this.#connLost || this.#closing) return;
        if (this.#paused) {
          this.#stash = data;
          return;
        }
        this.#deliver(data);
        this.#read();
      },
      (e) => {
        if (this.#reading === ac) this.#reading = null;
        if (e instanceof CancelledError) return; // our own close/abort, or the loop closed
        if (this.#connLost) return;
        if (this.#closing && e instanceof Deno.errors.ConnectionAborted) return;
        if (e instanceof Deno.errors.ConnectionReset) {
          this.#forceClose(asError(e));
          return;
        }
        this.#fatalError(e, "Fatal read error on socket transport");
      },
    );
  }

  #deliver(data: Uint8Array): void {
    if (data.length === 0) this.#onEof();
    else {
      deliverRead(this.#protocol, this.#buffered, data, this.#fatal, this.#isClosing);
    }
  }

  #onEof(): void {
    let keepOpen: unknown;
    try {
      keepOpen = this.#protocol.eofReceived();
    } catch (e) {
      this.#fatalError(e, "Fatal error: protocol.eofReceived() call failed.");
      return;
    }
    if (keepOpen) this.#readEnded = true; // half-closed: writing goes on
    else this.close();
  }

  // ---- writing -------------------------------------------------------------------

  /**
   * Sends `data` (a copy is kept until it went out): at once when nothing
   * is in flight, else after what is buffered. Throws after `writeEof()`.
   */
  write(data: Uint8Array): void {
    const view = toBytes(data, "write()");
    if (this.#eof) throw new Error("Cannot call write() after writeEof()");
    if (view.byteLength === 0) return;
    if (this.#connLost) {
      warnWriteAfterLoss(this.#connLost++, "socket.send() raised exception.");
      return;
    }
    this.#w.push(view);
  }

  /** Sends the buffers of `list` in order. */
  writelines(list: Iterable<Uint8Array>): void {
    if (this.#eof) throw new Error("Cannot call writelines() after writeEof()");
    const views = writelinesViews(list);
    if (views.length === 0) return;
    if (this.#connLost) {
      warnWriteAfterLoss(this.#connLost++, "socket.send() raised exception.");
      return;
    }
    this.#w.pushAll(views);
  }

  #shutdownWrite(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    try {
      this.#sock.shutdown(SHUT_WR);
    } catch (e) {
      this.#fatalError(e, "Fatal error on socket transport: shutdown() failed");
    }
  }

  /** Closes the writing side once everything buffered went out; reading goes on. */
  writeEof(): void {
    if (this.#closing || this.#eof) return;
    this.#eof = true;
    if (this.#w.idle) this.#shutdownWrite();
  }

  /** `true`: sockets can close their writing side. */
  canWriteEof(): boolean {
    return true;
  }

  /** Closes at once: the buffer is dropped, both operations cancelled. */
  abort(): void {
    this.#forceClose(null);
  }

  // ---- flow control --------------------------------------------------------------

  /** Sets the write-buffer marks (defaults 64 KiB and 16 KiB); in-flight bytes count. */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void {
    this.#w.setLimits(limits);
  }

  /** The bytes buffered plus those in flight. */
  getWriteBufferSize(): number {
    return this.#w.size;
  }

  /** The marks, `{ low, high }`. */
  getWriteBufferLimits(): WriteBufferLimits {
    return this.#w.limits();
  }

  // ---- the end -------------------------------------------------------------------

  #fatalError(exc: unknown, message: string): void {
    if (!isOSError(exc)) reportError(this.#loop, message, exc, this, this.#protocol);
    this.#forceClose(asError(exc));
  }

  #forceClose(exc: Error | null): void {
    if (this.#connLost) return;
    this.#w.clear();
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
  }

  /** A short description: socket, state and buffer size. */
  override toString(): string {
    const state = this.#sock.closed
      ? "closed"
      : this.#closing
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
