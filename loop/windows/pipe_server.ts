/**
 * Named-pipe servers and clients of the ProactorEventLoop (asyncio's
 * `windows_events.PipeServer`, `start_serving_pipe` and
 * `create_pipe_connection`, and `windows_utils`' handle checks):
 * {@linkcode PipeServer} keeps a spare unconnected instance at all times, so
 * a client never finds the name missing while the server runs; each
 * connected instance becomes a duplex pipe transport. A client retries
 * while every instance is busy (ERROR_PIPE_BUSY), with a backoff from 1 to
 * 100 ms, and can be cancelled.
 *
 * @module
 */
import {
  createPipeInstance,
  isPipeHandle,
  isWinError,
  openPipe,
  PIPE_ERRORS,
} from "../../ffi/windows/pipes.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { PipeFileObj } from "../abstract_event_loop.ts";
import type { HasFileno } from "../../selectors/mod.ts";
import { checkFactory } from "../_check.ts";
import type { Future } from "../future.ts";
import { CancelledError } from "../errors.ts";
import { cancelledError } from "../_signal.ts";
import { describe } from "../../ffi/sys.ts";
import type { ProactorTransportLoop } from "../proactor/_proactor_base_transport.ts";
import { PipeHandle } from "./pipe_handle.ts";
import {
  ProactorDuplexPipeTransport,
  type ProactorPipeTransport,
  ProactorReadPipeTransport,
  ProactorWritePipeTransport,
} from "./pipe_transports.ts";

/** The first and the longest wait between two tries of a busy pipe, in ms (CPython's). */
const CONNECT_PIPE_INIT_DELAY = 1;
const CONNECT_PIPE_MAX_DELAY = 100;

/** What the pipe functions need of their loop. */
export type PipeLoop = ProactorTransportLoop & {
  createFuture<T = unknown>(): Future<T>;
  callLater(delay: number, cb: () => void): { cancel(): void };
  isClosed(): boolean;
};

function checkAddress(address: unknown, what: string): string {
  if (typeof address !== "string" || !address.startsWith("\\\\.\\pipe\\")) {
    throw new TypeError(
      `${what}: a pipe address is "\\\\.\\pipe\\<name>", got ${describe(address)}`,
    );
  }
  return address;
}

/**
 * A named-pipe server (asyncio's `PipeServer`): the instances of
 * `address` that no client has connected to yet, one of them always spare.
 * Made by `loop.startServingPipe()`; `close()` stops serving and closes the
 * unconnected instances (connections already made go on).
 *
 * @example
 * ```ts ignore
 * const server = await loop.startServingPipe(() => new Echo(), "\\\\.\\pipe\\echo");
 * server.close();
 * ```
 */
export class PipeServer {
  #address: string;
  #spare: PipeHandle | null = null;
  #free = new Set<PipeHandle>();
  #ac = new AbortController();
  #first = true;

  /**
   * Makes the first instance (FILE_FLAG_FIRST_PIPE_INSTANCE: on Windows a
   * second server of the same name fails with `PermissionDenied`).
   */
  constructor(address: string) {
    this.#address = checkAddress(address, "PipeServer");
    this.#spare = this.#instance();
  }

  /** The pipe's name. */
  get address(): string {
    return this.#address;
  }

  /** Aborted when the server closes (the pending ConnectNamedPipe is cancelled by it). */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  #instance(): PipeHandle {
    const h = createPipeInstance(this.#address, { first: this.#first });
    this.#first = false;
    const p = new PipeHandle(h);
    this.#free.add(p);
    return p;
  }

