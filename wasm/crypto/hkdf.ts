// HKDF (RFC 5869) and the TLS 1.3 key-schedule helpers built on it (RFC 8446 §7.1).
//
// Everything here is HMAC over secrets with public lengths and labels, so constant time follows
// from hmac.ts; the only branches are on lengths and the algorithm id.
import { hmac, hmac_ctx_size, hmac_final, hmac_init, hmac_update } from "./hmac";
import { hash_output_len } from "./sha2";

/** The keyed HMAC context of hkdf_expand; wiped before it returns. */
const expandCtx = memory.data(3 * 208, 16);
/** T(i) of RFC 5869 §2.3, one digest at most; wiped before hkdf_expand returns. */
const block = memory.data(64, 16);
/** The one-byte block counter of RFC 5869 §2.3. */
const counter = memory.data(1);
/** HkdfLabel: 2 + 1 + 255 + 1 + 255 bytes at most. Public: lengths, labels, transcript hashes. */
const hkdfLabel = memory.data(520, 16);
/** "tls13 ", the label prefix of RFC 8446 §7.1. */
const TLS13_PREFIX = memory.data<u8>([0x74, 0x6c, 0x73, 0x31, 0x33, 0x20]);

/**
 * HKDF-Extract: out (HashLen bytes) = HMAC-Hash(salt, ikm). A `saltlen` of 0 means HashLen zero
 * bytes (RFC 5869 §2.2); HMAC pads its key with zeros to a full block, so the empty key and
 * HashLen zeros are the same key and nothing special is needed. `out` may overlap the inputs.
 */
export function hkdf_extract(alg: i32, out: usize, salt: usize, saltlen: usize, ikm: usize, ikmlen: usize): void {
  hmac(alg, out, salt, saltlen, ikm, ikmlen);
}

/**
 * HKDF-Expand: `outlen` bytes of T(1) || T(2) || ..., T(i) = HMAC(prk, T(i-1) || info || i).
 * Returns 0 (writing nothing) if outlen > 255·HashLen or the algorithm is unknown, else 1.
 * `out` may overlap `prk` (it is absorbed into the keyed context first), not `info`.
 */
export function hkdf_expand(alg: i32, out: usize, outlen: usize, prk: usize, prklen: usize, info: usize, infolen: usize): i32 {
  const hashLen = <usize>hash_output_len(alg);
  if (hashLen == 0 || outlen > 255 * hashLen) return 0;
  if (<usize>hmac_ctx_size() > 3 * 208) unreachable();
  hmac_init(expandCtx, alg, prk, prklen);
  let done: usize = 0;
  for (let i: u32 = 1; done < outlen; i++) {
    if (i > 1) hmac_update(expandCtx, block, hashLen);
    hmac_update(expandCtx, info, infolen);
    store<u8>(counter, <u8>i);
    hmac_update(expandCtx, counter, 1);
    // hmac_final leaves the context keyed for the next block.
    hmac_final(expandCtx, block);
    const n = outlen - done < hashLen ? outlen - done : hashLen;
    memory.copy(out + done, block, n);
    done += n;
  }
  memory.fill(expandCtx, 0, 3 * 208);
  memory.fill(block, 0, 64);
  return 1;
}

/**
 * HKDF-Expand-Label(secret, label, context, outlen) of RFC 8446 §7.1: HKDF-Expand with the
 * HkdfLabel struct { uint16 length; opaque label<7..255> = "tls13 " + label; opaque
 * context<0..255> } as info. `label` comes without the prefix, so labellen ≤ 249; the secret is
 * HashLen bytes. Arguments outside the struct's limits, or outlen > 255·HashLen, are programming
 * errors in the engine and trap. `out` may overlap `secret` and `context`.
 */
export function hkdf_expand_label(alg: i32, out: usize, outlen: usize, secret: usize, label: usize, labellen: usize, context: usize, contextlen: usize): void {
  const hashLen = <usize>hash_output_len(alg);
  if (hashLen == 0 || outlen > 0xffff || labellen > 255 - 6 || contextlen > 255) unreachable();
  store<u8>(hkdfLabel, <u8>(outlen >>> 8), 0);
  store<u8>(hkdfLabel, <u8>outlen, 1);
  store<u8>(hkdfLabel, <u8>(6 + labellen), 2);
  memory.copy(hkdfLabel + 3, TLS13_PREFIX, 6);
  memory.copy(hkdfLabel + 9, label, labellen);
  store<u8>(hkdfLabel + 9 + labellen, <u8>contextlen);
  memory.copy(hkdfLabel + 10 + labellen, context, contextlen);
  if (hkdf_expand(alg, out, outlen, secret, hashLen, hkdfLabel, 10 + labellen + contextlen) == 0) unreachable();
}

/**
 * Derive-Secret(secret, label, messages) of RFC 8446 §7.1, given Transcript-Hash(messages):
 * HKDF-Expand-Label(secret, label, transcript_hash, HashLen). `out` may overlap the inputs.
 */
export function derive_secret(alg: i32, out: usize, secret: usize, label: usize, labellen: usize, transcript_hash: usize): void {
  const hashLen = <usize>hash_output_len(alg);
  if (hashLen == 0) unreachable();
  hkdf_expand_label(alg, out, hashLen, secret, label, labellen, transcript_hash, hashLen);
}
