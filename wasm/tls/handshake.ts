// The TLS 1.3 server handshake (RFC 8446 §4), read in protocol order as Go's
// handshake_server_tls13.go does: processClientHello → (host picks the certificate) →
// sendServerHello → sendServerParameters → (host signs) → sendServerFinished → readClientFinished.
// Each step is one function; each rejection names its RFC section and goes through fail().
import { Alert, ErrorCode, KeyKind, KeyOp, ConfigFlag, CipherSuite, NamedGroup, SignatureScheme, Scsv } from "../abi";
import { hash, hash_init, hash_update, hash_final } from "../crypto/sha2";
import { ctEqualBytes, wipe } from "../crypto/ct";
import { randomFill } from "../sys";
import { suite12Bit } from "./suites12";
import { Reader } from "./reader";
import { ecdheKeygen, ecdheShared, knownGroup, shareLength } from "./ecdhe";
import { HRR_RANDOM } from "./labels";
import {
  S, Phase, Aead, MAX_PLAINTEXT, flight, FLIGHT_CAP, certBuf, keyopBuf, KEYOP_CAP, transcript, chPrint, chPrint1, sessionId,
  clientShare, ecdhePub, sniBuf, alpnBuf, cfgAlpn, cfgSuites, cfgGroups, extSeen, thash,
  tmp64, clientSecret, serverSecret, clientAppSecret, serverAppSecret, expectedFinished, MAX_SNI, MAX_REKEY_AFTER, MAX_SUITES,
} from "./state";
import { ContentType, fail, sendPlain, sendProtected, installReadKeys, installWriteKeys } from "./record";
import {
  processClientHello12, setCertificate12, keyOpDone12, readClientKeyExchange, readClientFinished12, refuseRenegotiation,
  MAX_CLIENT_KEY_EXCHANGE,
} from "./handshake12";
import {
  deriveHandshakeSecrets, deriveApplicationSecrets, finishedMac, transcriptHash, nextTrafficSecret, wipeSecrets,
} from "./keyschedule";

@external("tls_host", "key_op_request")
declare function host_key_op_request(op: i32, scheme: i32, ptr: usize, len: i32): void;

/** The import, for handshake12.ts (one declaration, one import). */
export function requestKeyOp(op: i32, scheme: i32, ptr: usize, len: i32): void {
  host_key_op_request(op, scheme, ptr, len);
}

const HASH_SHA256: i32 = 1;
const HASH_SHA384: i32 = 2;

export const enum HandshakeType {
  HELLO_REQUEST = 0,
  CLIENT_HELLO = 1,
  SERVER_HELLO = 2,
  ENCRYPTED_EXTENSIONS = 8,
  CERTIFICATE = 11,
  CERTIFICATE_VERIFY = 15,
  SERVER_KEY_EXCHANGE = 12,
  SERVER_HELLO_DONE = 14,
  CLIENT_KEY_EXCHANGE = 16,
  FINISHED = 20,
  KEY_UPDATE = 24,
  MESSAGE_HASH = 254,
}

export const enum Ext {
  SERVER_NAME = 0,
  SUPPORTED_GROUPS = 10,
  EC_POINT_FORMATS = 11,
  SIGNATURE_ALGORITHMS = 13,
  ALPN = 16,
  PADDING = 21,
  EXTENDED_MASTER_SECRET = 23,
  RECORD_SIZE_LIMIT = 28,
  PRE_SHARED_KEY = 41,
  EARLY_DATA = 42,
  SUPPORTED_VERSIONS = 43,
  COOKIE = 44,
  PSK_KEY_EXCHANGE_MODES = 45,
  KEY_SHARE = 51,
  RENEGOTIATION_INFO = 0xff01,
}

// Bits of S.clientSigSchemes.
export const SIG_PSS256: u32 = 1;
export const SIG_PSS384: u32 = 2;
export const SIG_PSS512: u32 = 4;
export const SIG_P256: u32 = 8;
export const SIG_P384: u32 = 16;
// RSASSA-PKCS1-v1_5: TLS 1.2 only (RFC 8446 §4.2.3 keeps them for TLS 1.2 signatures).
export const SIG_PKCS256: u32 = 32;
export const SIG_PKCS384: u32 = 64;
export const SIG_PKCS512: u32 = 128;

// Readers, at static addresses (unmanaged objects: nothing is allocated, nothing runs at start-up).
const msgR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
const vecR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
const extsR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
const extR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
const listR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
export const itemR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
const sharesR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
const alpnListR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
export const cfgR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));
const cfgItemR = changetype<Reader>(memory.data(offsetof<Reader>(), 16));

// Bitmaps over u16 code points: the client's supported_groups and the groups it sent shares for.
export const groupSeen = memory.data(8192, 16);
const shareSeen = memory.data(8192, 16);

@inline export function bitTest(map: usize, v: u32): bool {
  return (load<u8>(map + <usize>(v >> 3)) & <u8>((<u32>1) << (v & 7))) != 0;
}
@inline function bitSet(map: usize, v: u32): void {
  store<u8>(map + <usize>(v >> 3), load<u8>(map + <usize>(v >> 3)) | <u8>((<u32>1) << (v & 7)));
}

// ---- A writer for outgoing messages ---------------------------------------------------------

export class W {
  static base: usize = 0;
  static pos: i32 = 0;
  static cap: i32 = 0;
  static overflow: bool = false;
}

export function wStart(base: usize, at: i32, cap: i32): void {
  W.base = base;
  W.pos = at;
  W.cap = cap;
  W.overflow = false;
}
export function wRoom(n: i32): bool {
  if (W.cap - W.pos < n) { W.overflow = true; return false; }
  return true;
}
export function w8(v: u32): void {
  if (!wRoom(1)) return;
  store<u8>(W.base + <usize>W.pos, <u8>v);
  W.pos += 1;
}
export function w16(v: u32): void {
  w8(v >> 8);
  w8(v);
}
export function w24(v: u32): void {
  w8(v >> 16);
  w8(v >> 8);
  w8(v);
}
export function wBytes(src: usize, n: i32): void {
  if (!wRoom(n)) return;
  memory.copy(W.base + <usize>W.pos, src, n);
  W.pos += n;
}
/** Patches a big-endian length of `width` bytes at `at`: the bytes written since at + width. */
export function wPatch(at: i32, width: i32): void {
  const n = W.pos - at - width;
  for (let i = 0; i < width; i++) store<u8>(W.base + <usize>(at + i), <u8>(n >> ((width - 1 - i) * 8)));
}

