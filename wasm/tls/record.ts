// The record layer (RFC 8446 §5): the send buffer, record protection with per-direction keys and
// sequence numbers, and alerts. Receiving lives in conn.ts, which dispatches by content type.
import { Alert } from "../abi";
import { gcm_init, gcm_seal, gcm_open } from "../crypto/gcm";
import { chacha20_poly1305_seal, chacha20_poly1305_open } from "../crypto/chacha20poly1305";
import { hkdf_expand_label } from "../crypto/hkdf";
import { wipe } from "../crypto/ct";
import { L_KEY, L_IV } from "./labels";
import {
  S, Aead, sendBuf, SEND_CAP, SEND_RESERVE, HEADER, TAG, MAX_PLAINTEXT, readGcm, writeGcm, readKey, writeKey, readIv,
  writeIv, nonce, keyBlock, aad12,
} from "./state";

export const enum ContentType {
  CHANGE_CIPHER_SPEC = 20,
  ALERT = 21,
  HANDSHAKE = 22,
  APPLICATION_DATA = 23,
}

// ---- Keys ------------------------------------------------------------------------------------

/** RFC 8446 §7.3: [sender]_write_key and _iv from a traffic secret; the sequence number restarts at 0. */
export function installReadKeys(secret: usize): void {
  hkdf_expand_label(S.hashAlg, readKey, S.keyLen, secret, L_KEY, 3, 0, 0);
  hkdf_expand_label(S.hashAlg, readIv, 12, secret, L_IV, 2, 0, 0);
  if (S.aead == Aead.GCM) gcm_init(readGcm, readKey, S.keyLen);
  S.readSeq = 0;
  S.readActive = true;
}

export function installWriteKeys(secret: usize): void {
  hkdf_expand_label(S.hashAlg, writeKey, S.keyLen, secret, L_KEY, 3, 0, 0);
  hkdf_expand_label(S.hashAlg, writeIv, 12, secret, L_IV, 2, 0, 0);
  if (S.aead == Aead.GCM) gcm_init(writeGcm, writeKey, S.keyLen);
  S.writeSeq = 0;
  S.writeActive = true;
}

// ---- TLS 1.2 record protection (RFC 5246 §6.2.3.3) -----------------------------------------------
//
// AES-GCM (RFC 5288 §3): nonce = salt[4] (client/server_write_IV) ‖ nonce_explicit[8]; the
// explicit part travels in front of the ciphertext and is our write sequence number, so it never
// repeats under one key. ChaCha20-Poly1305 (RFC 7905 §2): nonce = IV[12] XOR (0^4 ‖ seq), nothing
// explicit. Both: additional_data = seq_num ‖ type ‖ version ‖ length (of the plaintext).

/** Bytes of explicit nonce in front of a TLS 1.2 record's ciphertext (8 for AES-GCM, else 0). */
export function explicitNonceLen(): i32 {
  return S.version == 0x0303 && S.aead == Aead.GCM ? 8 : 0;
}

/**
 * RFC 5246 §6.3: the key block is client_write_key ‖ server_write_key ‖ client_write_IV ‖
 * server_write_IV (no MAC keys with an AEAD). The client's half becomes the read keys.
 */
export function installReadKeys12(): void {
  memory.copy(readKey, keyBlock, S.keyLen);
  memory.copy(readIv, keyBlock + <usize>(2 * S.keyLen), S.ivLen);
  if (S.aead == Aead.GCM) gcm_init(readGcm, readKey, S.keyLen);
  wipe(keyBlock, <usize>S.keyLen);
  wipe(keyBlock + <usize>(2 * S.keyLen), <usize>S.ivLen);
  S.readSeq = 0;
  S.readActive = true;
}

export function installWriteKeys12(): void {
  memory.copy(writeKey, keyBlock + <usize>S.keyLen, S.keyLen);
  memory.copy(writeIv, keyBlock + <usize>(2 * S.keyLen + S.ivLen), S.ivLen);
  if (S.aead == Aead.GCM) gcm_init(writeGcm, writeKey, S.keyLen);
  wipe(keyBlock + <usize>S.keyLen, <usize>S.keyLen);
  wipe(keyBlock + <usize>(2 * S.keyLen + S.ivLen), <usize>S.ivLen);
  S.writeSeq = 0;
  S.writeActive = true;
}

function storeSeq(p: usize, seq: u64): void {
  for (let i = 0; i < 8; i++) store<u8>(p + <usize>i, <u8>(seq >> (<u64>(56 - i * 8))));
}

/** additional_data (RFC 5246 §6.2.3.3) into aad12: seq_num ‖ type ‖ 0x0303 ‖ plaintext length. */
function makeAad12(seq: u64, type: u32, len: i32): void {
  storeSeq(aad12, seq);
  store<u8>(aad12 + 8, <u8>type);
  store<u8>(aad12 + 9, 3);
  store<u8>(aad12 + 10, 3);
  store<u8>(aad12 + 11, <u8>(len >> 8));
  store<u8>(aad12 + 12, <u8>len);
}

