/**
 * The OpenSSL 3 symbols `ffi/openssl/` calls, as one `Deno.dlopen` table.
 * libcrypto's symbols are found through libssl's handle (it depends on
 * libcrypto, and `dlsym` searches a handle's dependencies). Macros of the C
 * API (`SSL_CTX_set_min_proto_version`, `BIO_ctrl_pending`,
 * `SSL_set_tlsext_host_name`, ...) are their `*_ctrl` calls with the
 * constants below.
 *
 * @module
 */

/** The symbol table (kept `as const` so the getter's functions are typed exactly). */
export const SYMBOLS = {
  OpenSSL_version_num: { parameters: [], result: "u64" },
  // ---- errors
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_clear_error: { parameters: [], result: "void" },
  ERR_error_string_n: { parameters: ["u64", "buffer", "usize"], result: "void" },
  ERR_reason_error_string: { parameters: ["u64"], result: "pointer" },
  ERR_lib_error_string: { parameters: ["u64"], result: "pointer" },
  X509_verify_cert_error_string: { parameters: ["i64"], result: "pointer" },
  // ---- contexts
  TLS_client_method: { parameters: [], result: "pointer" },
  TLS_server_method: { parameters: [], result: "pointer" },
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_free: { parameters: ["pointer"], result: "void" },
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_CTX_set_options: { parameters: ["pointer", "u64"], result: "u64" },
  SSL_CTX_set_verify: { parameters: ["pointer", "i32", "pointer"], result: "void" },
  SSL_CTX_set_default_verify_paths: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_get_cert_store: { parameters: ["pointer"], result: "pointer" },
  X509_STORE_add_cert: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_use_certificate: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_use_PrivateKey: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_check_private_key: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_set_session_id_context: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  SSL_CTX_set_alpn_protos: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  SSL_CTX_set_alpn_select_cb: { parameters: ["pointer", "function", "pointer"], result: "void" },
  // ---- PEM, X509, keys
  BIO_new_mem_buf: { parameters: ["buffer", "i32"], result: "pointer" },
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_free: { parameters: ["pointer"], result: "i32" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  BIO_ctrl_pending: { parameters: ["pointer"], result: "usize" },
  PEM_read_bio_X509: {
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "pointer",
  },
  PEM_read_bio_PrivateKey: {
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "pointer",
  },
  X509_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  // ---- connections
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" },
  SSL_set_accept_state: { parameters: ["pointer"], result: "void" },
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "buffer"], result: "i64" },
  // The server's ALPN selection calls back into JavaScript from inside the handshake: no fast call.
  SSL_do_handshake: { parameters: ["pointer"], result: "i32", callback: true },
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_shutdown: { parameters: ["pointer"], result: "i32" },
  SSL_get_shutdown: { parameters: ["pointer"], result: "i32" },
  SSL_pending: { parameters: ["pointer"], result: "i32" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_set1_host: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_get0_param: { parameters: ["pointer"], result: "pointer" },
  X509_VERIFY_PARAM_set1_ip_asc: { parameters: ["pointer", "buffer"], result: "i32" },
  X509_VERIFY_PARAM_set_hostflags: { parameters: ["pointer", "u32"], result: "void" },
  SSL_get_verify_result: { parameters: ["pointer"], result: "i64" },
  SSL_get1_peer_certificate: { parameters: ["pointer"], result: "pointer" },
  SSL_get_current_cipher: { parameters: ["pointer"], result: "pointer" },
  SSL_CIPHER_get_name: { parameters: ["pointer"], result: "pointer" },
  SSL_CIPHER_get_version: { parameters: ["pointer"], result: "pointer" },
  SSL_CIPHER_get_bits: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_get_version: { parameters: ["pointer"], result: "pointer" },
  SSL_get0_alpn_selected: { parameters: ["pointer", "buffer", "buffer"], result: "void" },
  SSL_get_servername: { parameters: ["pointer", "i32"], result: "pointer" },
  // ---- certificate fields
  X509_get_subject_name: { parameters: ["pointer"], result: "pointer" },
  X509_get_issuer_name: { parameters: ["pointer"], result: "pointer" },
  X509_get_version: { parameters: ["pointer"], result: "i64" },
  X509_get0_notBefore: { parameters: ["pointer"], result: "pointer" },
  X509_get0_notAfter: { parameters: ["pointer"], result: "pointer" },
  ASN1_TIME_print: { parameters: ["pointer", "pointer"], result: "i32" },
  X509_NAME_entry_count: { parameters: ["pointer"], result: "i32" },
  X509_NAME_get_entry: { parameters: ["pointer", "i32"], result: "pointer" },
  X509_NAME_ENTRY_set: { parameters: ["pointer"], result: "i32" },
  X509_NAME_ENTRY_get_object: { parameters: ["pointer"], result: "pointer" },
  X509_NAME_ENTRY_get_data: { parameters: ["pointer"], result: "pointer" },
  OBJ_obj2nid: { parameters: ["pointer"], result: "i32" },
  OBJ_nid2ln: { parameters: ["i32"], result: "pointer" },
  ASN1_STRING_to_UTF8: { parameters: ["buffer", "pointer"], result: "i32" },
  ASN1_STRING_get0_data: { parameters: ["pointer"], result: "pointer" },
  ASN1_STRING_length: { parameters: ["pointer"], result: "i32" },
  CRYPTO_free: { parameters: ["pointer", "buffer", "i32"], result: "void" },
  X509_get_ext_d2i: {
    parameters: ["pointer", "i32", "pointer", "pointer"],
    result: "pointer",
  },
  OPENSSL_sk_num: { parameters: ["pointer"], result: "i32" },
  OPENSSL_sk_value: { parameters: ["pointer", "i32"], result: "pointer" },
  GENERAL_NAMES_free: { parameters: ["pointer"], result: "void" },
} as const;

