// The TLS 1.2 server handshake (RFC 5246 §7.3), full handshakes with ECDHE (and, only if the
// policy allows it, legacy static RSA: KeyOp 3 decrypts the premaster), read in protocol order
// like handshake.ts:
//
//   processClientHello12 → (host picks the certificate) → setCertificate12: ServerHello,
//   Certificate, ServerKeyExchange params → (host signs, KeyOp 2) → keyOpDone12: the signature,
//   ServerHelloDone → readClientKeyExchange → readChangeCipherSpec12 → readClientFinished12:
//   our ChangeCipherSpec and Finished → CONNECTED (a later ClientHello: refuseRenegotiation).
//
// Always: extended master secret (RFC 7627; required unless the policy allows without), the
// renegotiation_info of RFC 5746 (empty: tlsbox never renegotiates), the RFC 8446 §4.1.3
// downgrade sentinel when TLS 1.3 is enabled. No session resumption (empty session_id, no
// tickets). The ephemeral ECDH (x25519, secp256r1, secp384r1) is ecdhe.ts, shared with TLS 1.3.
import { Alert, ConfigFlag, ErrorCode, KeyKind, KeyOp, NamedGroup, Scsv, SignatureScheme } from "../abi";
import { hash_copy, hash_final, hash_init, hash_update } from "../crypto/sha2";
import { tls12_prf } from "../crypto/prf";
import { ctEqualBytes, wipe } from "../crypto/ct";
import { randomFill } from "../sys";
import {
  S, Phase, Aead, MAX_PLAINTEXT, flight, FLIGHT_CAP, certBuf, keyopBuf, KEYOP_CAP, transcript, transcript384, hashScratch,
  cfgSuites, cfgGroups, sniBuf, clientRandom, serverRandom, masterSecret, keyBlock, ecdhePub, sharedSecret, thash,
  expectedFinished, tmp64, SHARED_SECRET_CAP, ECDHE_PUBLIC_CAP,
} from "./state";
import { ContentType, fail, sendPlain, sendProtected, sendWarning, installReadKeys12, installWriteKeys12 } from "./record";
import {
  CH, Ext, HandshakeType, W, wStart, wRoom, w8, w16, w24, wBytes, wPatch, bitTest, groupSeen, itemR, cfgR, alertFor,
  selectAlpn, offersSuite, requestKeyOp, writeNameAndAlpnAcks, SIG_PSS256, SIG_PSS384, SIG_PSS512, SIG_P256, SIG_P384, SIG_PKCS256, SIG_PKCS384,
  SIG_PKCS512,
} from "./handshake";
import { ecdheKeygen, ecdheShared, knownGroup, shareLength } from "./ecdhe";
import { suite12Bit, suitesForKey, SUITE12_RSA_AUTH, SUITE12_ECDSA_AUTH, SUITE12_STATIC_RSA, SUITE12_ECDHE } from "./suites12";

const HASH_SHA256: i32 = 1;
const HASH_SHA384: i32 = 2;

/**
 * RFC 8422 §5.7: ECPoint <1..2^8-1> (1 + 97 bytes at most for our groups); RFC 5246 §7.4.7.1:
 * EncryptedPreMasterSecret <0..2^16-1>, an RSA ciphertext of at most 4096 bits here.
 */
export const MAX_CLIENT_KEY_EXCHANGE: i32 = 2 + 512;
/** Renegotiation attempts answered with a warning before the connection is failed. */
const MAX_RENEGOTIATION_REFUSALS: i32 = 3;

/** RFC 8446 §4.1.3: the last 8 bytes of ServerHello.random of a TLS 1.3 server negotiating TLS 1.2. */
const DOWNGRADE_TLS12 = memory.data<u8>([0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01]);

