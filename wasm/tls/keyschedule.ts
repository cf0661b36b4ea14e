// The TLS 1.3 key schedule (RFC 8446 §7.1), one stage per function, called in this order only:
//
//             0
//             |
//   PSK (0) -> HKDF-Extract = Early Secret
//             |
//             Derive-Secret(., "derived", "")
//             |
//   (EC)DHE -> HKDF-Extract = Handshake Secret --> c/s hs traffic (ClientHello..ServerHello)
//             |
//             Derive-Secret(., "derived", "")
//             |
//   0 ------> HKDF-Extract = Master Secret ----> c/s ap traffic (ClientHello..server Finished)
//
// No PSK is ever used (tlsbox does not resume sessions), so the early secret is the constant
// HKDF-Extract(0, 0); it is still computed, not hard-coded, so all three hashes work alike.
import { hash, hash_copy, hash_final } from "../crypto/sha2";
import { hkdf_extract, hkdf_expand_label, derive_secret } from "../crypto/hkdf";
import { hmac } from "../crypto/hmac";
import { wipe } from "../crypto/ct";
import { L_DERIVED, L_C_HS, L_S_HS, L_C_AP, L_S_AP, L_FINISHED, L_TRAFFIC_UPD } from "./labels";
import {
  S, transcript, hashScratch, hsSecret, clientSecret, serverSecret, clientAppSecret, serverAppSecret, thash, tmp64,
  tmp64b, sharedSecret, SHARED_SECRET_CAP,
} from "./state";

const zeros = memory.data(64);
const emptyHash = memory.data(64);

/** The current transcript hash (RFC 8446 §4.4.1) into `out`, leaving the running hash untouched. */
export function transcriptHash(out: usize): void {
  hash_copy(hashScratch, transcript);
  hash_final(hashScratch, out);
}

/** "derived" secret of the stage after `secret`: Derive-Secret(secret, "derived", ""). */
function derivedFrom(secret: usize, out: usize): void {
  hash(S.hashAlg, emptyHash, 0, 0);
  derive_secret(S.hashAlg, out, secret, L_DERIVED, 7, emptyHash);
}

/**
 * Stage 1 → 2: from the (EC)DHE shared secret (sharedLen bytes at sharedSecret) to the handshake
 * traffic secrets, with the transcript at ClientHello..ServerHello.
 */
export function deriveHandshakeSecrets(sharedLen: i32): void {
  const n = S.hashLen;
  // Early Secret = HKDF-Extract(salt = 0, IKM = 0^HashLen).
  hkdf_extract(S.hashAlg, tmp64, 0, 0, zeros, n);
  derivedFrom(tmp64, tmp64b);
  hkdf_extract(S.hashAlg, hsSecret, tmp64b, n, sharedSecret, sharedLen);
  wipe(sharedSecret, SHARED_SECRET_CAP);
  transcriptHash(thash);
  derive_secret(S.hashAlg, clientSecret, hsSecret, L_C_HS, 12, thash);
  derive_secret(S.hashAlg, serverSecret, hsSecret, L_S_HS, 12, thash);
  wipe(tmp64, 64);
  wipe(tmp64b, 64);
}

/** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (RFC 8446 §4.4.4); MACs the current transcript. */
export function finishedMac(baseKey: usize, out: usize): void {
  hkdf_expand_label(S.hashAlg, tmp64, S.hashLen, baseKey, L_FINISHED, 8, 0, 0);
  transcriptHash(thash);
  hmac(S.hashAlg, out, tmp64, S.hashLen, thash, S.hashLen);
  wipe(tmp64, 64);
}

/**
 * Stage 2 → 3: the master secret and the application traffic secrets, with the transcript at
 * ClientHello..server Finished. The handshake secret is wiped: nothing later needs it.
 */
export function deriveApplicationSecrets(): void {
  const n = S.hashLen;
  derivedFrom(hsSecret, tmp64b);
  hkdf_extract(S.hashAlg, tmp64, tmp64b, n, zeros, n);
  transcriptHash(thash);
  derive_secret(S.hashAlg, clientAppSecret, tmp64, L_C_AP, 12, thash);
  derive_secret(S.hashAlg, serverAppSecret, tmp64, L_S_AP, 12, thash);
  wipe(tmp64, 64);
  wipe(tmp64b, 64);
  wipe(hsSecret, 64);
}

/** RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length), in place. */
export function nextTrafficSecret(secret: usize): void {
  hkdf_expand_label(S.hashAlg, tmp64, S.hashLen, secret, L_TRAFFIC_UPD, 11, 0, 0);
  memory.copy(secret, tmp64, S.hashLen);
  wipe(tmp64, 64);
}

export function wipeSecrets(): void {
  wipe(clientSecret, 64);
  wipe(serverSecret, 64);
  wipe(hsSecret, 64);
}