/**
 * The server_name and ALPN answers, the same in TLS 1.3 EncryptedExtensions and the TLS 1.2
 * ServerHello: an empty server_name acknowledges that the name was used (RFC 6066 §3); ALPN
 * carries exactly one protocol name (RFC 7301 §3.1).
 */
export function writeNameAndAlpnAcks(): void {
  if (S.clientOfferedSni) {
    w16(Ext.SERVER_NAME);
    w16(0);
  }
  if (S.alpnLen > 0) {
    w16(Ext.ALPN);
    w16(S.alpnLen + 3);
    w16(S.alpnLen + 1);
    w8(S.alpnLen);
    wBytes(alpnBuf, S.alpnLen);
  }
}

// ---- Configuration (the policy blob, wasm/abi.ts) ---------------------------------------------

function knownSuite(s: u32): bool {
  return s == CipherSuite.TLS_AES_128_GCM_SHA256 || s == CipherSuite.TLS_AES_256_GCM_SHA384 || s == CipherSuite.TLS_CHACHA20_POLY1305_SHA256 ||
    suite12Bit(s) != 0;
}

/** Parses the policy blob; returns an ErrorCode. Unknown suites or groups are refused, not ignored. */
export function configure(ptr: usize, len: i32): i32 {
  const r = cfgR.reset(ptr, len);
  if (r.u8() != 1) return ErrorCode.BAD_CONFIG;
  const flags = r.u8();
  const nSuites = <i32>r.u8();
  if (nSuites < 1 || nSuites > MAX_SUITES) return ErrorCode.BAD_CONFIG;
  for (let i = 0; i < nSuites; i++) {
    const s = r.u16();
    if (!knownSuite(s)) return ErrorCode.BAD_CONFIG;
    for (let j = 0; j < i; j++) if (<u32>load<u16>(cfgSuites + <usize>(j * 2)) == s) return ErrorCode.BAD_CONFIG;
    store<u16>(cfgSuites + <usize>(i * 2), <u16>s);
  }
  const nGroups = <i32>r.u8();
  if (nGroups < 1 || nGroups > 8) return ErrorCode.BAD_CONFIG;
  for (let i = 0; i < nGroups; i++) {
    const g = r.u16();
    if (!knownGroup(g)) return ErrorCode.BAD_CONFIG;
    for (let j = 0; j < i; j++) if (<u32>load<u16>(cfgGroups + <usize>(j * 2)) == g) return ErrorCode.BAD_CONFIG;
    store<u16>(cfgGroups + <usize>(i * 2), <u16>g);
  }
  const alpn = cfgItemR;
  if (!r.vec(2, alpn)) return ErrorCode.BAD_CONFIG;
  if (<i32>alpn.left() > 1024) return ErrorCode.BAD_CONFIG;
  const alpnPtr = alpn.pos;
  const alpnLen = <i32>alpn.left();
  while (!alpn.empty()) {
    const n = alpn.u8();
    if (n == 0) return ErrorCode.BAD_CONFIG;
    alpn.bytes(n);
  }
  if (alpn.bad) return ErrorCode.BAD_CONFIG;
  const maxEarly = r.u32();
  const maxKeyUpdates = r.u8();
  const rekeyAfter = r.u32();
  if (!r.done() || rekeyAfter < 1 || rekeyAfter > MAX_REKEY_AFTER) return ErrorCode.BAD_CONFIG;
  memory.copy(cfgAlpn, alpnPtr, alpnLen);
  S.cfgFlags = flags;
  S.cfgSuiteCount = nSuites;
  S.cfgGroupCount = nGroups;
  S.cfgAlpnLen = alpnLen;
  S.cfgMaxEarly = maxEarly;
  S.cfgMaxKeyUpdates = maxKeyUpdates;
  S.cfgRekeyAfter = <u64>rekeyAfter;
  S.phase = Phase.EXPECT_CLIENT_HELLO;
  return ErrorCode.NONE;
}

// ---- ClientHello (RFC 8446 §4.1.2) ------------------------------------------------------------

/** What one ClientHello offered, collected by the parser, judged afterwards. */
export class CH {
  static legacyVersion: u32 = 0;
  static random: usize = 0;
  static sid: usize = 0;
  static sidLen: i32 = 0;
  static suites: usize = 0;
  static suitesLen: i32 = 0;
  static compression: usize = 0;
  static compressionLen: i32 = 0;
  static hasVersions: bool = false;
  static offers13: bool = false;
  static hasGroups: bool = false;
  static hasKeyShare: bool = false;
  static groups: usize = 0;
  static groupsLen: i32 = 0;
  static shares: usize = 0;
  static sharesLen: i32 = 0;
  static shareCount: i32 = 0;
  static hasSigAlgs: bool = false;
  static sigMask: u32 = 0;
  static sni: usize = 0;
  static sniLen: i32 = 0;
  static hasAlpn: bool = false;
  static alpn: usize = 0;
  static alpnLen: i32 = 0;
  static hasPsk: bool = false;
  static hasPskModes: bool = false;
  static earlyData: bool = false;
  static recordLimit: i32 = 0;
  // TLS 1.2 extensions
  static offers12: bool = false;
  static hasPointFormats: bool = false;
  static pointUncompressed: bool = false;
  static ems: bool = false;
  static hasRenegInfo: bool = false;
  static renegInfoEmpty: bool = false;
}

function resetCH(): void {
  CH.hasVersions = false;
  CH.offers13 = false;
  CH.hasGroups = false;
  CH.hasKeyShare = false;
  CH.groupsLen = 0;
  CH.sharesLen = 0;
  CH.shareCount = 0;
  CH.hasSigAlgs = false;
  CH.sigMask = 0;
  CH.sni = 0;
  CH.sniLen = 0;
  CH.hasAlpn = false;
  CH.alpnLen = 0;
  CH.hasPsk = false;
  CH.hasPskModes = false;
  CH.earlyData = false;
  CH.recordLimit = 0;
  CH.offers12 = false;
  CH.hasPointFormats = false;
  CH.pointUncompressed = false;
  CH.ems = false;
  CH.hasRenegInfo = false;
  CH.renegInfoEmpty = false;
}