// PRF labels (RFC 5246 §8.1, §6.3, §7.4.9; RFC 7627 §4).
const L_MASTER = memory.data<u8>([0x6d, 0x61, 0x73, 0x74, 0x65, 0x72, 0x20, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74]); // "master secret"
const L_EMS = memory.data<u8>([
  0x65, 0x78, 0x74, 0x65, 0x6e, 0x64, 0x65, 0x64, 0x20, 0x6d, 0x61, 0x73, 0x74, 0x65, 0x72, 0x20, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74,
]); // "extended master secret"
const L_KEY_EXPANSION = memory.data<u8>([0x6b, 0x65, 0x79, 0x20, 0x65, 0x78, 0x70, 0x61, 0x6e, 0x73, 0x69, 0x6f, 0x6e]); // "key expansion"
const L_CLIENT_FINISHED = memory.data<u8>([0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x20, 0x66, 0x69, 0x6e, 0x69, 0x73, 0x68, 0x65, 0x64]); // "client finished"
const L_SERVER_FINISHED = memory.data<u8>([0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x66, 0x69, 0x6e, 0x69, 0x73, 0x68, 0x65, 0x64]); // "server finished"

/** The client's TLS 1.2 suites we implement, in its order (at most 6 distinct). */
const clientOrder = memory.data(16, 16);
/** client_random ‖ server_random (or the reverse, for the key block): one PRF seed. */
const seed64 = memory.data(64, 16);
/** client_random ‖ server_random ‖ ServerECDHParams: the key operation's data (RFC 5246 §7.4.3). */
const skeData = memory.data(64 + 4 + ECDHE_PUBLIC_CAP, 16);
const ccsByte = memory.data<u8>([1]);

class Hs12 {
  static clientOrderCount: i32 = 0;
  static paramsLen: i32 = 0;
}

// ---- ClientHello (RFC 5246 §7.4.1.2) ------------------------------------------------------------

/** The group: our first one the client lists (RFC 8422 §5.1.1); 0 if none. */
function selectGroup12(): u32 {
  if (!CH.hasGroups) return 0;
  for (let i = 0; i < S.cfgGroupCount; i++) {
    const g = <u32>load<u16>(cfgGroups + <usize>(i * 2));
    if (knownGroup(g) && bitTest(groupSeen, g)) return g;
  }
  return 0;
}

/** Our configured TLS 1.2 suites as bits. */
function configuredSuites12(): u32 {
  let m: u32 = 0;
  for (let i = 0; i < S.cfgSuiteCount; i++) m |= suite12Bit(<u32>load<u16>(cfgSuites + <usize>(i * 2)));
  // Static RSA (no forward secrecy, a decryption oracle if done wrong) only when the policy says so.
  if ((S.cfgFlags & ConfigFlag.STATIC_RSA) == 0) m &= ~SUITE12_STATIC_RSA;
  return m;
}

