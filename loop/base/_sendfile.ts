/**
 * `loop.sockSendfile()` written once (asyncio's `BaseEventLoop.sock_sendfile`
 * with `_check_sendfile_params` and `_sock_sendfile_fallback`): the argument
 * checks, opening a path (and closing it after), refusing what is not a
 * regular file, the loop kind's native path through a hook, and the
 * fallback that reads 256 KiB at a time with `pread` (`ReadFile` at an
 * offset on Windows) and sends each chunk with `sockSendall`. A file given
 * as an fd is left positioned at `offset` + the bytes sent, as asyncio seeks.
 *
 * The file calls are the OS family's own, through the seam (`ffi/sys.ts`).
 *
 * @module
 */
import {
  closeFile,
  describe,
  E,
  FILE_IO_MAX,
  fileInfo,
  HAS_SENDFILE,
  openFileRead,
  OS_FAMILY,
  osError,
  preadFd,
  seekFd,
  sendfileFd,
} from "../../ffi/sys.ts";
import { Socket } from "../../net/mod.ts";
import type { AbstractEventLoop, SendfileFile, SendfileOptions } from "../abstract_event_loop.ts";
import { cancelledError, checkSignal } from "../_signal.ts";

const WHAT = "sockSendfile()";
/** The fallback's chunk: what one read takes from the file and one `sockSendall` sends. */
export const SENDFILE_CHUNK = 256 * 1024;

/**
 * Native sendfile is not possible for this loop, socket or file (asyncio's
 * `SendfileNotAvailableError`): `sockSendfile()` falls back to reading and
 * sending, or, with `fallback: false`, rejects with this error saying why.
 *
 * @example
 * ```ts ignore
 * try {
 *   await loop.sockSendfile(sock, "/tmp/data", { fallback: false });
 * } catch (e) {
 *   if (e instanceof SendfileNotAvailableError) console.log(e.message);
 * }
 * ```
 */
export class SendfileNotAvailableError extends Deno.errors.NotSupported {
  /** Makes the error; `message` says why there is no native path. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SendfileNotAvailableError";
  }
}

/** The file calls of this OS family (from the seam). */
const FILES = {
  open: openFileRead,
  info: fileInfo,
  pread: preadFd,
  seek: seekFd,
  close: closeFile,
};

/** The file of one `sockSendfile()` call, open for its duration. */
export class SendfileSource {
  #closed = false;

  constructor(
    /** The fd (a HANDLE on Windows). */
    readonly fd: number,
    /** Whether the call opened it (from a path) and closes it. */
    readonly owned: boolean,
    /** Its size in bytes when the call started. */
    readonly size: number,
    /** How messages name it (the path, or `fd 7`). */
    readonly name: string,
  ) {}

  /** Reads into `buf` from `offset`: the byte count, 0 at end of file. */
  pread(buf: Uint8Array, offset: number): number {
    return FILES.pread(this.fd, buf, offset);
  }

