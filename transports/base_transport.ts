/**
 * The transport interfaces of asyncio (`asyncio.transports`), as abstract
 * classes: `BaseTransport`, `ReadTransport`, `WriteTransport`, `Transport`
 * (both, which `instanceof WriteTransport` also recognizes),
 * `DatagramTransport` and `SubprocessTransport`.
 *
 * @module
 */
import type { Address, Socket } from "../net/mod.ts";
import type { BaseProtocol } from "./protocol.ts";

/** The extra information transports may offer through `getExtraInfo()`. */
export interface TransportExtraInfo {
  /** The remote address (Deno-shaped). */
  peername: Address;
  /** The local address (Deno-shaped). */
  sockname: Address;
  /** The socket itself (asyncio gives a restricted `TransportSocket`; this is the `Socket`). */
  socket: Socket;
}

/** The write-buffer limits in bytes, as `getWriteBufferLimits()` returns them. */
export interface WriteBufferLimits {
  /** The low-water mark: writing resumes at or below it. */
  low: number;
  /** The high-water mark: writing pauses above it. */
  high: number;
}

/**
 * The argument of `setWriteBufferLimits()`: asyncio's
 * `set_write_buffer_limits(high=None, low=None)` as an options object.
 * Omitted: `high` is 64 KiB (or 4 × `low`), `low` is `high / 4`.
 */
export interface WriteBufferLimitsOptions {
  /** The high-water mark in bytes. */
  high?: number;
  /** The low-water mark in bytes (at most `high`). */
  low?: number;
}

/**
 * What every transport has (asyncio's `BaseTransport`).
 *
 * @example
 * ```ts
 * import { BaseTransport } from "./base_transport.ts";
 * import { BaseProtocol } from "./protocol.ts";
 * class Null extends BaseTransport {
 *   #closing = false;
 *   #protocol = new BaseProtocol();
 *   isClosing(): boolean {
 *     return this.#closing;
 *   }
 *   close(): void {
 *     this.#closing = true;
 *   }
 *   setProtocol(protocol: BaseProtocol): void {
 *     this.#protocol = protocol;
 *   }
 *   getProtocol(): BaseProtocol {
 *     return this.#protocol;
 *   }
 * }
 * console.log(new Null({ answer: 42 }).getExtraInfo("answer")); // 42
 * ```
 */
export abstract class BaseTransport {
  #extra: Map<string, unknown>;

  /** Makes a transport with the extra information `extra`. */
  constructor(extra?: Record<string, unknown>) {
    this.#extra = new Map(extra ? Object.entries(extra) : []);
  }

  /**
   * Extra information about the transport (`"peername"`, `"sockname"`,
   * `"socket"`, ...), or `defaultValue` when it has none by that name.
   *
   * @example
   * ```ts ignore
   * const peer = transport.getExtraInfo("peername");
   * ```
   */
  getExtraInfo<K extends keyof TransportExtraInfo>(
    name: K,
    defaultValue?: TransportExtraInfo[K],
  ): TransportExtraInfo[K] | undefined;
  /** Extra information by any name, or `defaultValue`. */
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this.#extra.has(name) ? this.#extra.get(name) : defaultValue;
  }

  /** Sets extra information (for subclasses). */
  protected _setExtraInfo(name: string, value: unknown): void {
    this.#extra.set(name, value);
  }

  /**
   * Whether the transport is closing or closed.
   *
   * @example
   * ```ts ignore
   * if (!transport.isClosing()) transport.write(data);
   * ```
   */
  abstract isClosing(): boolean;

  /**
   * Closes the transport: buffered data is still sent, then the protocol's
   * `connectionLost(null)` is called.
   *
   * @example
   * ```ts ignore
   * transport.close();
   * ```
   */
  abstract close(): void;

  /**
   * Replaces the protocol.
   *
   * @example
   * ```ts ignore
   * transport.setProtocol(new OtherProtocol());
   * ```
   */
  abstract setProtocol(protocol: BaseProtocol): void;

  /**
   * The current protocol.
   *
   * @example
   * ```ts ignore
   * const protocol = transport.getProtocol();
   * ```
   */
  abstract getProtocol(): BaseProtocol;
}

/**
 * A transport that reads (asyncio's `ReadTransport`).
 *
 * @example
 * ```ts ignore
 * if (transport.isReading()) transport.pauseReading();
 * ```
 */
export abstract class ReadTransport extends BaseTransport {
  /**
   * Whether the transport is receiving (not paused, not closing).
   *
   * @example
   * ```ts ignore
   * console.log(transport.isReading());
   * ```
   */
  abstract isReading(): boolean;

  /**
   * Stops calling the protocol's `dataReceived()` until `resumeReading()`.
   * Calling it while paused does nothing.
   *
   * @example
   * ```ts ignore
   * transport.pauseReading();
   * ```
   */
  abstract pauseReading(): void;