/** Judges a ClientHello for TLS 1.2 (already parsed by handshake.ts). Returns an ErrorCode. */
function judgeClientHello12(): i32 {
  // RFC 5246 §7.4.1.2: the null compression method must be offered; we choose it.
  let nullCompression = false;
  for (let i = 0; i < CH.compressionLen; i++) if (load<u8>(CH.compression + <usize>i) == 0) nullCompression = true;
  if (!nullCompression) return ErrorCode.BAD_COMPRESSION;
  // The client's suites we implement and allow, in its order.
  const allowed = configuredSuites12();
  let offered: u32 = 0;
  Hs12.clientOrderCount = 0;
  for (let j = 0; j < CH.suitesLen; j += 2) {
    const c = (<u32>load<u8>(CH.suites + <usize>j) << 8) | <u32>load<u8>(CH.suites + <usize>j + 1);
    const bit = suite12Bit(c) & allowed;
    if (bit != 0 && (offered & bit) == 0) {
      offered |= bit;
      store<u16>(clientOrder + <usize>(Hs12.clientOrderCount * 2), <u16>c);
      Hs12.clientOrderCount++;
    }
  }
  if (offered == 0) return ErrorCode.NO_COMMON_CIPHER_SUITE;
  // RFC 5746 §3.6: renegotiation_info must be empty on the initial handshake (handshake_failure);
  // the SCSV (§3.3) counts as an empty one.
  if (CH.hasRenegInfo && !CH.renegInfoEmpty) return ErrorCode.BAD_RENEGOTIATION_INFO;
  // RFC 7627 §5.3: without extended_master_secret the session is open to the triple handshake
  // attack; refused unless the policy allows it.
  if (!CH.ems && (S.cfgFlags & ConfigFlag.ALLOW_NO_EMS) == 0) return ErrorCode.NO_EXTENDED_MASTER_SECRET;
  // RFC 8422 §5.1.2: a point-format list without uncompressed is illegal_parameter.
  if (CH.hasPointFormats && !CH.pointUncompressed) return ErrorCode.ILLEGAL_PARAMETER;
  // RFC 8422 §4 / §5.1.1: ECDHE only on a curve the client listed.
  const group = selectGroup12();
  // RFC 5246 §7.4.1.4.1: without signature_algorithms the client means SHA-1, which we never sign.
  // Either way the ECDHE suites are out; static RSA (if allowed) signs nothing and needs no group.
  if (group == 0 || !CH.hasSigAlgs) offered &= ~SUITE12_ECDHE;
  if (offered == 0) return group == 0 ? ErrorCode.NO_COMMON_GROUP : ErrorCode.NO_COMMON_SIGNATURE_SCHEME;
  const rsa = ((CH.sigMask & (SIG_PSS256 | SIG_PSS384 | SIG_PSS512 | SIG_PKCS256 | SIG_PKCS384 | SIG_PKCS512)) != 0 && (offered & SUITE12_RSA_AUTH) != 0) ||
    (offered & SUITE12_STATIC_RSA) != 0;
  // RFC 8422 §5.1.1 / §2.3: an ECDSA certificate's key must be on a curve the client listed in
  // supported_groups (it may list a curve for signatures that we cannot use for ECDHE, like P-384).
  const p256 = (CH.sigMask & SIG_P256) != 0 && (offered & SUITE12_ECDSA_AUTH) != 0 && bitTest(groupSeen, NamedGroup.SECP256R1);
  const p384 = (CH.sigMask & SIG_P384) != 0 && (offered & SUITE12_ECDSA_AUTH) != 0 && bitTest(groupSeen, NamedGroup.SECP384R1);
  S.clientKeyKinds = (rsa ? 1 : 0) | (p256 ? 2 : 0) | (p384 ? 4 : 0);
  if (S.clientKeyKinds == 0) return ErrorCode.NO_COMMON_SIGNATURE_SCHEME;
  // RFC 7301 §3.2.
  if (CH.hasAlpn && S.cfgAlpnLen > 0 && !selectAlpn()) return ErrorCode.NO_COMMON_ALPN;
  S.clientSuites12 = offered;
  S.group = <i32>group;
  return ErrorCode.NONE;
}

/** Step 1 (TLS 1.2): the ClientHello; then the host picks the certificate. */
export function processClientHello12(msg: usize, total: i32): void {
  const code = judgeClientHello12();
  if (code != ErrorCode.NONE) {
    fail(alertFor(code), code);
    return;
  }
  S.version = 0x0303;
  S.clientSigSchemes = CH.sigMask;
  S.ems = CH.ems;
  S.clientPointFormats = CH.hasPointFormats;
  // RFC 5746 §3.6: answer with an empty renegotiation_info if the client sent it or the SCSV.
  S.clientRenegInfo = CH.hasRenegInfo || offersSuite(Scsv.EMPTY_RENEGOTIATION_INFO);
  memory.copy(clientRandom, CH.random, 32);
  if (CH.sni != 0) {
    memory.copy(sniBuf, CH.sni, CH.sniLen);
    S.sniLen = CH.sniLen;
    S.clientOfferedSni = true;
  }
  // RFC 8449 is not negotiated in TLS 1.2 here (we do not answer it): full-size records.
  S.maxSendPlain = MAX_PLAINTEXT;
  // §7.4.9: the PRF hash is the suite's, known only once the certificate is: hash under both.
  hash_init(transcript, HASH_SHA256);
  hash_init(transcript384, HASH_SHA384);
  hash_update(transcript, msg, total);
  hash_update(transcript384, msg, total);
  S.phase = Phase.WAIT_CERT;
}

