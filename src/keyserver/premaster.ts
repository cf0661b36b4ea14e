// TLS 1.2 static-RSA key exchange, key-server side (op 3 RSA_DECRYPT_PREMASTER): decrypt the
// EncryptedPreMasterSecret and ALWAYS answer 48 bytes — the real premaster if the PKCS#1 v1.5
// padding and the version check pass, otherwise a deterministic pseudo-random value (HMAC of the
// ciphertext under a per-key secret, as in the implicit-rejection designs: RFC 5246 §7.4.7.1's
// countermeasure, made deterministic so that the same ciphertext always gives the same answer and
// a retrying attacker learns nothing from differences). No error, no timing difference, no
// different frame: the Bleichenbacher/ROBOT oracle has nothing to read.
//
// Node 20 refuses RSA_PKCS1_PADDING for private decryption (CVE-2023-46809), so the key server
// does the raw RSA operation (RSA_NO_PADDING) and the unpadding here, branch-free over every byte:
// control values are 0 or 1 and selected with masks (BearSSL `inner.h` style). JavaScript gives no
// hard guarantee (the JIT could in principle specialise), but no branch, index or early exit
// depends on the decrypted bytes.
import { constants, createHmac, privateDecrypt, randomBytes, type KeyObject } from "node:crypto";

/** The premaster secret is 48 bytes (RFC 5246 §7.4.7.1). */
export const PREMASTER_LENGTH = 48;
/** ClientHello.client_version the premaster must start with: tlsbox negotiates TLS 1.2 only as 0x0303. */
export const PREMASTER_VERSION = 0x0303;

/** 1 if a == b (both 0..2^31-1), else 0; no branch. */
function ctEq(a: number, b: number): number {
  return (((a ^ b) - 1) >>> 31) & 1;
}

/** 1 if a >= b (both 0..2^30), else 0; no branch. */
function ctGe(a: number, b: number): number {
  return (((b - a - 1) >>> 31) & 1);
}

/** ctl ? x : y for ctl in {0, 1}; no branch. */
function ctSelect(ctl: number, x: number, y: number): number {
  const mask = -ctl;
  return (x & mask) | (y & ~mask);
}

/**
 * RFC 8017 §7.2.2 step 3: EM = 0x00 ‖ 0x02 ‖ PS (≥ 8 non-zero bytes) ‖ 0x00 ‖ M. Scans all of EM
 * whatever it holds. Returns good (1 or 0) and where M starts (meaningful only if good).
 */
export function pkcs1Type2Decode(em: Uint8Array): { good: number; messageStart: number } {
  let good = ctEq(em.length >= 11 ? em[0] : 1, 0) & ctEq(em.length >= 11 ? em[1] : 0, 2);
  let lookingForZero = 1;
  let zeroIndex = 0;
  for (let i = 2; i < em.length; i++) {
    const isZero = ctEq(em[i], 0);
    zeroIndex = ctSelect(lookingForZero & isZero, i, zeroIndex);
    lookingForZero &= isZero ^ 1;
  }
  // A separator was found, after at least 8 bytes of PS (index ≥ 2 + 8).
  good &= lookingForZero ^ 1;
  good &= ctGe(zeroIndex, 10);
  return { good, messageStart: zeroIndex + 1 };
}

/**
 * RFC 8017 §7.2.2 decoding for tests and callers that may learn the message length: M, or null.
 * The premaster path never uses this (its answer has one length whatever happens).
 */
export function pkcs1Type2Message(em: Uint8Array): Uint8Array | null {
  const { good, messageStart } = pkcs1Type2Decode(em);
  return good === 1 ? em.slice(messageStart) : null;
}

/**
 * The 48-byte answer from the raw RSA output `em` (k bytes) and the fallback: the premaster iff the
 * padding is good, M is exactly 48 bytes and M starts with the expected version; else `fallback`.
 * Every byte of both is read; the choice is a mask.
 */
export function selectPremaster(em: Uint8Array, fallback: Uint8Array, version = PREMASTER_VERSION): Uint8Array {
  if (fallback.length !== PREMASTER_LENGTH) throw new RangeError("fallback must be 48 bytes");
  const out = new Uint8Array(PREMASTER_LENGTH);
  const k = em.length;
  if (k < PREMASTER_LENGTH + 11) {
    // Public: a modulus this small is not a key tlsbox loads (2048 bits at least).
    out.set(fallback);
    return out;
  }
  const { good: padded, messageStart } = pkcs1Type2Decode(em);
  let good = padded;
  good &= ctEq(messageStart, k - PREMASTER_LENGTH);
  good &= ctEq(em[k - PREMASTER_LENGTH], version >> 8) & ctEq(em[k - PREMASTER_LENGTH + 1], version & 0xff);
  const mask = -good & 0xff;
  for (let i = 0; i < PREMASTER_LENGTH; i++) {
    out[i] = (em[k - PREMASTER_LENGTH + i] & mask) | (fallback[i] & ~mask & 0xff);
  }
  return out;
}

/** The secret behind one key's implicit rejections: random per key-server start, never sent. */
export function newRejectionSecret(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** HMAC-SHA-384 (48 bytes) of the ciphertext under the per-key secret. */
export function rejectionValue(secret: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha384", secret).update(ciphertext).digest());
}

/**
 * Op 3: always 48 bytes. `modulusBytes` is the key's size; a ciphertext of another length, or
 * one not below the modulus (public facts about the ciphertext alone), gets the fallback too, as
 * the same OK answer.
 */
export function decryptPremaster(privateKey: KeyObject, modulusBytes: number, secret: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const fallback = rejectionValue(secret, ciphertext);
  let em: Uint8Array;
  if (ciphertext.length === modulusBytes) {
    try {
      em = new Uint8Array(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext));
    } catch {
      // OpenSSL refuses c ≥ n: public, and answered like any bad padding.
      em = new Uint8Array(modulusBytes);
    }
  } else {
    em = new Uint8Array(modulusBytes);
  }
  return selectPremaster(em, fallback);
}
