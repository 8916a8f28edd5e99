/**
 * `Socket`: a BSD socket made by `socket(2)`, nonblocking and close-on-exec,
 * with Deno-shaped addresses. The data calls used by an event loop's hot path
 * (`send`, `sendto`, `recvInto`, `recv`, `recvfrom`, `recvfromInto`) report
 * "would block" as a return value (`-1` or `null`), never by throwing and
 * without allocating; every other OS error is a `Deno.errors.*` carrying
 * `code` and `errno`.
 *
 * @module
 */
import {
  type Address,
  addressToString,
  checkFd,
  closeFd,
  decodeAddress,
  describe,
  E,
  encodeAddress,
  errno,
  errnoName,
  familyOf,
  fileKind,
  HOST_LAYOUT,
  ifNameToIndex,
  isNonBlocking,
  type NetAddress,
  OS_FAMILY,
  type OSError,
  osError,
  parseIPv4,
  parseIPv6,
  PLATFORM,
  rewordError,
  setCloseOnExec,
  setNonBlocking,
  SOCK,
  sock,
  SOCKADDR_MAX,
  type SocketFamily,
  type SocketType,
  type UnixAddress,
} from "../ffi/sys.ts";
import { FD_KIND } from "../selectors/selector_key.ts";

export type { Address, NetAddress, SocketFamily, SocketType, UnixAddress };

/**
 * `how` for {@linkcode Socket.shutdown}: stop receiving.
 *
 * @example
 * ```ts ignore
 * sock.shutdown(SHUT_RD);
 * ```
 */
export const SHUT_RD: number = SOCK.SHUT_RD;
/**
 * `how` for {@linkcode Socket.shutdown}: stop sending (the peer sees EOF).
 *
 * @example
 * ```ts ignore
 * sock.shutdown(SHUT_WR);
 * ```
 */
export const SHUT_WR: number = SOCK.SHUT_WR;
/**
 * `how` for {@linkcode Socket.shutdown}: stop both directions.
 *
 * @example
 * ```ts ignore
 * sock.shutdown(SHUT_RDWR);
 * ```
 */
export const SHUT_RDWR: number = SOCK.SHUT_RDWR;
/**
 * Flag for the receive calls: look at the data without consuming it.
 *
 * @example
 * ```ts ignore
 * const peeked = sock.recv(16, MSG_PEEK);
 * ```
 */
export const MSG_PEEK: number = SOCK.MSG_PEEK;
/**
 * Flag for send and receive calls: out-of-band data.
 *
 * @example
 * ```ts ignore
 * sock.send(new Uint8Array([33]), MSG_OOB);
 * ```
 */
export const MSG_OOB: number = SOCK.MSG_OOB;
/**
 * Flag for the receive calls: wait for the whole buffer (blocking sockets only).
 *
 * @example
 * ```ts ignore
 * sock.recvInto(buf, buf.length, MSG_WAITALL);
 * ```
 */
export const MSG_WAITALL: number = SOCK.MSG_WAITALL;

const NOSIGNAL = SOCK.MSG_NOSIGNAL;
const EAGAIN = E.EAGAIN;
const EINTR = E.EINTR;
// SIGPIPE is suppressed per socket where the OS has SO_NOSIGPIPE (macOS), per call elsewhere.
const PER_SOCKET_NOSIGPIPE = SOCK.SO_NOSIGPIPE !== 0;
const CONNECT_WOULDBLOCK_IS_PROGRESS = OS_FAMILY === "windows";
// Winsock fills the buffer with the head of a datagram longer than it, drops the rest (UDP)
// and reports WSAEMSGSIZE; Unix truncates silently. The receive calls truncate on both.
const TRUNCATION_FAILS = OS_FAMILY === "windows";
const EMSGSIZE = E.EMSGSIZE;
// Windows' struct linger is two u_shorts.
const SHORT_LINGER = SOCK.LINGER_SIZE === 4;

// One address and one option buffer serve every synchronous call: JS is single-threaded.
const addrBuf = new Uint8Array(new ArrayBuffer(SOCKADDR_MAX));
const addrLen = new Uint32Array(new ArrayBuffer(4));
const optBuf = new Uint8Array(new ArrayBuffer(32));
const optView = new DataView(optBuf.buffer);
const optLen = new Uint32Array(new ArrayBuffer(4));
const SCRATCH_SIZE = 256 * 1024;
// Byte counts come back as i32 (see ffi/unix/socket.ts): one call moves at most this many.
const MAX_IO = 0x7fffffff;
let scratch: Uint8Array | undefined;

// The caller's own copy of the first `n` bytes: a buffer made for this call and filled whole is
// handed over as it is, rather than copied into a second one.
function own(buf: Uint8Array, n: number): Uint8Array {
  return n === buf.byteLength && buf !== scratch ? buf : buf.slice(0, n);
}

/** Options of {@linkcode Socket}'s constructor. */
export interface SocketOptions {
  /** The address family; `"inet"` (IPv4) by default. */
  family?: SocketFamily;
  /** The socket type; `"stream"` by default. */
  type?: SocketType;
  /** The protocol number; 0 (the family's default) by default. */
  proto?: number;
  /** Adopt this open socket fd instead of making one (family and type are read from it). */
  fd?: number;
}

/** `SO_LINGER`'s value. */
export interface Linger {
  /** Whether `close()` lingers (or, with `linger: 0`, resets the connection). */
  onoff: boolean;
  /** Seconds to linger. */
  linger: number;
}

/** The value of `IP_ADD_MEMBERSHIP`/`IP_DROP_MEMBERSHIP` (`struct ip_mreq`). */
export interface MembershipRequest {
  /** The IPv4 multicast group, such as `"224.0.0.251"`. */
  group: string;
  /** The IPv4 address of the local interface; `"0.0.0.0"` (any) by default. */
  interface?: string;
}