// ---- After the host chose the certificate -------------------------------------------------------

/** The suite: by our order or the client's, among those the key can authenticate; 0 if none. */
function selectSuite12(keyKind: i32): u32 {
  let usable = S.clientSuites12 & suitesForKey(keyKind);
  // ECDHE suites need a signature scheme the client offered for this key.
  if (selectScheme12(keyKind) == 0) usable &= ~SUITE12_ECDHE;
  if ((S.cfgFlags & ConfigFlag.SERVER_CIPHER_ORDER) != 0) {
    for (let i = 0; i < S.cfgSuiteCount; i++) {
      const s = <u32>load<u16>(cfgSuites + <usize>(i * 2));
      if ((suite12Bit(s) & usable) != 0) return s;
    }
    return 0;
  }
  for (let i = 0; i < Hs12.clientOrderCount; i++) {
    const s = <u32>load<u16>(clientOrder + <usize>(i * 2));
    if ((suite12Bit(s) & usable) != 0) return s;
  }
  return 0;
}

/** RFC 5246 §7.4.1.4.1: a scheme the client offered for this key; RSA prefers PSS (RFC 8446 §4.2.3). */
function selectScheme12(keyKind: i32): i32 {
  const m = S.clientSigSchemes;
  if (keyKind == KeyKind.RSA) {
    if ((m & SIG_PSS256) != 0) return SignatureScheme.RSA_PSS_RSAE_SHA256;
    if ((m & SIG_PSS384) != 0) return SignatureScheme.RSA_PSS_RSAE_SHA384;
    if ((m & SIG_PSS512) != 0) return SignatureScheme.RSA_PSS_RSAE_SHA512;
    if ((m & SIG_PKCS256) != 0) return SignatureScheme.RSA_PKCS1_SHA256;
    if ((m & SIG_PKCS384) != 0) return SignatureScheme.RSA_PKCS1_SHA384;
    if ((m & SIG_PKCS512) != 0) return SignatureScheme.RSA_PKCS1_SHA512;
    return 0;
  }
  if (keyKind == KeyKind.ECDSA_P256) return (m & SIG_P256) != 0 ? SignatureScheme.ECDSA_SECP256R1_SHA256 : 0;
  if (keyKind == KeyKind.ECDSA_P384) return (m & SIG_P384) != 0 ? SignatureScheme.ECDSA_SECP384R1_SHA384 : 0;
  return 0;
}

function setSuite12(s: u32): void {
  S.suite = <i32>s;
  const bit = suite12Bit(s);
  const chacha = s == 0xcca8 || s == 0xcca9;
  const aes256 = s == 0xc02c || s == 0xc030 || s == 0x009d;
  S.aead = chacha ? Aead.CHACHA : Aead.GCM;
  S.keyLen = aes256 || chacha ? 32 : 16;
  S.hashAlg = aes256 ? HASH_SHA384 : HASH_SHA256;
  S.hashLen = aes256 ? 48 : 32;
  // RFC 5288 §3: a 4-byte salt; RFC 7905 §2: a 12-byte IV.
  S.ivLen = chacha ? 12 : 4;
  if (bit == 0) unreachable();
}

