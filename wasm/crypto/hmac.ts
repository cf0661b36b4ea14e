// HMAC (RFC 2104, FIPS 198-1) over SHA-256, SHA-384 and SHA-512.
//
// The key is hashed into two precomputed states, H(K ^ ipad) and H(K ^ opad), once per key:
// each message then costs its own blocks plus one padding block inside and one block outside,
// however long the key. HKDF and the TLS 1.2 PRF rely on this, since they MAC many short
// messages under one key. Constant time: the key is only XORed, copied and hashed; its length
// is public (it steers the pre-hash of a long key, as the RFC prescribes).
//
// Context layout (HMAC_CTX_SIZE bytes, any alignment): three hash contexts
//   0        the running inner hash: H(K ^ ipad || message so far)
//   H        H(K ^ ipad) after its one block, copied into the running slot to start a message
//   2H       H(K ^ opad) after its one block
// where H = hash_ctx_size().
import { hash, hash_block_len, hash_copy, hash_ctx_size, hash_final, hash_init, hash_output_len, hash_update } from "./sha2";

const HCTX: usize = 208;
const HMAC_CTX_SIZE: i32 = 3 * 208;
const INNER: usize = 0;
const IPAD: usize = HCTX;
const OPAD: usize = 2 * HCTX;

/** The padded key block, XORed with ipad then opad; wiped before hmac_init returns. */
const keyBlock = memory.data(128, 16);
/** The inner digest on its way into the outer hash; wiped before hmac_final returns. */
const innerDigest = memory.data(64, 16);
/** The context of the one-shot `hmac`; wiped before it returns. */
const oneShotCtx = memory.data(HMAC_CTX_SIZE, 16);

/** Bytes an HMAC context needs, whatever the algorithm. */
export function hmac_ctx_size(): i32 {
  return HMAC_CTX_SIZE;
}

/** Keys `ctx` for HMAC with hash `alg` (1, 2, 3; anything else traps) and starts a message. */
export function hmac_init(ctx: usize, alg: i32, key: usize, keylen: usize): void {
  // The layout above assumes the hash context size; a mismatch would be a build error in spirit.
  if (<usize>hash_ctx_size() != HCTX) unreachable();
  const blockLen = <usize>hash_block_len(alg);
  if (blockLen == 0) unreachable();
  // RFC 2104 §2: a key longer than a block is replaced by its digest; either way it is then
  // padded with zeros to a full block.
  memory.fill(keyBlock, 0, 128);
  if (keylen > blockLen) hash(alg, keyBlock, key, keylen);
  else memory.copy(keyBlock, key, keylen);
  // ipad = 0x36 repeated, opad = 0x5c repeated; blockLen is 64 or 128, a multiple of 16.
  const ipad = i8x16.splat(0x36);
  const ipadToOpad = i8x16.splat(0x36 ^ 0x5c);
  for (let i: usize = 0; i < blockLen; i += 16) v128.store(keyBlock + i, v128.xor(v128.load(keyBlock + i), ipad));
  hash_init(ctx + IPAD, alg);
  hash_update(ctx + IPAD, keyBlock, blockLen);
  for (let i: usize = 0; i < blockLen; i += 16) v128.store(keyBlock + i, v128.xor(v128.load(keyBlock + i), ipadToOpad));
  hash_init(ctx + OPAD, alg);
  hash_update(ctx + OPAD, keyBlock, blockLen);
  memory.fill(keyBlock, 0, 128);
  hash_copy(ctx + INNER, ctx + IPAD);
}

/** Absorbs `len` bytes of the message. */
export function hmac_update(ctx: usize, data: usize, len: usize): void {
  hash_update(ctx + INNER, data, len);
}

/**
 * Writes the tag (the full digest length: 32, 48 or 64 bytes) to `out`, then restarts `ctx` for
 * another message under the same key, so a keyed context can be reused without rekeying.
 */
export function hmac_final(ctx: usize, out: usize): void {
  // The algorithm id is the first field of every hash context (sha2.ts); the inner one is live.
  const outLen = <usize>hash_output_len(<i32>load<u32>(ctx + INNER));
  hash_final(ctx + INNER, innerDigest);
  // The running slot, just wiped by hash_final, serves as the outer hash's working copy.
  hash_copy(ctx + INNER, ctx + OPAD);
  hash_update(ctx + INNER, innerDigest, outLen);
  hash_final(ctx + INNER, out);
  memory.fill(innerDigest, 0, 64);
  hash_copy(ctx + INNER, ctx + IPAD);
}

/** One-shot HMAC: the tag of `len` bytes at `data` under the `keylen`-byte `key`. */
export function hmac(alg: i32, out: usize, key: usize, keylen: usize, data: usize, len: usize): void {
  hmac_init(oneShotCtx, alg, key, keylen);
  hmac_update(oneShotCtx, data, len);
  hmac_final(oneShotCtx, out);
  memory.fill(oneShotCtx, 0, HMAC_CTX_SIZE);
}
