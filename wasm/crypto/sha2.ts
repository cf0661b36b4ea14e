// SHA-256, SHA-384 and SHA-512 (FIPS 180-4), streaming, with context snapshots for transcripts.
//
// Constant time: the compression functions only add, rotate and combine words with boolean
// operations; nothing branches on or indexes memory by message or state bytes. Lengths are
// public and steer the buffering, as in every TLS implementation.
//
// Context layout (HASH_CTX_SIZE bytes, any alignment; the same for all three algorithms):
//   0   u32  algorithm id (0 once finalised: using a finished context traps)
//   4   u32  bytes waiting in the block buffer, always < block length
//   8   u64  total bytes absorbed (the bit length is this times 8, which may need 67 bits)
//   16  the chaining state: 8 u32 words (SHA-256) or 8 u64 words (SHA-384/512), native order
//   80  the block buffer: 64 or 128 bytes
//
// The round constants and initial values are the fractional parts of the cube and square roots
// of the first primes (FIPS 180-4 §4.2, §5.3); they were recomputed with exact integer roots.

export const HASH_SHA256: i32 = 1;
export const HASH_SHA384: i32 = 2;
export const HASH_SHA512: i32 = 3;

const CTX_ALG: usize = 0;
const CTX_FILL: usize = 4;
const CTX_TOTAL: usize = 8;
const CTX_STATE: usize = 16;
const CTX_BUF: usize = 80;
export const HASH_CTX_SIZE: i32 = 208;

const K256 = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]);

const IV256 = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
]);

const K512 = memory.data<u64>([
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
  0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
  0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
  0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
  0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
  0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
  0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
  0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
  0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
  0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
  0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
  0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
  0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
  0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
  0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
  0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
  0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817
]);

const IV384 = memory.data<u64>([
  0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
  0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4
]);

const IV512 = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179
]);

/** Scratch context for the one-shot `hash`. */
const oneShotCtx = memory.data(HASH_CTX_SIZE, 16);

// ---- SHA-256 ------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function bigSigma0_32(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
// @ts-ignore: decorator
@inline function bigSigma1_32(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
// @ts-ignore: decorator
@inline function sigma0_32(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3); }
// @ts-ignore: decorator
@inline function sigma1_32(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10); }
// Ch picks f where e is 1 and g where e is 0: one AND instead of two plus a NOT.
// @ts-ignore: decorator
@inline function ch32(e: u32, f: u32, g: u32): u32 { return g ^ (e & (f ^ g)); }
// Maj is 1 where at least two inputs are: (a AND b) OR (c AND (a OR b)).
// @ts-ignore: decorator
@inline function maj32(a: u32, b: u32, c: u32): u32 { return (a & b) | (c & (a | b)); }

/** W[t] + K[t] for the block being compressed. It is derived from the message, which may be a
 *  key (HMAC pads, HKDF secrets), so hash_final wipes it. */
const wk256 = memory.data(256, 16);

