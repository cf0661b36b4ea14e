// Receiving: records from the network (RFC 8446 §5), dispatched by content type; plaintext for
// the backend; plaintext from the backend; the Status flags. Sans-I/O: the host writes into the
// windows this module names and pulls what it produces.
import { Alert, ErrorCode, Status } from "../abi";
import {
  S, Phase, recvBuf, RECV_CAP, HEADER, TAG, MAX_PLAINTEXT, MAX_CIPHERTEXT, hsIn, HS_IN_CAP, appOut, APP_OUT_CAP, sendBuf,
  SEND_RESERVE, Aead, MAX_REKEY_AFTER,
} from "./state";
import {
  ContentType, fail, failByPeer, openRecord, reserveTail, sealInPlace, sendRoom, sendPending, maxPlainForApp,
  sendCloseNotify, openRecord12, explicitNonceLen,
} from "./record";
import { readChangeCipherSpec12 } from "./handshake12";
import { handleHandshake, maxBodyFor, sendKeyUpdate } from "./handshake";
// LAB HOOK (test-only variants, wasm/tls/lab.ts): compiled away unless `node build.mjs --lab`.
import { labApplicationData, labHeartbeat, LAB_CONTENT_TYPE_HEARTBEAT } from "./lab";

// ---- Network → engine ---------------------------------------------------------------------------

export function recvWindow(): i32 {
  return RECV_CAP - S.recvLen;
}

/** The host wrote `len` bytes at recvBuf + recvLen. */
export function recv(len: i32): void {
  if (len < 0 || len > RECV_CAP - S.recvLen) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.CALL_OUT_OF_ORDER);
    S.recvLen = 0;
    return;
  }
  S.recvLen += len;
  processRecords();
}

/** Processes every complete record the buffers allow; keeps a partial record for later. */
export function processRecords(): void {
  let pos = 0;
  while (true) {
    // RFC 8446 §6.2: after a fatal alert, nothing more is processed; after close_notify (§6.1)
    // everything the peer sends is ignored.
    if (S.failed || S.peerClosed) { pos = S.recvLen; break; }
    // Paused for the host (certificate or signature): records wait in the buffer.
    if (S.phase == Phase.WAIT_CERT || S.phase == Phase.WAIT_KEY_OP || S.phase == Phase.UNCONFIGURED) break;
    // Backpressure: room for one record's plaintext, and for a KeyUpdate answer or an alert.
    if (APP_OUT_CAP - S.appOutEnd < MAX_PLAINTEXT) {
      compactAppOut();
      if (APP_OUT_CAP - S.appOutEnd < MAX_PLAINTEXT) break;
    }
    if (sendRoom() < SEND_RESERVE) break;
    const avail = S.recvLen - pos;
    if (avail < HEADER) break;
    const rec = recvBuf + <usize>pos;
    const type = <u32>load<u8>(rec);
    const len = (<i32>load<u8>(rec + 3) << 8) | <i32>load<u8>(rec + 4);
    // §5: an unknown record type is unexpected_message. (legacy_record_version is ignored, §5.1.)
    if (<i32>type < ContentType.CHANGE_CIPHER_SPEC || <i32>type > ContentType.APPLICATION_DATA) {
      fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.BAD_RECORD_TYPE);
      continue;
    }
    // §5.1 / §5.2: plaintext fragments at most 2^14, protected ones at most 2^14 + 256.
    // TLS 1.2 (RFC 5246 §6.2.3): once the client's CCS switched keys, every record is protected.
    const protectedRecord = type == ContentType.APPLICATION_DATA || (S.version == 0x0303 && S.readActive);
    if (len > (protectedRecord ? MAX_CIPHERTEXT : MAX_PLAINTEXT)) {
      fail(Alert.RECORD_OVERFLOW, ErrorCode.RECORD_OVERFLOW);
      continue;
    }
    if (avail < HEADER + len) break;
    pos += HEADER + len;
    handleRecord(rec, type, len);
  }
  if (pos > 0) {
    memory.copy(recvBuf, recvBuf + <usize>pos, S.recvLen - pos);
    S.recvLen -= pos;
  }
}

