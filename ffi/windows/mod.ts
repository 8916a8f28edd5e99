/**
 * The Windows implementation's FFI layer: kernel32, ws2_32 (with the mswsock
 * extension functions) and ntdll, one lazy `dlopen` each; the x64 struct
 * layouts; and the Win32 / Winsock / NTSTATUS error tables. Everything can
 * be imported on any OS: the tables and struct helpers run anywhere, and
 * the library getters throw `Deno.errors.NotSupported` elsewhere than on
 * Windows. Only `../sys.ts` imports this namespace; code outside `ffi/`
 * reaches it through there.
 *
 * @module
 */
export {
  type ErrorClass,
  isNtError,
  NTSTATUS,
  ntstatusError,
  ntstatusInfos,
  ntstatusName,
  ntstatusToWin32,
  type OSError,
  WIN_ERRORS,
  winError,
  winErrorClass,
  type WinErrorInfo,
  winErrorInfos,
  winErrorName,
} from "./errors.ts";
export {
  AFD_POLL,
  AFD_READ_EVENTS,
  AFD_SLOT,
  AFD_WRITE_EVENTS,
  afdCounters,
  AfdDevice,
  AfdSlot,
  baseSocket,
  IOCTL_AFD_POLL,
  SOCKETS_PER_HELPER,
} from "./afd.ts";
export {
  INVALID_HANDLE_VALUE,
  IS_WINDOWS,
  K32,
  kernel32,
  KERNEL32_SYMBOLS,
  lastError,
} from "./kernel32.ts";
export { ntdll, NTDLL_SYMBOLS, timerResolution, wineVersion } from "./ntdll.ts";
export {
  extensionFunction,
  mswsock,
  MSWSOCK_GUIDS,
  MSWSOCK_SYMBOLS,
  type MswsockFunctions,
  winsockStarted,
  WS,
  ws2_32,
  WS2_32_SYMBOLS,
  type Ws2Symbols,
  wsaLastError,
} from "./ws2_32.ts";
export {
  ADDRINFOW,
  type AddrInfoWFields,
  FD_SET,
  FD_SETSIZE,
  fdSetSize,
  formatIPv6,
  GUID,
  type InetAddress,
  type Layout,
  OVERLAPPED,
  OVERLAPPED_ENTRY,
  type OverlappedEntryFields,
  type OverlappedFields,
  parseIPv4,
  parseIPv6,
  readAddrInfoW,
  readFdSet,
  readOverlapped,
  readOverlappedEntry,
  readSockaddr,
  readTimeval,
  readWsabuf,
  SOCKADDR_IN,
  SOCKADDR_IN6,
  structView,
  TIMEVAL,
  wideString,
  writeAddrInfoW,
  writeFdSet,
  writeGuid,
  writeOverlapped,
  writeOverlappedEntry,
  writeSockaddr,
  writeTimeval,
  writeWsabuf,
  WSABUF,
  WSADATA_SIZE,
} from "./structs.ts";
