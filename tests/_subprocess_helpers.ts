/**
 * Helpers of the subprocess tests: a protocol that records every call,
 * zombie checks, running a test under a given child watcher, and the
 * children the portable tests run ({@linkcode CHILD}: the Unix tools on
 * Unix; `cmd.exe` or a child `deno eval` with the same output on Windows).
 *
 * @module
 */
import { LIBC_PATH } from "../ffi/unix/libc.ts";
import { SubprocessProtocol } from "../transports/subprocess_protocol.ts";
import type { BaseTransport } from "../transports/base_transport.ts";
import type { AbstractChildWatcher } from "../loop/unix/child_watcher.ts";
import { getEventLoopPolicy } from "../policy.ts";

/** Records the protocol calls in order, and the output per fd. */
export class Recorder extends SubprocessProtocol {
  /** The calls, such as `"made"`, `"data1"`, `"pipeLost1"`, `"exited"`, `"lost"`. */
  events: string[] = [];
  /** Output chunks per fd. */
  chunks: Record<number, Uint8Array[]> = { 1: [], 2: [] };
  /** Resolves at connectionLost(). */
  done: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  /** The transport, from connectionMade(). */
  transport: BaseTransport | null = null;

  override connectionMade(transport: BaseTransport): void {
    this.transport = transport;
    this.events.push("made");
  }
  override pipeDataReceived(fd: number, data: Uint8Array): void {
    if (this.events.at(-1) !== `data${fd}`) this.events.push(`data${fd}`);
    this.chunks[fd].push(data);
  }
  override pipeConnectionLost(fd: number, exc: Error | null): void {
    this.events.push(`pipeLost${fd}${exc ? ":" + exc.name : ""}`);
  }
  override processExited(): void {
    this.events.push("exited");
  }
  override connectionLost(exc: Error | null): void {
    this.events.push(`lost${exc ? ":" + exc.name : ""}`);
    this.done.resolve();
  }

  /** The output of `fd` as text. */
  text(fd: number): string {
    const all = this.chunks[fd];
    const buf = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of all) {
      buf.set(c, off);
      off += c.length;
    }
    return new TextDecoder().decode(buf);
  }
}

let peekLib:
  | Deno.DynamicLibrary<{ waitid: { parameters: ["i32", "i32", "buffer", "i32"]; result: "i32" } }>
  | undefined;

/**
 * The pid of an exited, unreaped child of ours (0 if none), without reaping it.
 * Windows has no zombies (a process handle is not a child to reap): always 0 there.
 */
export function zombieChild(): number {
  if (Deno.build.os === "windows") return 0;
  peekLib ??= Deno.dlopen(LIBC_PATH, {
    waitid: { parameters: ["i32", "i32", "buffer", "i32"], result: "i32" },
  });
  const info = new Uint8Array(128);
  const WNOWAIT = Deno.build.os === "darwin" ? 0x20 : 0x01000000;
  if (peekLib.symbols.waitid(0, 0, info, 4 | 1 | WNOWAIT) < 0) return 0; // ECHILD: no children
  return new DataView(info.buffer).getInt32(16, true);
}

/** Whether `pid` is a zombie child of this process (`/proc/<pid>/stat`; Linux). */
export function isOurZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return false; // gone: reaped
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[0] === "Z" && Number(fields[1]) === Deno.pid;
}

/** Runs `fn` with `watcher` as the policy's child watcher, then restores the default. */
export async function withWatcher(
  watcher: AbstractChildWatcher,
  fn: () => Promise<void>,
): Promise<void> {
  const policy = getEventLoopPolicy();
  policy.setChildWatcher(watcher);
  try {
    await fn();
  } finally {
    policy.setChildWatcher(null);
  }
}

/** 1 MiB-ish patterned bytes. */
export function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >>> 9)) & 0xff;
  return out;
}

const windows = Deno.build.os === "windows";

/** `deno eval SCRIPT` with this Deno (the same program on every OS). */
export function denoEval(script: string): string[] {
  return [Deno.execPath(), "eval", script];
}

