/**
 * kernel32.dll: I/O completion ports, overlapped I/O on files and named
 * pipes, events and waits, handles, clocks, processes. One lazy `dlopen`
 * (opened on the first call of {@linkcode kernel32}; elsewhere than on
 * Windows that call throws `Deno.errors.NotSupported`).
 *
 * Conventions (x64): HANDLE is `pointer`; DWORD `u32`; BOOL `i32`; ULONG_PTR
 * `usize` (pass a bigint). `buffer` parameters are out-parameters of a
 * synchronous call; memory the kernel writes after the call returns (an
 * OVERLAPPED, an I/O buffer) is passed as a `pointer` to memory that does
 * not move. The `…NB` twins are `nonblocking` (run off the JS thread): never
 * read `GetLastError` after one.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { type OSError, winError } from "./errors.ts";

/** Whether this OS is Windows (read once, inside `ffi/`).
 * @example
 * ```ts
 * import { IS_WINDOWS } from "./kernel32.ts";
 * console.log(IS_WINDOWS === (Deno.build.os === "windows")); // true
 * ```
 */
export const IS_WINDOWS: boolean = Deno.build.os === "windows";

const UNSUPPORTED = "kernel32.dll is Windows only: on this OS use the Unix bindings of ffi/unix";

/** The kernel32 functions this module declares.
 * @example
 * ```ts
 * import { KERNEL32_SYMBOLS } from "./kernel32.ts";
 * console.log(KERNEL32_SYMBOLS.GetQueuedCompletionStatusExNB.nonblocking); // true
 * ```
 */