/** An extension's body, exactly as long as announced, else decode_error (RFC 8446 §4.2). */
function parseExtension(type: u32, e: Reader): i32 {
  switch (type) {
    case Ext.SERVER_NAME: {
      // RFC 6066 §3: ServerNameList <1..2^16-1>; at most one host_name.
      if (!e.vec(2, listR) || listR.empty()) return ErrorCode.DECODE_ERROR;
      while (!listR.empty()) {
        const nameType = listR.u8();
        if (!listR.vec(2, itemR)) return ErrorCode.DECODE_ERROR;
        if (nameType != 0) continue;
        if (CH.sni != 0) return ErrorCode.ILLEGAL_PARAMETER;
        const n = <i32>itemR.left();
        if (n < 1 || n > MAX_SNI) return ErrorCode.ILLEGAL_PARAMETER;
        // A DNS host name is printable ASCII; anything else cannot name a certificate.
        for (let i = 0; i < n; i++) {
          const c = load<u8>(itemR.pos + <usize>i);
          if (c < 0x21 || c > 0x7e) return ErrorCode.ILLEGAL_PARAMETER;
        }
        CH.sni = itemR.pos;
        CH.sniLen = n;
      }
      break;
    }
    case Ext.SUPPORTED_GROUPS: {
      // §4.2.7: NamedGroup named_group_list<2..2^16-1>.
      if (!e.vec(2, listR) || listR.empty() || (listR.left() & 1) != 0) return ErrorCode.DECODE_ERROR;
      CH.hasGroups = true;
      CH.groups = listR.pos;
      CH.groupsLen = <i32>listR.left();
      while (!listR.empty()) bitSet(groupSeen, listR.u16());
      break;
    }
    case Ext.SIGNATURE_ALGORITHMS: {
      // §4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>.
      if (!e.vec(2, listR) || listR.empty() || (listR.left() & 1) != 0) return ErrorCode.DECODE_ERROR;
      CH.hasSigAlgs = true;
      while (!listR.empty()) {
        const s = listR.u16();
        if (s == SignatureScheme.RSA_PSS_RSAE_SHA256) CH.sigMask |= SIG_PSS256;
        else if (s == SignatureScheme.RSA_PSS_RSAE_SHA384) CH.sigMask |= SIG_PSS384;
        else if (s == SignatureScheme.RSA_PSS_RSAE_SHA512) CH.sigMask |= SIG_PSS512;
        else if (s == SignatureScheme.ECDSA_SECP256R1_SHA256) CH.sigMask |= SIG_P256;
        else if (s == SignatureScheme.ECDSA_SECP384R1_SHA384) CH.sigMask |= SIG_P384;
        else if (s == SignatureScheme.RSA_PKCS1_SHA256) CH.sigMask |= SIG_PKCS256;
        else if (s == SignatureScheme.RSA_PKCS1_SHA384) CH.sigMask |= SIG_PKCS384;
        else if (s == SignatureScheme.RSA_PKCS1_SHA512) CH.sigMask |= SIG_PKCS512;
      }
      break;
    }
    case Ext.ALPN: {
      // RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each name <1..2^8-1>.
      if (!e.vec(2, listR) || listR.left() < 2) return ErrorCode.DECODE_ERROR;
      CH.hasAlpn = true;
      CH.alpn = listR.pos;
      CH.alpnLen = <i32>listR.left();
      while (!listR.empty()) {
        if (!listR.vec(1, itemR) || itemR.empty()) return ErrorCode.DECODE_ERROR;
      }
      break;
    }
    case Ext.RECORD_SIZE_LIMIT: {
      // RFC 8449 §4: uint16 RecordSizeLimit; below 64 is illegal_parameter.
      const v = e.u16();
      if (e.bad) return ErrorCode.DECODE_ERROR;
      if (v < 64) return ErrorCode.ILLEGAL_PARAMETER;
      CH.recordLimit = <i32>v;
      break;
    }
    case Ext.PRE_SHARED_KEY: {
      // §4.2.11: identities<7..2^16-1>, binders<33..2^16-1>. Parsed for shape only: tlsbox does
      // not resume, so the offer is declined by not answering it (a full handshake follows).
      if (!e.vec(2, listR) || listR.left() < 7) return ErrorCode.DECODE_ERROR;
      while (!listR.empty()) {
        if (!listR.vec(2, itemR) || itemR.empty()) return ErrorCode.DECODE_ERROR;
        listR.u32();
      }
      if (listR.bad || !e.vec(2, listR) || listR.left() < 33) return ErrorCode.DECODE_ERROR;
      while (!listR.empty()) {
        if (!listR.vec(1, itemR) || itemR.left() < 32) return ErrorCode.DECODE_ERROR;
      }
      CH.hasPsk = true;
      break;
    }
    case Ext.EARLY_DATA: {
      // §4.2.10: empty in a ClientHello.
      CH.earlyData = true;
      break;
    }
    case Ext.SUPPORTED_VERSIONS: {
      // §4.2.1: ProtocolVersion versions<2..254>.
      if (!e.vec(1, listR) || listR.left() < 2 || (listR.left() & 1) != 0) return ErrorCode.DECODE_ERROR;
      CH.hasVersions = true;
      while (!listR.empty()) {
        const v = listR.u16();
        if (v == 0x0304) CH.offers13 = true;
        else if (v == 0x0303) CH.offers12 = true;
      }
      break;
    }
    case Ext.EC_POINT_FORMATS: {
      // RFC 8422 §5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>.
      if (!e.vec(1, listR) || listR.empty()) return ErrorCode.DECODE_ERROR;
      CH.hasPointFormats = true;
      while (!listR.empty()) if (listR.u8() == 0) CH.pointUncompressed = true;
      break;
    }
    case Ext.EXTENDED_MASTER_SECRET: {
      // RFC 7627 §5.1: "The extension_data field of this extension is empty."
      CH.ems = true;
      break;
    }
    case Ext.RENEGOTIATION_INFO: {
      // RFC 5746 §3.2: opaque renegotiated_connection<0..255>; judged in the TLS 1.2 path (§3.6).
      if (!e.vec(1, listR)) return ErrorCode.DECODE_ERROR;
      CH.hasRenegInfo = true;
      CH.renegInfoEmpty = listR.empty();
      listR.pos = listR.end;
      break;
    }
    case Ext.PSK_KEY_EXCHANGE_MODES: {
      // §4.2.9: PskKeyExchangeMode ke_modes<1..255>.
      if (!e.vec(1, listR) || listR.empty()) return ErrorCode.DECODE_ERROR;
      listR.pos = listR.end;
      CH.hasPskModes = true;
      break;
    }
    case Ext.KEY_SHARE: {
      // §4.2.8: KeyShareEntry client_shares<0..2^16-1>; key_exchange<1..2^16-1>.
      if (!e.vec(2, listR)) return ErrorCode.DECODE_ERROR;
      CH.hasKeyShare = true;
      CH.shares = listR.pos;
      CH.sharesLen = <i32>listR.left();
      while (!listR.empty()) {
        const g = listR.u16();
        if (!listR.vec(2, itemR) || itemR.empty()) return ErrorCode.DECODE_ERROR;
        // §4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same group."
        if (bitTest(shareSeen, g)) return ErrorCode.ILLEGAL_PARAMETER;
        bitSet(shareSeen, g);
        CH.shareCount++;
        // §4.2.8.1, §4.2.8.2: X25519 shares are 32 bytes; NIST-curve shares are uncompressed points.
        const n = <i32>itemR.left();
        if (knownGroup(g) && (n != shareLength(g) || (g != NamedGroup.X25519 && load<u8>(itemR.pos) != 4))) return ErrorCode.BAD_KEY_SHARE;
      }
      break;
    }
    default:
      // Unknown extensions are ignored (§4.2), as are cookie (we never send one) and padding.
      e.pos = e.end;
  }
  return e.done() ? ErrorCode.NONE : ErrorCode.DECODE_ERROR;
}

