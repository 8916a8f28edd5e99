// The OS seam: ffi/sys.ts's contract exists, re-exports the implementation's own objects,
// and behaves; ffi/os_error.ts; the lazy dlopen helper; and the seam's import rules.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import * as sys from "../../ffi/sys.ts";
import * as osErrorModule from "../../ffi/os_error.ts";
import { lazyLibrary } from "../../ffi/_dlopen.ts";
import * as errnoModule from "../../ffi/unix/errno.ts";
import * as libcModule from "../../ffi/unix/libc.ts";
import * as socketModule from "../../ffi/unix/socket.ts";
import * as iovecModule from "../../ffi/unix/iovec.ts";
import * as wakerModule from "../../ffi/unix/waker.ts";
import * as hostYieldModule from "../../ffi/unix/host_yield.ts";
import * as addrinfoModule from "../../ffi/unix/addrinfo.ts";
import { libc, makeSocketPair, nfds } from "../../ffi/unix/libc.ts";
import { POLLFD_SIZE, pollfdRevents, POLLIN, setPollfd } from "../../ffi/unix/pollfd.ts";
import { OS_FUNCTIONS } from "../_seam_contract.ts";

const FUNCTIONS = [
  "describe",
  "errorClass",
  "isOSError",
  "makeOSError",
  "rewordError",
  ...OS_FUNCTIONS,
] as const;

Deno.test("sys: the contract's exports exist", () => {
  for (const name of FUNCTIONS) {
    assertEquals(typeof sys[name], "function", `sys.${name}`);
  }
  assertEquals(sys.PLATFORM, Deno.build.os);
  assertEquals(sys.OS_FAMILY, Deno.build.os === "windows" ? "windows" : "unix");
  assertEquals(typeof sys.HAS_EPOLL, "boolean");
  assertEquals(typeof sys.HAS_KQUEUE, "boolean");
  assertEquals(sys.HAS_EPOLL, Deno.build.os === "linux");
  assertEquals(typeof sys.E.EAGAIN, "number");
  assertEquals(typeof sys.SOCK.AF_INET6, "number");
  assertEquals(sys.SOCKADDR_MAX, 128);
  assertEquals(sys.IOV_MAX, 1024);
});

Deno.test("sys: exports are the implementation's own objects, not wrappers", () => {
  assertStrictEquals(sys.describe, osErrorModule.describe);
  assertStrictEquals(sys.isOSError, osErrorModule.isOSError);
  assertStrictEquals(sys.osError, errnoModule.osError);
  assertStrictEquals(sys.E, errnoModule.E);
  assertStrictEquals(sys.errno, libcModule.errno);
  assertStrictEquals(sys.checkFd, libcModule.checkFd);
  assertStrictEquals(sys.fileKind, libcModule.fileKind);
  assertStrictEquals(sys.sock, socketModule.sock);
  assertStrictEquals(sys.SOCK, socketModule.SOCK);
  assertStrictEquals(sys.IovecArray, iovecModule.IovecArray);
  assertStrictEquals(sys.Waker, wakerModule.Waker);
  assertStrictEquals(sys.hostYield, hostYieldModule.hostYield);
  assertStrictEquals(sys.lookupAddrInfo, addrinfoModule.lookupAddrInfo);
  // The raw symbols are Deno's own functions, the same object on every call.
  assertStrictEquals(sys.sock().recv, sys.sock().recv);
  // ffi/unix/libc.ts keeps exporting the one describe().
  assertStrictEquals(libcModule.describe, osErrorModule.describe);
});

Deno.test("describe() formats values for messages", () => {
  const { describe } = sys;
  assertEquals(describe("abc"), '"abc"');
  assertEquals(describe("x".repeat(50)), JSON.stringify("x".repeat(40) + "…"));
  assertEquals(describe(12n), "12n");
  assertEquals(describe(7), "7");
  assertEquals(describe(NaN), "NaN");
  assertEquals(describe(null), "null");
  assertEquals(describe(undefined), "undefined");
  assertEquals(describe(true), "true");
  assertEquals(describe(Symbol("s")), "Symbol(s)");
  assertEquals(describe(function named() {}), "function named");
  assertEquals(describe(() => {}), "function (anonymous)");
  assertEquals(describe(new Uint8Array(2)), "Uint8Array");
  assertEquals(describe({ a: 1 }), "Object");
  assertEquals(describe(Object.create(null)), "object");
  assertEquals(describe([1]), "Array");
});

