/**
 * The names of the OS seam's contract (ffi/sys.ts) that each OS family's
 * module implements, shared by the Unix and the Windows seam tests.
 *
 * @module
 */

/** The functions and classes every OS family's module exports (ffi/os_error.ts's not counted). */
export const OS_FUNCTIONS = [
  "errnoName",
  "osError",
  "errno",
  "checkFd",
  "closeFd",
  "isOpenFd",
  "fileKind",
  "setNonBlocking",
  "isNonBlocking",
  "setCloseOnExec",
  "sock",
  "ifNameToIndex",
  "unixSocketPair",
  "encodeAddress",
  "decodeAddress",
  "familyOf",
  "ipFamily",
  "parseIPv4",
  "parseIPv6",
  "addressToString",
  "lookupAddrInfo",
  "lookupNameInfo",
  "lookupsSettled",
  "IovecArray",
  "Waker",
  "osMonotonicClock",
  "osClockResolution",
  "osTimerResolution",
  "hostYield",
  "openFileRead",
  "closeFile",
  "fileInfo",
  "preadFd",
  "seekFd",
  "tellFd",
  "sendfileFd",
] as const;
