/**
 * `SSLContext`: TLS settings in JavaScript shapes (asyncio's
 * `ssl.SSLContext`, with the options of `Deno.connectTls`), and the
 * OpenSSL context made from them once per side and reused by every
 * connection.
 *
 * @module
 */
import { describe } from "../../ffi/os_error.ts";
import type { SSLContextOptions } from "../connection_options.ts";
import { TlsContext, type TlsContextConfig } from "./_ssl_engine.ts";

export type { SSLContextOptions };

const VERSIONS = new Set(["TLSv1.2", "TLSv1.3"]);

function strings(v: unknown, name: string): readonly string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    throw new TypeError(`SSLContext: ${name} must be an array of strings, got ${describe(v)}`);
  }
  return [...v];
}

function optString(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") {
    throw new TypeError(`SSLContext: ${name} must be a string, got ${describe(v)}`);
  }
  return v;
}

/**
 * TLS settings for clients and servers: trusted CAs (`caCerts`, PEM; the
 * system store when none are given), a certificate chain and key (PEM;
 * servers need them), `verify` (default `true`: the peer's certificate and
 * host name are checked), `alpnProtocols`, `minVersion` (default
 * `"TLSv1.2"`), `serverName` (the SNI name and the name checked, instead of
 * the host connected to) and `libraryPath` (another libssl).
 *
 * The OpenSSL context is made on first use, once per side, and shared by
 * every connection made with this object; `close()` frees it once those
 * connections are gone. Passing plain options as `ssl` instead makes a
 * context per call.
 *
 * @example A client that trusts a private CA and speaks HTTP/1.1
 * ```ts ignore
 * import { SSLContext, openConnection } from "@aio/loop";
 * using ctx = new SSLContext({ caCerts: [await Deno.readTextFile("ca.pem")], alpnProtocols: ["http/1.1"] });
 * const [reader, writer] = await openConnection({ host: "localhost", port: 8443, ssl: ctx });
 * console.log(writer.getExtraInfo("alpnProtocol")); // "http/1.1"
 * ```
 */
export class SSLContext implements SSLContextOptions {
  #client: TlsContext | null = null;
  #server: TlsContext | null = null;
  #closed = false;
  /** Trusted CA certificates (PEM). */
  readonly caCerts: readonly string[] | undefined;
  /** The certificate chain (PEM). */
  readonly cert: string | undefined;
  /** The private key (PEM). */
  readonly key: string | undefined;
  /** Whether the peer's certificate and host name are checked (clients). */
  readonly verify: boolean;
  /** The SNI name sent and checked instead of the host connected to. */
  readonly serverName: string | undefined;
  /** ALPN protocols, most preferred first. */
  readonly alpnProtocols: readonly string[] | undefined;
  /** The lowest TLS version accepted. */
  readonly minVersion: "TLSv1.2" | "TLSv1.3";
  /** The libssl opened (default `libssl.so.3`). */
  readonly libraryPath: string | undefined;
  /** Servers: whether clients are asked for a certificate. */
  readonly clientCertificate: "none" | "optional" | "required";

