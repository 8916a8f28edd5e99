/**
 * The libc calls shared by Linux (glibc) and macOS (libSystem): one lazily
 * opened library, so importing the module needs no `--allow-ffi` until a
 * call is made. Hot-path symbols are exposed raw; everything else goes through
 * checked wrappers that throw `Deno.errors.*` with `code` and `errno`.
 *
 * @module
 */
import { describe } from "../os_error.ts";
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, ARCH, DARWIN, LIBC_PATH, OS, UNIX } from "./_abi.ts";
import { E, osError } from "./errno.ts";

export { describe, LIBC_PATH };

// macOS/arm64 passes variadic arguments on the stack: six padding registers
// push the value of fcntl's `...` into the first stack slot.
const FCNTL_PARAMS: Deno.NativeType[] = DARWIN && ARCH === "aarch64"
  ? ["i32", "i32", "i64", "i64", "i64", "i64", "i64", "i64", "i64"]
  : ["i32", "i32", "i64"];

const NFDS: Deno.NativeType = DARWIN ? "u32" : "u64";

// Deno's fast FFI path takes a 64-bit parameter only as a BigInt: a number
// there drops the call to the slow path (~0.35 µs more per call here). So
// every 64-bit argument on a hot path is passed as a BigInt.

/** `poll`'s `nfds` argument for this OS (`nfds_t`: 64 bits on Linux, 32 on macOS). */
export const nfds: (count: number) => number | bigint = DARWIN
  ? (count) => count
  : (count) => BigInt(count);

/** The most bytes one `read`/`write` moves: the byte count comes back as an "i32". */
export const MAX_IO = 0x7fff_f000;

