// The libc layer: errno mapping, fd checks, and the checked wrappers.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { E, errnoName, osError } from "../ffi/unix/errno.ts";
import {
  checkFd,
  closeFd,
  fileKind,
  getNofileLimit,
  isNonBlocking,
  isOpenFd,
  makePipe,
  makeSocketPair,
  readFd,
  setNonBlocking,
  writeFd,
} from "../ffi/unix/libc.ts";
import { assertNoFdLeak, fdOpenedBy } from "./_fd_leak.ts";

Deno.test("osError() maps errno to Deno.errors with code, errno and syscall", () => {
  const cases: Array<[string, new (m: string) => Error]> = [
    ["ECONNREFUSED", Deno.errors.ConnectionRefused],
    ["ECONNRESET", Deno.errors.ConnectionReset],
    ["EPIPE", Deno.errors.BrokenPipe],
    ["EADDRINUSE", Deno.errors.AddrInUse],
    ["EBADF", Deno.errors.BadResource],
    ["EAGAIN", Deno.errors.WouldBlock],
    ["ETIMEDOUT", Deno.errors.TimedOut],
    ["EACCES", Deno.errors.PermissionDenied],
    ["ENOENT", Deno.errors.NotFound],
    ["EOPNOTSUPP", Deno.errors.NotSupported],
  ];
  for (const [code, cls] of cases) {
    const e = osError(E[code], "connect", "fd 5");
    assertInstanceOf(e, cls);
    assertEquals([e.code, e.errno, e.syscall], [code, E[code], "connect"]);
    assertStringIncludes(e.message, "connect (fd 5)");
    assertStringIncludes(e.message, code);
  }
  const odd = osError(E.EMFILE, "accept");
  assertEquals([odd.constructor, odd.code], [Error, "EMFILE"]);
  assertEquals(errnoName(99999), "E99999");
});

Deno.test("checkFd() refuses non-integers, negatives and huge numbers", () => {
  assertEquals(checkFd(3), 3);
  assertThrows(() => checkFd("3"), TypeError, '"3"');
  assertThrows(() => checkFd(1.5), TypeError);
  assertThrows(() => checkFd(null), TypeError);
  assertThrows(() => checkFd(3n), TypeError);
  assertThrows(() => checkFd(-1), RangeError);
  assertThrows(() => checkFd(2 ** 31), RangeError);
});

Deno.test("pipes and socket pairs are nonblocking; read/write report EAGAIN as -1", () =>
  assertNoFdLeak(() => {
    for (const [a, b] of [makePipe(), makeSocketPair()]) {
      assert(isNonBlocking(a) && isNonBlocking(b));
      assertEquals(readFd(a, new Uint8Array(4)), -1);
      assertEquals(writeFd(b, new Uint8Array([1, 2])), 2);
      const buf = new Uint8Array(4);
      assertEquals(readFd(a, buf), 2);
      assertEquals([...buf.subarray(0, 2)], [1, 2]);
      setNonBlocking(a, false);
      assert(!isNonBlocking(a));
      closeFd(b);
      assertEquals(readFd(a, buf), 0); // EOF
      closeFd(a);
    }
  }));

Deno.test("a closed fd fails clearly with BadResource, never a crash", () => {
  const [a, b] = makePipe();
  closeFd(a);
  closeFd(b);
  assert(!isOpenFd(a));
  assertThrows(() => readFd(a, new Uint8Array(1)), Deno.errors.BadResource, `fd ${a}`);
  assertThrows(() => writeFd(b, new Uint8Array(1)), Deno.errors.BadResource, `fd ${b}`);
  assertThrows(() => fileKind(a), Deno.errors.BadResource);
  assertThrows(() => closeFd(a), Deno.errors.BadResource);
});

Deno.test("fileKind() tells sockets, pipes, files, directories and devices apart", () =>
  assertNoFdLeak(() => {
    const [a, b] = makeSocketPair();
    const [c, d] = makePipe();
    assertEquals([fileKind(a), fileKind(c)], ["socket", "fifo"]);
    for (const fd of [a, b, c, d]) closeFd(fd);
    let f: Deno.FsFile | undefined;
    const path = Deno.makeTempFileSync();
    assertEquals(fileKind(fdOpenedBy(() => f = Deno.openSync(path))), "file");
    f!.close();
    Deno.removeSync(path);
    assertEquals(fileKind(fdOpenedBy(() => f = Deno.openSync("/dev/null"))), "character");
    f!.close();
    const dir = Deno.makeTempDirSync();
    assertEquals(fileKind(fdOpenedBy(() => f = Deno.openSync(dir))), "directory");
    f!.close();
    Deno.removeSync(dir);
  }));

Deno.test("getNofileLimit() reads RLIMIT_NOFILE", () => {
  const { soft, hard } = getNofileLimit();
  assert(soft > 0 && soft <= hard);
});