  /** Closes it if the call opened it. */
  close(): void {
    if (this.#closed || !this.owned) return;
    this.#closed = true;
    FILES.close(this.fd);
  }
}

/**
 * What a loop kind supplies: sends natively, reporting the running total to
 * `progress`, or throws {@linkcode SendfileNotAvailableError} before sending
 * anything.
 */
export type NativeSendfile = (
  sock: Socket,
  file: SendfileSource,
  offset: number,
  count: number | null,
  signal: AbortSignal | undefined,
  progress: (sent: number) => void,
) => Promise<number>;

/** The checked arguments of a call. */
interface SendfileArgs {
  offset: number;
  count: number | null;
  fallback: boolean;
  signal: AbortSignal | undefined;
}

function checkArgs(sock: unknown, file: unknown, options: unknown): SendfileArgs {
  if (!(sock instanceof Socket)) {
    throw new TypeError(`${WHAT}: sock must be a Socket, got ${describe(sock)}`);
  }
  if (sock.type !== "stream") {
    throw new TypeError(
      `${WHAT}: only stream sockets are supported, got a ${sock.type} socket (fd ${sock.fileno()})`,
    );
  }
  if (!sock.closed && sock.getBlocking()) {
    throw new TypeError(
      `${WHAT}: the socket must be non-blocking (fd ${sock.fileno()}); call sock.setBlocking(false)`,
    );
  }
  if (typeof file === "number") {
    if (!Number.isSafeInteger(file)) {
      throw new TypeError(`${WHAT}: file must be a path or an integer fd, got ${describe(file)}`);
    }
    if (file < 0) throw new RangeError(`${WHAT}: file must be a non-negative fd, got ${file}`);
  } else if (file instanceof URL) {
    if (file.protocol !== "file:") {
      throw new TypeError(`${WHAT}: file must be a file: URL, got ${file.href}`);
    }
  } else if (typeof file !== "string" || file.length === 0) {
    throw new TypeError(
      `${WHAT}: file must be a path (string or file: URL) or an fd, got ${describe(file)}`,
    );
  }
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`${WHAT}: options must be an object, got ${describe(options)}`);
  }
  const o = (options ?? {}) as SendfileOptions;
  const offset = o.offset ?? 0;
  if (typeof offset !== "number" || !Number.isInteger(offset)) {
    throw new TypeError(`${WHAT}: offset must be a non-negative integer, got ${describe(offset)}`);
  }
  if (offset < 0 || !Number.isSafeInteger(offset)) {
    throw new RangeError(`${WHAT}: offset must be a non-negative integer, got ${offset}`);
  }
  const count = o.count ?? null;
  if (count !== null) {
    if (typeof count !== "number" || !Number.isInteger(count)) {
      throw new TypeError(`${WHAT}: count must be a positive integer, got ${describe(count)}`);
    }
    if (count <= 0 || !Number.isSafeInteger(count)) {
      throw new RangeError(`${WHAT}: count must be a positive integer, got ${count}`);
    }
  }
  const fallback = o.fallback ?? true;
  if (typeof fallback !== "boolean") {
    throw new TypeError(`${WHAT}: fallback must be a boolean, got ${describe(fallback)}`);
  }
  const signal = checkSignal(o.signal, "sockSendfile");
  return { offset, count, fallback, signal };
}

function pathOf(file: string | URL): string {
  if (typeof file === "string") return file;
  let p = decodeURIComponent(file.pathname);
  // file:///C:/dir/x on Windows is C:\dir\x; a host (file://server/share) is a UNC path.
  if (OS_FAMILY === "windows") {
    if (/^\/[A-Za-z]:/.test(p)) p = p.slice(1);
    p = p.replaceAll("/", "\\");
    if (file.hostname !== "") p = `\\\\${file.hostname}${p}`;
  }
  return p;
}

function notRegular(name: string, kind: string): TypeError {
  const what = kind === "directory" ? "a directory" : kind === "unknown" ? "unknown" : `a ${kind}`;
  return new TypeError(`${WHAT}: ${name} is not a regular file (it is ${what})`);
}

/** Opens (or checks) the call's file: a regular file only, else a `TypeError` naming it. */
function openSource(file: SendfileFile): SendfileSource {
  if (typeof file === "number") {
    const name = OS_FAMILY === "windows" ? `HANDLE ${file}` : `fd ${file}`;
    const info = FILES.info(file);
    if (info.kind !== "file") throw notRegular(name, info.kind);
    return new SendfileSource(file, false, info.size, name);
  }
  const path = pathOf(file);
  let fd: number;
  try {
    fd = FILES.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.IsADirectory) throw notRegular(path, "directory");
    throw e;
  }
  try {
    const info = FILES.info(fd);
    if (info.kind !== "file") throw notRegular(path, info.kind);
    return new SendfileSource(fd, true, info.size, path);
  } catch (e) {
    FILES.close(fd);
    throw e;
  }
}

/**
 * Reads `file` from `offset` 256 KiB at a time (up to `count` bytes, or to
 * its end) and sends each chunk with `loop.sockSendall()`: the bytes sent.
 * `progress` learns the running total (for the fd's final position).
 */
