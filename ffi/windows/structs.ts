/**
 * x64 Windows struct layouts (little-endian) and bounds-checked writers and
 * readers for them: OVERLAPPED, OVERLAPPED_ENTRY, WSABUF, sockaddr_in,
 * sockaddr_in6, the counted Winsock `fd_set`, `timeval`, ADDRINFOW, GUID.
 *
 * Every writer and reader takes a `Uint8Array` and a byte offset into it,
 * and throws `RangeError` unless the whole struct lies inside the array, so
 * a wrong offset never touches memory beyond it. Pointer fields are
 * addresses as `bigint` (`0n` for NULL). Only ArrayBuffers are touched:
 * this file runs on any OS.
 *
 * @module
 */
import { parseIPv4 as parseIPv4Into, parseIPv6 as parseIPv6Into } from "../_sockaddr_inet.ts";

/** Offsets and size of a struct, in bytes.
 * @example
 * ```ts
 * import { type Layout, WSABUF } from "./structs.ts";
 * const l: Layout<"len" | "buf"> = WSABUF;
 * console.log(l.buf, l.SIZE); // 8 16
 * ```
 */
export type Layout<F extends string> = Readonly<Record<F, number>> & { readonly SIZE: number };

/**
 * OVERLAPPED: `Internal` (the NTSTATUS once complete), `InternalHigh` (bytes
 * transferred), `Offset`/`OffsetHigh` (a file position; a union with
 * `Pointer`), `hEvent`.
 *
 * @example
 * ```ts
 * import { OVERLAPPED } from "./structs.ts";
 * console.log(OVERLAPPED.SIZE, OVERLAPPED.hEvent); // 32 24
 * ```
 */
export const OVERLAPPED: Layout<"Internal" | "InternalHigh" | "Offset" | "OffsetHigh" | "hEvent"> =
  Object.freeze({ Internal: 0, InternalHigh: 8, Offset: 16, OffsetHigh: 20, hEvent: 24, SIZE: 32 });

/**
 * OVERLAPPED_ENTRY, as GetQueuedCompletionStatusEx fills it (the same bytes
 * as NtRemoveIoCompletionEx's FILE_IO_COMPLETION_INFORMATION).
 *
 * @example
 * ```ts
 * import { OVERLAPPED_ENTRY } from "./structs.ts";
 * console.log(OVERLAPPED_ENTRY.SIZE, OVERLAPPED_ENTRY.dwNumberOfBytesTransferred); // 32 24
 * ```
 */
export const OVERLAPPED_ENTRY: Layout<
  "lpCompletionKey" | "lpOverlapped" | "Internal" | "dwNumberOfBytesTransferred"
> = Object.freeze({
  lpCompletionKey: 0,
  lpOverlapped: 8,
  Internal: 16,
  dwNumberOfBytesTransferred: 24,
  SIZE: 32,
});

/**
 * WSABUF: `len` (u32), 4 bytes of padding, `buf` (a pointer).
 *
 * @example
 * ```ts
 * import { WSABUF } from "./structs.ts";
 * console.log(WSABUF.SIZE, WSABUF.buf); // 16 8
 * ```
 */
export const WSABUF: Layout<"len" | "buf"> = Object.freeze({ len: 0, buf: 8, SIZE: 16 });

/**
 * sockaddr_in: family (u16, host order), port (u16, big-endian), address (4
 * bytes), 8 zero bytes.
 *
 * @example
 * ```ts
 * import { SOCKADDR_IN } from "./structs.ts";
 * console.log(SOCKADDR_IN.SIZE, SOCKADDR_IN.addr); // 16 4
 * ```
 */
export const SOCKADDR_IN: Layout<"family" | "port" | "addr" | "zero"> = Object.freeze({
  family: 0,
  port: 2,
  addr: 4,
  zero: 8,
  SIZE: 16,
});

/**
 * sockaddr_in6: family (u16, 23 on Windows), port (u16, big-endian),
 * flowinfo (u32), address (16 bytes), scope_id (u32).
 *
 * @example
 * ```ts
 * import { SOCKADDR_IN6 } from "./structs.ts";
 * console.log(SOCKADDR_IN6.SIZE, SOCKADDR_IN6.scopeId); // 28 24
 * ```
 */
