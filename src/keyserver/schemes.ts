// Signature schemes the key server signs with, the signed content it builds itself (DESIGN.md
// invariant 6: it never signs bytes a client chose freely), and the one verification rule, used by
// the key server before a signature leaves (s2n-tls "strict" async pkey mode: a faulty RSA-CRT
// signature would leak the key), by the worker's session before the engine may use one, and by the
// tests against Wycheproof. Nothing here touches a private key but `signContent`.
import { constants, sign, verify, type KeyObject } from "node:crypto";
import { KeyKind, SignatureScheme } from "../../wasm/abi";

export type HashName = "sha256" | "sha384" | "sha512";

export interface SchemeInfo {
  scheme: number;
  name: string;
  hash: HashName;
  /** Output length of `hash`; also the RSA-PSS salt length (RFC 8446 §4.2.3). */
  hashLength: number;
  padding: "pss" | "pkcs1" | "ecdsa";
  /** The key this scheme needs: any RSA key for RSA schemes, one curve for ECDSA. */
  keyKind: KeyKind;
  /** RFC 8446 §4.2.3 allows it in CertificateVerify (PKCS#1 v1.5 is TLS 1.2 only). */
  tls13: boolean;
}

/** RFC 8446 §4.2.3 numbers; the PKCS#1 v1.5 ones are RFC 5246 (hash, signature) pairs. */
export const enum Tls12Scheme {
  RSA_PKCS1_SHA256 = 0x0401,
  RSA_PKCS1_SHA384 = 0x0501,
  RSA_PKCS1_SHA512 = 0x0601,
}

const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

function entry(scheme: number, name: string, hash: HashName, padding: SchemeInfo["padding"], keyKind: KeyKind, tls13: boolean): SchemeInfo {
  return { scheme, name, hash, hashLength: HASH_LENGTH[hash], padding, keyKind, tls13 };
}