/** Extensions whose change after a HelloRetryRequest §4.1.2 permits: left out of the fingerprint. */
function mayChangeAfterHrr(type: u32): bool {
  return type == Ext.KEY_SHARE || type == Ext.EARLY_DATA || type == Ext.COOKIE || type == Ext.PRE_SHARED_KEY || type == Ext.PADDING;
}

/** The alert for an ErrorCode found while reading a ClientHello. */
export function alertFor(code: i32): i32 {
  switch (code) {
    case ErrorCode.DECODE_ERROR: return Alert.DECODE_ERROR;
    case ErrorCode.NO_COMMON_VERSION: return Alert.PROTOCOL_VERSION;
    case ErrorCode.MISSING_EXTENSION: return Alert.MISSING_EXTENSION;
    case ErrorCode.NO_COMMON_ALPN: return Alert.NO_APPLICATION_PROTOCOL;
    case ErrorCode.NO_COMMON_CIPHER_SUITE:
    case ErrorCode.NO_COMMON_GROUP:
    case ErrorCode.NO_COMMON_SIGNATURE_SCHEME:
    case ErrorCode.NO_EXTENDED_MASTER_SECRET:
    case ErrorCode.BAD_RENEGOTIATION_INFO: return Alert.HANDSHAKE_FAILURE;
    case ErrorCode.INAPPROPRIATE_FALLBACK: return Alert.INAPPROPRIATE_FALLBACK;
    default: return Alert.ILLEGAL_PARAMETER;
  }
}

/** Reads the ClientHello's fields (not yet judging them). Returns an ErrorCode. */
function parseClientHello(body: usize, len: i32): i32 {
  resetCH();
  memory.fill(extSeen, 0, 8192);
  memory.fill(groupSeen, 0, 8192);
  memory.fill(shareSeen, 0, 8192);
  const r = msgR.reset(body, len);
  CH.legacyVersion = r.u16();
  CH.random = r.bytes(32);
  // legacy_session_id<0..32>
  if (!r.vec(1, vecR) || vecR.left() > 32) return ErrorCode.DECODE_ERROR;
  CH.sid = vecR.pos;
  CH.sidLen = <i32>vecR.left();
  // cipher_suites<2..2^16-2>
  if (!r.vec(2, vecR) || vecR.empty() || (vecR.left() & 1) != 0) return ErrorCode.DECODE_ERROR;
  CH.suites = vecR.pos;
  CH.suitesLen = <i32>vecR.left();
  // legacy_compression_methods<1..2^8-1>
  if (!r.vec(1, vecR) || vecR.empty()) return ErrorCode.DECODE_ERROR;
  CH.compression = vecR.pos;
  CH.compressionLen = <i32>vecR.left();
  if (r.bad) return ErrorCode.DECODE_ERROR;
  hash_init(chPrint, HASH_SHA256);
  hash_update(chPrint, body, r.pos - body);
  // Extension extensions<8..2^16-1>; absent only in pre-TLS 1.3 hellos (then: no supported_versions).
  if (r.empty()) return ErrorCode.NONE;
  if (!r.vec(2, extsR) || !r.done()) return ErrorCode.DECODE_ERROR;
  while (!extsR.empty()) {
    const start = extsR.pos;
    const type = extsR.u16();
    if (!extsR.vec(2, extR)) return ErrorCode.DECODE_ERROR;
    // §4.2: "There MUST NOT be more than one extension of the same type in a given extension block."
    if (bitTest(extSeen, type)) return ErrorCode.DUPLICATE_EXTENSION;
    bitSet(extSeen, type);
    // §4.2.11: pre_shared_key "MUST be the last extension in the ClientHello".
    if (CH.hasPsk) return ErrorCode.ILLEGAL_PARAMETER;
    const code = parseExtension(type, extR);
    if (code != ErrorCode.NONE) return code;
    if (!mayChangeAfterHrr(type)) hash_update(chPrint, start, extsR.pos - start);
  }
  return ErrorCode.NONE;
}

/** The suite by server or client preference (ConfigFlag.SERVER_CIPHER_ORDER); 0 if none (§4.1.1). */
function selectSuite(): u32 {
  if ((S.cfgFlags & ConfigFlag.SERVER_CIPHER_ORDER) != 0) {
    for (let i = 0; i < S.cfgSuiteCount; i++) {
      const s = <u32>load<u16>(cfgSuites + <usize>(i * 2));
      for (let j = 0; j < CH.suitesLen; j += 2) {
        if (((<u32>load<u8>(CH.suites + <usize>j) << 8) | <u32>load<u8>(CH.suites + <usize>j + 1)) == s) return s;
      }
    }
    return 0;
  }
  for (let j = 0; j < CH.suitesLen; j += 2) {
    const c = (<u32>load<u8>(CH.suites + <usize>j) << 8) | <u32>load<u8>(CH.suites + <usize>j + 1);
    for (let i = 0; i < S.cfgSuiteCount; i++) if (<u32>load<u16>(cfgSuites + <usize>(i * 2)) == c) return c;
  }
  return 0;
}

