// Struct layouts against their documented bytes (x86_64 and aarch64, little-endian).
import { assertEquals, assertThrows } from "@std/assert";
import {
  decodeKevent,
  encodeKevent,
  EV_ADD,
  EV_ENABLE,
  EVFILT_READ,
  EVFILT_WRITE,
  KEVENT_SIZE,
  keventData,
  keventFilter,
  keventFlags,
  keventIdent,
  NOTE_EXIT,
  setKevent,
} from "../ffi/darwin/kevent.ts";
import {
  EPOLL_DATA_OFFSET,
  EPOLL_EVENT_SIZE,
  epollEvents,
  epollFd,
  EPOLLIN,
  EPOLLOUT,
  setEpollEvent,
} from "../ffi/linux/epoll_event.ts";
import { FD_SET_BYTES, fdClr, fdIsSet, fdSet } from "../ffi/unix/fd_set.ts";
import {
  POLLFD_SIZE,
  pollfdFd,
  pollfdRevents,
  POLLIN,
  POLLOUT,
  setPollfd,
} from "../ffi/unix/pollfd.ts";
import {
  readTimespec,
  readTimeval,
  TIMESPEC_SIZE,
  TIMEVAL_SIZE,
  writeTimespec,
  writeTimeval,
} from "../ffi/unix/time.ts";

function bytes(n: number): [Uint8Array, DataView] {
  const b = new Uint8Array(n);
  return [b, new DataView(b.buffer)];
}

Deno.test("struct kevent is 32 bytes: ident, filter, flags, fflags, data, udata", () => {
  assertEquals(KEVENT_SIZE, 32);
  const [b, v] = bytes(64);
  encodeKevent(v, 1, {
    ident: 7,
    filter: EVFILT_READ,
    flags: EV_ADD | EV_ENABLE,
    fflags: NOTE_EXIT,
    data: -2,
    udata: 0x1122334455667788n,
  });
  assertEquals([...b.subarray(0, 32)], new Array(32).fill(0));
  assertEquals([...b.subarray(32)], [
    ...[7, 0, 0, 0, 0, 0, 0, 0], // uintptr_t ident
    ...[0xff, 0xff], // int16_t filter = -1
    ...[0x05, 0x00], // uint16_t flags = EV_ADD | EV_ENABLE
    ...[0x00, 0x00, 0x00, 0x80], // uint32_t fflags = NOTE_EXIT
    ...[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // intptr_t data = -2
    ...[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11], // void *udata
  ]);
  assertEquals(decodeKevent(v, 1), {
    ident: 7,
    filter: EVFILT_READ,
    flags: EV_ADD | EV_ENABLE,
    fflags: NOTE_EXIT,
    data: -2,
    udata: 0x1122334455667788n,
  });
  assertEquals([keventIdent(v, 1), keventFilter(v, 1), keventFlags(v, 1), keventData(v, 1)], [
    7,
    -1,
    5,
    -2,
  ]);
  setKevent(v, 0, 1023, EVFILT_WRITE, EV_ADD);
  assertEquals([...b.subarray(0, 16)], [
    ...[0xff, 0x03, 0, 0, 0, 0, 0, 0],
    ...[0xfe, 0xff],
    ...[0x01, 0x00],
    ...[0, 0, 0, 0],
  ]);
});

Deno.test("struct epoll_event is packed on x86_64 (12 bytes) and aligned elsewhere (16)", () => {
  const packed = Deno.build.arch === "x86_64";
  assertEquals(EPOLL_EVENT_SIZE, packed ? 12 : 16);
  assertEquals(EPOLL_DATA_OFFSET, packed ? 4 : 8);
  const [b, v] = bytes(EPOLL_EVENT_SIZE * 2);
  setEpollEvent(v, 1, EPOLLIN | EPOLLOUT, 0x01020304);
  const e = EPOLL_EVENT_SIZE;
  assertEquals([...b.subarray(e, e + 4)], [5, 0, 0, 0]);
  assertEquals([...b.subarray(e + EPOLL_DATA_OFFSET, e + EPOLL_DATA_OFFSET + 8)], [
    4,
    3,
    2,
    1,
    0,
    0,
    0,
    0,
  ]);
  assertEquals([epollEvents(v, 1), epollFd(v, 1)], [5, 0x01020304]);
});

Deno.test("struct pollfd is 8 bytes: int fd, short events, short revents", () => {
  assertEquals(POLLFD_SIZE, 8);
  const [b, v] = bytes(16);
  setPollfd(v, 1, 300, POLLIN | POLLOUT);
  assertEquals([...b.subarray(8)], [0x2c, 0x01, 0, 0, 5, 0, 0, 0]);
  b[14] = 0x20; // as the kernel writes revents = POLLNVAL
  assertEquals([pollfdFd(v, 1), pollfdRevents(v, 1)], [300, 0x20]);
});

Deno.test("fd_set is a 1024-bit map: fd n is bit n & 7 of byte n >> 3", () => {
  assertEquals(FD_SET_BYTES, 128);
  const set = new Uint8Array(FD_SET_BYTES);
  fdSet(set, 0);
  fdSet(set, 9);
  fdSet(set, 1023);
  assertEquals([set[0], set[1], set[127]], [1, 2, 0x80]);
  assertEquals([fdIsSet(set, 9), fdIsSet(set, 10)], [true, false]);
  fdClr(set, 9);
  assertEquals(set[1], 0);
  assertThrows(() => fdSet(set, 1024), RangeError, "FD_SETSIZE");
  assertThrows(() => fdSet(set, -1), RangeError);
  assertThrows(() => fdIsSet(set, 4096), RangeError);
  assertEquals(set.length, 128); // nothing written past the map
});

Deno.test("timespec and timeval are 16 bytes and round up, never down", () => {
  assertEquals([TIMESPEC_SIZE, TIMEVAL_SIZE], [16, 16]);
  const [b, v] = bytes(16);
  writeTimespec(v, 1500.5);
  assertEquals([...b.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(v.getBigInt64(8, true), 500_500_000n);
  assertEquals(readTimespec(v), 1500.5);
  writeTimespec(v, 0.0000001);
  assertEquals([v.getBigInt64(0, true), v.getBigInt64(8, true)], [0n, 1n]);
  writeTimeval(v, 2000.0001);
  const usec = Deno.build.os === "darwin" ? BigInt(v.getInt32(8, true)) : v.getBigInt64(8, true);
  assertEquals([v.getBigInt64(0, true), usec], [2n, 1n]);
  writeTimeval(v, 1500.5);
  assertEquals(readTimeval(v), 1500.5);
});