/** Step 2 (TLS 1.2): ServerHello, Certificate and the ServerKeyExchange parameters; then the signature is requested. */
export function setCertificate12(keyKind: i32): i32 {
  // The host may pick a certificate against our advice (CLIENT_KEY_KINDS): only kinds offered are usable.
  const kindBit = keyKind == KeyKind.RSA ? 1 : keyKind == KeyKind.ECDSA_P256 ? 2 : keyKind == KeyKind.ECDSA_P384 ? 4 : 0;
  const suite = (S.clientKeyKinds & kindBit) != 0 ? selectSuite12(keyKind) : 0;
  const staticRsa = (suite12Bit(suite) & SUITE12_STATIC_RSA) != 0;
  const scheme = staticRsa ? 0 : selectScheme12(keyKind);
  if (suite == 0 || (scheme == 0 && !staticRsa)) {
    // The host's certificate cannot serve any suite or scheme the client offered (§7.4.2).
    fail(Alert.HANDSHAKE_FAILURE, suite == 0 ? ErrorCode.NO_COMMON_CIPHER_SUITE : ErrorCode.NO_COMMON_SIGNATURE_SCHEME);
    return ErrorCode.NONE;
  }
  S.keyKind = keyKind;
  S.sigScheme = scheme;
  setSuite12(suite);
  S.staticRsa = staticRsa;
  if (S.hashAlg == HASH_SHA384) hash_copy(transcript, transcript384);
  wStart(flight, 0, FLIGHT_CAP);
  writeServerHello();
  writeCertificate();
  if (staticRsa) {
    // RFC 5246 §7.4.3: no ServerKeyExchange with RSA key exchange; nothing to sign.
    w8(HandshakeType.SERVER_HELLO_DONE);
    w24(0);
    if (W.overflow) {
      fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_CERTIFICATE_INPUT);
      return ErrorCode.BAD_CERTIFICATE_INPUT;
    }
    hash_update(transcript, flight, W.pos);
    sendFlight(W.pos);
    return ErrorCode.NONE;
  }
  const skeAt = W.pos;
  writeServerKeyExchangeParams();
  if (W.overflow) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_CERTIFICATE_INPUT);
    return ErrorCode.BAD_CERTIFICATE_INPUT;
  }
  // ServerHello and Certificate go into the transcript now; ServerKeyExchange once signed.
  hash_update(transcript, flight, skeAt);
  S.flightLen = W.pos;
  // §7.4.3 / RFC 8422 §5.4: the signature covers client_random ‖ server_random ‖ params; the key
  // server receives exactly these and checks the params' shape (DESIGN.md invariant 6).
  memory.copy(skeData, clientRandom, 32);
  memory.copy(skeData + 32, serverRandom, 32);
  memory.copy(skeData + 64, flight + <usize>(skeAt + 4), Hs12.paramsLen);
  S.phase = Phase.WAIT_KEY_OP;
  requestKeyOp(KeyOp.SIGN_TLS12_SERVER_KEY_EXCHANGE, S.sigScheme, skeData, 64 + Hs12.paramsLen);
  return ErrorCode.NONE;
}

/** §7.4.1.3 ServerHello, with the RFC 8446 §4.1.3 sentinel and the extensions we answer. */
function writeServerHello(): void {
  w8(HandshakeType.SERVER_HELLO);
  const lenAt = W.pos;
  w24(0);
  w16(0x0303);
  randomFill(serverRandom, 32);
  // RFC 8446 §4.1.3: a server that could do TLS 1.3 says so in the last 8 bytes, so that a TLS 1.3
  // client detects a downgrade by an attacker who stripped its supported_versions.
  if ((S.cfgFlags & ConfigFlag.NO_TLS13) == 0) memory.copy(serverRandom + 24, DOWNGRADE_TLS12, 8);
  wBytes(serverRandom, 32);
  // An empty session_id: this session cannot be resumed (§7.4.1.3).
  w8(0);
  w16(S.suite);
  w8(0);
  const extAt = W.pos;
  w16(0);
  if (S.clientRenegInfo) {
    // RFC 5746 §3.6: an empty renegotiated_connection on the initial handshake.
    w16(Ext.RENEGOTIATION_INFO);
    w16(1);
    w8(0);
  }
  if (S.ems) {
    // RFC 7627 §5.2.
    w16(Ext.EXTENDED_MASTER_SECRET);
    w16(0);
  }
  if (S.clientPointFormats) {
    // RFC 8422 §5.2: we send uncompressed points only.
    w16(Ext.EC_POINT_FORMATS);
    w16(2);
    w8(1);
    w8(0);
  }
  writeNameAndAlpnAcks();
  // §7.4.1.4: no extensions at all is written as no extensions block.
  if (W.pos == extAt + 2) W.pos = extAt;
  else wPatch(extAt, 2);
  wPatch(lenAt, 3);
}