/** The per-record nonce: GCM salt ‖ explicit (at `explicit`), or the ChaCha IV XOR the sequence number. */
function makeNonce12(iv: usize, seq: u64, explicit: usize): void {
  if (S.aead == Aead.GCM) {
    memory.copy(nonce, iv, 4);
    memory.copy(nonce + 4, explicit, 8);
  } else {
    makeNonce(iv, seq);
  }
}

/**
 * Opens the TLS 1.2 record at `rec` (header + `len` bytes) in place: the plaintext is left at
 * rec + HEADER + explicitNonceLen(). Returns its length, or -1 if the record is not authentic
 * (bad_record_mac, RFC 5246 §7.2.2; nothing is said about why).
 */
export function openRecord12(rec: usize, len: i32): i32 {
  const x = explicitNonceLen();
  if (len < x + TAG) return -1;
  const body = rec + HEADER + <usize>x;
  const n = len - x - TAG;
  makeNonce12(readIv, S.readSeq, rec + HEADER);
  makeAad12(S.readSeq, <u32>load<u8>(rec), n);
  let ok: i32 = 0;
  if (S.aead == Aead.GCM) ok = gcm_open(readGcm, nonce, aad12, 13, body, n, body, body + <usize>n);
  else ok = chacha20_poly1305_open(readKey, nonce, aad12, 13, body, n, body, body + <usize>n);
  if (ok == 0) return -1;
  S.readSeq++;
  return n;
}

/** Protects `len` bytes at sendBuf + sendEnd + HEADER + explicitNonceLen() as one TLS 1.2 record of `type`. */
function sealInPlace12(type: u32, len: i32): void {
  const p = sendBuf + <usize>S.sendEnd;
  const x = explicitNonceLen();
  const body = p + HEADER + <usize>x;
  // RFC 5288 §3: the explicit nonce is the sequence number (never repeated under this key).
  if (x > 0) storeSeq(p + HEADER, S.writeSeq);
  makeNonce12(writeIv, S.writeSeq, p + HEADER);
  makeAad12(S.writeSeq, type, len);
  header(p, type, x + len + TAG);
  if (S.aead == Aead.GCM) gcm_seal(writeGcm, nonce, aad12, 13, body, len, body, body + <usize>len);
  else chacha20_poly1305_seal(writeKey, nonce, aad12, 13, body, len, body, body + <usize>len);
  S.writeSeq++;
  S.sendEnd += HEADER + x + len + TAG;
}

/** RFC 8446 §5.3: the 64-bit sequence number, big-endian, left-padded to the IV length and XORed in. */
function makeNonce(iv: usize, seq: u64): void {
  memory.copy(nonce, iv, 12);
  for (let i = 0; i < 8; i++) {
    const p = nonce + 11 - <usize>i;
    store<u8>(p, load<u8>(p) ^ <u8>(seq >> (<u64>i * 8)));
  }
}

/**
 * Opens the protected record at `rec` (header + `len` bytes of ciphertext) in place.
 * Returns 1 if authentic. Failure reveals nothing about why (RFC 8446 §5.2: bad_record_mac).
 */
export function openRecord(rec: usize, len: i32): i32 {
  if (len < TAG + 1) return 0;
  makeNonce(readIv, S.readSeq);
  const body = rec + HEADER;
  const n = len - TAG;
  let ok: i32 = 0;
  if (S.aead == Aead.GCM) ok = gcm_open(readGcm, nonce, rec, HEADER, body, n, body, body + <usize>n);
  else ok = chacha20_poly1305_open(readKey, nonce, rec, HEADER, body, n, body, body + <usize>n);
  if (ok != 0) S.readSeq++;
  return ok;
}

// ---- The send buffer -------------------------------------------------------------------------

export function sendPending(): i32 {
  return S.sendEnd - S.sendStart;
}

/** Makes `n` contiguous bytes available at sendBuf + sendEnd if the buffer can hold them. */
export function reserveTail(n: i32): bool {
  if (SEND_CAP - S.sendEnd >= n) return true;
  const pending = S.sendEnd - S.sendStart;
  if (SEND_CAP - pending < n) return false;
  memory.copy(sendBuf, sendBuf + <usize>S.sendStart, pending);
  S.sendStart = 0;
  S.sendEnd = pending;
  S.appInAt = -1;
  return true;
}

/** Free bytes for ordinary output, keeping SEND_RESERVE for an alert or KeyUpdate. */
export function sendRoom(): i32 {
  return SEND_CAP - (S.sendEnd - S.sendStart) - SEND_RESERVE;
}

