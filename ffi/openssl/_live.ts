/**
 * Counts of the OpenSSL objects alive (contexts, connections, callbacks),
 * so tests can assert that none leaked.
 *
 * @module
 */

/** Live OpenSSL objects made by `ffi/openssl/`. */
export interface LiveOpenSslObjects {
  /** `SSL_CTX` objects not yet freed. */
  contexts: number;
  /** `SSL` objects (each with its two memory BIOs) not yet freed. */
  sessions: number;
  /** ALPN selection callbacks not yet closed. */
  callbacks: number;
}

/** The counters (mutated by the context and session code). */
export const LIVE: LiveOpenSslObjects = { contexts: 0, sessions: 0, callbacks: 0 };

/**
 * A snapshot of the live OpenSSL object counts.
 *
 * @example
 * ```ts
 * import { liveOpenSslObjects } from "./_live.ts";
 * console.log(liveOpenSslObjects().sessions >= 0); // true
 * ```
 */
export function liveOpenSslObjects(): LiveOpenSslObjects {
  return { ...LIVE };
}
