/**
 * The Windows implementation of the contract of `../sys.ts`: the members
 * of `../unix/mod.ts` that have a Windows meaning, with the same names and
 * shapes (a SOCKET passed as a number); `../sys.ts` picks it on Windows.
 * Where Windows differs: `isNonBlocking` reports the mode set through
 * `setNonBlocking` (Winsock cannot read FIONBIO back); `fileKind` tells
 * sockets, disk files, character devices and pipes; `HAS_EPOLL` and
 * `HAS_KQUEUE` are `false`; `sock()` has no `accept4`.
 *
 * @example
 * ```ts
 * import * as win from "./seam.ts";
 * console.log(win.SOCK.AF_INET6, win.HOST_LAYOUT.afInet6); // 23 23
 * ```
 *
 * @module
 */
export {
  AF_UNIX_UNSUPPORTED,
  type Buf,
  checkFd,
  closeFd,
  E,
  errno,
  errnoName,
  type FileKind,
  fileKind,
  ifNameToIndex,
  isNonBlocking,
  isOpenFd,
  type OSError,
  osError,
  setCloseOnExec,
  setNonBlocking,
  SOCK,
  sock,
  type SocketConstants,
  socketNumber,
  type SocketSymbols,
  unixSocketPair,
} from "./socket.ts";
export {
  type Address,
  addressToString,
  decodeAddress,
  encodeAddress,
  familyOf,
  HOST_LAYOUT,
  ipFamily,
  type NetAddress,
  NO_AF_UNIX,
  parseIPv4,
  parseIPv6,
  SOCKADDR_MAX,
  type SockaddrLayout,
  type SocketFamily,
  type SocketType,
  type UnixAddress,
} from "./sockaddr.ts";
export { IOV_MAX, IovecArray } from "./iovec.ts";
export {
  closeFile,
  FILE_IO_MAX,
  type FileInfo,
  fileInfo,
  HAS_SENDFILE,
  openFileRead,
  preadFd,
  seekFd,
  sendfileFd,
  tellFd,
} from "./iocp.ts";
export { loopbackSocketPair, Waker } from "./waker.ts";
export { hostYield, osClockResolution, osMonotonicClock, osTimerResolution } from "./clock.ts";
export {
  type AddrInfoEntry,
  type AddrInfoError,
  type AddrInfoHints,
  lookupAddrInfo,
  lookupNameInfo,
  lookupsSettled,
} from "./addrinfo.ts";

/**
 * Whether this OS has epoll: never on Windows.
 *
 * @example
 * ```ts
 * import { HAS_EPOLL } from "./seam.ts";
 * console.log(HAS_EPOLL); // false
 * ```
 */
export const HAS_EPOLL = false;
/**
 * Whether this OS has kqueue: never on Windows.
 *
 * @example
 * ```ts
 * import { HAS_KQUEUE } from "./seam.ts";
 * console.log(HAS_KQUEUE); // false
 * ```
 */
export const HAS_KQUEUE = false;
