// GHASH (NIST SP 800-38D §6.4): multiplication in GF(2^128) by integer multiplications with holes.
//
// Constant time: carry-less products are computed with ordinary 64-bit integer multiplications
// on operands whose bits are spread out ("holes", as in BearSSL's ghash_ctmul64), so neither a
// branch nor a memory address depends on H or the data. Lengths are public.
//
// Representation. A 16-byte GCM block is read as a 128-bit big-endian integer V = v1:v0 (v1 from
// bytes 0..7). GCM numbers bits the other way (the first bit of the block is the coefficient of
// x^0), so V holds the polynomial bit-reversed: coefficient x^k at bit 127 - k. The carry-less
// product of two such values is the 255-bit reversal of the polynomial product; one left shift
// puts coefficient x^k at bit 255 - k, the upper 128 bits then hold x^0..x^127 in the input's
// convention and the lower 128 bits the part to reduce (x^128 = x^7 + x^2 + x + 1).
//
// 64x64 carry-less products. With x split into four parts x & 0x1111..., x & 0x2222..., ...,
// x & 0x8888... (every fourth bit) and the same for y, an integer product of parts i and j has
// terms only at bit positions p ≡ i + j (mod 4). The column at p sums at most min(16, p/4 + 1)
// one-bit products, at most 15 for p < 60; the columns below p of the same class then add up to
// at most 15·(2^(p-4) + 2^(p-8) + ...) < 2^p, so nothing carries into bit p, and bit p of the
// product is the column sum mod 2, i.e. the carry-less bit. The columns at 60..63 may reach 16,
// whose carry leaves the 64-bit word. Masking each class with its own mask and OR-ing the four
// gives the low 64 bits of the carry-less product (16 multiplications). The high 64 bits are the
// low 64 bits of the product of the bit-reversed operands, reversed and shifted right by one.
//
// Per-key precomputation (ghash_key): for H, H^2, ..., H^8, the four masked parts of the six
// operands a 128x128 Karatsuba product needs (low word, high word, their XOR, and the bit
// reversals of these three). Eight blocks are then absorbed with a single reduction:
//   Y' = (Y ^ X1)·H^8 ^ X2·H^7 ^ ... ^ X8·H,
// the eight products being independent (good for the pipeline) and summed before the reduction
// and before the bit reversals of the high halves, which are linear.
//
// Key layout (GHASH_KEY_SIZE bytes, any alignment): power H^n at 192·(n - 1); operand o at
// 32·o within it (o = 0: p0, 1: p1, 2: p0 ^ p1, 3: rev p0, 4: rev p1, 5: rev (p0 ^ p1), where
// H = p1:p0), part i (bits ≡ i mod 4) at 8·i.

// Aggregation depth: blocks absorbed per reduction, and powers of H kept in the key.
const GHASH_POWERS: i32 = 8;
export const GHASH_KEY_SIZE: i32 = GHASH_POWERS * 192;

const M0: u64 = 0x1111111111111111;
const M1: u64 = 0x2222222222222222;
const M2: u64 = 0x4444444444444444;
const M3: u64 = 0x8888888888888888;

// A zero-padded copy of a partial final block (public data: AAD or ciphertext).
const padBlock = memory.data(16, 16);
const zeroBlock = memory.data(16, 16);

