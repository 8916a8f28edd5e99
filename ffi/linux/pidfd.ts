/**
 * Child watching through pidfds (Linux ≥ 5.3 for `pidfd_open`, ≥ 5.4 for
 * `waitid(P_PIDFD)`): the fd becomes readable when the child exits, so a
 * selector can watch it beside sockets, and `waitid` on it reaps exactly that
 * child. Where pidfds are missing (older kernels, some sandboxes' seccomp
 * filters) `pidfdSupport()` says so and the caller falls back to SIGCHLD plus
 * `waitpidNoHang(pid)` on its own children.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { LINUX, OS } from "../unix/_abi.ts";
import { E, osError } from "../unix/errno.ts";
import { checkFd, closeFd, errno, LIBC_PATH } from "../unix/libc.ts";
import { type ChildExit, WNOHANG } from "../unix/wait.ts";

// x86_64 and aarch64 share the generic syscall numbers for the pidfd calls.
const SYS_PIDFD_OPEN = 434n, SYS_PIDFD_SEND_SIGNAL = 424n;
const P_PIDFD = 3, WEXITED = 4;
/** `si_code` values of a SIGCHLD siginfo. */
const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;
// siginfo_t is 128 bytes; for SIGCHLD: si_code at 8, si_pid at 16, si_status at 24.
const SIGINFO_SIZE = 128;

const SYMBOLS = {
  // syscall() is variadic; on Linux x86_64 and aarch64 integer varargs travel in registers.
  syscall3: { name: "syscall", parameters: ["i64", "i64", "i64"], result: "i64" },
  syscall5: { name: "syscall", parameters: ["i64", "i64", "i64", "i64", "i64"], result: "i64" },
  waitid: { parameters: ["i32", "i32", "buffer", "i32"], result: "i32" },
} as const;

const sys = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: LINUX,
  unsupported:
    `pidfds are a Linux feature; on ${OS} watch children with kqueue EVFILT_PROC or SIGCHLD`,
});

const siginfo = new Uint8Array(new ArrayBuffer(SIGINFO_SIZE));
const siginfoView = new DataView(siginfo.buffer);

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0x7fffffff) {
    throw new RangeError(`pid must be a positive integer, got ${pid}`);
  }
}

/**
 * `pidfd_open(pid, 0)`: a close-on-exec fd for the process `pid` that turns
 * readable when it exits. Throws `NotSupported` (ENOSYS) where the kernel has
 * no pidfds, and the ESRCH error for a process that is gone.
 *
 * @example
 * ```ts ignore
 * const pidfd = pidfdOpen(child.pid);
 * selector.register(pidfd, EVENT_READ);
 * ```
 */
export function pidfdOpen(pid: number): number {
  checkPid(pid);
  const fd = Number(sys().syscall3(SYS_PIDFD_OPEN, BigInt(pid), 0n));
  if (fd < 0) throw osError(errno(), "pidfd_open", `pid ${pid}`);
  return fd;
}

/**
 * `waitid(P_PIDFD, pidfd, WEXITED | WNOHANG)`: the child's exit, reaped, or
 * `null` while it runs. The pidfd stays open: close it after the exit.
 *
 * @example
 * ```ts ignore
 * const exit = pidfdWait(pidfd); // once the pidfd is readable
 * closeFd(pidfd);
 * console.log(exit?.returncode); // -9 for a child killed by SIGKILL
 * ```
 */
export function pidfdWait(pidfd: number): ChildExit | null {
  checkFd(pidfd, "pidfd");
  const s = sys();
  for (;;) {
    siginfo.fill(0); // with WNOHANG and no exit, waitid leaves si_pid at 0
    if (s.waitid(P_PIDFD, pidfd, siginfo, WEXITED | WNOHANG) === 0) break;
    const e = errno();
    if (e !== E.EINTR) throw osError(e, "waitid(P_PIDFD)", `pidfd ${pidfd}`);
  }
  const pid = siginfoView.getInt32(16, true);
  if (pid === 0) return null;
  const code = siginfoView.getInt32(8, true);
  const status = siginfoView.getInt32(24, true);
  if (code === CLD_EXITED) {
    return { pid, returncode: status, exitCode: status, signal: null, coreDumped: false };
  }
  if (code === CLD_KILLED || code === CLD_DUMPED) {
    return {
      pid,
      returncode: -status,
      exitCode: null,
      signal: status,
      coreDumped: code === CLD_DUMPED,
    };
  }
  return null; // stopped, trapped or continued: not requested, not an exit
}

/**
 * `pidfd_send_signal(pidfd, sig, NULL, 0)`: signals the process the pidfd
 * refers to, never a later process that reused its pid.
 *
 * @example
 * ```ts ignore
 * pidfdSendSignal(pidfd, 15); // SIGTERM
 * ```
 */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  checkFd(pidfd, "pidfd");
  if (!Number.isInteger(signal) || signal < 0 || signal > 64) {
    throw new RangeError(`signal must be a signal number (0-64), got ${signal}`);
  }
  const r = sys().syscall5(SYS_PIDFD_SEND_SIGNAL, BigInt(pidfd), BigInt(signal), 0n, 0n);
  if (r < 0) throw osError(errno(), "pidfd_send_signal", `pidfd ${pidfd}, signal ${signal}`);
}

/** What `pidfdSupport()` found: whether pidfd watching works, and why not. */
export interface PidfdSupport {
  /** Whether `pidfdOpen()` and `pidfdWait()` both work here. */
  supported: boolean;
  /** Why not (the call and the errno name), when unsupported. */
  reason?: string;
}

let support: PidfdSupport | undefined;

/**
 * Probes once whether pidfd child watching works: `pidfd_open` of this
 * process, then `waitid(P_PIDFD)` on it, which answers ECHILD (we are not
 * our own child) when the kernel knows P_PIDFD and EINVAL when it does not.
 *
 * @example
 * ```ts ignore
 * if (!pidfdSupport().supported) useSigchldWatcher();
 * ```
 */
export function pidfdSupport(): PidfdSupport {
  if (support !== undefined) return support;
  if (!LINUX) {
    return support = { supported: false, reason: `no pidfds on ${OS}` };
  }
  const s = sys();
  const fd = Number(s.syscall3(SYS_PIDFD_OPEN, BigInt(Deno.pid), 0n));
  if (fd < 0) {
    return support = {
      supported: false,
      reason: `pidfd_open failed: ${osError(errno(), "").code}`,
    };
  }
  try {
    siginfo.fill(0);
    const r = s.waitid(P_PIDFD, fd, siginfo, WEXITED | WNOHANG);
    const e = r < 0 ? errno() : 0;
    support = e === E.ECHILD || r === 0
      ? { supported: true }
      : { supported: false, reason: `waitid(P_PIDFD) failed: ${osError(e, "").code}` };
  } finally {
    closeFd(fd);
  }
  return support;
}
