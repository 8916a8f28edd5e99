/**
 * `TlsSession`: one `SSL` object between two memory BIOs (asyncio's
 * `SSLObject` over `MemoryBIO`s). Ciphertext from the network goes in with
 * `feed()`, ciphertext for the network comes out with `takeOutgoing()`;
 * `handshake()`, `read()`, `write()` and `shutdown()` return a status
 * instead of throwing for "want more data", and throw an `SSLError` naming
 * OpenSSL's reason otherwise. The pointers never leave this file.
 *
 * @module
 */
import { type PeerCertificate, readCertificate } from "./cert.ts";
import type { TlsContext } from "./context.ts";
import { LIVE } from "./_live.ts";
import { sslFailure } from "./errors.ts";
import {
  BIO_C_SET_BUF_MEM_EOF_RETURN,
  type OpenSsl,
  SSL_CTRL_SET_TLSEXT_HOSTNAME,
  SSL_ERROR_SSL,
  SSL_ERROR_SYSCALL,
  SSL_ERROR_WANT_READ,
  SSL_ERROR_WANT_WRITE,
  SSL_ERROR_ZERO_RETURN,
  SSL_RECEIVED_SHUTDOWN,
  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
} from "./_symbols.ts";

/** A status of `handshake()`/`read()`/`write()`/`shutdown()`: more input is needed. */
export const WANT_READ = -1;
/** `read()`: the peer sent close_notify (end of the TLS stream). */
export const CLOSED = 0;

/** Options of {@linkcode TlsSession}'s constructor. */
export interface TlsSessionOptions {
  /** Accept (server) rather than connect (client). */
  serverSide: boolean;
  /** Client: the name sent as SNI (`null`/`""`: none; an IP address is never sent). */
  serverHostname?: string | null;
  /** Client: check that the certificate is valid for `serverHostname`. */
  checkHostname?: boolean;
}

/** `[name, protocol version, secret bits]`, as CPython's `SSLObject.cipher()`. */
export type CipherInfo = [name: string, version: string, bits: number];

const encoder = new TextEncoder();
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIp = (host: string) => IPV4.test(host) || host.includes(":");
const cstr = (s: string) => encoder.encode(s + "\0");
const alpnPtr = new Uint8Array(new ArrayBuffer(8));
const alpnLen = new Uint32Array(new ArrayBuffer(4));

const registry = new FinalizationRegistry<
  { lib: OpenSsl; ssl: Deno.PointerObject; ctx: TlsContext }
>(
  (held) => {
    held.lib.SSL_free(held.ssl);
    LIVE.sessions--;
    held.ctx._unref();
  },
);

/**
 * One TLS connection's OpenSSL state. `free()` releases it (also the
 * context's reference); a garbage-collected session is freed as a backstop.
 *
 * @example
 * ```ts ignore
 * import { TlsSession, WANT_READ } from "./session.ts";
 * const s = new TlsSession(ctx, { serverSide: false, serverHostname: "example.com", checkHostname: true });
 * if (s.handshake() === WANT_READ) send(out.subarray(0, s.takeOutgoing(out)));
 * s.free();
 * ```
 */
export class TlsSession {
  #lib: OpenSsl;
  #ctx: TlsContext;
  #ssl: Deno.PointerObject | null;
  #rbio: Deno.PointerObject;
  #wbio: Deno.PointerObject;
  #host: string | null;
  /** Whether this is the accepting side. */
  readonly serverSide: boolean;

