/**
 * The protected hooks a loop kind fills in so that `BaseEventLoop` can write
 * `createConnection`, `createServer`, `Server`, `createDatagramEndpoint` and
 * `connectAcceptedSocket` once (asyncio's `_make_socket_transport`,
 * `_make_datagram_transport`, `_start_serving`, `_stop_serving`).
 *
 * @module
 */
import type { Address, Socket } from "../../net/mod.ts";
import type {
  DatagramTransport,
  Transport,
  TransportExtraInfo,
} from "../../transports/base_transport.ts";
import type { DatagramProtocol } from "../../transports/datagram_protocol.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import type { Future } from "../future.ts";

/** How a server learns of its connections (asyncio's `Server._attach`/`_detach`). */
export interface ServerHooks {
  /** A transport of the server was made. */
  attach(transport: Transport): void;
  /** A transport of the server is gone (after `connectionLost`). */
  detach(transport: Transport): void;
}

/** Options of a loop's `_makeSocketTransport()`. */
export interface SocketTransportOptions {
  /** Resolved (unless cancelled) once `connectionMade()` was called. */
  waiter?: Future<void> | null;
  /** Extra information; `sockname`, `peername` and `socket` are filled in when missing. */
  extra?: Partial<TransportExtraInfo> & Record<string, unknown>;
  /** The server the connection belongs to. */
  server?: ServerHooks | null;
  /** Set `TCP_NODELAY` on TCP sockets (default `true`, as asyncio since 3.7). */
  noDelay?: boolean;
}

/** Options of a loop's `_makeDatagramTransport()`. */
export interface DatagramTransportOptions {
  /** The peer the socket is connected to; `null` for an unconnected endpoint. */
  address?: Address | null;
  /** Resolved (unless cancelled) once `connectionMade()` was called. */
  waiter?: Future<void> | null;
  /** Extra information; `sockname`, `peername` and `socket` are filled in when missing. */
  extra?: Partial<TransportExtraInfo> & Record<string, unknown>;
}

/** What a loop kind's accept machinery reads of a `Server` (asyncio passes the server). */
export interface ServingTarget {
  /** Makes the protocol of each accepted connection. */
  readonly protocolFactory: () => StreamProtocol;
  /** `listen()` backlog, and the most connections accepted per readiness event. */
  readonly backlog: number;
  /** The pause after accept() ran out of fds, in ms. */
  readonly acceptRetryDelay: number;
  /** Set `TCP_NODELAY` on accepted TCP connections. */
  readonly noDelay: boolean;
  /** Passed to each accepted connection's transport. */
  readonly hooks: ServerHooks;
  /** Whether the server still accepts (a retry after EMFILE checks it). */
  isServing(): boolean;
}

/** How a `Server` asks its loop to start and stop accepting on a listening socket. */
export interface ServingHooks {
  /** Starts accepting connections on the listening `sock` for `target`. */
  startServing(target: ServingTarget, sock: Socket): void;
  /** Stops accepting on `sock` (before it is closed). */
  stopServing(sock: Socket): void;
}

/** The loop's transport factories, handed to the shared connection code. */
export interface LoopHooks extends ServingHooks {
  /** Wraps a connected stream socket (asyncio's `_make_socket_transport`). */
  makeSocketTransport(
    sock: Socket,
    protocol: StreamProtocol,
    options: SocketTransportOptions,
  ): Transport;
  /** Wraps a datagram socket (asyncio's `_make_datagram_transport`). */
  makeDatagramTransport(
    sock: Socket,
    protocol: DatagramProtocol,
    options: DatagramTransportOptions,
  ): DatagramTransport;
}
