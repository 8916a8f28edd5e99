/**
 * asyncio's `asyncio.subprocess`: `createSubprocessExec()` and
 * `createSubprocessShell()` start a child and give a {@linkcode Process}
 * whose `stdin` is a `StreamWriter` and whose `stdout`/`stderr` are
 * `StreamReader`s (each with its Web stream: `.writable`, `.readable`).
 *
 * @module
 */
import type { AbstractEventLoop } from "../loop/abstract_event_loop.ts";
import type { SubprocessOptions } from "../loop/subprocess_options.ts";
import type {
  BaseTransport,
  SubprocessTransport,
  Transport,
} from "../transports/base_transport.ts";
import type { SubprocessProtocol } from "../transports/subprocess_protocol.ts";
import { getEventLoop } from "../policy.ts";
import { FlowControlMixin } from "./flow_control_mixin.ts";
import { DEFAULT_LIMIT, type ReaderTransport, StreamReader } from "./stream_reader.ts";
import { StreamWriter } from "./stream_writer.ts";

/**
 * Options of `createSubprocessExec()`/`createSubprocessShell()`: the spawn
 * options (stdin, stdout and stderr default to `"inherit"`, as asyncio's
 * `None`) and the readers' `limit`.
 */
export interface CreateSubprocessOptions extends SubprocessOptions {
  /** The buffer limit of the stdout/stderr readers; default `DEFAULT_LIMIT` (64 KiB). */
  limit?: number;
}

/**
 * The protocol behind a {@linkcode Process} (asyncio's
 * `SubprocessStreamProtocol`): feeds the child's stdout and stderr to
 * `StreamReader`s and gives its stdin a `StreamWriter`, with `drain()`
 * flow control; it closes the transport once the child exited and its
 * output pipes closed.
 *
 * @example
 * ```ts ignore
 * const [transport, protocol] = await loop.subprocessExec(
 *   () => new SubprocessStreamProtocol({ loop }),
 *   ["ls"],
 *   { stdin: "null", stdout: "pipe", stderr: "inherit" },
 * );
 * console.log(await protocol.stdout!.read());
 * ```
 */
export class SubprocessStreamProtocol extends FlowControlMixin implements SubprocessProtocol {
  /** The child's stdin, when it is a pipe. */
  stdin: StreamWriter | null = null;
  /** The child's stdout, when it is a pipe. */
  stdout: StreamReader | null = null;
  /** The child's stderr, when it is a pipe. */
  stderr: StreamReader | null = null;
  #limit: number;
  #loop: AbstractEventLoop;
  #transport: SubprocessTransport | null = null;
  #processExited = false;
  #pipeFds: number[] = [];
  #stdinClosed = Promise.withResolvers<void>();
  #exited = Promise.withResolvers<number>();

  /** Makes the protocol for `options.loop` (the current loop by default). */
  constructor(options: { limit?: number; loop?: AbstractEventLoop } = {}) {
    super();
    this.#limit = options.limit ?? DEFAULT_LIMIT;
    this.#loop = options.loop ?? getEventLoop();
    this.#stdinClosed.promise.catch(() => {}); // only waitClosed() reports it
  }

