/**
 * The BSD socket calls of libc (Linux glibc, macOS libSystem) and this OS's
 * socket constants. A library of its own, opened on first use, so the rest
 * of libc does not pay for it. `getaddrinfo`/`getnameinfo` run off the JS
 * thread (`nonblocking`) so that `/etc/hosts`, nsswitch and DNS are honoured
 * without freezing the event loop.
 *
 * @module
 */
import { DARWIN_SOCKET } from "../darwin/socket_consts.ts";
import { LINUX_SOCKET } from "../linux/socket_consts.ts";
import { LIBC_PATH } from "./libc.ts";

/** The socket numbers that differ between Linux and macOS (0 where absent). */
export interface SocketConstants {
  AF_UNSPEC: number;
  AF_UNIX: number;
  AF_INET: number;
  AF_INET6: number;
  SOCK_STREAM: number;
  SOCK_DGRAM: number;
  SOCK_RAW: number;
  SOCK_SEQPACKET: number;
  SOCK_NONBLOCK: number;
  SOCK_CLOEXEC: number;
  SOL_SOCKET: number;
  SO_REUSEADDR: number;
  SO_TYPE: number;
  SO_ERROR: number;
  SO_BROADCAST: number;
  SO_SNDBUF: number;
  SO_RCVBUF: number;
  SO_KEEPALIVE: number;
  SO_LINGER: number;
  SO_REUSEPORT: number;
  SO_NOSIGPIPE: number;
  IPPROTO_IP: number;
  IPPROTO_TCP: number;
  IPPROTO_UDP: number;
  IPPROTO_IPV6: number;
  TCP_NODELAY: number;
  IP_MULTICAST_TTL: number;
  IP_MULTICAST_LOOP: number;
  IP_ADD_MEMBERSHIP: number;
  IP_DROP_MEMBERSHIP: number;
  IPV6_MULTICAST_HOPS: number;
  IPV6_MULTICAST_LOOP: number;
  IPV6_JOIN_GROUP: number;
  IPV6_LEAVE_GROUP: number;
  IPV6_V6ONLY: number;
  MSG_OOB: number;
  MSG_PEEK: number;
  MSG_TRUNC: number;
  MSG_DONTWAIT: number;
  MSG_WAITALL: number;
  MSG_NOSIGNAL: number;
  SHUT_RD: number;
  SHUT_WR: number;
  SHUT_RDWR: number;
  AI_PASSIVE: number;
  AI_CANONNAME: number;
  AI_NUMERICHOST: number;
  AI_V4MAPPED: number;
  AI_ALL: number;
  AI_ADDRCONFIG: number;
  AI_NUMERICSERV: number;
  NI_NUMERICHOST: number;
  NI_NUMERICSERV: number;
  NI_NOFQDN: number;
  NI_NAMEREQD: number;
  NI_DGRAM: number;
  /** getaddrinfo's error codes by name. */
  EAI: Readonly<Record<string, number>>;
  /** Offsets in `struct addrinfo` (64-bit), where the two OSes differ. */
  AI_ADDR_OFFSET: number;
  AI_CANONNAME_OFFSET: number;
  AI_NEXT_OFFSET: number;
  ADDRINFO_SIZE: number;
}

/** The socket constants of the running OS. */
export const SOCK: Readonly<SocketConstants> = Deno.build.os === "darwin"
  ? DARWIN_SOCKET
  : LINUX_SOCKET;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // Linux only; absent (null) on macOS.
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32", optional: true },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  // The byte counts come back as "i32": the low half of the ssize_t register,
  // exact for the counts used here (callers cap lengths at 2^31-1), and no
  // BigInt is made per call as an "isize" result would.
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "i32" },
  getaddrinfo: {
    parameters: ["buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  getnameinfo: {
    parameters: ["buffer", "u32", "buffer", "u32", "buffer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  freeaddrinfo: { parameters: ["pointer"], result: "void" },
  gai_strerror: { parameters: ["i32"], result: "pointer" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
} as const;

type Raw = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * The raw socket symbols. Sizes are passed as BigInts: Deno's fast call path
 * takes 64-bit parameters in no other form (a number costs ~0.35 µs more).
 */
export type SocketSymbols = Raw;

let lib: SocketSymbols | undefined;

/** The socket symbols, opened on first use. */
export function sock(): SocketSymbols {
  if (lib === undefined) {
    const os = Deno.build.os;
    if (os !== "linux" && os !== "darwin") {
      throw new Deno.errors.NotSupported(
        `the BSD socket bindings support Linux and macOS, not ${os}`,
      );
    }
    lib = Deno.dlopen(LIBC_PATH, SYMBOLS).symbols as unknown as SocketSymbols;
  }
  return lib;
}

const encoder = new TextEncoder();

/** A NUL-terminated UTF-8 copy of `s`, off the V8 heap (safe for off-thread calls). */
export function cString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  if (bytes.includes(0)) throw new TypeError(`string must not contain NUL: ${JSON.stringify(s)}`);
  const out = new Uint8Array(new ArrayBuffer(bytes.length + 1));
  out.set(bytes);
  return out;
}

/** The index of network interface `name`, or 0 when there is none. */
export function ifNameToIndex(name: string): number {
  if (name.length === 0 || name.length > 255) return 0;
  return sock().if_nametoindex(cString(name));
}

/** The message of getaddrinfo error `code` (from `gai_strerror`). */
export function gaiStrerror(code: number): string {
  const p = sock().gai_strerror(code);
  return p === null ? `unknown getaddrinfo error ${code}` : Deno.UnsafePointerView.getCString(p);
}
