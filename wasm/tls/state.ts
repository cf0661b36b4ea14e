// The connection's state, in one place. One instance serves one connection (DESIGN.md), so the
// state is module-level: static fields of `S`, and buffers in static memory (`memory.data`):
// nothing is allocated, at instantiation or later, so an instance needs no start-up work and the
// pages a connection never touches cost nothing.
import { HASH_CTX_SIZE } from "../crypto/sha2";
import { GCM_CTX_SIZE } from "../crypto/gcm";

// ---- Sizes -----------------------------------------------------------------------------------

/** RFC 8446 §5.1: TLSPlaintext.length MUST NOT exceed 2^14. */
export const MAX_PLAINTEXT: i32 = 16384;
/** RFC 8446 §5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256. */
export const MAX_CIPHERTEXT: i32 = 16384 + 256;
export const HEADER: i32 = 5;
export const TAG: i32 = 16;
/** Largest handshake message accepted during the handshake (ClientHello in practice). */
export const MAX_HS_MESSAGE: i32 = 16384;
/** After the handshake the client may send only KeyUpdate (1-byte body); nothing larger. */
export const MAX_POST_HS_MESSAGE: i32 = 1;

export const RECV_CAP: i32 = HEADER + MAX_CIPHERTEXT;
/** Holds the whole server flight (chain + CertificateVerify + framing) or a few full records. */
export const SEND_CAP: i32 = 49152;
/** Room kept free in the send buffer for an alert or a KeyUpdate answer. */
export const SEND_RESERVE: i32 = 128;
export const HS_IN_CAP: i32 = 4 + MAX_HS_MESSAGE + MAX_PLAINTEXT;
/** Certificate chains up to 16 KiB (a 3-certificate RSA-4096 chain is about 6 KiB). */
export const CERT_CAP: i32 = 16384;
export const FLIGHT_CAP: i32 = CERT_CAP + 4096;
/** One record's plaintext: the next record is opened once the host took this one. */
export const APP_OUT_CAP: i32 = MAX_PLAINTEXT;
export const KEYOP_CAP: i32 = 1024;
export const CONFIG_CAP: i32 = 2048;
export const MAX_SNI: i32 = 255;
export const MAX_SUITES: i32 = 16;
export const MAX_GROUPS: i32 = 8;
export const MAX_ALPN: i32 = 1024;
/** The most records the policy may allow under one write key (RFC 8446 §5.5: AES-GCM's limit is 2^24.5). */
export const MAX_REKEY_AFTER: u32 = 1 << 24;

// ---- Buffers (static) ------------------------------------------------------------------------

export const recvBuf = memory.data(RECV_CAP, 16);
export const sendBuf = memory.data(SEND_CAP, 16);
export const hsIn = memory.data(HS_IN_CAP, 16);
export const certBuf = memory.data(CERT_CAP, 16);
export const flight = memory.data(FLIGHT_CAP, 16);
export const appOut = memory.data(APP_OUT_CAP, 16);
export const keyopBuf = memory.data(KEYOP_CAP, 16);
export const configBuf = memory.data(CONFIG_CAP, 16);
export const sniBuf = memory.data(MAX_SNI + 1, 16);
export const alpnBuf = memory.data(256, 16);
export const cfgAlpn = memory.data(MAX_ALPN, 16);
export const cfgSuites = memory.data(MAX_SUITES * 2, 16);
export const cfgGroups = memory.data(MAX_GROUPS * 2, 16);
/** One bit per extension type: duplicate detection (RFC 8446 §4.2), cleared after each use. */
export const extSeen = memory.data(8192, 16);

// Crypto state.
export const transcript = memory.data(HASH_CTX_SIZE, 16);
export const hashScratch = memory.data(HASH_CTX_SIZE, 16);
/** Fingerprint of the ClientHello fields that must not change after a HelloRetryRequest (§4.1.2). */
export const chPrint = memory.data(HASH_CTX_SIZE, 16);
export const readGcm = memory.data(GCM_CTX_SIZE, 16);
export const writeGcm = memory.data(GCM_CTX_SIZE, 16);
export const readKey = memory.data(32, 16);
export const writeKey = memory.data(32, 16);
export const readIv = memory.data(12, 16);
export const writeIv = memory.data(12, 16);
export const nonce = memory.data(12, 16);
export const clientSecret = memory.data(64, 16);
export const serverSecret = memory.data(64, 16);
export const hsSecret = memory.data(64, 16);
export const clientAppSecret = memory.data(64, 16);
export const serverAppSecret = memory.data(64, 16);
export const expectedFinished = memory.data(64, 16);
export const thash = memory.data(64, 16);
export const tmp64 = memory.data(64, 16);
export const tmp64b = memory.data(64, 16);
export const chPrint1 = memory.data(64, 16);
export const sessionId = memory.data(32, 16);
export const clientRandom = memory.data(32, 16);
// Sized for the largest group, P-384 (ecdhe.ts): a 97-byte uncompressed point, 48-byte scalar and secret.
// Every buffer that holds a public value or ServerECDHParams is sized from ECDHE_PUBLIC_CAP.
export const ECDHE_PUBLIC_CAP: i32 = 97;
export const ECDHE_PRIV_CAP: i32 = 48;
export const SHARED_SECRET_CAP: i32 = 48;
export const clientShare = memory.data(ECDHE_PUBLIC_CAP, 16);
export const ecdhePriv = memory.data(ECDHE_PRIV_CAP, 16);
export const ecdhePub = memory.data(ECDHE_PUBLIC_CAP, 16);
export const sharedSecret = memory.data(SHARED_SECRET_CAP, 16);
// TLS 1.2 (handshake12.ts, record.ts).
/** The transcript under SHA-384 too: the suite (and so the PRF hash) is chosen after the certificate. */
export const transcript384 = memory.data(HASH_CTX_SIZE, 16);
export const serverRandom = memory.data(32, 16);
export const masterSecret = memory.data(48, 16);
/** client_write_key ‖ server_write_key ‖ client_write_IV ‖ server_write_IV (RFC 5246 §6.3), at most 2·32 + 2·12. */
export const keyBlock = memory.data(96, 16);
/** The AAD of a TLS 1.2 AEAD record (RFC 5246 §6.2.3.3): seq_num ‖ type ‖ version ‖ length. */
export const aad12 = memory.data(16, 16);

