/**
 * The OS seam: the ONE place that picks the OS family, and the contract
 * that code outside `ffi/` shared between OS families (`selectors/`' base
 * and default selector, `net/`, `loop/clock.ts`, `loop/base/`,
 * `loop/selector/`) codes against. Backend-specific code (the epoll, kqueue,
 * poll and select selectors, `loop/unix/`, `runner.ts`) may import its own
 * folder of `ffi/` directly; nothing else may.
 *
 * What the contract guarantees:
 *
 * - Every export is the implementation's own object, never a wrapper: a
 *   function exported here IS the function of `ffi/unix/` (or, one day,
 *   `ffi/windows/`), so hot paths pay nothing for the seam.
 * - Importing this module opens no library and needs no permission:
 *   libraries are opened on the first call that needs one (`sock()`,
 *   `new Waker()`, ...), which throws `Deno.errors.NotSupported` (naming the
 *   alternative) where the OS has no such call.
 * - OS errors are `Deno.errors.*` instances (a `TypeError`/`RangeError` for
 *   EINVAL, a plain `Error` where no class fits) carrying `code` (the
 *   error's name, `"ECONNREFUSED"`; every errno of Linux and macOS has one),
 *   `errno` (its number on this OS) and `syscall` (DESIGN decision 3;
 *   decisions.md B2); the error number is read right after the failing
 *   synchronous call (decision 4). Bad arguments throw `TypeError`/
 *   `RangeError` before anything reaches the OS.
 * - Addresses are Deno-shaped (`{ transport, hostname, port }`,
 *   `{ transport, path }`) on every OS.
 *
 * Two implementations plug in at the single switch below (`const os = ...`),
 * chosen by {@linkcode OS_FAMILY}: `./unix/mod.ts` and `./windows/seam.ts`,
 * each with the exports of `OsFamily` (the Unix module's shapes, its
 * classes as the interfaces {@linkcode Waker} and {@linkcode IovecArray},
 * its socket calls cut to those both families have).
 *
 * @module
 */
import * as unix from "./unix/mod.ts";
import * as windows from "./windows/seam.ts";

export {
  describe,
  type ErrorClass,
  errorClass,
  isOSError,
  makeOSError,
  type OSError,
  rewordError,
} from "./os_error.ts";

// ---- platform ----------------------------------------------------------------

/**
 * The platform, as Deno names it (`Deno.build.os`). Code outside `ffi/` reads
 * this, never `Deno.build.os`.
 *
 * @example
 * ```ts
 * import { PLATFORM } from "./sys.ts";
 * console.log(PLATFORM === Deno.build.os); // true
 * ```
 */
export const PLATFORM: typeof Deno.build.os = Deno.build.os;

/**
 * The OS family: `"windows"` on Windows, `"unix"` everywhere else (Linux,
 * macOS, the BSDs). It picks the implementation behind every export below.
 *
 * @example
 * ```ts
 * import { OS_FAMILY } from "./sys.ts";
 * console.log(OS_FAMILY); // "unix" on Linux and macOS
 * ```
 */
export const OS_FAMILY: "unix" | "windows" = PLATFORM === "windows" ? "windows" : "unix";

/** The members of `sock()` both OS families have, with the same parameters. */
type CommonSocketCall =
  | "socket"
  | "bind"
  | "listen"
  | "accept"
  | "accept4"
  | "connect"
  | "getsockname"
  | "getpeername"
  | "setsockopt"
  | "getsockopt"
  | "shutdown"
  | "send"
  | "recv"
  | "sendto"
  | "recvfrom";

/** What an OS family's module must export: the Unix module's shapes, classes as interfaces. */
interface OsFamily extends
  Omit<
    typeof unix,
    | "sock"
    | "Waker"
    | "IovecArray"
    | "DatagramBatch"
    | "HAS_RECVMMSG"
    | "keepFreedMemory"
    | "mallocStats"
  > {
  sock(): SocketSymbols;
  readonly Waker: new () => Waker;
  readonly IovecArray: new (capacity?: number) => IovecArray;
}

// The one switch.
const os: OsFamily = OS_FAMILY === "windows" ? windows : unix;

/** Whether this OS has kqueue (macOS, FreeBSD): `KqueueSelector` can work. */
export const HAS_KQUEUE: boolean = os.HAS_KQUEUE;
/** Whether this OS has epoll (Linux): `EpollSelector` can work. */
export const HAS_EPOLL: boolean = os.HAS_EPOLL;

// ---- errors ------------------------------------------------------------------

/**
 * This OS's error numbers by their POSIX name (`E.EAGAIN`, `E.EINTR`,
 * `E.EINPROGRESS`, `E.EBADF`, ...), for comparing with `errno()` and with
 * an error's `errno`.
 */
