/**
 * The BSD socket calls of libc (Linux glibc, macOS libSystem) and this OS's
 * socket constants. A library of its own, opened on first use, so the rest
 * of libc does not pay for it. `getaddrinfo`/`getnameinfo` run off the JS
 * thread (`nonblocking`) so that `/etc/hosts`, nsswitch and DNS are honoured
 * without freezing the event loop.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { ABI, DARWIN, LIBC_PATH, LINUX, OS, type SocketConstants } from "./_abi.ts";

export type { SocketConstants };

/** The socket constants of the running OS. */
export const SOCK: Readonly<SocketConstants> = ABI.socket;

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

/** The socket symbols, opened on first use. */
export const sock: () => SocketSymbols = lazyLibrary(LIBC_PATH, SYMBOLS, {
  available: LINUX || DARWIN,
  unsupported: `the BSD socket bindings support Linux and macOS, not ${OS}`,
});

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