  /**
   * Starts receiving again. Calling it while reading does nothing.
   *
   * @example
   * ```ts ignore
   * transport.resumeReading();
   * ```
   */
  abstract resumeReading(): void;
}

/** What a transport that writes has: shared by `WriteTransport` and `Transport`. */
export interface WriteTransportMethods {
  /** Sets the write-buffer limits that drive `pauseWriting()`/`resumeWriting()`. */
  setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void;
  /** The bytes waiting in the write buffer. */
  getWriteBufferSize(): number;
  /** The write-buffer limits. */
  getWriteBufferLimits(): WriteBufferLimits;
  /** Sends `data`, buffering what cannot go out at once (never blocks). */
  write(data: Uint8Array): void;
  /** Sends several buffers, as one gathered write where possible. */
  writelines(list: Iterable<Uint8Array>): void;
  /** Closes the writing side once the buffer is sent (`shutdown(SHUT_WR)`). */
  writeEof(): void;
  /** Whether `writeEof()` is supported. */
  canWriteEof(): boolean;
  /** Closes at once, dropping buffered data; `connectionLost(null)` follows. */
  abort(): void;
}

/**
 * A transport that writes (asyncio's `WriteTransport`). A `Transport` is
 * also an `instanceof WriteTransport`.
 *
 * @example
 * ```ts ignore
 * transport.setWriteBufferLimits({ high: 1 << 20 });
 * transport.write(data);
 * ```
 */
export abstract class WriteTransport extends BaseTransport implements WriteTransportMethods {
  /** Recognizes `Transport`s too (JavaScript has single inheritance). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value) ||
      (this === WriteTransport && value instanceof Transport);
  }

  /**
   * Sets the high- and low-water marks (defaults 64 KiB and 16 KiB);
   * pauses the protocol at once if the buffer is already above the new
   * high mark. Throws `RangeError` unless `high >= low >= 0`.
   *
   * @example
   * ```ts ignore
   * transport.setWriteBufferLimits({ high: 256 * 1024, low: 64 * 1024 });
   * ```
   */
  abstract setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void;

  /**
   * The bytes waiting in the write buffer.
   *
   * @example
   * ```ts ignore
   * console.log(transport.getWriteBufferSize());
   * ```
   */
  abstract getWriteBufferSize(): number;

  /**
   * The write-buffer limits (asyncio returns the tuple `(low, high)`).
   *
   * @example
   * ```ts ignore
   * const { low, high } = transport.getWriteBufferLimits();
   * ```
   */
  abstract getWriteBufferLimits(): WriteBufferLimits;

  /**
   * Sends `data`; what the kernel does not take at once is copied into the
   * write buffer (the caller may reuse `data` afterwards).
   *
   * @example
   * ```ts ignore
   * transport.write(new TextEncoder().encode("hello"));
   * ```
   */
  abstract write(data: Uint8Array): void;

  /**
   * Sends the buffers of `list` in order, in one gathered write when possible.
   *
   * @example
   * ```ts ignore
   * transport.writelines([header, body]);
   * ```
   */
  abstract writelines(list: Iterable<Uint8Array>): void;

  /**
   * Closes the writing side after the buffered data is sent; reading goes on.
   *
   * @example
   * ```ts ignore
   * transport.writeEof();
   * ```
   */
  abstract writeEof(): void;

  /**
   * Whether `writeEof()` is supported.
   *
   * @example
   * ```ts ignore
   * if (transport.canWriteEof()) transport.writeEof();
   * ```
   */
  abstract canWriteEof(): boolean;

  /**
   * Closes at once, dropping buffered data.
   *
   * @example
   * ```ts ignore
   * transport.abort();
   * ```
   */
  abstract abort(): void;
}

/**
 * A bidirectional stream transport (asyncio's `Transport`): a
 * `ReadTransport` with every `WriteTransport` method;
 * `transport instanceof WriteTransport` holds.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await loop.createConnection(() => new MyProtocol(), {
 *   host: "127.0.0.1",
 *   port: 8080,
 * });
 * transport.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * ```
 */
export abstract class Transport extends ReadTransport implements WriteTransportMethods {
  /**
   * Sets the high- and low-water marks (see `WriteTransport`).
   *
   * @example
   * ```ts ignore
   * transport.setWriteBufferLimits({ high: 1 << 20 });
   * ```
   */
  abstract setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void;

  /**
   * The bytes waiting in the write buffer.
   *
   * @example
   * ```ts ignore
   * console.log(transport.getWriteBufferSize());
   * ```
   */
  abstract getWriteBufferSize(): number;

  /**
   * The write-buffer limits.
   *
   * @example
   * ```ts ignore
   * const { low, high } = transport.getWriteBufferLimits();
   * ```
   */
  abstract getWriteBufferLimits(): WriteBufferLimits;