/** The symbol functions of {@linkcode SYMBOLS}. */
export type OpenSsl = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

// ---- constants (OpenSSL 3.0 headers) ---------------------------------------------

/** `SSL_CTRL_MODE`. */
export const SSL_CTRL_MODE = 33;
/** `SSL_CTRL_SET_TLSEXT_HOSTNAME`. */
export const SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
/** `SSL_CTRL_CHAIN_CERT`. */
export const SSL_CTRL_CHAIN_CERT = 89;
/** `SSL_CTRL_SET_MIN_PROTO_VERSION`. */
export const SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
/** `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER`. */
export const SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 2;
/** `SSL_OP_NO_COMPRESSION`. */
export const SSL_OP_NO_COMPRESSION = 1n << 17n;
/** `SSL_OP_NO_RENEGOTIATION`. */
export const SSL_OP_NO_RENEGOTIATION = 1n << 30n;
/** `TLS1_2_VERSION`. */
export const TLS1_2_VERSION = 0x0303;
/** `TLS1_3_VERSION`. */
export const TLS1_3_VERSION = 0x0304;
/** `SSL_VERIFY_NONE`. */
export const SSL_VERIFY_NONE = 0;
/** `SSL_VERIFY_PEER`. */
export const SSL_VERIFY_PEER = 1;
/** `SSL_VERIFY_FAIL_IF_NO_PEER_CERT`. */
export const SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 2;
/** `X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS` (what CPython sets). */
export const X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS = 0x4;
/** `BIO_C_SET_BUF_MEM_EOF_RETURN`. */
export const BIO_C_SET_BUF_MEM_EOF_RETURN = 130;
/** `SSL_ERROR_*`. */
export const SSL_ERROR_NONE = 0;
/** `SSL_ERROR_SSL`. */
export const SSL_ERROR_SSL = 1;
/** `SSL_ERROR_WANT_READ`. */
export const SSL_ERROR_WANT_READ = 2;
/** `SSL_ERROR_WANT_WRITE`. */
export const SSL_ERROR_WANT_WRITE = 3;
/** `SSL_ERROR_SYSCALL`. */
export const SSL_ERROR_SYSCALL = 5;
/** `SSL_ERROR_ZERO_RETURN`. */
export const SSL_ERROR_ZERO_RETURN = 6;
/** `SSL_RECEIVED_SHUTDOWN` bit of `SSL_get_shutdown`. */
export const SSL_RECEIVED_SHUTDOWN = 2;
/** `NID_subject_alt_name`. */
export const NID_SUBJECT_ALT_NAME = 85;
/** `GEN_EMAIL`, `GEN_DNS`, `GEN_URI`, `GEN_IPADD`. */
export const GEN_EMAIL = 1, GEN_DNS = 2, GEN_URI = 6, GEN_IPADD = 7;
/** `X509_V_ERR_HOSTNAME_MISMATCH`, `X509_V_ERR_IP_ADDRESS_MISMATCH`. */
export const X509_V_ERR_HOSTNAME_MISMATCH = 62, X509_V_ERR_IP_ADDRESS_MISMATCH = 64;
/** `SSL_TLSEXT_ERR_OK`, `SSL_TLSEXT_ERR_NOACK`. */
export const SSL_TLSEXT_ERR_OK = 0, SSL_TLSEXT_ERR_NOACK = 3;