  /** Makes the `SSL` object and its two memory BIOs from `ctx`. */
  constructor(ctx: TlsContext, options: TlsSessionOptions) {
    const lib = this.#lib = ctx._lib;
    const ctxPtr = ctx._acquire();
    this.#ctx = ctx;
    this.serverSide = options.serverSide;
    this.#host = options.serverHostname || null;
    lib.ERR_clear_error();
    const ssl = lib.SSL_new(ctxPtr);
    if (ssl === null) {
      ctx._unref();
      throw sslFailure(lib, { what: "setup (SSL_new)" });
    }
    const rbio = lib.BIO_new(lib.BIO_s_mem());
    const wbio = lib.BIO_new(lib.BIO_s_mem());
    if (rbio === null || wbio === null) {
      if (rbio !== null) lib.BIO_free(rbio);
      if (wbio !== null) lib.BIO_free(wbio);
      lib.SSL_free(ssl);
      ctx._unref();
      throw sslFailure(lib, { what: "setup (BIO_new)" });
    }
    // An empty BIO means "retry later", never end of stream.
    lib.BIO_ctrl(rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, -1n, null);
    lib.BIO_ctrl(wbio, BIO_C_SET_BUF_MEM_EOF_RETURN, -1n, null);
    lib.SSL_set_bio(ssl, rbio, wbio); // the SSL owns both now
    this.#ssl = ssl;
    this.#rbio = rbio;
    this.#wbio = wbio;
    LIVE.sessions++;
    registry.register(this, { lib, ssl, ctx }, this);
    try {
      if (options.serverSide) lib.SSL_set_accept_state(ssl);
      else {
        lib.SSL_set_connect_state(ssl);
        const host = this.#host;
        if (host !== null) {
          if (!isIp(host)) {
            if (lib.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, 0n, cstr(host)) !== 1n) {
              throw sslFailure(lib, { what: "setup (SNI)" });
            }
          }
          if (options.checkHostname) {
            const param = lib.SSL_get0_param(ssl);
            lib.X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            const ok = isIp(host)
              ? lib.X509_VERIFY_PARAM_set1_ip_asc(param, cstr(host.replace(/^\[|\]$/g, "")))
              : lib.SSL_set1_host(ssl, cstr(host));
            if (ok !== 1) throw sslFailure(lib, { what: "setup (host name check)" });
          }
        }
      }
    } catch (e) {
      this.free();
      throw e;
    }
  }

  #live(): Deno.PointerObject {
    const ssl = this.#ssl;
    if (ssl === null) throw new Deno.errors.BadResource("the TLS session was freed");
    return ssl;
  }

  // What a failed call means: WANT_READ, or an error to throw.
  #status(ret: number, what: string): number {
    const ssl = this.#ssl!;
    const lib = this.#lib;
    const err = lib.SSL_get_error(ssl, ret);
    if (err === SSL_ERROR_WANT_READ || err === SSL_ERROR_WANT_WRITE) return WANT_READ;
    if (err === SSL_ERROR_ZERO_RETURN) return CLOSED;
    const verifyCode = err === SSL_ERROR_SSL ? Number(lib.SSL_get_verify_result(ssl)) : 0;
    if (err === SSL_ERROR_SYSCALL) {
      const e = sslFailure(lib, { what, host: this.#host });
      if (e.queue.length === 0) {
        throw new Deno.errors.UnexpectedEof(
          `TLS ${what}: the peer's data ended in the middle of a record`,
        );
      }
      throw e;
    }
    throw sslFailure(lib, { what, verifyCode, host: this.#host });
  }

  /** Appends ciphertext received from the network (all of `data[0:n]`). */
  feed(data: Uint8Array, n: number = data.byteLength): void {
    const ssl = this.#live();
    void ssl;
    let at = 0;
    while (at < n) {
      const w = this.#lib.BIO_write(this.#rbio, at === 0 ? data : data.subarray(at), n - at);
      if (w <= 0) throw sslFailure(this.#lib, { what: "read (BIO_write)" });
      at += w;
    }
  }

  /** Bytes of ciphertext waiting to be sent (the outgoing BIO's size). */
  outgoingPending(): number {
    return this.#ssl === null ? 0 : Number(this.#lib.BIO_ctrl_pending(this.#wbio));
  }

  /** Whether a `read()` may return more: ciphertext in the BIO, or decrypted bytes in the SSL. */
  hasMoreInput(): boolean {
    const ssl = this.#ssl;
    if (ssl === null) return false;
    return this.#lib.BIO_ctrl_pending(this.#rbio) !== 0n || this.#lib.SSL_pending(ssl) > 0;
  }

  /** Decrypted bytes the SSL holds that `read()` has not returned yet (`SSL_pending`). */
  pendingPlaintext(): number {
    return this.#ssl === null ? 0 : this.#lib.SSL_pending(this.#ssl);
  }

  /** Bytes of ciphertext received and not yet decrypted. */
  incomingPending(): number {
    return this.#ssl === null ? 0 : Number(this.#lib.BIO_ctrl_pending(this.#rbio));
  }

  /** Moves up to `out.byteLength` bytes of outgoing ciphertext into `out`; returns the count. */
  takeOutgoing(out: Uint8Array): number {
    if (this.#ssl === null) return 0;
    const n = this.#lib.BIO_read(this.#wbio, out, out.byteLength);
    return n > 0 ? n : 0;
  }

  /** Runs the handshake: `1` done, {@linkcode WANT_READ} for more input; throws on failure. */
  handshake(): number {
    const ssl = this.#live();
    this.#lib.ERR_clear_error();
    const r = this.#lib.SSL_do_handshake(ssl);
    if (r === 1) return 1;
    const s = this.#status(r, "handshake");
    if (s === CLOSED) {
      throw new Deno.errors.ConnectionReset("TLS handshake: the peer closed the TLS session");
    }
    return s;
  }

  /**
   * Decrypts into `buf[offset:offset+length]`: the byte count,
   * {@linkcode CLOSED} after the peer's close_notify, or
   * {@linkcode WANT_READ}; throws on failure.
   */
  read(buf: Uint8Array, offset = 0, length: number = buf.byteLength - offset): number {
    // No ERR_clear_error() here: every failure drains the queue (sslFailure), so it is empty.
    const ssl = this.#live();
    const view = offset === 0 && length === buf.byteLength
      ? buf
      : buf.subarray(offset, offset + length);
    const r = this.#lib.SSL_read(ssl, view, Math.min(length, 0x7fffffff));
    return r > 0 ? r : this.#status(r, "read");
  }

  /** Encrypts `data` (all of it: memory BIOs never block); {@linkcode WANT_READ} during a renegotiation. */
  write(data: Uint8Array): number {
    const ssl = this.#live();
    if (data.byteLength === 0) return 0;
    const r = this.#lib.SSL_write(ssl, data, Math.min(data.byteLength, 0x40000000));
    return r > 0 ? r : this.#status(r, "write");
  }

  /**
   * Sends close_notify (asyncio's `unwrap()`): `1` once both sides sent it,
   * {@linkcode WANT_READ} while the peer's has not come; throws on failure.
   */
  shutdown(): number {
    const ssl = this.#live();
    this.#lib.ERR_clear_error();
    const r = this.#lib.SSL_shutdown(ssl);
    if (r === 1) return 1;
    if (r === 0) return WANT_READ;
    const s = this.#status(r, "shutdown");
    return s === CLOSED ? 1 : s;
  }

  /** Whether the peer's close_notify came. */
  receivedShutdown(): boolean {
    return this.#ssl !== null &&
      (this.#lib.SSL_get_shutdown(this.#ssl) & SSL_RECEIVED_SHUTDOWN) !== 0;
  }

  /** The negotiated version (`"TLSv1.3"`), or `null` before the handshake. */
  version(): string | null {
    if (this.#ssl === null) return null;
    const p = this.#lib.SSL_get_version(this.#ssl);
    return p === null ? null : Deno.UnsafePointerView.getCString(p);
  }

  /** The cipher: `[name, protocol, secret bits]`, or `null` before the handshake. */
  cipher(): CipherInfo | null {
    if (this.#ssl === null) return null;
    const lib = this.#lib;
    const c = lib.SSL_get_current_cipher(this.#ssl);
    if (c === null) return null;
    const name = lib.SSL_CIPHER_get_name(c);
    const version = lib.SSL_CIPHER_get_version(c);
    return [
      name === null ? "" : Deno.UnsafePointerView.getCString(name),
      version === null ? "" : Deno.UnsafePointerView.getCString(version),
      lib.SSL_CIPHER_get_bits(c, null),
    ];
  }

  /** The ALPN protocol both sides agreed on, or `null`. */
  selectedAlpnProtocol(): string | null {
    if (this.#ssl === null) return null;
    this.#lib.SSL_get0_alpn_selected(this.#ssl, alpnPtr, new Uint8Array(alpnLen.buffer));
    const len = alpnLen[0];
    const p = Deno.UnsafePointer.create(new BigUint64Array(alpnPtr.buffer)[0]);
    if (p === null || len === 0) return null;
    return new TextDecoder().decode(
      new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, len)).slice(),
    );
  }

  /**
   * The SNI name: on a client the one it sent, on a server the one the
   * client asked for (`null` when none).
   */
  serverName(): string | null {
    if (this.#ssl === null) return null;
    if (!this.serverSide) return this.#host !== null && !isIp(this.#host) ? this.#host : null;
    const p = this.#lib.SSL_get_servername(this.#ssl, 0);
    return p === null ? null : Deno.UnsafePointerView.getCString(p);
  }

  /** The peer's certificate as JavaScript values, or `null` when it sent none. */
  peerCertificate(): PeerCertificate | null {
    if (this.#ssl === null) return null;
    const lib = this.#lib;
    const x = lib.SSL_get1_peer_certificate(this.#ssl);
    if (x === null) return null;
    try {
      return readCertificate(lib, x);
    } finally {
      lib.X509_free(x);
    }
  }

  /** Whether `free()` ran. */
  get freed(): boolean {
    return this.#ssl === null;
  }

  /** Frees the `SSL` object and its BIOs, and the context's reference (a second call does nothing). */
  free(): void {
    const ssl = this.#ssl;
    if (ssl === null) return;
    this.#ssl = null;
    registry.unregister(this);
    this.#lib.SSL_free(ssl);
    LIVE.sessions--;
    this.#ctx._unref();
  }
}