export const SOCKADDR_IN6: Layout<"family" | "port" | "flowinfo" | "addr" | "scopeId"> = Object
  .freeze({ family: 0, port: 2, flowinfo: 4, addr: 8, scopeId: 24, SIZE: 28 });

/**
 * The Winsock `fd_set`: `u_int fd_count`, 4 bytes of padding, then
 * `SOCKET fd_array[N]` (8 bytes each): 8 + 8·N bytes. `SIZE` is that of the
 * default N = {@linkcode FD_SETSIZE}.
 *
 * @example
 * ```ts
 * import { FD_SET } from "./structs.ts";
 * console.log(FD_SET.fd_array, FD_SET.SIZE); // 8 4104
 * ```
 */
export const FD_SET: Layout<"fd_count" | "fd_array"> = Object.freeze({
  fd_count: 0,
  fd_array: 8,
  SIZE: 8 + 8 * 512,
});

/**
 * The most sockets one `fd_set` holds here: 512, as CPython builds its
 * `select` module on Windows.
 *
 * @example
 * ```ts
 * import { FD_SETSIZE } from "./structs.ts";
 * console.log(FD_SETSIZE); // 512
 * ```
 */
export const FD_SETSIZE = 512;

/**
 * Winsock `timeval`: `tv_sec` and `tv_usec`, both 32-bit (LONG).
 *
 * @example
 * ```ts
 * import { TIMEVAL } from "./structs.ts";
 * console.log(TIMEVAL.SIZE, TIMEVAL.tv_usec); // 8 4
 * ```
 */
export const TIMEVAL: Layout<"tv_sec" | "tv_usec"> = Object.freeze({
  tv_sec: 0,
  tv_usec: 4,
  SIZE: 8,
});

/**
 * ADDRINFOW: `ai_flags`, `ai_family`, `ai_socktype`, `ai_protocol` (i32
 * each), `ai_addrlen` (size_t), `ai_canonname`, `ai_addr`, `ai_next` (pointers).
 *
 * @example
 * ```ts
 * import { ADDRINFOW } from "./structs.ts";
 * console.log(ADDRINFOW.SIZE, ADDRINFOW.ai_addr, ADDRINFOW.ai_next); // 48 32 40
 * ```
 */
export const ADDRINFOW: Layout<
  | "ai_flags"
  | "ai_family"
  | "ai_socktype"
  | "ai_protocol"
  | "ai_addrlen"
  | "ai_canonname"
  | "ai_addr"
  | "ai_next"
> = Object.freeze({
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

/**
 * GUID: `Data1` (u32), `Data2`, `Data3` (u16), `Data4` (8 bytes).
 *
 * @example
 * ```ts
 * import { GUID } from "./structs.ts";
 * console.log(GUID.SIZE, GUID.Data4); // 16 8
 * ```
 */
export const GUID: Layout<"Data1" | "Data2" | "Data3" | "Data4"> = Object.freeze({
  Data1: 0,
  Data2: 4,
  Data3: 6,
  Data4: 8,
  SIZE: 16,
});

/**
 * The bytes to allocate (zeroed) for WSADATA: its x64 layout is 408 bytes;
 * 512 leaves room.
 *
 * @example
 * ```ts
 * import { WSADATA_SIZE } from "./structs.ts";
 * console.log(WSADATA_SIZE); // 512
 * ```
 */
export const WSADATA_SIZE = 512;

/** `AF_INET`. */
const AF_INET = 2;
/** `AF_INET6` on Windows (not Linux's 10). */
const AF_INET6 = 23;

/**
 * A DataView over `size` bytes at `offset` of `buf`; `RangeError` unless they
 * are all inside it.
 *
 * @example
 * ```ts
 * import { structView } from "./structs.ts";
 * const v = structView(new Uint8Array(32), 16, 16, "WSABUF");
 * console.log(v.byteLength); // 16
 * ```
 */
export function structView(buf: Uint8Array, offset: number, size: number, what: string): DataView {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > buf.byteLength) {
    throw new RangeError(
      `${what}: ${size} bytes at offset ${offset} do not fit in ${buf.byteLength} bytes`,
    );
  }
  return new DataView(buf.buffer, buf.byteOffset + offset, size);
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xFFFF_FFFF) {
    throw new RangeError(`${what} must be an integer in 0..2^32-1, got ${v}`);
  }
  return v;
}