function handleRecord(rec: usize, outerType: u32, len: i32): void {
  let body = rec + HEADER;
  let type = outerType;
  let n = len;
  if (S.version == 0x0303) {
    handleRecord12(rec, outerType, len);
    return;
  }
  if (outerType == ContentType.CHANGE_CIPHER_SPEC) {
    readChangeCipherSpec(body, len);
    return;
  }
  if (S.readActive) {
    if (outerType != ContentType.APPLICATION_DATA) {
      // §5: with protection on, only application_data (and the compatibility CCS) may appear.
      fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.BAD_RECORD_TYPE);
      return;
    }
    if (openRecord(rec, len) == 0) {
      // §4.2.10: declined 0-RTT data arrives under keys we do not have: skip records that do not
      // open, up to the configured amount, until one does.
      if (S.skippingEarly && <u64>S.earlySkipped + <u64>len <= <u64>S.cfgMaxEarly) {
        S.earlySkipped += <u32>len;
        return;
      }
      fail(Alert.BAD_RECORD_MAC, ErrorCode.BAD_RECORD_MAC);
      return;
    }
    S.skippingEarly = false;
    // §5.4: strip the zero padding; the content type is the last non-zero byte.
    let i = len - TAG - 1;
    while (i >= 0 && load<u8>(body + <usize>i) == 0) i--;
    if (i < 0) {
      fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.BAD_RECORD_TYPE);
      return;
    }
    type = <u32>load<u8>(body + <usize>i);
    n = i;
    // §5.2: "The length MUST NOT exceed 2^14 + 1 octets" for TLSInnerPlaintext.
    if (n > MAX_PLAINTEXT) {
      fail(Alert.RECORD_OVERFLOW, ErrorCode.RECORD_OVERFLOW);
      return;
    }
    // LAB HOOK (heartbleed variant only; LAB_HEARTBLEED is an asc --use constant, 0 in every other build).
    // @ts-ignore: asc --use constant
    if (LAB_HEARTBLEED != 0 && type == LAB_CONTENT_TYPE_HEARTBEAT) {
      labHeartbeat(body, n);
      return;
    }
    if (type != ContentType.HANDSHAKE && type != ContentType.ALERT && type != ContentType.APPLICATION_DATA) {
      fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.BAD_RECORD_TYPE);
      return;
    }
  } else if (outerType == ContentType.APPLICATION_DATA) {
    // No keys yet: after a HelloRetryRequest, declined 0-RTT records are skipped (§4.2.10);
    // anything else is application data before the handshake.
    if (S.skippingEarly && S.phase == Phase.EXPECT_CLIENT_HELLO_2 && <u64>S.earlySkipped + <u64>len <= <u64>S.cfgMaxEarly) {
      S.earlySkipped += <u32>len;
      return;
    }
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_MESSAGE);
    return;
  }
  if (type == ContentType.HANDSHAKE) readHandshake(body, n);
  else if (type == ContentType.ALERT) readAlert(body, n);
  else readApplicationData(body, n);
}

/**
 * TLS 1.2 records (RFC 5246 §6.2): the content type is the record's own; after the client's
 * ChangeCipherSpec every record, whatever its type, is an AEAD record (§6.2.3.3).
 */
function handleRecord12(rec: usize, type: u32, len: i32): void {
  let body = rec + HEADER;
  let n = len;
  if (type == ContentType.CHANGE_CIPHER_SPEC) {
    // §7.1: one CCS, before the client's Finished; a second one (it would be protected now) is unexpected.
    if (S.readActive) {
      fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_CHANGE_CIPHER_SPEC);
      return;
    }
    readChangeCipherSpec12(body, len);
    return;
  }
  if (S.readActive) {
    n = openRecord12(rec, len);
    if (n < 0) {
      fail(Alert.BAD_RECORD_MAC, ErrorCode.BAD_RECORD_MAC);
      return;
    }
    // §6.2.3: decrypted fragments longer than 2^14 are a record_overflow.
    if (n > MAX_PLAINTEXT) {
      fail(Alert.RECORD_OVERFLOW, ErrorCode.RECORD_OVERFLOW);
      return;
    }
    body = rec + HEADER + <usize>explicitNonceLen();
  } else if (type == ContentType.APPLICATION_DATA) {
    // §7.4.9: no application data before the handshake (and its keys).
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_MESSAGE);
    return;
  }
  if (type == ContentType.HANDSHAKE) readHandshake(body, n);
  else if (type == ContentType.ALERT) readAlert(body, n);
  else readApplicationData(body, n);
}

/** §5 and Appendix D.4: one CCS of the single byte 0x01, after the first ClientHello and before the client's Finished. */
function readChangeCipherSpec(body: usize, len: i32): void {
  if (len != 1 || load<u8>(body) != 1 || S.ccsSeen || S.hsInLen > 0 ||
      S.phase == Phase.EXPECT_CLIENT_HELLO || S.phase == Phase.CONNECTED) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_CHANGE_CIPHER_SPEC);
    return;
  }
  S.ccsSeen = true;
}