// ECDSA schemes are bound to their curve for TLS 1.2 too, although RFC 5246 would let
// ecdsa+sha256 sign with a P-384 key: one rule for both versions is easier to audit, and clients
// that offer ECDSA offer both pairs in practice.
const SCHEMES: ReadonlyMap<number, SchemeInfo> = new Map(
  [
    entry(SignatureScheme.ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256", "sha256", "ecdsa", KeyKind.ECDSA_P256, true),
    entry(SignatureScheme.ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384", "sha384", "ecdsa", KeyKind.ECDSA_P384, true),
    entry(SignatureScheme.RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256", "sha256", "pss", KeyKind.RSA, true),
    entry(SignatureScheme.RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384", "sha384", "pss", KeyKind.RSA, true),
    entry(SignatureScheme.RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512", "sha512", "pss", KeyKind.RSA, true),
    entry(Tls12Scheme.RSA_PKCS1_SHA256, "rsa_pkcs1_sha256", "sha256", "pkcs1", KeyKind.RSA, false),
    entry(Tls12Scheme.RSA_PKCS1_SHA384, "rsa_pkcs1_sha384", "sha384", "pkcs1", KeyKind.RSA, false),
    entry(Tls12Scheme.RSA_PKCS1_SHA512, "rsa_pkcs1_sha512", "sha512", "pkcs1", KeyKind.RSA, false),
  ].map((s) => [s.scheme, s]),
);

export function schemeInfo(scheme: number): SchemeInfo | undefined {
  return SCHEMES.get(scheme);
}

export function allSchemes(): SchemeInfo[] {
  return [...SCHEMES.values()];
}

const TLS13_SERVER_CONTEXT = "TLS 1.3, server CertificateVerify";

/** RFC 8446 §4.4.3: 64 spaces ‖ context string ‖ 0x00 ‖ Transcript-Hash(Handshake Context, Certificate). */
export function tls13CertificateVerifyContent(transcriptHash: Uint8Array): Uint8Array {
  const context = new TextEncoder().encode(TLS13_SERVER_CONTEXT);
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  out.set(context, 64);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}

/** RFC 5246 §7.4.3 / RFC 8422 §5.4: client_random ‖ server_random ‖ ServerECDHParams. */
export function tls12ServerKeyExchangeContent(clientRandom: Uint8Array, serverRandom: Uint8Array, params: Uint8Array): Uint8Array {
  const out = new Uint8Array(64 + params.length);
  out.set(clientRandom, 0);
  out.set(serverRandom, 32);
  out.set(params, 64);
  return out;
}

/** Public-key lengths of the named groups tlsbox offers (RFC 8422 §5.4, RFC 7748 §6). */
const POINT_LENGTH: ReadonlyMap<number, number> = new Map([
  [0x0017, 65], // secp256r1, uncompressed
  [0x0018, 97], // secp384r1, uncompressed
  [0x001d, 32], // x25519
]);

/**
 * Checks that TLS 1.2 params are exactly one ServerECDHParams for a named curve tlsbox uses. This is
 * what keeps SKE signing purpose-bound: without it the "params" would be arbitrary bytes after
 * two randoms, close to a signing oracle. Returns why not, or null.
 */
export function checkServerEcdhParams(params: Uint8Array): string | null {
  // ECCurveType named_curve(3) ‖ NamedCurve u16 ‖ opaque point<1..255>
  if (params.length < 4) return `ServerECDHParams of ${params.length} bytes`;
  if (params[0] !== 3) return `curve_type ${params[0]}, need named_curve (3)`;
  const group = (params[1] << 8) | params[2];
  const expected = POINT_LENGTH.get(group);
  if (expected === undefined) return `named curve 0x${group.toString(16).padStart(4, "0")} not offered by tlsbox`;
  if (params[3] !== expected) return `point of ${params[3]} bytes for group 0x${group.toString(16)}, need ${expected}`;
  if (params.length !== 4 + expected) return `ServerECDHParams of ${params.length} bytes, need ${4 + expected}`;
  if (expected !== 32 && params[4] !== 4) return "EC point not in uncompressed form (RFC 8422 §5.4.1)";
  return null;
}

/** node:crypto options for this scheme; the PSS salt is the hash length, MGF1 uses the same hash. */
function keyOptions(info: SchemeInfo, key: KeyObject) {
  switch (info.padding) {
    case "pss":
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: info.hashLength };
    case "pkcs1":
      return { key, padding: constants.RSA_PKCS1_PADDING };
    case "ecdsa":
      // TLS carries ECDSA signatures as DER (RFC 8446 §4.2.3).
      return { key, dsaEncoding: "der" as const };
  }
}

/** Signs on libuv's thread pool, so pipelined requests on several keys run in parallel. */
export function signContent(privateKey: KeyObject, info: SchemeInfo, content: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    sign(info.hash, content, keyOptions(info, privateKey), (err, signature) => {
      if (err) reject(err);
      else resolve(new Uint8Array(signature));
    });
  });
}

/** The verification rule: exact salt length (not "auto"), MGF1 with the scheme's hash, DER ECDSA. */
export function verifyContent(publicKey: KeyObject, info: SchemeInfo, content: Uint8Array, signature: Uint8Array): boolean {
  // RFC 8017 §8.1.2 / §8.2.2: an RSA signature that is not exactly k octets is invalid. OpenSSL
  // accepts a shorter one (as if zero-padded), so a signature whose first byte is 0 would verify
  // without it: reject every length but the modulus's.
  const bits = publicKey.asymmetricKeyType === "rsa" ? publicKey.asymmetricKeyDetails?.modulusLength : undefined;
  if (bits !== undefined && signature.length !== Math.ceil(bits / 8)) return false;
  try {
    return verify(info.hash, content, keyOptions(info, publicKey), signature);
  } catch {
    // node:crypto throws on some malformed signatures (bad DER) instead of returning false.
    return false;
  }
}
