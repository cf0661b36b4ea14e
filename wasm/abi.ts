// The sandbox ABI: the one definition of every number that crosses the boundary between the
// engine (AssemblyScript, wasm/) and the host (TypeScript, src/). Both compilers read this file,
// so it holds only `export const enum` declarations of plain integers.
//
// ## Exported functions of engine.wasm (all take and return 32-bit integers)
//
// Set-up
//   tlsbox_abi_version(): i32                   == ABI_VERSION, else the host refuses the module
//   tls_config_ptr(): usize, tls_config_capacity(): i32
//   tls_configure(len): i32                     reads the policy blob (layout below); ErrorCode (0 = ok);
//                                               once per instance; nothing is received before it
// Records from the client (network → engine)
//   tls_recv_ptr(): usize, tls_recv_window(): i32   where, and how many bytes, the host may write now
//   tls_recv(len): i32                          processes them; returns the Status flags
// Records to the client (engine → network)
//   tls_send_ptr(): usize, tls_send_pending(): i32
//   tls_send_ack(n): i32                        n bytes were written to the socket; returns Status
// Plaintext to the backend (engine → backend)
//   tls_app_out_ptr(): usize, tls_app_out_pending(): i32
//   tls_app_out_ack(n): i32                     returns Status
// Plaintext from the backend (backend → engine)
//   tls_app_in_ptr(): usize, tls_app_in_window(): i32   0 while the send buffer is full (backpressure)
//   tls_app_in(len): i32                        encrypts the len bytes (≤ window) as one record, in place;
//                                               call tls_app_in_ptr right before writing: the pointer is
//                                               valid only until the next other call; returns Status
// Certificate (after Status.WANT_CERT: the engine parsed the ClientHello; the host picks by SNI)
//   tls_cert_ptr(): usize, tls_cert_capacity(): i32
//   tls_set_certificate(len, keyKind): i32      chain as repeated [u24 length][DER], leaf first; KeyKind;
//                                               returns Status. len 0 = no certificate for this name
//                                               (the engine sends unrecognized_name, RFC 6066 §3)
// Private-key operation (after the engine called the import tls_host.key_op_request and the status
// has WANT_KEY_OP)
//   tls_keyop_ptr(): usize, tls_keyop_capacity(): i32
//   tls_keyop_done(len): i32                    the result (signature, or the 48-byte premaster of
//                                               KeyOp.RSA_DECRYPT_PREMASTER) is at tls_keyop_ptr; len 0 =
//                                               the host failed it (the engine sends internal_error);
//                                               returns Status. TLS 1.2 static RSA asks for it while
//                                               reading the client's flight (inside tls_recv), not
//                                               inside tls_set_certificate
// Shutdown and status
//   tls_close(): i32                            the backend closed: queue close_notify
//   tls_status(): i32                           Status flags
//   tls_info(field): i32                        Info
//   tls_sni_ptr(): usize, tls_alpn_ptr(): usize  lengths via Info.SNI_LENGTH / Info.ALPN_LENGTH
//
// ## Imported functions (besides WASI random_get)
//   tls_host.key_op_request(op: KeyOp, scheme: i32, ptr: usize, len: i32): void
//     Synchronous notification only: the host copies [ptr, ptr+len) out (bounds-checked; the
//     sandbox is untrusted), starts the operation asynchronously and returns at once. The engine
//     then reports WANT_KEY_OP until tls_keyop_done.
//     KeyOp.SIGN_TLS13_SERVER_CERT_VERIFY: data = the transcript hash (32 or 48 bytes); the key
//     server builds the signed content (RFC 8446 §4.4.3) itself; scheme = SignatureScheme.
//     KeyOp.SIGN_TLS12_SERVER_KEY_EXCHANGE: data = client_random[32] ‖ server_random[32] ‖
//     ServerECDHParams (u8 3 named_curve ‖ u16 group ‖ u8 n ‖ point[n]); the signed content of
//     RFC 5246 §7.4.3 / RFC 8422 §5.4 is exactly these bytes; scheme = SignatureScheme (TLS 1.2:
//     PKCS#1 v1.5, PSS or ECDSA). The host verifies the signature before tls_keyop_done. One
//     signature per handshake, whichever the version.
//     KeyOp.RSA_DECRYPT_PREMASTER: data = the EncryptedPreMasterSecret (the RSA ciphertext, RFC 5246
//     §7.4.7.1); scheme = 0; the answer at tls_keyop_ptr is always 48 bytes (the premaster, or the
//     key server's implicit-rejection value): any other length fails the handshake.
//
// ## Policy blob (tls_configure), all integers big-endian
//   u8  ABI_VERSION
//   u8  flags                 ConfigFlag bits (0: TLS 1.3 only, client's suite order, EMS required)
//   u8  suite count (1..16), then u16 CipherSuite each, in server preference order; TLS 1.3 and
//       TLS 1.2 suites share the list, each version picks among its own
//   u8  group count, then u16 NamedGroup each, in server preference order
//   u16 ALPN length, then the ALPN protocol_name_list body (u8 length + name, repeated), in
//       server preference order (empty: ALPN not negotiated)
//   u32 max early data to skip (bytes of rejected 0-RTT records skipped, RFC 8446 §4.2.10)
//   u8  max KeyUpdates a peer may send in a row without application data in between
//   u32 records sent under one write key before the engine sends a KeyUpdate and rekeys
//       (1 ..= 2^24; RFC 8446 §5.5 limits AES-GCM to 2^24.5 records per key). TLS 1.2 cannot
//       rekey (renegotiation is refused): an AES-GCM TLS 1.2 connection sends close_notify after
//       2^24 records instead, whatever this value

