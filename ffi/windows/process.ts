/**
 * Child processes on Windows at the handle level (the process half of
 * CPython's `_winapi` and `subprocess.Popen._execute_child`):
 * `CreateProcessW` with a command line quoted as `subprocess.list2cmdline`
 * does, a working directory, a sorted UTF-16 environment block, and
 * `STARTUPINFOEXW` with `PROC_THREAD_ATTRIBUTE_HANDLE_LIST`, so the child
 * inherits exactly its three stdio handles and nothing a concurrent spawn
 * made inheritable; `TerminateProcess`, `GetExitCodeProcess`, and the
 * exit watched by a `nonblocking` `WaitForMultipleObjects` on the process
 * and a cancel event (no C callback: DESIGN.md decision 8).
 *
 * Handles go in and out as numbers (HANDLE values); nothing outside
 * `ffi/` touches a pointer.
 *
 * @module
 */
import { winError } from "./errors.ts";
import { INVALID_HANDLE_VALUE, IS_WINDOWS, K32, kernel32 } from "./kernel32.ts";

const STARTF_USESTDHANDLES = 0x100;
const EXTENDED_STARTUPINFO_PRESENT = 0x8_0000;
const CREATE_UNICODE_ENVIRONMENT = 0x400;
const PROC_THREAD_ATTRIBUTE_HANDLE_LIST = 0x2_0002n;
const STARTUPINFOEXW_SIZE = 112;
const PROCESS_INFORMATION_SIZE = 24;
const FILE_SHARE_READ_WRITE = 3;
const ERROR_ACCESS_DENIED = 5;

// Every HANDLE this module opened and has not closed (process handles, NUL, duplicates, events).
const OPEN = new Set<number>();

/**
 * How many HANDLEs this module opened and has not closed yet (process
 * handles, `NUL`, duplicated stdio handles, exit-watch events): for leak
 * checks, where `GetProcessHandleCount` tells nothing (Wine's is always 0).
 *
 * @example
 * ```ts
 * import { openProcessHandles } from "./process.ts";
 * console.log(openProcessHandles()); // 0
 * ```
 */
export function openProcessHandles(): number {
  return OPEN.size;
}

const ptr = (h: number | bigint): Deno.PointerValue => Deno.UnsafePointer.create(BigInt(h));
const addr = (p: Deno.PointerValue): bigint =>
  p === null ? 0n : BigInt(Deno.UnsafePointer.value(p));

function checkWindows(what: string): void {
  if (!IS_WINDOWS) {
    throw new Deno.errors.NotSupported(
      `${what}: CreateProcessW is Windows only; this is ${Deno.build.os} (use the Unix loops' ` +
        `subprocessExec)`,
    );
  }
}

/** A UTF-16, NUL-terminated copy of `s` in its own (non-moving) ArrayBuffer. */
function wide(s: string): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(new ArrayBuffer((s.length + 1) * 2));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * One command line from `args`, quoted as Python's
 * `subprocess.list2cmdline` does (the rules of the Microsoft C runtime's
 * argument parser): an argument with a space or a tab, or an empty one, is
 * put in double quotes; a double quote is escaped with a backslash, and the
 * backslashes before a quote (or before the closing quote) are doubled.
 *
 * @example
 * ```ts
 * import { list2cmdline } from "./process.ts";
 * console.log(list2cmdline(["a b", 'c"d', "e\\", ""])); // "a b" c\"d e\ ""
 * ```
 */
export function list2cmdline(args: readonly string[]): string {
  const out: string[] = [];
  for (const arg of args) {
    if (out.length) out.push(" ");
    const needQuote = arg.includes(" ") || arg.includes("\t") || arg.length === 0;
    if (needQuote) out.push('"');
    let backslashes = 0;
    for (const c of arg) {
      if (c === "\\") {
        backslashes++;
      } else if (c === '"') {
        out.push("\\".repeat(backslashes * 2), '\\"');
        backslashes = 0;
      } else {
        if (backslashes) out.push("\\".repeat(backslashes));
        backslashes = 0;
        out.push(c);
      }
    }
    if (backslashes) out.push("\\".repeat(backslashes));
    if (needQuote) out.push("\\".repeat(backslashes), '"');
  }
  return out.join("");
}

