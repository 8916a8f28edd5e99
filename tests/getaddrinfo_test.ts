import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { sock } from "../ffi/sys.ts";
import {
  type AddrInfoError,
  AI_CANONNAME,
  AI_NUMERICHOST,
  getaddrinfo,
  getnameinfo,
  NI_NAMEREQD,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
} from "../net/mod.ts";
import { assertNoFdLeak } from "./_fd_leak.ts";

// Open the socket library before any test, so no test is charged with it.
sock();

// The services database: /etc/services, or on Windows %SystemRoot%\System32\drivers\etc\services.
const SERVICES_FILE = Deno.build.os === "windows"
  ? `${Deno.env.get("SystemRoot") ?? "C:\\Windows"}\\System32\\drivers\\etc\\services`
  : "/etc/services";
const HAS_SERVICES = (() => {
  try {
    return /^http\s+80\/tcp/m.test(Deno.readTextFileSync(SERVICES_FILE));
  } catch {
    return false;
  }
})();

Deno.test("getaddrinfo('localhost', 80) gives 127.0.0.1 and/or ::1", async () => {
  await assertNoFdLeak(async () => {
    const infos = await getaddrinfo("localhost", 80);
    assertGreater(infos.length, 0);
    const hosts = new Set(infos.map((i) => i.address.hostname));
    assert(hosts.has("127.0.0.1") || hosts.has("::1"), [...hosts].join(", "));
    for (const i of infos) {
      assertEquals(i.address.port, 80);
      assertEquals(i.family, i.address.hostname.includes(":") ? "inet6" : "inet");
      assertEquals(i.address.transport, i.type === "dgram" ? "udp" : "tcp");
      assertEquals(i.canonname, "");
    }
  });
});

Deno.test("getaddrinfo() filters by family, type and protocol", async () => {
  const v4 = await getaddrinfo("localhost", 443, { family: "inet", type: "stream" });
  assertEquals(v4.length > 0, true);
  for (const i of v4) {
    assertEquals(i.family, "inet");
    assertEquals(i.type, "stream");
    assertEquals(i.proto, 6);
    assertEquals(i.address, { transport: "tcp", hostname: "127.0.0.1", port: 443 });
  }
  const udp = await getaddrinfo("127.0.0.1", "53", { type: "dgram" });
  assertEquals(udp.map((i) => [i.type, i.proto, i.address]), [
    ["dgram", 17, { transport: "udp", hostname: "127.0.0.1", port: 53 }],
  ]);
  const v6 = await getaddrinfo("::1", 8080, { family: "inet6", flags: AI_NUMERICHOST, proto: 6 });
  for (const i of v6) assertEquals(i.address, { transport: "tcp", hostname: "::1", port: 8080 });
  assertEquals(v6.length, 1);
});

Deno.test("getaddrinfo(null, port) gives the wildcard addresses", async () => {
  const infos = await getaddrinfo(null, 8000, { type: "stream" });
  const hosts = infos.map((i) => i.address.hostname).sort();
  assert(hosts.every((h) => h === "0.0.0.0" || h === "::"), hosts.join(", "));
  assertGreater(hosts.length, 0);
});

Deno.test("getaddrinfo() reports the canonical name with AI_CANONNAME", async () => {
  const [first] = await getaddrinfo("localhost", null, { flags: AI_CANONNAME, type: "stream" });
  assertEquals(first.canonname, "localhost");
  assertEquals(first.address.port, 0);
});

Deno.test({
  name: "getaddrinfo() resolves service names",
  ignore: !HAS_SERVICES,
  fn: async () => {
    const infos = await getaddrinfo("127.0.0.1", "http", { type: "stream" });
    assertEquals(infos[0].address.port, 80);
    const err = await assertRejects(
      () => getaddrinfo("127.0.0.1", "no-such-service-xyz", { type: "stream" }),
    ) as AddrInfoError;
    assert(err.code === "EAI_SERVICE" || err.code === "EAI_NONAME", err.code);
  },
});