  /** Checks `options` (no OpenSSL call is made until the first connection). */
  constructor(options: SSLContextOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`SSLContext: options must be an object, got ${describe(options)}`);
    }
    const caCerts = strings(options.caCerts, "caCerts");
    this.caCerts = options.caCerts === undefined ? undefined : caCerts;
    this.cert = optString(options.cert, "cert") ?? undefined;
    this.key = optString(options.key, "key") ?? undefined;
    if ((this.cert === undefined) !== (this.key === undefined)) {
      throw new TypeError("SSLContext: cert and key must be given together");
    }
    if (options.verify !== undefined && typeof options.verify !== "boolean") {
      throw new TypeError(`SSLContext: verify must be a boolean, got ${describe(options.verify)}`);
    }
    this.verify = options.verify ?? true;
    this.serverName = optString(options.serverName, "serverName") ?? undefined;
    const alpn = strings(options.alpnProtocols, "alpnProtocols");
    for (const [i, p] of alpn.entries()) {
      const n = new TextEncoder().encode(p).length;
      if (n === 0 || n > 255) {
        throw new RangeError(`SSLContext: alpnProtocols[${i}] must be 1 to 255 bytes long`);
      }
    }
    this.alpnProtocols = options.alpnProtocols === undefined ? undefined : alpn;
    const min = options.minVersion ?? "TLSv1.2";
    if (!VERSIONS.has(min)) {
      throw new RangeError(
        `SSLContext: minVersion must be "TLSv1.2" or "TLSv1.3", got ${describe(min)}`,
      );
    }
    this.minVersion = min;
    this.libraryPath = optString(options.libraryPath, "libraryPath") ?? undefined;
    const cc = options.clientCertificate ?? "none";
    if (cc !== "none" && cc !== "optional" && cc !== "required") {
      throw new RangeError(
        `SSLContext: clientCertificate must be "none", "optional" or "required", got ${
          describe(cc)
        }`,
      );
    }
    this.clientCertificate = cc;
  }

  /**
   * Whether the context can make connections (`close()` not called).
   *
   * @example
   * ```ts ignore
   * const ctx = new SSLContext();
   * ctx.close();
   * console.log(ctx.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The OpenSSL context of one side, made on first use. Throws
   * `NotSupported` where OpenSSL cannot be loaded.
   *
   * @internal
   */
  _native(serverSide: boolean): TlsContext {
    if (this.#closed) throw new Deno.errors.BadResource("SSLContext: the context was closed");
    const have = serverSide ? this.#server : this.#client;
    if (have !== null) return have;
    if (serverSide && this.cert === undefined) {
      throw new TypeError("SSLContext: a server needs cert and key (PEM)");
    }
    const config: TlsContextConfig = {
      serverSide,
      verify: this.verify,
      systemStore: this.caCerts === undefined &&
        (serverSide ? this.clientCertificate !== "none" : this.verify),
      caCerts: this.caCerts ?? [],
      cert: this.cert ?? null,
      key: this.key ?? null,
      alpnProtocols: this.alpnProtocols ?? [],
      minVersion: this.minVersion,
      libraryPath: this.libraryPath,
      clientCertificate: this.clientCertificate,
    };
    const made = new TlsContext(config);
    if (serverSide) this.#server = made;
    else this.#client = made;
    return made;
  }

  /**
   * Frees the OpenSSL contexts once the connections made with them are
   * gone; new connections are refused. A second call does nothing.
   *
   * @example
   * ```ts ignore
   * const ctx = new SSLContext({ verify: false });
   * // ... connections ...
   * ctx.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client?.release();
    this.#server?.release();
    this.#client = this.#server = null;
  }

  /**
   * `close()`, for `using`.
   *
   * @example
   * ```ts ignore
   * using ctx = new SSLContext({ verify: false });
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A context for one call: the OpenSSL context, and what to do when the call's user is done. */
export interface ResolvedSsl {
  /** The SSLContext (given, or made for this call). */
  context: SSLContext;
  /** The OpenSSL context of the side asked for. */
  native: TlsContext;
  /** Closes the context if it was made for this call (else nothing). */
  release(): void;
}

/**
 * What an `ssl` option means: `undefined`/`null`/`false` none; `true` a
 * default client context; an `SSLContext` itself; plain options a context
 * made for this call (released by the caller). Throws `TypeError` for
 * anything else.
 */
export function resolveSsl(
  ssl: unknown,
  serverSide: boolean,
  what: string,
): ResolvedSsl | null {
  if (ssl === undefined || ssl === null || ssl === false) return null;
  let context: SSLContext;
  let owned = false;
  if (ssl instanceof SSLContext) context = ssl;
  else if (ssl === true) {
    if (serverSide) throw new TypeError(`${what}: ssl: true needs cert and key for a server`);
    context = new SSLContext();
    owned = true;
  } else if (typeof ssl === "object") {
    context = new SSLContext(ssl as SSLContextOptions);
    owned = true;
  } else {
    throw new TypeError(
      `${what}: ssl must be true, an SSLContext or SSLContext options, got ${describe(ssl)}`,
    );
  }
  let native: TlsContext;
  try {
    native = context._native(serverSide);
  } catch (e) {
    if (owned) context.close();
    if (e instanceof TypeError) throw new TypeError(`${what}: ${e.message}`);
    throw e;
  }
  return { context, native, release: owned ? () => context.close() : () => {} };
}