/** §7.4.2 Certificate: certificate_list of ASN.1Cert<1..2^24-1>. */
function writeCertificate(): void {
  const at = W.pos;
  w8(HandshakeType.CERTIFICATE);
  w24(0);
  const listAt = W.pos;
  w24(0);
  const r = cfgR.reset(certBuf, S.certLen);
  while (!r.empty()) {
    r.vec(3, itemR);
    w24(<u32>itemR.left());
    wBytes(itemR.pos, <i32>itemR.left());
  }
  wPatch(listAt, 3);
  wPatch(at + 1, 3);
}

/** RFC 8422 §5.4: ServerKeyExchange header and ServerECDHParams; a fresh ephemeral key per handshake. */
function writeServerKeyExchangeParams(): void {
  w8(HandshakeType.SERVER_KEY_EXCHANGE);
  w24(0);
  const paramsAt = W.pos;
  w8(3); // ECCurveType named_curve
  w16(S.group);
  const group = <u32>S.group;
  ecdheKeygen(group);
  const publicLen = shareLength(group);
  w8(publicLen);
  wBytes(ecdhePub, publicLen);
  Hs12.paramsLen = W.pos - paramsAt;
}

/** Step 3 (host signed): the signature into ServerKeyExchange, ServerHelloDone; the flight goes out. */
export function keyOpDone12(len: i32): i32 {
  if (len == 0) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.KEY_OP_FAILED);
    return ErrorCode.KEY_OP_FAILED;
  }
  if (S.staticRsa) return premasterDone(len);
  const maxSig = S.keyKind == KeyKind.ECDSA_P256 ? 72 : S.keyKind == KeyKind.ECDSA_P384 ? 104 : KEYOP_CAP;
  if (len < 0 || len > maxSig) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_KEY_OP_RESULT);
    return ErrorCode.BAD_KEY_OP_RESULT;
  }
  wStart(flight, S.flightLen, FLIGHT_CAP);
  // §7.4.3: digitally-signed struct = SignatureAndHashAlgorithm ‖ opaque signature<0..2^16-1>.
  const skeAt = S.flightLen - Hs12.paramsLen - 4;
  w16(S.sigScheme);
  w16(len);
  wBytes(keyopBuf, len);
  wPatch(skeAt + 1, 3);
  // §7.4.5 ServerHelloDone: empty.
  w8(HandshakeType.SERVER_HELLO_DONE);
  w24(0);
  if (W.overflow) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_KEY_OP_RESULT);
    return ErrorCode.BAD_KEY_OP_RESULT;
  }
  hash_update(transcript, flight + <usize>skeAt, W.pos - skeAt);
  sendFlight(W.pos);
  return ErrorCode.NONE;
}

/** §6.2.1: the server flight in plaintext records of at most 2^14 bytes each; then the client's turn. */
function sendFlight(len: i32): void {
  let off = 0;
  while (off < len) {
    let n = len - off;
    if (n > MAX_PLAINTEXT) n = MAX_PLAINTEXT;
    if (!sendPlain(ContentType.HANDSHAKE, flight + <usize>off, n)) {
      fail(Alert.INTERNAL_ERROR, ErrorCode.SEND_BUFFER_FULL);
      return;
    }
    off += n;
  }
  S.phase = Phase.EXPECT_CLIENT_KEY_EXCHANGE;
}

