/**
 * OpenSSL 3 through FFI: the only code of `@aio/loop` that touches
 * OpenSSL's pointers. Contexts ({@linkcode TlsContext}), connections over
 * memory BIOs ({@linkcode TlsSession}), errors read from OpenSSL's queue
 * ({@linkcode SSLError}), peer certificates as JavaScript values, and the
 * counts of live objects for leak checks.
 *
 * @example
 * ```ts
 * import { liveOpenSslObjects } from "./mod.ts";
 * console.log(liveOpenSslObjects().contexts >= 0); // true
 * ```
 * @module
 */
export { DEFAULT_LIBSSL, openssl } from "./_library.ts";
export { type LiveOpenSslObjects, liveOpenSslObjects } from "./_live.ts";
export { alpnWire, TlsContext, type TlsContextConfig } from "./context.ts";
export { type NameAttribute, type PeerCertificate, readCertificate } from "./cert.ts";
export {
  drainErrorQueue,
  type FailureContext,
  SSLCertVerificationError,
  SSLError,
  type SSLErrorOptions,
  sslFailure,
} from "./errors.ts";
export {
  type CipherInfo,
  CLOSED,
  TlsSession,
  type TlsSessionOptions,
  WANT_READ,
} from "./session.ts";