// ---- Phases (one per step of the handshake, rustls style) ----------------------------------

export const enum Phase {
  UNCONFIGURED = 0,
  EXPECT_CLIENT_HELLO = 1,
  /** ClientHello parsed; waiting for tls_set_certificate. */
  WAIT_CERT = 2,
  /** CertificateVerify signature requested; waiting for tls_keyop_done. */
  WAIT_KEY_OP = 3,
  /** HelloRetryRequest sent; waiting for the second ClientHello. */
  EXPECT_CLIENT_HELLO_2 = 4,
  EXPECT_FINISHED = 5,
  CONNECTED = 6,
  // TLS 1.2 (RFC 5246 §7.3): after ServerHelloDone.
  EXPECT_CLIENT_KEY_EXCHANGE = 7,
  EXPECT_CHANGE_CIPHER_SPEC = 8,
  EXPECT_FINISHED_12 = 9,
}

export const enum Aead {
  NONE = 0,
  GCM = 1,
  CHACHA = 2,
}

export class S {
  static phase: i32 = Phase.UNCONFIGURED;
  // Configuration
  static cfgFlags: u32 = 0;
  static cfgSuiteCount: i32 = 0;
  static cfgGroupCount: i32 = 0;
  static cfgAlpnLen: i32 = 0;
  static cfgMaxEarly: u32 = 0;
  static cfgMaxKeyUpdates: u32 = 0;
  static cfgRekeyAfter: u64 = 8388608; // 2^23, until the policy says otherwise
  // Outcome and errors
  static failed: bool = false;
  static alertSent: i32 = -1;
  static alertReceived: i32 = -1;
  static error: i32 = 0;
  static peerClosed: bool = false;
  static localClosed: bool = false;
  static handshakeDone: bool = false;
  // Negotiated
  static version: i32 = 0;
  static suite: i32 = 0;
  static hashAlg: i32 = 0;
  static hashLen: i32 = 0;
  static keyLen: i32 = 0;
  static aead: i32 = Aead.NONE;
  static group: i32 = 0;
  static sigScheme: i32 = 0;
  static sniLen: i32 = 0;
  static alpnLen: i32 = 0;
  static helloRetry: bool = false;
  static clientKeyKinds: i32 = 0;
  static keyKind: i32 = 0;
  // ClientHello facts carried to the server flight
  static sessionIdLen: i32 = 0;
  static clientShareLen: i32 = 0;
  static clientSigSchemes: u32 = 0;
  static clientOfferedSni: bool = false;
  static clientRecordLimit: i32 = 0;
  static earlyDataOffered: bool = false;
  static ccsSent: bool = false;
  static certLen: i32 = 0;
  static flightLen: i32 = 0;
  // Record layer
  static recvLen: i32 = 0;
  static sendStart: i32 = 0;
  static sendEnd: i32 = 0;
  static appInAt: i32 = -1;
  static appOutStart: i32 = 0;
  static appOutEnd: i32 = 0;
  static hsInLen: i32 = 0;
  static readActive: bool = false;
  static writeActive: bool = false;
  static readSeq: u64 = 0;
  static writeSeq: u64 = 0;
  static maxSendPlain: i32 = 16384; // MAX_PLAINTEXT (a literal, so no start-up code initialises it)
  static ccsSeen: bool = false;
  static skippingEarly: bool = false;
  static earlySkipped: u32 = 0;
  static keyUpdatesInRow: u32 = 0;
  // TLS 1.2
  static ems: bool = false;
  static renegRefused: i32 = 0;
  /** Bits of the client's TLS 1.2 suites (handshake12.ts SUITE12_*). */
  static clientSuites12: u32 = 0;
  static clientPointFormats: bool = false;
  static clientRenegInfo: bool = false;
  static ivLen: i32 = 0;
  /** TLS 1.2 static RSA key exchange (KeyOp 3 instead of a signature). */
  static staticRsa: bool = false;
}
