/**
 * The transport interfaces of asyncio (`asyncio.transports`), as abstract
 * classes: `BaseTransport`, `ReadTransport`, `WriteTransport`, `Transport`
 * (both: it extends `WriteTransport`, and `instanceof ReadTransport`
 * recognizes it), `DatagramTransport` and `SubprocessTransport`.
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
 * What every transport has (asyncio's `BaseTransport`): its extra
 * information, its protocol, and closing. The other transport classes
 * extend it; their examples show real transports.
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
 * const transport = new Null({ answer: 42 });
 * console.log(transport.getExtraInfo("answer"), transport.getExtraInfo("peername", null)); // 42 null
 * transport.setProtocol(new BaseProtocol());
 * transport.close();
 * console.log(transport.isClosing()); // true
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

  /**
   * Sets extra information (for subclasses).
   * @internal
   */
  protected _setExtraInfo(name: string, value: unknown): void {
    this.#extra.set(name, value);
  }

  /** Whether the transport is closing or closed. */
  abstract isClosing(): boolean;

  /**
   * Closes the transport: buffered data is still sent, then the protocol's
   * `connectionLost(null)` is called.
   */
  abstract close(): void;

  /** Replaces the protocol. */
  abstract setProtocol(protocol: BaseProtocol): void;

  /** The current protocol. */
  abstract getProtocol(): BaseProtocol;
}

/**
 * A transport that reads (asyncio's `ReadTransport`). A `Transport` is
 * also an `instanceof ReadTransport`.
 *
 * @example
 * ```ts
 * import { type NetAddress, Protocol, ReadTransport, SelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * await loop.runUntilComplete(async () => {
 *   await using server = await loop.createServer(() => new Protocol(), { host: "127.0.0.1", port: 0 });
 *   const { port } = server.sockets[0].getsockname() as NetAddress;
 *   const [transport] = await loop.createConnection(() => new Protocol(), { host: "127.0.0.1", port });
 *   console.log(transport instanceof ReadTransport); // true
 *   transport.pauseReading(); // no dataReceived() until resumeReading()
 *   console.log(transport.isReading()); // false
 *   transport.resumeReading();
 *   console.log(transport.isReading()); // true
 *   transport.close();
 *   console.log(transport.isReading()); // false: closing
 * });
 * ```
 */
export abstract class ReadTransport extends BaseTransport {
  /** Recognizes `Transport`s too (JavaScript has single inheritance). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value) ||
      (this === ReadTransport && value instanceof Transport);
  }

  /** Whether the transport is receiving (not paused, not closing). */
  abstract isReading(): boolean;

  /**
   * Stops calling the protocol's `dataReceived()` until `resumeReading()`.
   * Calling it while paused does nothing.
   */
  abstract pauseReading(): void;

  /** Starts receiving again. Calling it while reading does nothing. */
  abstract resumeReading(): void;
}

/**
 * A transport that writes (asyncio's `WriteTransport`); `Transport`
 * extends it.
 *
 * @example
 * ```ts
 * import { type NetAddress, Protocol, SelectorEventLoop, WriteTransport } from "@aio/loop";
 * class Collect extends Protocol {
 *   text = "";
 *   done = Promise.withResolvers<string>();
 *   override dataReceived(data: Uint8Array): void {
 *     this.text += new TextDecoder().decode(data);
 *   }
 *   override eofReceived(): void {
 *     this.done.resolve(this.text);
 *   }
 * }
 * using loop = new SelectorEventLoop();
 * const peer = new Collect();
 * const text = await loop.runUntilComplete(async () => {
 *   await using server = await loop.createServer(() => peer, { host: "127.0.0.1", port: 0 });
 *   const { port } = server.sockets[0].getsockname() as NetAddress;
 *   const [transport] = await loop.createConnection(() => new Protocol(), { host: "127.0.0.1", port });
 *   console.log(transport instanceof WriteTransport); // true
 *   transport.setWriteBufferLimits({ high: 1 << 20 }); // pauseWriting() above 1 MiB
 *   console.log(transport.getWriteBufferLimits()); // { low: 262144, high: 1048576 }
 *   const enc = new TextEncoder();
 *   transport.write(enc.encode("hello "));
 *   transport.writelines([enc.encode("wor"), enc.encode("ld")]); // one gathered write
 *   console.log(transport.getWriteBufferSize()); // 0: the kernel took it all
 *   if (transport.canWriteEof()) transport.writeEof(); // the peer reads end of stream
 *   const text = await peer.done.promise;
 *   transport.abort(); // at once, dropping what is buffered (close() would send it first)
 *   return text;
 * });
 * console.log(text); // hello world
 * ```
 */