// ---- The client's flight ----------------------------------------------------------------------

function transcriptHash12(out: usize): void {
  hash_copy(hashScratch, transcript);
  hash_final(hashScratch, out);
}

/** Step 4: ClientKeyExchange (RFC 8422 §5.7): the client's ephemeral point; then the master secret and keys. */
export function readClientKeyExchange(msg: usize, total: i32): void {
  if (S.staticRsa) {
    readEncryptedPremaster(msg, total);
    return;
  }
  const n = total - 4;
  // ECPoint ecdh_Yc<1..2^8-1>, and nothing after it.
  if (n < 2 || <i32>load<u8>(msg + 4) != n - 1) {
    fail(Alert.DECODE_ERROR, ErrorCode.DECODE_ERROR);
    return;
  }
  const point = msg + 5;
  const plen = n - 1;
  // RFC 8422 §5.11 / RFC 7748 §6.1: X25519 takes 32 bytes and refuses an all-zero result (a
  // low-order point); a NIST-curve point must be uncompressed, on the curve and not infinity.
  const sharedLen = ecdheShared(<u32>S.group, point, plen);
  if (sharedLen == 0) {
    fail(Alert.ILLEGAL_PARAMETER, ErrorCode.BAD_KEY_SHARE);
    return;
  }
  hash_update(transcript, msg, total);
  deriveKeys12(sharedSecret, sharedLen);
  wipe(sharedSecret, SHARED_SECRET_CAP);
}

/**
 * RFC 5246 §7.4.7.1: EncryptedPreMasterSecret = u16 length ‖ RSA ciphertext. The key server
 * decrypts it (KeyOp 3) and answers 48 bytes whatever it held (implicit rejection): a bad
 * ciphertext only makes the Finished fail later, like any wrong key.
 */
function readEncryptedPremaster(msg: usize, total: i32): void {
  const n = total - 4;
  if (n < 3 || ((<i32>load<u8>(msg + 4) << 8) | <i32>load<u8>(msg + 5)) != n - 2) {
    fail(Alert.DECODE_ERROR, ErrorCode.DECODE_ERROR);
    return;
  }
  hash_update(transcript, msg, total);
  memory.copy(flight, msg + 6, n - 2);
  S.phase = Phase.WAIT_KEY_OP;
  requestKeyOp(KeyOp.RSA_DECRYPT_PREMASTER, 0, flight, n - 2);
}

/** KeyOp 3 answered: exactly 48 bytes (RFC 5246 §7.4.7.1), the premaster. */
function premasterDone(len: i32): i32 {
  if (len != 48) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_KEY_OP_RESULT);
    return ErrorCode.BAD_KEY_OP_RESULT;
  }
  deriveKeys12(keyopBuf, 48);
  wipe(keyopBuf, 48);
  return ErrorCode.NONE;
}

/** The master secret from the premaster (`secret`, `secretLen` bytes), then the key block (§6.3, §8.1). */
function deriveKeys12(secret: usize, secretLen: i32): void {
  if (S.ems) {
    // RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash),
    // session_hash = Hash(ClientHello .. ClientKeyExchange).
    transcriptHash12(thash);
    tls12_prf(S.hashAlg, masterSecret, 48, secret, <usize>secretLen, L_EMS, 22, thash, <usize>S.hashLen);
  } else {
    // RFC 5246 §8.1: PRF(pre_master_secret, "master secret", client_random ‖ server_random).
    memory.copy(seed64, clientRandom, 32);
    memory.copy(seed64 + 32, serverRandom, 32);
    tls12_prf(S.hashAlg, masterSecret, 48, secret, <usize>secretLen, L_MASTER, 13, seed64, 64);
  }
  // §6.3: key_block = PRF(master_secret, "key expansion", server_random ‖ client_random).
  memory.copy(seed64, serverRandom, 32);
  memory.copy(seed64 + 32, clientRandom, 32);
  tls12_prf(S.hashAlg, keyBlock, <usize>(2 * S.keyLen + 2 * S.ivLen), masterSecret, 48, L_KEY_EXPANSION, 13, seed64, 64);
  S.phase = Phase.EXPECT_CHANGE_CIPHER_SPEC;
}

