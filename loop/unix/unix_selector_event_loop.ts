/**
 * `UnixSelectorEventLoop` (asyncio's `unix_events._UnixSelectorEventLoop`):
 * the selector loop plus what Unix has: signal handlers, AF_UNIX sockets,
 * pipes and subprocesses with their child watchers.
 *
 * @module
 */
import type {
  ReadTransport,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from "../../transports/base_transport.ts";
import type { BaseProtocol } from "../../transports/protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import type { PipeFileObj } from "../abstract_event_loop.ts";
import type {
  CreateUnixConnectionOptions,
  CreateUnixServerOptions,
} from "../connection_options.ts";
import type { Callback } from "../handle.ts";
import type { SubprocessOptions } from "../subprocess_options.ts";
import type { Server } from "../base/server.ts";
import { BaseSelectorEventLoop } from "../selector/selector_event_loop.ts";
import { connectReadPipe, connectWritePipe } from "./pipes.ts";
import { SignalHandlers } from "./signal_handlers.ts";
import { _detachLoopFromWatchers, subprocessExec, subprocessShell } from "./subprocess.ts";
import { createUnixConnection, createUnixServer } from "./unix_sockets.ts";

/**
 * The selector event loop of Unix (Linux, macOS): `SelectorEventLoop` and
 * `EventLoop` are this class there. Adds signal handlers, unix sockets,
 * pipes and subprocesses to `BaseSelectorEventLoop`.
 *
 * @example
 * ```ts
 * import { SelectorEventLoop, UnixSelectorEventLoop } from "@aio/loop";
 * using loop = new SelectorEventLoop();
 * console.log(loop instanceof UnixSelectorEventLoop); // true on Linux and macOS
 * ```
 */
export class UnixSelectorEventLoop extends BaseSelectorEventLoop {
  #signals: SignalHandlers | null = null;

  /**
   * Removes the signal handlers; children still running are killed and reaped.
   * @internal
   */
  protected override _closeExtras(): void {
    this.#signals?.clear();
    _detachLoopFromWatchers(this);
  }

  /**
   * Calls `callback(...args)` on the loop whenever signal `sig` (Deno's
   * name, such as `"SIGUSR1"`) arrives, waking the loop if it waits. One
   * handler per signal: a new one replaces the old. Async functions are
   * refused (`TypeError`), as are SIGKILL and SIGSTOP (`NotSupported`) and
   * unknown names (`RangeError`). Closing the loop removes its handlers.
   * Unix only: `NotSupported` on Windows.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * if (Deno.build.os !== "windows") {
   *   loop.addSignalHandler("SIGUSR1", () => loop.stop());
   *   setTimeout(() => Deno.kill(Deno.pid, "SIGUSR1"), 10);
   *   await loop.runForever();
   *   loop.removeSignalHandler("SIGUSR1");
   * }
   * ```
   */
  override addSignalHandler<A extends unknown[]>(
    sig: Deno.Signal,
    callback: Callback<A>,
    ...args: A
  ): void {
    (this.#signals ??= new SignalHandlers(this)).add(sig, callback as Callback, args);
  }

  /**
   * Removes the handler of signal `sig`; returns whether there was one.
   * Without a handler, Deno restores the signal's default action.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop } from "@aio/loop";
   * using loop = new SelectorEventLoop();
   * if (Deno.build.os !== "windows") {
   *   console.log(loop.removeSignalHandler("SIGUSR1")); // false
   * }
   * ```
   */
  override removeSignalHandler(sig: Deno.Signal): boolean {
    return (this.#signals ??= new SignalHandlers(this)).remove(sig);
  }

  /**
   * Connects to the unix socket `path` (a file path or a Linux abstract name
   * starting with `"\0"`), or wraps `options.sock`.
   *
   * @example
   * ```ts ignore
   * const [transport] = await loop.createUnixConnection(() => new Protocol(), "/tmp/app.sock");
   * ```
   */
  override createUnixConnection<P extends StreamProtocol>(
    protocolFactory: () => P,
    path?: string | null,
    options?: CreateUnixConnectionOptions,
  ): Promise<[Transport, P]> {
    return createUnixConnection(this, this._hooks, protocolFactory, path, options);
  }

  /**
   * Listens on the unix socket `path`: a stale socket file is removed first
   * and the file is removed again on close (`cleanupSocket`, default true);
   * both need `--allow-read` and `--allow-write`.
   *
   * @example
   * ```ts ignore
   * await using server = await loop.createUnixServer(() => new Protocol(), "/tmp/app.sock");
   * ```
   */
  override createUnixServer<P extends StreamProtocol>(
    protocolFactory: () => P,
    path?: string | null,
    options?: CreateUnixServerOptions,
  ): Promise<Server> {
    return createUnixServer(this, this._hooks, protocolFactory, path, options);
  }

  /**
   * Wraps the read end of a pipe, FIFO, socket or character device (a
   * PTY) in a transport (asyncio's `connect_read_pipe()`); resolves to
   * `[transport, protocol]` once the protocol's `connectionMade()` ran.
   * `pipe` is an fd or an object with `fileno()` (Deno's `FsFile` hides its
   * fd). The transport makes the fd nonblocking, owns it and closes it
   * after `connectionLost()`. End of file gives `eofReceived()` then
   * `connectionLost(null)`. Regular files, directories and block devices
   * are refused with a `TypeError` naming the fd (use Deno's file APIs for
   * files); a closed fd rejects with `BadResource`; the fd stays the
   * caller's when the call fails.
   *
   * @example Reading what another part of the program writes into a pipe
   * ```ts
   * import { Protocol, SelectorEventLoop } from "@aio/loop";
   * import { closeFd, makePipe, writeFd } from "../../ffi/unix/libc.ts";
   * class Collect extends Protocol {
   *   text = "";
   *   done = Promise.withResolvers<void>();
   *   override dataReceived(data: Uint8Array): void {
   *     this.text += new TextDecoder().decode(data);
   *   }
   *   override connectionLost(): void {
   *     this.done.resolve();
   *   }
   * }
   * using loop = new SelectorEventLoop();
   * const [r, w] = makePipe();
   * const text = await loop.runUntilComplete(async () => {
   *   const [, protocol] = await loop.connectReadPipe(() => new Collect(), r);
   *   writeFd(w, new TextEncoder().encode("hello"));
   *   closeFd(w); // end of file for the reader
   *   await protocol.done.promise;
   *   return protocol.text;
   * });
   * console.log(text); // "hello"
   * ```
   */
  override connectReadPipe<P extends StreamProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj,
  ): Promise<[ReadTransport, P]> {
    return connectReadPipe(this, protocolFactory, pipe);
  }

  /**
   * Wraps the write end of a pipe, FIFO, socket or character device (a
   * PTY, `/dev/null`) in a transport (asyncio's `connect_write_pipe()`);
   * resolves to `[transport, protocol]` once the protocol's
   * `connectionMade()` ran. Ownership and refusals as in
   * `connectReadPipe()`. For a pipe or socket the transport notices the
   * reader closing: `connectionLost(null)`, or `connectionLost(BrokenPipe)`
   * when data was still waiting or a write failed with EPIPE.
   *
   * @example
   * ```ts
   * import { BaseProtocol, SelectorEventLoop } from "@aio/loop";
   * import { closeFd, makePipe, readFd } from "../../ffi/unix/libc.ts";
   * class Done extends BaseProtocol {
   *   lost = Promise.withResolvers<Error | null>();
   *   override connectionLost(exc: Error | null): void {
   *     this.lost.resolve(exc);
   *   }
   * }
   * using loop = new SelectorEventLoop();
   * const [r, w] = makePipe();
   * await loop.runUntilComplete(async () => {
   *   const [transport, protocol] = await loop.connectWritePipe(() => new Done(), w);
   *   transport.write(new TextEncoder().encode("hello"));
   *   transport.close(); // the rest is sent, then w is closed
   *   await protocol.lost.promise;
   * });
   * const buf = new Uint8Array(16);
   * console.log(new TextDecoder().decode(buf.subarray(0, readFd(r, buf)))); // "hello"
   * closeFd(r);
   * ```
   */
  override connectWritePipe<P extends BaseProtocol>(
    protocolFactory: () => P,
    pipe: PipeFileObj,
  ): Promise<[WriteTransport, P]> {
    return connectWritePipe(this, protocolFactory, pipe);
  }

  /**
   * Starts `args[0]` with the arguments `args` through `posix_spawnp` and
   * connects a protocol made by `protocolFactory` to it (asyncio's
   * `subprocess_exec()`): resolves to `[transport, protocol]` once its
   * pipes are connected. stdin, stdout and stderr are pipes unless
   * `options` says otherwise (`PIPE`, `DEVNULL`, `STDOUT`, `"inherit"`, an
   * fd). A program that cannot be run rejects with `Deno.errors.NotFound` or
   * `PermissionDenied` naming it. The current child watcher (see the
   * policy's `getChildWatcher()`) reports the exit.
   *
   * @example
   * ```ts
   * import { SelectorEventLoop, SubprocessProtocol } from "@aio/loop";
   * class Exit extends SubprocessProtocol {
   *   done = Promise.withResolvers<void>();
   *   override connectionLost(): void {
   *     this.done.resolve();
   *   }
   * }
   * using loop = new SelectorEventLoop();
   * if (Deno.build.os !== "windows") {
   *   const code = await loop.runUntilComplete(async () => {
   *     const [transport, protocol] = await loop.subprocessExec(() => new Exit(), ["true"]);
   *     await protocol.done.promise;
   *     transport.close();
   *     return transport.getReturncode();
   *   });
   *   console.log(code); // 0
   * }
   * ```
   */
  override subprocessExec<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    args: readonly string[],
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]> {
    return subprocessExec(this, protocolFactory, args, options);
  }

  /**
   * Runs the shell command `cmd` with `/bin/sh -c` (asyncio's
   * `subprocess_shell()`); see `subprocessExec()`.
   *
   * @example
   * ```ts ignore
   * const [transport, protocol] = await loop.subprocessShell(() => new Collect(), "echo hi | tr a-z A-Z");
   * ```
   */
  override subprocessShell<P extends SubprocessProtocol>(
    protocolFactory: () => P,
    cmd: string,
    options?: SubprocessOptions,
  ): Promise<[SubprocessTransport, P]> {
    return subprocessShell(this, protocolFactory, cmd, options);
  }
}