function ptr(v: bigint, what: string): bigint {
  if (typeof v !== "bigint" || v < 0n || v > 0xFFFF_FFFF_FFFF_FFFFn) {
    throw new RangeError(`${what} must be a bigint address in 0..2^64-1`);
  }
  return v;
}

// ---- OVERLAPPED ----------------------------------------------------------------

/** The fields of an OVERLAPPED.
 * @example
 * ```ts
 * import { type OverlappedFields, readOverlapped } from "./structs.ts";
 * const f: OverlappedFields = readOverlapped(new Uint8Array(32), 0);
 * console.log(f.internal); // 0n
 * ```
 */
export interface OverlappedFields {
  /** `Internal`: the NTSTATUS of the operation once it completed (STATUS_PENDING before). */
  internal: bigint;
  /** `InternalHigh`: the bytes transferred. */
  internalHigh: bigint;
  /** `Offset`: the low half of the file position. */
  offset: number;
  /** `OffsetHigh`: the high half of the file position. */
  offsetHigh: number;
  /** `hEvent`: an event handle's address, or `0n`. */
  hEvent: bigint;
}

/**
 * Zeroes the OVERLAPPED at `offset` of `buf`, then sets the given fields
 * (a fresh OVERLAPPED for each operation, as Windows requires).
 *
 * @example
 * ```ts
 * import { readOverlapped, writeOverlapped } from "./structs.ts";
 * const b = new Uint8Array(32);
 * writeOverlapped(b, 0, { offset: 4096 });
 * console.log(readOverlapped(b, 0).offset); // 4096
 * ```
 */
export function writeOverlapped(
  buf: Uint8Array,
  offset: number,
  fields: Partial<OverlappedFields> = {},
): void {
  const v = structView(buf, offset, OVERLAPPED.SIZE, "OVERLAPPED");
  new Uint8Array(v.buffer, v.byteOffset, OVERLAPPED.SIZE).fill(0);
  v.setBigUint64(OVERLAPPED.Internal, ptr(fields.internal ?? 0n, "Internal"), true);
  v.setBigUint64(OVERLAPPED.InternalHigh, ptr(fields.internalHigh ?? 0n, "InternalHigh"), true);
  v.setUint32(OVERLAPPED.Offset, u32(fields.offset ?? 0, "Offset"), true);
  v.setUint32(OVERLAPPED.OffsetHigh, u32(fields.offsetHigh ?? 0, "OffsetHigh"), true);
  v.setBigUint64(OVERLAPPED.hEvent, ptr(fields.hEvent ?? 0n, "hEvent"), true);
}

/**
 * Reads the OVERLAPPED at `offset` of `buf`.
 *
 * @example
 * ```ts
 * import { readOverlapped } from "./structs.ts";
 * const b = new Uint8Array(32);
 * b[0] = 0x03; b[1] = 0x01; // STATUS_PENDING
 * console.log(readOverlapped(b, 0).internal === 0x103n); // true
 * ```
 */
export function readOverlapped(buf: Uint8Array, offset: number): OverlappedFields {
  const v = structView(buf, offset, OVERLAPPED.SIZE, "OVERLAPPED");
  return {
    internal: v.getBigUint64(OVERLAPPED.Internal, true),
    internalHigh: v.getBigUint64(OVERLAPPED.InternalHigh, true),
    offset: v.getUint32(OVERLAPPED.Offset, true),
    offsetHigh: v.getUint32(OVERLAPPED.OffsetHigh, true),
    hEvent: v.getBigUint64(OVERLAPPED.hEvent, true),
  };
}

// ---- OVERLAPPED_ENTRY ---------------------------------------------------------

/** The fields of an OVERLAPPED_ENTRY.
 * @example
 * ```ts
 * import { type OverlappedEntryFields, readOverlappedEntry } from "./structs.ts";
 * const e: OverlappedEntryFields = readOverlappedEntry(new Uint8Array(32), 0);
 * console.log(e.bytes); // 0
 * ```
 */
