// The connection's state, in one place. One instance serves one connection (DESIGN.md), so the
// state is module-level: static fields of `S`, and buffers allocated once at instantiation. The
// stub runtime never frees, so nothing here is allocated per record or per message.
import { hash_ctx_size } from "../crypto/sha2";
import { gcm_ctx_size } from "../crypto/gcm";

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
export const MAX_SUITES: i32 = 8;
export const MAX_GROUPS: i32 = 8;
export const MAX_ALPN: i32 = 1024;
/** The most records the policy may allow under one write key (RFC 8446 §5.5: AES-GCM's limit is 2^24.5). */
export const MAX_REKEY_AFTER: u32 = 1 << 24;

// ---- Buffers (allocated once, at instantiation) ----------------------------------------------

export const recvBuf = heap.alloc(RECV_CAP);
export const sendBuf = heap.alloc(SEND_CAP);
export const hsIn = heap.alloc(HS_IN_CAP);
export const certBuf = heap.alloc(CERT_CAP);
export const flight = heap.alloc(FLIGHT_CAP);
export const appOut = heap.alloc(APP_OUT_CAP);
export const keyopBuf = heap.alloc(KEYOP_CAP);
export const configBuf = heap.alloc(CONFIG_CAP);
export const sniBuf = heap.alloc(MAX_SNI + 1);
export const alpnBuf = heap.alloc(256);
export const cfgAlpn = heap.alloc(MAX_ALPN);
export const cfgSuites = heap.alloc(MAX_SUITES * 2);
export const cfgGroups = heap.alloc(MAX_GROUPS * 2);
/** One bit per extension type: duplicate detection (RFC 8446 §4.2), cleared after each use. */
export const extSeen = heap.alloc(8192);

// Crypto state.
export const transcript = heap.alloc(<usize>hash_ctx_size());
export const hashScratch = heap.alloc(<usize>hash_ctx_size());
/** Fingerprint of the ClientHello fields that must not change after a HelloRetryRequest (§4.1.2). */
export const chPrint = heap.alloc(<usize>hash_ctx_size());
export const readGcm = heap.alloc(<usize>gcm_ctx_size());
export const writeGcm = heap.alloc(<usize>gcm_ctx_size());
export const readKey = heap.alloc(32);
export const writeKey = heap.alloc(32);
export const readIv = heap.alloc(12);
export const writeIv = heap.alloc(12);
export const nonce = heap.alloc(12);
export const clientSecret = heap.alloc(64);
export const serverSecret = heap.alloc(64);
export const hsSecret = heap.alloc(64);
export const clientAppSecret = heap.alloc(64);
export const serverAppSecret = heap.alloc(64);
export const expectedFinished = heap.alloc(64);
export const thash = heap.alloc(64);
export const tmp64 = heap.alloc(64);
export const tmp64b = heap.alloc(64);
export const chPrint1 = heap.alloc(64);
export const sessionId = heap.alloc(32);
export const clientRandom = heap.alloc(32);
export const clientShare = heap.alloc(65);
export const ecdhePriv = heap.alloc(32);
export const ecdhePub = heap.alloc(65);
export const sharedSecret = heap.alloc(32);

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
  static cfgRekeyAfter: u64 = 1 << 23;
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
  static maxSendPlain: i32 = MAX_PLAINTEXT;
  static ccsSeen: bool = false;
  static skippingEarly: bool = false;
  static earlySkipped: u32 = 0;
  static keyUpdatesInRow: u32 = 0;
}