/** The value of `IPV6_JOIN_GROUP`/`IPV6_LEAVE_GROUP` (`struct ipv6_mreq`). */
export interface Membership6Request {
  /** The IPv6 multicast group, such as `"ff02::1"`. */
  group: string;
  /** The interface index or name (`"lo"`); 0 (the default interface) by default. */
  interface?: number | string;
}

/** What {@linkcode Socket.getsockopt} returns for each readable option. */
export interface SocketOptionValues {
  /** Allow reuse of local addresses. */
  SO_REUSEADDR: boolean;
  /** Allow several sockets to bind the same port. */
  SO_REUSEPORT: boolean;
  /** Send keepalive probes. */
  SO_KEEPALIVE: boolean;
  /** Allow sending to broadcast addresses. */
  SO_BROADCAST: boolean;
  /** Receive buffer size in bytes (Linux reports twice what was set). */
  SO_RCVBUF: number;
  /** Send buffer size in bytes (Linux reports twice what was set). */
  SO_SNDBUF: number;
  /** The pending error (errno number, 0 for none); reading clears it. */
  SO_ERROR: number;
  /** Linger on close. */
  SO_LINGER: Linger;
  /** Disable Nagle's algorithm. */
  TCP_NODELAY: boolean;
  /** An inet6 socket carries IPv6 only (no IPv4-mapped traffic). */
  IPV6_V6ONLY: boolean;
  /** IPv4 multicast time-to-live, 0 to 255. */
  IP_MULTICAST_TTL: number;
  /** Loop IPv4 multicast back to local sockets. */
  IP_MULTICAST_LOOP: boolean;
  /** IPv6 multicast hop limit, 0 to 255 (-1 sets the default). */
  IPV6_MULTICAST_HOPS: number;
  /** Loop IPv6 multicast back to local sockets. */
  IPV6_MULTICAST_LOOP: boolean;
}

/** What {@linkcode Socket.setsockopt} accepts for each writable option. */
export interface SocketOptionInputs {
  /** Allow reuse of local addresses. */
  SO_REUSEADDR: boolean | 0 | 1;
  /** Allow several sockets to bind the same port. */
  SO_REUSEPORT: boolean | 0 | 1;
  /** Send keepalive probes. */
  SO_KEEPALIVE: boolean | 0 | 1;
  /** Allow sending to broadcast addresses. */
  SO_BROADCAST: boolean | 0 | 1;
  /** Receive buffer size in bytes. */
  SO_RCVBUF: number;
  /** Send buffer size in bytes. */
  SO_SNDBUF: number;
  /** Linger on close; `{ onoff: true, linger: 0 }` makes close() reset the connection. */
  SO_LINGER: { onoff: boolean | 0 | 1; linger: number };
  /** Disable Nagle's algorithm. */
  TCP_NODELAY: boolean | 0 | 1;
  /** IPv6 only (set before bind). */
  IPV6_V6ONLY: boolean | 0 | 1;
  /** IPv4 multicast time-to-live, 0 to 255. */
  IP_MULTICAST_TTL: number;
  /** Loop IPv4 multicast back to local sockets. */
  IP_MULTICAST_LOOP: boolean | 0 | 1;
  /** IPv6 multicast hop limit, -1 (default) to 255. */
  IPV6_MULTICAST_HOPS: number;
  /** Loop IPv6 multicast back to local sockets. */
  IPV6_MULTICAST_LOOP: boolean | 0 | 1;
  /** Join an IPv4 multicast group. */
  IP_ADD_MEMBERSHIP: MembershipRequest;
  /** Leave an IPv4 multicast group. */
  IP_DROP_MEMBERSHIP: MembershipRequest;
  /** Join an IPv6 multicast group. */
  IPV6_JOIN_GROUP: Membership6Request;
  /** Leave an IPv6 multicast group. */
  IPV6_LEAVE_GROUP: Membership6Request;
}

/** The name of an option {@linkcode Socket.getsockopt} can read. */
export type GettableOption = keyof SocketOptionValues;
/** The name of an option {@linkcode Socket.setsockopt} can write. */
export type SettableOption = keyof SocketOptionInputs;

type Kind = "bool" | "int" | "ttl" | "hops" | "linger" | "mreq" | "mreq6" | "error";
interface OptionSpec {
  level: number;
  name: number;
  kind: Kind;
}

const OPTIONS: Record<string, OptionSpec> = {
  SO_REUSEADDR: { level: SOCK.SOL_SOCKET, name: SOCK.SO_REUSEADDR, kind: "bool" },
  SO_REUSEPORT: { level: SOCK.SOL_SOCKET, name: SOCK.SO_REUSEPORT, kind: "bool" },
  SO_KEEPALIVE: { level: SOCK.SOL_SOCKET, name: SOCK.SO_KEEPALIVE, kind: "bool" },
  SO_BROADCAST: { level: SOCK.SOL_SOCKET, name: SOCK.SO_BROADCAST, kind: "bool" },
  SO_RCVBUF: { level: SOCK.SOL_SOCKET, name: SOCK.SO_RCVBUF, kind: "int" },
  SO_SNDBUF: { level: SOCK.SOL_SOCKET, name: SOCK.SO_SNDBUF, kind: "int" },
  SO_ERROR: { level: SOCK.SOL_SOCKET, name: SOCK.SO_ERROR, kind: "error" },
  SO_LINGER: { level: SOCK.SOL_SOCKET, name: SOCK.SO_LINGER, kind: "linger" },
  TCP_NODELAY: { level: SOCK.IPPROTO_TCP, name: SOCK.TCP_NODELAY, kind: "bool" },
  IPV6_V6ONLY: { level: SOCK.IPPROTO_IPV6, name: SOCK.IPV6_V6ONLY, kind: "bool" },
  IP_MULTICAST_TTL: { level: SOCK.IPPROTO_IP, name: SOCK.IP_MULTICAST_TTL, kind: "ttl" },
  IP_MULTICAST_LOOP: { level: SOCK.IPPROTO_IP, name: SOCK.IP_MULTICAST_LOOP, kind: "bool" },
  IPV6_MULTICAST_HOPS: { level: SOCK.IPPROTO_IPV6, name: SOCK.IPV6_MULTICAST_HOPS, kind: "hops" },
  IPV6_MULTICAST_LOOP: { level: SOCK.IPPROTO_IPV6, name: SOCK.IPV6_MULTICAST_LOOP, kind: "bool" },
  IP_ADD_MEMBERSHIP: { level: SOCK.IPPROTO_IP, name: SOCK.IP_ADD_MEMBERSHIP, kind: "mreq" },
  IP_DROP_MEMBERSHIP: { level: SOCK.IPPROTO_IP, name: SOCK.IP_DROP_MEMBERSHIP, kind: "mreq" },
  IPV6_JOIN_GROUP: { level: SOCK.IPPROTO_IPV6, name: SOCK.IPV6_JOIN_GROUP, kind: "mreq6" },
  IPV6_LEAVE_GROUP: { level: SOCK.IPPROTO_IPV6, name: SOCK.IPV6_LEAVE_GROUP, kind: "mreq6" },
};
const KNOWN = Object.keys(OPTIONS).join(", ");