Deno.test("errors: ECONNREFUSED becomes Deno.errors.ConnectionRefused with code and errno", () => {
  const e = sys.makeOSError("ECONNREFUSED", 111, "connect", "fd 7");
  assertInstanceOf(e, Deno.errors.ConnectionRefused);
  assertEquals(e.code, "ECONNREFUSED");
  assertEquals(e.errno, 111);
  assertEquals(e.syscall, "connect");
  assertEquals(e.message, "connect (fd 7) failed: connection refused (ECONNREFUSED, os error 111)");
  assert(sys.isOSError(e));

  // Through this OS's errno table: the number is this OS's (111 on Linux, 61 on macOS).
  const n = sys.E.ECONNREFUSED;
  if (Deno.build.os === "linux") assertEquals(n, 111);
  if (Deno.build.os === "darwin") assertEquals(n, 61);
  const f = sys.osError(n, "connect");
  assertInstanceOf(f, Deno.errors.ConnectionRefused);
  assertEquals([f.code, f.errno, f.syscall], ["ECONNREFUSED", n, "connect"]);
  assertEquals(sys.errnoName(n), "ECONNREFUSED");
  assertEquals(sys.errnoName(99999), "E99999");
});

Deno.test("errors: the class mapping, unknown codes, isOSError and rewordError", () => {
  assertStrictEquals(sys.errorClass("EPIPE"), Deno.errors.BrokenPipe);
  assertStrictEquals(sys.errorClass("EAGAIN"), Deno.errors.WouldBlock);
  assertStrictEquals(sys.errorClass("EBADF"), Deno.errors.BadResource);
  assertStrictEquals(sys.errorClass("ENOSYS"), Deno.errors.NotSupported);
  assertStrictEquals(sys.errorClass("EWHATEVER"), Error);
  assertStrictEquals(sys.errorClass("constructor"), Error);
  const odd = sys.makeOSError("E4242", 4242, "frob");
  assertEquals(odd.constructor, Error);
  assertStringIncludes(odd.message, "os error 4242");

  assert(sys.isOSError(new Deno.errors.BrokenPipe("x")));
  assert(!sys.isOSError(new TypeError("x")));
  assert(!sys.isOSError("ECONNRESET"));

  const bind = sys.osError(sys.E.EADDRINUSE, "bind");
  const worded = sys.rewordError(bind, "error while attempting to bind") as errnoModule.OSError;
  assertInstanceOf(worded, Deno.errors.AddrInUse);
  assertEquals(worded.message, "error while attempting to bind");
  assertEquals([worded.code, worded.errno, worded.syscall], [bind.code, bind.errno, "bind"]);
  assertStrictEquals(worded.cause, bind);
});

Deno.test("fd checks: checkFd and fileKind", () => {
  assertThrows(() => sys.checkFd("3"), TypeError);
  assertThrows(() => sys.checkFd(-1), RangeError);
  assertEquals(sys.checkFd(3), 3);
  const [a, b] = makeSocketPair();
  try {
    assertEquals(sys.fileKind(a), "socket");
    assert(sys.isOpenFd(a));
    assert(sys.isNonBlocking(a));
  } finally {
    sys.closeFd(a);
    sys.closeFd(b);
  }
  assert(!sys.isOpenFd(a));
  const e = assertThrows(() => sys.fileKind(a), Deno.errors.BadResource) as errnoModule.OSError;
  assertEquals(e.code, "EBADF");
});

function readable(fd: number): boolean {
  const buf = new Uint8Array(new ArrayBuffer(POLLFD_SIZE));
  const view = new DataView(buf.buffer);
  setPollfd(view, 0, fd, POLLIN);
  const n = libc().poll(buf, nfds(1), 0);
  return n === 1 && (pollfdRevents(view, 0) & POLLIN) !== 0;
}