Deno.test("getaddrinfo() of an unknown host rejects with NotFound", async () => {
  const err = await assertRejects(() => getaddrinfo("no-such-host.invalid", 80)) as AddrInfoError;
  // A resolver without DNS may only say "try again"; anything else is NotFound.
  if (err.code !== "EAI_AGAIN") {
    assertInstanceOf(err, Deno.errors.NotFound);
    assert(err.code === "EAI_NONAME" || err.code === "EAI_NODATA", err.code);
  }
  assertEquals(err.syscall, "getaddrinfo");
  assertEquals(typeof err.errno, "number");
  assertStringIncludes(err.message, "no-such-host.invalid");
  assertStringIncludes(err.message, err.code);
  // A non-numeric host with AI_NUMERICHOST fails without a lookup.
  const num = await assertRejects(
    () => getaddrinfo("localhost", 80, { flags: AI_NUMERICHOST }),
    Deno.errors.NotFound,
  ) as AddrInfoError;
  assertEquals(num.code, "EAI_NONAME");
});

Deno.test("getaddrinfo() rejects bad arguments at once", () => {
  // deno-lint-ignore no-explicit-any
  const gai = getaddrinfo as any;
  assertThrows(() => gai("localhost", 70000), RangeError, "65535");
  assertThrows(() => gai("localhost", "70000"), RangeError);
  assertThrows(() => gai("localhost", -1), RangeError);
  assertThrows(() => gai("localhost", 1.5), TypeError);
  assertThrows(() => gai("localhost", "not a port!"), TypeError, "service name");
  assertThrows(() => gai("localhost", ""), TypeError);
  assertThrows(() => gai("local\0host", 80), TypeError, "NUL");
  assertThrows(() => gai("x".repeat(2000), 80), RangeError);
  assertThrows(() => gai(null, null), TypeError, "both be null");
  assertThrows(() => gai(42, 80), TypeError);
  assertThrows(() => gai("localhost", {}), TypeError);
  assertThrows(() => gai("localhost", 80, { family: "ipx" }), TypeError, "family");
  assertThrows(() => gai("localhost", 80, { type: "bogus" }), TypeError, "type");
  assertThrows(() => gai("localhost", 80, { flags: -1 }), RangeError);
  assertThrows(() => gai("localhost", 80, { proto: -1 }), RangeError);
  assertThrows(() => gai("localhost", 80, null), TypeError);
});

Deno.test("getaddrinfo() runs many lookups at once off the JS thread", async () => {
  const all = await Promise.all(
    Array.from({ length: 32 }, (_, i) => getaddrinfo("localhost", 1000 + i, { type: "stream" })),
  );
  all.forEach((infos, i) => assertEquals(infos[0].address.port, 1000 + i));
});

Deno.test("getnameinfo() turns addresses into names and services", async () => {
  assertEquals(
    await getnameinfo(
      { transport: "tcp", hostname: "127.0.0.1", port: 8080 },
      NI_NUMERICHOST | NI_NUMERICSERV,
    ),
    ["127.0.0.1", "8080"],
  );
  assertEquals(
    await getnameinfo(
      { transport: "tcp", hostname: "::1", port: 22 },
      NI_NUMERICHOST | NI_NUMERICSERV,
    ),
    ["::1", "22"],
  );
  const [host] = await getnameinfo({ transport: "tcp", hostname: "127.0.0.1", port: 80 });
  assertEquals(host, "localhost");
  if (HAS_SERVICES) {
    assertEquals(
      (await getnameinfo({ transport: "tcp", hostname: "127.0.0.1", port: 80 }))[1],
      "http",
    );
    assertEquals(
      (await getnameinfo({ transport: "udp", hostname: "127.0.0.1", port: 53 }, NI_NUMERICHOST))[1],
      "domain",
    );
  }
});

Deno.test("getnameinfo() rejects bad addresses and reports EAI errors", async () => {
  // deno-lint-ignore no-explicit-any
  const gni = getnameinfo as any;
  assertThrows(() => gni(null), TypeError);
  assertThrows(
    () => gni({ transport: "tcp", hostname: "localhost", port: 80 }),
    TypeError,
    "numeric",
  );
  assertThrows(() => gni({ transport: "tcp", hostname: "127.0.0.1", port: 99999 }), RangeError);
  assertThrows(() => gni({ transport: "tcp", hostname: "127.0.0.1", port: 1 }, -1), TypeError);
  // TEST-NET-3 has no name: NI_NAMEREQD makes that an error.
  const err = await assertRejects(
    () => getnameinfo({ transport: "tcp", hostname: "203.0.113.7", port: 1 }, NI_NAMEREQD),
  ) as AddrInfoError;
  assert(err.code.startsWith("EAI_"), err.code);
  assertEquals(err.syscall, "getnameinfo");
});
