// The x64 Windows struct layouts of ffi/windows/structs.ts, byte for byte. These
// only write into ArrayBuffers, so they run on every OS (in the normal suite too).
import { assertEquals, assertThrows } from "@std/assert";
import {
  ADDRINFOW,
  FD_SET,
  FD_SETSIZE,
  fdSetSize,
  formatIPv6,
  GUID,
  OVERLAPPED,
  OVERLAPPED_ENTRY,
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
} from "../../ffi/windows/structs.ts";

/** Little-endian bytes of `v` over `n` bytes. */
function le(v: bigint | number, n: number): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}
const bytes = (u: Uint8Array) => [...u];

Deno.test("layouts: offsets and sizes match the x64 Windows headers (BRIEF.md section 2)", () => {
  assertEquals({ ...OVERLAPPED }, {
    Internal: 0,
    InternalHigh: 8,
    Offset: 16,
    OffsetHigh: 20,
    hEvent: 24,
    SIZE: 32,
  });
  assertEquals({ ...OVERLAPPED_ENTRY }, {
    lpCompletionKey: 0,
    lpOverlapped: 8,
    Internal: 16,
    dwNumberOfBytesTransferred: 24,
    SIZE: 32,
  });
  assertEquals({ ...WSABUF }, { len: 0, buf: 8, SIZE: 16 });
  assertEquals({ ...SOCKADDR_IN }, { family: 0, port: 2, addr: 4, zero: 8, SIZE: 16 });
  assertEquals({ ...SOCKADDR_IN6 }, {
    family: 0,
    port: 2,
    flowinfo: 4,
    addr: 8,
    scopeId: 24,
    SIZE: 28,
  });
  assertEquals({ ...FD_SET }, { fd_count: 0, fd_array: 8, SIZE: 4104 });
  assertEquals(FD_SETSIZE, 512);
  assertEquals({ ...TIMEVAL }, { tv_sec: 0, tv_usec: 4, SIZE: 8 });
  assertEquals({ ...ADDRINFOW }, {
    ai_flags: 0,
    ai_family: 4,
    ai_socktype: 8,
    ai_protocol: 12,
    ai_addrlen: 16,
    ai_canonname: 24,
    ai_addr: 32,
    ai_next: 40,
    SIZE: 48,
  });
  assertEquals({ ...GUID }, { Data1: 0, Data2: 4, Data3: 6, Data4: 8, SIZE: 16 });
  assertEquals(WSADATA_SIZE >= 408, true);
});

Deno.test("OVERLAPPED: written byte for byte, zeroing what was there, and read back", () => {
  const b = new Uint8Array(40).fill(0xee);
  writeOverlapped(b, 4, { offset: 0x11223344, offsetHigh: 5, hEvent: 0x1234_5678_9abcn });
  assertEquals(bytes(b.subarray(0, 4)), [0xee, 0xee, 0xee, 0xee]);
  assertEquals(bytes(b.subarray(4, 36)), [
    ...le(0, 8),
    ...le(0, 8),
    ...le(0x11223344, 4),
    ...le(5, 4),
    ...le(0x1234_5678_9abcn, 8),
  ]);
  assertEquals(bytes(b.subarray(36)), [0xee, 0xee, 0xee, 0xee]);
  b.set(le(0xC0000120n, 8), 4);
  b.set(le(77, 8), 12);
  assertEquals(readOverlapped(b, 4), {
    internal: 0xC0000120n,
    internalHigh: 77n,
    offset: 0x11223344,
    offsetHigh: 5,
    hEvent: 0x1234_5678_9abcn,
  });
});

Deno.test("OVERLAPPED_ENTRY: bytes at 0, 8, 16, 24 and an array of entries", () => {
  const b = new Uint8Array(64);
  const src = [
    ...le(0xAAn, 8),
    ...le(0xDEAD_BEEF_0000n, 8),
    ...le(0x103, 8),
    ...le(512, 4),
    0,
    0,
    0,
    0,
  ];
  b.set(src, 32);
  assertEquals(readOverlappedEntry(b, 32), {
    completionKey: 0xAAn,
    overlapped: 0xDEAD_BEEF_0000n,
    internal: 0x103n,
    bytes: 512,
  });
  const c = new Uint8Array(64);
  writeOverlappedEntry(c, 32, readOverlappedEntry(b, 32));
  assertEquals(bytes(c), bytes(b));
});

Deno.test("WSABUF: u32 length, 4 bytes of padding, 8-byte pointer", () => {
  const b = new Uint8Array(16).fill(0xff);
  writeWsabuf(b, 0, 65536, 0x7fff_0000_1000n);
  assertEquals(bytes(b), [...le(65536, 4), 0, 0, 0, 0, ...le(0x7fff_0000_1000n, 8)]);
  assertEquals(readWsabuf(b, 0), { len: 65536, buf: 0x7fff_0000_1000n });
});