/** Byte order reversed: GCM bytes to the (low word, high word) lanes of the big-endian integer. */
// @ts-ignore: decorator
@inline function reverseBytes(v: v128): v128 {
  return i8x16.shuffle(v, v, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
}

/**
 * Reverses the bits inside every byte (three swap-moves). The i64x2 shifts move bits across byte
 * boundaries only into positions the masks clear.
 */
// @ts-ignore: decorator
@inline function reverseBitsInBytes(v: v128): v128 {
  const m1 = i8x16.splat(0x55), m2 = i8x16.splat(0x33), m4 = i8x16.splat(0x0f);
  v = v128.or(v128.and(i64x2.shr_u(v, 1), m1), i64x2.shl(v128.and(v, m1), 1));
  v = v128.or(v128.and(i64x2.shr_u(v, 2), m2), i64x2.shl(v128.and(v, m2), 2));
  return v128.or(v128.and(i64x2.shr_u(v, 4), m4), i64x2.shl(v128.and(v, m4), 4));
}

/** Full 64-bit bit reversal of both lanes. */
// @ts-ignore: decorator
@inline function reverseBits64x2(v: v128): v128 {
  return reverseBitsInBytes(i8x16.shuffle(v, v, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8));
}

/** Low 64 bits of the carry-less product of x and the operand whose four parts are at k. */
// @ts-ignore: decorator
@inline function bmul(x: u64, k: usize): u64 {
  const x0 = x & M0, x1 = x & M1, x2 = x & M2, x3 = x & M3;
  const k0 = load<u64>(k, 0), k1 = load<u64>(k, 8), k2 = load<u64>(k, 16), k3 = load<u64>(k, 24);
  const z0 = (x0 * k0) ^ (x1 * k3) ^ (x2 * k2) ^ (x3 * k1);
  const z1 = (x0 * k1) ^ (x1 * k0) ^ (x2 * k3) ^ (x3 * k2);
  const z2 = (x0 * k2) ^ (x1 * k1) ^ (x2 * k0) ^ (x3 * k3);
  const z3 = (x0 * k3) ^ (x1 * k2) ^ (x2 * k1) ^ (x3 * k0);
  return (z0 & M0) | (z1 & M1) | (z2 & M2) | (z3 & M3);
}

// @ts-ignore: decorator
@inline function storeParts(dst: usize, x: u64): void {
  store<u64>(dst, x & M0, 0);
  store<u64>(dst, x & M1, 8);
  store<u64>(dst, x & M2, 16);
  store<u64>(dst, x & M3, 24);
}

/** Stores the operand parts of the element h (GCM byte order) at dst (192 bytes). */
function storePower(dst: usize, h: v128): void {
  const be = reverseBytes(h);
  const rb = reverseBitsInBytes(h);
  const p0 = i64x2.extract_lane(be, 0), p1 = i64x2.extract_lane(be, 1);
  const r0 = i64x2.extract_lane(rb, 1), r1 = i64x2.extract_lane(rb, 0);
  storeParts(dst, p0);
  storeParts(dst + 32, p1);
  storeParts(dst + 64, p0 ^ p1);
  storeParts(dst + 96, r0);
  storeParts(dst + 128, r1);
  storeParts(dst + 160, r0 ^ r1);
}

// absorb's working area: the operands of up to eight blocks, then the six summed half-products.
// They hold GHASH intermediates (functions of H), so ghash_key and ghash_update wipe them.
const operands = memory.data(GHASH_POWERS * 48, 16);
const products = memory.data(48, 16);

/**
 * Phase 1 of absorbing m (1..8) full blocks at data into the state y: the six Karatsuba operands
 * of every block (y added to the first), operand o of block i at operands + 48i + 8o.
 */
function prepare(y: v128, data: usize, m: i32): void {
  for (let i = 0; i < m; i++) {
    const x = v128.xor(v128.load(data + (<usize>i << 4)), y);
    y = i64x2.splat(0);
    const be = reverseBytes(x);
    const rb = reverseBitsInBytes(x);
    // x = a1:a0; ra0, ra1 are the 64-bit reversals of a0, a1.
    const a0 = i64x2.extract_lane(be, 0), a1 = i64x2.extract_lane(be, 1);
    const ra0 = i64x2.extract_lane(rb, 1), ra1 = i64x2.extract_lane(rb, 0);
    const d = operands + <usize>i * 48;
    store<u64>(d, a0, 0);
    store<u64>(d, a1, 8);
    store<u64>(d, a0 ^ a1, 16);
    store<u64>(d, ra0, 24);
    store<u64>(d, ra1, 32);
    store<u64>(d, ra0 ^ ra1, 40);
  }
}

/**
 * Phase 2, for operand o: the sum over the m blocks of its half-products with the matching
 * operand of H^m, H^(m-1), ..., H. The four residue classes are summed unmasked: masking
 * distributes over XOR, so one mask per class at the end keeps exactly the carry-less bits.
 */
// @ts-ignore: decorator
@inline function multiply(hk: usize, m: i32, o: usize): void {
  let c0: u64 = 0, c1: u64 = 0, c2: u64 = 0, c3: u64 = 0;
  let k = hk + <usize>(m - 1) * 192 + (o << 5);
  let d = operands + (o << 3);
  for (let i = 0; i < m; i++) {
    const x = load<u64>(d);
    const x0 = x & M0, x1 = x & M1, x2 = x & M2, x3 = x & M3;
    const k0 = load<u64>(k, 0), k1 = load<u64>(k, 8), k2 = load<u64>(k, 16), k3 = load<u64>(k, 24);
    c0 ^= (x0 * k0) ^ (x1 * k3) ^ (x2 * k2) ^ (x3 * k1);
    c1 ^= (x0 * k1) ^ (x1 * k0) ^ (x2 * k3) ^ (x3 * k2);
    c2 ^= (x0 * k2) ^ (x1 * k1) ^ (x2 * k0) ^ (x3 * k3);
    c3 ^= (x0 * k3) ^ (x1 * k2) ^ (x2 * k1) ^ (x3 * k0);
    k -= 192;
    d += 48;
  }
  store<u64>(products + (o << 3), (c0 & M0) | (c1 & M1) | (c2 & M2) | (c3 & M3));
}

/** Phase 3: recombines the six half-products and reduces; returns the new state. */
function finish(): v128 {
  const lo0 = load<u64>(products, 0), lo1 = load<u64>(products, 8), lo2 = load<u64>(products, 16);
  const hr0 = load<u64>(products, 24), hr1 = load<u64>(products, 32), hr2 = load<u64>(products, 40);
  // High halves of the three 127-bit products (sums): reverse, then drop the bit that the
  // reversal of a 127-bit value leaves at the bottom.
  const hv = reverseBits64x2(i64x2.replace_lane(i64x2.splat(hr0), 1, hr1));
  const h0 = <u64>i64x2.extract_lane(hv, 0) >>> 1;
  const h1 = <u64>i64x2.extract_lane(hv, 1) >>> 1;
  const h2 = <u64>i64x2.extract_lane(reverseBits64x2(i64x2.splat(hr2)), 0) >>> 1;
  // Karatsuba: a·p = a1p1·2^128 ^ (mid ^ a0p0 ^ a1p1)·2^64 ^ a0p0, mid = (a0 ^ a1)(p0 ^ p1).
  let z0 = lo0;
  let z1 = h0 ^ lo2 ^ lo0 ^ lo1;
  let z2 = lo1 ^ h2 ^ h0 ^ h1;
  let z3 = h1;
  // The 255-bit product, shifted left by one (see the header).
  z3 = (z3 << 1) | (z2 >>> 63);
  z2 = (z2 << 1) | (z1 >>> 63);
  z1 = (z1 << 1) | (z0 >>> 63);
  z0 <<= 1;
  // Reduction: the bit at position P < 128 stands for x^(255-P) = x^(127-P)·(x^7 + x^2 + x + 1),
  // i.e. it moves to positions P + 128, P + 127, P + 126 and P + 121. Fold z0 into z1:z2, then
  // the updated z1 into z2:z3; every target of the second fold is already >= 128.
  z1 ^= (z0 << 63) ^ (z0 << 62) ^ (z0 << 57);
  z2 ^= z0 ^ (z0 >>> 1) ^ (z0 >>> 2) ^ (z0 >>> 7);
  z2 ^= (z1 << 63) ^ (z1 << 62) ^ (z1 << 57);
  z3 ^= z1 ^ (z1 >>> 1) ^ (z1 >>> 2) ^ (z1 >>> 7);
  return reverseBytes(i64x2.replace_lane(i64x2.splat(z2), 1, z3));
}

/** y' = (y ^ X1)·H^m ^ X2·H^(m-1) ^ ... ^ Xm·H for the m (1..8) full blocks at data. */
function absorb(hk: usize, y: v128, data: usize, m: i32): v128 {
  prepare(y, data, m);
  for (let o: usize = 0; o < 6; o++) multiply(hk, m, o);
  return finish();
}

/** Bytes a GHASH key needs. */
export function ghash_key_size(): i32 {
  return GHASH_KEY_SIZE;
}

/** Precomputes the GHASH key for the hash subkey h16 (E_K(0^128)) into hk. */
export function ghash_key(hk: usize, h16: usize): void {
  const h = v128.load(h16);
  storePower(hk, h);
  let p = h;
  for (let n: usize = 1; n < <usize>GHASH_POWERS; n++) {
    // H^(n+1) = (H^n ^ 0)·H, using only the H^1 slot, which is already in place.
    p = absorb(hk, p, zeroBlock, 1);
    storePower(hk + n * 192, p);
  }
  wipeScratch();
}

function wipeScratch(): void {
  memory.fill(operands, 0, <usize>GHASH_POWERS * 48);
  memory.fill(products, 0, 48);
}

/**
 * Absorbs len bytes at data into the 16-byte state at y16, the final partial block padded with
 * zeros (GCM pads AAD and ciphertext separately, SP 800-38D §7.1 step 5).
 */
export function ghash_update(hk: usize, y16: usize, data: usize, len: usize): void {
  let y = v128.load(y16);
  let n = len >>> 4;
  while (n >= <usize>GHASH_POWERS) {
    y = absorb(hk, y, data, GHASH_POWERS);
    data += <usize>GHASH_POWERS << 4;
    n -= <usize>GHASH_POWERS;
  }
  if (n > 0) {
    y = absorb(hk, y, data, <i32>n);
    data += n << 4;
  }
  const rem = len & 15;
  if (rem != 0) {
    memory.fill(padBlock, 0, 16);
    memory.copy(padBlock, data, rem);
    y = absorb(hk, y, padBlock, 1);
  }
  v128.store(y16, y);
  wipeScratch();
}