export const enum Abi {
  VERSION = 1,
}

/** Bits of tls_status(). */
export const enum Status {
  /** The handshake completed; application data may flow. */
  HANDSHAKE_DONE = 1 << 0,
  /** The ClientHello was parsed: the host must call tls_set_certificate (SNI is available). */
  WANT_CERT = 1 << 1,
  /** A private-key operation is in flight: the host must call tls_keyop_done. */
  WANT_KEY_OP = 1 << 2,
  /** Bytes wait in the send buffer. */
  SEND_PENDING = 1 << 3,
  /** Decrypted plaintext waits for the backend. */
  APP_OUT_PENDING = 1 << 4,
  /** The engine accepts plaintext from the backend now. */
  APP_IN_READY = 1 << 5,
  /** The client sent close_notify: no more data will come from it (half-close to the backend). */
  PEER_CLOSED = 1 << 6,
  /** The engine queued close_notify: no more data will be sent to the client. */
  LOCAL_CLOSED = 1 << 7,
  /** A fatal alert was sent or received; after flushing the send buffer the connection ends. */
  FAILED = 1 << 8,
}

/** The kind of private key behind a certificate chain (tls_set_certificate). */
export const enum KeyKind {
  RSA = 1,
  ECDSA_P256 = 2,
  ECDSA_P384 = 3,
}

/** Private-key operations the engine can request. */
export const enum KeyOp {
  SIGN_TLS13_SERVER_CERT_VERIFY = 1,
  /** TLS 1.2 ServerKeyExchange (ECDHE): the key server's op 2 (src/keyserver/protocol.ts). */
  SIGN_TLS12_SERVER_KEY_EXCHANGE = 2,
  /** TLS 1.2 static RSA: the key server's op 3; answers 48 bytes whatever the ciphertext (implicit rejection). */
  RSA_DECRYPT_PREMASTER = 3,
}

/** Bits of the policy blob's flags byte. */
export const enum ConfigFlag {
  /** Choose the cipher suite by the server's order rather than the client's. */
  SERVER_CIPHER_ORDER = 1 << 0,
  /** Negotiate TLS 1.2 with clients that offer nothing newer (RFC 5246). Off: TLS 1.3 only. */
  TLS12 = 1 << 1,
  /** Do not negotiate TLS 1.3 (the bit is inverted so that a blob of flags 0 keeps meaning TLS 1.3). */
  NO_TLS13 = 1 << 2,
  /** TLS 1.2: accept clients without extended_master_secret (RFC 7627 §5.3). Off: handshake_failure. */
  ALLOW_NO_EMS = 1 << 3,
  /** TLS 1.2: allow the static-RSA suites of the list (legacy, no forward secrecy). Off: never chosen. */
  STATIC_RSA = 1 << 4,
}

/** Fields of tls_info(). */
export const enum Info {
  VERSION = 1,
  CIPHER_SUITE = 2,
  GROUP = 3,
  SIGNATURE_SCHEME = 4,
  SNI_LENGTH = 5,
  ALPN_LENGTH = 6,
  /** AlertDescription we sent, or -1. */
  ALERT_SENT = 7,
  /** AlertDescription the peer sent, or -1. */
  ALERT_RECEIVED = 8,
  /** ErrorCode of the first failure, or 0. */
  ERROR = 9,
  /** 1 if a HelloRetryRequest was sent. */
  HELLO_RETRY = 10,
  /** Offered signature schemes of the client that suit each key kind: bit 0 RSA, 1 P-256, 2 P-384. */
  CLIENT_KEY_KINDS = 11,
  /** Pages of linear memory in use (the instance's footprint). */
  MEMORY_PAGES = 12,
  /** TLS 1.2: 1 if the extended master secret (RFC 7627) was negotiated. */
  EXTENDED_MASTER_SECRET = 13,
  /** TLS 1.2: renegotiating ClientHellos refused with a no_renegotiation warning. */
  RENEGOTIATIONS_REFUSED = 14,
}

export const enum ProtocolVersion {
  TLS12 = 0x0303,
  TLS13 = 0x0304,
}

/**
 * TLS 1.3 suites (RFC 8446 §B.4) and the TLS 1.2 suites the engine implements (RFC 5289 GCM,
 * RFC 7905 ChaCha20-Poly1305). This is the source of these numbers (src/config/ciphers.ts has its
 * own Tls12Suite copy, to be replaced by these).
 */
