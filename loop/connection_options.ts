/**
 * The options of the loop's connection and server methods
 * (`createConnection`, `createServer`, `connectAcceptedSocket`,
 * `createUnixConnection`, `createUnixServer`): asyncio's keyword arguments,
 * in camelCase.
 *
 * @module
 */
import type { Socket } from "../net/mod.ts";
import type { Transport } from "../transports/base_transport.ts";

/**
 * TLS settings in JavaScript shapes (the options of `SSLContext`, also
 * accepted as `ssl` directly): asyncio's `ssl.SSLContext` with the names of
 * `Deno.connectTls`.
 *
 * @example
 * ```ts ignore
 * const ssl: SSLContextOptions = { caCerts: [caPem], alpnProtocols: ["h2", "http/1.1"] };
 * const [transport] = await loop.createConnection(() => new Protocol(), { host: "localhost", port: 8443, ssl });
 * ```
 */
export interface SSLContextOptions {
  /** CA certificates to trust (PEM; each string may hold several). Omitted: the system store. */
  caCerts?: readonly string[];
  /** The certificate chain, leaf first (PEM). A server needs it. */
  cert?: string;
  /** The private key of `cert` (PEM). */
  key?: string;
  /** Check the server's certificate and host name (default `true`; clients only). */
  verify?: boolean;
  /** The name sent as SNI and checked against the certificate, instead of the host. */
  serverName?: string;
  /** ALPN protocols, most preferred first (`["h2", "http/1.1"]`). */
  alpnProtocols?: readonly string[];
  /** The lowest TLS version accepted (default `"TLSv1.2"`). */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** The libssl to load (default `libssl.so.3`; libcrypto is found through it). */
  libraryPath?: string;
  /**
   * Servers: `"optional"` asks each client for a certificate, `"required"` refuses clients
   * without one; a certificate sent is verified against `caCerts` (else the system store).
   * Default `"none"`. A client sends its `cert`/`key` when asked.
   */
  clientCertificate?: "none" | "optional" | "required";
}

/**
 * The `ssl` option: `true` (a default client context: the system store,
 * host name checked), an `SSLContext` (its OpenSSL context is made once and
 * reused) or `SSLContextOptions` (a context made for this call).
 */
export type SSLOption = boolean | SSLContextOptions;

/** The TLS timeouts of the connection and server methods, in ms. */
export interface SSLTimeoutOptions {
  /** How long the TLS handshake may take before the connection is aborted (default 60000 ms). */
  sslHandshakeTimeout?: number;
  /** How long the close_notify exchange may take before the connection is aborted (default 30000 ms). */
  sslShutdownTimeout?: number;
}

/** Options of `loop.startTls(transport, protocol, ssl, options)`. */
export interface StartTlsOptions extends SSLTimeoutOptions {
  /** Accept the TLS session (server) instead of starting it (client). Default `false`. */
  serverSide?: boolean;
  /** The host name for SNI and the certificate check (clients; `""`: none). */
  serverHostname?: string;
}

/** A local address to bind before connecting: Deno-shaped, `transport` optional. */
export interface LocalAddress {
  /** A host name or numeric address to bind to. */
  hostname: string;
  /** The local port (0: any). */
  port: number;
}

/**
 * Options of `createConnection(protocolFactory, options)`: asyncio's
 * `create_connection(protocol_factory, host, port, **kwargs)` with `host`
 * and `port` in the options object.
 */
export interface CreateConnectionOptions extends SSLTimeoutOptions {
  /** The host to connect to (a name or a numeric address). */
  host?: string | null;
  /** The port (a number, a numeric string or a service name). */
  port?: number | string | null;
  /** Only IPv4 (`"inet"`) or IPv6 (`"inet6"`) addresses; both by default. */
  family?: "inet" | "inet6" | "unspec";
  /** getaddrinfo's protocol filter (0: any). */
  proto?: number;
  /** getaddrinfo's `AI_*` flags. */
  flags?: number;
  /** An already connected stream socket to use instead of `host`/`port`. */
  sock?: Socket;
  /** Bind to this local address before connecting. */
  localAddr?: LocalAddress;
  /**
   * Happy Eyeballs (RFC 8305): start the next address's attempt after this
   * many ms while the previous one is still pending (asyncio recommends
   * 250 ms). Omitted: one address at a time.
   */
  happyEyeballsDelay?: number | null;
  /**
   * Reorder the addresses, alternating families, with this many of the
   * first family first (1 by default when `happyEyeballsDelay` is set).
   */
  interleave?: number;
  /** Reject with an `AggregateError` of every attempt's error (asyncio's `all_errors`). */
  allErrors?: boolean;
  /** Set `TCP_NODELAY` (default `true`, as asyncio since 3.7). */
  noDelay?: boolean;
  /** Aborting it cancels the call: it rejects with `CancelledError`, nothing is leaked. */
  signal?: AbortSignal;
  /** TLS over the connection (see {@linkcode SSLOption}). */
  ssl?: SSLOption | null;
  /**
   * The host name for SNI and the certificate check (asyncio's
   * `server_hostname`): `host` by default; needed with `sock`; `""` for none.
   */
  serverHostname?: string;
}