function setSuite(s: u32): void {
  S.suite = <i32>s;
  S.aead = s == CipherSuite.TLS_CHACHA20_POLY1305_SHA256 ? Aead.CHACHA : Aead.GCM;
  S.keyLen = s == CipherSuite.TLS_AES_128_GCM_SHA256 ? 16 : 32;
  S.hashAlg = s == CipherSuite.TLS_AES_256_GCM_SHA384 ? HASH_SHA384 : HASH_SHA256;
  S.hashLen = s == CipherSuite.TLS_AES_256_GCM_SHA384 ? 48 : 32;
}

/** The client's share found by findShare (pointing into the ClientHello). */
class Share {
  static ptr: usize = 0;
  static len: i32 = 0;
}
/** Looks up the client's KeyShareEntry for `group` into Share; false if it sent none. */
function findShare(group: u32): bool {
  const r = sharesR.reset(CH.shares, CH.sharesLen);
  while (!r.empty()) {
    const g = r.u16();
    r.vec(2, itemR);
    if (g == group) {
      Share.ptr = itemR.pos;
      Share.len = <i32>itemR.left();
      return true;
    }
  }
  return false;
}

/** The outcome of selectGroup. */
class GroupChoice {
  static group: u32 = 0;
  /** No share for the chosen group: a HelloRetryRequest must ask for one (§4.1.4). */
  static needRetry: bool = false;
}

/**
 * §4.2.8: a group both sides support. Preference: the server's order among groups the client sent
 * a share for (no extra round trip); otherwise the server's first group the client supports,
 * which costs a HelloRetryRequest. False if there is no common group (handshake_failure, §4.1.1).
 */
function selectGroup(): bool {
  for (let i = 0; i < S.cfgGroupCount; i++) {
    const g = <u32>load<u16>(cfgGroups + <usize>(i * 2));
    if (bitTest(groupSeen, g) && findShare(g)) {
      GroupChoice.group = g;
      GroupChoice.needRetry = false;
      return true;
    }
  }
  for (let i = 0; i < S.cfgGroupCount; i++) {
    const g = <u32>load<u16>(cfgGroups + <usize>(i * 2));
    if (bitTest(groupSeen, g)) {
      GroupChoice.group = g;
      GroupChoice.needRetry = true;
      return true;
    }
  }
  return false;
}

/** RFC 7301 §3.2: the first protocol in the server's order that the client offered. */
export function selectAlpn(): bool {
  const ours = cfgItemR.reset(cfgAlpn, S.cfgAlpnLen);
  while (!ours.empty()) {
    const n = ours.u8();
    const p = ours.bytes(n);
    const theirs = alpnListR.reset(CH.alpn, CH.alpnLen);
    while (!theirs.empty()) {
      const m = theirs.u8();
      const q = theirs.bytes(m);
      if (m == n && memory.compare(p, q, n) == 0) {
        memory.copy(alpnBuf, p, n);
        S.alpnLen = <i32>n;
        return true;
      }
    }
  }
  return false;
}

/** Judges a parsed ClientHello. `second`: this answers our HelloRetryRequest. Returns an ErrorCode. */
function judgeClientHello(second: bool): i32 {
  // §4.2.1: only supported_versions negotiates TLS 1.3; without 0x0304 in it we have no common version.
  // §4.1.2 and Appendix D: a TLS 1.3 ClientHello has legacy_version 0x0303.
  if (!CH.hasVersions || !CH.offers13 || CH.legacyVersion < 0x0303) return ErrorCode.NO_COMMON_VERSION;
  // §4.1.2: legacy_compression_methods MUST be exactly one zero byte, else illegal_parameter.
  if (CH.compressionLen != 1 || load<u8>(CH.compression) != 0) return ErrorCode.BAD_COMPRESSION;
  const suite = selectSuite();
  if (suite == 0) return ErrorCode.NO_COMMON_CIPHER_SUITE;
  if (second && <i32>suite != S.suite) return ErrorCode.ILLEGAL_PARAMETER;
  // §4.2.9: a PSK offer without psk_key_exchange_modes is refused.
  if (CH.hasPsk && !CH.hasPskModes) return ErrorCode.MISSING_EXTENSION;
  // §4.2.3: certificate authentication needs signature_algorithms.
  if (!CH.hasSigAlgs) return ErrorCode.MISSING_EXTENSION;
  if ((CH.sigMask & (SIG_PSS256 | SIG_PSS384 | SIG_PSS512 | SIG_P256 | SIG_P384)) == 0) return ErrorCode.NO_COMMON_SIGNATURE_SCHEME;
  // §9.2: without a PSK, supported_groups and key_share are both mandatory.
  if (!CH.hasGroups || !CH.hasKeyShare) return ErrorCode.MISSING_EXTENSION;
  // §4.2.8: every share's group must be listed in supported_groups.
  const r = sharesR.reset(CH.shares, CH.sharesLen);
  while (!r.empty()) {
    const g = r.u16();
    r.vec(2, itemR);
    if (!bitTest(groupSeen, g)) return ErrorCode.ILLEGAL_PARAMETER;
  }
  if (second) {
    // §4.1.2: the second ClientHello is the first one with only the permitted changes.
    hash_final(chPrint, tmp64);
    if (memory.compare(tmp64, chPrint1, 32) != 0) return ErrorCode.ILLEGAL_PARAMETER;
    // §4.2.10: no early_data after a HelloRetryRequest.
    if (CH.earlyData) return ErrorCode.ILLEGAL_PARAMETER;
    // §4.2.8: exactly one share, for the group the HelloRetryRequest named.
    if (CH.shareCount != 1 || !findShare(<u32>S.group)) return ErrorCode.ILLEGAL_PARAMETER;
    GroupChoice.group = <u32>S.group;
    GroupChoice.needRetry = false;
  } else {
    hash_final(chPrint, chPrint1);
    if (!selectGroup()) return ErrorCode.NO_COMMON_GROUP;
  }
  if (CH.hasAlpn && S.cfgAlpnLen > 0 && !selectAlpn()) return ErrorCode.NO_COMMON_ALPN;
  setSuite(suite);
  S.group = <i32>GroupChoice.group;
  return ErrorCode.NONE;
}

/** True if the client's cipher_suites list `value` (a signalling value, RFC 5746 §3.3 / RFC 7507 §2). */
export function offersSuite(value: u32): bool {
  for (let j = 0; j < CH.suitesLen; j += 2) {
    if (((<u32>load<u8>(CH.suites + <usize>j) << 8) | <u32>load<u8>(CH.suites + <usize>j + 1)) == value) return true;
  }
  return false;
}

/**
 * Version negotiation: TLS 1.3 if both sides have it; TLS 1.2 if the policy allows it and the
 * client offers nothing newer. Returns 0x0304, 0x0303, or 0 with `VersionChoice.error` set.
 */