export abstract class WriteTransport extends BaseTransport {
  /**
   * Sets the high- and low-water marks (defaults 64 KiB and 16 KiB);
   * pauses the protocol at once if the buffer is already above the new
   * high mark. Throws `RangeError` unless `high >= low >= 0`.
   */
  abstract setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void;

  /** The bytes waiting in the write buffer. */
  abstract getWriteBufferSize(): number;

  /** The write-buffer limits (asyncio returns the tuple `(low, high)`). */
  abstract getWriteBufferLimits(): WriteBufferLimits;

  /**
   * Sends `data`; what the kernel does not take at once is copied into the
   * write buffer (the caller may reuse `data` afterwards). Never blocks.
   */
  abstract write(data: Uint8Array): void;

  /** Sends the buffers of `list` in order, in one gathered write when possible. */
  abstract writelines(list: Iterable<Uint8Array>): void;

  /**
   * Closes the writing side after the buffered data is sent (a socket's
   * `shutdown(SHUT_WR)`); reading goes on.
   */
  abstract writeEof(): void;

  /** Whether `writeEof()` is supported (true for TCP and unix sockets). */
  abstract canWriteEof(): boolean;

  /** Closes at once, dropping buffered data; `connectionLost(null)` follows. */
  abstract abort(): void;
}

/**
 * A bidirectional stream transport (asyncio's `Transport`): a
 * `WriteTransport` with `ReadTransport`'s methods (see their examples);
 * `transport instanceof ReadTransport` holds.
 *
 * @example
 * ```ts
 * import { type NetAddress, Protocol, SelectorEventLoop, type Transport } from "@aio/loop";
 * class Echo extends Protocol {
 *   #transport?: Transport;
 *   override connectionMade(transport: Transport): void {
 *     this.#transport = transport;
 *   }
 *   override dataReceived(data: Uint8Array): void {
 *     this.#transport!.write(data);
 *   }
 * }
 * class Client extends Protocol {
 *   reply = Promise.withResolvers<string>();
 *   override dataReceived(data: Uint8Array): void {
 *     this.reply.resolve(new TextDecoder().decode(data));
 *   }
 * }
 * using loop = new SelectorEventLoop();
 * const reply = await loop.runUntilComplete(async () => {
 *   await using server = await loop.createServer(() => new Echo(), { host: "127.0.0.1", port: 0 });
 *   const { port } = server.sockets[0].getsockname() as NetAddress;
 *   const [transport, client] = await loop.createConnection(() => new Client(), {
 *     host: "127.0.0.1",
 *     port,
 *   });
 *   transport.write(new TextEncoder().encode("ping"));
 *   const reply = await client.reply.promise;
 *   transport.close();
 *   return reply;
 * });
 * console.log(reply); // ping
 * ```
 */
export abstract class Transport extends WriteTransport {
  /** Whether the transport is receiving: see {@linkcode ReadTransport.isReading}. */
  abstract isReading(): boolean;

  /** Stops reading until `resumeReading()`: see {@linkcode ReadTransport.pauseReading}. */
  abstract pauseReading(): void;

  /** Starts receiving again: see {@linkcode ReadTransport.resumeReading}. */
  abstract resumeReading(): void;
}

