/**
 * The shape of the per-OS tables of `./_abi_linux.ts` and `./_abi_darwin.ts`:
 * the numbers that differ between Linux and macOS.
 *
 * @module
 */

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
  /** The size of `struct linger`: 8 (two ints) on Unix, 4 (two u_shorts) on Windows. */
  LINGER_SIZE: number;
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

/** The numbers of one Unix ABI (Linux glibc, or macOS libSystem) that `ffi/unix/` needs. */
export interface UnixAbi {
  /** errno numbers by name (`EAGAIN`, `EBADF`, ...). */
  errno: Readonly<Record<string, number>>;
  /** The second names in `errno` (`EWOULDBLOCK`), each with the name an error carries (`EAGAIN`). */
  errnoAliases: Readonly<Record<string, string>>;
  /** The socket constants. */
  socket: Readonly<SocketConstants>;
  /** `open(2)`/`fcntl(2)` flags that differ. */
  O_NONBLOCK: number;
  O_NOCTTY: number;
  O_CLOEXEC: number;
  /** `fcntl(2)` command. */
  F_DUPFD_CLOEXEC: number;
  /** `getrlimit(2)` resource. */
  RLIMIT_NOFILE: number;
  /** `posix_spawnattr_setflags` flag. */
  POSIX_SPAWN_SETSID: number;
  /** Whether libc has `eventfd(2)` (the waker's channel); its flags are O_CLOEXEC and O_NONBLOCK. */
  HAS_EVENTFD: boolean;
  /** Whether libc has `pipe2(2)`. */
  HAS_PIPE2: boolean;
  /** `struct timeval`'s `tv_usec` is 32 bits (then 4 bytes of padding). */
  TIMEVAL_USEC_32: boolean;
}
