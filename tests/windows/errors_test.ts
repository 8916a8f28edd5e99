// The Windows error tables of ffi/windows/errors.ts: every code has a name, a class
// and a description; the errors carry code, errno and syscall. Pure data: runs anywhere.
import { assert, assertEquals, assertInstanceOf, assertMatch } from "@std/assert";
import {
  isNtError,
  NTSTATUS,
  ntstatusError,
  ntstatusInfos,
  ntstatusName,
  ntstatusToWin32,
  WIN_ERRORS,
  winError,
  winErrorClass,
  winErrorInfos,
  winErrorName,
} from "../../ffi/windows/errors.ts";
import { isOSError } from "../../ffi/os_error.ts";

const D = Deno.errors;

// Every code the Windows code meets: BRIEF.md section 1, the probes, and the common
// socket, pipe and IOCP ones. Each must be named, and its class is pinned here.
const EXPECTED: [number, string, new (m: string) => Error][] = [
  [2, "ERROR_FILE_NOT_FOUND", D.NotFound],
  [5, "ERROR_ACCESS_DENIED", D.PermissionDenied],
  [6, "ERROR_INVALID_HANDLE", D.BadResource],
  [12, "ERROR_INVALID_ACCESS", Error],
  [64, "ERROR_NETNAME_DELETED", D.ConnectionReset],
  [87, "ERROR_INVALID_PARAMETER", TypeError],
  [109, "ERROR_BROKEN_PIPE", D.BrokenPipe],
  [231, "ERROR_PIPE_BUSY", D.Busy],
  [232, "ERROR_NO_DATA", D.BrokenPipe],
  [234, "ERROR_MORE_DATA", Error],
  [258, "WAIT_TIMEOUT", D.TimedOut],
  [535, "ERROR_PIPE_CONNECTED", Error],
  [536, "ERROR_PIPE_LISTENING", Error],
  [735, "ERROR_ABANDONED_WAIT_0", Error],
  [995, "ERROR_OPERATION_ABORTED", Error],
  [996, "ERROR_IO_INCOMPLETE", Error],
  [997, "ERROR_IO_PENDING", Error],
  [1168, "ERROR_NOT_FOUND", D.NotFound],
  [1225, "ERROR_CONNECTION_REFUSED", D.ConnectionRefused],
  [1229, "ERROR_CONNECTION_INVALID", D.NotConnected],
  [1234, "ERROR_PORT_UNREACHABLE", D.ConnectionRefused],
  [1236, "ERROR_CONNECTION_ABORTED", D.ConnectionAborted],
  [10004, "WSAEINTR", D.Interrupted],
  [10009, "WSAEBADF", D.BadResource],
  [10013, "WSAEACCES", D.PermissionDenied],
  [10014, "WSAEFAULT", Error],
  [10022, "WSAEINVAL", TypeError],
  [10024, "WSAEMFILE", Error],
  [10035, "WSAEWOULDBLOCK", D.WouldBlock],
  [10036, "WSAEINPROGRESS", D.WouldBlock],
  [10037, "WSAEALREADY", D.WouldBlock],
  [10038, "WSAENOTSOCK", D.NotSupported],
  [10040, "WSAEMSGSIZE", Error],
  [10045, "WSAEOPNOTSUPP", D.NotSupported],
  [10047, "WSAEAFNOSUPPORT", D.NotSupported],
  [10048, "WSAEADDRINUSE", D.AddrInUse],
  [10049, "WSAEADDRNOTAVAIL", D.AddrNotAvailable],
  [10050, "WSAENETDOWN", D.NetworkUnreachable],
  [10051, "WSAENETUNREACH", D.NetworkUnreachable],
  [10052, "WSAENETRESET", D.ConnectionReset],
  [10053, "WSAECONNABORTED", D.ConnectionAborted],
  [10054, "WSAECONNRESET", D.ConnectionReset],
  [10055, "WSAENOBUFS", Error],
  [10056, "WSAEISCONN", D.AlreadyExists],
  [10057, "WSAENOTCONN", D.NotConnected],
  [10058, "WSAESHUTDOWN", D.BrokenPipe],
  [10060, "WSAETIMEDOUT", D.TimedOut],
  [10061, "WSAECONNREFUSED", D.ConnectionRefused],
  [10065, "WSAEHOSTUNREACH", D.NetworkUnreachable],
  [10093, "WSANOTINITIALISED", Error],
  [11001, "WSAHOST_NOT_FOUND", D.NotFound],
  [11002, "WSATRY_AGAIN", Error],
  [11003, "WSANO_RECOVERY", Error],
  [11004, "WSANO_DATA", D.NotFound],
];

Deno.test("Win32 and WSA codes: each expected code has its name and class", () => {
  for (const [code, name, cls] of EXPECTED) {
    assertEquals(winErrorName(code), name, `name of ${code}`);
    assertEquals(WIN_ERRORS[name], code, `number of ${name}`);
    assert(winErrorClass(code) === cls, `class of ${name}: ${winErrorClass(code).name}`);
    assert(winErrorClass(name) === cls, `class of ${name} by name`);
  }
});

