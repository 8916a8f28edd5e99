/**
 * The TLS errors and the JavaScript shapes of TLS facts (peer certificate,
 * cipher), as the public API names them.
 *
 * @module
 */
export {
  type CipherInfo,
  type NameAttribute,
  type PeerCertificate,
  SSLCertVerificationError,
  SSLError,
  type SSLErrorOptions,
} from "./_ssl_engine.ts";