Deno.test("sockaddr_in: family 2 little-endian, port big-endian, address, 8 zero bytes", () => {
  const b = new Uint8Array(16).fill(0xff);
  assertEquals(writeSockaddr(b, 0, { family: "inet", hostname: "192.168.1.20", port: 0x1f90 }), 16);
  assertEquals(bytes(b), [2, 0, 0x1f, 0x90, 192, 168, 1, 20, 0, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(readSockaddr(b, 0, 16), { family: "inet", hostname: "192.168.1.20", port: 8080 });
});

Deno.test("sockaddr_in6: family 23, port big-endian, flowinfo, 16 address bytes, scope id", () => {
  const b = new Uint8Array(28).fill(0xff);
  const n = writeSockaddr(b, 0, {
    family: "inet6",
    hostname: "fe80::1:2",
    port: 443,
    flowinfo: 0x01020304,
    scopeId: 7,
  });
  assertEquals(n, 28);
  assertEquals(bytes(b), [
    23,
    0,
    0x01,
    0xbb,
    ...le(0x01020304, 4),
    0xfe,
    0x80,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    2,
    ...le(7, 4),
  ]);
  assertEquals(readSockaddr(b, 0, 28), {
    family: "inet6",
    hostname: "fe80::1:2",
    port: 443,
    flowinfo: 0x01020304,
    scopeId: 7,
  });
  assertThrows(() => readSockaddr(b, 0, 16), RangeError, "28 bytes");
  b[0] = 10; // Linux's AF_INET6 is not Windows'
  assertThrows(() => readSockaddr(b, 0, 28), TypeError, "family 10");
});

Deno.test("IPv4 and IPv6 text: parsed and formatted (RFC 5952), bad text refused", () => {
  assertEquals(bytes(parseIPv4("10.0.0.255")), [10, 0, 0, 255]);
  for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4", "a.b.c.d", ""]) {
    assertThrows(() => parseIPv4(bad), TypeError);
  }
  for (
    const [text, norm] of [
      ["::1", "::1"],
      ["::", "::"],
      ["1::", "1::"],
      ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["::ffff:1.2.3.4", "::ffff:102:304"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ]
  ) assertEquals(formatIPv6(parseIPv6(text)), norm, text);
  for (const bad of ["1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "1.2.3.4", "g::"]) {
    assertThrows(() => parseIPv6(bad), TypeError);
  }
});

Deno.test("fd_set: u32 count, 4 bytes of padding, 8-byte SOCKETs (8 + 8N bytes)", () => {
  assertEquals(fdSetSize(0), 8);
  assertEquals(fdSetSize(3), 32);
  assertEquals(fdSetSize(), 4104);
  const b = new Uint8Array(fdSetSize(3)).fill(0xee);
  writeFdSet(b, 0, [0x104n, 0x1_0000_0000n, 8n]);
  assertEquals(bytes(b), [
    ...le(3, 4),
    0,
    0,
    0,
    0,
    ...le(0x104n, 8),
    ...le(0x1_0000_0000n, 8),
    ...le(8, 8),
  ]);
  assertEquals(readFdSet(b, 0), [0x104n, 0x1_0000_0000n, 8n]);
  assertThrows(() => writeFdSet(new Uint8Array(fdSetSize(2)), 0, [1n, 2n, 3n]), RangeError);
  const lying = new Uint8Array(16);
  lying[0] = 5; // a count that runs past the buffer
  assertThrows(() => readFdSet(lying, 0), RangeError);
});

Deno.test("timeval: two 32-bit fields, microseconds rounded up so a wait never ends early", () => {
  const b = new Uint8Array(8);
  writeTimeval(b, 0, 2.25);
  assertEquals(bytes(b), [...le(2, 4), ...le(250000, 4)]);
  assertEquals(readTimeval(b, 0), { sec: 2, usec: 250000 });
  writeTimeval(b, 0, 0.0000001); // 0.1 µs -> 1 µs, not 0
  assertEquals(readTimeval(b, 0), { sec: 0, usec: 1 });
  writeTimeval(b, 0, 0);
  assertEquals(readTimeval(b, 0), { sec: 0, usec: 0 });
  writeTimeval(b, 0, 0.9999999); // rounds up into the next second
  assertEquals(readTimeval(b, 0), { sec: 1, usec: 0 });
  for (const bad of [-1, NaN, 2 ** 31]) assertThrows(() => writeTimeval(b, 0, bad), RangeError);
});

Deno.test("ADDRINFOW: four i32, size_t addrlen at 16, pointers at 24, 32, 40", () => {
  const b = new Uint8Array(48).fill(0xff);
  writeAddrInfoW(b, 0, {
    flags: 4,
    family: 23,
    socktype: 2,
    protocol: 17,
    addrlen: 28,
    canonname: 0x1000n,
    addr: 0x2000n,
    next: 0x3000n,
  });
  assertEquals(bytes(b), [
    ...le(4, 4),
    ...le(23, 4),
    ...le(2, 4),
    ...le(17, 4),
    ...le(28, 8),
    ...le(0x1000, 8),
    ...le(0x2000, 8),
    ...le(0x3000, 8),
  ]);
  assertEquals(readAddrInfoW(b, 0), {
    flags: 4,
    family: 23,
    socktype: 2,
    protocol: 17,
    addrlen: 28,
    canonname: 0x1000n,
    addr: 0x2000n,
    next: 0x3000n,
  });
  writeAddrInfoW(b, 0, { socktype: 1 });
  assertEquals(bytes(b), [0, 0, 0, 0, 0, 0, 0, 0, 1, ...new Array(39).fill(0)]);
});

Deno.test("GUID: Data1..3 little-endian, Data4 in order (WSAID_ACCEPTEX)", () => {
  const b = new Uint8Array(16);
  writeGuid(b, 0, "b5367df1-cbac-11cf-95ca-00805f48a192");
  assertEquals(bytes(b), [
    0xf1,
    0x7d,
    0x36,
    0xb5,
    0xac,
    0xcb,
    0xcf,
    0x11,
    0x95,
    0xca,
    0x00,
    0x80,
    0x5f,
    0x48,
    0xa1,
    0x92,
  ]);
  assertThrows(() => writeGuid(b, 0, "not-a-guid"), TypeError);
});

Deno.test("wide strings: UTF-16LE with a NUL terminator; NUL inside refused", () => {
  assertEquals(bytes(wideString("A\u00e9")), [0x41, 0, 0xe9, 0, 0, 0]);
  assertThrows(() => wideString("a\0b"), TypeError);
});

Deno.test("every writer and reader refuses an offset that would leave the array", () => {
  const small = new Uint8Array(31);
  const cases: [string, () => unknown][] = [
    ["writeOverlapped", () => writeOverlapped(small, 0)],
    ["readOverlapped", () => readOverlapped(new Uint8Array(64), 33)],
    ["readOverlappedEntry", () => readOverlappedEntry(small, 0)],
    [
      "writeOverlappedEntry",
      () =>
        writeOverlappedEntry(small, 0, {
          completionKey: 0n,
          overlapped: 0n,
          internal: 0n,
          bytes: 0,
        }),
    ],
    ["writeWsabuf", () => writeWsabuf(new Uint8Array(16), 1, 1, 0n)],
    ["readWsabuf", () => readWsabuf(new Uint8Array(15), 0)],
    [
      "writeSockaddr v4",
      () => writeSockaddr(new Uint8Array(15), 0, { family: "inet", hostname: "1.2.3.4", port: 1 }),
    ],
    [
      "writeSockaddr v6",
      () => writeSockaddr(new Uint8Array(27), 0, { family: "inet6", hostname: "::", port: 1 }),
    ],
    ["readSockaddr", () => readSockaddr(new Uint8Array(1), 0, 16)],
    ["writeTimeval", () => writeTimeval(new Uint8Array(8), 4, 1)],
    ["readTimeval", () => readTimeval(new Uint8Array(7), 0)],
    ["writeAddrInfoW", () => writeAddrInfoW(new Uint8Array(47), 0, {})],
    ["readAddrInfoW", () => readAddrInfoW(new Uint8Array(48), 1)],
    ["writeGuid", () => writeGuid(new Uint8Array(15), 0, "b5367df1-cbac-11cf-95ca-00805f48a192")],
    ["negative offset", () => readOverlapped(new Uint8Array(64), -1)],
    ["fractional offset", () => readOverlapped(new Uint8Array(64), 0.5)],
  ];
  for (const [name, f] of cases) {
    let thrown: unknown;
    try {
      f();
    } catch (e) {
      thrown = e;
    }
    assertEquals(thrown instanceof RangeError, true, `${name} should throw RangeError`);
  }
});

Deno.test("writers refuse out-of-range field values", () => {
  const b = new Uint8Array(64);
  assertThrows(() => writeOverlapped(b, 0, { offset: -1 }), RangeError);
  assertThrows(() => writeOverlapped(b, 0, { hEvent: -1n }), RangeError);
  assertThrows(() => writeWsabuf(b, 0, 2 ** 32, 0n), RangeError);
  assertThrows(
    () => writeSockaddr(b, 0, { family: "inet", hostname: "1.2.3.4", port: 65536 }),
    RangeError,
  );
  assertThrows(() => writeFdSet(b, 0, [-1n]), RangeError);
});