export const enum CipherSuite {
  TLS_AES_128_GCM_SHA256 = 0x1301,
  TLS_AES_256_GCM_SHA384 = 0x1302,
  TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b,
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030,
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8,
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9,
  /** RFC 5288 static RSA key exchange: legacy, only with ConfigFlag.STATIC_RSA. */
  TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009c,
  TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009d,
}

/** Signalling suite values (never negotiated). */
export const enum Scsv {
  /** RFC 5746 §3.3 TLS_EMPTY_RENEGOTIATION_INFO_SCSV. */
  EMPTY_RENEGOTIATION_INFO = 0x00ff,
  /** RFC 7507 §2 TLS_FALLBACK_SCSV. */
  FALLBACK = 0x5600,
}

export const enum NamedGroup {
  SECP256R1 = 0x0017,
  SECP384R1 = 0x0018,
  X25519 = 0x001d,
}

export const enum SignatureScheme {
  /** RFC 8446 §4.2.3 legacy: TLS 1.2 only (RFC 5246 §7.4.1.4.1 (sha256, rsa) etc.). */
  RSA_PKCS1_SHA256 = 0x0401,
  RSA_PKCS1_SHA384 = 0x0501,
  RSA_PKCS1_SHA512 = 0x0601,
  ECDSA_SECP256R1_SHA256 = 0x0403,
  ECDSA_SECP384R1_SHA384 = 0x0503,
  RSA_PSS_RSAE_SHA256 = 0x0804,
  RSA_PSS_RSAE_SHA384 = 0x0805,
  RSA_PSS_RSAE_SHA512 = 0x0806,
}

/** RFC 8446 §6 AlertDescription. */
export const enum Alert {
  CLOSE_NOTIFY = 0,
  UNEXPECTED_MESSAGE = 10,
  BAD_RECORD_MAC = 20,
  RECORD_OVERFLOW = 22,
  HANDSHAKE_FAILURE = 40,
  BAD_CERTIFICATE = 42,
  ILLEGAL_PARAMETER = 47,
  DECODE_ERROR = 50,
  DECRYPT_ERROR = 51,
  PROTOCOL_VERSION = 70,
  INSUFFICIENT_SECURITY = 71,
  INTERNAL_ERROR = 80,
  INAPPROPRIATE_FALLBACK = 86,
  USER_CANCELED = 90,
  MISSING_EXTENSION = 109,
  UNSUPPORTED_EXTENSION = 110,
  UNRECOGNIZED_NAME = 112,
  /** RFC 5246 §7.2.2: always a warning; we send it to a renegotiating ClientHello. */
  NO_RENEGOTIATION = 100,
  NO_APPLICATION_PROTOCOL = 120,
}

/** Why the engine failed (Info.ERROR): a precise kind for logs, beside the alert the peer saw. */
export const enum ErrorCode {
  NONE = 0,
  // Configuration and host misuse
  BAD_CONFIG = 1,
  BAD_CERTIFICATE_INPUT = 2,
  BAD_KEY_OP_RESULT = 3,
  KEY_OP_FAILED = 4,
  CALL_OUT_OF_ORDER = 5,
  /** The send buffer could not take what the engine had to send (the host did not drain it). */
  SEND_BUFFER_FULL = 6,
  /** The host has no certificate for the client's server_name (tls_set_certificate with len 0). */
  NO_CERTIFICATE = 7,
  // Record layer
  RECORD_OVERFLOW = 20,
  BAD_RECORD_TYPE = 21,
  BAD_RECORD_VERSION = 22,
  BAD_RECORD_MAC = 23,
  EMPTY_RECORD = 24,
  UNEXPECTED_CHANGE_CIPHER_SPEC = 25,
  INTERLEAVED_HANDSHAKE = 26,
  // Handshake
  DECODE_ERROR = 40,
  UNEXPECTED_MESSAGE = 41,
  NO_COMMON_VERSION = 42,
  NO_COMMON_CIPHER_SUITE = 43,
  NO_COMMON_GROUP = 44,
  NO_COMMON_SIGNATURE_SCHEME = 45,
  NO_COMMON_ALPN = 46,
  BAD_KEY_SHARE = 47,
  BAD_COMPRESSION = 48,
  DUPLICATE_EXTENSION = 49,
  MISSING_EXTENSION = 50,
  ILLEGAL_PARAMETER = 51,
  BAD_FINISHED = 52,
  HANDSHAKE_MESSAGE_TOO_LARGE = 53,
  TOO_MANY_KEY_UPDATES = 54,
  /** RFC 7507 §3: TLS_FALLBACK_SCSV while the client offered less than our highest version. */
  INAPPROPRIATE_FALLBACK = 55,
  /** TLS 1.2 without extended_master_secret while the policy requires it (RFC 7627 §5.3). */
  NO_EXTENDED_MASTER_SECRET = 56,
  /** TLS 1.2 renegotiation_info not empty on the initial handshake (RFC 5746 §3.6). */
  BAD_RENEGOTIATION_INFO = 57,
  /** A renegotiation attempt after the limit of refusals (RFC 5246 §7.2.2, RFC 5746 §4.4). */
  RENEGOTIATION_REFUSED = 58,
  // Alerts
  PEER_ALERT = 60,
}