export interface OverlappedEntryFields {
  /** The completion key of the handle (or of the posted packet). */
  completionKey: bigint;
  /** The address of the operation's OVERLAPPED (or the posted pointer). */
  overlapped: bigint;
  /** `Internal`: the NTSTATUS (low 32 bits meaningful). */
  internal: bigint;
  /** The bytes transferred. */
  bytes: number;
}

/**
 * Writes an OVERLAPPED_ENTRY (the kernel writes these; this is for tests and fakes).
 *
 * @example
 * ```ts
 * import { readOverlappedEntry, writeOverlappedEntry } from "./structs.ts";
 * const b = new Uint8Array(64);
 * writeOverlappedEntry(b, 32, { completionKey: 7n, overlapped: 0x1000n, internal: 0n, bytes: 5 });
 * console.log(readOverlappedEntry(b, 32).bytes); // 5
 * ```
 */
export function writeOverlappedEntry(
  buf: Uint8Array,
  offset: number,
  f: OverlappedEntryFields,
): void {
  const v = structView(buf, offset, OVERLAPPED_ENTRY.SIZE, "OVERLAPPED_ENTRY");
  new Uint8Array(v.buffer, v.byteOffset, OVERLAPPED_ENTRY.SIZE).fill(0);
  v.setBigUint64(OVERLAPPED_ENTRY.lpCompletionKey, ptr(f.completionKey, "lpCompletionKey"), true);
  v.setBigUint64(OVERLAPPED_ENTRY.lpOverlapped, ptr(f.overlapped, "lpOverlapped"), true);
  v.setBigUint64(OVERLAPPED_ENTRY.Internal, ptr(f.internal, "Internal"), true);
  v.setUint32(OVERLAPPED_ENTRY.dwNumberOfBytesTransferred, u32(f.bytes, "bytes"), true);
}

/**
 * Reads the OVERLAPPED_ENTRY at `offset` of `buf` (entry `i` of an array is
 * at `i * OVERLAPPED_ENTRY.SIZE`).
 *
 * @example
 * ```ts
 * import { readOverlappedEntry } from "./structs.ts";
 * const e = readOverlappedEntry(new Uint8Array(32), 0);
 * console.log(e.completionKey, e.bytes); // 0n 0
 * ```
 */
export function readOverlappedEntry(buf: Uint8Array, offset: number): OverlappedEntryFields {
  const v = structView(buf, offset, OVERLAPPED_ENTRY.SIZE, "OVERLAPPED_ENTRY");
  return {
    completionKey: v.getBigUint64(OVERLAPPED_ENTRY.lpCompletionKey, true),
    overlapped: v.getBigUint64(OVERLAPPED_ENTRY.lpOverlapped, true),
    internal: v.getBigUint64(OVERLAPPED_ENTRY.Internal, true),
    bytes: v.getUint32(OVERLAPPED_ENTRY.dwNumberOfBytesTransferred, true),
  };
}

// ---- WSABUF --------------------------------------------------------------------

/**
 * Writes a WSABUF: `len` bytes at address `bufAddress`.
 *
 * @example
 * ```ts
 * import { readWsabuf, writeWsabuf } from "./structs.ts";
 * const b = new Uint8Array(16);
 * writeWsabuf(b, 0, 100, 0x2000n);
 * console.log(readWsabuf(b, 0)); // { len: 100, buf: 8192n }
 * ```
 */
export function writeWsabuf(
  buf: Uint8Array,
  offset: number,
  len: number,
  bufAddress: bigint,
): void {
  const v = structView(buf, offset, WSABUF.SIZE, "WSABUF");
  v.setUint32(WSABUF.len, u32(len, "WSABUF.len"), true);
  v.setUint32(4, 0, true);
  v.setBigUint64(WSABUF.buf, ptr(bufAddress, "WSABUF.buf"), true);
}

/**
 * Reads the WSABUF at `offset` of `buf`.
 *
 * @example
 * ```ts
 * import { readWsabuf } from "./structs.ts";
 * console.log(readWsabuf(new Uint8Array(16), 0).len); // 0
 * ```
 */
export function readWsabuf(buf: Uint8Array, offset: number): { len: number; buf: bigint } {
  const v = structView(buf, offset, WSABUF.SIZE, "WSABUF");
  return { len: v.getUint32(WSABUF.len, true), buf: v.getBigUint64(WSABUF.buf, true) };
}