async function fallbackSend(
  loop: AbstractEventLoop,
  sock: Socket,
  file: SendfileSource,
  offset: number,
  count: number | null,
  signal: AbortSignal | undefined,
  progress: (sent: number) => void,
): Promise<number> {
  const buf = new Uint8Array(count === null ? SENDFILE_CHUNK : Math.min(count, SENDFILE_CHUNK));
  let sent = 0;
  for (;;) {
    const want = count === null ? buf.byteLength : Math.min(count - sent, buf.byteLength);
    if (want <= 0) return sent;
    if (signal?.aborted) throw cancelledError(signal, WHAT);
    const n = file.pread(buf.subarray(0, want), offset + sent);
    if (n === 0) return sent;
    await loop.sockSendall(sock, buf.subarray(0, n), { signal });
    sent += n;
    progress(sent);
  }
}

/**
 * The whole of `sockSendfile()` for `loop`: checks, opens, tries `native`,
 * falls back (or refuses with `fallback: false`), closes what it opened and
 * positions an fd the caller gave at `offset` + the bytes sent. Argument
 * errors throw at once; the rest rejects.
 *
 * @example
 * ```ts ignore
 * return sockSendfile(this, sock, file, options, (...a) => this._sockSendfileNative(...a));
 * ```
 */
export function sockSendfile(
  loop: AbstractEventLoop,
  sock: Socket,
  file: SendfileFile,
  options: SendfileOptions | undefined,
  native: NativeSendfile,
): Promise<number> {
  const args = checkArgs(sock, file, options);
  const { signal } = args;
  if (signal?.aborted) return Promise.reject(cancelledError(signal, WHAT));
  if (sock.closed) return Promise.reject(osError(E.EBADF, "sockSendfile", "the socket is closed"));
  if (loop.isClosed()) return Promise.reject(new Error("Event loop is closed"));
  return run(loop, sock, file, args, native);
}

async function run(
  loop: AbstractEventLoop,
  sock: Socket,
  file: SendfileFile,
  args: SendfileArgs,
  native: NativeSendfile,
): Promise<number> {
  const { offset, count, fallback, signal } = args;
  const source = openSource(file);
  let sent = 0;
  try {
    try {
      sent = await native(sock, source, offset, count, signal, (n) => sent = n);
      return sent;
    } catch (e) {
      if (!(e instanceof SendfileNotAvailableError)) throw e;
      if (!fallback) {
        throw new SendfileNotAvailableError(
          `${WHAT}: fallback is disabled and there is no native sendfile for socket ` +
            `${sock.fileno()} and ${source.name}: ${e.message}`,
          { cause: e },
        );
      }
    }
    sent = await fallbackSend(loop, sock, source, offset, count, signal, (n) => sent = n);
    return sent;
  } finally {
    try {
      if (!source.owned && sent > 0) FILES.seek(source.fd, offset + sent);
    } finally {
      source.close();
    }
  }
}

/**
 * Whether the readiness loops can send natively here: `sendfile(2)` on Linux
 * and macOS (Windows' selector loop has none: TransmitFile is the
 * ProactorEventLoop's).
 */
export const HAS_SENDFILE_SYSCALL: boolean = HAS_SENDFILE;

/** The most bytes one `sendfile(2)` is asked for. */
export const SENDFILE_SYSCALL_MAX: number = FILE_IO_MAX;

/**
 * One `sendfile(2)` of up to `count` bytes of `file` from `offset` on the
 * socket fd `sock`: the bytes sent, 0 at end of file, -1 when the socket's
 * buffer is full. Throws the OS error otherwise.
 *
 * @example
 * ```ts ignore
 * const n = sendfileOnce(sock.fileno(), source, 0, 65536);
 * ```
 */
export function sendfileOnce(
  sock: number,
  file: SendfileSource,
  offset: number,
  count: number,
): number {
  return sendfileFd(sock, file.fd, offset, count);
}
