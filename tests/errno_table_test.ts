// The errno tables of Linux and macOS: every number has its symbolic name, aliases are the
// documented ones only, every name maps to the class decisions.md B2 chose, and osError()
// builds that class with code and errno. Then the kernel's own answers for a few refused
// socket options (decisions.md B3).
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { DARWIN_ERRNO, DARWIN_ERRNO_ALIASES } from "../ffi/unix/_abi_darwin.ts";
import { LINUX_ERRNO, LINUX_ERRNO_ALIASES } from "../ffi/unix/_abi_linux.ts";
import { E, ERRNO_ALIASES, errnoName, osError } from "../ffi/unix/errno.ts";
import { errorClass, isOSError, makeOSError, type OSError } from "../ffi/os_error.ts";
import { Socket } from "../net/socket.ts";

const onLinux = Deno.build.os === "linux";
const onDarwin = Deno.build.os === "darwin";

// Linux's table (asm-generic) has no 41 and no 58: the kernel never returns them.
const LINUX_HOLES = new Set([41, 58]);
const LINUX_RANGE = 133;
const DARWIN_RANGE = 106; // ELAST of xnu's <sys/errno.h>

/** Every name of both tables, aliases included. */
const ALL_NAMES = new Set([...Object.keys(LINUX_ERRNO), ...Object.keys(DARWIN_ERRNO)]);

// The whole mapping, written out: a misspelt key in ffi/os_error.ts, or a name that
// silently changes class, fails here. Every name not listed is a plain Error.
const EXPECTED: Array<[new (...a: never[]) => Error, string[]]> = [
  [Deno.errors.PermissionDenied, [
    "EPERM",
    "EACCES",
    "EROFS",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EAUTH",
    "ENEEDAUTH",
    "ENOTCAPABLE",
  ]],
  [Deno.errors.NotFound, [
    "ENOENT",
    "ESRCH",
    "ECHILD",
    "ENXIO",
    "ENODEV",
    "ENOMSG",
    "EIDRM",
    "ENODATA",
    "ENOATTR",
    "ENOKEY",
    "ENOMEDIUM",
    "ENOPOLICY",
  ]],
  [TypeError, ["EINVAL"]],
  [Deno.errors.AlreadyExists, ["EEXIST", "EISCONN"]],
  [Deno.errors.IsADirectory, ["EISDIR"]],
  [Deno.errors.NotADirectory, ["ENOTDIR"]],
  [Deno.errors.FilesystemLoop, ["ELOOP"]],
  [Deno.errors.Busy, ["EBUSY", "ETXTBSY"]],
  [Deno.errors.BadResource, ["EBADF", "EBADFD", "ESTALE"]],
  [Deno.errors.WouldBlock, ["EAGAIN", "EWOULDBLOCK", "EINPROGRESS", "EALREADY"]],
  [Deno.errors.Interrupted, ["EINTR", "ERESTART"]],
  [Deno.errors.TimedOut, ["ETIMEDOUT", "ETIME"]],
  [Deno.errors.ConnectionRefused, ["ECONNREFUSED"]],
  [Deno.errors.ConnectionReset, ["ECONNRESET", "ENETRESET"]],
  [Deno.errors.ConnectionAborted, ["ECONNABORTED"]],
  [Deno.errors.NotConnected, ["ENOTCONN", "EDESTADDRREQ"]],
  [Deno.errors.BrokenPipe, ["EPIPE", "ESHUTDOWN"]],
  [Deno.errors.AddrInUse, ["EADDRINUSE"]],
  [Deno.errors.AddrNotAvailable, ["EADDRNOTAVAIL"]],
  [Deno.errors.NetworkUnreachable, [
    "ENETUNREACH",
    "EHOSTUNREACH",
    "ENETDOWN",
    "EHOSTDOWN",
    "ENONET",
  ]],
  [Deno.errors.NotSupported, [
    "ENOSYS",
    "ENOTSUP",
    "EOPNOTSUPP",
    "EAFNOSUPPORT",
    "EPFNOSUPPORT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "ENOTSOCK",
    "ENOTTY",
    "ESPIPE",
    "EXDEV",
    "EBADARCH",
  ]],
  [Deno.errors.InvalidData, ["EPROTO", "EBADMSG", "EILSEQ", "ENOEXEC", "EBADEXEC", "EBADMACHO"]],
];

const EXPECTED_CLASS = new Map<string, new (...a: never[]) => Error>();
for (const [cls, names] of EXPECTED) for (const n of names) EXPECTED_CLASS.set(n, cls);