  /**
   * Sends `data`, buffering (a copy of) what does not go out at once.
   *
   * @example
   * ```ts ignore
   * transport.write(data);
   * ```
   */
  abstract write(data: Uint8Array): void;

  /**
   * Sends several buffers in one gathered write where possible.
   *
   * @example
   * ```ts ignore
   * transport.writelines([header, body]);
   * ```
   */
  abstract writelines(list: Iterable<Uint8Array>): void;

  /**
   * Closes the writing side once the buffer is sent.
   *
   * @example
   * ```ts ignore
   * transport.writeEof();
   * ```
   */
  abstract writeEof(): void;

  /**
   * Whether `writeEof()` is supported.
   *
   * @example
   * ```ts ignore
   * console.log(transport.canWriteEof()); // true for TCP and unix sockets
   * ```
   */
  abstract canWriteEof(): boolean;

  /**
   * Closes at once, dropping buffered data.
   *
   * @example
   * ```ts ignore
   * transport.abort();
   * ```
   */
  abstract abort(): void;
}

/**
 * A datagram transport (asyncio's `DatagramTransport`).
 *
 * @example
 * ```ts ignore
 * transport.sendto(data, { transport: "udp", hostname: "127.0.0.1", port: 5353 });
 * ```
 */
export abstract class DatagramTransport extends BaseTransport {
  /**
   * Sends the datagram `data` to `addr`, or to the connected peer when
   * `addr` is omitted; buffers it when the socket is not writable.
   *
   * @example
   * ```ts ignore
   * transport.sendto(new TextEncoder().encode("ping"));
   * ```
   */
  abstract sendto(data: Uint8Array, addr?: Address): void;

  /**
   * Closes at once, dropping buffered datagrams.
   *
   * @example
   * ```ts ignore
   * transport.abort();
   * ```
   */
  abstract abort(): void;

  /**
   * The bytes of the datagrams waiting to be sent.
   *
   * @example
   * ```ts ignore
   * console.log(transport.getWriteBufferSize());
   * ```
   */
  abstract getWriteBufferSize(): number;

  /**
   * The high and low water marks of the send buffer, in bytes.
   *
   * @example
   * ```ts ignore
   * const { high, low } = transport.getWriteBufferLimits();
   * ```
   */
  abstract getWriteBufferLimits(): WriteBufferLimits;

  /**
   * Sets the water marks at which the protocol's `pauseWriting()` and
   * `resumeWriting()` are called.
   *
   * @example
   * ```ts ignore
   * transport.setWriteBufferLimits({ high: 64 * 1024 });
   * ```
   */
  abstract setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void;

  /**
   * Whether datagrams are being received (not paused).
   *
   * @example
   * ```ts ignore
   * console.log(transport.isReading());
   * ```
   */
  abstract isReading(): boolean;

  /**
   * Stops delivering datagrams until `resumeReading()`.
   *
   * @example
   * ```ts ignore
   * transport.pauseReading();
   * ```
   */
  abstract pauseReading(): void;

  /**
   * Delivers datagrams again after `pauseReading()`.
   *
   * @example
   * ```ts ignore
   * transport.resumeReading();
   * ```
   */
  abstract resumeReading(): void;
}

/**
 * A child-process transport (asyncio's `SubprocessTransport`).
 *
 * @example
 * ```ts ignore
 * console.log(transport.getPid(), transport.getReturncode());
 * ```
 */
export abstract class SubprocessTransport extends BaseTransport {
  /**
   * The child's process id.
   *
   * @example
   * ```ts ignore
   * console.log(transport.getPid());
   * ```
   */
  abstract getPid(): number;

  /**
   * The child's exit code, or `null` while it runs (a negative signal
   * number when a signal ended it, as asyncio).
   *
   * @example
   * ```ts ignore
   * console.log(transport.getReturncode());
   * ```
   */
  abstract getReturncode(): number | null;

  /**
   * The transport of the child's pipe `fd` (0, 1 or 2), or `null`.
   *
   * @example
   * ```ts ignore
   * const stdin = transport.getPipeTransport(0);
   * ```
   */
  abstract getPipeTransport(fd: number): BaseTransport | null;

  /**
   * Sends `signal` to the child.
   *
   * @example
   * ```ts ignore
   * transport.sendSignal("SIGUSR1");
   * ```
   */
  abstract sendSignal(signal: Deno.Signal): void;

  /**
   * Asks the child to stop (`SIGTERM`).
   *
   * @example
   * ```ts ignore
   * transport.terminate();
   * ```
   */
  abstract terminate(): void;

  /**
   * Kills the child (`SIGKILL`).
   *
   * @example
   * ```ts ignore
   * transport.kill();
   * ```
   */
  abstract kill(): void;
}