export const KERNEL32_SYMBOLS = {
  // I/O completion ports
  CreateIoCompletionPort: { parameters: ["pointer", "pointer", "usize", "u32"], result: "pointer" },
  GetQueuedCompletionStatus: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "u32"],
    result: "i32",
  },
  GetQueuedCompletionStatusEx: {
    parameters: ["pointer", "pointer", "u32", "buffer", "u32", "i32"],
    result: "i32",
  },
  GetQueuedCompletionStatusExNB: {
    name: "GetQueuedCompletionStatusEx",
    parameters: ["pointer", "pointer", "u32", "pointer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  PostQueuedCompletionStatus: { parameters: ["pointer", "u32", "usize", "pointer"], result: "i32" },
  CancelIoEx: { parameters: ["pointer", "pointer"], result: "i32" },
  GetOverlappedResult: { parameters: ["pointer", "pointer", "buffer", "i32"], result: "i32" },
  SetFileCompletionNotificationModes: { parameters: ["pointer", "u8"], result: "i32" },
  // handles and errors
  CloseHandle: { parameters: ["pointer"], result: "i32" },
  GetLastError: { parameters: [], result: "u32" },
  SetLastError: { parameters: ["u32"], result: "void" },
  SetHandleInformation: { parameters: ["pointer", "u32", "u32"], result: "i32" },
  GetHandleInformation: { parameters: ["pointer", "buffer"], result: "i32" },
  GetFileType: { parameters: ["pointer"], result: "u32" },
  DuplicateHandle: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "u32", "i32", "u32"],
    result: "i32",
  },
  GetCurrentProcess: { parameters: [], result: "pointer" },
  GetCurrentProcessId: { parameters: [], result: "u32" },
  GetProcessHandleCount: { parameters: ["pointer", "buffer"], result: "i32" },
  GetStdHandle: { parameters: ["u32"], result: "pointer" },
  // events and waits
  CreateEventW: { parameters: ["pointer", "i32", "i32", "pointer"], result: "pointer" },
  SetEvent: { parameters: ["pointer"], result: "i32" },
  ResetEvent: { parameters: ["pointer"], result: "i32" },
  WaitForSingleObject: { parameters: ["pointer", "u32"], result: "u32" },
  WaitForMultipleObjects: { parameters: ["u32", "buffer", "i32", "u32"], result: "u32" },
  WaitForMultipleObjectsNB: {
    name: "WaitForMultipleObjects",
    parameters: ["u32", "pointer", "i32", "u32"],
    result: "u32",
    nonblocking: true,
  },
  RegisterWaitForSingleObject: {
    parameters: ["buffer", "pointer", "function", "pointer", "u32", "u32"],
    result: "i32",
  },
  UnregisterWaitEx: { parameters: ["pointer", "pointer"], result: "i32" },
  Sleep: { parameters: ["u32"], result: "void" },
  SleepNB: { name: "Sleep", parameters: ["u32"], result: "void", nonblocking: true },
  // files and named pipes
  CreatePipe: { parameters: ["buffer", "buffer", "pointer", "u32"], result: "i32" },
  CreateNamedPipeW: {
    parameters: ["buffer", "u32", "u32", "u32", "u32", "u32", "u32", "pointer"],
    result: "pointer",
  },
  ConnectNamedPipe: { parameters: ["pointer", "pointer"], result: "i32" },
  DisconnectNamedPipe: { parameters: ["pointer"], result: "i32" },
  WaitNamedPipeW: { parameters: ["buffer", "u32"], result: "i32" },
  CreateFileW: {
    parameters: ["buffer", "u32", "u32", "pointer", "u32", "u32", "pointer"],
    result: "pointer",
  },
  ReadFile: { parameters: ["pointer", "pointer", "u32", "pointer", "pointer"], result: "i32" },
  // regular files (loop.sockSendfile: TransmitFile and its fallback)
  GetFileSizeEx: { parameters: ["pointer", "buffer"], result: "i32" },
  GetFileAttributesW: { parameters: ["buffer"], result: "u32" },
  GetFileInformationByHandle: { parameters: ["pointer", "buffer"], result: "i32" },
  SetFilePointerEx: { parameters: ["pointer", "i64", "buffer", "u32"], result: "i32" },
  WriteFile: { parameters: ["pointer", "pointer", "u32", "pointer", "pointer"], result: "i32" },
  // processes
  CreateProcessW: {
    parameters: [
      "pointer",
      "buffer",
      "pointer",
      "pointer",
      "i32",
      "u32",
      "pointer",
      "pointer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  GetExitCodeProcess: { parameters: ["pointer", "buffer"], result: "i32" },
  TerminateProcess: { parameters: ["pointer", "u32"], result: "i32" },
  GetProcessId: { parameters: ["pointer"], result: "u32" },
  InitializeProcThreadAttributeList: {
    parameters: ["pointer", "u32", "u32", "buffer"],
    result: "i32",
  },
  UpdateProcThreadAttribute: {
    parameters: ["pointer", "u32", "usize", "pointer", "usize", "pointer", "pointer"],
    result: "i32",
  },
  DeleteProcThreadAttributeList: { parameters: ["pointer"], result: "void" },
  // clocks
  QueryPerformanceCounter: { parameters: ["buffer"], result: "i32" },
  QueryPerformanceFrequency: { parameters: ["buffer"], result: "i32" },
  GetTickCount64: { parameters: [], result: "u64" },
  // off-heap memory (the proactor's OVERLAPPED slots and I/O buffers)
  GetProcessHeap: { parameters: [], result: "pointer" },
  HeapAlloc: { parameters: ["pointer", "u32", "usize"], result: "pointer" },
  HeapFree: { parameters: ["pointer", "u32", "pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The kernel32.dll symbols, opened on first call (Deno's own functions,
 * untouched). Throws `Deno.errors.NotSupported` elsewhere than on Windows.
 *
 * @example
 * ```ts
 * import { kernel32 } from "./kernel32.ts";
 * if (Deno.build.os === "windows") console.log(kernel32().GetCurrentProcessId() === Deno.pid); // true
 * ```
 */
export const kernel32: () => Deno.DynamicLibrary<typeof KERNEL32_SYMBOLS>["symbols"] = lazyLibrary(
  "kernel32.dll",
  KERNEL32_SYMBOLS,
  { available: IS_WINDOWS, unsupported: UNSUPPORTED },
);

/**
 * The error of the kernel32 call `syscall` that just failed: reads
 * `GetLastError()` at once, so call it straight after the failing call,
 * with no other FFI call in between (never after a `nonblocking` one).
 *
 * @example
 * ```ts
 * import { kernel32, lastError } from "./kernel32.ts";
 * if (Deno.build.os === "windows") {
 *   const k = kernel32();
 *   if (k.CloseHandle(Deno.UnsafePointer.create(0x1234n)) === 0) {
 *     const e = lastError("CloseHandle");
 *     console.log(e.code); // "ERROR_INVALID_HANDLE"
 *   }
 * }
 * ```
 */
export function lastError(syscall: string, detail?: string): OSError {
  return winError(kernel32().GetLastError(), syscall, detail);
}

/**
 * INVALID_HANDLE_VALUE (−1) as a pointer value, what CreateFileW and
 * CreateNamedPipeW return on failure (and the FileHandle that makes a new
 * completion port).
 *
 * @example
 * ```ts
 * import { INVALID_HANDLE_VALUE } from "./kernel32.ts";
 * console.log(INVALID_HANDLE_VALUE); // 18446744073709551615n
 * ```
 */
export const INVALID_HANDLE_VALUE = 0xFFFF_FFFF_FFFF_FFFFn;

/**
 * kernel32 constants: waits, completion-port modes, files and pipes,
 * handle flags.
 *
 * @example
 * ```ts
 * import { K32 } from "./kernel32.ts";
 * console.log(K32.INFINITE === 0xFFFFFFFF, K32.FILE_FLAG_OVERLAPPED); // true 1073741824
 * ```
 */
export const K32 = {
  INFINITE: 0xFFFF_FFFF,
  WAIT_OBJECT_0: 0,
  WAIT_ABANDONED_0: 0x80,
  WAIT_TIMEOUT: 258,
  WAIT_FAILED: 0xFFFF_FFFF,
  STILL_ACTIVE: 259,
  FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: 1,
  FILE_SKIP_SET_EVENT_ON_HANDLE: 2,
  FILE_FLAG_OVERLAPPED: 0x4000_0000,
  FILE_FLAG_FIRST_PIPE_INSTANCE: 0x0008_0000,
  PIPE_ACCESS_INBOUND: 1,
  PIPE_ACCESS_OUTBOUND: 2,
  PIPE_ACCESS_DUPLEX: 3,
  PIPE_TYPE_MESSAGE: 4,
  PIPE_READMODE_MESSAGE: 2,
  PIPE_WAIT: 0,
  PIPE_UNLIMITED_INSTANCES: 255,
  GENERIC_READ: 0x8000_0000,
  GENERIC_WRITE: 0x4000_0000,
  OPEN_EXISTING: 3,
  FILE_SHARE_READ: 1,
  FILE_SHARE_WRITE: 2,
  FILE_SHARE_DELETE: 4,
  FILE_FLAG_SEQUENTIAL_SCAN: 0x0800_0000,
  FILE_ATTRIBUTE_DIRECTORY: 0x10,
  INVALID_FILE_ATTRIBUTES: 0xFFFF_FFFF,
  FILE_TYPE_DISK: 1,
  FILE_TYPE_CHAR: 2,
  FILE_TYPE_PIPE: 3,
  FILE_BEGIN: 0,
  HANDLE_FLAG_INHERIT: 1,
  DUPLICATE_SAME_ACCESS: 2,
  STD_INPUT_HANDLE: 0xFFFF_FFF6,
  STD_OUTPUT_HANDLE: 0xFFFF_FFF5,
  STD_ERROR_HANDLE: 0xFFFF_FFF4,
} as const;
