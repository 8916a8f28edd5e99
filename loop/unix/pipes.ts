/**
 * `connectReadPipe` and `connectWritePipe` (asyncio's
 * `loop.connect_read_pipe()`/`connect_write_pipe()`): wrap the end of a
 * pipe, FIFO, socket or character device (a PTY, a terminal, `/dev/null`)
 * in a transport.
 *
 * A pipe is an fd number or an object with `fileno()`. Deno's own
 * `Deno.FsFile`/`Deno.stdin` hide their fds and are not accepted; make
 * pipes with `pipe(2)`, `socketpair(2)` or `open(2)` through FFI, or take
 * the fds a child process was given. The transport owns the fd from the
 * moment the call succeeds (as asyncio owns the pipe object): it is made
 * nonblocking, and closed (through the object's `close()` when it has one)
 * after the protocol's `connectionLost()`. When the call fails the fd is
 * left open and still the caller's.
 *
 * @module
 */
import type { Future } from "../future.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { TransportLoop } from "../selector/socket_transport.ts";
import { UnixReadPipeTransport } from "./read_pipe_transport.ts";
import { UnixWritePipeTransport } from "./write_pipe_transport.ts";
import type { PipeFileObj } from "../abstract_event_loop.ts";
import { checkFactory } from "../_check.ts";

/** What `connectReadPipe`/`connectWritePipe` need of their loop. */
export type PipeLoop = TransportLoop & {
  /** Makes a future bound to the loop. */
  createFuture<T = unknown>(): Future<T>;
};

// The transport resolves the waiter once connectionMade() ran; asyncio closes it if that fails.
async function connected(transport: { close(): void }, waiter: Future<void>): Promise<void> {
  try {
    await waiter;
  } catch (e) {
    transport.close();
    throw e;
  }
}

/**
 * Wraps the read end `pipe` in a {@linkcode UnixReadPipeTransport} for a
 * protocol made by `protocolFactory`; resolves to `[transport, protocol]`
 * once the protocol's `connectionMade()` ran. Backs
 * `loop.connectReadPipe()`. Rejects with `TypeError` for a regular file,
 * a directory or a block device (naming the fd and the Deno API to use),
 * `TypeError`/`RangeError` for a bad `pipe`, `BadResource` for a closed
 * fd, `NotSupported` on Windows.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await connectReadPipe(loop, () => new MyProtocol(), fd);
 * ```
 */
export async function connectReadPipe<P extends StreamProtocol>(
  loop: PipeLoop,
  protocolFactory: () => P,
  pipe: PipeFileObj,
): Promise<[UnixReadPipeTransport, P]> {
  checkFactory(protocolFactory, "connectReadPipe()");
  const protocol = protocolFactory();
  const waiter = loop.createFuture<void>();
  const transport = new UnixReadPipeTransport(loop, pipe, protocol, { waiter });
  await connected(transport, waiter);
  return [transport, protocol];
}

/**
 * Wraps the write end `pipe` in a {@linkcode UnixWritePipeTransport} for a
 * protocol made by `protocolFactory`; resolves to `[transport, protocol]`
 * once the protocol's `connectionMade()` ran. Backs
 * `loop.connectWritePipe()`. Fails as {@linkcode connectReadPipe} does.
 *
 * @example
 * ```ts ignore
 * const [transport] = await connectWritePipe(loop, () => new BaseProtocol(), fd);
 * transport.write(new TextEncoder().encode("hello\n"));
 * ```
 */
export async function connectWritePipe<P extends BaseProtocol>(
  loop: PipeLoop,
  protocolFactory: () => P,
  pipe: PipeFileObj,
): Promise<[UnixWritePipeTransport, P]> {
  checkFactory(protocolFactory, "connectWritePipe()");
  const protocol = protocolFactory();
  const waiter = loop.createFuture<void>();
  const transport = new UnixWritePipeTransport(loop, pipe, protocol, { waiter });
  await connected(transport, waiter);
  return [transport, protocol];
}
