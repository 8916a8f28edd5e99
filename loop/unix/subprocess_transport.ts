/**
 * The subprocess transport of the Unix loops (asyncio's
 * `base_subprocess.BaseSubprocessTransport` with `_UnixSubprocessTransport`):
 * a child started with `posix_spawn`, its pipes wrapped in pipe transports,
 * its exit learned from a child watcher.
 *
 * The protocol's calls come in asyncio's order: `connectionMade()` once
 * every pipe is connected (earlier events wait for it), then
 * `pipeDataReceived()`/`pipeConnectionLost()` per pipe and
 * `processExited()`, and `connectionLost()` last, only once the process has
 * exited *and* every pipe has closed.
 *
 * @module
 */
import { PLATFORM } from "../../ffi/sys.ts";
import { signalNumber } from "../../ffi/unix/signals.ts";
import { killProcess } from "../../ffi/unix/kill.ts";
import { closeFd, describe } from "../../ffi/unix/libc.ts";
import type { SpawnedProcess } from "../../ffi/unix/spawn.ts";
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import { type AbstractChildWatcher, killAndReap } from "./child_watcher.ts";
import type { Future } from "../future.ts";
import { type BaseTransport, SubprocessTransport } from "../../transports/base_transport.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import { type PipeSink, SubprocessPipeProto } from "../base/_subprocess_pipe_protos.ts";

/** Options of `new UnixSubprocessTransport()`. */
export interface UnixSubprocessTransportOptions {
  /** The watcher that reports the child's exit. */
  watcher: AbstractChildWatcher;
  /** Resolved once `connectionMade()` is scheduled; rejected if a pipe cannot be connected. */
  waiter?: Future<void> | null;
  /** Extra information for `getExtraInfo()`. */
  extra?: Record<string, unknown>;
}

import type { SubprocessBufferHooks } from "../base/_subprocess_pipe_protos.ts";
export type { SubprocessBufferHooks };

type Call = [(...args: never[]) => unknown, unknown[]];

const STREAMS = ["stdin", "stdout", "stderr"] as const;

function processLookupError(pid: number): Error {
  return Object.assign(new Error(`process ${pid} has finished: it can no longer be signalled`), {
    code: "ESRCH",
  });
}

/**
 * A running child and its pipes, as `loop.subprocessExec()` and
 * `loop.subprocessShell()` make it. It takes over the parent's ends of the
 * child's pipes and watches the child with `options.watcher`; if that
 * fails the child is killed and reaped, its pipes closed, and the
 * constructor throws.
 *
 * `sendSignal()`, `terminate()` and `kill()` do nothing once the child's
 * exit was seen (its pid may belong to another process by then), and
 * throw an `Error` with `code` `"ESRCH"` (Python's `ProcessLookupError`)
 * once the transport has finished. `close()` closes the pipes and kills a
 * child that still runs; the watcher then reaps it. The example of
 * `SubprocessTransport` shows its methods at work.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await loop.subprocessExec(() => new MyProtocol(), ["ls", "-l"]);
 * console.log(transport.getPid());
 * const code = await transport.wait();
 * transport.close();
 * ```
 */
export class UnixSubprocessTransport extends SubprocessTransport {
  #loop: AbstractEventLoop;
  #protocol: SubprocessProtocol;
  #pid: number;
  #returncode: number | null = null;
  #pipes = new Map<number, SubprocessPipeProto | null>();
  #pending: Call[] | null = [];
  #direct = false; // calls go to the protocol at once, not through callSoon
  #exitWaiters: Future<number>[] = [];
  #closed = false;
  #finished = false;
  #connectionLost = false;
  #sink: PipeSink;