class VersionChoice {
  static error: i32 = 0;
}
function chooseVersion(): i32 {
  const tls13 = (S.cfgFlags & ConfigFlag.NO_TLS13) == 0;
  const tls12 = (S.cfgFlags & ConfigFlag.TLS12) != 0;
  let v = 0;
  if (CH.hasVersions) {
    // RFC 8446 §4.2.1: with supported_versions, legacy_version is ignored for the choice.
    if (tls13 && CH.offers13) v = 0x0304;
    else if (tls12 && CH.offers12) v = 0x0303;
  } else if (tls12 && CH.legacyVersion >= 0x0303) {
    // RFC 5246 Appendix E.1: a client_version of 1.2 or above gets our highest version up to it, 1.2.
    v = 0x0303;
  }
  if (v == 0) {
    VersionChoice.error = ErrorCode.NO_COMMON_VERSION;
    return 0;
  }
  // RFC 7507 §3: TLS_FALLBACK_SCSV while the client's highest version is below ours: a downgrade
  // the client did not mean to make (inappropriate_fallback).
  if (v == 0x0303 && tls13 && offersSuite(Scsv.FALLBACK)) {
    VersionChoice.error = ErrorCode.INAPPROPRIATE_FALLBACK;
    return 0;
  }
  return v;
}

/** Step 1: the ClientHello (and, after a HelloRetryRequest, the second one). */
function processClientHello(msg: usize, total: i32, second: bool): void {
  let code = parseClientHello(msg + 4, total - 4);
  if (code == ErrorCode.NONE && !second) {
    const v = chooseVersion();
    if (v == 0) code = VersionChoice.error;
    else if (v == 0x0303) {
      processClientHello12(msg, total);
      return;
    }
  }
  if (code == ErrorCode.NONE) code = judgeClientHello(second);
  if (code != ErrorCode.NONE) {
    fail(alertFor(code), code);
    return;
  }
  S.version = 0x0304;
  S.clientSigSchemes = CH.sigMask;
  S.clientKeyKinds = ((CH.sigMask & (SIG_PSS256 | SIG_PSS384 | SIG_PSS512)) != 0 ? 1 : 0) |
    ((CH.sigMask & SIG_P256) != 0 ? 2 : 0) | ((CH.sigMask & SIG_P384) != 0 ? 4 : 0);
  if (!second) {
    memory.copy(sessionId, CH.sid, CH.sidLen);
    S.sessionIdLen = CH.sidLen;
    // §4.2.10: early data we will not accept; its records are skipped (up to the configured limit).
    S.earlyDataOffered = CH.earlyData;
    S.skippingEarly = CH.earlyData;
    if (CH.sni != 0) {
      memory.copy(sniBuf, CH.sni, CH.sniLen);
      S.sniLen = CH.sniLen;
      S.clientOfferedSni = true;
    }
    if (CH.recordLimit > 0) {
      // RFC 8449 §4: in TLS 1.3 the limit counts the inner content type byte.
      S.clientRecordLimit = CH.recordLimit;
      const limit = CH.recordLimit - 1;
      S.maxSendPlain = limit < MAX_PLAINTEXT ? limit : MAX_PLAINTEXT;
    }
    hash_init(transcript, S.hashAlg);
  }
  if (GroupChoice.needRetry) {
    // §4.4.1: the transcript restarts as message_hash(ClientHello1) before the HelloRetryRequest.
    hash(S.hashAlg, tmp64, msg, total);
    store<u32>(thash, bswap<u32>(0xfe000000 | <u32>S.hashLen));
    hash_update(transcript, thash, 4);
    hash_update(transcript, tmp64, S.hashLen);
    sendHelloRetryRequest();
    return;
  }
  if (second) S.skippingEarly = false;
  hash_update(transcript, msg, total);
  memory.copy(clientShare, Share.ptr, Share.len);
  S.clientShareLen = Share.len;
  S.phase = Phase.WAIT_CERT;
}

/** Appendix D.4: in middlebox compatibility mode, one dummy change_cipher_spec after our first handshake message. */
const ccsByte = memory.data<u8>([1]);
function sendCompatCcs(): void {
  if (S.sessionIdLen > 0 && !S.ccsSent) {
    sendPlain(ContentType.CHANGE_CIPHER_SPEC, ccsByte, 1);
    S.ccsSent = true;
  }
}

/** §4.1.4: HelloRetryRequest = ServerHello with the special random, naming the group we want. */
/**
 * Ends a ServerHello or HelloRetryRequest in the flight buffer: supported_versions naming TLS 1.3
 * (§4.2.1), the lengths patched, the message added to the transcript and sent in the clear, then
 * the middlebox-compatibility CCS (§D.4).
 */
function finishHello13(extAt: i32): void {
  w16(Ext.SUPPORTED_VERSIONS);
  w16(2);
  w16(0x0304);
  wPatch(extAt, 2);
  wPatch(1, 3);
  hash_update(transcript, flight, W.pos);
  sendPlain(ContentType.HANDSHAKE, flight, W.pos);
  sendCompatCcs();
}

function sendHelloRetryRequest(): void {
  wStart(flight, 0, FLIGHT_CAP);
  w8(HandshakeType.SERVER_HELLO);
  w24(0);
  w16(0x0303);
  wBytes(HRR_RANDOM, 32);
  w8(S.sessionIdLen);
  wBytes(sessionId, S.sessionIdLen);
  w16(S.suite);
  w8(0);
  const extAt = W.pos;
  w16(0);
  w16(Ext.KEY_SHARE);
  w16(2);
  w16(S.group);
  finishHello13(extAt);
  S.helloRetry = true;
  // §4.2.10: after a HelloRetryRequest, 0-RTT records (outer type application_data) are skipped.
  S.phase = Phase.EXPECT_CLIENT_HELLO_2;
}

// ---- After the host chose the certificate -----------------------------------------------------