Deno.test("waker: wake() makes its fd readable for poll, drain() empties it", () => {
  const w = new sys.Waker();
  try {
    assertEquals(sys.fileKind(w.fd), Deno.build.os === "linux" ? "unknown" : "fifo");
    assert(!readable(w.fd));
    assert(!w.pending);
    w.wake();
    w.wake(); // at most one wake outstanding
    assert(w.pending);
    assert(readable(w.fd));
    w.drain();
    assert(!w.pending);
    assert(!readable(w.fd));
  } finally {
    w.close();
  }
  assert(!sys.isOpenFd(w.fd));
  w.close(); // twice is fine
});

Deno.test("waker: a wake from a timer ends an off-thread poll at once", async () => {
  const w = new sys.Waker();
  try {
    const buf = new Uint8Array(new ArrayBuffer(POLLFD_SIZE));
    setPollfd(new DataView(buf.buffer), 0, w.fd, POLLIN);
    const timer = setTimeout(() => w.wake(), 20);
    const t0 = performance.now();
    const n = await libc().poll_async(buf, nfds(1), 10_000);
    clearTimeout(timer);
    assertEquals(n, 1);
    assert(performance.now() - t0 < 5_000, "the wake did not end the poll");
  } finally {
    w.close();
  }
});

Deno.test("clock: osMonotonicClock reads a monotonic clock in ms", () => {
  const read = sys.osMonotonicClock();
  assert(read !== null, "FFI is granted in the test run");
  const a = read();
  const p0 = performance.now();
  while (performance.now() - p0 < 2);
  const b = read();
  assert(b >= a + 1, `${a} -> ${b}`);
  assert(b - a < 1_000);
});

Deno.test("hostYield resolves after Deno had a turn", async () => {
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  // Only hostYield() is awaited, so the timer runs only if it gives Deno's event loop a turn. The
  // bound is in yields, far above what a loaded machine needs (a timer is due within ~1 ms).
  for (let i = 0; i < 20_000 && !timerRan; i++) await sys.hostYield();
  assert(timerRan);
});

Deno.test("addrinfo: lookupAddrInfo walks the resolver's list for 127.0.0.1", async () => {
  const S = sys.SOCK;
  const hints = {
    flags: S.AI_NUMERICHOST | S.AI_NUMERICSERV,
    family: S.AF_INET,
    socktype: S.SOCK_STREAM,
    protocol: 0,
  };
  const entries = await sys.lookupAddrInfo("127.0.0.1", "8080", hints, "127.0.0.1, 8080");
  assert(entries.length >= 1);
  assertEquals(entries[0].family, "inet");
  assertEquals(entries[0].socktype, S.SOCK_STREAM);
  assertEquals(entries[0].address, { transport: "tcp", hostname: "127.0.0.1", port: 8080 });

  const udp = await sys.lookupAddrInfo(
    "::1",
    "53",
    { ...hints, family: S.AF_INET6, socktype: S.SOCK_DGRAM },
    "::1, 53",
  );
  assertEquals(udp[0].family, "inet6");
  assertEquals(udp[0].address, { transport: "udp", hostname: "::1", port: 53 });
  await sys.lookupsSettled();
});

Deno.test("addrinfo: errors carry the EAI code; bad strings throw at once", async () => {
  const S = sys.SOCK;
  const hints = { flags: S.AI_NUMERICHOST, family: S.AF_UNSPEC, socktype: 0, protocol: 0 };
  const e = await assertRejects(
    () => sys.lookupAddrInfo("not-an-address", null, hints, "detail"),
    Deno.errors.NotFound,
  ) as sys.AddrInfoError;
  assertEquals(e.code, "EAI_NONAME");
  assertEquals(e.errno, S.EAI.EAI_NONAME);
  assertEquals(e.syscall, "getaddrinfo");
  assertStringIncludes(e.message, "getaddrinfo(detail) failed");
  assertThrows(() => sys.lookupAddrInfo("a\0b", null, hints, "nul"), TypeError);
  await sys.lookupsSettled();
});