  /** Makes the streams of the pipes the transport has. */
  override connectionMade(transport: BaseTransport): void {
    const t = transport as SubprocessTransport;
    this.#transport = t;
    for (const fd of [1, 2]) {
      const pipe = t.getPipeTransport(fd);
      if (pipe === null) continue;
      const reader = new StreamReader({ limit: this.#limit });
      reader.setTransport(pipe as unknown as ReaderTransport);
      if (fd === 1) this.stdout = reader;
      else this.stderr = reader;
      this.#pipeFds.push(fd);
    }
    const stdin = t.getPipeTransport(0);
    if (stdin !== null) {
      // A write pipe has every method StreamWriter uses (write, writeEof, close, abort ...).
      this.stdin = new StreamWriter(stdin as unknown as Transport, this, { loop: this.#loop });
    }
  }

  /** Feeds the child's output to its reader. */
  pipeDataReceived(fd: number, data: Uint8Array): void {
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    reader?.feedData(data);
  }

  /**
   * Where the next read of the child's `fd` may go directly: the reader's
   * buffer while a `read()` to the end waits, else `null`. Internal (the
   * subprocess transport's `SubprocessBufferHooks`).
   * @internal
   */
  _pipeGetBuffer(fd: number): Uint8Array | null {
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    return reader === null ? null : reader._getBuffer();
  }

  /**
   * `n` bytes of the child's `fd` were read into the reader's buffer.
   * @internal
   */
  _pipeBufferUpdated(fd: number, n: number): void {
    (fd === 1 ? this.stdout : this.stderr)!._bufferUpdated(n);
  }

  /** Ends a reader (or the writer, for stdin). */
  pipeConnectionLost(fd: number, exc: Error | null): void {
    if (fd === 0) {
      this.stdin?.close();
      super.connectionLost(exc); // wakes drain() waiters
      if (exc === null) this.#stdinClosed.resolve();
      else this.#stdinClosed.reject(exc);
      return;
    }
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    const i = this.#pipeFds.indexOf(fd);
    if (i >= 0) this.#pipeFds.splice(i, 1);
    this.#maybeCloseTransport();
  }

  /** Notes the exit; `wait()` resolves. */
  processExited(): void {
    this.#processExited = true;
    this.#exited.resolve(this.#transport!.getReturncode()!);
    this.#maybeCloseTransport();
  }

  /**
   * Resolves to the return code once the child exited.
   * @internal
   */
  _wait(): Promise<number> {
    return this.#exited.promise;
  }

  /**
   * What the stdin writer's `waitClosed()` awaits.
   * @internal
   */
  _getCloseWaiter(_writer: StreamWriter): Promise<void> {
    return this.#stdinClosed.promise;
  }

  #maybeCloseTransport(): void {
    if (this.#pipeFds.length === 0 && this.#processExited && this.#transport !== null) {
      this.#transport.close();
    }
  }
}

function isBrokenPipe(e: unknown): boolean {
  return e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset;
}

const encoder = new TextEncoder();

// A write pipe that can keep a view of the caller's bytes (UnixWritePipeTransport._writeLent).
interface LendingTransport {
  /** @internal */
  _writeLent(data: Uint8Array): void;
}

/**
 * A child process started by `createSubprocessExec()` or
 * `createSubprocessShell()` (asyncio's `asyncio.subprocess.Process`).
 *
 * @example
 * ```ts ignore
 * const proc = await createSubprocessExec(["sort"], { stdin: PIPE, stdout: PIPE });
 * const [out] = await proc.communicate("b\na\n");
 * console.log(new TextDecoder().decode(out!)); // "a\nb\n"
 * ```
 */
export class Process {
  /** The child's pid. */
  readonly pid: number;
  /** Its stdin (`PIPE` only), or `null`. */
  readonly stdin: StreamWriter | null;
  /** Its stdout (`PIPE` only), or `null`. */
  readonly stdout: StreamReader | null;
  /** Its stderr (`PIPE` only), or `null`. */
  readonly stderr: StreamReader | null;
  #transport: SubprocessTransport;
  #protocol: SubprocessStreamProtocol;

  /** Wraps a started child; `createSubprocessExec()` makes these. */
  constructor(transport: SubprocessTransport, protocol: SubprocessStreamProtocol) {
    this.#transport = transport;
    this.#protocol = protocol;
    this.pid = transport.getPid();
    this.stdin = protocol.stdin;
    this.stdout = protocol.stdout;
    this.stderr = protocol.stderr;
  }

  /**
   * The return code, `null` while the child runs; `-N` when signal `N`
   * killed it.
   *
   * @example
   * ```ts ignore
   * await proc.wait();
   * console.log(proc.returncode); // 0
   * ```
   */
  get returncode(): number | null {
    return this.#transport.getReturncode();
  }

  /**
   * Waits for the child to exit; resolves to its return code. With
   * `stdout: PIPE` or `stderr: PIPE`, read the output meanwhile (or use
   * `communicate()`): a child blocked on a full pipe never exits.
   *
   * @example
   * ```ts ignore
   * const code = await proc.wait();
   * ```
   */
  wait(): Promise<number> {
    return this.#protocol._wait();
  }

  /**
   * Writes `input` to stdin and closes it, reads stdout and stderr to
   * their end, all at once (so neither side can block the other), then
   * waits for the exit. Resolves to `[stdout, stderr]`, each `null` unless
   * it is a `PIPE`. A child that exits without reading all of `input` is
   * no error.
   *
   * `input` is written from where it is, not copied: until the returned
   * promise settles, don't change it (nor transfer its buffer). If
   * `communicate()` fails, stdin is aborted first, so nothing reads
   * `input` afterwards.
   *
   * @example
   * ```ts ignore
   * const [out, err] = await proc.communicate(new TextEncoder().encode("input"));
   * ```
   */
  async communicate(
    input?: Uint8Array | string | null,
  ): Promise<[Uint8Array | null, Uint8Array | null]> {
    const data = typeof input === "string" ? encoder.encode(input) : input ?? null;
    let out: Uint8Array | null, err: Uint8Array | null;
    try {
      [, out, err] = await Promise.all([
        this.stdin !== null ? this.#feedStdin(data) : null,
        this.stdout !== null ? this.#readStream(1, this.stdout) : null,
        this.stderr !== null ? this.#readStream(2, this.stderr) : null,
      ]);
    } catch (e) {
      // communicate() no longer owns `input`: drop what the pipe still holds of it.
      const t = this.stdin?.transport;
      if (t !== undefined && t.getWriteBufferSize() > 0) t.abort();
      throw e;
    }
    await this.wait();
    return [out, err];
  }

  async #feedStdin(input: Uint8Array | null): Promise<void> {
    const stdin = this.stdin!;
    try {
      if (input !== null && input.byteLength > 0) {
        // Lent, not copied: this call waits below until the pipe has written it (or is lost).
        const pipe = this.#transport.getPipeTransport(0) as Partial<LendingTransport> | null;
        if (typeof pipe?._writeLent === "function") pipe._writeLent(input);
        else stdin.write(input);
        await stdin.drain();
      }
    } catch (e) {
      if (!isBrokenPipe(e)) throw e; // the child exited without reading all of it
    }
    stdin.close();
    try {
      await stdin.waitClosed();
    } catch (e) {
      if (!isBrokenPipe(e)) throw e;
    }
  }

  async #readStream(fd: number, stream: StreamReader): Promise<Uint8Array> {
    const output = await stream.read();
    this.#transport.getPipeTransport(fd)?.close();
    return output;
  }

  /**
   * Sends `signal` (`"SIGUSR1"` ...) to the child; nothing once it exited.
   *
   * @example
   * ```ts ignore
   * proc.sendSignal("SIGINT");
   * ```
   */
  sendSignal(signal: Deno.Signal): void {
    this.#transport.sendSignal(signal);
  }

  /**
   * Sends SIGTERM.
   *
   * @example
   * ```ts ignore
   * proc.terminate();
   * ```
   */
  terminate(): void {
    this.#transport.terminate();
  }

  /**
   * Sends SIGKILL; `wait()` then resolves to -9.
   *
   * @example
   * ```ts ignore
   * proc.kill();
   * console.log(await proc.wait()); // -9
   * ```
   */
  kill(): void {
    this.#transport.kill();
  }

  /**
   * A short description.
   *
   * @example
   * ```ts ignore
   * console.log(String(proc)); // "<Process 1234>"
   * ```
   */
  toString(): string {
    return `<Process ${this.pid}>`;
  }
}

function splitOptions(
  options: CreateSubprocessOptions | undefined,
): [number | undefined, SubprocessOptions] {
  const { limit, ...rest } = options ?? {};
  return [limit, {
    ...rest,
    stdin: rest.stdin ?? "inherit",
    stdout: rest.stdout ?? "inherit",
    stderr: rest.stderr ?? "inherit",
  }];
}

/**
 * Starts `args[0]` with the arguments `args` (asyncio's
 * `create_subprocess_exec()`) on the running loop (else the one set with
 * `setEventLoop()`), and resolves to its {@linkcode Process}. Streams are
 * inherited unless `options` asks for `PIPE`, `DEVNULL`, `STDOUT` or an fd.
 * A missing program rejects with `Deno.errors.NotFound` naming it.
 *
 * @example
 * ```ts
 * import { createSubprocessExec, PIPE, run } from "@aio/loop";
 * if (Deno.build.os !== "windows") {
 *   const out = await run(async () => {
 *     const proc = await createSubprocessExec(["echo", "hello"], { stdout: PIPE });
 *     const [stdout] = await proc.communicate();
 *     return new TextDecoder().decode(stdout!);
 *   });
 *   console.log(out); // "hello\n"
 * }
 * ```
 */
export async function createSubprocessExec(
  args: readonly string[],
  options?: CreateSubprocessOptions,
): Promise<Process> {
  const loop = getEventLoop();
  const [limit, spawn] = splitOptions(options);
  const [transport, protocol] = await loop.subprocessExec(
    () => new SubprocessStreamProtocol({ limit, loop }),
    args,
    spawn,
  );
  return new Process(transport, protocol);
}

/**
 * Runs the shell command `cmd` with `/bin/sh -c` (asyncio's
 * `create_subprocess_shell()`); otherwise as `createSubprocessExec()`.
 * Quoting is the caller's job.
 *
 * @example
 * ```ts
 * import { createSubprocessShell, PIPE, run } from "@aio/loop";
 * if (Deno.build.os !== "windows") {
 *   const code = await run(async () => {
 *     const proc = await createSubprocessShell("exit 3", { stdout: PIPE });
 *     return await proc.wait();
 *   });
 *   console.log(code); // 3
 * }
 * ```
 */
export async function createSubprocessShell(
  cmd: string,
  options?: CreateSubprocessOptions,
): Promise<Process> {
  const loop = getEventLoop();
  const [limit, spawn] = splitOptions(options);
  const [transport, protocol] = await loop.subprocessShell(
    () => new SubprocessStreamProtocol({ limit, loop }),
    cmd,
    spawn,
  );
  return new Process(transport, protocol);
}