/** Options of `connectAcceptedSocket(protocolFactory, sock, options)`. */
export interface ConnectAcceptedSocketOptions extends SSLTimeoutOptions {
  /** Set `TCP_NODELAY` on a TCP socket (default `true`). */
  noDelay?: boolean;
  /** TLS, server side (the context needs `cert` and `key`). */
  ssl?: SSLOption | null;
}

/** What `createConnection` and friends resolve to: the transport and the protocol. */
export type TransportAndProtocol<P> = [Transport, P];

/**
 * Options of `createServer(protocolFactory, options)`: asyncio's
 * `create_server(protocol_factory, host, port, **kwargs)` with `host` and
 * `port` in the options object.
 */
export interface CreateServerOptions extends SSLTimeoutOptions {
  /**
   * The host(s) to listen on: a name or numeric address, several of them,
   * or `null`/`undefined`/`""` for every interface (IPv4 and IPv6).
   */
  host?: string | readonly string[] | null;
  /** The port (0 or omitted: one the OS picks, per socket). */
  port?: number | string | null;
  /** Only IPv4 (`"inet"`) or IPv6 (`"inet6"`); both by default. */
  family?: "inet" | "inet6" | "unspec";
  /** getaddrinfo's `AI_*` flags (default `AI_PASSIVE`). */
  flags?: number;
  /** A bound stream socket to listen on instead of `host`/`port`. */
  sock?: Socket;
  /** `listen()` backlog, and the most connections accepted per readiness event (default 100). */
  backlog?: number;
  /** `SO_REUSEADDR` (default `true` on Unix, as asyncio). */
  reuseAddress?: boolean;
  /** `SO_REUSEPORT`: several sockets may listen on the port. */
  reusePort?: boolean;
  /** `SO_KEEPALIVE` on the listening sockets (asyncio 3.13's `keep_alive`). */
  keepAlive?: boolean;
  /** Start accepting at once (default `true`); otherwise call `server.startServing()`. */
  startServing?: boolean;
  /** Set `TCP_NODELAY` on accepted connections (default `true`). */
  noDelay?: boolean;
  /** The pause in ms after accept() ran out of fds (default 1000, asyncio's 1 s). */
  acceptRetryDelay?: number;
  /** TLS for every connection, server side (the context needs `cert` and `key`). */
  ssl?: SSLOption | null;
}

/** Options of `createUnixConnection(protocolFactory, path, options)`. */
export interface CreateUnixConnectionOptions extends SSLTimeoutOptions {
  /** A connected unix stream socket to use instead of `path`. */
  sock?: Socket;
  /** Aborting it cancels the connect: `CancelledError`, and the socket is closed. */
  signal?: AbortSignal;
  /** TLS over the connection; `serverHostname` is then needed (`""` for no name). */
  ssl?: SSLOption | null;
  /** The host name for SNI and the certificate check. */
  serverHostname?: string;
}

/** Options of `createUnixServer(protocolFactory, path, options)`. */
export interface CreateUnixServerOptions extends SSLTimeoutOptions {
  /** A bound unix stream socket to listen on instead of `path`. */
  sock?: Socket;
  /** `listen()` backlog and the most accepts per readiness event (default 100). */
  backlog?: number;
  /** Start accepting at once (default `true`). */
  startServing?: boolean;
  /**
   * Remove the socket file when the server closes, if it is still the one
   * the server made (same inode; asyncio 3.13's `cleanup_socket`). Default `true`.
   */
  cleanupSocket?: boolean;
  /** The pause in ms after accept() ran out of fds (default 1000). */
  acceptRetryDelay?: number;
  /** TLS for every connection, server side. */
  ssl?: SSLOption | null;
}
