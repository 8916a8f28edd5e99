import { assertEquals, assertThrows } from "@std/assert";
import {
  type Address,
  DARWIN_LAYOUT,
  decodeAddress,
  encodeAddress,
  encodeInet,
  encodeUnix,
  formatIPv6,
  ipFamily,
  LINUX_LAYOUT,
  parseIPv4,
  parseIPv6,
  SOCKADDR_MAX,
  type SockaddrLayout,
  type SocketFamily,
  type SocketType,
} from "../ffi/unix/sockaddr.ts";
import { sock } from "../ffi/unix/socket.ts";

sock(); // open the library outside the tests

const buf = () => new Uint8Array(new ArrayBuffer(SOCKADDR_MAX));
const bytes = (s: string) => [...new TextEncoder().encode(s)];

function enc(
  addr: Address,
  family: SocketFamily,
  type: SocketType,
  layout: SockaddrLayout,
): number[] {
  const b = buf();
  const len = encodeAddress(addr, family, type, b, "test", layout);
  return [...b.subarray(0, len)];
}

Deno.test("sockaddr_in is 16 bytes: Linux u16 family, macOS length + u8 family", () => {
  const a: Address = { transport: "tcp", hostname: "127.0.0.1", port: 8080 };
  const body = [0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
  assertEquals(enc(a, "inet", "stream", LINUX_LAYOUT), [2, 0, ...body]);
  assertEquals(enc(a, "inet", "stream", DARWIN_LAYOUT), [16, 2, ...body]);
});

Deno.test("sockaddr_in6 is 28 bytes with big-endian flowinfo and host-order scope id", () => {
  const a = { transport: "udp", hostname: "fe80::1%3", port: 443, flowinfo: 0x12345 } as const;
  const body = [
    0x01,
    0xbb,
    0x00,
    0x01,
    0x23,
    0x45,
    0xfe,
    0x80,
    ...new Array(13).fill(0),
    1,
    3,
    0,
    0,
    0,
  ];
  assertEquals(body.length, 26);
  assertEquals(enc(a, "inet6", "dgram", LINUX_LAYOUT), [10, 0, ...body]);
  assertEquals(enc(a, "inet6", "dgram", DARWIN_LAYOUT), [28, 30, ...body]);
});

Deno.test("sockaddr_un holds the path and its NUL; macOS adds sun_len", () => {
  const a: Address = { transport: "unix", path: "/tmp/s" };
  assertEquals(enc(a, "unix", "stream", LINUX_LAYOUT), [1, 0, ...bytes("/tmp/s"), 0]);
  assertEquals(enc(a, "unix", "stream", DARWIN_LAYOUT), [9, 1, ...bytes("/tmp/s"), 0]);
  // An abstract name: a leading NUL and no terminator.
  const abs: Address = { transport: "unix", path: "\0abc" };
  assertEquals(enc(abs, "unix", "stream", LINUX_LAYOUT), [1, 0, 0, ...bytes("abc")]);
  assertThrows(() => enc(abs, "unix", "stream", DARWIN_LAYOUT), TypeError, "only on Linux");
  // "" is the bare header (Linux autobind).
  assertEquals(enc({ transport: "unix", path: "" }, "unix", "dgram", LINUX_LAYOUT), [1, 0]);
});

Deno.test("sockaddr_un paths fill sun_path exactly and one byte more is a RangeError", () => {
  for (
    const [layout, max, size] of [[LINUX_LAYOUT, 108, 110], [DARWIN_LAYOUT, 104, 106]] as const
  ) {
    const full = "/" + "p".repeat(max - 1);
    const b = buf();
    assertEquals(encodeUnix(b, full, "test", layout), size);
    assertEquals(decodeAddress(b, size, "stream", layout), { transport: "unix", path: full });
    assertThrows(
      () => encodeUnix(b, full + "q", "bind", layout),
      RangeError,
      `limit is ${max}`,
    );
  }
  // Multi-byte characters count as their UTF-8 bytes.
  assertThrows(
    () => encodeUnix(buf(), "é".repeat(55), "bind", LINUX_LAYOUT),
    RangeError,
    "110 bytes",
  );
});

Deno.test("decodeAddress() reads what encodeAddress() wrote, on both layouts", () => {
  const cases: Array<[Address, SocketFamily, SocketType]> = [
    [{ transport: "tcp", hostname: "10.1.2.3", port: 65535 }, "inet", "stream"],
    [{ transport: "udp", hostname: "0.0.0.0", port: 0 }, "inet", "dgram"],
    [{ transport: "tcp", hostname: "2001:db8::8:800:200c:417a", port: 1 }, "inet6", "stream"],
    [{ transport: "udp", hostname: "fe80::1%7", port: 5353 }, "inet6", "dgram"],
    [{ transport: "tcp", hostname: "::ffff:192.0.2.1", port: 80, flowinfo: 5 }, "inet6", "stream"],
    [{ transport: "unix", path: "/run/x.sock" }, "unix", "stream"],
    [{ transport: "unixpacket", path: "/run/y.sock" }, "unix", "seqpacket"],
  ];
  for (const layout of [LINUX_LAYOUT, DARWIN_LAYOUT]) {
    for (const [addr, family, type] of cases) {
      const b = buf();
      const len = encodeAddress(addr, family, type, b, "test", layout);
      assertEquals(decodeAddress(b, len, type, layout), addr);
    }
  }
  const b = buf();
  const len = encodeUnix(b, "\0ab\0c", "test", LINUX_LAYOUT);
  assertEquals(decodeAddress(b, len, "dgram", LINUX_LAYOUT), {
    transport: "unix",
    path: "\0ab\0c",
  });
});

Deno.test("decodeAddress() handles empty, unnamed and unknown sockaddrs", () => {
  const b = buf();
  assertEquals(decodeAddress(b, 0, "dgram"), null);
  b.set([1, 0]);
  assertEquals(decodeAddress(b, 2, "stream", LINUX_LAYOUT), { transport: "unix", path: "" });
  b.set([16, 1]);
  assertEquals(decodeAddress(b, 16, "stream", DARWIN_LAYOUT), { transport: "unix", path: "" });
  b.set([17, 0]); // AF_PACKET
  assertThrows(() => decodeAddress(b, 20, "dgram", LINUX_LAYOUT), Deno.errors.NotSupported, "17");
});

Deno.test("encodeAddress() validates ports, hostnames, transports and scopes", () => {
  const b = buf();
  const net = (hostname: string, port: unknown) => ({ transport: "tcp", hostname, port });
  assertThrows(() => encodeAddress(net("1.2.3.4", 65536), "inet", "stream", b, "bind"), RangeError);
  assertThrows(() => encodeAddress(net("1.2.3.4", -1), "inet", "stream", b, "bind"), RangeError);
  assertThrows(() => encodeAddress(net("1.2.3.4", NaN), "inet", "stream", b, "bind"), TypeError);
  assertThrows(() => encodeAddress(net("1.2.3.4", 80n), "inet", "stream", b, "bind"), TypeError);
  assertThrows(() => encodeAddress(net("localhost", 80), "inet", "stream", b, "bind"), TypeError);
  assertThrows(
    () => encodeAddress(net("127.0.0.1", 80), "inet6", "stream", b, "bind"),
    TypeError,
    '"::ffff:127.0.0.1"',
  );
  assertThrows(() => encodeAddress(net("::1%", 80), "inet6", "stream", b, "bind"), TypeError);
  assertThrows(
    () => encodeAddress(net("::1%99999999999", 80), "inet6", "stream", b, "bind"),
    TypeError,
  );
  assertThrows(
    () => encodeAddress(net("::1%no-such-if", 80), "inet6", "stream", b, "bind"),
    TypeError,
    "no network interface",
  );
  assertThrows(
    () => encodeAddress({ ...net("::1", 80), flowinfo: 0x100000 }, "inet6", "stream", b, "bind"),
    RangeError,
  );
  assertThrows(
    () => encodeAddress({ hostname: "::1", port: 1 }, "inet6", "stream", b, "x"),
    TypeError,
  );
  assertThrows(() => encodeAddress(undefined, "inet", "stream", b, "x"), TypeError, "object");
  assertThrows(() => encodeAddress({ transport: "unix" }, "unix", "stream", b, "x"), TypeError);
  assertThrows(() => encodeInet(b, "inet", 42, 80, "x"), TypeError, "string");
});

Deno.test("encodeInet() resolves an IPv6 scope given as an interface name", () => {
  const b = buf();
  const lo = Deno.build.os === "darwin" ? "lo0" : "lo";
  encodeInet(b, "inet6", `fe80::1%${lo}`, 1, "test");
  const scope = new DataView(b.buffer).getUint32(24, true);
  assertEquals(scope > 0, true);
  assertEquals(decodeAddress(b, 28, "stream"), {
    transport: "tcp",
    hostname: `fe80::1%${scope}`,
    port: 1,
  });
});

Deno.test("parseIPv4() accepts dotted quads only", () => {
  const b = new Uint8Array(4);
  for (const ok of ["0.0.0.0", "255.255.255.255", "10.0.0.1", "192.0.2.33"]) {
    assertEquals(parseIPv4(ok, b), true, ok);
  }
  for (
    const bad of [
      "256.0.0.1",
      "1.2.3",
      "01.2.3.4",
      "1.2.3.4.",
      "a.b.c.d",
      "1.2.3.-4",
      "+1.2.3.4",
      " 1.2.3.4",
      "1e1.0.0.1",
      "0x7f.0.0.1",
      "",
    ]
  ) assertEquals(parseIPv4(bad, b), false, bad);
});

Deno.test("parseIPv6()/formatIPv6() follow RFC 4291 input and RFC 5952 output", () => {
  const b = new Uint8Array(16);
  const canon: Array<[string, string]> = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["::ffff:c000:0201", "::ffff:192.0.2.1"],
    ["::192.0.2.1", "::c000:201"],
    ["fe80::fc:ff:fe00:1", "fe80::fc:ff:fe00:1"],
  ];
  for (const [input, out] of canon) {
    assertEquals(parseIPv6(input, b), true, input);
    assertEquals(formatIPv6(b), out, input);
  }
  for (
    const bad of [
      ":::",
      "1:::2",
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "g::1",
      "::ffff:1.2.3",
      "1.2.3.4::",
      " ::1",
      "",
      ":1::",
      "1::2:",
      "::1%1",
      "[::1]",
    ]
  ) assertEquals(parseIPv6(bad, b), false, bad);
});

Deno.test("formatIPv6() agrees with the WHATWG URL serializer on random addresses", () => {
  const b = new Uint8Array(16);
  const back = new Uint8Array(16);
  for (let i = 0; i < 2000; i++) {
    crypto.getRandomValues(b);
    // Zero some groups so that runs of every length appear.
    for (let g = 0; g < 8; g++) if (Math.random() < 0.5) b[2 * g] = b[2 * g + 1] = 0;
    if (b[10] === 0xff && b[11] === 0xff) b[11] = 0; // skip the IPv4-mapped form
    const text = formatIPv6(b);
    assertEquals(text, new URL(`http://[${text}]/`).hostname.slice(1, -1));
    assertEquals(parseIPv6(text, back), true, text);
    assertEquals(back, b);
  }
});

Deno.test("ipFamily() tells numeric IPv4 from IPv6 (with scope) from names", () => {
  assertEquals(ipFamily("127.0.0.1"), "inet");
  assertEquals(ipFamily("::1"), "inet6");
  assertEquals(ipFamily("fe80::1%eth0"), "inet6");
  assertEquals(ipFamily("localhost"), null);
  assertEquals(ipFamily("1.2.3.4.5"), null);
});