// ---- addresses -------------------------------------------------------------------

/** An IPv4 or IPv6 socket address as this module passes it around.
 * @example
 * ```ts
 * import { type InetAddress, writeSockaddr } from "./structs.ts";
 * const a: InetAddress = { family: "inet6", hostname: "::1", port: 8080 };
 * console.log(writeSockaddr(new Uint8Array(28), 0, a)); // 28
 * ```
 */
export interface InetAddress {
  /** `"inet"` (sockaddr_in) or `"inet6"` (sockaddr_in6). */
  family: "inet" | "inet6";
  /** The address text: `"127.0.0.1"` or `"::1"` (no brackets, no zone). */
  hostname: string;
  /** The port, 0..65535. */
  port: number;
  /** IPv6 only: the flow label field. */
  flowinfo?: number;
  /** IPv6 only: the scope (interface) id. */
  scopeId?: number;
}

/**
 * The 4 bytes of a dotted-quad IPv4 address; `TypeError` for anything else.
 *
 * @example
 * ```ts
 * import { parseIPv4 } from "./structs.ts";
 * console.log(parseIPv4("127.0.0.1")); // Uint8Array(4) [ 127, 0, 0, 1 ]
 * ```
 */
export function parseIPv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  if (!parseIPv4Into(text, out)) {
    throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  }
  return out;
}

/**
 * The 16 bytes of an IPv6 address (with `::` and a trailing dotted quad
 * allowed); `TypeError` for anything else.
 *
 * @example
 * ```ts
 * import { parseIPv6 } from "./structs.ts";
 * console.log(parseIPv6("::1")[15]); // 1
 * ```
 */
export function parseIPv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!parseIPv6Into(text, out)) {
    throw new TypeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  }
  return out;
}

/**
 * The text of 16 IPv6 address bytes, RFC 5952 style (lower case, the
 * longest run of two or more zero groups as `::`), always in hex groups: unlike
 * the seam's `formatIPv6`, an IPv4-mapped address is not shown dotted, so a
 * struct dump shows the words as they are.
 *
 * @example
 * ```ts
 * import { formatIPv6 } from "./structs.ts";
 * const b = new Uint8Array(16); b[15] = 1;
 * console.log(formatIPv6(b)); // ::1
 * ```
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError("an IPv6 address has 16 bytes");
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

function port16(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  }
  return port;
}

/**
 * Writes the sockaddr_in or sockaddr_in6 for `addr` at `offset` of `buf` and
 * returns its length (16 or 28), the `namelen` to pass with it.
 *
 * @example
 * ```ts
 * import { writeSockaddr } from "./structs.ts";
 * const b = new Uint8Array(28);
 * console.log(writeSockaddr(b, 0, { family: "inet", hostname: "127.0.0.1", port: 80 })); // 16
 * console.log([...b.subarray(0, 8)]); // [ 2, 0, 0, 80, 127, 0, 0, 1 ]
 * ```
 */
export function writeSockaddr(buf: Uint8Array, offset: number, addr: InetAddress): number {
  if (addr.family === "inet") {
    const v = structView(buf, offset, SOCKADDR_IN.SIZE, "sockaddr_in");
    const ip = parseIPv4(addr.hostname);
    new Uint8Array(v.buffer, v.byteOffset, SOCKADDR_IN.SIZE).fill(0);
    v.setUint16(SOCKADDR_IN.family, AF_INET, true);
    v.setUint16(SOCKADDR_IN.port, port16(addr.port), false);
    new Uint8Array(v.buffer, v.byteOffset + SOCKADDR_IN.addr, 4).set(ip);
    return SOCKADDR_IN.SIZE;
  }
  if (addr.family === "inet6") {
    const v = structView(buf, offset, SOCKADDR_IN6.SIZE, "sockaddr_in6");
    const ip = parseIPv6(addr.hostname);
    new Uint8Array(v.buffer, v.byteOffset, SOCKADDR_IN6.SIZE).fill(0);
    v.setUint16(SOCKADDR_IN6.family, AF_INET6, true);
    v.setUint16(SOCKADDR_IN6.port, port16(addr.port), false);
    v.setUint32(SOCKADDR_IN6.flowinfo, u32(addr.flowinfo ?? 0, "flowinfo"), true);
    new Uint8Array(v.buffer, v.byteOffset + SOCKADDR_IN6.addr, 16).set(ip);
    v.setUint32(SOCKADDR_IN6.scopeId, u32(addr.scopeId ?? 0, "scopeId"), true);
    return SOCKADDR_IN6.SIZE;
  }
  throw new TypeError(`unsupported address family: ${(addr as { family: unknown }).family}`);
}

