// Poly1305 (RFC 8439 §2.5): h = Σ m_i · r^(n-i+1) mod p, p = 2^130 - 5, tag = (h + s) mod 2^128.
//
// Representation: a value below 2^131 is five unsigned limbs of 26 bits (base 2^26), held in u64
// locals so that a limb product fits a native 64-bit multiply. Since 2^130 ≡ 5 (mod p), the
// limb-product terms h_i·r_j with i + j ≥ 5 wrap around multiplied by 5: we precompute
// s_j = 5·r_j. wasm has no 64×64→128 multiply, which rules out 44-bit limbs; 26-bit limbs keep
// every product and every column sum well inside 64 bits (bounds below).
//
// Speed: blocks are consumed two at a time as h ← (h + m1)·r² + m2·r, which is exactly two
// Horner steps, so each pair costs one carry chain instead of two and its ten products per column
// are independent of each other.
//
// Constant time: only the number of blocks (public) steers control flow. The final reduction
// computes h - p unconditionally and selects with a mask.
//
// The streaming helpers below (poly1305_init / _blocks / _finish over a caller context) are what
// chacha20poly1305.ts uses; poly1305_mac is the RFC 8439 one-shot MAC.

/** Bytes a Poly1305 context needs (r, r², h, s as u32 words). */
export const POLY1305_CTX_SIZE: i32 = 80;

// Context layout (byte offsets of five u32 limbs, or four u32 words for S). chacha20.ts's
// stitched loop reads R, Q and H at these offsets too.
const R: usize = 0;   // r, clamped, limbs < 2^26
const Q: usize = 20;  // r² mod p, limbs < 2^26 except q1 < 2^26 + 2^8
const H: usize = 40;  // accumulator; between calls h0, h2, h3, h4 < 2^26 and h1 < 2^26 + 2^10
const S: usize = 60;  // s = second half of the key, added at the end

const M: u32 = 0x3ffffff;
const M64: u64 = 0x3ffffff;

/** Context and padding block for the one-shot poly1305_mac. */
const MAC_CTX = memory.data(80, 16);
const MAC_BLOCK = memory.data(16, 16);

/** Loads r (clamped per RFC 8439 §2.5.1) and s from the 32-byte one-time key; h = 0. */
export function poly1305_init(ctx: usize, key: usize): void {
  // Clamping clears the top 4 bits of bytes 3, 7, 11, 15 and the low 2 bits of bytes 4, 8, 12.
  const t0 = load<u32>(key) & 0x0fffffff;
  const t1 = load<u32>(key, 4) & 0x0ffffffc;
  const t2 = load<u32>(key, 8) & 0x0ffffffc;
  const t3 = load<u32>(key, 12) & 0x0ffffffc;
  // Limb i holds bits 26i .. 26i+25 of r. t3 < 2^28, so r4 = t3 >> 8 < 2^20.
  const r0 = t0 & M;
  const r1 = ((t0 >>> 26) | (t1 << 6)) & M;
  const r2 = ((t1 >>> 20) | (t2 << 12)) & M;
  const r3 = ((t2 >>> 14) | (t3 << 18)) & M;
  const r4 = t3 >>> 8;
  store<u32>(ctx, r0, R); store<u32>(ctx, r1, R + 4); store<u32>(ctx, r2, R + 8);
  store<u32>(ctx, r3, R + 12); store<u32>(ctx, r4, R + 16);

  // r² mod p. Each product < 2^26 · 5·2^26 < 2^54.33, each column (5 terms) < 2^56.7.
  const a0 = <u64>r0, a1 = <u64>r1, a2 = <u64>r2, a3 = <u64>r3, a4 = <u64>r4;
  const b1 = a1 * 5, b2 = a2 * 5, b3 = a3 * 5, b4 = a4 * 5;
  let d0 = a0 * a0 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1;
  let d1 = a0 * a1 + a1 * a0 + a2 * b4 + a3 * b3 + a4 * b2;
  let d2 = a0 * a2 + a1 * a1 + a2 * a0 + a3 * b4 + a4 * b3;
  let d3 = a0 * a3 + a1 * a2 + a2 * a1 + a3 * a0 + a4 * b4;
  let d4 = a0 * a4 + a1 * a3 + a2 * a2 + a3 * a1 + a4 * a0;
  // Carry: d4 >> 26 < 2^31, times 5 < 2^33.4 added to q0 < 2^26; its carry into q1 is < 2^8.
  let c = d0 >>> 26; d0 &= M64; d1 += c;
  c = d1 >>> 26; d1 &= M64; d2 += c;
  c = d2 >>> 26; d2 &= M64; d3 += c;
  c = d3 >>> 26; d3 &= M64; d4 += c;
  c = d4 >>> 26; d4 &= M64; d0 += c * 5;
  c = d0 >>> 26; d0 &= M64; d1 += c;
  store<u32>(ctx, <u32>d0, Q); store<u32>(ctx, <u32>d1, Q + 4); store<u32>(ctx, <u32>d2, Q + 8);
  store<u32>(ctx, <u32>d3, Q + 12); store<u32>(ctx, <u32>d4, Q + 16);

  memory.fill(ctx + H, 0, 20);
  memory.copy(ctx + S, key + 16, 16);
}