export const E: Readonly<Record<string, number>> = os.E;
/** The name of error number `n` on this OS (`"ECONNREFUSED"`), or `"E<n>"` for one it lacks. */
export const errnoName: typeof unix.errnoName = os.errnoName;
/**
 * `osError(errno, syscall, detail?)`: the `Deno.errors.*` (or `Error`) for
 * error number `errno` of the call `syscall`, carrying `code`, `errno` and
 * `syscall`; `detail` (such as `"fd 7"`) goes into the message.
 */
export const osError: typeof unix.osError = os.osError;
/**
 * The error number the last failed synchronous call of this thread left
 * (errno). Read it right after that call: calls made off the JS thread
 * (`nonblocking`) have their own.
 */
export const errno: typeof unix.errno = os.errno;

// ---- fds and handles ---------------------------------------------------------

/**
 * `checkFd(fd, what?)`: `fd` if it is a plausible descriptor number (an
 * integer from 0 to 2^31-1 on Unix; a SOCKET or HANDLE value from 0 to
 * 2^53-1 on Windows), else a `TypeError`/`RangeError` naming `what`.
 * Nothing reaches the OS before this check.
 */
export const checkFd: typeof unix.checkFd = os.checkFd;
/** Closes `fd` (never retried: the fd's state after EINTR is unspecified). */
export const closeFd: typeof unix.closeFd = os.closeFd;
/** Whether `fd` is open (a closed one is `false`, never an error). */
export const isOpenFd: typeof unix.isOpenFd = os.isOpenFd;
/**
 * What `fd` refers to (`"socket"`, `"fifo"`, `"file"`, `"character"`, ...;
 * from `fstat`): `BadResource` (EBADF) for a closed fd. Selectors use it to
 * refuse what cannot be polled.
 */
export const fileKind: typeof unix.fileKind = os.fileKind;
/** The kind of object an fd refers to, as {@linkcode fileKind} reports it. */
export type FileKind = unix.FileKind;
/** `setNonBlocking(fd, on = true)`: sets or clears nonblocking mode. */
export const setNonBlocking: typeof unix.setNonBlocking = os.setNonBlocking;
/** Whether `fd` is in nonblocking mode. */
export const isNonBlocking: typeof unix.isNonBlocking = os.isNonBlocking;
/** `setCloseOnExec(fd, on = true)`: sets or clears close-on-exec (not inherited by children). */
export const setCloseOnExec: typeof unix.setCloseOnExec = os.setCloseOnExec;

// ---- sockets -----------------------------------------------------------------

/**
 * The raw socket calls (`socket`, `bind`, `listen`, `accept`, `accept4` or
 * `null`, `connect`, `send`, `recv`, `sendto`, `recvfrom`, `setsockopt`,
 * `getsockopt`, `getsockname`, `getpeername`, `shutdown`, ...), the
 * library opened on first call. Each returns -1 on failure: read
 * {@linkcode errno} at once. Sizes are BigInts (Deno's fast call path takes
 * 64-bit parameters in no other form); byte counts come back as i32, so
 * never ask for more than 2^31-1 bytes.
 */
export const sock: () => SocketSymbols = os.sock;
/**
 * The socket calls {@linkcode sock} returns: those both OS families have,
 * with the same parameters (a Windows SOCKET is passed as a number).
 */
export type SocketSymbols = Pick<unix.SocketSymbols, CommonSocketCall>;
/** This OS's socket numbers (`AF_*`, `SOCK_*`, `SOL_*`, `SO_*`, `MSG_*`, `AI_*`, `NI_*`, `EAI`); 0 where absent. */
export const SOCK: Readonly<unix.SocketConstants> = os.SOCK;
/** The shape of {@linkcode SOCK}. */
export type SocketConstants = unix.SocketConstants;
/**
 * `unixSocketPair(type?)`: two connected AF_UNIX sockets (`type` in
 * {@linkcode SOCK}'s numbers, stream by default), nonblocking and
 * close-on-exec; `NotSupported` on Windows (no AF_UNIX here).
 */
export const unixSocketPair: (type?: number) => [number, number] = os.unixSocketPair;
/** The index of network interface `name` (for IPv6 scopes), or 0 when there is none. */
export const ifNameToIndex: typeof unix.ifNameToIndex = os.ifNameToIndex;

// ---- addresses ---------------------------------------------------------------

