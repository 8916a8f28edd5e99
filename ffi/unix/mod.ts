/**
 * The Unix (Linux and macOS) implementation of the contract of `../sys.ts`:
 * everything that contract exports, gathered from the files of this folder.
 * Only `../sys.ts` imports it; code outside `ffi/` reaches it through there.
 *
 * @module
 */
export { HAS_EPOLL, HAS_KQUEUE } from "./_abi.ts";
export { E, errnoName, osError } from "./errno.ts";
export {
  checkFd,
  closeFd,
  errno,
  type FileKind,
  fileKind,
  isNonBlocking,
  isOpenFd,
  makeSocketPair as unixSocketPair,
  setCloseOnExec,
  setNonBlocking,
} from "./libc.ts";
export { ifNameToIndex, SOCK, sock, type SocketConstants, type SocketSymbols } from "./socket.ts";
export {
  type Address,
  addressToString,
  decodeAddress,
  encodeAddress,
  familyOf,
  HOST_LAYOUT,
  ipFamily,
  type NetAddress,
  parseIPv4,
  parseIPv6,
  SOCKADDR_MAX,
  type SockaddrLayout,
  type SocketFamily,
  type SocketType,
  type UnixAddress,
} from "./sockaddr.ts";
export { IOV_MAX, IovecArray } from "./iovec.ts";
export { DatagramBatch, HAS_RECVMMSG } from "./mmsg.ts";
export { keepFreedMemory, type MallocStats, mallocStats } from "./malloc.ts";
export { Waker } from "./waker.ts";
export { osClockResolution, osMonotonicClock, osTimerResolution } from "./clock.ts";
export { hostYield } from "./host_yield.ts";
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
} from "./file.ts";
export {
  type AddrInfoEntry,
  type AddrInfoError,
  type AddrInfoHints,
  lookupAddrInfo,
  lookupNameInfo,
  lookupsSettled,
} from "./addrinfo.ts";