const FAMILIES: Record<SocketFamily, number> = {
  inet: 2,
  inet6: HOST_LAYOUT.afInet6,
  unix: 1,
};
const TYPES: Record<SocketType, number> = {
  stream: SOCK.SOCK_STREAM,
  dgram: SOCK.SOCK_DGRAM,
  seqpacket: SOCK.SOCK_SEQPACKET,
};

function familyName(af: number): SocketFamily | undefined {
  return af === 2 ? "inet" : af === HOST_LAYOUT.afInet6 ? "inet6" : af === 1 ? "unix" : undefined;
}
function typeName(t: number): SocketType | undefined {
  return t === SOCK.SOCK_STREAM
    ? "stream"
    : t === SOCK.SOCK_DGRAM
    ? "dgram"
    : t === SOCK.SOCK_SEQPACKET
    ? "seqpacket"
    : undefined;
}

function checkFlags(flags: number, what: string): void {
  if ((flags | 0) !== flags || flags < 0) {
    throw new TypeError(
      `${what}: flags must be a non-negative 32-bit integer, got ${describe(flags)}`,
    );
  }
}
function checkView(buf: unknown, what: string): asserts buf is Uint8Array {
  if (!ArrayBuffer.isView(buf)) {
    throw new TypeError(`${what}: expected a Uint8Array, got ${describe(buf)}`);
  }
}
function checkSize(n: unknown, max: number, what: string, name: string): number {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`${what}: ${name} must be an integer, got ${describe(n)}`);
  }
  if (n < 0 || n > max) throw new RangeError(`${what}: ${name} must be from 0 to ${max}, got ${n}`);
  return n;
}

function setIntOpt(fd: number, level: number, name: number, value: number, what: string): void {
  optView.setInt32(0, value, true);
  if (sock().setsockopt(fd, level, name, optBuf, 4) < 0) throw osError(errno(), "setsockopt", what);
}

function closedError(what: string): OSError {
  const err = new Deno.errors.BadResource(
    `${what}: the socket is closed`,
  ) as OSError;
  err.code = errnoName(E.EBADF); // "WSAENOTSOCK" on Windows, as a call on a closed SOCKET says
  err.errno = E.EBADF;
  err.syscall = what;
  return err;
}

// Hands accept()'s new fd to the constructor without probing it again.
let adopted: [number, SocketFamily, SocketType] | undefined;

/**
 * A socket: an fd made by `socket(2)`, nonblocking and close-on-exec.
 * `new Socket()` is TCP over IPv4, as in Python.
 *
 * Unix datagram sockets report addresses with `transport: "unix"`;
 * `"unixpacket"` is kept for `SOCK_SEQPACKET`. IPv6 addresses carry their
 * scope id numerically: `"fe80::1%2"`.
 *
 * @example
 * ```ts
 * import { Socket } from "./socket.ts";
 * using server = new Socket();
 * server.setsockopt("SO_REUSEADDR", true);
 * server.bind({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
 * server.listen();
 * const { port } = server.getsockname() as { port: number };
 * console.log(port > 0);
 * ```
 */
export class Socket {
  #fd: number;
  #family: SocketFamily;
  #type: SocketType;
  #target = "";
  // O_NONBLOCK as this object last set or read it: sock_* calls check it on
  // every call, and an fcntl each time was 10 % of a loopback round trip.
  #blocking: boolean | undefined = false;

