/**
 * `TlsContext`: one `SSL_CTX` (client or server), configured from
 * JavaScript values: minimum version, verification against the system
 * store (`SSL_CTX_set_default_verify_paths`) and/or PEM CA certificates, a
 * certificate chain and key (PEM), ALPN on both sides. Freed when its owner
 * released it and the last connection made from it is freed.
 *
 * @module
 */
import { openssl } from "./_library.ts";
import { LIVE } from "./_live.ts";
import { SSLError, sslFailure } from "./errors.ts";
import {
  type OpenSsl,
  SSL_CTRL_CHAIN_CERT,
  SSL_CTRL_MODE,
  SSL_CTRL_SET_MIN_PROTO_VERSION,
  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
  SSL_OP_NO_COMPRESSION,
  SSL_OP_NO_RENEGOTIATION,
  SSL_TLSEXT_ERR_NOACK,
  SSL_TLSEXT_ERR_OK,
  SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
  SSL_VERIFY_NONE,
  SSL_VERIFY_PEER,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
} from "./_symbols.ts";

/** What a {@linkcode TlsContext} is made from (already checked by the caller). */
export interface TlsContextConfig {
  /** A server context (accepts) instead of a client one. */
  serverSide: boolean;
  /** Verify the peer's certificate (clients; default `true`). */
  verify: boolean;
  /** Trust the system's CA store (default: when verifying and no `caCerts` are given). */
  systemStore: boolean;
  /** PEM CA certificates to trust (each string may hold several). */
  caCerts: readonly string[];
  /** The certificate chain (PEM, leaf first). */
  cert: string | null;
  /** The private key (PEM). */
  key: string | null;
  /** ALPN protocols in order of preference. */
  alpnProtocols: readonly string[];
  /** The lowest TLS version accepted. */
  minVersion: "TLSv1.2" | "TLSv1.3";
  /** The libssl to open (default `libssl.so.3`). */
  libraryPath?: string;
  /** Servers: ask clients for a certificate (verified against the trusted CAs), or demand one. */
  clientCertificate?: "none" | "optional" | "required";
}

const encoder = new TextEncoder();

