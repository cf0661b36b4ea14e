// AES-GCM (NIST SP 800-38D) with 96-bit nonces and 128-bit tags, as TLS 1.2 and 1.3 use it.
//
// Constant time: AES is bitsliced (aes.ts), GHASH uses masked integer multiplications
// (ghash.ts), and the tag is compared over all 16 bytes before anything is decided. Lengths,
// the nonce and the verdict of gcm_open are public and may steer control flow.
//
// With a 96-bit nonce N, J0 = N ‖ 1: E(J0) masks the tag and the data uses counters 2, 3, ...
// The keystream is produced eight blocks at a time, the first batch covering J0 and counters
// 2..8, so the tag mask costs nothing extra. Counters wrap modulo 2^32 (inc32); a record of at
// most 2^32 - 1 bytes needs fewer than 2^28 counters, so the wrap is never reached from 2.
//
// Context layout (GCM_CTX_SIZE bytes, any alignment):
//   0          the AES context (aes.ts), so aes_encrypt_block accepts a GCM context
//   AES_CTX    the GHASH key (ghash.ts)
import { AES_CTX_SIZE, aes_ctr8, aes_encrypt_block, aes_init } from "./aes";
import { GHASH_KEY_SIZE, ghash_key, ghash_update } from "./ghash";
import { ctEqualBytes } from "./ct";

const CTX_GHASH: usize = <usize>AES_CTX_SIZE;
export const GCM_CTX_SIZE: i32 = AES_CTX_SIZE + GHASH_KEY_SIZE;

// Keystream batch (secret), the GHASH state and lengths block, the computed tag (secret until
// released), all wiped before returning.
const keystream = memory.data(128, 16);
const state = memory.data(16, 16);
const lengths = memory.data(16, 16);
const expected = memory.data(16, 16);

/** Bytes a GCM context needs. */
export function gcm_ctx_size(): i32 {
  return GCM_CTX_SIZE;
}

/** AES key schedule and GHASH key H = E_K(0^128); 0 if keylen is not 16 or 32. */
export function gcm_init(ctx: usize, key: usize, keylen: i32): i32 {
  if (aes_init(ctx, key, keylen) == 0) return 0;
  const h = expected;
  memory.fill(h, 0, 16);
  aes_encrypt_block(ctx, h, h);
  ghash_key(ctx + CTX_GHASH, h);
  memory.fill(h, 0, 16);
  return 1;
}

/**
 * XORs len bytes of keystream into src, writing dst (dst == src allowed). The keystream buffer
 * must already hold the batch for counters 1..8, whose first block (E(J0)) is skipped.
 */
function ctrXor(ctx: usize, nonce12: usize, src: usize, len: usize, dst: usize): void {
  let off: usize = 16;
  let ctr: u32 = 9;
  let pos: usize = 0;
  while (pos < len) {
    if (off == 128) {
      aes_ctr8(ctx, nonce12, ctr, keystream);
      ctr += 8;
      off = 0;
    }
    let n: usize = 128 - off;
    if (n > len - pos) n = len - pos;
    const s = src + pos, d = dst + pos, k = keystream + off;
    let i: usize = 0;
    for (; i + 16 <= n; i += 16) {
      v128.store(d + i, v128.xor(v128.load(s + i), v128.load(k + i)));
    }
    for (; i < n; i++) {
      store<u8>(d + i, load<u8>(s + i) ^ load<u8>(k + i));
    }
    pos += n;
    off += n;
  }
}

/** The tag of (aad, ciphertext) into `expected`; the keystream buffer holds E(J0) first. */
function computeTag(ctx: usize, aad: usize, aadlen: usize, ct: usize, len: usize): void {
  const hk = ctx + CTX_GHASH;
  memory.fill(state, 0, 16);
  ghash_update(hk, state, aad, aadlen);
  ghash_update(hk, state, ct, len);
  // len(A) ‖ len(C) in bits, each a 64-bit big-endian number.
  store<u64>(lengths, bswap<u64>(<u64>aadlen << 3), 0);
  store<u64>(lengths, bswap<u64>(<u64>len << 3), 8);
  ghash_update(hk, state, lengths, 16);
  v128.store(expected, v128.xor(v128.load(state), v128.load(keystream)));
  memory.fill(state, 0, 16);
}

/** Encrypts len bytes (output == input allowed) and writes the 16-byte tag. */
export function gcm_seal(
  ctx: usize, nonce12: usize, aad: usize, aadlen: usize,
  input: usize, len: usize, output: usize, tag16: usize,
): void {
  aes_ctr8(ctx, nonce12, 1, keystream);
  // Keep E(J0) aside: ctrXor replaces the batch when the data runs past counter 8.
  v128.store(expected, v128.load(keystream));
  ctrXor(ctx, nonce12, input, len, output);
  v128.store(keystream, v128.load(expected));
  computeTag(ctx, aad, aadlen, output, len);
  memory.copy(tag16, expected, 16);
  memory.fill(expected, 0, 16);
  memory.fill(keystream, 0, 128);
}

/**
 * Verifies the tag over (aad, input), then decrypts into output (output == input allowed).
 * Returns 1 on success; 0 if the tag is wrong, in which case output is not written.
 */
export function gcm_open(
  ctx: usize, nonce12: usize, aad: usize, aadlen: usize,
  input: usize, len: usize, output: usize, tag16: usize,
): i32 {
  aes_ctr8(ctx, nonce12, 1, keystream);
  computeTag(ctx, aad, aadlen, input, len);
  const ok = ctEqualBytes(expected, tag16, 16);
  memory.fill(expected, 0, 16);
  // The verdict is public (the peer learns it anyway); nothing before it depended on it.
  if (ok != 0) ctrXor(ctx, nonce12, input, len, output);
  memory.fill(keystream, 0, 128);
  return <i32>ok;
}
