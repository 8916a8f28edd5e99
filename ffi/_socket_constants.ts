/**
 * The shape of the socket numbers of the OS seam (`SOCK` of `./sys.ts`):
 * one interface for the Unix tables (`./unix/_abi_linux.ts`,
 * `./unix/_abi_darwin.ts`) and the Windows one (`./windows/socket.ts`).
 *
 * @module
 */

/**
 * The socket numbers of the seam's contract, in this OS's values (0 where absent).
 *
 * @example
 * ```ts
 * import type { SocketConstants } from "./_socket_constants.ts";
 * const c: Pick<SocketConstants, "AF_INET"> = { AF_INET: 2 };
 * console.log(c.AF_INET); // 2
 * ```
 */
export interface SocketConstants {
  /** `AF_UNSPEC` in this OS's value (0 where it has none). */
  AF_UNSPEC: number;
  /** `AF_UNIX` in this OS's value (0 where it has none). */
  AF_UNIX: number;
  /** `AF_INET` in this OS's value (0 where it has none). */
  AF_INET: number;
  /** `AF_INET6` in this OS's value (0 where it has none). */
  AF_INET6: number;
  /** `SOCK_STREAM` in this OS's value (0 where it has none). */
  SOCK_STREAM: number;
  /** `SOCK_DGRAM` in this OS's value (0 where it has none). */
  SOCK_DGRAM: number;
  /** `SOCK_RAW` in this OS's value (0 where it has none). */
  SOCK_RAW: number;
  /** `SOCK_SEQPACKET` in this OS's value (0 where it has none). */
  SOCK_SEQPACKET: number;
  /** `SOCK_NONBLOCK` in this OS's value (0 where it has none). */
  SOCK_NONBLOCK: number;
  /** `SOCK_CLOEXEC` in this OS's value (0 where it has none). */
  SOCK_CLOEXEC: number;
  /** `SOL_SOCKET` in this OS's value (0 where it has none). */
  SOL_SOCKET: number;
  /** `SO_REUSEADDR` in this OS's value (0 where it has none). */
  SO_REUSEADDR: number;
  /** `SO_TYPE` in this OS's value (0 where it has none). */
  SO_TYPE: number;
  /** `SO_ERROR` in this OS's value (0 where it has none). */
  SO_ERROR: number;
  /** `SO_BROADCAST` in this OS's value (0 where it has none). */
  SO_BROADCAST: number;
  /** `SO_SNDBUF` in this OS's value (0 where it has none). */
  SO_SNDBUF: number;
  /** `SO_RCVBUF` in this OS's value (0 where it has none). */
  SO_RCVBUF: number;
  /** `SO_KEEPALIVE` in this OS's value (0 where it has none). */
  SO_KEEPALIVE: number;
  /** `SO_LINGER` in this OS's value (0 where it has none). */
  SO_LINGER: number;
  /** The size of `struct linger`: two u_shorts (`l_onoff`, `l_linger`) on Windows. */
  LINGER_SIZE: number;
  /** `SO_REUSEPORT` in this OS's value (0 where it has none). */
  SO_REUSEPORT: number;
  /** `SO_NOSIGPIPE` in this OS's value (0 where it has none). */
  SO_NOSIGPIPE: number;
  /** `IPPROTO_IP` in this OS's value (0 where it has none). */
  IPPROTO_IP: number;
  /** `IPPROTO_TCP` in this OS's value (0 where it has none). */
  IPPROTO_TCP: number;
  /** `IPPROTO_UDP` in this OS's value (0 where it has none). */
  IPPROTO_UDP: number;
  /** `IPPROTO_IPV6` in this OS's value (0 where it has none). */
  IPPROTO_IPV6: number;
  /** `TCP_NODELAY` in this OS's value (0 where it has none). */
  TCP_NODELAY: number;
  /** `IP_MULTICAST_TTL` in this OS's value (0 where it has none). */
  IP_MULTICAST_TTL: number;
  /** `IP_MULTICAST_LOOP` in this OS's value (0 where it has none). */
  IP_MULTICAST_LOOP: number;
  /** `IP_ADD_MEMBERSHIP` in this OS's value (0 where it has none). */
  IP_ADD_MEMBERSHIP: number;
  /** `IP_DROP_MEMBERSHIP` in this OS's value (0 where it has none). */
  IP_DROP_MEMBERSHIP: number;
  /** `IPV6_MULTICAST_HOPS` in this OS's value (0 where it has none). */
  IPV6_MULTICAST_HOPS: number;
  /** `IPV6_MULTICAST_LOOP` in this OS's value (0 where it has none). */
  IPV6_MULTICAST_LOOP: number;
  /** `IPV6_JOIN_GROUP` in this OS's value (0 where it has none). */
  IPV6_JOIN_GROUP: number;
  /** `IPV6_LEAVE_GROUP` in this OS's value (0 where it has none). */
  IPV6_LEAVE_GROUP: number;
  /** `IPV6_V6ONLY` in this OS's value (0 where it has none). */
  IPV6_V6ONLY: number;
  /** `MSG_OOB` in this OS's value (0 where it has none). */
  MSG_OOB: number;
  /** `MSG_PEEK` in this OS's value (0 where it has none). */
  MSG_PEEK: number;
  /** `MSG_TRUNC` in this OS's value (0 where it has none). */
  MSG_TRUNC: number;
  /** `MSG_DONTWAIT` in this OS's value (0 where it has none). */
  MSG_DONTWAIT: number;
  /** `MSG_WAITALL` in this OS's value (0 where it has none). */
  MSG_WAITALL: number;
  /** `MSG_NOSIGNAL` in this OS's value (0 where it has none). */
  MSG_NOSIGNAL: number;
  /** `SHUT_RD` in this OS's value (0 where it has none). */
  SHUT_RD: number;
  /** `SHUT_WR` in this OS's value (0 where it has none). */
  SHUT_WR: number;
  /** `SHUT_RDWR` in this OS's value (0 where it has none). */
  SHUT_RDWR: number;
  /** `AI_PASSIVE` in this OS's value (0 where it has none). */
  AI_PASSIVE: number;
  /** `AI_CANONNAME` in this OS's value (0 where it has none). */
  AI_CANONNAME: number;
  /** `AI_NUMERICHOST` in this OS's value (0 where it has none). */
  AI_NUMERICHOST: number;
  /** `AI_V4MAPPED` in this OS's value (0 where it has none). */
  AI_V4MAPPED: number;
  /** `AI_ALL` in this OS's value (0 where it has none). */
  AI_ALL: number;
  /** `AI_ADDRCONFIG` in this OS's value (0 where it has none). */
  AI_ADDRCONFIG: number;
  /** `AI_NUMERICSERV` in this OS's value (0 where it has none). */
  AI_NUMERICSERV: number;
  /** `NI_NUMERICHOST` in this OS's value (0 where it has none). */
  NI_NUMERICHOST: number;
  /** `NI_NUMERICSERV` in this OS's value (0 where it has none). */
  NI_NUMERICSERV: number;
  /** `NI_NOFQDN` in this OS's value (0 where it has none). */
  NI_NOFQDN: number;
  /** `NI_NAMEREQD` in this OS's value (0 where it has none). */
  NI_NAMEREQD: number;
  /** `NI_DGRAM` in this OS's value (0 where it has none). */
  NI_DGRAM: number;
  /** getaddrinfo's error codes by name (on Windows, WSA codes). */
  EAI: Readonly<Record<string, number>>;
  /** Offsets in `ADDRINFOW` (x64). */
  /** `AI_ADDR_OFFSET` in this OS's value (0 where it has none). */
  AI_ADDR_OFFSET: number;
  /** `AI_CANONNAME_OFFSET` in this OS's value (0 where it has none). */
  AI_CANONNAME_OFFSET: number;
  /** `AI_NEXT_OFFSET` in this OS's value (0 where it has none). */
  AI_NEXT_OFFSET: number;
  /** `ADDRINFO_SIZE` in this OS's value (0 where it has none). */
  ADDRINFO_SIZE: number;
}
