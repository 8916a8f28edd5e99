/**
 * Sockets and name resolution: {@linkcode Socket} (a nonblocking BSD socket
 * with Deno-shaped addresses), {@linkcode getaddrinfo} and
 * {@linkcode getnameinfo}, and {@linkcode socketpair}. Linux, macOS and
 * Windows (Winsock: IPv4 and IPv6, no AF_UNIX).
 *
 * @example
 * ```ts
 * import { getaddrinfo, Socket } from "./mod.ts";
 * const [info] = await getaddrinfo("localhost", 0, { family: "inet", type: "stream" });
 * using sock = new Socket();
 * sock.bind(info.address);
 * console.log(sock.getsockname());
 * ```
 *
 * @module
 */
export {
  type Address,
  type GettableOption,
  type Linger,
  type Membership6Request,
  type MembershipRequest,
  MSG_OOB,
  MSG_PEEK,
  MSG_WAITALL,
  type NetAddress,
  type SettableOption,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  Socket,
  type SocketFamily,
  type SocketOptionInputs,
  type SocketOptions,
  type SocketOptionValues,
  type SocketType,
  type UnixAddress,
} from "./socket.ts";
export { socketpair, type SocketPairOptions } from "./socketpair.ts";
export {
  type AddrInfo,
  type AddrInfoError,
  type AddrInfoType,
  AI_ADDRCONFIG,
  AI_ALL,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_PASSIVE,
  AI_V4MAPPED,
  getaddrinfo,
  type GetaddrinfoOptions,
  getnameinfo,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NOFQDN,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
} from "./getaddrinfo.ts";