Deno.test("Winsock codes 10004..10071 in use are all named", () => {
  // The BSD-style block: 10004, 10009, 10013, 10014, 10022, 10024, 10035..10071.
  const block = [10004, 10009, 10013, 10014, 10022, 10024];
  for (let c = 10035; c <= 10071; c++) block.push(c);
  for (const c of block) assertMatch(winErrorName(c), /^WSAE[A-Z]+$/, `code ${c}`);
});

Deno.test("every table entry: unique name and number, a class, a description", () => {
  const infos = winErrorInfos();
  assertEquals(new Set(infos.map((i) => i.name)).size, infos.length);
  assertEquals(new Set(infos.map((i) => i.code)).size, infos.length);
  for (const i of infos) {
    assertMatch(i.name, /^(ERROR|WAIT|WSAE?|WSA_E)_?[A-Z0-9_]+$/, i.name);
    assert(
      i.errorClass === Error || i.errorClass === TypeError ||
        Object.values(D).includes(i.errorClass as never),
      i.name,
    );
    assert(i.description.length > 0, i.name);
    assertEquals(i.code >= 10000, i.name.startsWith("WSA"), i.name);
  }
});

Deno.test("an unknown code gets a readable name and plain Error", () => {
  assertEquals(winErrorName(424242), "WINERROR_424242");
  assert(winErrorClass(424242) === Error);
  assert(winErrorClass("NO_SUCH_NAME") === Error);
  const e = winError(424242, "Frob");
  assertEquals([e.code, e.errno, e.syscall], ["WINERROR_424242", 424242, "Frob"]);
});

Deno.test("winError: the class, code, errno, syscall and message of a refused connect", () => {
  const e = winError(10061, "connect", "socket 812");
  assertInstanceOf(e, D.ConnectionRefused);
  assertEquals([e.code, e.errno, e.syscall], ["WSAECONNREFUSED", 10061, "connect"]);
  assertEquals(
    e.message,
    "connect (socket 812) failed: connection refused (WSAECONNREFUSED, os error 10061)",
  );
  assert(isOSError(e));
  const p = winError(109, "ReadFile");
  assertInstanceOf(p, D.BrokenPipe);
  assertEquals(
    p.message,
    "ReadFile failed: the pipe has been ended (ERROR_BROKEN_PIPE, os error 109)",
  );
});

Deno.test("NTSTATUS: names, the Win32 code each maps to, and the class through it", () => {
  const expected: [string, number, number][] = [
    ["STATUS_SUCCESS", 0, 0],
    ["STATUS_TIMEOUT", 0x102, 1460], // ERROR_TIMEOUT, as RtlNtStatusToDosError gives it (not WAIT_TIMEOUT)
    ["STATUS_PENDING", 0x103, 997],
    ["STATUS_BUFFER_OVERFLOW", 0x80000005, 234],
    ["STATUS_INVALID_HANDLE", 0xC0000008, 6],
    ["STATUS_CANCELLED", 0xC0000120, 995],
    ["STATUS_NOT_FOUND", 0xC0000225, 1168],
    ["STATUS_PIPE_BROKEN", 0xC000014B, 109],
    ["STATUS_CONNECTION_RESET", 0xC000020D, 64],
    ["STATUS_CONNECTION_REFUSED", 0xC0000236, 1225],
    ["STATUS_CONNECTION_ABORTED", 0xC0000241, 1236],
    ["STATUS_PORT_UNREACHABLE", 0xC000023F, 1234],
  ];
  for (const [name, status, win32] of expected) {
    assertEquals(NTSTATUS[name], status, name);
    assertEquals(ntstatusName(status), name);
    assertEquals(ntstatusName(status | 0), name, `${name} given signed`);
    assertEquals(ntstatusToWin32(status), win32, name);
  }
  for (const i of ntstatusInfos()) {
    assert(i.errorClass === winErrorClass(i.win32), i.name);
    assertEquals(winErrorName(i.win32).startsWith("WINERROR_"), false, `${i.name} -> ${i.win32}`);
  }
  assertEquals(ntstatusName(0xC0DEC0DE), "NTSTATUS_0xC0DEC0DE");
  assertEquals(ntstatusToWin32(0xC0DEC0DE), undefined);
});

Deno.test("ntstatusError: STATUS_ name as code, the unsigned status as errno", () => {
  const e = ntstatusError(0xC0000236 | 0, "ConnectEx");
  assertInstanceOf(e, D.ConnectionRefused);
  assertEquals([e.code, e.errno, e.syscall], [
    "STATUS_CONNECTION_REFUSED",
    0xC0000236,
    "ConnectEx",
  ]);
  assertInstanceOf(ntstatusError(0xC000014B, "ReadFile"), D.BrokenPipe);
  assertEquals(ntstatusError(0xC0DEC0DE, "x").code, "NTSTATUS_0xC0DEC0DE");
});

Deno.test("isNtError: only the error severity counts", () => {
  assertEquals([0, 0x102, 0x103, 0x80000005].map(isNtError), [false, false, false, false]);
  assertEquals([0xC0000120, 0xC0000236 | 0].map(isNtError), [true, true]);
});