/**
 * Absorbs `nblocks` 16-byte blocks at m. `full` = 1: ordinary blocks, each gets the 2^128 bit
 * (RFC 8439 §2.5.1 "add one bit beyond"); `full` = 0: a final block the caller already padded
 * with 0x01 and zeros.
 */
export function poly1305_blocks(ctx: usize, m: usize, nblocks: usize, full: u32): void {
  const hibit = <u64>full << 24; // bit 128 = bit 24 of limb 4
  const r0 = <u64>load<u32>(ctx, R), r1 = <u64>load<u32>(ctx, R + 4), r2 = <u64>load<u32>(ctx, R + 8);
  const r3 = <u64>load<u32>(ctx, R + 12), r4 = <u64>load<u32>(ctx, R + 16);
  const s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
  const q0 = <u64>load<u32>(ctx, Q), q1 = <u64>load<u32>(ctx, Q + 4), q2 = <u64>load<u32>(ctx, Q + 8);
  const q3 = <u64>load<u32>(ctx, Q + 12), q4 = <u64>load<u32>(ctx, Q + 16);
  const t1 = q1 * 5, t2 = q2 * 5, t3 = q3 * 5, t4 = q4 * 5;
  let h0 = <u64>load<u32>(ctx, H), h1 = <u64>load<u32>(ctx, H + 4), h2 = <u64>load<u32>(ctx, H + 8);
  let h3 = <u64>load<u32>(ctx, H + 12), h4 = <u64>load<u32>(ctx, H + 16);
  // Limb i of a block is bits 26i .. 26i+25 of its little-endian value, read as two u64 words.

  // Bounds for a pair: on entry h_i < 2^26 + 2^10; adding a message limb (< 2^26) gives
  // h_i < 2^27.01. Multipliers: r_i, q_i < 2^26 + 2^8, s_i, t_i < 5·(2^26 + 2^8) < 2^28.33.
  // (h+m1)·r² terms are < 2^55.34 (five: < 2^57.67); m2·r terms < 2^54.33 (five: < 2^56.67);
  // a column is below 2^58.3 and a carry added to it keeps it below 2^59: no u64 overflow.
  while (nblocks >= 2) {
    let lo = load<u64>(m), hi = load<u64>(m, 8);
    h0 += lo & M64;
    h1 += (lo >>> 26) & M64;
    h2 += ((lo >>> 52) | (hi << 12)) & M64;
    h3 += (hi >>> 14) & M64;
    h4 += (hi >>> 40) | hibit;
    lo = load<u64>(m, 16); hi = load<u64>(m, 24);
    const c0 = lo & M64;
    const c1 = (lo >>> 26) & M64;
    const c2 = ((lo >>> 52) | (hi << 12)) & M64;
    const c3 = (hi >>> 14) & M64;
    const c4 = (hi >>> 40) | hibit;

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

    // Partial carry: d4 >> 26 < 2^33, ·5 < 2^35.4, so h0's carry into h1 is < 2^10 (h1's bound).
    let c = d0 >>> 26; h0 = d0 & M64; d1 += c;
    c = d1 >>> 26; h1 = d1 & M64; d2 += c;
    c = d2 >>> 26; h2 = d2 & M64; d3 += c;
    c = d3 >>> 26; h3 = d3 & M64; d4 += c;
    c = d4 >>> 26; h4 = d4 & M64; h0 += c * 5;
    c = h0 >>> 26; h0 &= M64; h1 += c;

    m += 32;
    nblocks -= 2;
  }

  if (nblocks != 0) {
    // One Horner step h ← (h + m)·r; same bounds as above with only the first five terms.
    let lo = load<u64>(m), hi = load<u64>(m, 8);
    h0 += lo & M64;
    h1 += (lo >>> 26) & M64;
    h2 += ((lo >>> 52) | (hi << 12)) & M64;
    h3 += (hi >>> 14) & M64;
    h4 += (hi >>> 40) | hibit;

    let d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;

    let c = d0 >>> 26; h0 = d0 & M64; d1 += c;
    c = d1 >>> 26; h1 = d1 & M64; d2 += c;
    c = d2 >>> 26; h2 = d2 & M64; d3 += c;
    c = d3 >>> 26; h3 = d3 & M64; d4 += c;
    c = d4 >>> 26; h4 = d4 & M64; h0 += c * 5;
    c = h0 >>> 26; h0 &= M64; h1 += c;
  }

  store<u32>(ctx, <u32>h0, H); store<u32>(ctx, <u32>h1, H + 4); store<u32>(ctx, <u32>h2, H + 8);
  store<u32>(ctx, <u32>h3, H + 12); store<u32>(ctx, <u32>h4, H + 16);
}

