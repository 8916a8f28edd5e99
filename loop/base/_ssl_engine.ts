/**
 * The one door from `loop/` to `ffi/openssl/` (a seam exception in
 * `tests/layering_test.ts`): the TLS engine the SSL protocol and contexts
 * use.
 *
 * @module
 */
export {
  CLOSED,
  type LiveOpenSslObjects,
  liveOpenSslObjects,
  type NameAttribute,
  type PeerCertificate,
  SSLCertVerificationError,
  SSLError,
  type SSLErrorOptions,
  TlsContext,
  type TlsContextConfig,
  TlsSession,
  WANT_READ,
} from "../../ffi/openssl/mod.ts";
export type { CipherInfo } from "../../ffi/openssl/mod.ts";
