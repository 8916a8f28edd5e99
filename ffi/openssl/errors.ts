/**
 * TLS errors, read from OpenSSL's error queue at once and named by their
 * reason, as CPython's `ssl.SSLError` names them
 * (`[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate
 * has expired`). They are `Deno.errors.InvalidData`, what Deno's own TLS
 * throws for a bad certificate.
 *
 * @module
 */
import type { OpenSsl } from "./_symbols.ts";

/** Options of {@linkcode SSLError}'s constructor. */
export interface SSLErrorOptions extends ErrorOptions {
  /** The reason code, upper-case (`CERTIFICATE_VERIFY_FAILED`). */
  reason?: string | null;
  /** The library (`SSL`, `X509`, `PEM`, ...). */
  library?: string | null;
  /** Every entry that was in OpenSSL's error queue, oldest first. */
  queue?: readonly string[];
  /** The certificate verification result code (`X509_V_ERR_*`), when verifying failed. */
  verifyCode?: number | null;
  /** Its message (`certificate has expired`). */
  verifyMessage?: string | null;
}

/**
 * A TLS failure (asyncio's `ssl.SSLError`): `reason` names it
 * (`WRONG_VERSION_NUMBER`, `UNSUPPORTED_PROTOCOL`, ...), `library` where it
 * came from, `queue` every entry OpenSSL reported.
 *
 * @example
 * ```ts
 * import { SSLError } from "./errors.ts";
 * const e = new SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number", {
 *   reason: "WRONG_VERSION_NUMBER",
 *   library: "SSL",
 * });
 * console.log(e instanceof Deno.errors.InvalidData, e.reason); // true WRONG_VERSION_NUMBER
 * ```
 */
export class SSLError extends Deno.errors.InvalidData {
  /** The reason code, upper-case, or `null`. */
  readonly reason: string | null;
  /** The library (`SSL`, `X509`, ...), or `null`. */
  readonly library: string | null;
  /** Every entry that was in OpenSSL's error queue. */
  readonly queue: readonly string[];
  /** The verification result code when a certificate was refused, else `null`. */
  readonly verifyCode: number | null;
  /** The verification message when a certificate was refused, else `null`. */
  readonly verifyMessage: string | null;

  /** Makes the error; `options` carries what OpenSSL said. */
  constructor(message: string, options: SSLErrorOptions = {}) {
    super(message, options);
    this.name = "SSLError";
    this.reason = options.reason ?? null;
    this.library = options.library ?? null;
    this.queue = options.queue ?? [];
    this.verifyCode = options.verifyCode ?? null;
    this.verifyMessage = options.verifyMessage ?? null;
  }
}

/**
 * The peer's certificate was refused (asyncio's
 * `ssl.SSLCertVerificationError`): untrusted, expired, or not valid for the
 * host name; `verifyMessage` says which.
 *
 * @example
 * ```ts
 * import { SSLCertVerificationError, SSLError } from "./errors.ts";
 * const e = new SSLCertVerificationError("certificate verify failed", {
 *   verifyCode: 10,
 *   verifyMessage: "certificate has expired",
 * });
 * console.log(e instanceof SSLError, e.verifyMessage); // true certificate has expired
 * ```
 */
export class SSLCertVerificationError extends SSLError {
  /** Makes the error; `options` carries what OpenSSL said. */
  constructor(message: string, options: SSLErrorOptions = {}) {
    super(message, options);
    this.name = "SSLCertVerificationError";
  }
}

// ERR_GET_LIB values and CPython's short names for them.
const LIBS: Record<number, string> = {
  2: "SYS",
  4: "BN",
  6: "EVP",
  9: "PEM",
  11: "X509",
  13: "ASN1",
  20: "SSL",
  32: "BIO",
  34: "X509V3",
};

const text = new Uint8Array(new ArrayBuffer(256));
const decoder = new TextDecoder();

function cString(p: Deno.PointerValue): string | null {
  return p === null ? null : Deno.UnsafePointerView.getCString(p);
}

/** One queue entry: its library, reason code and message. */
interface Entry {
  library: string | null;
  reason: string | null;
  message: string;
}

/** Pops every entry of OpenSSL's error queue (oldest first). */
export function drainErrorQueue(lib: OpenSsl): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < 64; i++) {
    const e = lib.ERR_get_error();
    if (e === 0n) break;
    const reasonText = cString(lib.ERR_reason_error_string(e));
    const system = (e & 0x80000000n) !== 0n;
    const libCode = system ? 2 : Number((e >> 23n) & 0xffn);
    lib.ERR_error_string_n(e, text, BigInt(text.byteLength));
    const end = text.indexOf(0);
    const full = decoder.decode(text.subarray(0, end < 0 ? text.byteLength : end));
    out.push({
      library: LIBS[libCode] ?? cString(lib.ERR_lib_error_string(e)),
      reason: reasonText === null ? null : reasonText.toUpperCase().replace(/[^A-Z0-9]+/g, "_"),
      message: reasonText ?? full,
    });
  }
  return out;
}

/** Extra facts the caller knows about a failure (the verify result, the host). */
export interface FailureContext {
  /** The `SSL_get_verify_result` code (0: none). */
  verifyCode?: number;
  /** The host name checked, for the mismatch message. */
  host?: string | null;
  /** What was being done (`handshake`, `read`, ...). */
  what: string;
}

/**
 * Turns OpenSSL's error queue (drained here) into one clear error; with a
 * verification failure an {@linkcode SSLCertVerificationError} naming the
 * reason (expired, untrusted issuer, host name mismatch).
 */
export function sslFailure(lib: OpenSsl, ctx: FailureContext): SSLError {
  const entries = drainErrorQueue(lib);
  const queue = entries.map((e) => `${e.library ?? "?"}: ${e.message}`);
  const last = entries[entries.length - 1] ?? null;
  const verifyCode = ctx.verifyCode ?? 0;
  if (verifyCode !== 0 || last?.reason === "CERTIFICATE_VERIFY_FAILED") {
    let verifyMessage = cString(lib.X509_verify_cert_error_string(BigInt(verifyCode))) ??
      `verify error ${verifyCode}`;
    if (verifyCode === 62 || verifyCode === 64) {
      verifyMessage = `${verifyMessage}, certificate is not valid for '${ctx.host ?? ""}'`;
    }
    return new SSLCertVerificationError(
      `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ${verifyMessage} ` +
        `(during the TLS ${ctx.what})`,
      { reason: "CERTIFICATE_VERIFY_FAILED", library: "SSL", queue, verifyCode, verifyMessage },
    );
  }
  if (last === null) {
    return new SSLError(`TLS ${ctx.what} failed (OpenSSL reported no reason)`, { queue });
  }
  return new SSLError(
    `[${last.library ?? "SSL"}: ${
      last.reason ?? "UNKNOWN"
    }] ${last.message} (during the TLS ${ctx.what})`,
    { reason: last.reason, library: last.library, queue },
  );
}