/**
 * Reads the sockaddr_in or sockaddr_in6 at `offset` of `buf` (of `len`
 * bytes, as the call returned it); `TypeError` for another family,
 * `RangeError` if `len` is too short for it.
 *
 * @example
 * ```ts
 * import { readSockaddr, writeSockaddr } from "./structs.ts";
 * const b = new Uint8Array(28);
 * const n = writeSockaddr(b, 0, { family: "inet6", hostname: "::1", port: 443 });
 * console.log(readSockaddr(b, 0, n)); // { family: "inet6", hostname: "::1", port: 443, flowinfo: 0, scopeId: 0 }
 * ```
 */
export function readSockaddr(buf: Uint8Array, offset: number, len: number): InetAddress {
  const fam = structView(buf, offset, 2, "sockaddr").getUint16(0, true);
  if (fam === AF_INET) {
    if (len < SOCKADDR_IN.SIZE) throw new RangeError(`sockaddr_in needs 16 bytes, got ${len}`);
    const v = structView(buf, offset, SOCKADDR_IN.SIZE, "sockaddr_in");
    const a = new Uint8Array(v.buffer, v.byteOffset + SOCKADDR_IN.addr, 4);
    return { family: "inet", hostname: a.join("."), port: v.getUint16(SOCKADDR_IN.port, false) };
  }
  if (fam === AF_INET6) {
    if (len < SOCKADDR_IN6.SIZE) throw new RangeError(`sockaddr_in6 needs 28 bytes, got ${len}`);
    const v = structView(buf, offset, SOCKADDR_IN6.SIZE, "sockaddr_in6");
    return {
      family: "inet6",
      hostname: formatIPv6(new Uint8Array(v.buffer, v.byteOffset + SOCKADDR_IN6.addr, 16)),
      port: v.getUint16(SOCKADDR_IN6.port, false),
      flowinfo: v.getUint32(SOCKADDR_IN6.flowinfo, true),
      scopeId: v.getUint32(SOCKADDR_IN6.scopeId, true),
    };
  }
  throw new TypeError(`unsupported address family ${fam}`);
}

// ---- fd_set ----------------------------------------------------------------------

/**
 * The bytes of an `fd_set` for `capacity` sockets: 8 + 8·capacity.
 *
 * @example
 * ```ts
 * import { fdSetSize } from "./structs.ts";
 * console.log(fdSetSize(64), fdSetSize(512)); // 520 4104
 * ```
 */
export function fdSetSize(capacity: number = FD_SETSIZE): number {
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError("bad fd_set capacity");
  return FD_SET.fd_array + 8 * capacity;
}

/**
 * Writes an `fd_set` holding `sockets` at `offset` of `buf`: the count, then
 * the SOCKETs. `RangeError` if they do not fit in `buf`.
 *
 * @example
 * ```ts
 * import { fdSetSize, readFdSet, writeFdSet } from "./structs.ts";
 * const b = new Uint8Array(fdSetSize(4));
 * writeFdSet(b, 0, [0x100n, 0x104n]);
 * console.log(readFdSet(b, 0)); // [ 256n, 260n ]
 * ```
 */
export function writeFdSet(buf: Uint8Array, offset: number, sockets: readonly bigint[]): void {
  const v = structView(buf, offset, fdSetSize(sockets.length), "fd_set");
  v.setUint32(FD_SET.fd_count, sockets.length, true);
  v.setUint32(4, 0, true);
  for (let i = 0; i < sockets.length; i++) {
    v.setBigUint64(FD_SET.fd_array + 8 * i, ptr(sockets[i], "SOCKET"), true);
  }
}