/** The canonical name of each number of `table`, skipping `aliases`. */
function namesByNumber(
  table: Readonly<Record<string, number>>,
  aliases: Readonly<Record<string, string>>,
): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [name, n] of Object.entries(table)) {
    if (Object.hasOwn(aliases, name)) continue;
    out.set(n, [...(out.get(n) ?? []), name]);
  }
  return out;
}

function checkTable(
  label: string,
  table: Readonly<Record<string, number>>,
  aliases: Readonly<Record<string, string>>,
  range: number,
  holes: Set<number>,
): void {
  const byNumber = namesByNumber(table, aliases);
  for (let n = 1; n <= range; n++) {
    const names = byNumber.get(n) ?? [];
    if (holes.has(n)) {
      assertEquals(names, [], `${label}: ${n} is a hole of the table`);
      continue;
    }
    // Exactly one name per number: a second one must be a documented alias.
    assertEquals(names.length, 1, `${label}: errno ${n} has names ${JSON.stringify(names)}`);
    assertMatch(names[0], /^E[A-Z0-9]+$/, `${label}: errno ${n}`);
    assert(!/^E\d+$/.test(names[0]), `${label}: errno ${n} is named ${names[0]}`);
  }
  for (const [name, n] of Object.entries(table)) {
    assert(Number.isInteger(n) && n > 0, `${label}: ${name} = ${n}`);
  }
  for (const [alias, canonical] of Object.entries(aliases)) {
    assert(Object.hasOwn(table, alias), `${label}: alias ${alias} is in the table`);
    assert(!Object.hasOwn(aliases, canonical), `${label}: ${canonical} is not an alias itself`);
    assertEquals(table[alias], table[canonical], `${label}: ${alias} = ${canonical}`);
  }
}

Deno.test("errno table (Linux): 1..133 all named but the holes 41 and 58; aliases as documented", () => {
  checkTable("linux", LINUX_ERRNO, LINUX_ERRNO_ALIASES, LINUX_RANGE, LINUX_HOLES);
  assertEquals(LINUX_ERRNO_ALIASES, {
    EWOULDBLOCK: "EAGAIN",
    EDEADLOCK: "EDEADLK",
    ENOTSUP: "EOPNOTSUPP",
  });
  // A few numbers people look up.
  assertEquals(
    [LINUX_ERRNO.EPROTO, LINUX_ERRNO.EINVAL, LINUX_ERRNO.ECONNREFUSED, LINUX_ERRNO.EHWPOISON],
    [71, 22, 111, 133],
  );
});

Deno.test("errno table (macOS): 1..106 all named, no holes, only EWOULDBLOCK as an alias", () => {
  checkTable("darwin", DARWIN_ERRNO, DARWIN_ERRNO_ALIASES, DARWIN_RANGE, new Set());
  assertEquals(DARWIN_ERRNO_ALIASES, { EWOULDBLOCK: "EAGAIN" });
  assertEquals(
    [DARWIN_ERRNO.EPROTO, DARWIN_ERRNO.EINVAL, DARWIN_ERRNO.ECONNREFUSED, DARWIN_ERRNO.EQFULL],
    [100, 22, 61, 106],
  );
  // Past ELAST: the one name newer kernels add.
  assertEquals(DARWIN_ERRNO.ENOTCAPABLE, 107);
  // macOS keeps ENOTSUP and EOPNOTSUPP apart (UNIX03 numbers), and EDEADLK has 11.
  assertEquals([DARWIN_ERRNO.ENOTSUP, DARWIN_ERRNO.EOPNOTSUPP, DARWIN_ERRNO.EDEADLK], [
    45,
    102,
    11,
  ]);
});

