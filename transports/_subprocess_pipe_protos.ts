/**
 * The protocols a subprocess transport gives the pipe transports of its
 * child's stdin, stdout and stderr (asyncio's `WriteSubprocessPipeProto`
 * and `ReadSubprocessPipeProto`): they forward to the subprocess transport,
 * naming the child's fd.
 *
 * @module
 */
import type { BaseTransport } from "./base_transport.ts";
import { Protocol } from "./protocol.ts";

/** Where the pipe protocols report: the subprocess transport's internals. */
export interface PipeSink {
  /** The child wrote `data` to its pipe `fd`. */
  dataReceived(fd: number, data: Uint8Array): void;
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
 * stdin too (a write pipe never calls `dataReceived()`).
 */
export class SubprocessPipeProto extends Protocol {
  /** The pipe's transport, once `connectionMade()` ran. */
  pipe: BaseTransport | null = null;
  /** Whether `connectionLost()` ran. */
  disconnected = false;
  #sink: PipeSink | null;
  #fd: number;

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

  /** Forwards flow control of stdin to the subprocess protocol. */
  override pauseWriting(): void {
    this.#sink?.pauseWriting();
  }

  /** Forwards flow control of stdin to the subprocess protocol. */
  override resumeWriting(): void {
    this.#sink?.resumeWriting();
  }
}
