// ChaCha20 (RFC 8439 §2.3, §2.4), four blocks at a time with 128-bit SIMD.
//
// Layout: the sixteen state words are sixteen v128 values x0..x15, and lane j of every vector
// belongs to block j of the current batch (counters ctr, ctr+1, ctr+2, ctr+3). A quarter round on
// four columns of one block is then the very same quarter round on four blocks at once, with no
// shuffling inside the 20 rounds; the lanes are transposed back into byte order only once per
// batch, while XORing with the input.
//
// Constant time: ChaCha20 is add/rotate/xor on 32-bit words, with rotations by constant amounts.
// The only branches depend on `len` (public); no memory index depends on key or data.
//
// The counter is 32 bits and wraps modulo 2^32 as in RFC 8439 §2.4 (a block counter past 2^32-1
// would mean encrypting 256 GiB under one nonce; TLS records are at most 2^14 + 256 bytes).

import { poly1305_blocks } from "./poly1305";

/** Bytes produced per batch: four 64-byte blocks. */
const BATCH: usize = 256;

/** A partial final batch is run through here so the batch code can read and write 256 bytes. */
const TAIL = memory.data(256, 16);

/** A Poly1305 context of zeros, read (never written) when the core runs without a MAC. */
const NO_MAC = memory.data(80, 16);

// The Poly1305 context layout of poly1305.ts (byte offsets of r, r², h: five u32 limbs each).
const MAC_R: usize = 0;
const MAC_Q: usize = 20;
const MAC_H: usize = 40;
const M26_64: u64 = 0x3ffffff;
/** 2^128, the "one bit beyond" of a full block, in limb 4. */
const HIBIT64: u64 = 1 << 24;

// wasm SIMD has no lane rotate. Rotation by 16 is a 16-bit-lane shuffle (V8 emits pshuflw +
// pshufhw); the others are shift-shift-or. A byte shuffle for 8 would be one pshufb, but V8
// rematerialises its 16-byte mask through general registers at every use (4 instructions), which
// measured slower than the shifts.
// @ts-ignore: decorator
@inline function rotl16(x: v128): v128 {
  return i16x8.shuffle(x, x, 1, 0, 3, 2, 5, 4, 7, 6);
}
// @ts-ignore: decorator
@inline function rotl8(x: v128): v128 {
  return v128.or(i32x4.shl(x, 8), i32x4.shr_u(x, 24));
}
// @ts-ignore: decorator
@inline function rotl12(x: v128): v128 {
  return v128.or(i32x4.shl(x, 12), i32x4.shr_u(x, 20));
}
// @ts-ignore: decorator
@inline function rotl7(x: v128): v128 {
  return v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25));
}

/**
 * Words a, b, c, d hold state words 4g..4g+3 of blocks 0..3 (lane j = block j). Transposes them
 * into the 16 bytes at offset 16g of each block (blocks are 64 bytes apart) and XORs with the
 * input there. Each 16 bytes of input are loaded before the same 16 bytes of output are stored,
 * so src == dst (in place) is safe.
 */