// Byte swap of each 32-bit lane: message words are big-endian.
// @ts-ignore: decorator
@inline function bswapLanes32(v: v128): v128 {
  return i8x16.shuffle(v, v, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

// σ0 and σ1 on four lanes; wasm SIMD has no rotate, so rotr(x, n) = x >>> n | x << (32 - n) and
// the ORs become XORs (the two halves never overlap), merged with the plain shift.
// @ts-ignore: decorator
@inline function sigma0x4(x: v128): v128 {
  return v128.xor(
    v128.xor(v128.xor(i32x4.shr_u(x, 7), i32x4.shr_u(x, 18)), i32x4.shr_u(x, 3)),
    v128.xor(i32x4.shl(x, 25), i32x4.shl(x, 14)));
}
// @ts-ignore: decorator
@inline function sigma1x4(x: v128): v128 {
  return v128.xor(
    v128.xor(v128.xor(i32x4.shr_u(x, 17), i32x4.shr_u(x, 19)), i32x4.shr_u(x, 10)),
    v128.xor(i32x4.shl(x, 15), i32x4.shl(x, 13)));
}

/**
 * The next four schedule words W[t..t+3] from a = W[t-16..t-13], b = W[t-12..t-9],
 * c = W[t-8..t-5], d = W[t-4..t-1]: W[i] = σ1(W[i-2]) + W[i-7] + σ0(W[i-15]) + W[i-16].
 * W[t+2] and W[t+3] need σ1 of W[t] and W[t+1], computed here, so σ1 runs twice on two live
 * lanes with zeros in the other two (σ1(0) = 0, so the zero lanes add nothing).
 */
// @ts-ignore: decorator
@inline function schedule4(a: v128, b: v128, c: v128, d: v128): v128 {
  const zero = i32x4.splat(0);
  const w15 = i8x16.shuffle(a, b, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
  const w7 = i8x16.shuffle(c, d, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
  let s = i32x4.add(i32x4.add(a, w7), sigma0x4(w15));
  const lo = i8x16.shuffle(d, zero, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
  s = i32x4.add(s, sigma1x4(lo));
  const hi = i8x16.shuffle(s, zero, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7);
  return i32x4.add(s, sigma1x4(hi));
}

/**
 * Runs the SHA-256 compression over `n` consecutive 64-byte blocks at `p` (any alignment).
 *
 * The message schedule is expanded first, four words at a time in SIMD, into `wk256` with the
 * round constants already added. The rounds then need only the eight working variables and one
 * load each, which fits the register file. Instead of shifting a..h after each round, the code
 * renames them (round r writes the variable playing `h`, and `d + T1` lands in the one playing
 * `e`), so eight rounds bring every name back to its role. All sums wrap mod 2^32 as the
 * standard requires.
 */
function compress256(st: usize, p: usize, n: usize): void {
  let a = load<u32>(st, 0), b = load<u32>(st, 4), c = load<u32>(st, 8), d = load<u32>(st, 12);
  let e = load<u32>(st, 16), f = load<u32>(st, 20), g = load<u32>(st, 24), h = load<u32>(st, 28);
  const end = p + (n << 6);
  while (p < end) {
    let x0 = bswapLanes32(v128.load(p, 0));
    let x1 = bswapLanes32(v128.load(p, 16));
    let x2 = bswapLanes32(v128.load(p, 32));
    let x3 = bswapLanes32(v128.load(p, 48));
    v128.store(wk256, i32x4.add(x0, v128.load(K256, 0)), 0);
    v128.store(wk256, i32x4.add(x1, v128.load(K256, 16)), 16);
    v128.store(wk256, i32x4.add(x2, v128.load(K256, 32)), 32);
    v128.store(wk256, i32x4.add(x3, v128.load(K256, 48)), 48);
    for (let t: usize = 64; t < 256; t += 64) {
      x0 = schedule4(x0, x1, x2, x3);
      v128.store(wk256 + t, i32x4.add(x0, v128.load(K256 + t, 0)), 0);
      x1 = schedule4(x1, x2, x3, x0);
      v128.store(wk256 + t, i32x4.add(x1, v128.load(K256 + t, 16)), 16);
      x2 = schedule4(x2, x3, x0, x1);
      v128.store(wk256 + t, i32x4.add(x2, v128.load(K256 + t, 32)), 32);
      x3 = schedule4(x3, x0, x1, x2);
      v128.store(wk256 + t, i32x4.add(x3, v128.load(K256 + t, 48)), 48);
    }

    // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and this round's b ^ c is the previous round's
    // a ^ b: m0 and m1 carry it over, alternately, saving an operation per round.
    let m0: u32 = 0, m1: u32 = b ^ c;
    for (let q = wk256; q < wk256 + 256; q += 32) {
      h = h + load<u32>(q, 0) + ch32(e, f, g) + bigSigma1_32(e);  d += h; m0 = a ^ b; h += bigSigma0_32(a) + (b ^ (m0 & m1));
      g = g + load<u32>(q, 4) + ch32(d, e, f) + bigSigma1_32(d);  c += g; m1 = h ^ a; g += bigSigma0_32(h) + (a ^ (m1 & m0));
      f = f + load<u32>(q, 8) + ch32(c, d, e) + bigSigma1_32(c);  b += f; m0 = g ^ h; f += bigSigma0_32(g) + (h ^ (m0 & m1));
      e = e + load<u32>(q, 12) + ch32(b, c, d) + bigSigma1_32(b); a += e; m1 = f ^ g; e += bigSigma0_32(f) + (g ^ (m1 & m0));
      d = d + load<u32>(q, 16) + ch32(a, b, c) + bigSigma1_32(a); h += d; m0 = e ^ f; d += bigSigma0_32(e) + (f ^ (m0 & m1));
      c = c + load<u32>(q, 20) + ch32(h, a, b) + bigSigma1_32(h); g += c; m1 = d ^ e; c += bigSigma0_32(d) + (e ^ (m1 & m0));
      b = b + load<u32>(q, 24) + ch32(g, h, a) + bigSigma1_32(g); f += b; m0 = c ^ d; b += bigSigma0_32(c) + (d ^ (m0 & m1));
      a = a + load<u32>(q, 28) + ch32(f, g, h) + bigSigma1_32(f); e += a; m1 = b ^ c; a += bigSigma0_32(b) + (c ^ (m1 & m0));
    }

    a += load<u32>(st, 0); store<u32>(st, a, 0);
    b += load<u32>(st, 4); store<u32>(st, b, 4);
    c += load<u32>(st, 8); store<u32>(st, c, 8);
    d += load<u32>(st, 12); store<u32>(st, d, 12);
    e += load<u32>(st, 16); store<u32>(st, e, 16);
    f += load<u32>(st, 20); store<u32>(st, f, 20);
    g += load<u32>(st, 24); store<u32>(st, g, 24);
    h += load<u32>(st, 28); store<u32>(st, h, 28);
    p += 64;
  }
}

// ---- SHA-384 / SHA-512 --------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function bigSigma0_64(x: u64): u64 { return rotr<u64>(x, 28) ^ rotr<u64>(x, 34) ^ rotr<u64>(x, 39); }
// @ts-ignore: decorator
@inline function bigSigma1_64(x: u64): u64 { return rotr<u64>(x, 14) ^ rotr<u64>(x, 18) ^ rotr<u64>(x, 41); }
// @ts-ignore: decorator
@inline function sigma0_64(x: u64): u64 { return rotr<u64>(x, 1) ^ rotr<u64>(x, 8) ^ (x >>> 7); }
// @ts-ignore: decorator
@inline function sigma1_64(x: u64): u64 { return rotr<u64>(x, 19) ^ rotr<u64>(x, 61) ^ (x >>> 6); }
// @ts-ignore: decorator
@inline function ch64(e: u64, f: u64, g: u64): u64 { return g ^ (e & (f ^ g)); }
// @ts-ignore: decorator
@inline function maj64(a: u64, b: u64, c: u64): u64 { return (a & b) | (c & (a | b)); }

/** The SHA-512 compression over `n` 128-byte blocks; the same renaming scheme as compress256. */
function compress512(st: usize, p: usize, n: usize): void {
  let a = load<u64>(st, 0), b = load<u64>(st, 8), c = load<u64>(st, 16), d = load<u64>(st, 24);
  let e = load<u64>(st, 32), f = load<u64>(st, 40), g = load<u64>(st, 48), h = load<u64>(st, 56);
  const end = p + (n << 7);
  while (p < end) {
    let v = v128.load(p, 0);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w0 = i64x2.extract_lane(v, 0), w1 = i64x2.extract_lane(v, 1);
    v = v128.load(p, 16);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w2 = i64x2.extract_lane(v, 0), w3 = i64x2.extract_lane(v, 1);
    v = v128.load(p, 32);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w4 = i64x2.extract_lane(v, 0), w5 = i64x2.extract_lane(v, 1);
    v = v128.load(p, 48);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w6 = i64x2.extract_lane(v, 0), w7 = i64x2.extract_lane(v, 1);
    v = v128.load(p, 64);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w8 = i64x2.extract_lane(v, 0), w9 = i64x2.extract_lane(v, 1);
    v = v128.load(p, 80);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w10 = i64x2.extract_lane(v, 0), w11 = i64x2.extract_lane(v, 1);
    v = v128.load(p, 96);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w12 = i64x2.extract_lane(v, 0), w13 = i64x2.extract_lane(v, 1);
    v = v128.load(p, 112);
    v = i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    let w14 = i64x2.extract_lane(v, 0), w15 = i64x2.extract_lane(v, 1);

    let m0: u64 = 0, m1: u64 = b ^ c;
    for (let t: usize = 0; t < 80; t += 16) {
      if (t != 0) {
        w0 += sigma1_64(w14) + w9 + sigma0_64(w1);
        w1 += sigma1_64(w15) + w10 + sigma0_64(w2);
        w2 += sigma1_64(w0) + w11 + sigma0_64(w3);
        w3 += sigma1_64(w1) + w12 + sigma0_64(w4);
        w4 += sigma1_64(w2) + w13 + sigma0_64(w5);
        w5 += sigma1_64(w3) + w14 + sigma0_64(w6);
        w6 += sigma1_64(w4) + w15 + sigma0_64(w7);
        w7 += sigma1_64(w5) + w0 + sigma0_64(w8);
        w8 += sigma1_64(w6) + w1 + sigma0_64(w9);
        w9 += sigma1_64(w7) + w2 + sigma0_64(w10);
        w10 += sigma1_64(w8) + w3 + sigma0_64(w11);
        w11 += sigma1_64(w9) + w4 + sigma0_64(w12);
        w12 += sigma1_64(w10) + w5 + sigma0_64(w13);
        w13 += sigma1_64(w11) + w6 + sigma0_64(w14);
        w14 += sigma1_64(w12) + w7 + sigma0_64(w15);
        w15 += sigma1_64(w13) + w8 + sigma0_64(w0);
      }
      const k = K512 + (t << 3);
      h = h + load<u64>(k, 0) + w0 + ch64(e, f, g) + bigSigma1_64(e);    d += h; m0 = a ^ b; h += bigSigma0_64(a) + (b ^ (m0 & m1));
      g = g + load<u64>(k, 8) + w1 + ch64(d, e, f) + bigSigma1_64(d);    c += g; m1 = h ^ a; g += bigSigma0_64(h) + (a ^ (m1 & m0));
      f = f + load<u64>(k, 16) + w2 + ch64(c, d, e) + bigSigma1_64(c);   b += f; m0 = g ^ h; f += bigSigma0_64(g) + (h ^ (m0 & m1));
      e = e + load<u64>(k, 24) + w3 + ch64(b, c, d) + bigSigma1_64(b);   a += e; m1 = f ^ g; e += bigSigma0_64(f) + (g ^ (m1 & m0));
      d = d + load<u64>(k, 32) + w4 + ch64(a, b, c) + bigSigma1_64(a);   h += d; m0 = e ^ f; d += bigSigma0_64(e) + (f ^ (m0 & m1));
      c = c + load<u64>(k, 40) + w5 + ch64(h, a, b) + bigSigma1_64(h);   g += c; m1 = d ^ e; c += bigSigma0_64(d) + (e ^ (m1 & m0));
      b = b + load<u64>(k, 48) + w6 + ch64(g, h, a) + bigSigma1_64(g);   f += b; m0 = c ^ d; b += bigSigma0_64(c) + (d ^ (m0 & m1));
      a = a + load<u64>(k, 56) + w7 + ch64(f, g, h) + bigSigma1_64(f);   e += a; m1 = b ^ c; a += bigSigma0_64(b) + (c ^ (m1 & m0));
      h = h + load<u64>(k, 64) + w8 + ch64(e, f, g) + bigSigma1_64(e);   d += h; m0 = a ^ b; h += bigSigma0_64(a) + (b ^ (m0 & m1));
      g = g + load<u64>(k, 72) + w9 + ch64(d, e, f) + bigSigma1_64(d);   c += g; m1 = h ^ a; g += bigSigma0_64(h) + (a ^ (m1 & m0));
      f = f + load<u64>(k, 80) + w10 + ch64(c, d, e) + bigSigma1_64(c);  b += f; m0 = g ^ h; f += bigSigma0_64(g) + (h ^ (m0 & m1));
      e = e + load<u64>(k, 88) + w11 + ch64(b, c, d) + bigSigma1_64(b);  a += e; m1 = f ^ g; e += bigSigma0_64(f) + (g ^ (m1 & m0));
      d = d + load<u64>(k, 96) + w12 + ch64(a, b, c) + bigSigma1_64(a);  h += d; m0 = e ^ f; d += bigSigma0_64(e) + (f ^ (m0 & m1));
      c = c + load<u64>(k, 104) + w13 + ch64(h, a, b) + bigSigma1_64(h); g += c; m1 = d ^ e; c += bigSigma0_64(d) + (e ^ (m1 & m0));
      b = b + load<u64>(k, 112) + w14 + ch64(g, h, a) + bigSigma1_64(g); f += b; m0 = c ^ d; b += bigSigma0_64(c) + (d ^ (m0 & m1));
      a = a + load<u64>(k, 120) + w15 + ch64(f, g, h) + bigSigma1_64(f); e += a; m1 = b ^ c; a += bigSigma0_64(b) + (c ^ (m1 & m0));
    }

    a += load<u64>(st, 0); store<u64>(st, a, 0);
    b += load<u64>(st, 8); store<u64>(st, b, 8);
    c += load<u64>(st, 16); store<u64>(st, c, 16);
    d += load<u64>(st, 24); store<u64>(st, d, 24);
    e += load<u64>(st, 32); store<u64>(st, e, 32);
    f += load<u64>(st, 40); store<u64>(st, f, 40);
    g += load<u64>(st, 48); store<u64>(st, g, 48);
    h += load<u64>(st, 56); store<u64>(st, h, 56);
    p += 128;
  }
}

// ---- Streaming API ------------------------------------------------------------------------------

/** The algorithm of a live context; a context never initialised or already finalised traps. */
// @ts-ignore: decorator
@inline function liveAlg(ctx: usize): u32 {
  const alg = load<u32>(ctx, CTX_ALG);
  if (alg - 1 > 2) unreachable();
  return alg;
}

// @ts-ignore: decorator
@inline function compress(alg: u32, st: usize, p: usize, n: usize): void {
  if (alg == HASH_SHA256) compress256(st, p, n);
  else compress512(st, p, n);
}

/** Bytes a hash context needs, whatever the algorithm. */
export function hash_ctx_size(): i32 {
  return HASH_CTX_SIZE;
}

/** Digest length in bytes: 32, 48 or 64; 0 for an unknown id. */
export function hash_output_len(alg: i32): i32 {
  if (alg == HASH_SHA256) return 32;
  if (alg == HASH_SHA384) return 48;
  if (alg == HASH_SHA512) return 64;
  return 0;
}

/** Block length in bytes: 64 or 128; 0 for an unknown id. */
export function hash_block_len(alg: i32): i32 {
  if (alg == HASH_SHA256) return 64;
  if (alg == HASH_SHA384 || alg == HASH_SHA512) return 128;
  return 0;
}

/** Starts a hash of algorithm `alg` in `ctx`; an unknown id is a programming error and traps. */
export function hash_init(ctx: usize, alg: i32): void {
  store<u32>(ctx, 0, CTX_FILL);
  store<u64>(ctx, 0, CTX_TOTAL);
  if (alg == HASH_SHA256) memory.copy(ctx + CTX_STATE, IV256, 32);
  else if (alg == HASH_SHA384) memory.copy(ctx + CTX_STATE, IV384, 64);
  else if (alg == HASH_SHA512) memory.copy(ctx + CTX_STATE, IV512, 64);
  else unreachable();
  store<u32>(ctx, alg, CTX_ALG);
}

/** Absorbs `len` bytes at `data`. Whole blocks are compressed straight from `data`. */
export function hash_update(ctx: usize, data: usize, len: usize): void {
  const alg = liveAlg(ctx);
  const shift: usize = alg == HASH_SHA256 ? 6 : 7;
  const blockLen: usize = 1 << shift;
  store<u64>(ctx, load<u64>(ctx, CTX_TOTAL) + <u64>len, CTX_TOTAL);
  let fill = <usize>load<u32>(ctx, CTX_FILL);
  if (fill != 0) {
    let take = blockLen - fill;
    if (take > len) take = len;
    memory.copy(ctx + CTX_BUF + fill, data, take);
    fill += take;
    data += take;
    len -= take;
    if (fill < blockLen) {
      store<u32>(ctx, <u32>fill, CTX_FILL);
      return;
    }
    compress(alg, ctx + CTX_STATE, ctx + CTX_BUF, 1);
  }
  const blocks = len >>> shift;
  if (blocks != 0) {
    compress(alg, ctx + CTX_STATE, data, blocks);
    data += blocks << shift;
    len -= blocks << shift;
  }
  memory.copy(ctx + CTX_BUF, data, len);
  store<u32>(ctx, <u32>len, CTX_FILL);
}

/**
 * Pads, writes the digest (32, 48 or 64 bytes) to `out`, and wipes `ctx`: it must be initialised
 * again before reuse. To read a running hash (a transcript), `hash_copy` it and finalise the copy.
 */
export function hash_final(ctx: usize, out: usize): void {
  const alg = liveAlg(ctx);
  const buf = ctx + CTX_BUF;
  const st = ctx + CTX_STATE;
  const total = load<u64>(ctx, CTX_TOTAL);
  let fill = <usize>load<u32>(ctx, CTX_FILL);
  // FIPS 180-4 §5.1: a 1 bit, zeros, then the bit length big-endian in the last 8 (or 16) bytes.
  store<u8>(buf + fill, 0x80);
  fill++;
  if (alg == HASH_SHA256) {
    if (fill > 56) {
      memory.fill(buf + fill, 0, 64 - fill);
      compress256(st, buf, 1);
      fill = 0;
    }
    memory.fill(buf + fill, 0, 56 - fill);
    store<u64>(buf, bswap<u64>(total << 3), 56);
    compress256(st, buf, 1);
    memory.fill(wk256, 0, 256);
    for (let i: usize = 0; i < 32; i += 4) store<u32>(out + i, bswap<u32>(load<u32>(st + i)));
  } else {
    if (fill > 112) {
      memory.fill(buf + fill, 0, 128 - fill);
      compress512(st, buf, 1);
      fill = 0;
    }
    memory.fill(buf + fill, 0, 112 - fill);
    // The 128-bit bit length: the byte count times 8 spills 3 bits into the upper word.
    store<u64>(buf, bswap<u64>(total >>> 61), 112);
    store<u64>(buf, bswap<u64>(total << 3), 120);
    compress512(st, buf, 1);
    const outLen: usize = alg == HASH_SHA384 ? 48 : 64;
    for (let i: usize = 0; i < outLen; i += 8) store<u64>(out + i, bswap<u64>(load<u64>(st + i)));
  }
  memory.fill(ctx, 0, HASH_CTX_SIZE);
}

/** Copies a running context, so a transcript hash can be read and still continued. */
export function hash_copy(dst: usize, src: usize): void {
  memory.copy(dst, src, HASH_CTX_SIZE);
}

/** One-shot digest of `len` bytes at `data` into `out` (which may overlap `data`). */
export function hash(alg: i32, out: usize, data: usize, len: usize): void {
  hash_init(oneShotCtx, alg);
  hash_update(oneShotCtx, data, len);
  hash_final(oneShotCtx, out);
}
