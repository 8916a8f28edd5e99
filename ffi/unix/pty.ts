/**
 * Pseudo-terminals and opening paths without blocking: `posix_openpt`,
 * `grantpt`, `unlockpt`, `ptsname_r` and `open(2)`. Deno's `Deno.openSync`
 * cannot open with `O_NONBLOCK` or `O_NOCTTY` (a FIFO opened for reading
 * blocks the thread until a writer comes) and hides the fd it makes, so the
 * pipe code and its tests open such paths here.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, DARWIN, LINUX, OS } from "./_abi.ts";
import { osError } from "./errno.ts";
import { closeFd, errno, LIBC_PATH, setCloseOnExec } from "./libc.ts";

// open(2) flags. O_RDONLY/O_WRONLY/O_RDWR are the same everywhere; the rest differ.
const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
const { O_NONBLOCK, O_NOCTTY, O_CLOEXEC } = ABI;

// `open` is variadic (a mode follows O_CREAT). It is bound with its two fixed parameters only
// and never given O_CREAT, so no variadic argument is ever passed (macOS/arm64 would want it on
// the stack).
const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
} as const;

const symbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: LINUX || DARWIN,
  unsupported: `pty/open bindings support Linux and macOS, not ${OS}`,
});

/** Options of {@linkcode openFd}. */
export interface OpenFdOptions {
  /** `"r"` (`O_RDONLY`), `"w"` (`O_WRONLY`) or `"rw"` (`O_RDWR`, the default). */
  mode?: "r" | "w" | "rw";
  /** Open with `O_NONBLOCK` (default `true`): a FIFO then opens at once. */
  nonBlocking?: boolean;
  /** Open with `O_NOCTTY` (default `true`): a terminal never becomes our controlling one. */
  noCtty?: boolean;
}

/**
 * `open(path, flags | O_CLOEXEC)` for an existing path; returns the fd.
 * Never creates files. Throws `Deno.errors.*` (`NotFound`,
 * `PermissionDenied`, ...) naming the path. A FIFO opened `"w"` with
 * `nonBlocking` fails with ENXIO while no reader has it open (POSIX).
 *
 * Note: like every FFI call, this is not checked against Deno's
 * `--allow-read`/`--allow-write` permissions.
 *
 * @example
 * ```ts
 * import { openFd } from "./pty.ts";
 * import { closeFd, fileKind } from "./libc.ts";
 * const fd = openFd("/dev/null", { mode: "w" });
 * console.log(fileKind(fd)); // "character"
 * closeFd(fd);
 * ```
 */
export function openFd(path: string, options: OpenFdOptions = {}): number {
  if (typeof path !== "string") {
    throw new TypeError(`openFd(): path must be a string, got ${typeof path}`);
  }
  if (path.length === 0 || path.includes("\0")) {
    throw new TypeError("openFd(): path must be non-empty and must not contain NUL");
  }
  const mode = options.mode ?? "rw";
  let flags = mode === "r" ? O_RDONLY : mode === "w" ? O_WRONLY : mode === "rw" ? O_RDWR : -1;
  if (flags < 0) throw new TypeError(`openFd(): mode must be "r", "w" or "rw", got ${mode}`);
  if (options.nonBlocking ?? true) flags |= O_NONBLOCK;
  if (options.noCtty ?? true) flags |= O_NOCTTY;
  const cpath = new TextEncoder().encode(path + "\0");
  const fd = symbols().open(cpath, flags | O_CLOEXEC);
  if (fd < 0) throw osError(errno(), "open", JSON.stringify(path));
  return fd;
}

/** A pseudo-terminal pair, as {@linkcode openpty} makes it. */
export interface Pty {
  /** The master side (`/dev/ptmx`): what a terminal emulator holds. */
  master: number;
  /** The slave side (`/dev/pts/N`): what a program sees as its terminal. */
  slave: number;
  /** The slave's path. */
  path: string;
}

/**
 * Opens a new pseudo-terminal (`posix_openpt` + `grantpt` + `unlockpt` +
 * `ptsname_r`, then `open` of the slave): both fds close-on-exec, blocking
 * (callers such as `connectReadPipe` make them nonblocking), and neither
 * becomes the controlling terminal. The slave is in the default (cooked)
 * mode: input is delivered by lines and echoed to the master. On Linux,
 * reading the master after every slave fd is closed fails with EIO.
 *
 * @example
 * ```ts
 * import { openpty } from "./pty.ts";
 * import { closeFd, fileKind } from "./libc.ts";
 * const { master, slave, path } = openpty();
 * console.log(fileKind(master), fileKind(slave), path.startsWith("/dev/")); // character character true
 * closeFd(slave);
 * closeFd(master);
 * ```
 */
export function openpty(): Pty {
  const s = symbols();
  const master = s.posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) throw osError(errno(), "posix_openpt");
  try {
    setCloseOnExec(master);
    if (s.grantpt(master) !== 0) throw osError(errno(), "grantpt", `fd ${master}`);
    if (s.unlockpt(master) !== 0) throw osError(errno(), "unlockpt", `fd ${master}`);
    const buf = new Uint8Array(256);
    // ptsname_r returns the error number (glibc also sets errno; macOS only returns it).
    const rc = s.ptsname_r(master, buf, BigInt(buf.byteLength));
    if (rc !== 0) throw osError(rc > 0 ? rc : errno(), "ptsname_r", `fd ${master}`);
    const end = buf.indexOf(0);
    const path = new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.byteLength : end));
    const slave = openFd(path, { mode: "rw", nonBlocking: false });
    return { master, slave, path };
  } catch (e) {
    closeFd(master);
    throw e;
  }
}
