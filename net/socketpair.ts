/**
 * `socketpair()`: two connected sockets, as Python's `socket.socketpair()`:
 * AF_UNIX where the OS has it, else (Windows) a loopback TCP connection
 * whose two ends are checked to be each other's.
 *
 * @module
 */
import { describe, E, OS_FAMILY, osError, SOCK, unixSocketPair } from "../ffi/sys.ts";
import { type NetAddress, Socket, type SocketFamily, type SocketType } from "./socket.ts";

/** Options of {@linkcode socketpair}. */
export interface SocketPairOptions {
  /** `"unix"` (the default where AF_UNIX exists), `"inet"` (the default on Windows) or `"inet6"`. */
  family?: SocketFamily;
  /** `"stream"` (the default); `"dgram"` and `"seqpacket"` for `"unix"` only. */
  type?: SocketType;
}

const LOOPBACK = { inet: "127.0.0.1", inet6: "::1" } as const;

/**
 * Two connected, nonblocking sockets. `family: "unix"` is `socketpair(2)`;
 * `"inet"`/`"inet6"` (and the default on Windows, which has no AF_UNIX) is
 * a TCP connection over loopback made through a listener that is closed at
 * once, its accepted end checked to be the one we connected, as CPython's
 * `socket.socketpair()` does on Windows.
 *
 * @example
 * ```ts
 * import { socketpair } from "@aio/loop";
 * const [a, b] = socketpair();
 * a.send(new TextEncoder().encode("hi"));
 * await new Promise((r) => setTimeout(r, 10));
 * console.log(new TextDecoder().decode(b.recv(10) ?? undefined)); // "hi"
 * a.close();
 * b.close();
 * ```
 */
export function socketpair(options: SocketPairOptions = {}): [Socket, Socket] {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`socketpair(): options must be an object, got ${describe(options)}`);
  }
  const family = options.family ?? (OS_FAMILY === "windows" ? "inet" : "unix");
  const type = options.type ?? "stream";
  if (family === "unix") {
    const t = type === "stream"
      ? SOCK.SOCK_STREAM
      : type === "dgram"
      ? SOCK.SOCK_DGRAM
      : type === "seqpacket"
      ? SOCK.SOCK_SEQPACKET
      : -1;
    if (t < 0) {
      throw new TypeError(
        `socketpair(): type must be "stream", "dgram" or "seqpacket", got ${describe(type)}`,
      );
    }
    const [a, b] = unixSocketPair(t);
    return [Socket.fromFd(a), Socket.fromFd(b)];
  }
  if (family !== "inet" && family !== "inet6") {
    throw new TypeError(
      `socketpair(): family must be "unix", "inet" or "inet6", got ${describe(family)}`,
    );
  }
  if (type !== "stream") {
    throw new TypeError(
      `socketpair(): an ${family} pair is a TCP connection: type must be "stream"`,
    );
  }
  return loopbackPair(family);
}

function loopbackPair(family: "inet" | "inet6"): [Socket, Socket] {
  const listener = new Socket({ family });
  let client: Socket | undefined;
  let server: Socket | undefined;
  try {
    listener.bind({ transport: "tcp", hostname: LOOPBACK[family], port: 0 });
    listener.listen(1);
    client = new Socket({ family });
    const rc = client.connectEx(listener.getsockname());
    if (rc !== 0 && rc !== E.EINPROGRESS) throw osError(rc, "connect", "socketpair()");
    listener.setBlocking(true); // the connection is on its way: wait for it
    let peer;
    [server, peer] = listener.accept();
    const mine = client.getsockname() as NetAddress;
    const theirs = peer as NetAddress;
    if (mine.port !== theirs.port || mine.hostname !== theirs.hostname) {
      throw new Deno.errors.ConnectionRefused(
        "socketpair(): the accepted connection is not ours (another process connected first)",
      );
    }
    server.setBlocking(false);
    client.checkConnect();
    const pair: [Socket, Socket] = [client, server];
    client = server = undefined;
    return pair;
  } finally {
    listener.close();
    client?.close();
    server?.close();
  }
}
