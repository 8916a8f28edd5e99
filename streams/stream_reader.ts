/**
 * `StreamReader` (asyncio's `asyncio.StreamReader`): the reading half of a
 * stream connection, fed by a protocol, read with `read`, `readline`,
 * `readexactly` and `readuntil`, or as a Web `ReadableStream`.
 *
 * @module
 */
import { IncompleteReadError, LimitOverrunError } from "../loop/errors.ts";
import { cancelledError, checkSignal } from "../loop/_signal.ts";
import { describe } from "../ffi/os_error.ts";
import { ReadBuffer } from "./_read_buffer.ts";

/**
 * The default buffer limit of streams: 64 KiB (asyncio's `_DEFAULT_LIMIT`).
 * A reader pauses its transport once it buffers more than twice the limit.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMIT } from "@aio/loop";
 * console.log(DEFAULT_LIMIT); // 65536
 * ```
 */
export const DEFAULT_LIMIT = 64 * 1024;

/** Options of {@linkcode StreamReader}'s constructor. */
export interface StreamReaderOptions {
  /**
   * The longest line (or `readuntil` chunk) accepted, in bytes; the reader
   * pauses its transport above twice this. Default {@linkcode DEFAULT_LIMIT}.
   */
  limit?: number;
}

/** Options of the reading methods. */
export interface ReadOptions {
  /** Aborting it rejects a pending read with `CancelledError`; buffered data stays. */
  signal?: AbortSignal;
}

/** A separator for `readuntil`: bytes, or a string (UTF-8 encoded). */
export type Separator = Uint8Array | string;

/** What a reader needs of its transport: pausing and resuming reads. */
export interface ReaderTransport {
  /** Stops reading from the socket. */
  pauseReading(): void;
  /** Reads from the socket again. */
  resumeReading(): void;
  /** Closes the connection (used when the Web stream is cancelled). */
  close(): void;
}

const EMPTY = new Uint8Array(0);

// While a read(-1) waits, a transport that reads into the reader's buffer (`_getBuffer()`)
// fills one resizable ArrayBuffer, grown in place: the result is then that memory, with no
// join and no copy per read (each fresh page costs a fault: touching it once, not three times,
// is most of the gain). Each read gets READ_SPACE bytes of room. GROW_MAX of address space is
// reserved up front (committed only as it grows); a longer stream goes on in a new buffer and
// the result is joined once. A result of at most COMPACT_MAX bytes is copied out, so small
// results don't keep a reservation alive (address space is finite: ~128 TiB).
const READ_SPACE = 256 * 1024;
const GROW_MAX = 256 * 1024 * 1024;
const COMPACT_MAX = 1024 * 1024;
const GROW_STEP = 4 * 1024 * 1024;
const NEWLINE = new Uint8Array([10]);
const encoder = new TextEncoder();

function toSeparator(sep: unknown): Uint8Array {
  if (typeof sep === "string") return encoder.encode(sep);
  if (sep instanceof Uint8Array) return sep;
  throw new TypeError(
    `readuntil(): a separator must be a Uint8Array or a string, got ${describe(sep)}`,
  );
}

/**
 * asyncio's `StreamReader`: a buffer a protocol feeds (`feedData`,
 * `feedEof`, `setException`) and coroutines read from. It pauses its
 * transport when more than `2 * limit` bytes are buffered and resumes it
 * once a read brings the buffer to `limit` or below, or a read has to wait.
 *
 * Only one read may wait for data at a time (asyncio raises the same
 * error). Every read takes `{ signal }`: aborting it rejects the read with
 * `CancelledError` and leaves the buffer as it was.
 *
 * `readable` is the same data as a Web `ReadableStream` (a byte stream:
 * BYOB readers work), pulled on demand, so a slow consumer stops the
 * transport just as a slow `read()` caller does.
 *
 * @example
 * ```ts
 * import { StreamReader } from "@aio/loop";
 * const reader = new StreamReader();
 * reader.feedData(new TextEncoder().encode("hello\nworld"));
 * reader.feedEof();
 * const line = await reader.readline();
 * console.log(new TextDecoder().decode(line)); // "hello\n"
 * console.log(new TextDecoder().decode(await reader.read())); // "world"
 * console.log(reader.atEof()); // true
 * ```
 */