/** Writes the string `expr` evaluates to to stdout (fd 1) or stderr (fd 2), in a `deno eval` script. */
function put(fd: 1 | 2, expr: string): string {
  const stream = fd === 1 ? "stdout" : "stderr";
  return `Deno.${stream}.writeSync(new TextEncoder().encode(${expr}));`;
}

/** Reads all of stdin as text into `t`, in a `deno eval` script. */
const READ_ALL = "const t = await new Response(Deno.stdin.readable).text();";

/**
 * A script that writes `lines` in order, each `[fd, text]`, each line ended by "\n"
 * (`echo` in sh); on Windows a `deno eval` script (cmd's echo ends lines with CRLF).
 */
export function echoLines(lines: readonly (readonly [1 | 2, string])[]): string[] {
  if (!windows) {
    return ["sh", "-c", lines.map(([fd, s]) => `echo ${s}${fd === 2 ? " >&2" : ""}`).join("; ")];
  }
  return denoEval(lines.map(([fd, s]) => put(fd, JSON.stringify(`${s}\n`))).join(" "));
}

/** The kinds of child in {@linkcode CHILD}. */
export type ChildName =
  | "ok"
  | "exit3"
  | "sleeper"
  | "cat"
  | "countBytes"
  | "countLines"
  | "sort"
  | "upper";

/**
 * The children of the portable subprocess tests: on Unix the tools the tests
 * always ran; on Windows `cmd.exe` where it does the same, else a child
 * `deno eval` whose output is byte for byte what the Unix tool prints.
 */
export const CHILD: Readonly<Record<ChildName, readonly string[]>> = {
  /** Exits 0 at once. */
  ok: windows ? ["cmd.exe", "/c", "exit 0"] : ["true"],
  /** Exits 3 at once. */
  exit3: windows ? ["cmd.exe", "/c", "exit 3"] : ["sh", "-c", "exit 3"],
  /** Runs until killed (30 s on Unix, 10 minutes on Windows). */
  sleeper: windows ? denoEval("setTimeout(function () {}, 600000)") : ["sleep", "30"],
  /** Copies stdin to stdout until EOF. */
  cat: windows ? denoEval("await Deno.stdin.readable.pipeTo(Deno.stdout.writable)") : ["cat"],
  /** Prints the number of bytes on stdin (`wc -c`). */
  countBytes: windows
    ? denoEval(
      "let n = 0; for await (const c of Deno.stdin.readable) n += c.length; console.log(n)",
    )
    : ["wc", "-c"],
  /** Prints the number of lines on stdin (`wc -l`). */
  countLines: windows
    ? denoEval(`${READ_ALL} console.log(t.split('\\n').length - 1)`)
    : ["wc", "-l"],
  /** Sorts the lines of stdin (`sort`). */
  sort: windows
    ? denoEval(
      `${READ_ALL} const out = t.split('\\n').filter(Boolean).sort().map(function (l) {` +
        ` return l + '\\n' }).join(''); ${put(1, "out")}`,
    )
    : ["sort"],
  /** Upper-cases stdin (`tr a-z A-Z`). */
  upper: windows ? denoEval(`${READ_ALL} ${put(1, "t.toUpperCase()")}`) : ["tr", "a-z", "A-Z"],
};

/** The returncode of a child ended by `kill()`: -9 (SIGKILL) on Unix, 1 (TerminateProcess) on Windows. */
export const KILLED = windows ? 1 : -9;

/** How the shell's `echo` ends a line: "\n" in sh, "\r\n" in cmd.exe. */
export const SHELL_EOL = windows ? "\r\n" : "\n";

/**
 * A shell command (for `subprocessShell`/`createSubprocessShell`) that writes
 * `lines` in order, each `[fd, text]` and ended by {@linkcode SHELL_EOL}:
 * `echo a; echo b >&2` in sh, `echo a& 1>&2 echo b` in cmd.exe.
 */
export function shellEcho(lines: readonly (readonly [1 | 2, string])[]): string {
  return windows
    ? lines.map(([fd, s]) => `${fd === 2 ? "1>&2 " : ""}echo ${s}`).join("& ")
    : lines.map(([fd, s]) => `echo ${s}${fd === 2 ? " >&2" : ""}`).join("; ");
}
