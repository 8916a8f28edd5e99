/**
 * `ProactorEventLoop` (asyncio's `windows_events.ProactorEventLoop`): the
 * completion-port loop of Windows, `BaseProactorEventLoop` on an
 * `IocpProactor`, with named pipes: `connectReadPipe`/`connectWritePipe` on
 * pipe handles, `startServingPipe` and `createPipeConnection`.
 * Subprocesses join it here too (issue 11); until then they refuse with the
 * platform table's `NotSupported`.
 *
 * @module
 */
import type { PipeFileObj } from "../abstract_event_loop.ts";
import { BaseProactorEventLoop } from "../proactor/proactor_event_loop.ts";
import { checkFactory } from "../_check.ts";
import { checkSignal } from "../_signal.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { PipeHandle } from "./pipe_handle.ts";
import {
  connectReadPipe,
  connectWritePipe,
  duplexPipe,
  openPipeClient,
  PipeServer,
  servePipe,
} from "./pipe_server.ts";
import type {
  ReadTransport,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from "../../transports/base_transport.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import type { SubprocessOptions } from "../subprocess_options.ts";
import {
  _detachLoopFromChildren,
  subprocessExec as windowsSubprocessExec,
  subprocessShell as windowsSubprocessShell,
} from "./windows_subprocess.ts";

/** Options of `createPipeConnection()`. */
export interface CreatePipeConnectionOptions {
  /** Cancels the connect (while it retries a busy pipe) with `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * The ProactorEventLoop of Windows (asyncio's default there since 3.8):
 * TCP, UDP, servers, streams, named pipes and subprocesses on I/O
 * completion ports, with no socket limit; beyond CPython, `addReader`/
 * `addWriter` on any socket (AFD polls on the same port). On any other OS
 * the constructor throws `NotSupported`.
 *
 * @example
 * ```ts
 * import { ProactorEventLoop } from "@aio/loop";
 * if (Deno.build.os === "windows") {
 *   using loop = new ProactorEventLoop();
 *   console.log(await loop.runUntilComplete(async () => 42)); // 42
 * }
 * ```
 */
export class ProactorEventLoop extends BaseProactorEventLoop {
  #pipeServers = new Set<PipeServer>();

  /**
   * Kills the children still running, closes the pipe servers (their
   * unconnected instances), then the loop and its proactor.
   */
  override close(): void {
    if (this.isClosed()) return;
    _detachLoopFromChildren(this);
    for (const s of this.#pipeServers) s.close();
    this.#pipeServers.clear();
    super.close();
  }

  #checkOpen(): void {
    if (this.isClosed()) throw new Error("Event loop is closed");
  }

  /**
   * Wraps the read end of a pipe (a `PipeHandle`, or a pipe HANDLE number
   * the transport then owns) in a read transport; resolves once the
   * protocol's `connectionMade()` ran. A handle that is not a pipe is a
   * `TypeError` naming it; a closed `PipeHandle` is `BadResource`.
   *
   * @example
   * ```ts ignore
   * const [r, w] = pipe();
   * const [transport, protocol] = await loop.connectReadPipe(() => new Collect(), r);
   * ```
   */
  override async connectReadPipe<P extends StreamProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj | PipeHandle,
  ): Promise<[ReadTransport, P]> {
    this.#checkOpen();
    return await connectReadPipe(this, protocolFactory, pipe);
  }

  /**
   * Wraps the write end of a pipe in a write transport (`writeEof()`
   * closes it once flushed); as {@linkcode connectReadPipe}.
   *
   * @example
   * ```ts ignore
   * const [transport] = await loop.connectWritePipe(() => new BaseProtocol(), w);
   * transport.write(new TextEncoder().encode("hello"));
   * ```
   */
  override async connectWritePipe<P extends BaseProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj | PipeHandle,
  ): Promise<[WriteTransport, P]> {
    this.#checkOpen();
    return await connectWritePipe(this, protocolFactory, pipe);
  }

  /**
   * Serves the named pipe `address` (`\\.\pipe\<name>`): each client gets
   * a duplex transport for a `protocolFactory()` protocol. The returned
   * `PipeServer` keeps a spare instance until `close()`. On Windows a
   * second server of the same name fails with `PermissionDenied`.
   *
   * @example
   * ```ts ignore
   * const server = await loop.startServingPipe(() => new Echo(), "\\\\.\\pipe\\echo");
   * ```
   */
  startServingPipe(
    protocolFactory: () => StreamProtocol,
    address: string,
  ): Promise<PipeServer> {
    try {
      this.#checkOpen();
      checkFactory(protocolFactory, "startServingPipe()");
      const server = new PipeServer(address);
      this.#pipeServers.add(server);
      server.signal.addEventListener("abort", () => this.#pipeServers.delete(server), {
        once: true,
      });
      this.callSoon(() => {
        servePipe(this, server, protocolFactory).catch((e) =>
          this.callExceptionHandler({ message: "Pipe server failed", exception: e })
        );
      });
      return Promise.resolve(server);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Connects to the named pipe `address` as a client: resolves to a duplex
   * transport and its protocol once `connectionMade()` ran. Retries while
   * every instance is busy (cancel with `options.signal`); `NotFound` when
   * no server has the name.
   *
   * @example
   * ```ts ignore
   * const [transport, protocol] = await loop.createPipeConnection(() => new Client(), "\\\\.\\pipe\\echo");
   * ```
   */
  async createPipeConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    address: string,
    options: CreatePipeConnectionOptions = {},
  ): Promise<[Transport, P]> {
    this.#checkOpen();
    checkFactory(protocolFactory, "createPipeConnection()");
    const signal = checkSignal(options?.signal, "createPipeConnection");
    const pipe = await openPipeClient(this, address, signal);
    return await duplexPipe(this, protocolFactory, pipe, address);
  }

  /**
   * Runs `args[0]` with `args` through CreateProcessW, the child getting
   * exactly its stdio handles; overlapped named pipes for `"pipe"` stdio.
   *
   * @example
   * ```ts ignore
   * const [t, p] = await loop.subprocessExec(() => new SubprocessProtocol(), ["cmd", "/c", "exit 3"]);
   * ```
   */
  override subprocessExec<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    args: readonly string[],
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]> {
    return windowsSubprocessExec(this, protocolFactory, args, options);
  }

  /**
   * Runs `cmd` through `%ComSpec% /c`.
   *
   * @example
   * ```ts ignore
   * const [t, p] = await loop.subprocessShell(() => new SubprocessProtocol(), "echo hi");
   * ```
   */
  override subprocessShell<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    cmd: string,
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]> {
    return windowsSubprocessShell(this, protocolFactory, cmd, options);
  }
}