export type {
  Address,
  NetAddress,
  SockaddrLayout,
  SocketFamily,
  SocketType,
  UnixAddress,
} from "./unix/mod.ts";
/** A buffer size that holds any socket address of the supported families. */
export const SOCKADDR_MAX: number = os.SOCKADDR_MAX;
/** This OS's socket address layout (for {@linkcode encodeAddress}/{@linkcode familyOf}). */
export const HOST_LAYOUT: Readonly<unix.SockaddrLayout> = os.HOST_LAYOUT;
/**
 * `encodeAddress(addr, family, type, buf, what, layout?)`: writes the
 * Deno-shaped `addr` as a socket address into `buf`, returning its length;
 * `TypeError`/`RangeError` naming `what` for an address that does not fit.
 */
export const encodeAddress: typeof unix.encodeAddress = os.encodeAddress;
/** `decodeAddress(buf, len, type)`: the Deno-shaped address in `buf`, or `null` for another family. */
export const decodeAddress: typeof unix.decodeAddress = os.decodeAddress;
/** The address family number of the socket address in `buf`. */
export const familyOf: typeof unix.familyOf = os.familyOf;
/** `"inet"`/`"inet6"` for a numeric IPv4/IPv6 address (IPv6 may carry `%scope`), else `null`. */
export const ipFamily: typeof unix.ipFamily = os.ipFamily;
/** `parseIPv4(s, out, off?)`: writes dotted-quad `s` as 4 bytes; `false` when it is not one. */
export const parseIPv4: typeof unix.parseIPv4 = os.parseIPv4;
/** `parseIPv6(s, out, off?)`: writes IPv6 literal `s` as 16 bytes; `false` when it is not one. */
export const parseIPv6: typeof unix.parseIPv6 = os.parseIPv6;
/** An address as text for messages (`"127.0.0.1:80"`, `"[::1]:80"`, a path). */
export const addressToString: typeof unix.addressToString = os.addressToString;

// ---- name resolution ---------------------------------------------------------

/**
 * `lookupAddrInfo(host, service, hints, detail)`: the system resolver
 * (`/etc/hosts`, nsswitch, DNS) run off the JS thread; its IPv4 and IPv6
 * entries, decoded, in its order. `hints` are in {@linkcode SOCK}'s numbers.
 * Rejects with an {@linkcode AddrInfoError} (`NotFound` for `EAI_NONAME`).
 */
export const lookupAddrInfo: typeof unix.lookupAddrInfo = os.lookupAddrInfo;
/** `lookupNameInfo(addr, family, flags, detail)`: `[host, service]` of a numeric address, off the JS thread. */
export const lookupNameInfo: typeof unix.lookupNameInfo = os.lookupNameInfo;
/** Resolves once every lookup started so far has returned (even those nobody awaits). */
export const lookupsSettled: typeof unix.lookupsSettled = os.lookupsSettled;
export type { AddrInfoEntry, AddrInfoError, AddrInfoHints } from "./unix/mod.ts";

// ---- regular files (loop.sockSendfile) ---------------------------------------

/**
 * `openFileRead(path)`: opens a file for reading (`open(O_RDONLY|O_CLOEXEC)`;
 * CreateFileW with FILE_FLAG_SEQUENTIAL_SCAN on Windows, where a directory
 * throws `IsADirectory`): its fd (a HANDLE on Windows), closed with
 * {@linkcode closeFile}.
 */
export const openFileRead: typeof unix.openFileRead = os.openFileRead;
/** Closes an fd {@linkcode openFileRead} gave (`close`; `CloseHandle` on Windows). */
export const closeFile: typeof unix.closeFile = os.closeFile;
/** `fileInfo(fd)`: what the fd is (`"file"`, `"directory"`, ...) and its size. */
export const fileInfo: typeof unix.fileInfo = os.fileInfo;
/** What {@linkcode fileInfo} returns. */
export type FileInfo = unix.FileInfo;
/** `preadFd(fd, buf, offset)`: reads at `offset` (the position untouched); 0 at end of file. */
export const preadFd: typeof unix.preadFd = os.preadFd;
/** `seekFd(fd, pos)`: sets the file position. */
export const seekFd: typeof unix.seekFd = os.seekFd;
/** `tellFd(fd)`: the file position. */
export const tellFd: typeof unix.tellFd = os.tellFd;
/** Whether `sendfile(2)` exists (Linux, macOS; never Windows). */
export const HAS_SENDFILE: boolean = os.HAS_SENDFILE;
/** The most bytes one {@linkcode preadFd} or {@linkcode sendfileFd} moves. */
export const FILE_IO_MAX: number = os.FILE_IO_MAX;
/**
 * `sendfileFd(sock, fd, offset, count)`: one `sendfile(2)`: the bytes sent,
 * 0 at end of file, -1 when the socket's buffer is full (`NotSupported` on Windows).
 */
export const sendfileFd: typeof unix.sendfileFd = os.sendfileFd;

// ---- gather buffers ----------------------------------------------------------

