// AEAD_CHACHA20_POLY1305 (RFC 8439 §2.8), the TLS 1.3 / TLS 1.2 (RFC 7905) construction:
//   otk = ChaCha20(key, nonce, counter 0)[0..32]
//   ct  = ChaCha20(key, nonce, counter 1) XOR pt
//   tag = Poly1305(otk, aad ‖ pad16 ‖ ct ‖ pad16 ‖ le64(aadlen) ‖ le64(len))
//
// Every length is public; the only data-dependent decision is whether open() accepts, and that
// outcome is public by design (it is what open returns). The tag comparison itself reads all 16
// bytes whatever it finds (ctEqualBytes).
import { chacha20_xor, chacha20_xor_poly1305 } from "./chacha20";
import { ctEqualBytes } from "./ct";
import { poly1305_blocks, poly1305_finish, poly1305_init, POLY1305_CTX_SIZE } from "./poly1305";

const CTX = memory.data(POLY1305_CTX_SIZE, 16);
/** One-time Poly1305 key (32 bytes), the zero-padded tail / length block (16), computed tag (16). */
const OTK = memory.data(32, 16);
const BLOCK = memory.data(16, 16);
const TAG = memory.data(16, 16);

/** Absorbs the last len % 16 bytes of [p, p+len), zero-padded to 16 (RFC 8439 §2.8 pad16). */
function macTail(p: usize, len: usize): void {
  const rem = len & 15;
  if (rem != 0) {
    // Unlike plain Poly1305, the padded block is a full 16-byte block: it keeps the 2^128 bit.
    memory.fill(BLOCK, 0, 16);
    memory.copy(BLOCK, p + len - rem, rem);
    poly1305_blocks(CTX, BLOCK, 1, 1);
  }
}

/** Derives the one-time key (RFC 8439 §2.6: keystream block 0), starts the MAC, absorbs the AAD. */
function macStart(key: usize, nonce: usize, aad: usize, aadlen: usize): void {
  memory.fill(OTK, 0, 32);
  chacha20_xor(key, nonce, 0, OTK, 32, OTK);
  poly1305_init(CTX, OTK);
  memory.fill(OTK, 0, 32);
  poly1305_blocks(CTX, aad, aadlen >>> 4, 1);
  macTail(aad, aadlen);
}

/** Absorbs the two lengths and writes the tag to out16. */
function macEnd(aadlen: usize, len: usize, out: usize): void {
  store<u64>(BLOCK, <u64>aadlen);
  store<u64>(BLOCK, <u64>len, 8);
  poly1305_blocks(CTX, BLOCK, 1, 1);
  memory.fill(BLOCK, 0, 16);
  poly1305_finish(CTX, out);
}

/**
 * Encrypts len bytes of input to output and writes the 16-byte tag. In place (input == output)
 * is allowed.
 */
export function chacha20_poly1305_seal(
  key: usize, nonce: usize, aad: usize, aadlen: usize, input: usize, len: usize, output: usize, tag: usize,
): void {
  macStart(key, nonce, aad, aadlen);
  // Encrypts and absorbs the ciphertext's complete blocks in one stitched pass (chacha20.ts).
  chacha20_xor_poly1305(key, nonce, 1, input, len, output, CTX);
  macTail(output, len);
  macEnd(aadlen, len, tag);
}

/**
 * Verifies the tag over aad and the ciphertext, and only then decrypts to output. Returns 1 on
 * success; 0 if the tag does not match, in which case output is not written. In place allowed.
 */
export function chacha20_poly1305_open(
  key: usize, nonce: usize, aad: usize, aadlen: usize, input: usize, len: usize, output: usize, tag: usize,
): i32 {
  macStart(key, nonce, aad, aadlen);
  poly1305_blocks(CTX, input, len >>> 4, 1);
  macTail(input, len);
  macEnd(aadlen, len, TAG);
  const ok = ctEqualBytes(TAG, tag, 16);
  memory.fill(TAG, 0, 16);
  if (ok == 0) return 0;
  chacha20_xor(key, nonce, 1, input, len, output);
  return 1;
}