function readHandshake(body: usize, n: i32): void {
  // §5.1: "Implementations MUST NOT send zero-length fragments of Handshake types".
  if (n == 0) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.EMPTY_RECORD);
    return;
  }
  if (S.hsInLen + n > HS_IN_CAP) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.HANDSHAKE_MESSAGE_TOO_LARGE);
    return;
  }
  memory.copy(hsIn + <usize>S.hsInLen, body, n);
  S.hsInLen += n;
  // Many messages may share a record; one message may span many records (§5.1).
  while (S.hsInLen >= 4 && !S.failed) {
    const type = <u32>load<u8>(hsIn);
    const mlen = (<i32>load<u8>(hsIn + 1) << 16) | (<i32>load<u8>(hsIn + 2) << 8) | <i32>load<u8>(hsIn + 3);
    const max = maxBodyFor(type);
    if (max < 0) {
      fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_MESSAGE);
      return;
    }
    if (mlen > max) {
      // The size limit of the phase: ClientHello 16 KiB, Finished one hash, KeyUpdate one byte.
      // TLS 1.2 (RFC 5246 §7.4.7, §7.4.9): a ClientKeyExchange or Finished of the wrong size is a decode_error too.
      const sized = S.phase == Phase.CONNECTED || S.phase == Phase.EXPECT_FINISHED || S.phase == Phase.EXPECT_FINISHED_12 ||
        S.phase == Phase.EXPECT_CLIENT_KEY_EXCHANGE;
      fail(sized ? Alert.DECODE_ERROR : Alert.ILLEGAL_PARAMETER,
        ErrorCode.HANDSHAKE_MESSAGE_TOO_LARGE);
      return;
    }
    const total = 4 + mlen;
    if (S.hsInLen < total) return;
    const boundary = handleHandshake(hsIn, total);
    memory.copy(hsIn, hsIn + <usize>total, S.hsInLen - total);
    S.hsInLen -= total;
    // §5.1: messages that can precede a key change must end their record.
    if (boundary && S.hsInLen > 0 && !S.failed) {
      fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.INTERLEAVED_HANDSHAKE);
      return;
    }
  }
}

/** §6: an alert is exactly two bytes, never fragmented nor coalesced, never inside a handshake message. */
function readAlert(body: usize, n: i32): void {
  if (S.hsInLen > 0) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.INTERLEAVED_HANDSHAKE);
    return;
  }
  if (n != 2) {
    fail(Alert.DECODE_ERROR, ErrorCode.DECODE_ERROR);
    return;
  }
  const level = load<u8>(body);
  const desc = <i32>load<u8>(body + 1);
  if (level != 1 && level != 2) {
    fail(Alert.ILLEGAL_PARAMETER, ErrorCode.ILLEGAL_PARAMETER);
    return;
  }
  if (desc == Alert.CLOSE_NOTIFY) {
    // §6.1: the peer will send nothing more; we may still send (half-close).
    S.alertReceived = desc;
    S.peerClosed = true;
    return;
  }
  if (desc == Alert.USER_CANCELED) {
    // §6.1: a warning; the close_notify that should follow ends the stream.
    S.alertReceived = desc;
    return;
  }
  // §6.2: every other alert is fatal, whatever its level.
  failByPeer(desc, ErrorCode.PEER_ALERT);
}

function readApplicationData(body: usize, n: i32): void {
  if (S.hsInLen > 0) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.INTERLEAVED_HANDSHAKE);
    return;
  }
  // §2 / §4.4.4: no application data is accepted before the client's Finished is verified.
  if (S.phase != Phase.CONNECTED) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_MESSAGE);
    return;
  }
  S.keyUpdatesInRow = 0;
  // LAB HOOK (trap and spin variants only; asc --use constants, 0 in every other build).
  // @ts-ignore: asc --use constants
  if ((LAB_TRAP | LAB_SPIN) != 0) labApplicationData(body, n);
  memory.copy(appOut + <usize>S.appOutEnd, body, n);
  S.appOutEnd += n;
}

// ---- Engine → backend ------------------------------------------------------------------------------

function compactAppOut(): void {
  const pending = S.appOutEnd - S.appOutStart;
  if (S.appOutStart == 0) return;
  memory.copy(appOut, appOut + <usize>S.appOutStart, pending);
  S.appOutStart = 0;
  S.appOutEnd = pending;
}