export class StreamReader implements AsyncIterable<Uint8Array> {
  #limit: number;
  #buf = new ReadBuffer();
  #eof = false;
  #waiter: PromiseWithResolvers<void> | null = null;
  #exception: Error | null = null;
  #transport: ReaderTransport | null = null;
  #paused = false;
  // A read(-1) waits for the end: data neither wakes it nor pauses the transport meanwhile.
  #readAll = false;
  #grow: ArrayBuffer | null = null; // the resizable buffer _getBuffer() fills, see READ_SPACE
  #growUsed = 0;
  #noGrow = false; // making one failed (no address space): don't try again
  #readable: ReadableStream<Uint8Array> | null = null;

  /** Makes an empty reader; `limit` must be positive. */
  constructor(options: StreamReaderOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("StreamReader: options must be an object");
    }
    const { limit = DEFAULT_LIMIT } = options;
    if (typeof limit !== "number" || Number.isNaN(limit)) {
      throw new TypeError(`StreamReader: limit must be a number, got ${typeof limit}`);
    }
    if (limit <= 0) throw new RangeError("Limit cannot be <= 0");
    this.#limit = limit;
  }

  /**
   * The buffer limit in bytes.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * console.log(new StreamReader({ limit: 1024 }).limit); // 1024
   * ```
   */
  get limit(): number {
    return this.#limit;
  }

  /**
   * The exception set with `setException()`, or `null`.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * console.log(new StreamReader().exception()); // null
   * ```
   */
  exception(): Error | null {
    return this.#exception;
  }

  /**
   * Makes reads fail with `exc`: a waiting read rejects at once, later
   * reads throw it before looking at the buffer.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.setException(new Deno.errors.ConnectionReset("reset"));
   * await reader.read(10).catch((e) => console.log(e.name)); // ConnectionReset
   * ```
   */
  setException(exc: Error): void {
    this.#exception = exc;
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.reject(exc);
    }
  }

  /**
   * Sets the transport to pause and resume (a protocol calls it once).
   *
   * @example
   * ```ts ignore
   * reader.setTransport(transport);
   * ```
   */
  setTransport(transport: ReaderTransport): void {
    if (this.#transport !== null) throw new Error("StreamReader: the transport is already set");
    this.#transport = transport;
  }

  /**
   * Marks the end of the stream: reads return what is left, then nothing.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedEof();
   * console.log((await reader.read()).byteLength); // 0
   * ```
   */
  feedEof(): void {
    this.#eof = true;
    this.#wakeup();
  }

  /**
   * Whether the stream ended and everything was read.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new Uint8Array([1]));
   * reader.feedEof();
   * console.log(reader.atEof()); // false: one byte is left
   * ```
   */
  atEof(): boolean {
    return this.#eof && this.#buf.length === 0;
  }

  /**
   * Adds bytes to the buffer and wakes a waiting read. `data` is kept, not
   * copied (a transport hands over a fresh array each time): do not change
   * it afterwards. Throws after `feedEof()`.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new Uint8Array([1, 2, 3]));
   * console.log(await reader.read(2)); // Uint8Array(2) [ 1, 2 ]
   * ```
   */
  feedData(data: Uint8Array): void {
    if (this.#eof) throw new Error("feedData after feedEof");
    if (!(data instanceof Uint8Array)) {
      throw new TypeError("feedData(): data must be a Uint8Array");
    }
    if (data.byteLength === 0) return;
    this.#push(data);
  }

  #push(data: Uint8Array): void {
    this.#buf.push(data);
    if (this.#readAll) return;
    this.#wakeup();
    this.#maybePauseTransport();
  }

  #maybePauseTransport(): void {
    const t = this.#transport;
    if (t !== null && !this.#paused && this.#buf.length > 2 * this.#limit) {
      try {
        t.pauseReading();
        this.#paused = true;
      } catch (e) {
        // A transport that cannot pause (asyncio: NotImplementedError) is left alone from now on.
        if (!(e instanceof Deno.errors.NotSupported)) throw e;
        this.#transport = null;
      }
    }
  }

  /**
   * Room for the transport to read into directly, or `null` (then it
   * calls `feedData()`): offered only while a `read()` to the end of the
   * stream waits, so that the bytes land in one growing buffer which
   * becomes the result as is. Internal: the subprocess protocol's hook.
   *
   * @example
   * ```ts ignore
   * const room = reader._getBuffer();
   * if (room !== null) reader._bufferUpdated(readFd(fd, room));
   * ```
   * @internal
   */
  _getBuffer(): Uint8Array | null {
    if (!this.#readAll || this.#eof || this.#noGrow) return null;
    let g = this.#grow;
    const end = this.#growUsed + READ_SPACE;
    try {
      if (g === null || end > g.maxByteLength) {
        g = this.#grow = new ArrayBuffer(READ_SPACE, { maxByteLength: GROW_MAX });
        this.#growUsed = 0;
      } else if (end > g.byteLength) {
        // Doubling up to GROW_STEP, then by GROW_STEP: few resizes, little committed unused.
        const len = g.byteLength;
        g.resize(Math.min(g.maxByteLength, Math.max(end, len + Math.min(len, GROW_STEP))));
      }
    } catch {
      // No address space or memory for it (ulimit -v, say): the transport's copies do.
      this.#grow = null;
      this.#noGrow = true;
      return null;
    }
    return new Uint8Array(g, this.#growUsed, READ_SPACE);
  }

  /**
   * Takes the `n` bytes the transport read into `_getBuffer()`'s room.
   *
   * @example
   * ```ts ignore
   * reader._bufferUpdated(n);
   * ```
   * @internal
   */
  _bufferUpdated(n: number): void {
    if (n <= 0) return;
    const chunk = new Uint8Array(this.#grow!, this.#growUsed, n);
    this.#growUsed += n;
    this.#push(chunk);
  }

  #wakeup(): void {
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.resolve();
    }
  }

  #maybeResumeTransport(): void {
    if (this.#paused && this.#buf.length <= this.#limit) {
      this.#paused = false;
      this.#transport!.resumeReading();
    }
  }

  // asyncio's _wait_for_data: resolves once data, EOF or an exception arrives.
  #waitForData(fn: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.#waiter !== null) {
      throw new Error(
        `${fn}() called while another coroutine is already waiting for incoming data`,
      );
    }
    if (this.#eof) throw new Error(`${fn}(): waiting for data after EOF`);
    if (signal?.aborted) return Promise.reject(cancelledError(signal, `${fn}()`));
    // The buffer may be full (paused) while this read needs more than it holds.
    if (this.#paused) {
      this.#paused = false;
      this.#transport!.resumeReading();
    }
    const w = this.#waiter = Promise.withResolvers<void>();
    if (signal === undefined) return w.promise;
    const onAbort = (): void => {
      if (this.#waiter === w) this.#waiter = null;
      w.reject(cancelledError(signal, `${fn}()`));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const off = (): void => signal.removeEventListener("abort", onAbort);
    w.promise.then(off, off);
    return w.promise;
  }

  /**
   * Reads up to `n` bytes: at least one unless the stream ended (then an
   * empty array). `n` negative (the default) reads until the end of the
   * stream; `n = 0` returns an empty array at once. Reading to the end
   * holds the whole stream in memory, as asyncio does, so the transport is
   * not paused meanwhile; a transport that reads into the reader's buffer
   * (a subprocess pipe) then fills one growing buffer, and a result of
   * more than 1 MiB is a view of it (its `buffer` is longer, and
   * resizable).
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new Uint8Array([1, 2, 3]));
   * reader.feedEof();
   * console.log(await reader.read(2), await reader.read()); // [1, 2] [3]
   * ```
   */
  async read(n = -1, options?: ReadOptions): Promise<Uint8Array> {
    if (typeof n !== "number" || !Number.isInteger(n)) {
      throw new TypeError(`read(): n must be an integer, got ${describe(n)}`);
    }
    const signal = options?.signal;
    checkSignal(signal, "read");
    if (this.#exception !== null) throw this.#exception;
    if (n === 0) return EMPTY;
    if (n < 0) {
      // Keep everything in the buffer until the end, so a cancelled read loses nothing.
      if (!this.#eof) {
        this.#readAll = true;
        try {
          while (!this.#eof) await this.#waitForData("read", signal); // resumes a paused transport
        } finally {
          this.#readAll = false;
          if (!this.#eof) this.#maybePauseTransport(); // cancelled: the usual limits again
        }
      }
      let all = this.#buf.takeAll();
      if (this.#grow !== null) {
        if (all.buffer === this.#grow && all.byteLength <= COMPACT_MAX) all = all.slice();
        this.#grow = null; // nothing more can come (not shrunk: V8 would zero-fill the rest)
      }
      this.#maybeResumeTransport();
      return all;
    }
    if (this.#buf.length === 0 && !this.#eof) await this.#waitForData("read", signal);
    const data = this.#buf.take(Math.min(n, this.#buf.length));
    this.#maybeResumeTransport();
    return data;
  }

  /**
   * Reads one line, `\n` included. At the end of the stream it returns the
   * partial last line (maybe empty). A line longer than the limit throws a
   * `RangeError` (asyncio's `ValueError`) and is dropped from the buffer (up
   * to and with its `\n` if that arrived, otherwise the whole buffer).
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new TextEncoder().encode("a\nb"));
   * reader.feedEof();
   * const dec = new TextDecoder();
   * console.log(dec.decode(await reader.readline()), dec.decode(await reader.readline())); // "a\n" "b"
   * ```
   */
  async readline(options?: ReadOptions): Promise<Uint8Array> {
    try {
      return await this.readuntil(NEWLINE, options);
    } catch (e) {
      if (e instanceof IncompleteReadError) return e.partial;
      if (e instanceof LimitOverrunError) {
        if (this.#buf.startsWith(NEWLINE, e.consumed)) this.#buf.take(e.consumed + 1);
        else this.#buf.clear();
        this.#maybeResumeTransport();
        throw new RangeError(e.message, { cause: e });
      }
      throw e;
    }
  }

  /**
   * Reads up to and including `separator`: one separator, or several (the
   * shortest result ending with any of them wins, as asyncio 3.13). At the
   * end of the stream it throws `IncompleteReadError` whose `partial` is
   * what was left (the buffer is emptied). When the data before a
   * separator exceeds the limit it throws `LimitOverrunError` and leaves the
   * buffer untouched.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new TextEncoder().encode("key: value\r\n\r\nbody"));
   * const head = await reader.readuntil("\r\n\r\n");
   * console.log(new TextDecoder().decode(head)); // "key: value\r\n\r\n"
   * ```
   */
  async readuntil(
    separator: Separator | readonly Separator[] = NEWLINE,
    options?: ReadOptions,
  ): Promise<Uint8Array> {
    const seps = Array.isArray(separator)
      ? separator.map(toSeparator).sort((a, b) => a.byteLength - b.byteLength)
      : [toSeparator(separator)];
    if (seps.length === 0) {
      throw new RangeError("readuntil(): Separator should contain at least one element");
    }
    const minLen = seps[0].byteLength;
    const maxLen = seps[seps.length - 1].byteLength;
    if (minLen === 0) {
      throw new RangeError("readuntil(): Separator should be at least one-byte string");
    }
    const signal = options?.signal;
    checkSignal(signal, "readuntil");
    if (this.#exception !== null) throw this.#exception;

    const buf = this.#buf;
    const limit = this.#limit;
    // Bytes before `offset` are known not to start a separator (asyncio's rule: all but the
    // last maxLen - 1 bytes of what was searched), so each wakeup only scans the new part.
    let offset = 0;
    let matchStart = -1, matchEnd = -1;
    for (;;) {
      const len = buf.length;
      if (len - offset >= minLen) {
        for (const sep of seps) {
          const at = buf.indexOf(sep, offset);
          if (at >= 0 && (matchEnd < 0 || at + sep.byteLength < matchEnd)) {
            matchStart = at;
            matchEnd = at + sep.byteLength;
          }
        }
        if (matchEnd >= 0) break;
        offset = Math.max(0, len + 1 - maxLen);
        if (offset > limit) {
          throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
      }
      if (this.#eof) throw new IncompleteReadError(buf.takeAll(), null);
      await this.#waitForData("readuntil", signal);
    }
    if (matchStart > limit) {
      throw new LimitOverrunError("Separator is found, but chunk is longer than limit", matchStart);
    }
    const chunk = buf.take(matchEnd);
    this.#maybeResumeTransport();
    return chunk;
  }

  /**
   * Reads exactly `n` bytes. If the stream ends first it throws
   * `IncompleteReadError` whose `partial` holds what was left (the buffer
   * is emptied).
   *
   * @example
   * ```ts
   * import { IncompleteReadError, StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new Uint8Array([1, 2]));
   * reader.feedEof();
   * try {
   *   await reader.readexactly(4);
   * } catch (e) {
   *   if (e instanceof IncompleteReadError) console.log(e.partial, e.expected); // [1, 2] 4
   * }
   * ```
   */
  async readexactly(n: number, options?: ReadOptions): Promise<Uint8Array> {
    if (typeof n !== "number" || !Number.isInteger(n)) {
      throw new TypeError(`readexactly(): n must be an integer, got ${describe(n)}`);
    }
    if (n < 0) throw new RangeError(`readexactly(): n can not be less than zero, got ${n}`);
    const signal = options?.signal;
    checkSignal(signal, "readexactly");
    if (this.#exception !== null) throw this.#exception;
    if (n === 0) return EMPTY;
    while (this.#buf.length < n) {
      if (this.#eof) throw new IncompleteReadError(this.#buf.takeAll(), n);
      await this.#waitForData("readexactly", signal);
    }
    const data = this.#buf.take(n);
    this.#maybeResumeTransport();
    return data;
  }

  /**
   * Iterates over the lines (`readline()`) until the end of the stream.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new TextEncoder().encode("one\ntwo\n"));
   * reader.feedEof();
   * for await (const line of reader) console.log(new TextDecoder().decode(line).trimEnd());
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const line = await this.readline();
      if (line.byteLength === 0) return;
      yield line;
    }
  }

  /**
   * The data as a Web `ReadableStream` of bytes (made once, on first use).
   * It reads from this reader when its consumer asks for more, so
   * backpressure reaches the socket. A BYOB reader gets the bytes copied
   * straight into its view. Cancelling the stream closes the transport.
   * Don't mix it with the reading methods while a read is pending.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * const reader = new StreamReader();
   * reader.feedData(new TextEncoder().encode("hi"));
   * reader.feedEof();
   * console.log(await new Response(reader.readable).text()); // "hi"
   * ```
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream({
      type: "bytes",
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#transport?.close(),
    });
  }

  async #pull(controller: ReadableByteStreamController): Promise<void> {
    if (this.#exception !== null) throw this.#exception;
    if (this.#buf.length === 0 && !this.#eof) await this.#waitForData("read", undefined);
    const req = controller.byobRequest;
    if (this.#buf.length === 0) {
      controller.close();
      req?.respond(0);
      return;
    }
    if (req !== null && req.view !== null) {
      const v = req.view;
      req.respond(this.#buf.takeInto(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
    } else {
      let chunk = this.#buf.takeChunk(this.#limit);
      // enqueue() transfers the whole ArrayBuffer: only hand over one the chunk owns.
      if (chunk.byteOffset !== 0 || chunk.byteLength !== chunk.buffer.byteLength) {
        chunk = chunk.slice();
      }
      controller.enqueue(chunk);
    }
    this.#maybeResumeTransport();
  }

  /**
   * A short description: buffer size, limit and state.
   *
   * @example
   * ```ts
   * import { StreamReader } from "@aio/loop";
   * console.log(String(new StreamReader())); // "<StreamReader limit=65536>"
   * ```
   */
  toString(): string {
    const info = [];
    if (this.#buf.length) info.push(`${this.#buf.length} bytes`);
    if (this.#eof) info.push("eof");
    info.push(`limit=${this.#limit}`);
    if (this.#waiter) info.push("waiter");
    if (this.#exception) info.push(`exception=${this.#exception.name}`);
    if (this.#transport) info.push("transport");
    if (this.#paused) info.push("paused");
    return `<StreamReader ${info.join(" ")}>`;
  }
}