Deno.test({
  name: "errno table (Linux) matches the kernel headers of this machine, name for name",
  ignore: !onLinux || !headersPresent(),
  fn() {
    const text = Deno.readTextFileSync("/usr/include/asm-generic/errno-base.h") +
      Deno.readTextFileSync("/usr/include/asm-generic/errno.h");
    const defined = new Map<string, number>();
    for (const m of text.matchAll(/#define\s+(E[A-Z0-9]+)\s+(\d+|E[A-Z0-9]+)\b/g)) {
      defined.set(m[1], /^\d+$/.test(m[2]) ? Number(m[2]) : defined.get(m[2])!);
    }
    // ENOTSUP is glibc's (<bits/errno.h>), not the kernel's.
    const ours = Object.fromEntries(Object.entries(LINUX_ERRNO).filter(([n]) => n !== "ENOTSUP"));
    assertEquals(ours, Object.fromEntries(defined));
  },
});

function headersPresent(): boolean {
  try {
    return Deno.statSync("/usr/include/asm-generic/errno.h").isFile;
  } catch {
    return false;
  }
}

Deno.test("errno classes: every name of both tables maps to the chosen class, the rest to Error", () => {
  for (const name of ALL_NAMES) {
    const want = EXPECTED_CLASS.get(name) ?? Error;
    assertStrictEquals(errorClass(name), want, `${name}: ${errorClass(name).name}`);
  }
  // The expected list names nothing that neither table has (a typo in the test itself).
  for (const name of EXPECTED_CLASS.keys()) assert(ALL_NAMES.has(name), name);
  // Some stay plain errors on purpose: no Deno class says "out of fds" or "no memory".
  for (const name of ["EMFILE", "ENFILE", "ENOMEM", "EIO", "ENOSPC", "EMSGSIZE", "ENOBUFS"]) {
    assertStrictEquals(errorClass(name), Error, name);
  }
});

/** Checks one error built for `name`/`n` by osError() or makeOSError(). */
function checkBuilt(e: OSError, name: string, n: number): void {
  const want = EXPECTED_CLASS.get(name) ?? Error;
  assertStrictEquals(e.constructor, want, `${name}: ${e.constructor.name}`);
  assertInstanceOf(e, Error);
  assertEquals([e.code, e.errno, e.syscall], [name, n, "frob"]);
  assert(isOSError(e), name);
  assertStringIncludes(e.message, `(${name}, os error ${n})`);
  // A description, never the bare fallback "failed: os error N".
  assert(!e.message.includes(`failed: os error ${n}`), e.message);
}

Deno.test("osError(): every errno of this OS gives its name, class, code and errno", () => {
  const table = onDarwin ? DARWIN_ERRNO : LINUX_ERRNO;
  const range = onDarwin ? DARWIN_RANGE : LINUX_RANGE;
  const holes = onDarwin ? new Set<number>() : LINUX_HOLES;
  assertStrictEquals(E, table);
  assertStrictEquals(ERRNO_ALIASES, onDarwin ? DARWIN_ERRNO_ALIASES : LINUX_ERRNO_ALIASES);
  let named = 0;
  for (let n = 1; n <= range; n++) {
    const e = osError(n, "frob", "fd 3");
    if (holes.has(n)) {
      assertEquals(e.code, `E${n}`);
      assertStrictEquals(e.constructor, Error);
      continue;
    }
    const name = errnoName(n);
    assert(!/^E\d+$/.test(name), `errno ${n} has no name`);
    assertStrictEquals(table[name], n);
    checkBuilt(e, name, n);
    assertStringIncludes(e.message, "frob (fd 3) failed: ");
    named++;
  }
  assertEquals(named, range - holes.size);
  // An alias never names an error: the canonical name does.
  for (const [alias, canonical] of Object.entries(ERRNO_ALIASES)) {
    assertEquals(errnoName(E[alias]), canonical);
  }
  // Past the table: still an error with the number, as before.
  assertEquals(errnoName(99999), "E99999");
  assertEquals(osError(99999, "frob").code, "E99999");
});

Deno.test("makeOSError(): every name of the other OS's table too (macOS on Linux)", () => {
  for (const table of [LINUX_ERRNO, DARWIN_ERRNO]) {
    for (const [name, n] of Object.entries(table)) {
      checkBuilt(makeOSError(name, n, "frob"), name, n);
    }
  }
});

Deno.test("osError(): EPROTO, EINVAL and ECONNREFUSED", () => {
  const proto = osError(E.EPROTO, "accept", "fd 9");
  assertInstanceOf(proto, Deno.errors.InvalidData);
  assertEquals([proto.code, proto.errno], ["EPROTO", onDarwin ? 100 : 71]);
  assertEquals(
    proto.message,
    `accept (fd 9) failed: protocol error (EPROTO, os error ${proto.errno})`,
  );

  const inval = osError(E.EINVAL, "ioctl");
  assertInstanceOf(inval, TypeError);
  assertEquals([inval.code, inval.errno, inval.syscall], ["EINVAL", 22, "ioctl"]);
  assertEquals(inval.message, "ioctl failed: invalid argument (EINVAL, os error 22)");
  assert(isOSError(inval)); // a TypeError from the kernel is still an OS error

  const refused = osError(E.ECONNREFUSED, "connect", "fd 7");
  assertInstanceOf(refused, Deno.errors.ConnectionRefused);
  assertEquals([refused.code, refused.errno], ["ECONNREFUSED", onDarwin ? 61 : 111]);
});

// ---- the kernel's answers: setsockopt/getsockopt refusals name the option ------------------

/** Runs `fn` and returns what it threw, with the fields an OS error carries. */
function refusal(fn: () => unknown): OSError {
  return assertThrows(fn) as OSError;
}

Deno.test({
  name: "setsockopt(IP_ADD_MEMBERSHIP) on TCP: NotSupported naming the option and EPROTO",
  ignore: !onLinux,
  fn() {
    using tcp = new Socket();
    const e = refusal(() => tcp.setsockopt("IP_ADD_MEMBERSHIP", { group: "224.0.0.251" }));
    assertInstanceOf(e, Deno.errors.NotSupported);
    assertEquals([e.code, e.errno, e.syscall], ["EPROTO", 71, "setsockopt"]);
    assertStringIncludes(e.message, "Socket.setsockopt(IP_ADD_MEMBERSHIP");
    assertStringIncludes(e.message, '"224.0.0.251"');
    assertStringIncludes(e.message, "inet stream socket");
    assertStringIncludes(e.message, "datagram");
    assertStringIncludes(e.message, "(EPROTO, os error 71)");
    assert(!e.message.includes("E71"), e.message);
    assert(isOSError(e));
    // The socket still works: the refusal changed nothing.
    tcp.setsockopt("TCP_NODELAY", true);
    assertEquals(tcp.getsockopt("TCP_NODELAY"), true);
  },
});

Deno.test({
  name: "setsockopt EINVAL: TypeError/RangeError naming the option and value, with code",
  ignore: !onLinux,
  fn() {
    using tcp = new Socket();
    const ttl = refusal(() => tcp.setsockopt("IP_MULTICAST_TTL", 3));
    assertInstanceOf(ttl, TypeError);
    assertEquals([ttl.code, ttl.errno, ttl.syscall], ["EINVAL", 22, "setsockopt"]);
    assertStringIncludes(ttl.message, "Socket.setsockopt(IP_MULTICAST_TTL, 3)");
    assertStringIncludes(ttl.message, "datagram sockets");

    using udp = new Socket({ type: "dgram" });
    const group = refusal(() => udp.setsockopt("IP_ADD_MEMBERSHIP", { group: "127.0.0.1" }));
    assertInstanceOf(group, RangeError);
    assertEquals([group.code, group.errno], ["EINVAL", 22]);
    assertStringIncludes(group.message, 'group "127.0.0.1" is not an IPv4 multicast address');

    using udp6 = new Socket({ family: "inet6", type: "dgram" });
    const g6 = refusal(() => udp6.setsockopt("IPV6_JOIN_GROUP", { group: "::1" }));
    assertInstanceOf(g6, RangeError);
    assertStringIncludes(g6.message, "IPv6 multicast address");

    using tcp6 = new Socket({ family: "inet6" });
    tcp6.bind({ transport: "tcp", hostname: "::1", port: 0 });
    const late = refusal(() => tcp6.setsockopt("IPV6_V6ONLY", true));
    assertInstanceOf(late, TypeError);
    assertEquals(late.code, "EINVAL");
    assertStringIncludes(late.message, "before bind()");
  },
});

Deno.test({
  name: "setsockopt/getsockopt: an option that does not fit the socket is NotSupported, named",
  ignore: !onLinux,
  fn() {
    using tcp = new Socket();
    const v6 = refusal(() => tcp.setsockopt("IPV6_V6ONLY", true));
    assertInstanceOf(v6, Deno.errors.NotSupported);
    assertEquals(v6.code, "ENOPROTOOPT");
    assertStringIncludes(v6.message, "IPV6_V6ONLY is an IPv6 option");

    using udp = new Socket({ type: "dgram" });
    const nodelay = refusal(() => udp.setsockopt("TCP_NODELAY", true));
    assertInstanceOf(nodelay, Deno.errors.NotSupported);
    assertEquals(nodelay.code, "ENOPROTOOPT");
    assertStringIncludes(nodelay.message, "TCP_NODELAY is a TCP option");
    const got = refusal(() => udp.getsockopt("TCP_NODELAY"));
    assertInstanceOf(got, Deno.errors.NotSupported);
    assertEquals([got.code, got.syscall], ["EOPNOTSUPP", "getsockopt"]);
    assertStringIncludes(got.message, "Socket.getsockopt(TCP_NODELAY) on fd ");

    using unix = new Socket({ family: "unix" });
    const reuse = refusal(() => unix.setsockopt("SO_REUSEPORT", true));
    assertInstanceOf(reuse, Deno.errors.NotSupported);
    assertEquals(reuse.code, "EOPNOTSUPP");
    assertStringIncludes(reuse.message, "unix stream socket");
    // Other refusals keep their own class, and still name the option.
    const drop = refusal(() => udp.setsockopt("IP_DROP_MEMBERSHIP", { group: "224.0.0.251" }));
    assertInstanceOf(drop, Deno.errors.AddrNotAvailable);
    assertStringIncludes(drop.message, "IP_DROP_MEMBERSHIP");
  },
});