  /** Takes over the started `child` for `protocol`; see the class for what follows. */
  constructor(
    loop: AbstractEventLoop,
    protocol: SubprocessProtocol,
    child: SpawnedProcess,
    options: UnixSubprocessTransportOptions,
  ) {
    super(options.extra);
    this.#loop = loop;
    this.#protocol = protocol;
    this.#pid = child.pid;
    this.#sink = {
      dataReceived: (fd, data) => this.#call(this.#protocol.pipeDataReceived, fd, data),
      getBuffer: (fd) => {
        const p = this.#protocol as Partial<SubprocessBufferHooks>;
        return this.#direct && typeof p._pipeGetBuffer === "function" ? p._pipeGetBuffer(fd) : null;
      },
      bufferUpdated: (fd, n) =>
        (this.#protocol as unknown as SubprocessBufferHooks)._pipeBufferUpdated(fd, n),
      connectionLost: (fd, exc) => {
        this.#call(this.#protocol.pipeConnectionLost, fd, exc);
        this.#tryFinish();
      },
      pauseWriting: () => this.#protocol.pauseWriting(),
      resumeWriting: () => this.#protocol.resumeWriting(),
    };
    STREAMS.forEach((name, fd) => {
      if (child[name] !== undefined) this.#pipes.set(fd, null);
    });
    try {
      options.watcher.addChildHandler(this.#pid, this.#onExit, { loop });
    } catch (e) {
      for (const name of STREAMS) if (child[name] !== undefined) closeFd(child[name]!);
      killAndReap(this.#pid);
      throw e;
    }
    void this.#connectPipes(child, options.waiter ?? null);
  }

  async #connectPipes(child: SpawnedProcess, waiter: Future<void> | null): Promise<void> {
    const loop = this.#loop;
    const untaken = new Set<number>(STREAMS.map((n) => child[n]).filter((fd) => fd !== undefined));
    try {
      for (let fd = 0; fd < 3; fd++) {
        const pipe = child[STREAMS[fd]];
        if (pipe === undefined) continue;
        const factory = () => new SubprocessPipeProto(this.#sink, fd);
        const [, proto] = fd === 0
          ? await loop.connectWritePipe(factory, pipe)
          : await loop.connectReadPipe(factory, pipe);
        untaken.delete(pipe); // the pipe transport owns it now (a failed call leaves it ours)
        this.#pipes.set(fd, proto);
      }
      loop.callSoon(this.#callProtocol, this.#protocol.connectionMade, [this]);
      for (const [fn, args] of this.#pending!) loop.callSoon(this.#callProtocol, fn, args);
      this.#pending = null;
      // Events from now on are delivered directly, once those queued above ran.
      loop.callSoon(() => this.#direct = true);
    } catch (e) {
      for (const fd of untaken) closeFd(fd);
      if (waiter !== null && !waiter.done()) waiter.setException(e);
      return;
    }
    if (waiter !== null && !waiter.done()) waiter.setResult(undefined);
  }

  #callProtocol = (fn: (...args: never[]) => unknown, args: unknown[]): void => {
    (fn as (...a: unknown[]) => unknown).apply(this.#protocol, args);
  };

  // asyncio's _call(): queued until connectionMade() is scheduled, then in order.
  #call<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    const f = fn as unknown as (...args: never[]) => unknown;
    if (this.#pending !== null) this.#pending.push([f, args]);
    else if (this.#direct) this.#callProtocol(f, args);
    else this.#loop.callSoon(this.#callProtocol, f, args);
  }

  #onExit = (_pid: number, returncode: number): void => {
    if (this.#returncode !== null) return;
    this.#returncode = returncode;
    if (this.#loop.getDebug()) console.info(`${this} exited with return code ${returncode}`);
    // wait() resolves when the process exits, even if a grandchild keeps a pipe open.
    for (const w of this.#exitWaiters) if (!w.done()) w.setResult(returncode);
    this.#exitWaiters = [];
    this.#call(this.#protocol.processExited);
    this.#tryFinish();
  };

  #tryFinish(): void {
    if (this.#finished || this.#returncode === null) return;
    for (const p of this.#pipes.values()) if (p === null || !p.disconnected) return;
    this.#finished = true;
    // Always through callSoon: after processExited() and the last pipeConnectionLost().
    const lost = () => this.#callConnectionLost();
    if (this.#pending !== null) this.#pending.push([lost, []]);
    else this.#loop.callSoon(lost);
  }

  #callConnectionLost(): void {
    if (this.#connectionLost) return;
    this.#connectionLost = true;
    this.#protocol.connectionLost(null);
  }

  /**
   * The child's pid.
   */
  getPid(): number {
    return this.#pid;
  }

  /**
   * The child's return code, `null` while it runs (`-N` if signal `N`
   * killed it).
   */
  getReturncode(): number | null {
    return this.#returncode;
  }

  /**
   * The pipe transport of the child's fd `fd` (0 stdin, 1 stdout, 2
   * stderr), or `null` when that stream is not a pipe (or not yet
   * connected).
   *
   * @example
   * ```ts ignore
   * const stdin = transport.getPipeTransport(0) as WriteTransport;
   * stdin.write(data);
   * ```
   */
  getPipeTransport(fd: number): BaseTransport | null {
    return this.#pipes.get(fd)?.pipe ?? null;
  }

  /**
   * Resolves to the return code once the child has exited.
   *
   * @example
   * ```ts ignore
   * const code = await transport.wait();
   * ```
   */
  wait(): Promise<number> {
    if (this.#returncode !== null) return Promise.resolve(this.#returncode);
    const w = this.#loop.createFuture<number>();
    this.#exitWaiters.push(w);
    return Promise.resolve(w);
  }

  /**
   * Sends `signal` (Deno's name, such as `"SIGUSR1"`, or a number) to the
   * child. Nothing happens once its exit was seen.
   */
  sendSignal(signal: Deno.Signal | number): void {
    const num = typeof signal === "number" ? signal : signalNumber(signal);
    if (num === undefined || !Number.isInteger(num) || num < 0 || num > 64) {
      throw new RangeError(`unknown signal ${describe(signal)} on ${PLATFORM}`);
    }
    if (this.#finished && this.#connectionLost) throw processLookupError(this.#pid);
    if (this.#returncode !== null) return; // reaped: the pid may be someone else's now
    try {
      killProcess(this.#pid, num);
    } catch (e) {
      // Exited, not reaped yet: the watcher is about to report it.
      if ((e as { code?: string }).code !== "ESRCH") throw e;
    }
  }

  /**
   * Sends SIGTERM.
   */
  terminate(): void {
    this.sendSignal("SIGTERM");
  }

  /**
   * Sends SIGKILL.
   */
  kill(): void {
    this.sendSignal("SIGKILL");
  }

  /**
   * Whether `close()` was called.
   */
  isClosing(): boolean {
    return this.#closed;
  }

  /**
   * Closes the pipes and kills the child if it still runs (asyncio does
   * the same); `connectionLost()` follows once the watcher reaped it.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const proto of this.#pipes.values()) proto?.pipe?.close();
    if (this.#returncode === null) {
      if (this.#loop.getDebug()) console.warn(`Close running child process: kill ${this}`);
      try {
        killProcess(this.#pid, 9);
      } catch {
        // ESRCH: it exited already; the watcher reaps it.
      }
    }
  }

  /**
   * Replaces the protocol.
   */
  setProtocol(protocol: SubprocessProtocol): void {
    this.#protocol = protocol;
  }

  /**
   * The protocol.
   */
  getProtocol(): SubprocessProtocol {
    return this.#protocol;
  }

  /**
   * A short description: pid, state and pipes.
   *
   * @example
   * ```ts ignore
   * console.log(String(transport)); // "<UnixSubprocessTransport pid=1234 running stdin=... >"
   * ```
   */
  override toString(): string {
    const state = this.#closed
      ? "closed"
      : this.#returncode !== null
      ? `returncode=${this.#returncode}`
      : "running";
    const pipes = [...this.#pipes.entries()].map(([fd, p]) =>
      `${STREAMS[fd]}=${p?.pipe ? String(p.pipe) : "<connecting>"}`
    );
    return `<UnixSubprocessTransport pid=${this.#pid} ${state}${
      pipes.length ? " " + pipes.join(" ") : ""
    }>`;
  }
}