/** Step 2 (host): the chain for this SNI. Validates the [u24 length][DER] framing; returns an ErrorCode. */
export function setCertificate(len: i32, keyKind: i32): i32 {
  if (S.phase != Phase.WAIT_CERT || S.failed) return ErrorCode.CALL_OUT_OF_ORDER;
  if (len == 0) {
    // RFC 6066 §3: no certificate for the name the client asked for.
    fail(S.clientOfferedSni ? Alert.UNRECOGNIZED_NAME : Alert.HANDSHAKE_FAILURE, ErrorCode.NO_CERTIFICATE);
    return ErrorCode.NO_CERTIFICATE;
  }
  const r = cfgR.reset(certBuf, len);
  let count = 0;
  while (!r.empty()) {
    if (!r.vec(3, itemR) || itemR.empty()) break;
    count++;
  }
  if (len <= 0 || !r.done() || count == 0) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_CERTIFICATE_INPUT);
    return ErrorCode.BAD_CERTIFICATE_INPUT;
  }
  S.certLen = len;
  if (S.version == 0x0303) return setCertificate12(keyKind);
  // §4.4.3 / §4.2.3: a scheme the client offered that this key can produce, in our preference order.
  let scheme: i32 = 0;
  const m = S.clientSigSchemes;
  if (keyKind == KeyKind.RSA) {
    if ((m & SIG_PSS256) != 0) scheme = SignatureScheme.RSA_PSS_RSAE_SHA256;
    else if ((m & SIG_PSS384) != 0) scheme = SignatureScheme.RSA_PSS_RSAE_SHA384;
    else if ((m & SIG_PSS512) != 0) scheme = SignatureScheme.RSA_PSS_RSAE_SHA512;
  } else if (keyKind == KeyKind.ECDSA_P256) {
    if ((m & SIG_P256) != 0) scheme = SignatureScheme.ECDSA_SECP256R1_SHA256;
  } else if (keyKind == KeyKind.ECDSA_P384) {
    if ((m & SIG_P384) != 0) scheme = SignatureScheme.ECDSA_SECP384R1_SHA384;
  } else {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_CERTIFICATE_INPUT);
    return ErrorCode.BAD_CERTIFICATE_INPUT;
  }
  if (scheme == 0) {
    fail(Alert.HANDSHAKE_FAILURE, ErrorCode.NO_COMMON_SIGNATURE_SCHEME);
    return ErrorCode.NONE;
  }
  S.keyKind = keyKind;
  S.sigScheme = scheme;
  if (!sendServerHello()) return ErrorCode.NONE;
  sendServerParameters();
  return ErrorCode.NONE;
}

/** Step 3: ServerHello (§4.1.3), then the handshake traffic keys (§7.1). */
function sendServerHello(): bool {
  wStart(flight, 0, FLIGHT_CAP);
  w8(HandshakeType.SERVER_HELLO);
  w24(0);
  w16(0x0303);
  // The server random is drawn before the key share (a replayed handshake feeds them in this order).
  const randomAt = W.pos;
  wRoom(32);
  randomFill(flight + <usize>randomAt, 32);
  W.pos += 32;
  w8(S.sessionIdLen);
  wBytes(sessionId, S.sessionIdLen);
  w16(S.suite);
  w8(0);
  const extAt = W.pos;
  w16(0);
  // key_share (§4.2.8): our ephemeral public value for the chosen group.
  w16(Ext.KEY_SHARE);
  const group = <u32>S.group;
  ecdheKeygen(group);
  // §7.4.2 (an all-zero X25519 result: a low-order point), §4.2.8.2 (a point on the curve, not
  // infinity): an invalid share is an illegal_parameter.
  const sharedLen = ecdheShared(group, clientShare, S.clientShareLen);
  if (sharedLen == 0) {
    fail(Alert.ILLEGAL_PARAMETER, ErrorCode.BAD_KEY_SHARE);
    return false;
  }
  const publicLen = shareLength(group);
  w16(4 + publicLen);
  w16(group);
  w16(publicLen);
  wBytes(ecdhePub, publicLen);
  finishHello13(extAt);
  deriveHandshakeSecrets(sharedLen);
  installWriteKeys(serverSecret);
  installReadKeys(clientSecret);
  return true;
}

/** Step 4: EncryptedExtensions and Certificate into the flight buffer; then ask the host to sign. */
function sendServerParameters(): void {
  wStart(flight, 0, FLIGHT_CAP);
  // EncryptedExtensions (§4.3.1)
  w8(HandshakeType.ENCRYPTED_EXTENSIONS);
  w24(0);
  const extAt = W.pos;
  w16(0);
  if (S.clientRecordLimit > 0) {
    // RFC 8449 §4: our limit, 2^14 + 1 (TLS 1.3 counts the content type byte).
    w16(Ext.RECORD_SIZE_LIMIT);
    w16(2);
    w16(MAX_PLAINTEXT + 1);
  }
  writeNameAndAlpnAcks();
  wPatch(extAt, 2);
  wPatch(1, 3);
  // Certificate (§4.4.2): empty request context; each entry is cert_data + empty extensions.
  const certAt = W.pos;
  w8(HandshakeType.CERTIFICATE);
  w24(0);
  w8(0);
  const listAt = W.pos;
  w24(0);
  const r = cfgR.reset(certBuf, S.certLen);
  while (!r.empty()) {
    r.vec(3, itemR);
    w24(<u32>itemR.left());
    wBytes(itemR.pos, <i32>itemR.left());
    w16(0);
  }
  wPatch(listAt, 3);
  wPatch(certAt + 1, 3);
  if (W.overflow) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_CERTIFICATE_INPUT);
    return;
  }
  hash_update(transcript, flight, W.pos);
  S.flightLen = W.pos;
  // §4.4.3: the key server signs 64×0x20 ‖ context ‖ 0 ‖ Transcript-Hash(ClientHello..Certificate);
  // it gets only the hash and builds the rest itself (DESIGN.md invariant 6).
  transcriptHash(thash);
  S.phase = Phase.WAIT_KEY_OP;
  host_key_op_request(KeyOp.SIGN_TLS13_SERVER_CERT_VERIFY, S.sigScheme, thash, S.hashLen);
}

