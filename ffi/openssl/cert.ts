/**
 * A certificate as JavaScript values, in the shape of CPython's
 * `SSLSocket.getpeercert()`: `subject` and `issuer` as lists of relative
 * distinguished names of `[name, value]` pairs, `notBefore`/`notAfter` as
 * OpenSSL prints them (`"Mar  1 00:00:00 2027 GMT"`), `subjectAltName` as
 * `[kind, value]` pairs (`["DNS", "localhost"]`, `["IP Address", "127.0.0.1"]`).
 *
 * @module
 */
import {
  GEN_DNS,
  GEN_EMAIL,
  GEN_IPADD,
  GEN_URI,
  NID_SUBJECT_ALT_NAME,
  type OpenSsl,
} from "./_symbols.ts";

/** One attribute of a distinguished name: `["commonName", "localhost"]`. */
export type NameAttribute = [name: string, value: string];

/** A peer certificate's fields (CPython's `getpeercert()` dictionary). */
export interface PeerCertificate {
  /** The subject: relative distinguished names, each a list of attributes. */
  subject: NameAttribute[][];
  /** The issuer, in the same shape. */
  issuer: NameAttribute[][];
  /** The X.509 version (3 for v3). */
  version: number;
  /** Start of validity, as OpenSSL prints it (`"Jan  1 00:00:00 2026 GMT"`). */
  notBefore: string;
  /** End of validity, in the same format. */
  notAfter: string;
  /** The subject alternative names: `["DNS", name]`, `["IP Address", ip]`, `["email", ...]`, `["URI", ...]`. */
  subjectAltName: [string, string][];
}

const decoder = new TextDecoder();
const outPtr = new BigUint64Array(new ArrayBuffer(8));
const outBytes = new Uint8Array(outPtr.buffer);
const EMPTY = new Uint8Array(1);

function bytesAt(p: Deno.PointerObject, n: number): Uint8Array {
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, n)).slice();
}

function asn1Utf8(lib: OpenSsl, str: Deno.PointerValue): string {
  if (str === null) return "";
  const n = lib.ASN1_STRING_to_UTF8(outBytes, str);
  if (n < 0) {
    lib.ERR_clear_error();
    return "";
  }
  const p = Deno.UnsafePointer.create(outPtr[0]);
  if (p === null) return "";
  const s = n === 0 ? "" : decoder.decode(bytesAt(p, n));
  lib.CRYPTO_free(p, EMPTY, 0);
  return s;
}

function readName(lib: OpenSsl, name: Deno.PointerValue): NameAttribute[][] {
  if (name === null) return [];
  const out: NameAttribute[][] = [];
  let lastSet = -1;
  const count = lib.X509_NAME_entry_count(name);
  for (let i = 0; i < count; i++) {
    const entry = lib.X509_NAME_get_entry(name, i);
    if (entry === null) continue;
    const nid = lib.OBJ_obj2nid(lib.X509_NAME_ENTRY_get_object(entry));
    const ln = lib.OBJ_nid2ln(nid);
    const key = ln === null ? `OID(${nid})` : Deno.UnsafePointerView.getCString(ln);
    const value = asn1Utf8(lib, lib.X509_NAME_ENTRY_get_data(entry));
    const set = lib.X509_NAME_ENTRY_set(entry);
    if (set !== lastSet || out.length === 0) out.push([]);
    lastSet = set;
    out[out.length - 1].push([key, value]);
  }
  return out;
}

function printTime(lib: OpenSsl, t: Deno.PointerValue): string {
  if (t === null) return "";
  const bio = lib.BIO_new(lib.BIO_s_mem());
  if (bio === null) return "";
  try {
    if (lib.ASN1_TIME_print(bio, t) !== 1) return "";
    const buf = new Uint8Array(64);
    const n = lib.BIO_read(bio, buf, buf.byteLength);
    return n > 0 ? decoder.decode(buf.subarray(0, n)) : "";
  } finally {
    lib.BIO_free(bio);
  }
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return b.join(".");
  if (b.length === 16) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(((b[i] << 8) | b[i + 1]).toString(16).toUpperCase());
    return parts.join(":");
  }
  return "<invalid>";
}

function readAltNames(lib: OpenSsl, x509: Deno.PointerObject): [string, string][] {
  const names = lib.X509_get_ext_d2i(x509, NID_SUBJECT_ALT_NAME, null, null);
  if (names === null) return [];
  const out: [string, string][] = [];
  try {
    const n = lib.OPENSSL_sk_num(names);
    for (let i = 0; i < n; i++) {
      const gen = lib.OPENSSL_sk_value(names, i);
      if (gen === null) continue;
      const view = new Deno.UnsafePointerView(gen);
      const type = view.getInt32(0);
      const str = view.getPointer(8);
      if (str === null) continue;
      const len = lib.ASN1_STRING_length(str);
      const data = lib.ASN1_STRING_get0_data(str);
      const bytes = data === null || len <= 0 ? new Uint8Array(0) : bytesAt(data, len);
      if (type === GEN_DNS) out.push(["DNS", decoder.decode(bytes)]);
      else if (type === GEN_IPADD) out.push(["IP Address", ipText(bytes)]);
      else if (type === GEN_EMAIL) out.push(["email", decoder.decode(bytes)]);
      else if (type === GEN_URI) out.push(["URI", decoder.decode(bytes)]);
    }
  } finally {
    lib.GENERAL_NAMES_free(names);
  }
  return out;
}

/** Reads the fields of the certificate `x509` (which the caller still owns and frees). */
export function readCertificate(lib: OpenSsl, x509: Deno.PointerObject): PeerCertificate {
  return {
    subject: readName(lib, lib.X509_get_subject_name(x509)),
    issuer: readName(lib, lib.X509_get_issuer_name(x509)),
    version: Number(lib.X509_get_version(x509)) + 1,
    notBefore: printTime(lib, lib.X509_get0_notBefore(x509)),
    notAfter: printTime(lib, lib.X509_get0_notAfter(x509)),
    subjectAltName: readAltNames(lib, x509),
  };
}