Deno.test("addrinfo: lookupNameInfo gives the numeric host and service", async () => {
  const S = sys.SOCK;
  const [host, serv] = await sys.lookupNameInfo(
    { transport: "tcp", hostname: "127.0.0.1", port: 8080 },
    "inet",
    S.NI_NUMERICHOST | S.NI_NUMERICSERV,
    "127.0.0.1, 8080",
  );
  assertEquals([host, serv], ["127.0.0.1", "8080"]);
  assertThrows(
    () =>
      sys.lookupNameInfo(
        { transport: "tcp", hostname: "127.0.0.1", port: 70000 },
        "inet",
        0,
        "bad port",
      ),
    RangeError,
  );
});

Deno.test("lazyLibrary: opens on first call, refuses where unavailable", () => {
  const path = Deno.build.os === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";
  const symbols = { getpid: { parameters: [], result: "i32" } } as const;
  const never = lazyLibrary(path, symbols, { available: false, unsupported: "no getpid here" });
  const e = assertThrows(() => never(), Deno.errors.NotSupported);
  assertEquals(e.message, "no getpid here");
  const lib = lazyLibrary(path, symbols, { available: true, unsupported: "" });
  assertStrictEquals(lib(), lib());
  assertEquals(lib().getpid(), Deno.pid);
});

// ---- the seam's import rules (DESIGN.md "Layers") ------------------------------------------

const ROOT = new URL("../../", import.meta.url);

function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, ROOT));
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...tsFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)) {
    out.push(m[1]);
  }
  return out;
}

/** The code lines of `source`: JSDoc and comment lines left out. */
function codeLines(source: string): string[] {
  return source.split("\n").filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l));
}

Deno.test("seam: ffi/os_error.ts imports nothing; ffi/unix never imports linux/ or darwin/", () => {
  assertEquals(importsOf(read("ffi/os_error.ts")), []);
  for (const file of tsFiles("ffi/unix")) {
    for (const spec of importsOf(read(file))) {
      assert(!/\.\.\/(linux|darwin)\//.test(spec), `${file} imports ${spec}`);
      assert(!spec.endsWith("/sys.ts"), `${file} imports ${spec}`);
    }
  }
});

Deno.test("seam: shared code reaches ffi/ only through ffi/sys.ts and ffi/os_error.ts", () => {
  const shared = [
    "selectors/base_selector.ts",
    "selectors/default_selector.ts",
    ...tsFiles("net"),
    "loop/clock.ts",
    ...tsFiles("loop/base"),
    ...tsFiles("loop/selector"),
  ];
  for (const file of shared) {
    const source = read(file);
    for (const spec of importsOf(source)) {
      if (!spec.includes("ffi/")) continue;
      // OpenSSL is no OS family's: the TLS layer's one door to it (layering_test SEAM_EXCEPTIONS).
      if (file === "loop/base/_ssl_engine.ts" && spec.endsWith("ffi/openssl/mod.ts")) continue;
      assert(/ffi\/(sys|os_error)\.ts$/.test(spec), `${file} imports ${spec}`);
    }
    for (const line of codeLines(source)) {
      assert(!line.includes("Deno.build.os"), `${file} reads Deno.build.os: ${line.trim()}`);
    }
  }
});

Deno.test("seam: only ffi/ calls Deno.dlopen or touches pointers", () => {
  const files = [
    ...tsFiles("selectors"),
    ...tsFiles("net"),
    ...tsFiles("transports"),
    ...tsFiles("loop"),
    ...tsFiles("streams"),
    "mod.ts",
    "policy.ts",
    "runner.ts",
  ];
  for (const file of files) {
    for (const line of codeLines(read(file))) {
      assert(
        !/Deno\.(dlopen|UnsafePointer|UnsafePointerView|UnsafeFnPointer)\b/.test(line),
        `${file}: ${line.trim()}`,
      );
    }
  }
});
