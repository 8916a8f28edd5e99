/**
 * `StreamWriter` (asyncio's `asyncio.StreamWriter`): the writing half of a
 * stream connection, with `drain()` for backpressure, and a Web
 * `WritableStream` view.
 *
 * @module
 */
import type { AbstractEventLoop } from "../loop/abstract_event_loop.ts";
import type { SSLOption, SSLTimeoutOptions } from "../loop/connection_options.ts";
import type { Transport, TransportExtraInfo } from "../transports/base_transport.ts";
import { getEventLoop } from "../policy.ts";
import type { DrainOptions } from "./flow_control_mixin.ts";
import type { StreamReader } from "./stream_reader.ts";

/** Options of {@linkcode StreamWriter.startTls}. */
export interface StreamStartTlsOptions extends SSLTimeoutOptions {
  /** The host name for SNI and the certificate check (clients). */
  serverHostname?: string;
}

/** What a `StreamWriter` needs of its protocol (a `StreamReaderProtocol` has it). */
export interface StreamWriterProtocol {
  /** The connection now goes through `transport` (after `startTls()`). */
  _replaceTransport?(transport: Transport): void;
  /** Whether this is a server's connection (it has a `clientConnected` callback). */
  _isServerSide?(): boolean;
  /** Resolves when writing is not paused; rejects once the connection is lost. */
  _drainHelper(options?: DrainOptions): Promise<void>;
  /** Settles when the connection is lost. */
  _getCloseWaiter(writer: StreamWriter): Promise<void>;
  /** The Web stream finished with `writeEof()`: close once the peer's EOF is in. */
  _closeAfterEof?(): boolean;
}

/** Options of {@linkcode StreamWriter}'s constructor. */
export interface StreamWriterOptions {
  /** The connection's reader: `drain()` throws the reader's exception first. */
  reader?: StreamReader | null;
  /** The loop (for `drain()`'s one-iteration yield): the running loop, else `getEventLoop()`. */
  loop?: AbstractEventLoop;
}

/**
 * Writes to a transport. `write()` never blocks: the transport buffers what
 * the socket does not take at once, and `await drain()` waits while that
 * buffer is above its high-water mark, so a loop of `write(); await
 * drain()` keeps memory bounded.
 *
 * `writable` is the same as a Web `WritableStream` whose `write()` waits for
 * `drain()`.
 *
 * @example
 * ```ts ignore
 * import { openConnection } from "@aio/loop";
 * const [reader, writer] = await openConnection({ host: "127.0.0.1", port: 8888 });
 * writer.write(new TextEncoder().encode("ping\n"));
 * await writer.drain();
 * console.log(await reader.readline());
 * writer.close();
 * await writer.waitClosed();
 * ```
 */
export class StreamWriter implements AsyncDisposable {
  #transport: Transport;
  #protocol: StreamWriterProtocol;
  #reader: StreamReader | null;
  #loop: AbstractEventLoop;
  #writable: WritableStream<Uint8Array> | null = null;

