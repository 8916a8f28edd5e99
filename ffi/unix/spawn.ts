/**
 * Starting child processes with `posix_spawnp` (never `fork()`: forking a
 * multi-threaded V8 process is unsafe). `spawnProcess()` validates its
 * arguments, builds the file actions that set up the child's stdin, stdout
 * and stderr, makes the pipes it was asked for, and hands back the pid and
 * the parent's ends of those pipes (nonblocking, close-on-exec).
 *
 * `posix_spawn_file_actions_t` and `posix_spawnattr_t` are opaque: they live
 * in generous off-heap buffers (glibc needs 80 and 336 bytes; on macOS each
 * is one pointer) and are always destroyed.
 *
 * @module
 */
import { describe } from "../os_error.ts";
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, DARWIN, LINUX, OS } from "./_abi.ts";
import { E, osError } from "./errno.ts";
import {
  checkFd,
  closeFd,
  errno,
  fcntlArg,
  isOpenFd,
  libc,
  LIBC_PATH,
  setCloseOnExec,
  setNonBlocking,
} from "./libc.ts";
import { signalNumber } from "./signals.ts";

const FILE_ACTIONS_SIZE = 256; // glibc: 80
const SPAWNATTR_SIZE = 512; // glibc: 336
const SIGSET_SIZE = 128; // glibc: 128; macOS: 4

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = ABI.POSIX_SPAWN_SETSID;
const POSIX_SPAWN_CLOEXEC_DEFAULT = 0x4000; // macOS only
const O_RDONLY = 0, O_WRONLY = 1;
const { F_DUPFD_CLOEXEC, O_CLOEXEC } = ABI;