/** The ALPN wire format: each protocol prefixed by its length. */
export function alpnWire(protocols: readonly string[]): Uint8Array {
  const parts = protocols.map((p) => encoder.encode(p));
  for (const [i, p] of parts.entries()) {
    if (p.length === 0 || p.length > 255) {
      throw new RangeError(
        `alpnProtocols[${i}] must be 1 to 255 bytes long, got ${p.length}`,
      );
    }
  }
  const out = new Uint8Array(new ArrayBuffer(parts.reduce((n, p) => n + 1 + p.length, 0)));
  let at = 0;
  for (const p of parts) {
    out[at++] = p.length;
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Calls `fn` with a read-only memory BIO over the PEM text `pem` (freed after). */
function withPem<T>(lib: OpenSsl, pem: string, fn: (bio: Deno.PointerObject) => T): T {
  const bytes = encoder.encode(pem);
  const stable = new Uint8Array(new ArrayBuffer(Math.max(bytes.length, 1)));
  stable.set(bytes);
  const bio = lib.BIO_new_mem_buf(stable, bytes.length);
  if (bio === null) throw sslFailure(lib, { what: "setup (BIO_new_mem_buf)" });
  try {
    return fn(bio);
  } finally {
    lib.BIO_free(bio);
  }
}

/** Every certificate in `pem` (the caller frees them). */
function readCerts(lib: OpenSsl, pem: string, what: string): Deno.PointerObject[] {
  const certs: Deno.PointerObject[] = [];
  withPem(lib, pem, (bio) => {
    for (;;) {
      const x = lib.PEM_read_bio_X509(bio, null, null, null);
      if (x === null) break;
      certs.push(x);
    }
  });
  lib.ERR_clear_error(); // the end of the text reads as "no start line"
  if (certs.length === 0) {
    throw new SSLError(`${what} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`, {
      reason: "NO_START_LINE",
      library: "PEM",
    });
  }
  return certs;
}

/** A callback we may close (its exact type does not matter here). */
type Closable = { close(): void };

/** What the finalization backstop frees; it must not reference the context. */
interface Held {
  lib: OpenSsl;
  ctx: Deno.PointerObject;
  cb: Closable | null;
}

const registry = new FinalizationRegistry<Held>(
  (held) => {
    held.lib.SSL_CTX_free(held.ctx);
    LIVE.contexts--;
    if (held.cb !== null) {
      held.cb.close();
      LIVE.callbacks--;
    }
  },
);

/**
 * One `SSL_CTX`. Made once per configuration and shared by every
 * connection made from it; `release()` drops the owner's reference, and the
 * `SSL_CTX` is freed once no connection uses it either.
 *
 * @example
 * ```ts ignore
 * import { TlsContext } from "./context.ts";
 * const ctx = new TlsContext({
 *   serverSide: false, verify: true, systemStore: true, caCerts: [], cert: null, key: null,
 *   alpnProtocols: ["h2"], minVersion: "TLSv1.2",
 * });
 * ctx.release();
 * ```
 */
export class TlsContext {
  #lib: OpenSsl;
  #ctx: Deno.PointerObject | null;
  #refs = 1;
  #owned = true;
  #alpnCallback: Closable | null = null;
  #held: Held;
  /** The configuration it was made from. */
  readonly config: Readonly<TlsContextConfig>;

  /** Makes and configures the `SSL_CTX`; throws `NotSupported` where OpenSSL is missing. */
  constructor(config: TlsContextConfig) {
    const lib = this.#lib = openssl(config.libraryPath);
    this.config = config;
    lib.ERR_clear_error();
    const method = config.serverSide ? lib.TLS_server_method() : lib.TLS_client_method();
    const ctx = lib.SSL_CTX_new(method);
    if (ctx === null) throw sslFailure(lib, { what: "setup (SSL_CTX_new)" });
    this.#ctx = ctx;
    LIVE.contexts++;
    this.#held = { lib, ctx, cb: null };
    registry.register(this, this.#held, this);
    try {
      this.#configure(lib, ctx, config);
    } catch (e) {
      this.release();
      throw e;
    }
  }

  #configure(lib: OpenSsl, ctx: Deno.PointerObject, config: TlsContextConfig): void {
    lib.SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    lib.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, BigInt(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), null);
    const version = config.minVersion === "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (lib.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, BigInt(version), null) !== 1n) {
      throw sslFailure(lib, { what: "setup (minimum version)" });
    }
    const clientCerts = config.serverSide ? config.clientCertificate ?? "none" : "none";
    let mode = config.verify && !config.serverSide ? SSL_VERIFY_PEER : SSL_VERIFY_NONE;
    if (clientCerts !== "none") {
      mode = SSL_VERIFY_PEER | (clientCerts === "required" ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    }
    lib.SSL_CTX_set_verify(ctx, mode, null);
    if (config.serverSide) {
      // As CPython: resumed sessions must belong to this kind of server (needed with client certs).
      const id = encoder.encode("@aio/loop");
      lib.SSL_CTX_set_session_id_context(ctx, id, id.byteLength);
    }
    if (config.systemStore && lib.SSL_CTX_set_default_verify_paths(ctx) !== 1) {
      throw sslFailure(lib, { what: "setup (loading the system CA store)" });
    }
    if (config.caCerts.length > 0) {
      const store = lib.SSL_CTX_get_cert_store(ctx);
      for (const [i, pem] of config.caCerts.entries()) {
        const certs = readCerts(lib, pem, `caCerts[${i}]`);
        try {
          for (const x of certs) {
            if (lib.X509_STORE_add_cert(store, x) !== 1) lib.ERR_clear_error(); // a duplicate
          }
        } finally {
          for (const x of certs) lib.X509_free(x);
        }
      }
    }
    if (config.cert !== null) {
      const certs = readCerts(lib, config.cert, "cert");
      try {
        if (lib.SSL_CTX_use_certificate(ctx, certs[0]) !== 1) {
          throw sslFailure(lib, { what: "setup (cert)" });
        }
        for (const x of certs.slice(1)) {
          if (lib.SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 1n, x) !== 1n) {
            throw sslFailure(lib, { what: "setup (cert chain)" });
          }
        }
      } finally {
        for (const x of certs) lib.X509_free(x);
      }
    }
    if (config.key !== null) {
      const key = withPem(
        lib,
        config.key,
        (bio) => lib.PEM_read_bio_PrivateKey(bio, null, null, null),
      );
      if (key === null) {
        lib.ERR_clear_error();
        throw new SSLError('key holds no PEM private key ("-----BEGIN PRIVATE KEY-----")', {
          reason: "NO_START_LINE",
          library: "PEM",
        });
      }
      try {
        if (lib.SSL_CTX_use_PrivateKey(ctx, key) !== 1) {
          const e = sslFailure(lib, { what: "setup (key)" });
          if (e.reason !== "KEY_VALUES_MISMATCH") throw e;
          throw new SSLError(`key does not match the certificate (cert): ${e.message}`, {
            reason: e.reason,
            library: e.library,
            queue: e.queue,
          });
        }
      } finally {
        lib.EVP_PKEY_free(key);
      }
      if (config.cert !== null && lib.SSL_CTX_check_private_key(ctx) !== 1) {
        lib.ERR_clear_error();
        throw new SSLError("key does not match the certificate (cert)", {
          reason: "KEY_VALUES_MISMATCH",
          library: "X509",
        });
      }
    }
    if (config.alpnProtocols.length > 0) {
      const wire = alpnWire(config.alpnProtocols);
      if (config.serverSide) this.#setServerAlpn(lib, ctx, config.alpnProtocols);
      else if (lib.SSL_CTX_set_alpn_protos(ctx, wire, wire.byteLength) !== 0) {
        throw sslFailure(lib, { what: "setup (ALPN)" });
      }
    }
  }

  // The server picks its most preferred protocol that the client offers (CPython's rule).
  #setServerAlpn(lib: OpenSsl, ctx: Deno.PointerObject, protocols: readonly string[]): void {
    // The callback must not capture `this` (the finalization registry holds it).
    const wants = protocols.map((p) => encoder.encode(p));
    const cb = new Deno.UnsafeCallback(
      {
        parameters: ["pointer", "pointer", "pointer", "pointer", "u32", "pointer"],
        result: "i32",
      } as const,
      (_ssl, out, outlen, inp, inlen) => {
        try {
          if (out === null || outlen === null || inp === null || inlen === 0) {
            return SSL_TLSEXT_ERR_NOACK;
          }
          const offered = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(inp, inlen));
          for (const want of wants) {
            for (let i = 0; i < offered.length;) {
              const n = offered[i];
              if (n === want.length && i + 1 + n <= offered.length) {
                let same = true;
                for (let k = 0; k < n; k++) {
                  if (offered[i + 1 + k] !== want[k]) {
                    same = false;
                    break;
                  }
                }
                if (same) {
                  const at = Deno.UnsafePointer.value(inp) as bigint | number;
                  new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(out, 8))[0] =
                    BigInt(at) + BigInt(i + 1);
                  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(outlen, 1))[0] = n;
                  return SSL_TLSEXT_ERR_OK;
                }
              }
              i += 1 + n;
            }
          }
          return SSL_TLSEXT_ERR_NOACK;
        } catch {
          return SSL_TLSEXT_ERR_NOACK;
        }
      },
    );
    this.#alpnCallback = cb;
    this.#held.cb = cb;
    LIVE.callbacks++;
    lib.SSL_CTX_set_alpn_select_cb(ctx, cb.pointer, null);
  }

  /** The OpenSSL symbols this context was made with. @internal */
  get _lib(): OpenSsl {
    return this.#lib;
  }

  /** Takes a reference for a new connection and returns the `SSL_CTX`. @internal */
  _acquire(): Deno.PointerObject {
    if (this.#ctx === null || !this.#owned) {
      throw new Deno.errors.BadResource("the SSL context was closed");
    }
    this.#refs++;
    return this.#ctx;
  }

  /** Drops a connection's reference. @internal */
  _unref(): void {
    if (--this.#refs === 0) this.#free();
  }

  /** Whether the owner still holds it (new connections may be made). */
  get open(): boolean {
    return this.#owned;
  }

  /** Drops the owner's reference (a second call does nothing). */
  release(): void {
    if (!this.#owned) return;
    this.#owned = false;
    this._unref();
  }

  #free(): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    this.#ctx = null;
    registry.unregister(this);
    this.#lib.SSL_CTX_free(ctx);
    LIVE.contexts--;
    if (this.#alpnCallback !== null) {
      this.#alpnCallback.close();
      this.#alpnCallback = null;
      LIVE.callbacks--;
    }
  }
}