/**
 * A datagram transport (asyncio's `DatagramTransport`), with the
 * write-buffer limits and the read control of asyncio's selector
 * transport.
 *
 * @example
 * ```ts
 * import { DatagramProtocol, SelectorEventLoop } from "@aio/loop";
 * class Inbox extends DatagramProtocol {
 *   got = Promise.withResolvers<string>();
 *   override datagramReceived(data: Uint8Array): void {
 *     this.got.resolve(new TextDecoder().decode(data));
 *   }
 * }
 * using loop = new SelectorEventLoop();
 * const text = await loop.runUntilComplete(async () => {
 *   const local = { transport: "udp", hostname: "127.0.0.1", port: 0 } as const;
 *   const [server, inbox] = await loop.createDatagramEndpoint(() => new Inbox(), { localAddr: local });
 *   const [client] = await loop.createDatagramEndpoint(() => new DatagramProtocol(), {
 *     localAddr: local,
 *   });
 *   client.setWriteBufferLimits({ high: 256 * 1024 });
 *   console.log(client.getWriteBufferLimits()); // { low: 65536, high: 262144 }
 *   server.pauseReading(); // datagrams wait in the kernel meanwhile
 *   console.log(server.isReading()); // false
 *   client.sendto(new TextEncoder().encode("ping"), server.getExtraInfo("sockname"));
 *   console.log(client.getWriteBufferSize()); // 0: sent at once
 *   server.resumeReading();
 *   const text = await inbox.got.promise;
 *   client.abort(); // at once, dropping what is buffered (close() would send it first)
 *   server.close();
 *   return text;
 * });
 * console.log(text); // ping
 * ```
 */
export abstract class DatagramTransport extends BaseTransport {
  /**
   * Sends the datagram `data` to `addr`, or to the connected peer when
   * `addr` is omitted; buffers it when the socket is not writable.
   */
  abstract sendto(data: Uint8Array, addr?: Address): void;

  /** Closes at once, dropping buffered datagrams. */
  abstract abort(): void;

  /** The bytes of the datagrams waiting to be sent. */
  abstract getWriteBufferSize(): number;

  /** The high and low water marks of the send buffer, in bytes. */
  abstract getWriteBufferLimits(): WriteBufferLimits;

  /**
   * Sets the water marks at which the protocol's `pauseWriting()` and
   * `resumeWriting()` are called.
   */
  abstract setWriteBufferLimits(limits?: WriteBufferLimitsOptions): void;

  /** Whether datagrams are being received (not paused). */
  abstract isReading(): boolean;

  /** Stops delivering datagrams until `resumeReading()`. */
  abstract pauseReading(): void;

  /** Delivers datagrams again after `pauseReading()`. */
  abstract resumeReading(): void;
}

/**
 * A child-process transport (asyncio's `SubprocessTransport`).
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, SubprocessProtocol } from "@aio/loop";
 * class Exit extends SubprocessProtocol {
 *   done = Promise.withResolvers<void>();
 *   override processExited(): void {
 *     this.done.resolve();
 *   }
 * }
 * using loop = new SelectorEventLoop();
 * if (Deno.build.os !== "windows") {
 *   const code = await loop.runUntilComplete(async () => {
 *     const [transport, protocol] = await loop.subprocessExec(() => new Exit(), ["sleep", "10"]);
 *     console.log(transport.getPid() > 0, transport.getReturncode()); // true null
 *     console.log(transport.getPipeTransport(0) !== null); // true: the child's stdin is a pipe
 *     transport.terminate(); // SIGTERM; kill() sends SIGKILL, sendSignal() any signal
 *     await protocol.done.promise;
 *     transport.close();
 *     return transport.getReturncode();
 *   });
 *   console.log(code); // -15: SIGTERM ended it
 * }
 * ```
 */
export abstract class SubprocessTransport extends BaseTransport {
  /** The child's process id. */
  abstract getPid(): number;

  /**
   * The child's exit code, or `null` while it runs (a negative signal
   * number when a signal ended it, as asyncio).
   */
  abstract getReturncode(): number | null;

  /** The transport of the child's pipe `fd` (0, 1 or 2), or `null`. */
  abstract getPipeTransport(fd: number): BaseTransport | null;

  /** Sends `signal` to the child. */
  abstract sendSignal(signal: Deno.Signal): void;

  /** Asks the child to stop (`SIGTERM`). */
  abstract terminate(): void;

  /** Kills the child (`SIGKILL`). */
  abstract kill(): void;
}
