// The TLS 1.2 cipher suites the engine implements, as bits (the client's offer is kept as a mask,
// its order as a short list), and what each suite means: key exchange, authentication, AEAD, PRF
// hash. Every suite is ECDHE (RFC 8422 §2.3) with an AEAD (RFC 5289 §3 AES-GCM, RFC 7905 §2
// ChaCha20-Poly1305), plus the legacy static-RSA GCM suites (RFC 5288) behind a policy flag.
import { CipherSuite, KeyKind } from "../abi";

export const SUITE12_ECDSA_AES128: u32 = 1;
export const SUITE12_ECDSA_AES256: u32 = 2;
export const SUITE12_RSA_AES128: u32 = 4;
export const SUITE12_RSA_AES256: u32 = 8;
export const SUITE12_RSA_CHACHA: u32 = 16;
export const SUITE12_ECDSA_CHACHA: u32 = 32;
/** Static RSA key exchange (RFC 5288 §3), only with ConfigFlag.STATIC_RSA. */
export const SUITE12_STATIC_RSA_AES128: u32 = 64;
export const SUITE12_STATIC_RSA_AES256: u32 = 128;
export const SUITE12_STATIC_RSA: u32 = SUITE12_STATIC_RSA_AES128 | SUITE12_STATIC_RSA_AES256;
export const SUITE12_RSA_AUTH: u32 = SUITE12_RSA_AES128 | SUITE12_RSA_AES256 | SUITE12_RSA_CHACHA;
export const SUITE12_ECDHE: u32 = SUITE12_RSA_AUTH | SUITE12_ECDSA_AES128 | SUITE12_ECDSA_AES256 | SUITE12_ECDSA_CHACHA;
export const SUITE12_ECDSA_AUTH: u32 = SUITE12_ECDSA_AES128 | SUITE12_ECDSA_AES256 | SUITE12_ECDSA_CHACHA;

/** The bit of a TLS 1.2 suite we implement, or 0. */
export function suite12Bit(s: u32): u32 {
  switch (s) {
    case CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return SUITE12_ECDSA_AES128;
    case CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: return SUITE12_ECDSA_AES256;
    case CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return SUITE12_RSA_AES128;
    case CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: return SUITE12_RSA_AES256;
    case CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: return SUITE12_RSA_CHACHA;
    case CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: return SUITE12_ECDSA_CHACHA;
    case CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256: return SUITE12_STATIC_RSA_AES128;
    case CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384: return SUITE12_STATIC_RSA_AES256;
  }
  return 0;
}

/** The suites a key of this kind can authenticate (RFC 8422 §2.3: ECDHE_ECDSA needs an ECDSA certificate). */
export function suitesForKey(keyKind: i32): u32 {
  if (keyKind == KeyKind.RSA) return SUITE12_RSA_AUTH | SUITE12_STATIC_RSA;
  if (keyKind == KeyKind.ECDSA_P256 || keyKind == KeyKind.ECDSA_P384) return SUITE12_ECDSA_AUTH;
  return 0;
}