const SYMBOLS = {
  // The counts come back as "i32", the low half of the ssize_t register:
  // exact since no call asks for more than MAX_IO bytes.
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", NFDS, "i32"], result: "i32" },
  poll_async: {
    name: "poll",
    parameters: ["buffer", NFDS, "i32"],
    result: "i32",
    nonblocking: true,
  },
  select: { parameters: ["i32", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  select_async: {
    name: "select",
    parameters: ["i32", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  pipe: { parameters: ["buffer"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32"], result: "i32" },
  fcntl_arg: { name: "fcntl", parameters: FCNTL_PARAMS, result: "i32" },
  fstat: {
    name: DARWIN && ARCH === "x86_64" ? "fstat$INODE64" : "fstat",
    parameters: ["i32", "buffer"],
    result: "i32",
  },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  clock_getres: { parameters: ["i32", "buffer"], result: "i32" },
  errno_location: {
    name: DARWIN ? "__error" : "__errno_location",
    parameters: [],
    result: "pointer",
  },
} as const;

type Raw = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * The raw symbols of the shared libc calls. Sizes are passed as BigInts:
 * Deno's fast call path takes 64-bit parameters in no other form.
 */
export type LibcSymbols = Raw;

let errnoView: Deno.UnsafePointerView | undefined;

/** The libc symbols, opened on first use. */
export const libc: () => LibcSymbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: UNIX,
  unsupported: `libc bindings are for Unix; on ${OS} use the Windows bindings in ffi/windows/`,
});

/**
 * The current thread's errno. Read it right after the synchronous call that
 * failed: calls made off the JS thread (`nonblocking`) have their own errno.
 */
export function errno(): number {
  if (errnoView === undefined) {
    const p = libc().errno_location();
    if (p === null) throw new Error("errno location is null");
    errnoView = new Deno.UnsafePointerView(p);
  }
  return errnoView.getInt32(0);
}

/** Throws the error for the current errno, naming `syscall` and `detail`. */
export function throwErrno(syscall: string, detail?: string): never {
  throw osError(errno(), syscall, detail);
}

/** Checks that `fd` is a plausible descriptor number before it reaches a call. */
export function checkFd(fd: unknown, what = "fd"): number {
  if (typeof fd !== "number" || !Number.isInteger(fd)) {
    throw new TypeError(`${what} must be an integer file descriptor, got ${describe(fd)}`);
  }
  if (fd < 0 || fd > 0x7fffffff) {
    throw new RangeError(`${what} must be between 0 and 2147483647, got ${fd}`);
  }
  // -0 passes both tests: hand back +0, so that a selector key never holds fd -0.
  return fd === 0 ? 0 : fd;
}

/** `close(2)`, retried never (POSIX leaves the fd state unspecified after EINTR). */
export function closeFd(fd: number): void {
  checkFd(fd);
  if (libc().close(fd) < 0) {
    const e = errno();
    if (e !== E.EINTR) throw osError(e, "close", `fd ${fd}`);
  }
}

/** `read(2)` into `buf`; returns the byte count, 0 at EOF, or -1 with EAGAIN. */
export function readFd(fd: number, buf: Uint8Array): number {
  checkFd(fd);
  for (;;) {
    const n = libc().read(fd, buf, BigInt(Math.min(buf.byteLength, MAX_IO)));
    if (n >= 0) return n;
    const e = errno();
    if (e === E.EINTR) continue;
    if (e === E.EAGAIN) return -1;
    throw osError(e, "read", `fd ${fd}`);
  }
}

/** `write(2)` from `buf`; returns the byte count, or -1 with EAGAIN. */
export function writeFd(fd: number, buf: Uint8Array): number {
  checkFd(fd);
  for (;;) {
    const n = libc().write(fd, buf, BigInt(Math.min(buf.byteLength, MAX_IO)));
    if (n >= 0) return n;
    const e = errno();
    if (e === E.EINTR) continue;
    if (e === E.EAGAIN) return -1;
    throw osError(e, "write", `fd ${fd}`);
  }
}

/** `F_GETFD`, `F_SETFD`, `F_GETFL`, `F_SETFL` and `FD_CLOEXEC`: the same on Linux and macOS. */
export const F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1;
/** `O_NONBLOCK` of this OS. */
export const O_NONBLOCK: number = ABI.O_NONBLOCK;

/**
 * `fcntl(fd, cmd, arg)` with an int argument; on macOS/arm64 the variadic
 * argument goes on the stack. Returns the raw result (read errno on -1).
 */
export function fcntlArg(fd: number, cmd: number, arg: number): number {
  const s = libc();
  return DARWIN && ARCH === "aarch64"
    ? (s.fcntl_arg as unknown as (...a: (number | bigint)[]) => number)(
      fd,
      cmd,
      0n,
      0n,
      0n,
      0n,
      0n,
      0n,
      BigInt(arg),
    )
    : (s.fcntl_arg as unknown as (a: number, b: number, c: bigint) => number)(fd, cmd, BigInt(arg));
}

/** Whether `fd` is an open descriptor (`fcntl(F_GETFD)` does not fail with EBADF). */
export function isOpenFd(fd: number): boolean {
  checkFd(fd);
  return libc().fcntl(fd, F_GETFD) >= 0 || errno() !== E.EBADF;
}

/** Sets or clears `O_NONBLOCK` on `fd`. */
export function setNonBlocking(fd: number, on = true): void {
  checkFd(fd);
  const s = libc();
  const fl = s.fcntl(fd, F_GETFL);
  if (fl < 0) throwErrno("fcntl(F_GETFL)", `fd ${fd}`);
  const next = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
  if (next !== fl && fcntlArg(fd, F_SETFL, next) < 0) throwErrno("fcntl(F_SETFL)", `fd ${fd}`);
}

/** Whether `O_NONBLOCK` is set on `fd`. */
export function isNonBlocking(fd: number): boolean {
  checkFd(fd);
  const fl = libc().fcntl(fd, F_GETFL);
  if (fl < 0) throwErrno("fcntl(F_GETFL)", `fd ${fd}`);
  return (fl & O_NONBLOCK) !== 0;
}

/** Sets or clears `FD_CLOEXEC` on `fd`. */
export function setCloseOnExec(fd: number, on = true): void {
  checkFd(fd);
  const s = libc();
  const fl = s.fcntl(fd, F_GETFD);
  if (fl < 0) throwErrno("fcntl(F_GETFD)", `fd ${fd}`);
  const next = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
  if (next !== fl && fcntlArg(fd, F_SETFD, next) < 0) throwErrno("fcntl(F_SETFD)", `fd ${fd}`);
}

/** The kind of object an fd refers to, from `fstat(2)`'s `st_mode`. */
export type FileKind =
  | "file"
  | "directory"
  | "socket"
  | "fifo"
  | "character"
  | "block"
  | "symlink"
  | "unknown";

// Offset of st_mode in struct stat: glibc x86_64 24, glibc aarch64 16, macOS stat64 4.
const ST_MODE_OFFSET = DARWIN ? 4 : ARCH === "aarch64" ? 16 : 24;
const ST_MODE_SIZE = DARWIN ? 2 : 4;
const statBuf = new Uint8Array(new ArrayBuffer(256));
const statView = new DataView(statBuf.buffer);

/** What `fd` refers to; throws `BadResource` (EBADF) for a closed fd. */
export function fileKind(fd: number): FileKind {
  checkFd(fd);
  if (libc().fstat(fd, statBuf) < 0) throwErrno("fstat", `fd ${fd}`);
  const mode = ST_MODE_SIZE === 2
    ? statView.getUint16(ST_MODE_OFFSET, true)
    : statView.getUint32(ST_MODE_OFFSET, true);
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

/** `RLIMIT_NOFILE` of this OS. */
export const RLIMIT_NOFILE: number = ABI.RLIMIT_NOFILE;
const rlimBuf = new BigUint64Array(new ArrayBuffer(16));
const RLIM_INFINITY = 0xffffffffffffffffn;

/** The soft and hard limits of `RLIMIT_NOFILE` (Infinity for unlimited). */
export function getNofileLimit(): { soft: number; hard: number } {
  if (libc().getrlimit(RLIMIT_NOFILE, rlimBuf) < 0) throwErrno("getrlimit");
  const conv = (v: bigint) => v === RLIM_INFINITY ? Infinity : Number(v);
  return { soft: conv(rlimBuf[0]), hard: conv(rlimBuf[1]) };
}

/** Sets the soft limit of `RLIMIT_NOFILE` (it must not exceed the hard limit). */
export function setNofileSoftLimit(soft: number): void {
  if (!Number.isInteger(soft) || soft < 0) {
    throw new RangeError(`soft limit must be a non-negative integer, got ${soft}`);
  }
  if (libc().getrlimit(RLIMIT_NOFILE, rlimBuf) < 0) throwErrno("getrlimit");
  rlimBuf[0] = BigInt(soft);
  if (libc().setrlimit(RLIMIT_NOFILE, rlimBuf) < 0) throwErrno("setrlimit", `soft ${soft}`);
}

/** `pipe(2)` with both ends nonblocking and close-on-exec: `[readFd, writeFd]`. */
export function makePipe(): [number, number] {
  const fds = new Int32Array(new ArrayBuffer(8));
  if (libc().pipe(fds) < 0) throwErrno("pipe");
  try {
    for (const fd of fds) {
      setNonBlocking(fd);
      setCloseOnExec(fd);
    }
  } catch (e) {
    libc().close(fds[0]);
    libc().close(fds[1]);
    throw e;
  }
  return [fds[0], fds[1]];
}

/** `AF_UNIX` and `SOCK_STREAM`/`SOCK_DGRAM` (the same values on Linux and macOS). */
export const AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2;

/** `socketpair(AF_UNIX, type)` with both ends nonblocking and close-on-exec. */
export function makeSocketPair(type: number = SOCK_STREAM): [number, number] {
  const fds = new Int32Array(new ArrayBuffer(8));
  if (libc().socketpair(AF_UNIX, type, 0, fds) < 0) throwErrno("socketpair");
  try {
    for (const fd of fds) {
      setNonBlocking(fd);
      setCloseOnExec(fd);
    }
  } catch (e) {
    libc().close(fds[0]);
    libc().close(fds[1]);
    throw e;
  }
  return [fds[0], fds[1]];
}