  /** @internal The spare instance, replaced by a new spare; null once closed. */
  _getUnconnectedPipe(): PipeHandle | null {
    if (this.#spare === null) return null;
    const tmp = this.#spare;
    this.#spare = this.#instance();
    return tmp;
  }

  /** @internal `pipe` got a client (or failed): it is no longer the server's. */
  _taken(pipe: PipeHandle): void {
    this.#free.delete(pipe);
  }

  /** Whether `close()` was called. */
  closed(): boolean {
    return this.#spare === null && this.#ac.signal.aborted;
  }

  /** Stops serving: cancels the pending connect and closes every unconnected instance. */
  close(): void {
    if (this.closed()) return;
    this.#spare = null;
    this.#ac.abort();
    for (const p of this.#free) p.close();
    this.#free.clear();
  }

  /** Closes the server. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `<PipeServer \\.\pipe\name>`. */
  toString(): string {
    return `<PipeServer ${this.#address}${this.closed() ? " closed" : ""}>`;
  }
}

/**
 * The accept loop of `server`: ConnectNamedPipe on an instance, a duplex
 * transport for `protocolFactory()` once a client came, again. A client
 * that came and went (ERROR_NO_DATA/BrokenPipe) only costs its instance
 * (gh-100573); another error is reported and serving goes on.
 */
export async function servePipe(
  loop: PipeLoop & { callExceptionHandler(ctx: Record<string, unknown>): void },
  server: PipeServer,
  protocolFactory: () => StreamProtocol,
): Promise<void> {
  const signal = server.signal;
  while (!server.closed() && !loop.isClosed()) {
    let pipe: PipeHandle | null = null;
    try {
      pipe = server._getUnconnectedPipe();
      if (pipe === null) return;
      await loop._proactor.connectPipe(pipe, signal, "acceptPipe()");
    } catch (e) {
      if (pipe !== null) {
        server._taken(pipe);
        pipe.close();
      }
      if (e instanceof CancelledError || server.closed() || loop.isClosed()) return;
      if (e instanceof Deno.errors.BrokenPipe) continue; // the client came and went
      loop.callExceptionHandler({
        message: "Pipe accept failed",
        exception: e,
        pipe: server.address,
      });
      if (pipe === null) return; // no new instance could be made: serving ends
      // Serving goes on (CPython stops here), after a pause so a lasting error cannot spin.
      await pause(loop, ACCEPT_RETRY_DELAY, signal);
      continue;
    }
    server._taken(pipe);
    if (server.closed() || loop.isClosed()) {
      pipe.close();
      return;
    }
    let protocol: StreamProtocol | undefined;
    try {
      protocol = protocolFactory();
      new ProactorDuplexPipeTransport(loop, pipe, protocol, { extra: { addr: server.address } });
    } catch (e) {
      pipe.close();
      loop.callExceptionHandler({
        message: "Error on transport creation for incoming pipe connection",
        exception: e,
        protocol,
      });
    }
  }
}

/** The pause after an unexpected accept error, in ms. */
const ACCEPT_RETRY_DELAY = 100;

// Waits `ms`, or until `signal` aborts (then resolves early, without error).
function pause(loop: PipeLoop, ms: number, signal: AbortSignal): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const t = loop.callLater(ms / 1000, () => {
    signal.removeEventListener("abort", onAbort);
    resolve();
  });
  const onAbort = () => {
    t.cancel();
    resolve();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return promise;
}

function sleep(loop: PipeLoop, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const onAbort = () => {
    t.cancel();
    reject(cancelledError(signal!, "createPipeConnection()"));
  };
  const t = loop.callLater(ms / 1000, () => {
    signal?.removeEventListener("abort", onAbort);
    resolve();
  });
  signal?.addEventListener("abort", onAbort, { once: true });
  return promise;
}

/**
 * Opens the client end of `address`, retrying while every instance is busy
 * (1 ms doubling to 100 ms between tries; `signal` cancels with
 * `CancelledError`); `NotFound` when no server has the name.
 */
export async function openPipeClient(
  loop: PipeLoop,
  address: string,
  signal: AbortSignal | undefined,
): Promise<PipeHandle> {
  const what = "createPipeConnection()";
  checkAddress(address, what);
  let delay = CONNECT_PIPE_INIT_DELAY;
  for (;;) {
    if (signal?.aborted) throw cancelledError(signal, what);
    if (loop.isClosed()) throw new Error("Event loop is closed");
    try {
      return new PipeHandle(openPipe(address));
    } catch (e) {
      if (!isWinError(e, PIPE_ERRORS.PIPE_BUSY)) throw e;
    }
    await sleep(loop, delay, signal);
    delay = Math.min(delay * 2, CONNECT_PIPE_MAX_DELAY);
  }
}

// The transport resolves the waiter once connectionMade() ran; close it if that fails.
async function connected(transport: ProactorPipeTransport, waiter: Future<void>): Promise<void> {
  try {
    await waiter;
  } catch (e) {
    transport.close();
    throw e;
  }
}

/** A duplex transport over the client end `pipe` (`createPipeConnection`). */
export async function duplexPipe<P extends StreamProtocol>(
  loop: PipeLoop,
  protocolFactory: () => P,
  pipe: PipeHandle,
  address: string,
): Promise<[ProactorDuplexPipeTransport, P]> {
  let protocol: P;
  try {
    protocol = protocolFactory();
  } catch (e) {
    pipe.close();
    throw e;
  }
  const waiter = loop.createFuture<void>();
  const t = new ProactorDuplexPipeTransport(loop, pipe, protocol, {
    waiter,
    extra: { addr: address },
  });
  await connected(t, waiter);
  return [t, protocol];
}

/**
 * The `PipeHandle` for `connectReadPipe`/`connectWritePipe`'s `pipe`: a
 * `PipeHandle` itself, or a HANDLE number (or `fileno()` object) that is a
 * pipe, then owned by a new `PipeHandle`. A closed handle is `BadResource`;
 * anything else a `TypeError` naming it (nothing is closed then).
 */
export function takePipeHandle(pipe: PipeFileObj | PipeHandle, what: string): PipeHandle {
  if (pipe instanceof PipeHandle) {
    if (pipe.closed) throw new Deno.errors.BadResource(`${what}: the PipeHandle is closed`);
    return pipe;
  }
  let h: unknown = pipe;
  if (
    pipe !== null && typeof pipe === "object" && typeof (pipe as HasFileno).fileno === "function"
  ) {
    h = (pipe as HasFileno).fileno();
  }
  if (typeof h !== "number" || !Number.isSafeInteger(h) || h <= 0) {
    throw new TypeError(
      `${what}: pipe must be a PipeHandle or a pipe HANDLE number, got ${describe(pipe)}`,
    );
  }
  if (!isPipeHandle(h)) {
    throw new TypeError(
      `${what}: HANDLE ${h} is not a pipe (the ProactorEventLoop reads and writes pipes only; ` +
        `make one with pipe() or a named pipe)`,
    );
  }
  return new PipeHandle(h);
}

/** `connectReadPipe` on the ProactorEventLoop. */
export async function connectReadPipe<P extends StreamProtocol>(
  loop: PipeLoop,
  protocolFactory: () => P,
  pipe: PipeFileObj | PipeHandle,
): Promise<[ProactorReadPipeTransport, P]> {
  checkFactory(protocolFactory, "connectReadPipe()");
  const protocol = protocolFactory();
  const handle = takePipeHandle(pipe, "connectReadPipe()");
  const waiter = loop.createFuture<void>();
  const t = new ProactorReadPipeTransport(loop, handle, protocol, { waiter });
  await connected(t, waiter);
  return [t, protocol];
}

/** `connectWritePipe` on the ProactorEventLoop. */
export async function connectWritePipe<P extends BaseProtocol>(
  loop: PipeLoop,
  protocolFactory: () => P,
  pipe: PipeFileObj | PipeHandle,
): Promise<[ProactorWritePipeTransport, P]> {
  checkFactory(protocolFactory, "connectWritePipe()");
  const protocol = protocolFactory();
  const handle = takePipeHandle(pipe, "connectWritePipe()");
  const waiter = loop.createFuture<void>();
  const t = new ProactorWritePipeTransport(loop, handle, protocol, { waiter });
  await connected(t, waiter);
  return [t, protocol];
}