/** Step 5 (host signed): CertificateVerify and Finished; the whole flight sealed at once. */
export function keyOpDone(len: i32): i32 {
  if (S.phase != Phase.WAIT_KEY_OP || S.failed) return ErrorCode.CALL_OUT_OF_ORDER;
  if (S.version == 0x0303) return keyOpDone12(len);
  if (len == 0) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.KEY_OP_FAILED);
    return ErrorCode.KEY_OP_FAILED;
  }
  // An ECDSA DER signature is at most 72 (P-256) or 104 (P-384) bytes; RSA at most the buffer.
  const maxSig = S.keyKind == KeyKind.ECDSA_P256 ? 72 : S.keyKind == KeyKind.ECDSA_P384 ? 104 : KEYOP_CAP;
  if (len < 0 || len > maxSig) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_KEY_OP_RESULT);
    return ErrorCode.BAD_KEY_OP_RESULT;
  }
  wStart(flight, S.flightLen, FLIGHT_CAP);
  const cvAt = W.pos;
  w8(HandshakeType.CERTIFICATE_VERIFY);
  w24(0);
  w16(S.sigScheme);
  w16(len);
  wBytes(keyopBuf, len);
  wPatch(cvAt + 1, 3);
  if (W.overflow) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.BAD_KEY_OP_RESULT);
    return ErrorCode.BAD_KEY_OP_RESULT;
  }
  hash_update(transcript, flight + <usize>cvAt, W.pos - cvAt);
  // Finished (§4.4.4): HMAC(finished_key(server hs secret), Transcript-Hash(..CertificateVerify)).
  const finAt = W.pos;
  w8(HandshakeType.FINISHED);
  w24(S.hashLen);
  wRoom(S.hashLen);
  finishedMac(serverSecret, flight + <usize>W.pos);
  W.pos += S.hashLen;
  hash_update(transcript, flight + <usize>finAt, W.pos - finAt);
  // The client's Finished will MAC exactly this transcript (no client certificate): compute it now.
  finishedMac(clientSecret, expectedFinished);
  deriveApplicationSecrets();
  if (!sendProtected(ContentType.HANDSHAKE, flight, W.pos)) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.SEND_BUFFER_FULL);
    return ErrorCode.NONE;
  }
  installWriteKeys(serverAppSecret);
  S.phase = Phase.EXPECT_FINISHED;
  return ErrorCode.NONE;
}

/** Step 6: the client's Finished (§4.4.4), compared in constant time. */
function readClientFinished(msg: usize, total: i32): void {
  if (total - 4 != S.hashLen) {
    fail(Alert.DECODE_ERROR, ErrorCode.DECODE_ERROR);
    return;
  }
  if (ctEqualBytes(msg + 4, expectedFinished, <usize>S.hashLen) == 0) {
    fail(Alert.DECRYPT_ERROR, ErrorCode.BAD_FINISHED);
    return;
  }
  hash_update(transcript, msg, total);
  installReadKeys(clientAppSecret);
  wipeSecrets();
  wipe(expectedFinished, 64);
  S.phase = Phase.CONNECTED;
  S.handshakeDone = true;
  S.skippingEarly = false;
}

// ---- Post-handshake: KeyUpdate (§4.6.3) --------------------------------------------------------

const keyUpdateMsg = memory.data(5);

/** Sends KeyUpdate(update_not_requested) under the current key, then moves to the next write key. */
export function sendKeyUpdate(): bool {
  store<u8>(keyUpdateMsg, HandshakeType.KEY_UPDATE);
  store<u8>(keyUpdateMsg + 1, 0);
  store<u8>(keyUpdateMsg + 2, 0);
  store<u8>(keyUpdateMsg + 3, 1);
  store<u8>(keyUpdateMsg + 4, 0);
  if (!sendProtected(ContentType.HANDSHAKE, keyUpdateMsg, 5)) return false;
  nextTrafficSecret(serverAppSecret);
  installWriteKeys(serverAppSecret);
  return true;
}

function readKeyUpdate(msg: usize, total: i32): void {
  if (total != 5) {
    fail(Alert.DECODE_ERROR, ErrorCode.DECODE_ERROR);
    return;
  }
  const req = load<u8>(msg + 4);
  // §4.6.3: request_update is 0 or 1, else illegal_parameter.
  if (req > 1) {
    fail(Alert.ILLEGAL_PARAMETER, ErrorCode.ILLEGAL_PARAMETER);
    return;
  }
  // A peer may not make us rekey forever without sending data (a cheap CPU sink).
  S.keyUpdatesInRow++;
  if (S.keyUpdatesInRow > S.cfgMaxKeyUpdates) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.TOO_MANY_KEY_UPDATES);
    return;
  }
  nextTrafficSecret(clientAppSecret);
  installReadKeys(clientAppSecret);
  if (req == 1 && !S.localClosed) {
    if (!sendKeyUpdate()) fail(Alert.INTERNAL_ERROR, ErrorCode.SEND_BUFFER_FULL);
  }
}

// ---- Dispatch ---------------------------------------------------------------------------------

/** Largest acceptable body for a handshake message of `type` in the current phase, or -1: unexpected. */
export function maxBodyFor(type: u32): i32 {
  switch (S.phase) {
    case Phase.EXPECT_CLIENT_HELLO:
    case Phase.EXPECT_CLIENT_HELLO_2:
      return type == HandshakeType.CLIENT_HELLO ? 16384 : -1;
    case Phase.EXPECT_FINISHED:
      return type == HandshakeType.FINISHED ? 64 : -1;
    case Phase.CONNECTED:
      // TLS 1.2 has no KeyUpdate; a ClientHello is a renegotiation attempt, read only to refuse it.
      if (S.version == 0x0303) return type == HandshakeType.CLIENT_HELLO ? 16384 : -1;
      return type == HandshakeType.KEY_UPDATE ? 1 : -1;
    case Phase.EXPECT_CLIENT_KEY_EXCHANGE:
      return type == HandshakeType.CLIENT_KEY_EXCHANGE ? MAX_CLIENT_KEY_EXCHANGE : -1;
    case Phase.EXPECT_FINISHED_12:
      // RFC 5246 §7.4.9: verify_data is 12 bytes for every suite we have.
      return type == HandshakeType.FINISHED ? 12 : -1;
    default:
      return -1;
  }
}

/**
 * One complete handshake message (header included). Returns true if it must end at a record
 * boundary (§5.1: ClientHello, Finished and KeyUpdate can precede a key change).
 */
export function handleHandshake(msg: usize, total: i32): bool {
  switch (S.phase) {
    case Phase.EXPECT_CLIENT_HELLO:
      processClientHello(msg, total, false);
      return true;
    case Phase.EXPECT_CLIENT_HELLO_2:
      processClientHello(msg, total, true);
      return true;
    case Phase.EXPECT_FINISHED:
      readClientFinished(msg, total);
      return true;
    case Phase.CONNECTED:
      if (S.version == 0x0303) {
        refuseRenegotiation(msg, total);
        return false;
      }
      readKeyUpdate(msg, total);
      return true;
    case Phase.EXPECT_CLIENT_KEY_EXCHANGE:
      readClientKeyExchange(msg, total);
      return true;
    case Phase.EXPECT_FINISHED_12:
      readClientFinished12(msg, total);
      return true;
  }
  fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_MESSAGE);
  return true;
}