  /** Wraps `transport`, whose protocol is `protocol`. */
  constructor(
    transport: Transport,
    protocol: StreamWriterProtocol,
    options: StreamWriterOptions = {},
  ) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("StreamWriter: options must be an object");
    }
    this.#transport = transport;
    this.#protocol = protocol;
    this.#reader = options.reader ?? null;
    this.#loop = options.loop ?? getEventLoop();
  }

  /**
   * The transport.
   *
   * @example
   * ```ts ignore
   * console.log(writer.transport.getWriteBufferSize());
   * ```
   */
  get transport(): Transport {
    return this.#transport;
  }

  /**
   * Writes `data` (sent at once as far as the socket takes it, the rest
   * buffered; `data` may be reused afterwards). Follow with `await drain()`.
   *
   * @example
   * ```ts ignore
   * writer.write(new TextEncoder().encode("hello\n"));
   * await writer.drain();
   * ```
   */
  write(data: Uint8Array): void {
    this.#transport.write(data);
  }

  /**
   * Writes each array of `data`, in order (one gathered send when possible).
   *
   * @example
   * ```ts ignore
   * writer.writelines([header, body]);
   * await writer.drain();
   * ```
   */
  writelines(data: Iterable<Uint8Array>): void {
    this.#transport.writelines(data);
  }

  /**
   * Closes the writing side once the buffer is sent (the peer reads the
   * end of stream); reading goes on.
   *
   * @example
   * ```ts ignore
   * writer.writeEof();
   * ```
   */
  writeEof(): void {
    this.#transport.writeEof();
  }

  /**
   * Whether `writeEof()` is supported (it is for sockets).
   *
   * @example
   * ```ts ignore
   * if (writer.canWriteEof()) writer.writeEof();
   * ```
   */
  canWriteEof(): boolean {
    return this.#transport.canWriteEof();
  }

  /**
   * Closes the connection once the buffer is sent. `await waitClosed()`
   * for the end.
   *
   * @example
   * ```ts ignore
   * writer.close();
   * await writer.waitClosed();
   * ```
   */
  close(): void {
    this.#transport.close();
  }

  /**
   * Whether the transport is closing or closed.
   *
   * @example
   * ```ts ignore
   * if (!writer.isClosing()) writer.write(data);
   * ```
   */
  isClosing(): boolean {
    return this.#transport.isClosing();
  }

  /**
   * Resolves once the connection is closed; rejects with the error that
   * ended it, if one did.
   *
   * @example
   * ```ts ignore
   * writer.close();
   * await writer.waitClosed();
   * ```
   */
  waitClosed(): Promise<void> {
    return this.#protocol._getCloseWaiter(this);
  }

  /**
   * The transport's extra information (`"peername"`, `"sockname"`,
   * `"socket"`, ...), or `defaultValue`.
   *
   * @example
   * ```ts ignore
   * console.log(writer.getExtraInfo("peername"));
   * ```
   */
  getExtraInfo<K extends keyof TransportExtraInfo>(
    name: K,
    defaultValue?: TransportExtraInfo[K],
  ): TransportExtraInfo[K] | undefined;
  /** Extra information by any name, or `defaultValue`. */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this.#transport.getExtraInfo(name, defaultValue);
  }

  /**
   * Upgrades the connection to TLS (asyncio's `StreamWriter.start_tls()`):
   * drains, runs the handshake (as the server on a `startServer()`
   * connection, else as the client), then reads and writes go through TLS.
   *
   * @example STARTTLS from a client
   * ```ts ignore
   * writer.write(new TextEncoder().encode("STARTTLS\r\n"));
   * await reader.readline(); // the server agreed
   * await writer.startTls({ caCerts: [ca] }, { serverHostname: "mail.example" });
   * ```
   */
  async startTls(ssl: SSLOption, options: StreamStartTlsOptions = {}): Promise<void> {
    if (options === null || typeof options !== "object") {
      throw new TypeError("StreamWriter.startTls(): options must be an object");
    }
    const protocol = this.#protocol;
    const serverSide = protocol._isServerSide?.() ?? false;
    await this.drain();
    const transport = await this.#loop.startTls(
      this.#transport,
      protocol as unknown as Parameters<AbstractEventLoop["startTls"]>[1],
      ssl,
      { ...options, serverSide },
    );
    this.#transport = transport;
    protocol._replaceTransport?.(transport);
  }

  /**
   * Waits until it is fine to write again: resolves at once unless the
   * transport's buffer is above its high-water mark, then when it drained
   * to the low-water mark. Rejects with the reader's exception (such as
   * `ConnectionReset`) if the connection failed, or with
   * `ConnectionReset("Connection lost")` once it is closed.
   *
   * @example
   * ```ts ignore
   * for (const chunk of chunks) {
   *   writer.write(chunk);
   *   await writer.drain();
   * }
   * ```
   */
  drain(options?: DrainOptions): Promise<void> {
    const exc = this.#reader?.exception() ?? null;
    if (exc !== null) return Promise.reject(exc);
    if (this.#transport.isClosing()) return this.#drainClosing(options);
    return this.#protocol._drainHelper(options);
  }

  async #drainClosing(options?: DrainOptions): Promise<void> {
    // Give connectionLost() one loop iteration to run, so a loop of write() + drain() on a
    // closing connection sees the loss (asyncio's sleep(0)).
    await new Promise<void>((resolve) => this.#loop.callSoon(resolve));
    await this.#protocol._drainHelper(options);
  }

  /**
   * The writer as a Web `WritableStream` (made once, on first use). Its
   * `write()` writes and waits for `drain()`, so the transport's
   * high-water mark is the stream's backpressure. `close()` sends the end
   * of stream with `writeEof()` (reading goes on; the connection closes
   * once the peer's end of stream arrived too), or, where that is not
   * possible, closes and waits for the connection's end. `abort()` aborts
   * the transport.
   *
   * @example
   * ```ts ignore
   * await ReadableStream.from([new TextEncoder().encode("hi\n")]).pipeTo(writer.writable);
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.#transport.write(chunk);
        return this.drain();
      },
      close: () => this.#closeWritable(),
      abort: () => this.#transport.abort(),
    });
  }

  async #closeWritable(): Promise<void> {
    const t = this.#transport;
    if (t.isClosing()) return await this.waitClosed();
    if (t.canWriteEof()) {
      t.writeEof();
      if (this.#protocol._closeAfterEof?.() !== true) return;
    } else {
      t.close();
    }
    await this.waitClosed();
  }

  /**
   * Closes and waits for the end (for `await using`); errors of the
   * connection are not thrown here.
   *
   * @example
   * ```ts ignore
   * await using writer = (await openConnection({ host, port }))[1];
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.waitClosed().catch(() => {});
  }

  /**
   * A short description with the transport.
   *
   * @example
   * ```ts ignore
   * console.log(String(writer)); // "<StreamWriter transport=<SelectorSocketTransport fd=7 ...>>"
   * ```
   */
  toString(): string {
    const info = [`transport=${this.#transport}`];
    if (this.#reader !== null) info.push(`reader=${this.#reader}`);
    return `<StreamWriter ${info.join(" ")}>`;
  }
}
