/**
 * Named pipes at the pointer level (asyncio's `windows_utils.pipe` and the
 * pipe half of `_overlapped`): server instances (`CreateNamedPipeW`), client
 * ends (`CreateFileW`), an overlapped pair made of the two ({@linkcode pipe}),
 * `WaitNamedPipeW`, and closing a handle. Handles go in and out as numbers
 * (HANDLE values: small, exact); nothing outside `ffi/` touches a pointer.
 * The overlapped I/O on these handles is `ffi/windows/iocp.ts`'s
 * (`CompletionPort.readFile`/`writeFile`/`connectPipe`).
 *
 * STABLE API (used by the subprocess helper): `pipe()`, `PipeOptions`,
 * `closeHandle()`, `createPipeInstance()`, `openPipe()`, `waitNamedPipe()`,
 * `uniquePipeName()`, `PIPE_BUFSIZE`. Their shapes do not change.
 *
 * @module
 */
import { winError } from "./errors.ts";
import { INVALID_HANDLE_VALUE, IS_WINDOWS, K32, kernel32 } from "./kernel32.ts";

/** The in and out buffer sizes of every instance (CPython's `BUFSIZE`: 8 KiB). */
export const PIPE_BUFSIZE = 8192;

const PIPE_TYPE_BYTE = 0;
const PIPE_READMODE_BYTE = 0;
const PIPE_REJECT_REMOTE_CLIENTS = 8;
const ERROR_PIPE_BUSY = 231;

/** Win32 error numbers of the pipe calls that callers tell apart. */
export const PIPE_ERRORS = Object.freeze({
  FILE_NOT_FOUND: 2,
  ACCESS_DENIED: 5,
  BROKEN_PIPE: 109,
  SEM_TIMEOUT: 121,
  PIPE_BUSY: ERROR_PIPE_BUSY,
  NO_DATA: 232,
  PIPE_NOT_CONNECTED: 233,
  PIPE_CONNECTED: 535,
});

const ptr = (h: number | bigint): Deno.PointerValue => Deno.UnsafePointer.create(BigInt(h));

function handleOf(p: Deno.PointerValue): number | null {
  const v = p === null ? 0n : BigInt(Deno.UnsafePointer.value(p));
  if (v === 0n || v === INVALID_HANDLE_VALUE) return null;
  return Number(v);
}

/** A UTF-16, NUL-terminated copy of `s` (for the `buffer` parameters). */
function wide(s: string): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function checkWindows(what: string): void {
  if (!IS_WINDOWS) {
    throw new Deno.errors.NotSupported(
      `${what}: named pipes are Windows only; this is ${Deno.build.os}`,
    );
  }
}

function checkName(name: string, what: string): void {
  if (typeof name !== "string" || !name.startsWith("\\\\.\\pipe\\") || name.length > 256) {
    throw new TypeError(
      `${what}: a pipe name is "\\\\.\\pipe\\<name>", got ${JSON.stringify(name)}`,
    );
  }
}

let counter = 0;

/**
 * A fresh pipe name, `\\.\pipe\aio-<pid>-<n>-<random>` (as windows_utils.pipe's).
 *
 * @example
 * ```ts
 * import { uniquePipeName } from "./pipes.ts";
 * console.log(uniquePipeName().startsWith("\\\\.\\pipe\\aio-")); // true
 * ```
 */
export function uniquePipeName(): string {
  const r = crypto.getRandomValues(new Uint32Array(2));
  return `\\\\.\\pipe\\aio-${Deno.pid}-${counter++}-${r[0].toString(16)}${r[1].toString(16)}`;
}

/** Options of {@linkcode createPipeInstance}. */
export interface PipeInstanceOptions {
  /** Fail (ERROR_ACCESS_DENIED) if an instance of this name exists already. Default false. */
  first?: boolean;
  /** PIPE_ACCESS_INBOUND/OUTBOUND/DUPLEX (1/2/3). Default duplex. */
  access?: 1 | 2 | 3;
  /** FILE_FLAG_OVERLAPPED. Default true. */
  overlapped?: boolean;
  /** The most instances of the name (1..255; 255 unlimited). Default 255. */
  maxInstances?: number;
}

/**
 * A server instance of the byte-mode pipe `name` (`CreateNamedPipeW`,
 * PIPE_REJECT_REMOTE_CLIENTS): its HANDLE. Fails with the Win32 error
 * (`PermissionDenied` for a second `first` instance on Windows).
 *
 * @example
 * ```ts ignore
 * const h = createPipeInstance(uniquePipeName(), { first: true });
 * closeHandle(h);
 * ```
 */
export function createPipeInstance(name: string, options: PipeInstanceOptions = {}): number {
  checkWindows("createPipeInstance()");
  checkName(name, "createPipeInstance()");
  const access = options.access ?? K32.PIPE_ACCESS_DUPLEX;
  const max = options.maxInstances ?? K32.PIPE_UNLIMITED_INSTANCES;
  if (!Number.isInteger(max) || max < 1 || max > 255) {
    throw new RangeError(`createPipeInstance(): maxInstances must be 1..255, got ${max}`);
  }
  const openMode = (access | ((options.overlapped ?? true) ? K32.FILE_FLAG_OVERLAPPED : 0) |
    (options.first ? K32.FILE_FLAG_FIRST_PIPE_INSTANCE : 0)) >>> 0;
  const k = kernel32();
  const h = k.CreateNamedPipeW(
    wide(name),
    openMode,
    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | K32.PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
    max,
    PIPE_BUFSIZE,
    PIPE_BUFSIZE,
    0,
    null,
  );
  const v = handleOf(h);
  if (v === null) throw winError(k.GetLastError(), "CreateNamedPipeW", name);
  return v;
}

