/**
 * Regular files for `loop.sockSendfile()`: `open(O_RDONLY | O_CLOEXEC)`, the
 * kind and size from `fstat(2)`, `pread(2)`, `lseek(2)` and `sendfile(2)`
 * (Linux's `sendfile(out, in, &offset, count)`; macOS's
 * `sendfile(fd, s, offset, &len, hdtr, flags)`, which cannot run here but is
 * written to its man page). One lazily opened libc; every call is
 * synchronous and takes on-heap buffers only.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, ARCH, DARWIN, LIBC_PATH, LINUX, OS, UNIX } from "./_abi.ts";
import { E, osError } from "./errno.ts";
import { checkFd, closeFd, errno, type FileKind } from "./libc.ts";

const SYMBOLS = {
  // open(2) is variadic; O_RDONLY needs no mode, so only the fixed arguments are passed.
  open: { parameters: ["buffer", "i32"], result: "i32" },
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "i64" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  fstat: {
    name: DARWIN && ARCH === "x86_64" ? "fstat$INODE64" : "fstat",
    parameters: ["i32", "buffer"],
    result: "i32",
  },
  // Linux: (out_fd, in_fd, off_t *offset, count) → ssize_t.
  // macOS: (fd, s, off_t offset, off_t *len, struct sf_hdtr *hdtr, flags) → int.
  sendfile: DARWIN
    ? { parameters: ["i32", "i32", "i64", "buffer", "pointer", "i32"], result: "i32" }
    : { parameters: ["i32", "i32", "buffer", "usize"], result: "i64" },
} as const;

type FileSymbols = {
  open(path: Uint8Array, flags: number): number;
  pread(fd: number, buf: Uint8Array, n: bigint, off: bigint): bigint;
  lseek(fd: number, off: bigint, whence: number): bigint;
  fstat(fd: number, buf: Uint8Array): number;
  // deno-lint-ignore no-explicit-any
  sendfile(...args: any[]): number | bigint;
};

const files = lazyLibrary(LIBC_PATH, SYMBOLS as unknown as Deno.ForeignLibraryInterface, {
  available: UNIX,
  unsupported: `the libc file calls are for Unix; on ${OS} use ffi/windows/`,
}) as unknown as () => FileSymbols;

const O_RDONLY = 0;
const SEEK_SET = 0;
/** The most bytes one `pread`/`sendfile` is asked for. */
export const FILE_IO_MAX: number = 0x4000_0000;

// struct stat: st_mode at 24 (glibc x86_64), 16 (glibc aarch64), 4 (macOS stat64, u16);
// st_size at 48 on both glibc layouts, 96 on macOS stat64.
const ST_MODE_OFFSET = DARWIN ? 4 : ARCH === "aarch64" ? 16 : 24;
const ST_SIZE_OFFSET = DARWIN ? 96 : 48;
const statBuf = new Uint8Array(256);
const statView = new DataView(statBuf.buffer);
const enc = new TextEncoder();

/** What {@linkcode fileInfo} reports: the fd's kind and, for a regular file, its size. */
export interface FileInfo {
  /** What the fd refers to. */
  kind: FileKind;
  /** The size in bytes (`st_size`). */
  size: number;
}

function kindOf(mode: number): FileKind {
  switch (mode & 0o170000) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "directory";
    case 0o140000:
      return "socket";
    case 0o010000:
      return "fifo";
    case 0o020000:
      return "character";
    case 0o060000:
      return "block";
    case 0o120000:
      return "symlink";
    default:
      return "unknown";
  }
}

/**
 * Opens `path` for reading (`O_RDONLY | O_CLOEXEC`): its fd, which the
 * caller closes. `NotFound`, `PermissionDenied`, ... as `open(2)` fails.
 *
 * @example
 * ```ts ignore
 * const fd = openFileRead("/etc/hosts");
 * closeFd(fd);
 * ```
 */
export function openFileRead(path: string): number {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new TypeError(`open: bad path ${JSON.stringify(path)}`);
  }
  const bytes = enc.encode(path + "\0");
  for (;;) {
    const fd = files().open(bytes, O_RDONLY | ABI.O_CLOEXEC);
    if (fd >= 0) return fd;
    const e = errno();
    if (e === E.EINTR) continue;
    throw osError(e, "open", path);
  }
}

/**
 * The kind and size of the open `fd` (`fstat(2)`); `BadResource` for a
 * closed one.
 *
 * @example
 * ```ts ignore
 * console.log(fileInfo(fd)); // { kind: "file", size: 1234 }
 * ```
 */