/**
 * The environment block `CreateProcessW` takes with
 * `CREATE_UNICODE_ENVIRONMENT`: `NAME=value` strings, each NUL-terminated,
 * sorted by name without regard to case (as Windows keeps it), then one
 * more NUL. A name that is empty or holds `=` (past its first character,
 * as Windows' hidden `=C:` entries do) or a NUL anywhere is a `TypeError`.
 *
 * @example
 * ```ts
 * import { environmentBlock } from "./process.ts";
 * const b = environmentBlock({ b: "2", A: "1" });
 * console.log(JSON.stringify(String.fromCharCode(...b))); // "A=1\u0000b=2\u0000\u0000"
 * ```
 */
export function environmentBlock(
  env: Readonly<Record<string, string>> | readonly string[],
): Uint16Array<ArrayBuffer> {
  const pairs: [string, string][] = [];
  const entries: [string, string][] = Array.isArray(env)
    ? (env as readonly string[]).map((s) => {
      if (typeof s !== "string") {
        throw new TypeError(`env entries must be strings, got ${typeof s}`);
      }
      const i = s.indexOf("=", 1);
      if (i < 0) throw new TypeError(`env entry ${JSON.stringify(s)} is not "NAME=value"`);
      return [s.slice(0, i), s.slice(i + 1)];
    })
    : Object.entries(env as Record<string, string>);
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (typeof value !== "string") {
      throw new TypeError(`env[${JSON.stringify(name)}] must be a string, got ${typeof value}`);
    }
    if (name.length === 0 || name.indexOf("=", 1) >= 0 || name.includes("\0")) {
      throw new TypeError(`illegal environment variable name ${JSON.stringify(name)}`);
    }
    if (value.includes("\0")) {
      throw new TypeError(`env[${JSON.stringify(name)}] holds a NUL character`);
    }
    const key = name.toUpperCase();
    if (seen.has(key)) continue; // Windows names ignore case: the first one wins
    seen.add(key);
    pairs.push([name, value]);
  }
  pairs.sort(([a], [b]) => {
    const x = a.toUpperCase(), y = b.toUpperCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const text = pairs.map(([n, v]) => `${n}=${v}\0`).join("") + "\0";
  const block = new Uint16Array(new ArrayBuffer(Math.max(text.length, 2) * 2));
  for (let i = 0; i < text.length; i++) block[i] = text.charCodeAt(i);
  return block;
}

/** The command line of a shell command: `"%ComSpec%" /c "<cmd>"` (as CPython builds it). */
export function shellCommandLine(cmd: string): string {
  const comspec = Deno.env.get("ComSpec") ?? Deno.env.get("COMSPEC") ?? "cmd.exe";
  return `${list2cmdline([comspec])} /c "${cmd}"`;
}

/** What {@linkcode createProcess} starts. */
export interface CreateProcessOptions {
  /** The whole command line (else `list2cmdline(args)`): for shell commands. */
  commandLine?: string;
  /** The child's stdin, stdout and stderr HANDLEs (0: none). They are made inheritable. */
  stdio: readonly [number, number, number];
  /** The child's working directory. */
  cwd?: string;
  /** The child's whole environment; default: ours. */
  env?: Readonly<Record<string, string>> | readonly string[];
}

/** A started child: its process HANDLE (the caller closes it) and its id. */
export interface CreatedProcess {
  /** The process HANDLE (`closeProcessHandle()` when done). */
  handle: number;
  /** The process id. */
  pid: number;
}

/**
 * Starts `args[0]` (looked up as `CreateProcessW` does: the program's
 * directory, the current one, the system directories, then `PATH`; `.exe`
 * added when there is no extension) with the command line
 * `list2cmdline(args)` (or `options.commandLine`). The child inherits only
 * the three handles of `options.stdio` (through
 * `PROC_THREAD_ATTRIBUTE_HANDLE_LIST`), which this call makes inheritable;
 * the caller still owns and closes them. A missing program is
 * `Deno.errors.NotFound` naming it; a missing `cwd` names the directory.
 *
 * @example
 * ```ts ignore
 * const nul = openNul();
 * const child = createProcess(["cmd.exe", "/c", "exit", "3"], { stdio: [nul, nul, nul] });
 * closeHandle(nul);
 * ```
 */
export function createProcess(
  args: readonly string[],
  options: CreateProcessOptions,
): CreatedProcess {
  checkWindows("createProcess()");
  const k = kernel32();
  const cmdline = wide(options.commandLine ?? list2cmdline(args)); // CreateProcessW may write into it
  const env = options.env === undefined ? null : environmentBlock(options.env);
  const cwd = options.cwd === undefined ? null : wide(options.cwd);

  // The handles to inherit: distinct and non-zero (a repeated one is ERROR_INVALID_PARAMETER).
  const inherit = [...new Set(options.stdio.filter((h) => h !== 0))];
  for (const h of inherit) {
    if (k.SetHandleInformation(ptr(h), K32.HANDLE_FLAG_INHERIT, K32.HANDLE_FLAG_INHERIT) === 0) {
      throw winError(k.GetLastError(), "SetHandleInformation", `stdio HANDLE ${h}`);
    }
  }
  const handleList = new BigUint64Array(new ArrayBuffer(Math.max(1, inherit.length) * 8));
  inherit.forEach((h, i) => handleList[i] = BigInt(h));

  // The attribute list: size it, then fill it (it points at handleList until CreateProcessW).
  const sizeBuf = new BigUint64Array(1);
  k.InitializeProcThreadAttributeList(null, 1, 0, sizeBuf);
  const attrs = new Uint8Array(new ArrayBuffer(Number(sizeBuf[0]) || 64));
  const attrsPtr = Deno.UnsafePointer.of(attrs);
  if (k.InitializeProcThreadAttributeList(attrsPtr, 1, 0, sizeBuf) === 0) {
    throw winError(k.GetLastError(), "InitializeProcThreadAttributeList");
  }
  try {
    if (
      inherit.length > 0 &&
      k.UpdateProcThreadAttribute(
          attrsPtr,
          0,
          PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
          Deno.UnsafePointer.of(handleList),
          BigInt(inherit.length * 8),
          null,
          null,
        ) === 0
    ) {
      throw winError(
        k.GetLastError(),
        "UpdateProcThreadAttribute",
        "PROC_THREAD_ATTRIBUTE_HANDLE_LIST",
      );
    }
    const si = new Uint8Array(new ArrayBuffer(STARTUPINFOEXW_SIZE));
    const d = new DataView(si.buffer);
    d.setUint32(0, STARTUPINFOEXW_SIZE, true);
    d.setUint32(60, STARTF_USESTDHANDLES, true);
    d.setBigUint64(80, BigInt(options.stdio[0]), true);
    d.setBigUint64(88, BigInt(options.stdio[1]), true);
    d.setBigUint64(96, BigInt(options.stdio[2]), true);
    d.setBigUint64(104, addr(attrsPtr), true);
    const pi = new Uint8Array(new ArrayBuffer(PROCESS_INFORMATION_SIZE));
    const flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT;
    const ok = k.CreateProcessW(
      null,
      cmdline,
      null,
      null,
      inherit.length > 0 ? 1 : 0,
      flags,
      env === null ? null : Deno.UnsafePointer.of(env),
      cwd === null ? null : Deno.UnsafePointer.of(cwd),
      si,
      pi,
    );
    if (ok === 0) {
      const e = k.GetLastError();
      const what = e === 267 /* ERROR_DIRECTORY */ && options.cwd !== undefined
        ? `cwd "${options.cwd}"`
        : `program "${args[0] ?? options.commandLine}"`;
      throw winError(e, "CreateProcessW", what);
    }
    const p = new DataView(pi.buffer);
    k.CloseHandle(ptr(p.getBigUint64(8, true))); // the main thread's handle: not needed
    const handle = Number(p.getBigUint64(0, true));
    OPEN.add(handle);
    return { handle, pid: p.getUint32(16, true) };
  } finally {
    k.DeleteProcThreadAttributeList(attrsPtr);
    // Keep the buffers alive until here (the attribute list points into handleList).
    void handleList.length, void cmdline.length, void env?.length, void cwd?.length;
  }
}

/**
 * A fresh handle on the `NUL` device for a child's stdio (`"null"`), read
 * and write; the caller closes it.
 */
export function openNul(): number {
  checkWindows("openNul()");
  const k = kernel32();
  const h = addr(
    k.CreateFileW(
      wide("NUL"),
      (K32.GENERIC_READ | K32.GENERIC_WRITE) >>> 0,
      FILE_SHARE_READ_WRITE,
      null,
      K32.OPEN_EXISTING,
      0,
      null,
    ),
  );
  if (h === 0n || h === INVALID_HANDLE_VALUE) {
    throw winError(k.GetLastError(), "CreateFileW", "NUL");
  }
  OPEN.add(Number(h));
  return Number(h);
}

/**
 * A duplicate of this process's standard handle `which` (0 stdin, 1
 * stdout, 2 stderr) for a child's `"inherit"`, or 0 when this process has
 * none; the caller closes a non-zero one.
 */
export function duplicateStdHandle(which: 0 | 1 | 2): number {
  checkWindows("duplicateStdHandle()");
  const k = kernel32();
  const std = [K32.STD_INPUT_HANDLE, K32.STD_OUTPUT_HANDLE, K32.STD_ERROR_HANDLE][which];
  const h = k.GetStdHandle(std);
  const v = addr(h);
  if (v === 0n || v === INVALID_HANDLE_VALUE) return 0;
  try {
    return duplicateHandle(Number(v));
  } catch (e) {
    if ((e as { errno?: number }).errno === 6) return 0; // not a real handle (no console)
    throw e;
  }
}

/**
 * A duplicate of this process's HANDLE `h` (same access, not inheritable):
 * for a child's stdio given as a handle, which `createProcess` then makes
 * inheritable without touching the caller's own. The caller closes it.
 */
export function duplicateHandle(h: number): number {
  checkWindows("duplicateHandle()");
  const k = kernel32();
  const out = new BigUint64Array(1);
  const self = k.GetCurrentProcess();
  if (k.DuplicateHandle(self, ptr(h), self, out, 0, 0, K32.DUPLICATE_SAME_ACCESS) === 0) {
    throw winError(k.GetLastError(), "DuplicateHandle", `HANDLE ${h}`);
  }
  OPEN.add(Number(out[0]));
  return Number(out[0]);
}

/**
 * `TerminateProcess(handle, code)`. True when it was done; false when the
 * process had exited already (ERROR_ACCESS_DENIED with an exit code set);
 * any other failure throws.
 */
export function terminateProcess(handle: number, code: number): boolean {
  checkWindows("terminateProcess()");
  const k = kernel32();
  if (k.TerminateProcess(ptr(handle), code >>> 0) !== 0) return true;
  const e = k.GetLastError();
  if (e === ERROR_ACCESS_DENIED && exitCodeOf(handle) !== null) return false;
  throw winError(e, "TerminateProcess", `process HANDLE ${handle}`);
}

/**
 * The exit code of the process `handle` (an unsigned 32-bit number, as
 * Python's `returncode` on Windows), or `null` while it runs (decided by a
 * zero-timeout wait, so an exit code of 259 is not taken for STILL_ACTIVE).
 */
export function exitCodeOf(handle: number): number | null {
  checkWindows("exitCodeOf()");
  const k = kernel32();
  const h = ptr(handle);
  const w = k.WaitForSingleObject(h, 0);
  if (w === K32.WAIT_TIMEOUT) return null;
  if (w !== K32.WAIT_OBJECT_0) {
    throw winError(k.GetLastError(), "WaitForSingleObject", `process HANDLE ${handle}`);
  }
  const out = new Uint32Array(1);
  if (k.GetExitCodeProcess(h, out) === 0) {
    throw winError(k.GetLastError(), "GetExitCodeProcess", `process HANDLE ${handle}`);
  }
  return out[0];
}

/**
 * Closes a HANDLE this module returned (a process's, `NUL`, a duplicate);
 * `BadResource` if it was not open.
 */
export function closeProcessHandle(handle: number): void {
  checkWindows("closeProcessHandle()");
  const k = kernel32();
  OPEN.delete(handle);
  if (k.CloseHandle(ptr(handle)) === 0) {
    const e = winError(k.GetLastError(), "CloseHandle", `HANDLE ${handle}`);
    if (e.errno === 6) throw Object.assign(new Deno.errors.BadResource(e.message), e);
    throw e;
  }
}

/**
 * Watches one process for its exit off the JS thread: a `nonblocking`
 * `WaitForMultipleObjects` on the process handle and a manual-reset cancel
 * event (their handles in off-heap memory that lives as long as the
 * watch). {@linkcode ExitWatch.done} resolves to `true` on exit and
 * `false` once cancelled; the watch frees its event and memory itself
 * when the wait returns. It never closes the process handle.
 *
 * Chosen over `RegisterWaitForSingleObject` with a
 * `Deno.UnsafeCallback.threadSafe` callback (which also works under Wine):
 * no callback to keep alive and close, no ref'd callback keeping the
 * process up, and a cancel that always ends the wait; the cost is one
 * blocking-pool thread per running child.
 *
 * @example
 * ```ts ignore
 * const watch = new ExitWatch(child.handle);
 * if (await watch.done) console.log(exitCodeOf(child.handle));
 * ```
 */
export class ExitWatch {
  /** Resolves to `true` when the process exited, `false` when cancelled first. */
  readonly done: Promise<boolean>;
  #event: number;
  #mem: Deno.PointerValue;
  #settled = false;

  /** Starts watching the process `handle` (which must stay open until `done` settles). */
  constructor(handle: number) {
    checkWindows("ExitWatch");
    const k = kernel32();
    const ev = addr(k.CreateEventW(null, 1, 0, null));
    if (ev === 0n) throw winError(k.GetLastError(), "CreateEventW", "exit watch");
    const heap = k.GetProcessHeap();
    const mem = k.HeapAlloc(heap, 0, 16n);
    if (mem === null) {
      k.CloseHandle(ptr(ev));
      throw new Error("HeapAlloc failed (16 bytes for an exit watch)");
    }
    const view = new DataView(Deno.UnsafePointerView.getArrayBuffer(mem, 16));
    view.setBigUint64(0, BigInt(handle), true);
    view.setBigUint64(8, ev, true);
    this.#event = Number(ev);
    OPEN.add(this.#event);
    this.#mem = mem;
    this.done = k.WaitForMultipleObjectsNB(2, mem, 0, K32.INFINITE).then(
      (r) => this.#finish(r),
      (e) => {
        this.#finish(K32.WAIT_FAILED);
        throw e;
      },
    );
  }

  #finish(r: number): boolean {
    this.#settled = true;
    const k = kernel32();
    k.CloseHandle(ptr(this.#event));
    OPEN.delete(this.#event);
    k.HeapFree(k.GetProcessHeap(), 0, this.#mem);
    this.#mem = null;
    if (r === K32.WAIT_OBJECT_0) return true;
    if (r === K32.WAIT_OBJECT_0 + 1) return false;
    throw new Error(`WaitForMultipleObjects on a process and its cancel event returned ${r}`);
  }

  /** Ends the wait (`done` resolves to `false` unless the exit came first). Idempotent. */
  cancel(): void {
    if (this.#settled) return;
    kernel32().SetEvent(ptr(this.#event));
  }
}