/**
 * The SOCKETs of the `fd_set` at `offset` of `buf` (after `select()`, the
 * ready ones); `RangeError` if its count runs past `buf`.
 *
 * @example
 * ```ts
 * import { readFdSet } from "./structs.ts";
 * console.log(readFdSet(new Uint8Array(8), 0)); // []
 * ```
 */
export function readFdSet(buf: Uint8Array, offset: number): bigint[] {
  const count = structView(buf, offset, FD_SET.fd_array, "fd_set").getUint32(FD_SET.fd_count, true);
  const v = structView(buf, offset, fdSetSize(count), "fd_set");
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(v.getBigUint64(FD_SET.fd_array + 8 * i, true));
  return out;
}

// ---- timeval ---------------------------------------------------------------------

/**
 * Writes a `timeval` for `seconds` (≥ 0), rounded UP to the microsecond so a
 * wait never ends early; `RangeError` past 2^31-1 s.
 *
 * @example
 * ```ts
 * import { readTimeval, writeTimeval } from "./structs.ts";
 * const b = new Uint8Array(8);
 * writeTimeval(b, 0, 1.5);
 * console.log(readTimeval(b, 0)); // { sec: 1, usec: 500000 }
 * ```
 */
export function writeTimeval(buf: Uint8Array, offset: number, seconds: number): void {
  if (!(seconds >= 0) || seconds > 0x7FFF_FFFF) {
    throw new RangeError(`timeval seconds must be in 0..2^31-1, got ${seconds}`);
  }
  const v = structView(buf, offset, TIMEVAL.SIZE, "timeval");
  let sec = Math.floor(seconds);
  let usec = Math.ceil((seconds - sec) * 1e6 - 1e-6);
  if (usec < 0) usec = 0;
  if (usec >= 1_000_000) [sec, usec] = [sec + 1, usec - 1_000_000];
  v.setInt32(TIMEVAL.tv_sec, Math.min(sec, 0x7FFF_FFFF), true);
  v.setInt32(TIMEVAL.tv_usec, usec, true);
}

/**
 * Reads the `timeval` at `offset` of `buf`.
 *
 * @example
 * ```ts
 * import { readTimeval } from "./structs.ts";
 * console.log(readTimeval(new Uint8Array(8), 0)); // { sec: 0, usec: 0 }
 * ```
 */
export function readTimeval(buf: Uint8Array, offset: number): { sec: number; usec: number } {
  const v = structView(buf, offset, TIMEVAL.SIZE, "timeval");
  return { sec: v.getInt32(TIMEVAL.tv_sec, true), usec: v.getInt32(TIMEVAL.tv_usec, true) };
}

// ---- ADDRINFOW -------------------------------------------------------------------

/** The fields of an ADDRINFOW (pointers as addresses).
 * @example
 * ```ts
 * import { type AddrInfoWFields, readAddrInfoW } from "./structs.ts";
 * const ai: AddrInfoWFields = readAddrInfoW(new Uint8Array(48), 0);
 * console.log(ai.addrlen, ai.next); // 0 0n
 * ```
 */
export interface AddrInfoWFields {
  /** `ai_flags` (AI_PASSIVE 1, AI_CANONNAME 2, AI_NUMERICHOST 4, ...). */
  flags: number;
  /** `ai_family` (0, 2 or 23). */
  family: number;
  /** `ai_socktype` (0, 1 stream, 2 datagram). */
  socktype: number;
  /** `ai_protocol`. */
  protocol: number;
  /** `ai_addrlen`: the bytes at `addr`. */
  addrlen: number;
  /** `ai_canonname`: a UTF-16 string's address, or `0n`. */
  canonname: bigint;
  /** `ai_addr`: the sockaddr's address, or `0n`. */
  addr: bigint;
  /** `ai_next`: the next entry's address, or `0n`. */
  next: bigint;
}

/**
 * Writes an ADDRINFOW (for the hints of GetAddrInfoW: set flags, family,
 * socktype, protocol; the rest is zeroed).
 *
 * @example
 * ```ts
 * import { ADDRINFOW, writeAddrInfoW } from "./structs.ts";
 * const hints = new Uint8Array(ADDRINFOW.SIZE);
 * writeAddrInfoW(hints, 0, { family: 2, socktype: 1 });
 * console.log(hints[4], hints[8]); // 2 1
 * ```
 */
