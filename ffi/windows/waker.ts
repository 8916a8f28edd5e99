/**
 * The selector's wakeup channel on Windows, and the loopback socket pair it
 * is made of: Winsock `select()` watches sockets only, so (as CPython's
 * `socket.socketpair()` on Windows) a TCP connection over 127.0.0.1 stands
 * in for the eventfd or pipe of Unix. `wake()` writes one byte to one end;
 * the other end, {@linkcode Waker.fd}, turns readable until `drain()`.
 *
 * @module
 */
import { encodeInet, SOCKADDR_IN_SIZE, SOCKADDR_MAX } from "./sockaddr.ts";
import { E, errno, osError, SOCK, sock } from "./socket.ts";

function closeQuietly(fd: number): void {
  if (fd >= 0) sock().closesocket(fd);
}

/**
 * A connected pair of TCP sockets over loopback (IPv4, or IPv6 with
 * `family: "inet6"`), as CPython's `socketpair()` builds it on Windows: a
 * listener on port 0, a blocking connect, an accept whose peer must be the
 * connecting socket (else it is refused: someone else connected first), the
 * listener closed. Both sockets are left in blocking mode and not
 * inheritable; the caller owns them.
 *
 * @example
 * ```ts
 * import { loopbackSocketPair } from "./waker.ts";
 * import { sock } from "./socket.ts";
 * if (Deno.build.os === "windows") {
 *   const [a, b] = loopbackSocketPair();
 *   console.log(sock().send(a, new Uint8Array([7]), 1n, 0)); // 1
 *   sock().closesocket(a);
 *   sock().closesocket(b);
 * }
 * ```
 */
export function loopbackSocketPair(family: "inet" | "inet6" = "inet"): [number, number] {
  const s = sock();
  const af = family === "inet" ? SOCK.AF_INET : SOCK.AF_INET6;
  const host = family === "inet" ? "127.0.0.1" : "::1";
  const addr = new Uint8Array(SOCKADDR_MAX);
  const len = new Uint8Array(4);
  const lenView = new DataView(len.buffer);
  let listener = -1, client = -1, server = -1;
  try {
    listener = s.socket(af, SOCK.SOCK_STREAM, SOCK.IPPROTO_TCP);
    if (listener < 0) throw osError(errno(), "WSASocketW", "socket pair listener");
    const n = encodeInet(addr, family, host, 0, "socketpair");
    if (s.bind(listener, addr, n) !== 0) throw osError(errno(), "bind", `${host}:0`);
    if (s.listen(listener, 1) !== 0) throw osError(errno(), "listen", "socket pair listener");
    lenView.setInt32(0, SOCKADDR_MAX, true);
    if (s.getsockname(listener, addr, len) !== 0) throw osError(errno(), "getsockname");
    client = s.socket(af, SOCK.SOCK_STREAM, SOCK.IPPROTO_TCP);
    if (client < 0) throw osError(errno(), "WSASocketW", "socket pair client");
    if (s.connect(client, addr, lenView.getInt32(0, true)) !== 0) {
      throw osError(errno(), "connect", "socket pair");
    }
    const peer = new Uint8Array(SOCKADDR_MAX);
    lenView.setInt32(0, SOCKADDR_MAX, true);
    server = s.accept(listener, peer, len);
    if (server < 0) throw osError(errno(), "accept", "socket pair");
    const peerLen = lenView.getInt32(0, true);
    const mine = new Uint8Array(SOCKADDR_MAX);
    lenView.setInt32(0, SOCKADDR_MAX, true);
    if (s.getsockname(client, mine, len) !== 0) throw osError(errno(), "getsockname");
    const mineLen = lenView.getInt32(0, true);
    const want = family === "inet" ? SOCKADDR_IN_SIZE : mineLen;
    if (
      peerLen !== mineLen ||
      !peer.subarray(0, want).every((b, i) => b === mine[i])
    ) {
      throw new Deno.errors.ConnectionRefused(
        "socketpair: the accepted connection is not ours (another process connected first)",
      );
    }
    const pair: [number, number] = [client, server];
    client = server = -1;
    return pair;
  } finally {
    closeQuietly(listener);
    closeQuietly(client);
    closeQuietly(server);
  }
}

function nonBlocking(fd: number): void {
  const on = new Uint32Array([1]);
  if (sock().ioctlsocket(fd, 0x8004667E, new Uint8Array(on.buffer)) !== 0) {
    throw osError(errno(), "ioctlsocket(FIONBIO)", `waker socket ${fd}`);
  }
}

/**
 * A selector's wakeup channel: {@linkcode Waker.fd} (a SOCKET) turns
 * readable after `wake()` (at most one byte outstanding) until `drain()`;
 * `pending`, `close()`. A loopback TCP socket pair, both ends nonblocking,
 * with TCP_NODELAY on the writing end.
 *
 * @example
 * ```ts
 * import { Waker } from "./waker.ts";
 * if (Deno.build.os === "windows") {
 *   const w = new Waker();
 *   w.wake();
 *   console.log(w.pending); // true
 *   w.drain();
 *   w.close();
 * }
 * ```
 */
export class Waker {
  /** The SOCKET the selector watches for reading. */
  readonly fd: number;
  #writeFd: number;
  #buf = new Uint8Array(new ArrayBuffer(64));
  #pending = false;
  #closed = false;

  /** Opens the channel (a loopback TCP pair), nonblocking and not inheritable. */
  constructor() {
    const [w, r] = loopbackSocketPair("inet");
    try {
      nonBlocking(r);
      nonBlocking(w);
      const one = new Uint8Array(new Uint32Array([1]).buffer);
      sock().setsockopt(w, SOCK.IPPROTO_TCP, SOCK.TCP_NODELAY, one, 4);
    } catch (e) {
      sock().closesocket(r);
      sock().closesocket(w);
      throw e;
    }
    this.fd = r;
    this.#writeFd = w;
  }

  /** Whether a wake was written and not yet drained. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Makes {@linkcode Waker.fd} readable (one byte, once until the next drain). */
  wake(): void {
    if (this.#pending || this.#closed) return;
    this.#pending = true;
    this.#buf[0] = 1;
    const n = sock().send(this.#writeFd, this.#buf, 1n, 0);
    // WSAEWOULDBLOCK: the buffer is full, so the read end is readable already.
    if (n < 0) {
      const e = errno();
      if (e !== E.EWOULDBLOCK) throw osError(e, "send", `waker socket ${this.#writeFd}`);
    }
  }

  /** Empties the channel. */
  drain(): void {
    this.#pending = false;
    const s = sock();
    while (s.recv(this.fd, this.#buf, 64n, 0) > 0);
  }

  /** Closes both sockets. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const s = sock();
    s.closesocket(this.fd);
    s.closesocket(this.#writeFd);
  }
}