function header(p: usize, type: u32, len: i32): void {
  store<u8>(p, <u8>type);
  // RFC 8446 §5.1: legacy_record_version is 0x0303 on everything a TLS 1.3 server sends.
  store<u8>(p + 1, 3);
  store<u8>(p + 2, 3);
  store<u8>(p + 3, <u8>(len >> 8));
  store<u8>(p + 4, <u8>len);
}

/** A plaintext record (ServerHello, HelloRetryRequest, the compatibility CCS, early alerts). */
export function sendPlain(type: u32, src: usize, len: i32): bool {
  if (!reserveTail(HEADER + len)) return false;
  const p = sendBuf + <usize>S.sendEnd;
  header(p, type, len);
  memory.copy(p + HEADER, src, len);
  S.sendEnd += HEADER + len;
  return true;
}

/**
 * Protects `len` bytes already placed at sendBuf + sendEnd + HEADER as one record of inner type
 * `type` (RFC 8446 §5.2: TLSInnerPlaintext = content ‖ type, no padding; outer type 23).
 */
export function sealInPlace(type: u32, len: i32): void {
  if (S.version == 0x0303) {
    sealInPlace12(type, len);
    return;
  }
  const p = sendBuf + <usize>S.sendEnd;
  const body = p + HEADER;
  store<u8>(body + <usize>len, <u8>type);
  const inner = len + 1;
  header(p, ContentType.APPLICATION_DATA, inner + TAG);
  makeNonce(writeIv, S.writeSeq);
  if (S.aead == Aead.GCM) gcm_seal(writeGcm, nonce, p, HEADER, body, inner, body, body + <usize>inner);
  else chacha20_poly1305_seal(writeKey, nonce, p, HEADER, body, inner, body, body + <usize>inner);
  S.writeSeq++;
  S.sendEnd += HEADER + inner + TAG;
}

/** Copies `len` bytes from src and protects them as records of at most maxSendPlain bytes each. */
export function sendProtected(type: u32, src: usize, len: i32): bool {
  let off = 0;
  while (off < len) {
    let n = len - off;
    if (n > S.maxSendPlain) n = S.maxSendPlain;
    // TLS 1.3 appends the content type (§5.2); TLS 1.2 AES-GCM puts 8 bytes in front (RFC 5288 §3).
    const x = explicitNonceLen();
    if (!reserveTail(HEADER + x + n + 1 + TAG)) return false;
    memory.copy(sendBuf + <usize>S.sendEnd + HEADER + <usize>x, src + <usize>off, n);
    sealInPlace(type, n);
    off += n;
  }
  return true;
}

/** Sends with protection if write keys are installed, in plaintext otherwise. */
export function sendMessage(type: u32, src: usize, len: i32): bool {
  if (S.writeActive) return sendProtected(type, src, len);
  return sendPlain(type, src, len);
}

// ---- Alerts ----------------------------------------------------------------------------------

const alertScratch = memory.data(2);

/** A warning alert (RFC 5246 §7.2: the connection goes on), recorded as the last alert sent. */
export function sendWarning(desc: i32): void {
  if (S.localClosed || S.failed) return;
  S.alertSent = desc;
  sendAlert(1, <u32>desc);
}

function sendAlert(level: u32, desc: u32): void {
  store<u8>(alertScratch, <u8>level);
  store<u8>(alertScratch + 1, <u8>desc);
  // The reserve guarantees room; if the host never drained the buffer the alert is dropped.
  sendMessage(ContentType.ALERT, alertScratch, 2);
}

/**
 * The one way a connection fails: send a fatal alert (RFC 8446 §6.2), remember why, and stop.
 * After this every received byte is discarded and nothing else is sent.
 */
export function fail(alert: i32, code: i32): void {
  if (S.failed) return;
  S.failed = true;
  S.error = code;
  S.alertSent = alert;
  sendAlert(2, <u32>alert);
  S.localClosed = true;
  wipeKeys();
}

/** Fails after the peer's fatal alert: nothing is sent back (RFC 8446 §6.2). */
export function failByPeer(alert: i32, code: i32): void {
  if (S.failed) return;
  S.failed = true;
  S.error = code;
  S.alertReceived = alert;
  wipeKeys();
}

/** close_notify (RFC 8446 §6.1): our side will send nothing more. */
export function sendCloseNotify(): void {
  if (S.localClosed || S.failed) return;
  sendAlert(1, Alert.CLOSE_NOTIFY);
  S.localClosed = true;
}

export function wipeKeys(): void {
  wipe(keyBlock, 96);
  wipe(readKey, 32);
  wipe(writeKey, 32);
  wipe(readIv, 12);
  wipe(writeIv, 12);
}

export function maxPlainForApp(): i32 {
  return S.maxSendPlain < MAX_PLAINTEXT ? S.maxSendPlain : MAX_PLAINTEXT;
}