export function writeAddrInfoW(
  buf: Uint8Array,
  offset: number,
  f: Partial<AddrInfoWFields>,
): void {
  const v = structView(buf, offset, ADDRINFOW.SIZE, "ADDRINFOW");
  new Uint8Array(v.buffer, v.byteOffset, ADDRINFOW.SIZE).fill(0);
  v.setInt32(ADDRINFOW.ai_flags, f.flags ?? 0, true);
  v.setInt32(ADDRINFOW.ai_family, f.family ?? 0, true);
  v.setInt32(ADDRINFOW.ai_socktype, f.socktype ?? 0, true);
  v.setInt32(ADDRINFOW.ai_protocol, f.protocol ?? 0, true);
  v.setBigUint64(ADDRINFOW.ai_addrlen, BigInt(u32(f.addrlen ?? 0, "ai_addrlen")), true);
  v.setBigUint64(ADDRINFOW.ai_canonname, ptr(f.canonname ?? 0n, "ai_canonname"), true);
  v.setBigUint64(ADDRINFOW.ai_addr, ptr(f.addr ?? 0n, "ai_addr"), true);
  v.setBigUint64(ADDRINFOW.ai_next, ptr(f.next ?? 0n, "ai_next"), true);
}

/**
 * Reads the ADDRINFOW at `offset` of `buf` (copy a result's 48 bytes out of
 * native memory first).
 *
 * @example
 * ```ts
 * import { readAddrInfoW } from "./structs.ts";
 * console.log(readAddrInfoW(new Uint8Array(48), 0).next); // 0n
 * ```
 */
export function readAddrInfoW(buf: Uint8Array, offset: number): AddrInfoWFields {
  const v = structView(buf, offset, ADDRINFOW.SIZE, "ADDRINFOW");
  return {
    flags: v.getInt32(ADDRINFOW.ai_flags, true),
    family: v.getInt32(ADDRINFOW.ai_family, true),
    socktype: v.getInt32(ADDRINFOW.ai_socktype, true),
    protocol: v.getInt32(ADDRINFOW.ai_protocol, true),
    addrlen: Number(v.getBigUint64(ADDRINFOW.ai_addrlen, true)),
    canonname: v.getBigUint64(ADDRINFOW.ai_canonname, true),
    addr: v.getBigUint64(ADDRINFOW.ai_addr, true),
    next: v.getBigUint64(ADDRINFOW.ai_next, true),
  };
}

// ---- GUID, strings ---------------------------------------------------------------

/**
 * Writes the GUID `text` (`"b5367df1-cbac-11cf-95ca-00805f48a192"`) in its
 * in-memory form: Data1..Data3 little-endian, Data4 as written.
 *
 * @example
 * ```ts
 * import { writeGuid } from "./structs.ts";
 * const b = new Uint8Array(16);
 * writeGuid(b, 0, "b5367df1-cbac-11cf-95ca-00805f48a192");
 * console.log(b[0].toString(16), b[8].toString(16)); // f1 95
 * ```
 */
export function writeGuid(buf: Uint8Array, offset: number, text: string): void {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text);
  if (!m) throw new TypeError(`not a GUID: ${JSON.stringify(text)}`);
  const v = structView(buf, offset, GUID.SIZE, "GUID");
  v.setUint32(GUID.Data1, parseInt(m[1], 16), true);
  v.setUint16(GUID.Data2, parseInt(m[2], 16), true);
  v.setUint16(GUID.Data3, parseInt(m[3], 16), true);
  const tail = m[4] + m[5];
  for (let i = 0; i < 8; i++) {
    v.setUint8(GUID.Data4 + i, parseInt(tail.slice(2 * i, 2 * i + 2), 16));
  }
}

/**
 * `text` as a NUL-terminated UTF-16LE string (for the `W` functions).
 *
 * @example
 * ```ts
 * import { wideString } from "./structs.ts";
 * console.log(wideString("ab")); // Uint8Array(6) [ 97, 0, 98, 0, 0, 0 ]
 * ```
 */
export function wideString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) throw new TypeError("a wide string cannot hold NUL");
  const out = new Uint8Array(text.length * 2 + 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < text.length; i++) v.setUint16(2 * i, text.charCodeAt(i), true);
  return out;
}
