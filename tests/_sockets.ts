/**
 * Socket fds for tests on every OS: a connected, nonblocking stream pair
 * (AF_UNIX `socketpair(2)` on Unix, a loopback TCP pair on Windows, which
 * has no AF_UNIX), and the matching close/read/write on raw fd numbers.
 *
 * @module
 */
import { closeFd as sysCloseFd, setNonBlocking, sock } from "../ffi/sys.ts";
import { makeSocketPair } from "../ffi/unix/libc.ts";
import { loopbackSocketPair } from "../ffi/windows/waker.ts";
import { ws2_32 } from "../ffi/windows/ws2_32.ts";
import { fdSetSize, TIMEVAL, writeFdSet, writeTimeval } from "../ffi/windows/structs.ts";

const onWindows = Deno.build.os === "windows";

/** A connected, nonblocking stream socket pair as fd numbers (SOCKETs on Windows). */
export function socketPairFds(): [number, number] {
  if (!onWindows) return makeSocketPair();
  const [a, b] = loopbackSocketPair("inet");
  setNonBlocking(a);
  setNonBlocking(b);
  return [a, b];
}

/** Closes a socket fd (`close` on Unix, `closesocket` on Windows). */
export function closeSocketFd(fd: number): void {
  sysCloseFd(fd);
}

/** `send(fd, data)`: the bytes sent, or -1 when it would block (read errno at once otherwise). */
export function sendFd(fd: number, data: Uint8Array): number {
  return sock().send(fd, data, BigInt(data.byteLength), 0);
}

/** `recv(fd, buf)`: the bytes read, 0 at EOF, or -1. */
export function recvFd(fd: number, buf: Uint8Array): number {
  return sock().recv(fd, buf, BigInt(buf.byteLength), 0);
}

/**
 * Sends all of `data` on socket `fd` (it must not block) and makes sure
 * `peer` has it: on Windows, where a loopback TCP send reaches the peer
 * asynchronously, it waits (up to 10 s, a one-off Winsock `select()`) until
 * `peer` is readable, so that a `select(0)` after it sees the data, as it
 * does at once over an AF_UNIX pair. Returns false if it did not all go.
 */
export function sendDelivered(fd: number, data: Uint8Array, peer: number): boolean {
  if (sendFd(fd, data) !== data.byteLength) return false;
  if (!onWindows) return true;
  const set = new Uint8Array(fdSetSize(1));
  writeFdSet(set, 0, [BigInt(peer)]);
  const tv = new Uint8Array(TIMEVAL.SIZE);
  writeTimeval(tv, 0, 10);
  return ws2_32().select(0, set, null, null, tv) === 1;
}