  /**
   * Makes a socket (or adopts `options.fd`).
   *
   * @example
   * ```ts
   * import { Socket } from "./socket.ts";
   * using udp6 = new Socket({ family: "inet6", type: "dgram" });
   * ```
   */
  constructor(options: SocketOptions = {}) {
    if (adopted !== undefined) {
      [this.#fd, this.#family, this.#type] = adopted;
      adopted = undefined;
      return;
    }
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Socket options must be an object, got ${describe(options)}`);
    }
    const { family, type, proto = 0, fd } = options;
    if (family !== undefined && !Object.hasOwn(FAMILIES, family)) {
      throw new TypeError(
        `Socket family must be "inet", "inet6" or "unix", got ${describe(family)}`,
      );
    }
    if (type !== undefined && !Object.hasOwn(TYPES, type)) {
      throw new TypeError(
        `Socket type must be "stream", "dgram" or "seqpacket", got ${describe(type)}`,
      );
    }
    checkSize(proto, 0x7fffffff, "Socket", "proto");
    if (fd !== undefined) {
      [this.#fd, this.#family, this.#type] = Socket.#probe(fd, family, type);
      this.#blocking = undefined;
      if (PER_SOCKET_NOSIGPIPE) {
        setIntOpt(this.#fd, SOCK.SOL_SOCKET, SOCK.SO_NOSIGPIPE, 1, `fd ${fd}`);
      }
      return;
    }
    this.#family = family ?? "inet";
    this.#type = type ?? "stream";
    const s = sock();
    const fl = SOCK.SOCK_NONBLOCK | SOCK.SOCK_CLOEXEC;
    const newFd = s.socket(FAMILIES[this.#family], TYPES[this.#type] | fl, proto);
    if (newFd < 0) {
      throw osError(errno(), "socket", `${this.#family} ${this.#type}`);
    }
    this.#fd = newFd;
    if (fl === 0) Socket.#setupWithoutFlags(newFd);
  }

  /**
   * Adopts an open socket fd; its family and type are read from the kernel,
   * its blocking mode is left as it is. The `Socket` then owns the fd.
   *
   * @example
   * ```ts ignore
   * const sock = Socket.fromFd(3);
   * ```
   */
  static fromFd(fd: number, options: Omit<SocketOptions, "fd"> = {}): Socket {
    return new Socket({ ...options, fd });
  }

  // Where socket()/accept() take no SOCK_NONBLOCK | SOCK_CLOEXEC (macOS, Windows).
  static #setupWithoutFlags(fd: number): void {
    try {
      setNonBlocking(fd);
      setCloseOnExec(fd);
      if (PER_SOCKET_NOSIGPIPE) setIntOpt(fd, SOCK.SOL_SOCKET, SOCK.SO_NOSIGPIPE, 1, `fd ${fd}`);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  static #probe(
    fd: number,
    family: SocketFamily | undefined,
    type: SocketType | undefined,
  ): [number, SocketFamily, SocketType] {
    checkFd(fd, "Socket fd");
    const kind = fileKind(fd);
    if (kind !== "socket") throw new TypeError(`fd ${fd} is not a socket (it is a ${kind})`);
    const s = sock();
    addrLen[0] = SOCKADDR_MAX;
    addrBuf.fill(0);
    if (s.getsockname(fd, addrBuf, addrLen) < 0) throw osError(errno(), "getsockname", `fd ${fd}`);
    const fam = familyName(familyOf(addrBuf));
    optLen[0] = 4;
    if (s.getsockopt(fd, SOCK.SOL_SOCKET, SOCK.SO_TYPE, optBuf, optLen) < 0) {
      throw osError(errno(), "getsockopt", `fd ${fd}, SO_TYPE`);
    }
    const typ = typeName(optView.getInt32(0, true));
    if (fam === undefined || typ === undefined) {
      throw new Deno.errors.NotSupported(
        `fd ${fd} is a socket of family ${familyOf(addrBuf)}, type ${optView.getInt32(0, true)}; ` +
          `Socket supports inet, inet6 and unix stream, dgram and seqpacket sockets`,
      );
    }
    if ((family !== undefined && family !== fam) || (type !== undefined && type !== typ)) {
      throw new TypeError(
        `fd ${fd} is an ${fam} ${typ} socket, not ${family ?? fam} ${type ?? typ}`,
      );
    }
    return [fd, fam, typ];
  }

  /**
   * The fd, or -1 once closed or detached (as in Python).
   *
   * @example
   * ```ts ignore
   * selector.register(sock.fileno(), EVENT_READ);
   * ```
   */
  fileno(): number {
    return this.#fd;
  }

  /**
   * The address family: `"inet"`, `"inet6"` or `"unix"`.
   *
   * @example
   * ```ts ignore
   * if (sock.family === "unix") console.log("local");
   * ```
   */
  get family(): SocketFamily {
    return this.#family;
  }

  /**
   * The socket type: `"stream"`, `"dgram"` or `"seqpacket"`.
   *
   * @example
   * ```ts ignore
   * if (sock.type === "dgram") sock.sendto(data, addr);
   * ```
   */
  get type(): SocketType {
    return this.#type;
  }

  /**
   * Whether {@linkcode Socket.close} or {@linkcode Socket.detach} was called.
   *
   * @example
   * ```ts ignore
   * sock.close();
   * console.log(sock.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#fd < 0;
  }

  #check(what: string): number {
    const fd = this.#fd;
    if (fd < 0) throw closedError(what);
    return fd;
  }

  /**
   * Binds to `addr`: `{ transport: "tcp" | "udp", hostname, port }` with a
   * numeric hostname, or `{ transport: "unix", path }`.
   *
   * @example
   * ```ts ignore
   * sock.bind({ transport: "tcp", hostname: "0.0.0.0", port: 8080 });
   * ```
   */
  bind(addr: Address): void {
    const fd = this.#check("Socket.bind()");
    const len = encodeAddress(addr, this.#family, this.#type, addrBuf, "Socket.bind()");
    if (sock().bind(fd, addrBuf, len) < 0) {
      throw osError(errno(), "bind", `fd ${fd}, ${addressToString(addr)}`);
    }
  }

  /**
   * Starts accepting connections, with up to `backlog` pending.
   *
   * @example
   * ```ts ignore
   * sock.listen(511);
   * ```
   */
  listen(backlog = 128): void {
    const fd = this.#check("Socket.listen()");
    checkSize(backlog, 0x7fffffff, "Socket.listen()", "backlog");
    if (sock().listen(fd, backlog) < 0) throw osError(errno(), "listen", `fd ${fd}`);
  }

  /**
   * Accepts a connection: the new socket (nonblocking, close-on-exec) and the
   * peer's address. Throws `Deno.errors.WouldBlock` (code `"EAGAIN"`) when
   * none is pending on a nonblocking socket.
   *
   * @example
   * ```ts ignore
   * const [conn, peer] = server.accept();
   * ```
   */
  accept(): [Socket, Address] {
    const fd = this.#check("Socket.accept()");
    const s = sock();
    let conn: number;
    for (;;) {
      addrLen[0] = SOCKADDR_MAX;
      conn = s.accept4 !== null
        ? s.accept4(fd, addrBuf, addrLen, SOCK.SOCK_NONBLOCK | SOCK.SOCK_CLOEXEC)
        : s.accept(fd, addrBuf, addrLen);
      if (conn >= 0) break;
      const e = errno();
      if (e !== EINTR) throw osError(e, "accept", `fd ${fd}`);
    }
    if (s.accept4 === null) Socket.#setupWithoutFlags(conn);
    const addr = decodeAddress(addrBuf, addrLen[0], this.#type) ??
      { transport: this.#type === "seqpacket" ? "unixpacket" : "unix", path: "" };
    adopted = [conn, this.#family, this.#type];
    return [new Socket(), addr];
  }

  /**
   * Starts connecting to `addr` and returns 0, or the errno number the kernel
   * reported (`EINPROGRESS` for a nonblocking connect under way), as Python's
   * `connect_ex`. Bad arguments and a closed socket still throw.
   *
   * @example
   * ```ts ignore
   * const rc = sock.connectEx({ transport: "tcp", hostname: "127.0.0.1", port: 80 });
   * ```
   */
  connectEx(addr: Address): number {
    return this.#connect(addr, "Socket.connectEx()");
  }

  #connect(addr: Address, what: string): number {
    const fd = this.#check(what);
    const len = encodeAddress(addr, this.#family, this.#type, addrBuf, what);
    this.#target = addressToString(addr);
    if (sock().connect(fd, addrBuf, len) === 0) return 0;
    const e = errno();
    // POSIX: an interrupted connect goes on asynchronously, as EINPROGRESS; Winsock
    // reports a connect under way as WSAEWOULDBLOCK (EAGAIN here means no free port on Linux).
    if (e === EINTR || (CONNECT_WOULDBLOCK_IS_PROGRESS && e === EAGAIN)) return E.EINPROGRESS;
    return e;
  }

  /**
   * Connects to `addr`. On a nonblocking socket a connection under way throws
   * `Deno.errors.WouldBlock` with code `"EINPROGRESS"` (`"EAGAIN"` for a
   * full unix listener): wait until the fd is writable, then call
   * {@linkcode Socket.checkConnect}.
   *
   * @example
   * ```ts ignore
   * try {
   *   sock.connect({ transport: "tcp", hostname: "127.0.0.1", port: 80 });
   * } catch (e) {
   *   if (!(e instanceof Deno.errors.WouldBlock)) throw e;
   *   // ...wait for writability, then:
   *   sock.checkConnect();
   * }
   * ```
   */
  connect(addr: Address): void {
    const rc = this.#connect(addr, "Socket.connect()");
    if (rc !== 0) throw osError(rc, "connect", `fd ${this.#fd}, ${this.#target}`);
  }

  /**
   * Throws the error of a finished nonblocking connect (from `SO_ERROR`),
   * such as `Deno.errors.ConnectionRefused`; returns when it succeeded.
   *
   * @example
   * ```ts ignore
   * sock.checkConnect();
   * ```
   */
  checkConnect(): void {
    const fd = this.#check("Socket.checkConnect()");
    const err = this.getsockopt("SO_ERROR");
    if (err !== 0) throw osError(err, "connect", `fd ${fd}${this.#target && ", " + this.#target}`);
  }

  /**
   * Sends `data` (with `MSG_NOSIGNAL` on Linux; `SO_NOSIGPIPE` is set on
   * macOS). Returns the bytes sent, or **-1 when the call would block**.
   *
   * @example
   * ```ts ignore
   * const n = sock.send(new TextEncoder().encode("hello"));
   * if (n < 0) {
   *   // wait for writability
   * }
   * ```
   */
  send(data: Uint8Array, flags = 0): number {
    const fd = this.#fd;
    if (fd < 0) throw closedError("Socket.send()");
    checkView(data, "Socket.send()");
    checkFlags(flags, "Socket.send()");
    const s = sock();
    for (;;) {
      const n = s.send(fd, data, BigInt(Math.min(data.byteLength, MAX_IO)), flags | NOSIGNAL);
      if (n >= 0) return n;
      const e = errno();
      if (e === EAGAIN) return -1;
      if (e !== EINTR) throw osError(e, "send", `fd ${fd}`);
    }
  }

  /**
   * Sends the datagram `data` to `addr`. Returns the bytes sent, or **-1 when
   * the call would block**.
   *
   * @example
   * ```ts ignore
   * udp.sendto(data, { transport: "udp", hostname: "127.0.0.1", port: 5353 });
   * ```
   */
  sendto(data: Uint8Array, addr: Address, flags = 0): number {
    const fd = this.#check("Socket.sendto()");
    checkView(data, "Socket.sendto()");
    checkFlags(flags, "Socket.sendto()");
    const len = encodeAddress(addr, this.#family, this.#type, addrBuf, "Socket.sendto()");
    const s = sock();
    for (;;) {
      const n = s.sendto(
        fd,
        data,
        BigInt(Math.min(data.byteLength, MAX_IO)),
        flags | NOSIGNAL,
        addrBuf,
        len,
      );
      if (n >= 0) return n;
      const e = errno();
      if (e === EAGAIN) return -1;
      if (e !== EINTR) throw osError(e, "sendto", `fd ${fd}, ${addressToString(addr)}`);
    }
  }

  /**
   * Receives into `buf` (at most `nbytes`, all of it by default). Returns the
   * byte count (0 at end of stream), or **-1 when the call would block**. A
   * datagram longer than that is cut to it, on every OS (as `recvfrom`).
   *
   * @example
   * ```ts ignore
   * const buf = new Uint8Array(65536);
   * const n = sock.recvInto(buf);
   * if (n > 0) console.log(buf.subarray(0, n));
   * ```
   */
  recvInto(buf: Uint8Array, nbytes?: number, flags = 0): number {
    const fd = this.#fd;
    if (fd < 0) throw closedError("Socket.recvInto()");
    checkView(buf, "Socket.recvInto()");
    const size = nbytes === undefined
      ? Math.min(buf.byteLength, MAX_IO)
      : Math.min(checkSize(nbytes, buf.byteLength, "Socket.recvInto()", "nbytes"), MAX_IO);
    checkFlags(flags, "Socket.recvInto()");
    const s = sock();
    for (;;) {
      const n = s.recv(fd, buf, BigInt(size), flags);
      if (n >= 0) return n;
      const e = errno();
      if (e === EAGAIN) return -1;
      if (TRUNCATION_FAILS && e === EMSGSIZE) return size; // a datagram cut to the buffer
      if (e !== EINTR) throw osError(e, "recv", `fd ${fd}`);
    }
  }

  /**
   * Receives up to `bufsize` bytes into a new array (empty at end of stream),
   * or returns **`null` when the call would block**.
   *
   * @example
   * ```ts ignore
   * const data = sock.recv(4096);
   * if (data === null) {
   *   // wait for readability
   * }
   * ```
   */
  recv(bufsize: number, flags = 0): Uint8Array | null {
    this.#check("Socket.recv()");
    checkSize(bufsize, 0x7fffffff, "Socket.recv()", "bufsize");
    const buf = bufsize <= SCRATCH_SIZE
      ? (scratch ??= new Uint8Array(new ArrayBuffer(SCRATCH_SIZE)))
      : new Uint8Array(bufsize);
    const n = this.recvInto(buf, bufsize, flags);
    return n < 0 ? null : own(buf, n);
  }

  #recvfrom(
    buf: Uint8Array,
    size: number,
    flags: number,
    what: string,
  ): [number, Address] | null {
    const fd = this.#fd;
    checkFlags(flags, what);
    const s = sock();
    let n: number;
    for (;;) {
      addrLen[0] = SOCKADDR_MAX;
      // Winsock leaves the address untouched for a connected stream socket: no stale family.
      addrBuf[0] = addrBuf[1] = 0;
      n = s.recvfrom(fd, buf, BigInt(size), flags, addrBuf, addrLen);
      if (n >= 0) break;
      const e = errno();
      if (e === EAGAIN) return null;
      if (TRUNCATION_FAILS && e === EMSGSIZE) {
        n = size; // a datagram cut to the buffer, with its sender's address
        break;
      }
      if (e !== EINTR) throw osError(e, "recvfrom", `fd ${fd}`);
    }
    const len = addrLen[0];
    let addr = decodeAddress(addrBuf, len, this.#type);
    if (addr === null) {
      // No sender address: an unnamed unix peer, or a connected stream socket.
      addr = this.#family === "unix"
        ? { transport: this.#type === "seqpacket" ? "unixpacket" : "unix", path: "" }
        : this.getpeername();
    }
    return [n, addr];
  }

  /**
   * Receives a datagram of up to `bufsize` bytes and its sender's address, or
   * returns **`null` when the call would block**. A longer datagram is cut to
   * `bufsize` and the rest is dropped, on every OS (Winsock's WSAEMSGSIZE for
   * it is not an error here).
   *
   * @example
   * ```ts ignore
   * const got = udp.recvfrom(2048);
   * if (got) {
   *   const [data, from] = got;
   * }
   * ```
   */
  recvfrom(bufsize: number, flags = 0): [Uint8Array, Address] | null {
    this.#check("Socket.recvfrom()");
    checkSize(bufsize, 0x7fffffff, "Socket.recvfrom()", "bufsize");
    const buf = bufsize <= SCRATCH_SIZE
      ? (scratch ??= new Uint8Array(new ArrayBuffer(SCRATCH_SIZE)))
      : new Uint8Array(bufsize);
    const got = this.#recvfrom(buf, bufsize, flags, "Socket.recvfrom()");
    return got === null ? null : [own(buf, got[0]), got[1]];
  }

  /**
   * Receives a datagram into `buf` (at most `nbytes`): the byte count and the
   * sender's address, or **`null` when the call would block**.
   *
   * @example
   * ```ts ignore
   * const buf = new Uint8Array(2048);
   * const got = udp.recvfromInto(buf);
   * ```
   */
  recvfromInto(buf: Uint8Array, nbytes?: number, flags = 0): [number, Address] | null {
    this.#check("Socket.recvfromInto()");
    checkView(buf, "Socket.recvfromInto()");
    const size = nbytes === undefined
      ? Math.min(buf.byteLength, MAX_IO)
      : Math.min(checkSize(nbytes, buf.byteLength, "Socket.recvfromInto()", "nbytes"), MAX_IO);
    return this.#recvfrom(buf, size, flags, "Socket.recvfromInto()");
  }

  /**
   * Shuts down reading ({@linkcode SHUT_RD}), writing ({@linkcode SHUT_WR})
   * or both ({@linkcode SHUT_RDWR}).
   *
   * @example
   * ```ts ignore
   * sock.shutdown(SHUT_WR);
   * ```
   */
  shutdown(how: number): void {
    const fd = this.#check("Socket.shutdown()");
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) {
      throw new RangeError(
        `Socket.shutdown(): how must be SHUT_RD, SHUT_WR or SHUT_RDWR, got ${describe(how)}`,
      );
    }
    if (sock().shutdown(fd, how) < 0) throw osError(errno(), "shutdown", `fd ${fd}`);
  }

  /**
   * Closes the socket. Calling it again does nothing.
   *
   * @example
   * ```ts ignore
   * sock.close();
   * ```
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    closeFd(fd);
  }

  /**
   * Gives up ownership of the fd without closing it, and returns it.
   *
   * @example
   * ```ts ignore
   * const fd = sock.detach();
   * ```
   */
  detach(): number {
    const fd = this.#check("Socket.detach()");
    this.#fd = -1;
    return fd;
  }

  /**
   * Closes the socket (for `using`).
   *
   * @example
   * ```ts ignore
   * using sock = new Socket();
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Makes the socket blocking (`true`) or nonblocking (`false`). A blocking
   * socket's calls block the JavaScript thread.
   *
   * @example
   * ```ts ignore
   * sock.setBlocking(false);
   * ```
   */
  setBlocking(flag: boolean): void {
    const fd = this.#check("Socket.setBlocking()");
    if (typeof flag !== "boolean") {
      throw new TypeError(`Socket.setBlocking(): flag must be a boolean, got ${describe(flag)}`);
    }
    setNonBlocking(fd, !flag);
    this.#blocking = flag;
  }

  /**
   * Whether the socket is in blocking mode (read from the fd's flags).
   *
   * @example
   * ```ts ignore
   * console.log(sock.getBlocking()); // false
   * ```
   */
  getBlocking(): boolean {
    const fd = this.#check("Socket.getBlocking()");
    return this.#blocking ??= !isNonBlocking(fd);
  }

  /** Tells selectors that this fd is a socket, sparing them an `fstat` per registration. */
  [FD_KIND](): "socket" {
    return "socket";
  }

  #name(peer: boolean): Address {
    const what = peer ? "getpeername" : "getsockname";
    const fd = this.#check(`Socket.${what}()`);
    const s = sock();
    addrLen[0] = SOCKADDR_MAX;
    addrBuf.fill(0, 0, 4);
    const rc = peer ? s.getpeername(fd, addrBuf, addrLen) : s.getsockname(fd, addrBuf, addrLen);
    if (rc < 0) throw osError(errno(), what, `fd ${fd}`);
    return decodeAddress(addrBuf, addrLen[0], this.#type) ??
      { transport: this.#type === "seqpacket" ? "unixpacket" : "unix", path: "" };
  }

  /**
   * The local address (an unbound unix socket gives `path: ""`).
   *
   * @example
   * ```ts ignore
   * const { hostname, port } = sock.getsockname() as NetAddress;
   * ```
   */
  getsockname(): Address {
    return this.#name(false);
  }

  /**
   * The peer's address; throws `Deno.errors.NotConnected` when there is none.
   *
   * @example
   * ```ts ignore
   * console.log(conn.getpeername());
   * ```
   */
  getpeername(): Address {
    return this.#name(true);
  }

  /**
   * Sets a named option. Boolean options take `true`/`false` (or 1/0).
   *
   * @example
   * ```ts ignore
   * sock.setsockopt("TCP_NODELAY", true);
   * sock.setsockopt("SO_LINGER", { onoff: true, linger: 0 });
   * udp.setsockopt("IP_ADD_MEMBERSHIP", { group: "224.0.0.251" });
   * ```
   */
  setsockopt<K extends SettableOption>(name: K, value: SocketOptionInputs[K]): void {
    const fd = this.#check("Socket.setsockopt()");
    const spec = lookup(name, "Socket.setsockopt()");
    const what = `Socket.setsockopt(${name})`;
    let size = 4;
    optBuf.fill(0);
    switch (spec.kind) {
      case "error":
        throw new TypeError(`${what}: ${name} can only be read`);
      case "bool":
        optView.setInt32(0, toBool(value, what) ? 1 : 0, true);
        break;
      case "int":
        optView.setInt32(0, checkSize(value, 0x7fffffff, what, "value"), true);
        break;
      case "ttl":
        optView.setInt32(0, checkSize(value, 255, what, "value"), true);
        break;
      case "hops": {
        if (value === -1) optView.setInt32(0, -1, true);
        else optView.setInt32(0, checkSize(value, 255, what, "value"), true);
        break;
      }
      case "linger": {
        const v = objectValue(value, what, "{ onoff, linger }");
        const on = toBool(v.onoff, `${what} onoff`) ? 1 : 0;
        if (SHORT_LINGER) {
          optView.setUint16(0, on, true);
          optView.setUint16(2, checkSize(v.linger, 0xffff, what, "linger"), true);
        } else {
          optView.setInt32(0, on, true);
          optView.setInt32(4, checkSize(v.linger, 0x7fffffff, what, "linger"), true);
        }
        size = SOCK.LINGER_SIZE;
        break;
      }
      case "mreq": {
        const v = objectValue(value, what, "{ group, interface? }");
        if (typeof v.group !== "string" || !parseIPv4(v.group, optBuf, 0)) {
          throw new TypeError(`${what}: group must be an IPv4 address, got ${describe(v.group)}`);
        }
        const ifc = v.interface ?? "0.0.0.0";
        if (typeof ifc !== "string" || !parseIPv4(ifc, optBuf, 4)) {
          throw new TypeError(
            `${what}: interface must be the IPv4 address of a local interface, got ${
              describe(ifc)
            }`,
          );
        }
        size = 8;
        break;
      }
      case "mreq6": {
        const v = objectValue(value, what, "{ group, interface? }");
        if (typeof v.group !== "string" || !parseIPv6(v.group, optBuf, 0)) {
          throw new TypeError(`${what}: group must be an IPv6 address, got ${describe(v.group)}`);
        }
        optView.setUint32(16, interfaceIndex(v.interface ?? 0, what), true);
        size = 20;
        break;
      }
    }
    if (sock().setsockopt(fd, spec.level, spec.name, optBuf, size) < 0) {
      throw optionError(errno(), "set", fd, this.#family, this.#type, name, spec, value);
    }
  }

  /**
   * Reads a named option.
   *
   * @example
   * ```ts ignore
   * const err = sock.getsockopt("SO_ERROR"); // errno number, 0 for none
   * const nodelay = sock.getsockopt("TCP_NODELAY"); // boolean
   * ```
   */
  getsockopt<K extends GettableOption>(name: K): SocketOptionValues[K] {
    const fd = this.#check("Socket.getsockopt()");
    const spec = lookup(name, "Socket.getsockopt()");
    if (spec.kind === "mreq" || spec.kind === "mreq6") {
      throw new TypeError(`Socket.getsockopt(): ${name} can only be set`);
    }
    optBuf.fill(0);
    optLen[0] = spec.kind === "linger" ? SOCK.LINGER_SIZE : 4;
    if (sock().getsockopt(fd, spec.level, spec.name, optBuf, optLen) < 0) {
      throw optionError(errno(), "get", fd, this.#family, this.#type, name, spec);
    }
    // Some BSD options answer with one byte (u_char).
    const int = optLen[0] === 1 ? optBuf[0] : optView.getInt32(0, true);
    let out: SocketOptionValues[GettableOption];
    if (spec.kind === "linger") {
      out = SHORT_LINGER
        ? { onoff: optView.getUint16(0, true) !== 0, linger: optView.getUint16(2, true) }
        : { onoff: int !== 0, linger: optView.getInt32(4, true) };
    } else if (spec.kind === "bool") out = int !== 0;
    else out = int;
    return out as SocketOptionValues[K];
  }
}

function lookup(name: unknown, what: string): OptionSpec {
  if (typeof name !== "string" || !Object.hasOwn(OPTIONS, name)) {
    throw new TypeError(`${what}: unknown option ${describe(name)}; known options: ${KNOWN}`);
  }
  const spec = OPTIONS[name];
  // Every option this table names has a nonzero number where the OS has it.
  if (spec.name === 0) {
    throw new Deno.errors.NotSupported(
      `${what}: ${name} does not exist on ${PLATFORM}` +
        (name === "SO_REUSEPORT"
          ? " (SO_REUSEADDR is the nearest; it also lets another " +
            "socket take the port there)"
          : ""),
    );
  }
  return spec;
}

// Linux's answers when an option does not fit the socket: EPROTO (multicast
// membership on TCP), ENOPROTOOPT (TCP_NODELAY on UDP, IPv6 options on an
// inet socket), EOPNOTSUPP (most options on a unix socket).
const NOT_FOR_THIS_SOCKET = new Set([E.EPROTO, E.ENOPROTOOPT, E.EOPNOTSUPP, E.ENOTSUP]);
const MULTICAST_KINDS = new Set<Kind>(["ttl", "hops", "mreq", "mreq6"]);

/** The value as a message shows it: primitives described, option objects by their fields. */
function showValue(kind: Kind, value: unknown): string {
  if (value === null || typeof value !== "object") return describe(value);
  const v = value as Record<string, unknown>;
  const fields = kind === "linger" ? ["onoff", "linger"] : ["group", "interface"];
  return `{ ${
    fields.filter((k) => v[k] !== undefined).map((k) => `${k}: ${describe(v[k])}`).join(", ")
  } }`;
}

/** Why an option does not fit this socket, from its level, family and type. */
function misfit(name: string, spec: OptionSpec, family: SocketFamily, type: SocketType): string {
  if (spec.level === SOCK.IPPROTO_IPV6 && family !== "inet6") {
    return `${name} is an IPv6 option: it needs an inet6 socket`;
  }
  if (spec.level === SOCK.IPPROTO_IP && family === "unix") {
    return `${name} is an IP option: it needs an inet or inet6 socket`;
  }
  if (spec.level === SOCK.IPPROTO_TCP && (family === "unix" || type !== "stream")) {
    return `${name} is a TCP option: it needs an inet or inet6 stream socket`;
  }
  if (MULTICAST_KINDS.has(spec.kind) && type !== "dgram") {
    return `${name} applies to datagram sockets, not ${type} ones`;
  }
  return `${name} does not apply to this kind of socket`;
}

/**
 * The error for a refused setsockopt (`op` "set", with `value`) or
 * getsockopt, naming the option, the value and the socket (decisions.md
 * B3): EINVAL is a `TypeError` (a `RangeError` for a membership group that
 * is not multicast), an option that does not fit this kind of socket is
 * `NotSupported`; every one keeps `code`, `errno` and `syscall`.
 */
function optionError(
  e: number,
  op: "set" | "get",
  fd: number,
  family: SocketFamily,
  type: SocketType,
  name: string,
  spec: OptionSpec,
  value?: unknown,
): Error {
  const err = osError(e, `${op}sockopt`, `fd ${fd}, ${name}`);
  const call = op === "set"
    ? `Socket.setsockopt(${name}, ${showValue(spec.kind, value)})`
    : `Socket.getsockopt(${name})`;
  const at = `${call} on fd ${fd} (${family} ${type} socket)`;
  const why = `(${err.code}, os error ${e})`;
  if (NOT_FOR_THIS_SOCKET.has(e)) {
    return rewordError(
      err,
      `${at}: ${misfit(name, spec, family, type)} ${why}`,
      Deno.errors.NotSupported,
    );
  }
  if (e !== E.EINVAL) return err;
  if (op === "set" && (spec.kind === "mreq" || spec.kind === "mreq6")) {
    const v4 = spec.kind === "mreq";
    // The validation above left the group's bytes at the start of optBuf.
    const multicast = v4 ? (optBuf[0] & 0xf0) === 0xe0 : optBuf[0] === 0xff;
    if (!multicast) {
      return rewordError(
        err,
        `${at}: group ${describe((value as { group?: unknown }).group)} is not an ` +
          `${v4 ? "IPv4" : "IPv6"} multicast address (${v4 ? "224.0.0.0/4" : "ff00::/8"}) ${why}`,
        RangeError,
      );
    }
  }
  // Linux says EINVAL for IP_MULTICAST_TTL on TCP; macOS for options on a reset connection.
  let hint = misfit(name, spec, family, type);
  if (hint.endsWith("this kind of socket")) {
    hint = name === "IPV6_V6ONLY"
      ? "IPV6_V6ONLY can only be changed before bind() or connect()"
      : "the kernel refused the option or its value for this socket in its present state";
  }
  return rewordError(err, `${at}: ${hint} ${why}`, TypeError);
}

function toBool(v: unknown, what: string): boolean {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  throw new TypeError(`${what}: expected a boolean (or 0/1), got ${describe(v)}`);
}

function objectValue(v: unknown, what: string, shape: string): Record<string, unknown> {
  if (v === null || typeof v !== "object") {
    throw new TypeError(`${what}: expected ${shape}, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

function interfaceIndex(v: unknown, what: string): number {
  if (typeof v === "string") {
    const n = /^[0-9]+$/.test(v) ? Number(v) : ifNameToIndex(v);
    if (n === 0 && v !== "0") {
      throw new TypeError(`${what}: no network interface named ${describe(v)}`);
    }
    return checkSize(n, 0xffffffff, what, "interface");
  }
  return checkSize(v, 0xffffffff, what, "interface");
}