/** Options of {@linkcode openPipe}. */
export interface OpenPipeOptions {
  /** Open for reading. Default true. */
  read?: boolean;
  /** Open for writing. Default true. */
  write?: boolean;
  /** FILE_FLAG_OVERLAPPED. Default true. */
  overlapped?: boolean;
}

/**
 * The client end of the pipe `name` (`CreateFileW`, OPEN_EXISTING): its
 * HANDLE. `NotFound` when no server has it; `Busy` (code ERROR_PIPE_BUSY,
 * errno 231) while every instance is taken: retry, or {@linkcode waitNamedPipe}.
 *
 * @example
 * ```ts ignore
 * const h = openPipe("\\\\.\\pipe\\mine");
 * ```
 */
export function openPipe(name: string, options: OpenPipeOptions = {}): number {
  checkWindows("openPipe()");
  checkName(name, "openPipe()");
  const access = ((options.read ?? true) ? K32.GENERIC_READ : 0) |
    ((options.write ?? true) ? K32.GENERIC_WRITE : 0);
  const k = kernel32();
  const h = k.CreateFileW(
    wide(name),
    access >>> 0,
    0,
    null,
    K32.OPEN_EXISTING,
    (options.overlapped ?? true) ? K32.FILE_FLAG_OVERLAPPED : 0,
    null,
  );
  const v = handleOf(h);
  if (v === null) throw winError(k.GetLastError(), "CreateFileW", name);
  return v;
}

/**
 * `WaitNamedPipeW(name, ms)` on the JS thread: true when an instance is
 * free, false on timeout or when no server has the name (the caller then
 * tries `openPipe` and gets the real error). Keep `ms` small.
 */
export function waitNamedPipe(name: string, ms: number): boolean {
  checkWindows("waitNamedPipe()");
  checkName(name, "waitNamedPipe()");
  const t = Math.max(1, Math.min(Math.ceil(ms), 0x7fff_ffff));
  return kernel32().WaitNamedPipeW(wide(name), t) !== 0;
}

/** Options of {@linkcode pipe}. */
export interface PipeOptions {
  /** Both ends read and write. Default false: `[read end, write end]`. */
  duplex?: boolean;
  /** Which ends are overlapped: `[first, second]`. Default `[true, true]`. */
  overlapped?: readonly [boolean, boolean];
  /** The pipe's size hint (both buffers). Default {@linkcode PIPE_BUFSIZE}. */
  bufsize?: number;
}

/**
 * asyncio's `windows_utils.pipe()`: a connected pair of HANDLEs on a fresh
 * named pipe (a unique name, one instance, FILE_FLAG_FIRST_PIPE_INSTANCE),
 * `[h1, h2]`: h1 is the server end (reads unless duplex), h2 the client
 * end (writes unless duplex). The caller owns both (`closeHandle`).
 *
 * @example
 * ```ts
 * import { closeHandle, pipe } from "./pipes.ts";
 * if (Deno.build.os === "windows") {
 *   const [r, w] = pipe();
 *   closeHandle(r);
 *   closeHandle(w);
 * }
 * ```
 */
export function pipe(options: PipeOptions = {}): [number, number] {
  checkWindows("pipe()");
  const duplex = options.duplex ?? false;
  const [ov1, ov2] = options.overlapped ?? [true, true];
  const name = uniquePipeName();
  const h1 = createPipeInstance(name, {
    first: true,
    access: duplex ? K32.PIPE_ACCESS_DUPLEX : K32.PIPE_ACCESS_INBOUND,
    overlapped: ov1,
    maxInstances: 1,
  });
  let h2: number;
  try {
    h2 = openPipe(name, { read: duplex, write: true, overlapped: ov2 });
  } catch (e) {
    closeHandle(h1);
    throw e;
  }
  // The client opened before any ConnectNamedPipe: the pair is connected already
  // (ConnectNamedPipe would say ERROR_PIPE_CONNECTED), so nothing more is needed.
  return [h1, h2];
}

/** Closes the HANDLE `h` (`CloseHandle`); `BadResource` if it was not open. */
export function closeHandle(h: number): void {
  checkWindows("closeHandle()");
  if (!Number.isSafeInteger(h) || h <= 0) throw new RangeError(`closeHandle(): bad HANDLE ${h}`);
  const k = kernel32();
  if (k.CloseHandle(ptr(h)) === 0) {
    const e = k.GetLastError();
    const err = winError(e, "CloseHandle", `HANDLE ${h}`);
    if (e === 6) throw Object.assign(new Deno.errors.BadResource(err.message), err);
    throw err;
  }
}

/** FILE_TYPE_PIPE from `GetFileType` (sockets report it too). */
const FILE_TYPE_PIPE = 3;

/** Whether `h` is a pipe (or a socket: both are FILE_TYPE_PIPE to GetFileType). */
export function isPipeHandle(h: number): boolean {
  checkWindows("isPipeHandle()");
  if (!Number.isSafeInteger(h) || h <= 0) return false;
  return kernel32().GetFileType(ptr(h)) === FILE_TYPE_PIPE;
}

/** Whether `e` is the Win32 error `code` (from these calls or a completion). */
export function isWinError(e: unknown, code: number): boolean {
  return (e as { errno?: unknown })?.errno === code;
}
