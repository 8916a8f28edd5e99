/**
 * `StreamReaderProtocol` (asyncio's `asyncio.StreamReaderProtocol`): the
 * protocol that turns transport callbacks into a `StreamReader`'s data and
 * a `StreamWriter`'s flow control, and runs a server's client callback.
 *
 * @module
 */
import type { AbstractEventLoop } from "../loop/abstract_event_loop.ts";
import type { Task } from "../loop/task.ts";
import type { BaseTransport, Transport } from "../transports/base_transport.ts";
import { getEventLoop } from "../policy.ts";
import { FlowControlMixin } from "./flow_control_mixin.ts";
import type { StreamReader } from "./stream_reader.ts";
import { StreamWriter } from "./stream_writer.ts";

/**
 * A server's callback for each connection: called with the connection's
 * reader and writer, and the AbortSignal of the task it runs in (aborted
 * when the task is cancelled). It may be async; when it throws or rejects,
 * the error goes to the loop's exception handler and the connection is
 * closed.
 */
export type ClientConnectedCallback = (
  reader: StreamReader,
  writer: StreamWriter,
  signal: AbortSignal,
) => unknown;

/** Options of {@linkcode StreamReaderProtocol}'s constructor. */
export interface StreamReaderProtocolOptions {
  /** Called for the connection once it is made (servers use it). */
  clientConnected?: ClientConnectedCallback | null;
  /** The loop to run `clientConnected` on: the running loop, else `getEventLoop()`. */
  loop?: AbstractEventLoop;
}

function ignore(): void {}

/**
 * Feeds a `StreamReader` from a transport (data, end of stream, the
 * connection's loss as an exception) and gives `StreamWriter.drain()` and
 * `waitClosed()` something to wait for. With `clientConnected`, it makes
 * the connection's `StreamWriter` and runs the callback in a task.
 *
 * @example
 * ```ts ignore
 * import { StreamReader, StreamReaderProtocol, StreamWriter } from "@aio/loop";
 * const reader = new StreamReader();
 * const protocol = new StreamReaderProtocol(reader);
 * const [transport] = await loop.createConnection(() => protocol, { host, port });
 * const writer = new StreamWriter(transport, protocol, { reader, loop });
 * ```
 */
export class StreamReaderProtocol extends FlowControlMixin {
  #reader: StreamReader | null;
  #clientConnected: ClientConnectedCallback | null;
  #loop: AbstractEventLoop | null;
  #transport: Transport | null = null;
  #writer: StreamWriter | null = null;
  #task: Task<unknown> | null = null;
  #closed = Promise.withResolvers<void>();
  #eofReceived = false;
  #closeOnEof = false;
  #overSsl = false;

  /** Makes the protocol for `streamReader` (or `null` for a write-only stream). */
  constructor(streamReader: StreamReader | null, options: StreamReaderProtocolOptions = {}) {
    super();
    if (options === null || typeof options !== "object") {
      throw new TypeError("StreamReaderProtocol: options must be an object");
    }
    const cb = options.clientConnected ?? null;
    if (cb !== null && typeof cb !== "function") {
      throw new TypeError("StreamReaderProtocol: clientConnected must be a function");
    }
    this.#reader = streamReader;
    this.#clientConnected = cb;
    this.#loop = options.loop ?? (cb !== null ? getEventLoop() : null);
    // waitClosed() may never be called: a rejection nobody awaits must not end the process.
    this.#closed.promise.catch(ignore);
  }

  /**
   * Gives the reader its transport; with a `clientConnected` callback, makes
   * the writer and starts the callback as a task.
   *
   * @example
   * ```ts ignore
   * protocol.connectionMade(transport);
   * ```
   */
  override connectionMade(transport: BaseTransport): void {
    const t = transport as Transport;
    this.#transport = t;
    this.#overSsl = t.getExtraInfo("sslObject") !== undefined;
    const reader = this.#reader;
    reader?.setTransport(t);
    const cb = this.#clientConnected;
    if (cb === null) return;
    const loop = this.#loop!;
    const writer = this.#writer = new StreamWriter(t, this, { reader, loop });
    const task = this.#task = loop.createTask((signal) => cb(reader!, writer, signal));
    task.addDoneCallback((done) => {
      if (done.cancelled()) {
        t.close();
        return;
      }
      const exc = done.exception();
      if (exc !== null && exc !== undefined) {
        loop.callExceptionHandler({
          message: "Unhandled exception in client_connected_cb",
          exception: exc,
          transport: t,
        });
        t.close();
      }
    });
  }

  /**
   * The connection goes on over `transport` (a TLS transport after
   * `StreamWriter.startTls()`; asyncio's `_replace_transport`).
   *
   * @example
   * ```ts ignore
   * protocol._replaceTransport(tlsTransport);
   * ```
   */
  _replaceTransport(transport: Transport): void {
    this.#transport = transport;
    this.#overSsl = transport.getExtraInfo("sslObject") !== undefined;
  }

  /**
   * Whether this protocol serves a server's connection (it has a
   * `clientConnected` callback): `StreamWriter.startTls()` then accepts.
   *
   * @example
   * ```ts ignore
   * console.log(protocol._isServerSide());
   * ```
   */
  _isServerSide(): boolean {
    return this.#clientConnected !== null;
  }

  /**
   * Ends the reader (`feedEof()` on a clean close, `setException(exc)`
   * otherwise), settles `waitClosed()`, and wakes waiting drains.
   *
   * @example
   * ```ts ignore
   * protocol.connectionLost(null);
   * ```
   */
  override connectionLost(exc: Error | null): void {
    const reader = this.#reader;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    if (exc === null) this.#closed.resolve();
    else this.#closed.reject(exc);
    super.connectionLost(exc);
    this.#reader = null;
    this.#writer = null;
    this.#task = null;
    this.#transport = null;
  }

  /**
   * Feeds `data` to the reader.
   *
   * @example
   * ```ts ignore
   * protocol.dataReceived(new Uint8Array([1, 2, 3]));
   * ```
   */
  override dataReceived(data: Uint8Array): void {
    this.#reader?.feedData(data);
  }

  /**
   * Feeds the end of stream to the reader and keeps the transport open for
   * writing (returns `true`), unless the writer's Web stream was closed
   * already: then both directions are done and the transport closes.
   *
   * @example
   * ```ts ignore
   * protocol.eofReceived(); // true
   * ```
   */
  override eofReceived(): boolean {
    this.#reader?.feedEof();
    this.#eofReceived = true;
    // TLS has no half-close: asyncio returns false there (the TLS layer would only warn).
    return !this.#closeOnEof && !this.#overSsl;
  }

  /**
   * What `StreamWriter.waitClosed()` awaits: resolves when the connection
   * is lost cleanly, rejects with the error otherwise.
   *
   * @example
   * ```ts ignore
   * await protocol._getCloseWaiter(writer);
   * ```
   * @internal
   */
  _getCloseWaiter(_writer: StreamWriter): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Our writing side is finished (the writer's Web stream closed with
   * `writeEof()`): close the transport once the peer's end of stream is in,
   * or now if it is. Returns whether it closed now.
   *
   * @example
   * ```ts ignore
   * protocol._closeAfterEof();
   * ```
   * @internal
   */
  _closeAfterEof(): boolean {
    if (this.#eofReceived) {
      this.#transport?.close();
      return true;
    }
    this.#closeOnEof = true;
    return false;
  }
}