/** Step 5: the client's ChangeCipherSpec (§7.1): one byte 1, at a handshake-message boundary. */
export function readChangeCipherSpec12(body: usize, len: i32): void {
  if (len != 1 || load<u8>(body) != 1 || S.hsInLen > 0 || S.phase != Phase.EXPECT_CHANGE_CIPHER_SPEC) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_CHANGE_CIPHER_SPEC);
    return;
  }
  installReadKeys12();
  S.phase = Phase.EXPECT_FINISHED_12;
}

/** verify_data = PRF(master_secret, label, Hash(handshake_messages))[0..11] (§7.4.9). */
function verifyData(label: usize, out: usize): void {
  transcriptHash12(thash);
  tls12_prf(S.hashAlg, out, 12, masterSecret, 48, label, 15, thash, <usize>S.hashLen);
}

const finishedMsg = memory.data(16, 16);

/** Step 6: the client's Finished, compared in constant time; then our ChangeCipherSpec and Finished. */
export function readClientFinished12(msg: usize, total: i32): void {
  if (total - 4 != 12) {
    fail(Alert.DECODE_ERROR, ErrorCode.DECODE_ERROR);
    return;
  }
  verifyData(L_CLIENT_FINISHED, expectedFinished);
  if (ctEqualBytes(msg + 4, expectedFinished, 12) == 0) {
    // §7.4.9: "Recipients of Finished messages MUST verify that the contents are correct."
    fail(Alert.DECRYPT_ERROR, ErrorCode.BAD_FINISHED);
    return;
  }
  wipe(expectedFinished, 64);
  hash_update(transcript, msg, total);
  // Our ChangeCipherSpec (§7.1), then Finished under the new write keys.
  if (!sendPlain(ContentType.CHANGE_CIPHER_SPEC, ccsByte, 1)) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.SEND_BUFFER_FULL);
    return;
  }
  installWriteKeys12();
  store<u8>(finishedMsg, HandshakeType.FINISHED);
  store<u8>(finishedMsg + 1, 0);
  store<u8>(finishedMsg + 2, 0);
  store<u8>(finishedMsg + 3, 12);
  verifyData(L_SERVER_FINISHED, finishedMsg + 4);
  // No resumption: the master secret is not needed any more.
  wipe(masterSecret, 48);
  wipe(tmp64, 64);
  if (!sendProtected(ContentType.HANDSHAKE, finishedMsg, 16)) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.SEND_BUFFER_FULL);
    return;
  }
  wipe(finishedMsg, 16);
  S.phase = Phase.CONNECTED;
  S.handshakeDone = true;
}

/**
 * A ClientHello after the handshake asks to renegotiate, which tlsbox never does. RFC 5246
 * §7.2.2: the server answers a ClientHello "after initial handshaking" with the no_renegotiation
 * alert, "always a warning"; the client then decides whether to go on (RFC 5746 §4.4 allows the
 * same refusal). Repeated attempts past a small limit end the connection with handshake_failure.
 */
export function refuseRenegotiation(msg: usize, total: i32): void {
  S.renegRefused++;
  if (S.renegRefused > MAX_RENEGOTIATION_REFUSALS) {
    fail(Alert.HANDSHAKE_FAILURE, ErrorCode.RENEGOTIATION_REFUSED);
    return;
  }
  if (total < 4) unreachable();
  sendWarning(Alert.NO_RENEGOTIATION);
}
