/**
 * How the connection and server methods put TLS on a transport: the
 * `ssl`/`serverHostname`/timeout options checked, the `SSLProtocol` made
 * between the transport and the application's protocol, and
 * `startTls()` (asyncio's `loop.start_tls()`).
 *
 * @module
 */
import type { AbstractEventLoop } from "../abstract_event_loop.ts";
import type { SSLTimeoutOptions, StartTlsOptions } from "../connection_options.ts";
import type { Future } from "../future.ts";
import { Transport } from "../../transports/base_transport.ts";
import type { StreamProtocol } from "../../transports/stream_protocol.ts";
import { describe } from "../../ffi/os_error.ts";
import { type ResolvedSsl, resolveSsl } from "./ssl_context.ts";
import {
  checkTimeout,
  SSL_HANDSHAKE_TIMEOUT_MS,
  SSL_SHUTDOWN_TIMEOUT_MS,
  SSLProtocol,
  type SSLProtocolLoop,
  SSLProtocolTransport,
} from "./ssl_protocol.ts";

/** A checked TLS request of one call (client or server side). */
export interface TlsPlan {
  ssl: ResolvedSsl;
  serverSide: boolean;
  serverHostname: string | null;
  handshakeTimeout: number;
  shutdownTimeout: number;
}

/** The options every TLS-capable method reads. */
interface TlsRequest extends SSLTimeoutOptions {
  ssl?: unknown;
  serverHostname?: string;
}

/**
 * Checks the TLS options of `what` and resolves the context (made now, so
 * a missing OpenSSL or a bad PEM fails before any connection is made).
 * `null` without `ssl`; then `serverHostname` and the timeouts are refused,
 * as asyncio refuses them.
 */
export function planTls(
  options: TlsRequest,
  serverSide: boolean,
  host: string | null,
  what: string,
): TlsPlan | null {
  const wanted = options.ssl !== undefined && options.ssl !== null && options.ssl !== false;
  if (!wanted) {
    for (const k of ["serverHostname", "sslHandshakeTimeout", "sslShutdownTimeout"] as const) {
      if (options[k] !== undefined) {
        throw new TypeError(`${what}: ${k} is only meaningful with ssl`);
      }
    }
    return null;
  }
  const handshakeTimeout = checkTimeout(
    options.sslHandshakeTimeout,
    "sslHandshakeTimeout",
    what,
    SSL_HANDSHAKE_TIMEOUT_MS,
  );
  const shutdownTimeout = checkTimeout(
    options.sslShutdownTimeout,
    "sslShutdownTimeout",
    what,
    SSL_SHUTDOWN_TIMEOUT_MS,
  );
  if (options.serverHostname !== undefined && typeof options.serverHostname !== "string") {
    throw new TypeError(
      `${what}: serverHostname must be a string, got ${describe(options.serverHostname)}`,
    );
  }
  if (serverSide && options.serverHostname !== undefined) {
    throw new TypeError(`${what}: serverHostname is only meaningful for a client`);
  }
  const ssl = resolveSsl(options.ssl, serverSide, what);
  if (ssl === null) return null;
  let serverHostname: string | null = null;
  if (!serverSide) {
    const name = options.serverHostname ?? ssl.context.serverName ?? host ?? null;
    if (name === null && ssl.context.verify) {
      ssl.release();
      throw new TypeError(
        `${what}: serverHostname must be given when using ssl without a host ` +
          '(or "" with verify: false)',
      );
    }
    serverHostname = name === "" ? null : name;
    if (serverHostname === null && ssl.context.verify) {
      ssl.release();
      throw new TypeError(`${what}: an empty serverHostname needs verify: false`);
    }
  }
  return { ssl, serverSide, serverHostname, handshakeTimeout, shutdownTimeout };
}

/** The TLS layer over a new connection's transport for `app`, resolving `waiter` after the handshake. */
export function tlsProtocol(
  loop: SSLProtocolLoop,
  app: StreamProtocol,
  plan: TlsPlan,
  waiter: Future<void> | null,
  callConnectionMade = true,
  onFinished?: () => void,
): SSLProtocol {
  return new SSLProtocol(loop, app, plan.ssl.native, {
    waiter,
    serverSide: plan.serverSide,
    serverHostname: plan.serverHostname,
    sslHandshakeTimeout: plan.handshakeTimeout,
    sslShutdownTimeout: plan.shutdownTimeout,
    callConnectionMade,
    onFinished,
  });
}

/** A server's protocol factory, with TLS between each connection and the protocol. */
export function tlsServerFactory(
  loop: SSLProtocolLoop,
  factory: () => StreamProtocol,
  plan: TlsPlan,
): () => StreamProtocol {
  return () => tlsProtocol(loop, factory(), plan, null);
}

/**
 * Upgrades an open connection to TLS (asyncio's `loop.start_tls()`):
 * `protocol` keeps receiving, now the decrypted data, and the returned
 * transport replaces `transport` for writing. Resolves once the handshake
 * completed; on failure `transport` is closed.
 *
 * @example
 * ```ts ignore
 * transport.write(new TextEncoder().encode("STARTTLS\r\n"));
 * // ... the server agreed ...
 * const tls = await startTls(loop, transport, protocol, { caCerts: [ca] }, { serverHostname: "localhost" });
 * tls.write(new TextEncoder().encode("secret"));
 * ```
 */
export async function startTls(
  loop: AbstractEventLoop,
  transport: Transport,
  protocol: StreamProtocol,
  ssl: unknown,
  options: StartTlsOptions = {},
): Promise<Transport> {
  const what = "startTls()";
  if (!(transport instanceof Transport)) {
    throw new TypeError(
      `${what}: transport must be a stream Transport, got ${describe(transport)}`,
    );
  }
  if (transport instanceof SSLProtocolTransport) {
    throw new TypeError(`${what}: the transport already speaks TLS`);
  }
  if (transport.isClosing()) {
    throw new Deno.errors.BadResource(`${what}: the transport is closing`);
  }
  if (protocol === null || typeof protocol !== "object") {
    throw new TypeError(`${what}: protocol must be a protocol object, got ${describe(protocol)}`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${what}: options must be an object, got ${describe(options)}`);
  }
  if (ssl === undefined || ssl === null || ssl === false) {
    throw new TypeError(`${what}: ssl must be true, an SSLContext or SSLContext options`);
  }
  const serverSide = options.serverSide ?? false;
  const { serverSide: _s, ...rest } = options;
  const plan = planTls({ ...rest, ssl }, serverSide, null, what)!;
  const waiter = loop.createFuture<void>();
  let sslProtocol: SSLProtocol;
  try {
    sslProtocol = tlsProtocol(loop, protocol, plan, waiter, false, () => plan.ssl.release());
  } catch (e) {
    plan.ssl.release();
    throw e;
  }
  // Paused first, so no data reaches the TLS layer before its connectionMade().
  transport.pauseReading();
  transport.setProtocol(sslProtocol);
  const made = loop.callSoon(() => sslProtocol.connectionMade(transport));
  const resume = loop.callSoon(() => transport.resumeReading());
  try {
    await waiter;
  } catch (e) {
    made.cancel();
    resume.cancel();
    transport.close();
    throw e;
  }
  return sslProtocol.appTransport;
}
