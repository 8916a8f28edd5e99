/**
 * What the Unix and Windows subprocess transports share (asyncio's
 * `base_subprocess.BaseSubprocessTransport`): the child's pipes wrapped in
 * pipe transports, the protocol's calls in asyncio's order, `wait()`,
 * `close()` and the description. Each OS supplies how a child is watched,
 * signalled and killed, and how an unconnected pipe end is closed.
 *
 * The protocol's calls come in this order: `connectionMade()` once every
 * pipe is connected (earlier events wait for it), then
 * `pipeDataReceived()`/`pipeConnectionLost()` per pipe and
 * `processExited()`, and `connectionLost()` last, only once the process has
 * exited *and* every pipe has closed.
 *
 * @module
 */
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { Future } from "../future.ts";
import { type BaseTransport, SubprocessTransport } from "../../transports/base_transport.ts";
import type { SubprocessProtocol } from "../../transports/subprocess_protocol.ts";
import {
  type PipeSink,
  type SubprocessBufferHooks,
  SubprocessPipeProto,
} from "./_subprocess_pipe_protos.ts";

type Call = [(...args: never[]) => unknown, unknown[]];

const STREAMS = ["stdin", "stdout", "stderr"] as const;

/** Python's `ProcessLookupError`: the transport has finished, its pid may be reused. */
function processLookupError(pid: number): Error {
  return Object.assign(new Error(`process ${pid} has finished: it can no longer be signalled`), {
    code: "ESRCH",
  });
}

/**
 * The shared part of a subprocess transport. A subclass starts watching
 * the child's exit, then calls {@linkcode _connectPipes}; it reports the
 * exit with {@linkcode _processExited} and implements the kill and the
 * pipe-end close of its OS.
 */
export abstract class BaseSubprocessTransport extends SubprocessTransport {
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

  /** `pipeEnds[fd]` is our end of the child's fd `fd` when it is a pipe. */
  constructor(
    loop: AbstractEventLoop,
    protocol: SubprocessProtocol,
    pid: number,
    pipeEnds: readonly (number | undefined)[],
    extra?: Record<string, unknown>,
  ) {
    super(extra);
    this.#loop = loop;
    this.#protocol = protocol;
    this.#pid = pid;
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
    for (let fd = 0; fd < 3; fd++) if (pipeEnds[fd] !== undefined) this.#pipes.set(fd, null);
  }

  /** Kills the child for `close()`; it may have exited already. */
  protected abstract _killChild(): void;

  /** Closes our end of a pipe that no pipe transport took. */
  protected abstract _closePipeEnd(end: number): void;

  /** The loop the transport runs on. */
  protected get _loop(): AbstractEventLoop {
    return this.#loop;
  }

  /**
   * Wraps `pipeEnds` in pipe transports (stdin writes, stdout and stderr
   * read), then schedules `connectionMade()` and what waited for it, and
   * settles `waiter`. On failure the ends not taken are closed, the pipes
   * never connected are not waited for, and `waiter` rejects.
   */
  protected async _connectPipes(
    pipeEnds: readonly (number | undefined)[],
    waiter: Future<void> | null,
  ): Promise<void> {
    const loop = this.#loop;
    const untaken = new Set<number>(pipeEnds.filter((h): h is number => h !== undefined));
    try {
      for (let fd = 0; fd < 3; fd++) {
        const end = pipeEnds[fd];
        if (end === undefined) continue;
        const factory = () => new SubprocessPipeProto(this.#sink, fd);
        const [, proto] = fd === 0
          ? await loop.connectWritePipe(factory, end)
          : await loop.connectReadPipe(factory, end);
        untaken.delete(end); // the pipe transport owns it now (a failed call leaves it ours)
        this.#pipes.set(fd, proto);
      }
      loop.callSoon(this.#callProtocol, this.#protocol.connectionMade, [this]);
      for (const [fn, args] of this.#pending!) loop.callSoon(this.#callProtocol, fn, args);
      this.#pending = null;
      // Events from now on are delivered directly, once those queued above ran.
      loop.callSoon(() => this.#direct = true);
    } catch (e) {
      for (const end of untaken) this._closePipeEnd(end);
      for (const [fd, proto] of [...this.#pipes]) if (proto === null) this.#pipes.delete(fd);
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

  /**
   * The child exited with `returncode`: `wait()` resolves (even if a
   * grandchild keeps a pipe open) and, when `notify`, the protocol hears
   * `processExited()` (a closed loop can no longer deliver it).
   */
  protected _processExited(returncode: number, notify = true): void {
    if (this.#returncode !== null) return;
    this.#returncode = returncode;
    for (const w of this.#exitWaiters) if (!w.done()) w.setResult(returncode);
    this.#exitWaiters = [];
    if (!notify) return;
    if (this.#loop.getDebug()) console.info(`${this} exited with return code ${returncode}`);
    this.#call(this.#protocol.processExited);
    this.#tryFinish();
  }

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
   * For `sendSignal()`: throws `code` `"ESRCH"` once the transport has
   * finished; false once the exit was seen (the pid may be someone else's
   * by then), so nothing is to be sent.
   */
  protected _signallable(): boolean {
    if (this.#finished && this.#connectionLost) throw processLookupError(this.#pid);
    return this.#returncode === null;
  }

  /** The child's pid. */
  getPid(): number {
    return this.#pid;
  }

  /**
   * The child's return code, `null` while it runs: on Unix `-N` when
   * signal `N` killed it, on Windows the exit code (an unsigned 32-bit
   * number).
   */
  getReturncode(): number | null {
    return this.#returncode;
  }

  /**
   * The pipe transport of the child's fd `fd` (0 stdin, 1 stdout, 2
   * stderr), or `null` when that stream is not a pipe (or not yet
   * connected).
   */
  getPipeTransport(fd: number): BaseTransport | null {
    return this.#pipes.get(fd)?.pipe ?? null;
  }

  /** Resolves to the return code once the child has exited. */
  wait(): Promise<number> {
    const rc = this.getReturncode();
    if (rc !== null) return Promise.resolve(rc);
    const w = this.#loop.createFuture<number>();
    this.#exitWaiters.push(w);
    return Promise.resolve(w);
  }

  /** Whether `close()` was called. */
  isClosing(): boolean {
    return this.#closed;
  }

  /**
   * Closes the pipes and kills the child if it still runs (asyncio does
   * the same); `connectionLost()` follows once its exit was seen.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const proto of this.#pipes.values()) proto?.pipe?.close();
    if (this.#returncode === null) {
      if (this.#loop.getDebug()) console.warn(`Close running child process: kill ${this}`);
      this._killChild();
    }
  }

  /** Replaces the protocol. */
  setProtocol(protocol: SubprocessProtocol): void {
    this.#protocol = protocol;
  }

  /** The protocol. */
  getProtocol(): SubprocessProtocol {
    return this.#protocol;
  }

  /** A short description: class, pid, state and pipes. */
  override toString(): string {
    const state = this.#closed
      ? "closed"
      : this.#returncode !== null
      ? `returncode=${this.#returncode}`
      : "running";
    const pipes = [...this.#pipes.entries()].map(([fd, p]) =>
      `${STREAMS[fd]}=${p?.pipe ? String(p.pipe) : "<connecting>"}`
    );
    return `<${this.constructor.name} pid=${this.#pid} ${state}${
      pipes.length ? " " + pipes.join(" ") : ""
    }>`;
  }
}