// @ts-ignore: decorator
@inline function xorWords(a: v128, b: v128, c: v128, d: v128, src: usize, dst: usize): void {
  const ab01 = i32x4.shuffle(a, b, 0, 4, 1, 5); // a0 b0 a1 b1
  const cd01 = i32x4.shuffle(c, d, 0, 4, 1, 5); // c0 d0 c1 d1
  const ab23 = i32x4.shuffle(a, b, 2, 6, 3, 7); // a2 b2 a3 b3
  const cd23 = i32x4.shuffle(c, d, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(dst, v128.xor(v128.load(src), i64x2.shuffle(ab01, cd01, 0, 2)));
  v128.store(dst + 64, v128.xor(v128.load(src + 64), i64x2.shuffle(ab01, cd01, 1, 3)));
  v128.store(dst + 128, v128.xor(v128.load(src + 128), i64x2.shuffle(ab23, cd23, 0, 2)));
  v128.store(dst + 192, v128.xor(v128.load(src + 192), i64x2.shuffle(ab23, cd23, 1, 3)));
}

/**
 * output = input XOR ChaCha20 keystream (key 32 bytes, nonce 12 bytes, first block `counter`),
 * RFC 8439 §2.4. In place (input == output) is allowed; buffers may have any alignment.
 */
export function chacha20_xor(key: usize, nonce: usize, counter: u32, input: usize, len: usize, output: usize): void {
  core(key, nonce, counter, input, len, output, 0);
}

/**
 * chacha20_xor, and absorbs every complete 16-byte block of the output (the ciphertext) into the
 * Poly1305 context `mac` (poly1305.ts), as full blocks. The final len % 16 bytes are left to the
 * caller, who knows how they are padded. For the AEAD (chacha20poly1305.ts).
 */
export function chacha20_xor_poly1305(key: usize, nonce: usize, counter: u32, input: usize, len: usize, output: usize, mac: usize): void {
  core(key, nonce, counter, input, len, output, mac);
  const tail = len & (BATCH - 1);
  // core absorbed every complete batch; what is left of a partial one goes through the plain path.
  if (tail >= 16) poly1305_blocks(mac, output + len - tail, tail >>> 4, 1);
}

/**
 * The ChaCha20 loop. With mac != 0 it is "stitched" with Poly1305: while the vector unit runs
 * the rounds of batch k, the integer unit absorbs the ciphertext of batch k-1 (already written),
 * one pair of blocks after each of the first 8 double rounds. The two instruction streams use
 * different execution units and registers, so the out-of-order core overlaps them; run one
 * after the other they cost the sum. The Poly1305 arithmetic and its bounds are those of
 * poly1305_blocks (poly1305.ts).
 */
function core(key: usize, nonce: usize, counter: u32, input: usize, len: usize, output: usize, mac: usize): void {
  // Key and nonce words are little-endian (RFC 8439 §2.3); wasm loads are little-endian.
  const k0 = load<u32>(key), k1 = load<u32>(key, 4), k2 = load<u32>(key, 8), k3 = load<u32>(key, 12);
  const k4 = load<u32>(key, 16), k5 = load<u32>(key, 20), k6 = load<u32>(key, 24), k7 = load<u32>(key, 28);
  const n0 = load<u32>(nonce), n1 = load<u32>(nonce, 4), n2 = load<u32>(nonce, 8);
  let ctr = counter;

  const st = mac != 0 ? mac : NO_MAC;
  const r0 = <u64>load<u32>(st, MAC_R), r1 = <u64>load<u32>(st, MAC_R + 4), r2 = <u64>load<u32>(st, MAC_R + 8);
  const r3 = <u64>load<u32>(st, MAC_R + 12), r4 = <u64>load<u32>(st, MAC_R + 16);
  const s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
  const q0 = <u64>load<u32>(st, MAC_Q), q1 = <u64>load<u32>(st, MAC_Q + 4), q2 = <u64>load<u32>(st, MAC_Q + 8);
  const q3 = <u64>load<u32>(st, MAC_Q + 12), q4 = <u64>load<u32>(st, MAC_Q + 16);
  const t1 = q1 * 5, t2 = q2 * 5, t3 = q3 * 5, t4 = q4 * 5;
  let h0 = <u64>load<u32>(st, MAC_H), h1 = <u64>load<u32>(st, MAC_H + 4), h2 = <u64>load<u32>(st, MAC_H + 8);
  let h3 = <u64>load<u32>(st, MAC_H + 12), h4 = <u64>load<u32>(st, MAC_H + 16);
  /** The previous full batch of ciphertext, still to be absorbed; 0 if none (or no MAC). */
  let pending: usize = 0;

  while (len > 0) {
    let src = input;
    let dst = output;
    const partial = len < BATCH;
    if (partial) {
      // The bytes of TAIL past len are whatever is there; their keystream XOR is never copied out.
      memory.copy(TAIL, input, len);
      src = TAIL;
      dst = TAIL;
    }
    // "expand 32-byte k", key, then per-lane counters (i32x4.add wraps each lane mod 2^32), nonce.
    let x0 = i32x4.splat(0x61707865), x1 = i32x4.splat(0x3320646e);
    let x2 = i32x4.splat(0x79622d32), x3 = i32x4.splat(0x6b206574);
    let x4 = i32x4.splat(k0), x5 = i32x4.splat(k1), x6 = i32x4.splat(k2), x7 = i32x4.splat(k3);
    let x8 = i32x4.splat(k4), x9 = i32x4.splat(k5), x10 = i32x4.splat(k6), x11 = i32x4.splat(k7);
    const ctrs = i32x4.add(i32x4.splat(ctr), i32x4(0, 1, 2, 3));
    let x12 = ctrs, x13 = i32x4.splat(n0), x14 = i32x4.splat(n1), x15 = i32x4.splat(n2);

    for (let i = 0; i < 10; i++) {
      // Column round: QR(0,4,8,12) QR(1,5,9,13) QR(2,6,10,14) QR(3,7,11,15), interleaved.
      x0 = i32x4.add(x0, x4); x1 = i32x4.add(x1, x5); x2 = i32x4.add(x2, x6); x3 = i32x4.add(x3, x7);
      x12 = rotl16(v128.xor(x12, x0)); x13 = rotl16(v128.xor(x13, x1));
      x14 = rotl16(v128.xor(x14, x2)); x15 = rotl16(v128.xor(x15, x3));
      x8 = i32x4.add(x8, x12); x9 = i32x4.add(x9, x13); x10 = i32x4.add(x10, x14); x11 = i32x4.add(x11, x15);
      x4 = rotl12(v128.xor(x4, x8)); x5 = rotl12(v128.xor(x5, x9));
      x6 = rotl12(v128.xor(x6, x10)); x7 = rotl12(v128.xor(x7, x11));
      x0 = i32x4.add(x0, x4); x1 = i32x4.add(x1, x5); x2 = i32x4.add(x2, x6); x3 = i32x4.add(x3, x7);
      x12 = rotl8(v128.xor(x12, x0)); x13 = rotl8(v128.xor(x13, x1));
      x14 = rotl8(v128.xor(x14, x2)); x15 = rotl8(v128.xor(x15, x3));
      x8 = i32x4.add(x8, x12); x9 = i32x4.add(x9, x13); x10 = i32x4.add(x10, x14); x11 = i32x4.add(x11, x15);
      x4 = rotl7(v128.xor(x4, x8)); x5 = rotl7(v128.xor(x5, x9));
      x6 = rotl7(v128.xor(x6, x10)); x7 = rotl7(v128.xor(x7, x11));

      // Diagonal round: QR(0,5,10,15) QR(1,6,11,12) QR(2,7,8,13) QR(3,4,9,14), interleaved.
      x0 = i32x4.add(x0, x5); x1 = i32x4.add(x1, x6); x2 = i32x4.add(x2, x7); x3 = i32x4.add(x3, x4);
      x15 = rotl16(v128.xor(x15, x0)); x12 = rotl16(v128.xor(x12, x1));
      x13 = rotl16(v128.xor(x13, x2)); x14 = rotl16(v128.xor(x14, x3));
      x10 = i32x4.add(x10, x15); x11 = i32x4.add(x11, x12); x8 = i32x4.add(x8, x13); x9 = i32x4.add(x9, x14);
      x5 = rotl12(v128.xor(x5, x10)); x6 = rotl12(v128.xor(x6, x11));
      x7 = rotl12(v128.xor(x7, x8)); x4 = rotl12(v128.xor(x4, x9));
      x0 = i32x4.add(x0, x5); x1 = i32x4.add(x1, x6); x2 = i32x4.add(x2, x7); x3 = i32x4.add(x3, x4);
      x15 = rotl8(v128.xor(x15, x0)); x12 = rotl8(v128.xor(x12, x1));
      x13 = rotl8(v128.xor(x13, x2)); x14 = rotl8(v128.xor(x14, x3));
      x10 = i32x4.add(x10, x15); x11 = i32x4.add(x11, x12); x8 = i32x4.add(x8, x13); x9 = i32x4.add(x9, x14);
      x5 = rotl7(v128.xor(x5, x10)); x6 = rotl7(v128.xor(x6, x11));
      x7 = rotl7(v128.xor(x7, x8)); x4 = rotl7(v128.xor(x4, x9));

      if (pending != 0 && i < 8) {
        // h <- (h + m1)·r² + m2·r for blocks 2i, 2i+1 of the pending batch (poly1305_blocks).
        const m = pending + (<usize>i << 5);
        let lo = load<u64>(m), hi = load<u64>(m, 8);
        h0 += lo & M26_64;
        h1 += (lo >>> 26) & M26_64;
        h2 += ((lo >>> 52) | (hi << 12)) & M26_64;
        h3 += (hi >>> 14) & M26_64;
        h4 += (hi >>> 40) | HIBIT64;
        lo = load<u64>(m, 16); hi = load<u64>(m, 24);
        const c0 = lo & M26_64;
        const c1 = (lo >>> 26) & M26_64;
        const c2 = ((lo >>> 52) | (hi << 12)) & M26_64;
        const c3 = (hi >>> 14) & M26_64;
        const c4 = (hi >>> 40) | HIBIT64;
        let d0 = h0 * q0 + h1 * t4 + h2 * t3 + h3 * t2 + h4 * t1
               + c0 * r0 + c1 * s4 + c2 * s3 + c3 * s2 + c4 * s1;
        let d1 = h0 * q1 + h1 * q0 + h2 * t4 + h3 * t3 + h4 * t2
               + c0 * r1 + c1 * r0 + c2 * s4 + c3 * s3 + c4 * s2;
        let d2 = h0 * q2 + h1 * q1 + h2 * q0 + h3 * t4 + h4 * t3
               + c0 * r2 + c1 * r1 + c2 * r0 + c3 * s4 + c4 * s3;
        let d3 = h0 * q3 + h1 * q2 + h2 * q1 + h3 * q0 + h4 * t4
               + c0 * r3 + c1 * r2 + c2 * r1 + c3 * r0 + c4 * s4;
        let d4 = h0 * q4 + h1 * q3 + h2 * q2 + h3 * q1 + h4 * q0
               + c0 * r4 + c1 * r3 + c2 * r2 + c3 * r1 + c4 * r0;
        let c = d0 >>> 26; h0 = d0 & M26_64; d1 += c;
        c = d1 >>> 26; h1 = d1 & M26_64; d2 += c;
        c = d2 >>> 26; h2 = d2 & M26_64; d3 += c;
        c = d3 >>> 26; h3 = d3 & M26_64; d4 += c;
        c = d4 >>> 26; h4 = d4 & M26_64; h0 += c * 5;
        c = h0 >>> 26; h0 &= M26_64; h1 += c;
      }
    }

    // Feed-forward (RFC 8439 §2.3): add the input state back, then serialise and XOR.
    x0 = i32x4.add(x0, i32x4.splat(0x61707865)); x1 = i32x4.add(x1, i32x4.splat(0x3320646e));
    x2 = i32x4.add(x2, i32x4.splat(0x79622d32)); x3 = i32x4.add(x3, i32x4.splat(0x6b206574));
    xorWords(x0, x1, x2, x3, src, dst);
    x4 = i32x4.add(x4, i32x4.splat(k0)); x5 = i32x4.add(x5, i32x4.splat(k1));
    x6 = i32x4.add(x6, i32x4.splat(k2)); x7 = i32x4.add(x7, i32x4.splat(k3));
    xorWords(x4, x5, x6, x7, src + 16, dst + 16);
    x8 = i32x4.add(x8, i32x4.splat(k4)); x9 = i32x4.add(x9, i32x4.splat(k5));
    x10 = i32x4.add(x10, i32x4.splat(k6)); x11 = i32x4.add(x11, i32x4.splat(k7));
    xorWords(x8, x9, x10, x11, src + 32, dst + 32);
    x12 = i32x4.add(x12, ctrs); x13 = i32x4.add(x13, i32x4.splat(n0));
    x14 = i32x4.add(x14, i32x4.splat(n1)); x15 = i32x4.add(x15, i32x4.splat(n2));
    xorWords(x12, x13, x14, x15, src + 48, dst + 48);

    if (partial) {
      memory.copy(output, TAIL, len);
      // TAIL now holds plaintext and keystream: do not leave them in static memory.
      memory.fill(TAIL, 0, BATCH);
      pending = 0;
      break;
    }
    pending = mac != 0 ? output : 0;
    input += BATCH;
    output += BATCH;
    len -= BATCH;
    ctr += 4;
  }

  if (mac != 0) {
    store<u32>(mac, <u32>h0, MAC_H); store<u32>(mac, <u32>h1, MAC_H + 4); store<u32>(mac, <u32>h2, MAC_H + 8);
    store<u32>(mac, <u32>h3, MAC_H + 12); store<u32>(mac, <u32>h4, MAC_H + 16);
    if (pending != 0) poly1305_blocks(mac, pending, BATCH >>> 4, 1);
  }
}