const SYMBOLS = {
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "pointer"],
    result: "i32",
  },
  fa_init: { name: "posix_spawn_file_actions_init", parameters: ["buffer"], result: "i32" },
  fa_destroy: { name: "posix_spawn_file_actions_destroy", parameters: ["buffer"], result: "i32" },
  fa_adddup2: {
    name: "posix_spawn_file_actions_adddup2",
    parameters: ["buffer", "i32", "i32"],
    result: "i32",
  },
  fa_addopen: {
    name: "posix_spawn_file_actions_addopen",
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  // glibc ≥ 2.29, macOS ≥ 10.15.
  fa_addchdir: {
    name: "posix_spawn_file_actions_addchdir_np",
    parameters: ["buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  // glibc ≥ 2.34 only.
  fa_addclosefrom: {
    name: "posix_spawn_file_actions_addclosefrom_np",
    parameters: ["buffer", "i32"],
    result: "i32",
    optional: true,
  },
  // macOS ≥ 10.15 only: keeps an fd open under POSIX_SPAWN_CLOEXEC_DEFAULT.
  fa_addinherit: {
    name: "posix_spawn_file_actions_addinherit_np",
    parameters: ["buffer", "i32"],
    result: "i32",
    optional: true,
  },
  attr_init: { name: "posix_spawnattr_init", parameters: ["buffer"], result: "i32" },
  attr_destroy: { name: "posix_spawnattr_destroy", parameters: ["buffer"], result: "i32" },
  attr_setflags: { name: "posix_spawnattr_setflags", parameters: ["buffer", "i16"], result: "i32" },
  attr_setpgroup: {
    name: "posix_spawnattr_setpgroup",
    parameters: ["buffer", "i32"],
    result: "i32",
  },
  attr_setsigmask: {
    name: "posix_spawnattr_setsigmask",
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  attr_setsigdefault: {
    name: "posix_spawnattr_setsigdefault",
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigaddset: { parameters: ["buffer", "i32"], result: "i32" },
  // Linux and FreeBSD; macOS has none.
  pipe2: { parameters: ["buffer", "i32"], result: "i32", optional: true },
} as const;

// The current environment: glibc exports `environ`; a macOS dylib must ask _NSGetEnviron().
const ENV_LINUX = { environ: { type: "pointer" } } as const;
const ENV_DARWIN = { _NSGetEnviron: { parameters: [], result: "pointer" } } as const;

const AVAILABLE = {
  available: LINUX || DARWIN,
  unsupported: `posix_spawn bindings are for Linux and macOS; this is ${OS}: use Deno.Command`,
};
const sys = lazyLibrary(LIBC_PATH, SYMBOLS, AVAILABLE);
const envLinux = lazyLibrary(LIBC_PATH, ENV_LINUX, { ...AVAILABLE, available: LINUX });
const envDarwin = lazyLibrary(LIBC_PATH, ENV_DARWIN, { ...AVAILABLE, available: DARWIN });
let environLocation: Deno.PointerValue | undefined;

/** This process's `char **environ`, read at call time (setenv may move it). */
function currentEnviron(): Deno.PointerValue {
  environLocation ??= DARWIN ? envDarwin()._NSGetEnviron() : envLinux().environ;
  if (environLocation === null) return null;
  return new Deno.UnsafePointerView(environLocation).getPointer(0);
}

/** Which optional spawn features this C library has. */
export interface SpawnFeatures {
  /** `posix_spawn_file_actions_addchdir_np` (glibc ≥ 2.29, macOS ≥ 10.15): the `cwd` option. */
  chdir: boolean;
  /**
   * Closing every other fd in the child: `addclosefrom_np` (glibc ≥ 2.34) or
   * `POSIX_SPAWN_CLOEXEC_DEFAULT` (macOS). Without it `closeOtherFds` relies
   * on every fd of this process being close-on-exec.
   */
  closeFrom: boolean;
}

/**
 * Probes which optional spawn features the C library has.
 *
 * @example
 * ```ts ignore
 * if (!spawnFeatures().chdir) console.log("no cwd option on this glibc");
 * ```
 */
export function spawnFeatures(): SpawnFeatures {
  const s = sys();
  return { chdir: s.fa_addchdir !== null, closeFrom: DARWIN || s.fa_addclosefrom !== null };
}

/**
 * How a standard stream of the child is set up: `"pipe"` (a new pipe; the
 * parent gets its end), `"inherit"` (the parent's own), `"null"`
 * (`/dev/null`) or an open fd of the parent to give the child.
 */
export type StdioOption = "pipe" | "inherit" | "null" | number;

/** Options of `spawnProcess()`. */
export interface SpawnOptions {
  /** The child's working directory (needs `posix_spawn_file_actions_addchdir_np`). */
  cwd?: string;
  /** The child's whole environment, as `"KEY=value"` strings or a record; default: ours. */
  env?: readonly string[] | Readonly<Record<string, string>>;
  /** The child's `argv[0]`, when it should differ from the program (`args[0]`). */
  argv0?: string;
  /** The child's stdin; default `"inherit"`. */
  stdin?: StdioOption;
  /** The child's stdout; default `"inherit"`. */
  stdout?: StdioOption;
  /** The child's stderr, or `"stdout"` to merge it into stdout; default `"inherit"`. */
  stderr?: StdioOption | "stdout";
  /** Starts the child in a new session (`POSIX_SPAWN_SETSID`, glibc ≥ 2.26). */
  setsid?: boolean;
  /** Puts the child in process group `pgroup`; 0 makes a new group led by the child. */
  pgroup?: number;
  /** Closes every fd but 0, 1 and 2 in the child (default `true`, as Python's `close_fds`). */
  closeOtherFds?: boolean;
}

/** A started child: its pid and the parent's ends of the pipes that were asked for. */
export interface SpawnedProcess {
  /** The child's pid. */
  pid: number;
  /** The write end of the child's stdin pipe (nonblocking, close-on-exec). */
  stdin?: number;
  /** The read end of the child's stdout pipe (nonblocking, close-on-exec). */
  stdout?: number;
  /** The read end of the child's stderr pipe (nonblocking, close-on-exec). */
  stderr?: number;
}

/** NUL-terminated C strings and NULL-terminated pointer arrays, in off-heap memory. */
class CStrings {
  #enc = new TextEncoder();
  /** Keeps every buffer alive for as long as this object is reachable. */
  #keep: ArrayBuffer[] = [];

  /** One C string. */
  string(s: string, what: string): Uint8Array {
    checkString(s, what);
    const bytes = this.#enc.encode(s);
    const buf = new Uint8Array(new ArrayBuffer(bytes.length + 1));
    buf.set(bytes);
    this.#keep.push(buf.buffer);
    return buf;
  }

  /** A `char *const[]` of `list`, ended by NULL. */
  array(list: readonly string[], what: string): BigUint64Array {
    const strings = list.map((s, i) => this.string(s, `${what}[${i}]`));
    const ptrs = new BigUint64Array(new ArrayBuffer(8 * (list.length + 1)));
    strings.forEach((s, i) => ptrs[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s))));
    this.#keep.push(ptrs.buffer);
    return ptrs;
  }
}

function checkString(s: unknown, what: string): asserts s is string {
  if (typeof s !== "string") throw new TypeError(`${what} must be a string, got ${describe(s)}`);
  if (s.includes("\0")) throw new TypeError(`${what} must not contain NUL characters`);
}

function checkStdio(v: unknown, name: string, allowStdout: boolean): void {
  if (v === undefined || v === "pipe" || v === "inherit" || v === "null") return;
  if (allowStdout && v === "stdout") return;
  if (typeof v === "number") {
    checkFd(v, `options.${name}`);
    if (!isOpenFd(v)) throw osError(E.EBADF, "spawn", `options.${name}: fd ${v} is not open`);
    return;
  }
  const choices = `"pipe", "inherit", "null"${allowStdout ? ', "stdout"' : ""} or an fd`;
  throw new TypeError(`options.${name} must be ${choices}, got ${describe(v)}`);
}

function envList(env: SpawnOptions["env"]): readonly string[] {
  if (Array.isArray(env)) {
    env.forEach((kv, i) => {
      checkString(kv, `options.env[${i}]`);
      if (kv.indexOf("=") <= 0) {
        throw new TypeError(`options.env[${i}] must look like "KEY=value", got ${describe(kv)}`);
      }
    });
    return env;
  }
  if (typeof env !== "object" || env === null) {
    throw new TypeError(
      `options.env must be an array of "KEY=value" or a record, got ${describe(env)}`,
    );
  }
  return Object.entries(env).map(([k, v]) => {
    checkString(v, `options.env.${k}`);
    if (k === "" || k.includes("=")) {
      throw new TypeError(`bad environment variable name ${describe(k)}`);
    }
    return `${k}=${v}`;
  });
}

/** `fcntl(fd, F_DUPFD_CLOEXEC, min)`. */
function dupAtLeast(fd: number, min: number): number {
  const r = fcntlArg(fd, F_DUPFD_CLOEXEC, min);
  if (r < 0) throw osError(errno(), "fcntl(F_DUPFD_CLOEXEC)", `fd ${fd}`);
  return r;
}

/** A close-on-exec pipe, both ends blocking: `[readFd, writeFd]`. */
function cloexecPipe(): [number, number] {
  const fds = new Int32Array(new ArrayBuffer(8));
  const pipe2 = ABI.HAS_PIPE2 ? sys().pipe2 : null;
  if (pipe2 !== null) {
    if (pipe2(fds, O_CLOEXEC) < 0) throw osError(errno(), "pipe2");
    return [fds[0], fds[1]];
  }
  // macOS has no pipe2: a spawn on another thread in between could inherit these.
  if (libc().pipe(fds) < 0) throw osError(errno(), "pipe");
  for (const fd of fds) setCloseOnExec(fd);
  return [fds[0], fds[1]];
}

function check(ret: number, call: string): void {
  if (ret !== 0) throw osError(ret, call); // the posix_spawn family returns the errno
}

const STREAMS = ["stdin", "stdout", "stderr"] as const;

/**
 * Starts `args[0]` (looked up in `PATH` unless it has a slash) with the
 * arguments `args` through `posix_spawnp`. Streams asked for as `"pipe"`
 * come back as the parent's ends (nonblocking, close-on-exec); the child's
 * ends are closed in the parent. The child starts with an empty signal mask
 * and SIGPIPE/SIGXFSZ at their default actions (Deno ignores SIGPIPE).
 *
 * A program that cannot be run throws `Deno.errors.NotFound` or
 * `PermissionDenied` naming it; nothing is left behind (no pipe, no zombie).
 * The caller owns the child: reap it with `pidfdWait()` or
 * `waitpidNoHang(pid)`, and close the pipe fds.
 *
 * @example
 * ```ts ignore
 * const child = spawnProcess(["echo", "hello"], { stdout: "pipe" });
 * // read child.stdout until EOF, close it, then reap child.pid
 * ```
 */
export function spawnProcess(args: readonly string[], options: SpawnOptions = {}): SpawnedProcess {
  if (!Array.isArray(args) || args.length === 0) {
    throw new TypeError(`args must be a non-empty array of strings, got ${describe(args)}`);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  const { cwd, env, argv0, setsid = false, pgroup, closeOtherFds = true } = options;
  const s = sys();
  const c = new CStrings();
  if (argv0 !== undefined) checkString(argv0, "options.argv0");
  const program = c.string(args[0], "args[0]");
  const argv = c.array(argv0 === undefined ? args : [argv0, ...args.slice(1)], "args");
  const envp = env === undefined ? null : c.array(envList(env), "options.env");
  const cwdC = cwd === undefined ? null : c.string(cwd, "options.cwd");
  if (cwdC !== null && s.fa_addchdir === null) {
    throw new Deno.errors.NotSupported(
      `the cwd option needs posix_spawn_file_actions_addchdir_np (glibc ≥ 2.29, macOS ≥ 10.15), missing from this C library on ${OS}: use Deno.Command`,
    );
  }
  if (pgroup !== undefined && (!Number.isInteger(pgroup) || pgroup < 0 || pgroup > 0x7fffffff)) {
    throw new RangeError(`options.pgroup must be a process group id or 0, got ${describe(pgroup)}`);
  }
  if (setsid && pgroup !== undefined) {
    throw new TypeError(
      "options.setsid and options.pgroup cannot be combined (a new session is a new group)",
    );
  }
  checkStdio(options.stdin, "stdin", false);
  checkStdio(options.stdout, "stdout", false);
  checkStdio(options.stderr, "stderr", true);
  const devNull = c.string("/dev/null", "/dev/null");

  const toClose: number[] = []; // the child's ends and temporary copies: closed in any case
  const result: SpawnedProcess = { pid: 0 };
  const fa = new Uint8Array(new ArrayBuffer(FILE_ACTIONS_SIZE));
  const attr = new Uint8Array(new ArrayBuffer(SPAWNATTR_SIZE));
  const sigmask = new Uint8Array(new ArrayBuffer(SIGSET_SIZE));
  const sigdef = new Uint8Array(new ArrayBuffer(SIGSET_SIZE));
  const pidBuf = new Int32Array(new ArrayBuffer(4));
  let faReady = false, attrReady = false;
  try {
    check(s.fa_init(fa), "posix_spawn_file_actions_init");
    faReady = true;
    check(s.attr_init(attr), "posix_spawnattr_init");
    attrReady = true;

    // The child's fd for each stream, or "null"/"inherit"/"stdout".
    const sources: (number | "null" | "inherit" | "stdout")[] = [];
    for (let target = 0; target < 3; target++) {
      const name = STREAMS[target];
      const opt = options[name] ?? "inherit";
      if (opt === "pipe") {
        const [r, w] = cloexecPipe();
        const [parentEnd, childEnd] = target === 0 ? [w, r] : [r, w];
        result[name] = parentEnd;
        toClose.push(childEnd);
        setNonBlocking(parentEnd);
        sources.push(childEnd);
      } else if (typeof opt === "number" && opt === target) {
        sources.push("inherit");
      } else {
        sources.push(opt);
      }
    }
    // A source below 3 could be overwritten by the action for an earlier stream
    // (and dup2(fd, fd) would keep its close-on-exec flag): give it a copy ≥ 3.
    for (let i = 0; i < 3; i++) {
      const src = sources[i];
      if (typeof src === "number" && src < 3) {
        const copy = dupAtLeast(src, 3);
        toClose.push(copy);
        sources[i] = copy;
      }
    }
    for (let target = 0; target < 3; target++) {
      const src = sources[target];
      if (typeof src === "number") {
        check(s.fa_adddup2(fa, src, target), "posix_spawn_file_actions_adddup2");
      } else if (src === "null") {
        const flags = target === 0 ? O_RDONLY : O_WRONLY;
        check(s.fa_addopen(fa, target, devNull, flags, 0), "posix_spawn_file_actions_addopen");
      } else if (src === "stdout") {
        check(s.fa_adddup2(fa, 1, 2), "posix_spawn_file_actions_adddup2");
      } else if (DARWIN && closeOtherFds) {
        // Under POSIX_SPAWN_CLOEXEC_DEFAULT an inherited stream must be named.
        check(
          s.fa_addinherit !== null ? s.fa_addinherit(fa, target) : s.fa_adddup2(fa, target, target),
          "posix_spawn_file_actions_addinherit_np",
        );
      }
    }
    if (cwdC !== null) check(s.fa_addchdir!(fa, cwdC), "posix_spawn_file_actions_addchdir_np");
    // Last: the sources of the dup2 actions above are fds ≥ 3.
    if (closeOtherFds && !DARWIN && s.fa_addclosefrom !== null) {
      check(s.fa_addclosefrom(fa, 3), "posix_spawn_file_actions_addclosefrom_np");
    }

    let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (setsid) flags |= POSIX_SPAWN_SETSID;
    if (pgroup !== undefined) flags |= POSIX_SPAWN_SETPGROUP;
    if (DARWIN && closeOtherFds) flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
    const fr = s.attr_setflags(attr, flags);
    if (fr === E.EINVAL && setsid) {
      throw new Deno.errors.NotSupported(
        `options.setsid needs POSIX_SPAWN_SETSID (glibc ≥ 2.26), which this C library on ${OS} refuses`,
      );
    }
    check(fr, "posix_spawnattr_setflags");
    if (pgroup !== undefined) check(s.attr_setpgroup(attr, pgroup), "posix_spawnattr_setpgroup");
    s.sigemptyset(sigmask);
    check(s.attr_setsigmask(attr, sigmask), "posix_spawnattr_setsigmask");
    s.sigemptyset(sigdef);
    s.sigaddset(sigdef, signalNumber("SIGPIPE")!);
    s.sigaddset(sigdef, signalNumber("SIGXFSZ")!);
    check(s.attr_setsigdefault(attr, sigdef), "posix_spawnattr_setsigdefault");

    const envPtr = envp === null ? currentEnviron() : Deno.UnsafePointer.of(envp);
    const ret = s.posix_spawnp(pidBuf, program, fa, attr, argv, envPtr);
    if (ret !== 0) {
      // glibc reaps a child whose exec failed before returning; macOS makes none.
      const where = cwd === undefined ? "" : ` in ${JSON.stringify(cwd)}`;
      throw osError(ret, "posix_spawnp", `program ${JSON.stringify(args[0])}${where}`);
    }
    result.pid = pidBuf[0];
    return result;
  } catch (e) {
    for (const name of STREAMS) {
      const fd = result[name];
      if (fd !== undefined) closeFd(fd);
    }
    throw e;
  } finally {
    for (const fd of toClose) closeFd(fd);
    if (faReady) s.fa_destroy(fa);
    if (attrReady) s.attr_destroy(attr);
    void c; // the C strings stay reachable until here
  }
}