/** The most buffers one gathered write takes. */
export const IOV_MAX: number = os.IOV_MAX;
/**
 * A reusable off-heap array of buffers for one gathered write
 * (`writev`/`sendmsg`): `push(data, start?)`, `writev(fd)`, `sendmsg(fd,
 * flags?)` (the bytes sent, or -1 when it would block), `clear()`.
 */
export const IovecArray: new (capacity?: number) => IovecArray = os.IovecArray;
/** An instance of {@linkcode IovecArray}: a gather list over off-heap `iovec`s (`WSABUF`s on Windows). */
export interface IovecArray {
  /** How many buffers it holds at most. */
  readonly capacity: number;
  /** How many buffers it holds. */
  readonly length: number;
  /** The bytes it holds in all. */
  readonly byteLength: number;
  /** Adds `data` from `start`; `false` (nothing added) when full. */
  push(data: Uint8Array, start?: number): boolean;
  /** Forgets every buffer. */
  clear(): void;
  /** Sends them all on socket `fd`: the bytes sent, or -1 when it would block. */
  sendmsg(fd: number, flags?: number): number;
  /** Writes them all to `fd`: the bytes written, or -1 when it would block. */
  writev(fd: number): number;
}

// ---- batched datagram receive (Linux) ------------------------------------------

/**
 * Whether `recvmmsg(2)` exists here (Linux only: macOS and Windows keep one
 * datagram per `recvfrom`).
 */
export const HAS_RECVMMSG: boolean = OS_FAMILY === "unix" && unix.HAS_RECVMMSG;
/**
 * A reusable off-heap `recvmmsg` batch (`new DatagramBatch(capacity,
 * slotSize)`, `recv(fd)`: the datagrams received or -1 when it would block;
 * `slot(i)`, `length(i)`, `truncated(i)`, `name(i)`, `nameLength(i)`).
 * Constructing it throws `Deno.errors.NotSupported` where
 * {@linkcode HAS_RECVMMSG} is false.
 */
export const DatagramBatch: typeof unix.DatagramBatch = unix.DatagramBatch;
/** An instance of {@linkcode DatagramBatch}. */
export type DatagramBatch = InstanceType<typeof unix.DatagramBatch>;

// ---- glibc's malloc thresholds (Linux) -------------------------------------------

/**
 * Sets glibc's mmap threshold to 32 MiB and its trim threshold to 64 MiB
 * (once; true when glibc took them), so the read buffers V8 frees in
 * batches stay in the process for the next reads; false and nothing done
 * without glibc (macOS, Windows, musl). The Unix module's function on
 * every OS: it checks for Linux before it opens anything.
 */
export const keepFreedMemory: typeof unix.keepFreedMemory = unix.keepFreedMemory;
/** glibc's `mallinfo2()` of the main heap, `null` without glibc ≥ 2.33. */
export const mallocStats: typeof unix.mallocStats = unix.mallocStats;
/** What {@linkcode mallocStats} returns. */
export type MallocStats = unix.MallocStats;

// ---- waker, clock, host yield --------------------------------------------------

/**
 * A selector's wakeup channel: `fd` turns readable after `wake()` (at most
 * one write outstanding) until `drain()`; `pending`, `close()`. An eventfd
 * on Linux, a pipe on macOS.
 */
export const Waker: new () => Waker = os.Waker;
/** An instance of {@linkcode Waker}. */
export interface Waker {
  /** The fd (a SOCKET on Windows) that turns readable after `wake()`. */
  readonly fd: number;
  /** Whether a wake is outstanding (not drained yet). */
  readonly pending: boolean;
  /** Makes `fd` readable (at most one write outstanding). */
  wake(): void;
  /** Consumes the outstanding wake. */
  drain(): void;
  /** Closes the channel. */
  close(): void;
}
/**
 * A reader of the OS monotonic clock that `performance.now()` reads, in ms
 * from an arbitrary origin, faster than `performance.now()`; `null` when FFI
 * is not granted (it never prompts) or the OS clock cannot be read.
 */
export const osMonotonicClock: typeof unix.osMonotonicClock = os.osMonotonicClock;
/**
 * The monotonic clock's resolution in ms where the OS states one that holds
 * (Windows: 1000 / QueryPerformanceFrequency); `null` where it must be
 * measured (Unix).
 */
export const osClockResolution: () => number | null = os.osClockResolution;
/**
 * How finely a wait can end, in ms, where the OS says so (Windows: the
 * system timer's current resolution, NtQueryTimerResolution); `null` where
 * waits end as finely as the clock steps (Unix).
 */
export const osTimerResolution: () => number | null = os.osTimerResolution;
/**
 * Gives Deno's own event loop a turn (its timers, I/O, promises) through an
 * off-thread call that returns at once.
 */
export const hostYield: typeof unix.hostYield = os.hostYield;