export function appOutPtr(): usize {
  return appOut + <usize>S.appOutStart;
}

export function appOutPending(): i32 {
  return S.appOutEnd - S.appOutStart;
}

export function appOutAck(n: i32): void {
  if (n < 0 || n > S.appOutEnd - S.appOutStart) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.CALL_OUT_OF_ORDER);
    return;
  }
  S.appOutStart += n;
  if (S.appOutStart == S.appOutEnd) {
    S.appOutStart = 0;
    S.appOutEnd = 0;
  }
  processRecords();
}

// ---- Engine → network ------------------------------------------------------------------------------

export function sendPtr(): usize {
  return sendBuf + <usize>S.sendStart;
}

export function sendAck(n: i32): void {
  if (n < 0 || n > sendPending()) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.CALL_OUT_OF_ORDER);
    return;
  }
  S.sendStart += n;
  if (S.sendStart == S.sendEnd) {
    S.sendStart = 0;
    S.sendEnd = 0;
    S.appInAt = -1;
  }
  processRecords();
}

// ---- Backend → engine ------------------------------------------------------------------------------

/** Bytes of plaintext the engine takes now: one record's worth, if the send buffer has room. */
export function appInWindow(): i32 {
  if (S.phase != Phase.CONNECTED || S.localClosed || S.failed) return 0;
  // Room for this record, plus a KeyUpdate before it if the sequence number calls for one.
  let w = sendRoom() - HEADER - 1 - TAG - 64;
  const max = maxPlainForApp();
  if (w > max) w = max;
  return w > 0 ? w : 0;
}

export function appInPtr(): usize {
  const w = appInWindow();
  // TLS 1.2 AES-GCM records start with the 8-byte explicit nonce (RFC 5288 §3).
  const at = HEADER + explicitNonceLen();
  if (w == 0) return sendBuf + <usize>(S.sendEnd + at);
  reserveTail(HEADER + w + 1 + TAG + 64);
  S.appInAt = S.sendEnd;
  return sendBuf + <usize>(S.sendEnd + at);
}

/** The host wrote `len` bytes at appInPtr(): seal them as one record, in place. */
export function appIn(len: i32): void {
  if (len == 0) return;
  if (len < 0 || len > appInWindow() || S.appInAt != S.sendEnd) {
    fail(Alert.INTERNAL_ERROR, ErrorCode.CALL_OUT_OF_ORDER);
    return;
  }
  S.appInAt = -1;
  if (S.version == 0x0303) {
    // TLS 1.2 cannot rekey without renegotiation, which tlsbox refuses: at the AES-GCM record
    // limit (RFC 8446 §5.5's 2^24.5, applied to TLS 1.2 as well) the connection is closed instead.
    if (S.aead == Aead.GCM && S.writeSeq >= <u64>MAX_REKEY_AFTER) {
      sendCloseNotify();
      return;
    }
    sealInPlace(ContentType.APPLICATION_DATA, len);
    return;
  }
  // §5.5: rekey long before the AEAD limits (the policy says when). The KeyUpdate must precede the data, which sits
  // where the KeyUpdate record goes: move the data one KeyUpdate record further first, which is
  // exactly where the next record's body starts (appInPtr reserved the room, so nothing moves).
  if (S.writeSeq >= S.cfgRekeyAfter) {
    const at = sendBuf + <usize>S.sendEnd + HEADER;
    const kuRecord = HEADER + 5 + 1 + TAG;
    memory.copy(at + <usize>kuRecord, at, len);
    if (!sendKeyUpdate()) return;
  }
  sealInPlace(ContentType.APPLICATION_DATA, len);
}

/** The backend closed: close_notify (§6.1). The peer may still send (half-close). */
export function close(): void {
  sendCloseNotify();
}

export function status(): i32 {
  let s = 0;
  if (S.handshakeDone) s |= Status.HANDSHAKE_DONE;
  if (!S.failed && S.phase == Phase.WAIT_CERT) s |= Status.WANT_CERT;
  if (!S.failed && S.phase == Phase.WAIT_KEY_OP) s |= Status.WANT_KEY_OP;
  if (sendPending() > 0) s |= Status.SEND_PENDING;
  if (S.appOutEnd > S.appOutStart) s |= Status.APP_OUT_PENDING;
  if (appInWindow() > 0) s |= Status.APP_IN_READY;
  if (S.peerClosed) s |= Status.PEER_CLOSED;
  if (S.localClosed) s |= Status.LOCAL_CLOSED;
  if (S.failed) s |= Status.FAILED;
  return s;
}