export function fileInfo(fd: number): FileInfo {
  checkFd(fd);
  if (files().fstat(fd, statBuf) < 0) throw osError(errno(), "fstat", `fd ${fd}`);
  const mode = DARWIN ? statView.getUint16(ST_MODE_OFFSET, true) : statView.getUint32(
    ST_MODE_OFFSET,
    true,
  );
  const size = Number(statView.getBigInt64(ST_SIZE_OFFSET, true));
  return { kind: kindOf(mode), size };
}

/**
 * `pread(2)`: reads into `buf` from file offset `offset` (the fd's position
 * is untouched); the byte count, 0 at end of file. EINTR is retried.
 *
 * @example
 * ```ts ignore
 * const n = preadFd(fd, new Uint8Array(4096), 0);
 * ```
 */
export function preadFd(fd: number, buf: Uint8Array, offset: number): number {
  checkFd(fd);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`pread: bad offset ${offset}`);
  }
  const n = BigInt(Math.min(buf.byteLength, FILE_IO_MAX));
  for (;;) {
    const r = files().pread(fd, buf, n, BigInt(offset));
    if (r >= 0n) return Number(r);
    const e = errno();
    if (e === E.EINTR) continue;
    throw osError(e, "pread", `fd ${fd}`);
  }
}

/**
 * `lseek(fd, pos, SEEK_SET)`: sets the fd's file position.
 *
 * @example
 * ```ts ignore
 * seekFd(fd, 100);
 * ```
 */
export function seekFd(fd: number, pos: number): void {
  checkFd(fd);
  if (!Number.isSafeInteger(pos) || pos < 0) throw new RangeError(`lseek: bad position ${pos}`);
  if (files().lseek(fd, BigInt(pos), SEEK_SET) < 0n) {
    throw osError(errno(), "lseek", `fd ${fd}`);
  }
}

/** Whether `sendfile(2)` exists here (Linux and macOS; not the other Unixes' signatures). */
export const HAS_SENDFILE: boolean = LINUX || DARWIN;

const offBuf = new BigInt64Array(1);
const offBytes = new Uint8Array(offBuf.buffer);

/**
 * `sendfile(2)` of up to `count` bytes of the regular file `fd` from
 * `offset` to the stream socket `sock`: the bytes sent (0 at end of file),
 * or -1 when the socket's buffer is full (EAGAIN with nothing sent). Other
 * failures throw with the errno (the caller tells "no sendfile for this
 * pair" — EINVAL, ENOSYS, ENOTSOCK, ENOTSUP — from a real error).
 *
 * @example
 * ```ts ignore
 * const n = sendfileFd(sock.fileno(), fd, 0, 65536);
 * ```
 */
export function sendfileFd(sock: number, fd: number, offset: number, count: number): number {
  checkFd(sock, "socket");
  checkFd(fd);
  if (!HAS_SENDFILE) {
    throw new Deno.errors.NotSupported(`sendfile(2) is not bound on ${OS}`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`sendfile: bad offset ${offset}`);
  }
  const n = Math.min(Math.max(count, 0), FILE_IO_MAX);
  const f = files();
  for (;;) {
    if (DARWIN) {
      // len is in (bytes to send) and out (bytes sent, also when it fails with EAGAIN/EINTR).
      offBuf[0] = BigInt(n);
      const rc = f.sendfile(fd, sock, BigInt(offset), offBytes, null, 0) as number;
      const sent = Number(offBuf[0]);
      if (rc === 0) return sent;
      const e = errno();
      if ((e === E.EAGAIN || e === E.EINTR) && sent > 0) return sent;
      if (e === E.EINTR) continue;
      if (e === E.EAGAIN) return -1;
      throw osError(e, "sendfile", `fd ${fd} to socket ${sock}`);
    }
    offBuf[0] = BigInt(offset);
    const r = f.sendfile(sock, fd, offBytes, BigInt(n)) as bigint;
    if (r >= 0n) return Number(r);
    const e = errno();
    if (e === E.EINTR) continue;
    if (e === E.EAGAIN) return -1;
    throw osError(e, "sendfile", `fd ${fd} to socket ${sock}`);
  }
}

/**
 * The fd's file position (`lseek(fd, 0, SEEK_CUR)`).
 *
 * @example
 * ```ts ignore
 * console.log(tellFd(fd)); // 0
 * ```
 */
export function tellFd(fd: number): number {
  checkFd(fd);
  const r = files().lseek(fd, 0n, 1);
  if (r < 0n) throw osError(errno(), "lseek", `fd ${fd}`);
  return Number(r);
}

/**
 * Closes a file fd (`close(2)`; the same call as `closeFd`, named as the
 * Windows file calls name theirs, `CloseHandle`).
 *
 * @example
 * ```ts ignore
 * closeFile(openFileRead("/etc/hosts"));
 * ```
 */
export const closeFile: (fd: number) => void = closeFd;