/** Writes the 16-byte tag and wipes the context. */
export function poly1305_finish(ctx: usize, out: usize): void {
  let h0 = load<u32>(ctx, H), h1 = load<u32>(ctx, H + 4), h2 = load<u32>(ctx, H + 8);
  let h3 = load<u32>(ctx, H + 12), h4 = load<u32>(ctx, H + 16);

  // Full carry, one and a half times. On entry h1 < 2^26 + 2^10 and the others < 2^26, so every
  // carry in the first pass is 0 or 1; after it h0, h2, h3, h4 < 2^26 and h1 <= 2^26. The second
  // pass (h1 .. h4, wrapping into h0) carries out of h4 only if h1 was exactly 2^26, which needs
  // the first pass to have wrapped a carry into h0 and left h0 < 5; then h0 + 5 < 2^26. Either
  // way all five limbs end below 2^26, i.e. h < 2^130.
  let c = h0 >>> 26; h0 &= M; h1 += c;
  c = h1 >>> 26; h1 &= M; h2 += c;
  c = h2 >>> 26; h2 &= M; h3 += c;
  c = h3 >>> 26; h3 &= M; h4 += c;
  c = h4 >>> 26; h4 &= M; h0 += c * 5;
  c = h0 >>> 26; h0 &= M; h1 += c;
  c = h1 >>> 26; h1 &= M; h2 += c;
  c = h2 >>> 26; h2 &= M; h3 += c;
  c = h3 >>> 26; h3 &= M; h4 += c;
  c = h4 >>> 26; h4 &= M; h0 += c * 5;

  // h < 2^130 < 2p, so h mod p is h or h - p. g = h + 5 - 2^130 = h - p; its top limb goes
  // negative (bit 31 set) exactly when h < p.
  let g0 = h0 + 5; c = g0 >>> 26; g0 &= M;
  let g1 = h1 + c; c = g1 >>> 26; g1 &= M;
  let g2 = h2 + c; c = g2 >>> 26; g2 &= M;
  let g3 = h3 + c; c = g3 >>> 26; g3 &= M;
  const g4 = h4 + c - (1 << 26);
  const useG = (g4 >>> 31) - 1; // all-ones iff h >= p
  h0 = h0 ^ (useG & (h0 ^ g0));
  h1 = h1 ^ (useG & (h1 ^ g1));
  h2 = h2 ^ (useG & (h2 ^ g2));
  h3 = h3 ^ (useG & (h3 ^ g3));
  h4 = h4 ^ (useG & (h4 ^ (g4 & M)));

  // h mod 2^128 as four 32-bit words (bits 128, 129 fall off: the tag is taken mod 2^128).
  const w0 = h0 | (h1 << 26);
  const w1 = (h1 >>> 6) | (h2 << 20);
  const w2 = (h2 >>> 12) | (h3 << 14);
  const w3 = (h3 >>> 18) | (h4 << 8);

  // tag = (h + s) mod 2^128, carrying word to word through a u64.
  let f = <u64>w0 + <u64>load<u32>(ctx, S);
  store<u32>(out, <u32>f);
  f = <u64>w1 + <u64>load<u32>(ctx, S + 4) + (f >>> 32);
  store<u32>(out, <u32>f, 4);
  f = <u64>w2 + <u64>load<u32>(ctx, S + 8) + (f >>> 32);
  store<u32>(out, <u32>f, 8);
  f = <u64>w3 + <u64>load<u32>(ctx, S + 12) + (f >>> 32);
  store<u32>(out, <u32>f, 12);

  // r and s are one-time key material.
  memory.fill(ctx, 0, POLY1305_CTX_SIZE);
}

/** out16 = Poly1305(key32, msg[0..len)), RFC 8439 §2.5. */
export function poly1305_mac(out: usize, key: usize, msg: usize, len: usize): void {
  poly1305_init(MAC_CTX, key);
  poly1305_blocks(MAC_CTX, msg, len >>> 4, 1);
  const rem = len & 15;
  if (rem != 0) {
    // The last partial block gets its "one bit beyond" as a 0x01 byte right after the data.
    memory.fill(MAC_BLOCK, 0, 16);
    memory.copy(MAC_BLOCK, msg + len - rem, rem);
    store<u8>(MAC_BLOCK + rem, 1);
    poly1305_blocks(MAC_CTX, MAC_BLOCK, 1, 0);
    memory.fill(MAC_BLOCK, 0, 16);
  }
  poly1305_finish(MAC_CTX, out);
}
