/**
 * The protocols a subprocess transport gives the pipe transports of its
 * child's stdin, stdout and stderr (asyncio's `WriteSubprocessPipeProto`
 * and `ReadSubprocessPipeProto`): they forward to the subprocess transport,
 * naming the child's fd. The read pipes are read straight into the
 * subprocess protocol's buffer when it offers one (see
 * {@linkcode PipeSink.getBuffer}), else into a shared buffer that is
 * copied out per read, as any read pipe does.
 *
 * @module
 */
import type { BaseTransport } from "../../transports/base_transport.ts";
import { Protocol } from "../../transports/protocol.ts";
import { READ_BUF, takeRead } from "./_read_pool.ts";

/** Where the pipe protocols report: the subprocess transport's internals. */
export interface PipeSink {
  /** The child wrote `data` to its pipe `fd`. */
  dataReceived(fd: number, data: Uint8Array): void;
  /**
   * Where the next read of pipe `fd` may go directly, or `null` (then the
   * bytes come through `dataReceived()`). A buffer given here is followed
   * by `bufferUpdated(fd, n)` in the same turn unless the read fails or
   * finds the end of file.
   */
  getBuffer(fd: number): Uint8Array | null;
  /** `n` bytes were read into the buffer `getBuffer(fd)` gave. */
  bufferUpdated(fd: number, n: number): void;
  /** The pipe `fd` closed. */
  connectionLost(fd: number, exc: Error | null): void;
  /** The stdin pipe's buffer went over its high-water mark. */
  pauseWriting(): void;
  /** ... and back under its low-water mark. */
  resumeWriting(): void;
}

/**
 * The protocol of one pipe of a child: `pipe` is its transport once
 * connected, `disconnected` turns true at `connectionLost()`. Used for
 * stdin too (a write pipe never reads). It has `getBuffer()`, so a read
 * pipe transport treats it as a `BufferedProtocol`.
 */
export class SubprocessPipeProto extends Protocol {
  /** The pipe's transport, once `connectionMade()` ran. */
  pipe: BaseTransport | null = null;
  /** Whether `connectionLost()` ran. */
  disconnected = false;
  #sink: PipeSink | null;
  #fd: number;
  #direct = false; // the last getBuffer() came from the sink

  /** A protocol for the child's fd `fd` that reports to `sink`. */
  constructor(sink: PipeSink, fd: number) {
    super();
    this.#sink = sink;
    this.#fd = fd;
  }

  /** Keeps the transport. */
  override connectionMade(transport: BaseTransport): void {
    this.pipe = transport;
  }

  /** Reports the pipe's end to the subprocess transport. */
  override connectionLost(exc: Error | null): void {
    this.disconnected = true;
    const sink = this.#sink;
    this.#sink = null;
    sink?.connectionLost(this.#fd, exc);
  }

  /** Forwards the child's output. */
  override dataReceived(data: Uint8Array): void {
    this.#sink?.dataReceived(this.#fd, data);
  }

  /** The sink's buffer for the next read, else a shared one. */
  getBuffer(_sizeHint: number): Uint8Array {
    const buf = this.#sink?.getBuffer(this.#fd) ?? null;
    this.#direct = buf !== null;
    return buf ?? READ_BUF;
  }

  /** Hands the bytes read to the sink: in place, or copied out of the shared buffer. */
  bufferUpdated(n: number): void {
    const sink = this.#sink;
    if (sink === null) return;
    if (this.#direct) sink.bufferUpdated(this.#fd, n);
    else sink.dataReceived(this.#fd, takeRead(READ_BUF, n));
  }

  /** Forwards flow control of stdin to the subprocess protocol. */
  override pauseWriting(): void {
    this.#sink?.pauseWriting();
  }

  /** Forwards flow control of stdin to the subprocess protocol. */
  override resumeWriting(): void {
    this.#sink?.resumeWriting();
  }
}

/**
 * What a subprocess protocol may add to have its pipes' output read
 * straight into its own buffers (`streams/subprocess.ts` does, for a
 * reader waiting for the end of its stream). Asked only once calls go to
 * the protocol directly, so the bytes never need queueing;
 * `_pipeGetBuffer()` returning `null` means "through `pipeDataReceived()`".
 * `_pipeBufferUpdated(fd, n)` follows a buffer in the same turn, unless the
 * read failed or found the end of file.
 */
export interface SubprocessBufferHooks {
  /** A buffer for the next read of pipe `fd`, or `null`. */
  _pipeGetBuffer(fd: number): Uint8Array | null;
  /** `n` bytes were read into the buffer `_pipeGetBuffer(fd)` gave. */
  _pipeBufferUpdated(fd: number, n: number): void;
}
