// X25519 (RFC 7748 §5): the Montgomery ladder on Curve25519, u-coordinate only.
//
// Field GF(p), p = 2^255 - 19. An element is ten limbs in radix 2^25.5, stored as ten u32 in
// memory (40 bytes): limb i sits at bit position ceil(25.5·i) = 0, 26, 51, 77, 102, 128, 153, 179,
// 204, 230, so even limbs are 26 bits wide and odd limbs 25 bits wide. Read in pairs, (limb 2k,
// limb 2k+1) is one 51-bit digit D_k = lo_k + 2^26·hi_k of radix X = 2^51, and a product of two
// elements is computed on those five digits with Karatsuba on each digit pair:
//
//   (lo_i + Y·hi_i)(lo'_j + Y·hi'_j) = lo·lo' + Y·((lo+hi)(lo'+hi') - lo·lo' - hi·hi') + Y²·hi·hi'
//
// with Y = 2^26 and Y² = 2^52 = 2·X. Summing over i + j = c gives per column c = 0..8 three sums
// L_c (lo·lo'), H_c (hi·hi') and M_c ((lo+hi)(lo'+hi')); the middle term is M_c - L_c - H_c. That
// is 75 products of 32×32 -> 64 bits (AssemblyScript has no 64×64 -> 128), not the 100 of plain
// radix-2^25.5 schoolbook. Columns c >= 5 fold back with X^5 = 2^255 ≡ 19 (mod p).
//
// A digit (lo, hi) is exactly one 64-bit load, so L_c and H_c are computed together in the two
// lanes of i64x2.extmul_low_i32x4_u (one vector multiply for both), while the M_c products run
// as scalar u64 multiplies: the vector and the integer multipliers work side by side.
//
// Bounds. An element is "tight" when even limbs are < 2^26 and odd limbs < 2^25 + 2^18 (what
// carryStore() produces; decoding gives < 2^26 and < 2^25), and "loose" when even limbs are
// < 2^28 and odd limbs < 2^27. Stored elements are always tight; operands are loaded as an
// element, the sum of two (even < 2^27, odd < 2^26 + 2^19) or a difference a + 2p - b (see the
// loaders), all loose. Products take loose operands and store tight results. The arithmetic is
// in u64 (and u64 lanes), so a subtraction whose exact result is nonnegative is exact even if an
// intermediate sum wraps modulo 2^64; every bound below is on exact (mathematical) values.
//
// Constant time: every loop has a public trip count, the ladder swaps by mask, and no memory
// address depends on a secret (the scalar byte read at step t is at an address fixed by t).

import { ctIsZeroBytes, wipe } from "./ct";

// @ts-ignore: decorator
@inline const M26: u64 = 0x3ffffff;
// @ts-ignore: decorator
@inline const M25: u64 = 0x1ffffff;

/** Bytes of one field element: ten u32 limbs, or five (lo, hi) digits of 8 bytes. */
// @ts-ignore: decorator
@inline const FE: usize = 40;

// Static scratch (the stub runtime never frees, so nothing is allocated per call). The ladder state
// and the clamped scalar are secret and are wiped before returning.
const SCRATCH_FES: usize = 16;
const scratch = memory.data(<i32>(FE * SCRATCH_FES + 32), 16);
// @ts-ignore: decorator
@inline function fe(i: usize): usize { return scratch + FE * i; }
// @ts-ignore: decorator
@inline function scalarCopy(): usize { return scratch + FE * SCRATCH_FES; }

/**
 * Carries ten limbs whose values are each < 2^63 into tight form and stores them at r.
 *
 * Two interleaved chains (0->1->2->3->4->5 and 4->5->6->7->8->9), then 9 -> 0 through 2^255 ≡ 19,
 * then 0 -> 1 once more. With every input < 2^63: a carry out of a limb that received one is
 * < 2^38 + 2^13; limb 4 receives at most 2^38 + 2^13 on a value already < 2^26, so its second
 * carry into limb 5 is < 2^13; limb 9's carry is < 2^38 + 2^13, times 19 < 2^43, so limb 0 ends
 * < 2^44 before its last carry and passes < 2^18 to limb 1. Final limbs: even < 2^26, odd < 2^25
 * except limb 1 < 2^25 + 2^18 and limb 5 < 2^25 + 2^13: tight. No addition exceeds 2^63 + 2^39.
 */
// @ts-ignore: decorator
@inline function carryStore(
  r: usize,
  h0: u64, h1: u64, h2: u64, h3: u64, h4: u64,
  h5: u64, h6: u64, h7: u64, h8: u64, h9: u64,
): void {
  h1 += h0 >>> 26; h0 &= M26;
  h5 += h4 >>> 26; h4 &= M26;
  h2 += h1 >>> 25; h1 &= M25;
  h6 += h5 >>> 25; h5 &= M25;
  h3 += h2 >>> 26; h2 &= M26;
  h7 += h6 >>> 26; h6 &= M26;
  h4 += h3 >>> 25; h3 &= M25;
  h8 += h7 >>> 25; h7 &= M25;
  h5 += h4 >>> 26; h4 &= M26;
  h9 += h8 >>> 26; h8 &= M26;
  h0 += (h9 >>> 25) * 19; h9 &= M25;
  h1 += h0 >>> 26; h0 &= M26;
  // One 64-bit store per digit: the next operation reads each digit with one 64-bit load, which
  // the CPU can then forward straight from the store buffer.
  store<u64>(r, h0 | (h1 << 32), 0);
  store<u64>(r, h2 | (h3 << 32), 8);
  store<u64>(r, h4 | (h5 << 32), 16);
  store<u64>(r, h6 | (h7 << 32), 24);
  store<u64>(r, h8 | (h9 << 32), 32);
}

/**
 * The end of a product: from the column sums P_c = (L_c, H_c) (two u64 lanes) and M_c, forms the
 * ten output limbs and carries them, tight, into r.
 *
 * Per column c, n_c = min(c, 8 - c) + 1 products. With loose operands lo·lo' < 2^56,
 * hi·hi' < 2^54 and lo·hi' + hi·lo' < 2^56, so L_c <= n_c·2^56, H_c <= n_c·2^54 and the middle
 * term m_c = M_c - L_c - H_c <= n_c·2^56. The outputs, in units of 2^56 (the largest is limb 0):
 *   r0 = L0 + 19(L5 + 2·H4)              <= 1 + 19·(4 + 2.5)   = 124.5
 *   r2 = L1 + 2·H0 + 19(L6 + 2·H5)       <= 2 + 0.5 + 19·5     = 97.5
 *   r4 = L2 + 2·H1 + 19(L7 + 2·H6)       <= 3 + 1 + 19·3.5     = 70.5
 *   r6 = L3 + 2·H2 + 19(L8 + 2·H7)       <= 4 + 1.5 + 19·2     = 43.5
 *   r8 = L4 + 2·H3 + 38·H8               <= 5 + 2 + 9.5        = 16.5
 *   r(2k+1) = m_k + 19·m_(k+5)           <= 1 + 19·4           = 77
 * all < 128·2^56 = 2^63, which is what carryStore() needs. (2·H_(k-1) is the Y² = 2X term moving
 * up one digit; 38·H_(k+4) is the same from digit 5 and beyond, folded by 19.)
 */
// @ts-ignore: decorator
@inline function finish(
  r: usize,
  P0: v128, P1: v128, P2: v128, P3: v128, P4: v128, P5: v128, P6: v128, P7: v128, P8: v128,
  M0: u64, M1: u64, M2: u64, M3: u64, M4: u64, M5: u64, M6: u64, M7: u64, M8: u64,
): void {
  // Q_k = P_k + 19·P_(k+5) lane by lane (19x = x + 2x + 16x): lane 0 is L_k + 19·L_(k+5), lane 1
  // is H_k + 19·H_(k+5). Wrapping lanes are harmless: every value used below is exact mod 2^64
  // and, by the bounds above, < 2^63.
  const Q0 = i64x2.add(P0, times19(P5));
  const Q1 = i64x2.add(P1, times19(P6));
  const Q2 = i64x2.add(P2, times19(P7));
  const Q3 = i64x2.add(P3, times19(P8));
  const l0 = <u64>i64x2.extract_lane(Q0, 0), h0 = <u64>i64x2.extract_lane(Q0, 1);
  const l1 = <u64>i64x2.extract_lane(Q1, 0), h1 = <u64>i64x2.extract_lane(Q1, 1);
  const l2 = <u64>i64x2.extract_lane(Q2, 0), h2 = <u64>i64x2.extract_lane(Q2, 1);
  const l3 = <u64>i64x2.extract_lane(Q3, 0), h3 = <u64>i64x2.extract_lane(Q3, 1);
  const l4 = <u64>i64x2.extract_lane(P4, 0), h4 = <u64>i64x2.extract_lane(P4, 1);
  carryStore(r,
    l0 + 38 * h4,
    M0 + 19 * M5 - l0 - h0,
    l1 + (h0 << 1),
    M1 + 19 * M6 - l1 - h1,
    l2 + (h1 << 1),
    M2 + 19 * M7 - l2 - h2,
    l3 + (h2 << 1),
    M3 + 19 * M8 - l3 - h3,
    l4 + (h3 << 1),
    M4 - l4 - h4,
  );
}

// @ts-ignore: decorator
// @ts-ignore: decorator
@inline function times19(x: v128): v128 {
  return i64x2.add(i64x2.add(x, i64x2.shl(x, 1)), i64x2.shl(x, 4));
}

/**
 * a·b, tight, into r. a_k, b_k are the digits (lo_k, hi_k) of loose operands in lanes 0 and 1
 * (lanes 2 and 3, zero, are not read by extmul_low); s_k, t_k are the digit sums lo_k + hi_k
 * (< 2^28 + 2^27, so each M product is < 2^58). P_c = (L_c, H_c) per column.
 */
// @ts-ignore: decorator
@inline function mulCore(
  r: usize,
  a0: v128, a1: v128, a2: v128, a3: v128, a4: v128,
  b0: v128, b1: v128, b2: v128, b3: v128, b4: v128,
  s0: u64, s1: u64, s2: u64, s3: u64, s4: u64,
  t0: u64, t1: u64, t2: u64, t3: u64, t4: u64,
): void {
  const P0 = i64x2.extmul_low_i32x4_u(a0, b0);
  const P1 = i64x2.add(i64x2.extmul_low_i32x4_u(a0, b1), i64x2.extmul_low_i32x4_u(a1, b0));
  const P2 = i64x2.add(i64x2.add(i64x2.extmul_low_i32x4_u(a0, b2), i64x2.extmul_low_i32x4_u(a1, b1)), i64x2.extmul_low_i32x4_u(a2, b0));
  const P3 = i64x2.add(i64x2.add(i64x2.add(i64x2.extmul_low_i32x4_u(a0, b3), i64x2.extmul_low_i32x4_u(a1, b2)), i64x2.extmul_low_i32x4_u(a2, b1)), i64x2.extmul_low_i32x4_u(a3, b0));
  const P4 = i64x2.add(i64x2.add(i64x2.add(i64x2.add(i64x2.extmul_low_i32x4_u(a0, b4), i64x2.extmul_low_i32x4_u(a1, b3)), i64x2.extmul_low_i32x4_u(a2, b2)), i64x2.extmul_low_i32x4_u(a3, b1)), i64x2.extmul_low_i32x4_u(a4, b0));
  const P5 = i64x2.add(i64x2.add(i64x2.add(i64x2.extmul_low_i32x4_u(a1, b4), i64x2.extmul_low_i32x4_u(a2, b3)), i64x2.extmul_low_i32x4_u(a3, b2)), i64x2.extmul_low_i32x4_u(a4, b1));
  const P6 = i64x2.add(i64x2.add(i64x2.extmul_low_i32x4_u(a2, b4), i64x2.extmul_low_i32x4_u(a3, b3)), i64x2.extmul_low_i32x4_u(a4, b2));
  const P7 = i64x2.add(i64x2.extmul_low_i32x4_u(a3, b4), i64x2.extmul_low_i32x4_u(a4, b3));
  const P8 = i64x2.extmul_low_i32x4_u(a4, b4);
  const M0 = s0 * t0;
  const M1 = s0 * t1 + s1 * t0;
  const M2 = s0 * t2 + s1 * t1 + s2 * t0;
  const M3 = s0 * t3 + s1 * t2 + s2 * t1 + s3 * t0;
  const M4 = s0 * t4 + s1 * t3 + s2 * t2 + s3 * t1 + s4 * t0;
  const M5 = s1 * t4 + s2 * t3 + s3 * t2 + s4 * t1;
  const M6 = s2 * t4 + s3 * t3 + s4 * t2;
  const M7 = s3 * t4 + s4 * t3;
  const M8 = s4 * t4;
  finish(r, P0, P1, P2, P3, P4, P5, P6, P7, P8, M0, M1, M2, M3, M4, M5, M6, M7, M8);
}

/**
 * a², tight, into r: the column sums of mulCore() with b = a, from 15 products per kind instead
 * of 25 by doubling the cross terms (d_k = 2·(lo_k, hi_k) < 2^29 still fits a u32 lane;
 * e_k = 2·s_k).
 */
// @ts-ignore: decorator
@inline function sqCore(
  r: usize,
  a0: v128, a1: v128, a2: v128, a3: v128, a4: v128,
  s0: u64, s1: u64, s2: u64, s3: u64, s4: u64,
): void {
  const d0 = i32x4.shl(a0, 1), d1 = i32x4.shl(a1, 1), d2 = i32x4.shl(a2, 1), d3 = i32x4.shl(a3, 1);
  const e0 = s0 << 1, e1 = s1 << 1, e2 = s2 << 1, e3 = s3 << 1;
  const P0 = i64x2.extmul_low_i32x4_u(a0, a0);
  const M0 = s0 * s0;
  const P1 = i64x2.extmul_low_i32x4_u(d0, a1);
  const M1 = e0 * s1;
  const P2 = i64x2.add(i64x2.extmul_low_i32x4_u(d0, a2), i64x2.extmul_low_i32x4_u(a1, a1));
  const M2 = e0 * s2 + s1 * s1;
  const P3 = i64x2.add(i64x2.extmul_low_i32x4_u(d0, a3), i64x2.extmul_low_i32x4_u(d1, a2));
  const M3 = e0 * s3 + e1 * s2;
  const P4 = i64x2.add(i64x2.add(i64x2.extmul_low_i32x4_u(d0, a4), i64x2.extmul_low_i32x4_u(d1, a3)), i64x2.extmul_low_i32x4_u(a2, a2));
  const M4 = e0 * s4 + e1 * s3 + s2 * s2;
  const P5 = i64x2.add(i64x2.extmul_low_i32x4_u(d1, a4), i64x2.extmul_low_i32x4_u(d2, a3));
  const M5 = e1 * s4 + e2 * s3;
  const P6 = i64x2.add(i64x2.extmul_low_i32x4_u(d2, a4), i64x2.extmul_low_i32x4_u(a3, a3));
  const M6 = e2 * s4 + s3 * s3;
  const P7 = i64x2.extmul_low_i32x4_u(d3, a4);
  const M7 = e3 * s4;
  const P8 = i64x2.extmul_low_i32x4_u(a4, a4);
  const M8 = s4 * s4;
  finish(r, P0, P1, P2, P3, P4, P5, P6, P7, P8, M0, M1, M2, M3, M4, M5, M6, M7, M8);
}

// Operand loaders. Digit k (limbs 2k and 2k+1) of an element at p, as lanes 0 and 1 of a vector,
// and the digit's sum lo + hi as a scalar; of a + b (tight + tight = loose); of a - b computed as
// a + 2p - b so that no limb goes negative: 2p in this radix is (2^27 - 38, 2^26 - 2, 2^27 - 2,
// 2^26 - 2, ...), each >= the matching limb of a tight b (< 2^26 even, < 2^25 + 2^18 odd), and
// the result is loose (even < 2^26 + 2^27 < 2^28, odd < 2^25 + 2^18 + 2^26 < 2^27).
// @ts-ignore: decorator
@inline function ld(p: usize, i: usize): u64 {
  return <u64>load<u32>(p + (i << 2));
}
// @ts-ignore: decorator
@inline function ldSub(a: usize, b: usize, i: usize): u64 {
  const twoP: u64 = i == 0 ? 0x7ffffda : (i & 1) != 0 ? 0x3fffffe : 0x7fffffe;
  return ld(a, i) + twoP - ld(b, i);
}
// @ts-ignore: decorator
@inline function vld(p: usize, k: usize): v128 {
  return v128.load64_zero(p + (k << 3));
}
// @ts-ignore: decorator
@inline function vadd(a: usize, b: usize, k: usize): v128 {
  return i32x4.add(vld(a, k), vld(b, k));
}
// @ts-ignore: decorator
@inline function vsub(a: usize, b: usize, k: usize): v128 {
  const twoP = k == 0 ? i32x4(0x7ffffda, 0x3fffffe, 0, 0) : i32x4(0x7fffffe, 0x3fffffe, 0, 0);
  return i32x4.sub(i32x4.add(vld(a, k), twoP), vld(b, k));
}
// @ts-ignore: decorator
@inline function sld(p: usize, k: usize): u64 {
  return ld(p, k << 1) + ld(p, (k << 1) + 1);
}
// @ts-ignore: decorator
@inline function sadd(a: usize, b: usize, k: usize): u64 {
  return sld(a, k) + sld(b, k);
}
// @ts-ignore: decorator
@inline function ssub(a: usize, b: usize, k: usize): u64 {
  return ldSub(a, b, k << 1) + ldSub(a, b, (k << 1) + 1);
}

/** r = a·b. a, b loose. */
function mul(r: usize, a: usize, b: usize): void {
  mulCore(r,
    vld(a, 0), vld(a, 1), vld(a, 2), vld(a, 3), vld(a, 4),
    vld(b, 0), vld(b, 1), vld(b, 2), vld(b, 3), vld(b, 4),
    sld(a, 0), sld(a, 1), sld(a, 2), sld(a, 3), sld(a, 4),
    sld(b, 0), sld(b, 1), sld(b, 2), sld(b, 3), sld(b, 4),
  );
}

/** r = (a + b)·(c - d). a, b, c, d tight. */
function mulAddSub(r: usize, a: usize, b: usize, c: usize, d: usize): void {
  mulCore(r,
    vadd(a, b, 0), vadd(a, b, 1), vadd(a, b, 2), vadd(a, b, 3), vadd(a, b, 4),
    vsub(c, d, 0), vsub(c, d, 1), vsub(c, d, 2), vsub(c, d, 3), vsub(c, d, 4),
    sadd(a, b, 0), sadd(a, b, 1), sadd(a, b, 2), sadd(a, b, 3), sadd(a, b, 4),
    ssub(c, d, 0), ssub(c, d, 1), ssub(c, d, 2), ssub(c, d, 3), ssub(c, d, 4),
  );
}

/** r = a². a loose. */
function sq(r: usize, a: usize): void {
  sqCore(r,
    vld(a, 0), vld(a, 1), vld(a, 2), vld(a, 3), vld(a, 4),
    sld(a, 0), sld(a, 1), sld(a, 2), sld(a, 3), sld(a, 4),
  );
}

/** r = (a + b)². a, b tight. */
function sqAdd(r: usize, a: usize, b: usize): void {
  sqCore(r,
    vadd(a, b, 0), vadd(a, b, 1), vadd(a, b, 2), vadd(a, b, 3), vadd(a, b, 4),
    sadd(a, b, 0), sadd(a, b, 1), sadd(a, b, 2), sadd(a, b, 3), sadd(a, b, 4),
  );
}

/** r = (a - b)². a, b tight. */
function sqSub(r: usize, a: usize, b: usize): void {
  sqCore(r,
    vsub(a, b, 0), vsub(a, b, 1), vsub(a, b, 2), vsub(a, b, 3), vsub(a, b, 4),
    ssub(a, b, 0), ssub(a, b, 1), ssub(a, b, 2), ssub(a, b, 3), ssub(a, b, 4),
  );
}
/** r = a^(2^n): n >= 1 squarings. */
function sqn(r: usize, a: usize, n: i32): void {
  sq(r, a);
  for (let i = 1; i < n; i++) sq(r, r);
}

/**
 * r = a·k mod p for a small public constant k < 2^17. a loose: limbs·k < 2^28·2^17 = 2^45,
 * well inside carryStore()'s 2^63; r tight.
 */
function mulSmall(r: usize, a: usize, k: u64): void {
  carryStore(r,
    ld(a, 0) * k, ld(a, 1) * k, ld(a, 2) * k, ld(a, 3) * k, ld(a, 4) * k,
    ld(a, 5) * k, ld(a, 6) * k, ld(a, 7) * k, ld(a, 8) * k, ld(a, 9) * k,
  );
}

/**
 * r = E·(AA + a24·E) with E = AA - BB and a24 = (486662 - 2)/4 = 121665: the ladder's z2.
 * AA, BB tight; E is loose, a24·E is carried back to tight (limbs·a24 < 2^28·2^17 = 2^45), so
 * AA + a24·E is loose. Keeps a24·E in fe(9), so r must not be fe(9).
 */
function z2Step(r: usize, aa: usize, bb: usize): void {
  const t = fe(9);
  carryStore(t,
    ldSub(aa, bb, 0) * 121665, ldSub(aa, bb, 1) * 121665, ldSub(aa, bb, 2) * 121665,
    ldSub(aa, bb, 3) * 121665, ldSub(aa, bb, 4) * 121665, ldSub(aa, bb, 5) * 121665,
    ldSub(aa, bb, 6) * 121665, ldSub(aa, bb, 7) * 121665, ldSub(aa, bb, 8) * 121665,
    ldSub(aa, bb, 9) * 121665,
  );
  mulCore(r,
    vsub(aa, bb, 0), vsub(aa, bb, 1), vsub(aa, bb, 2), vsub(aa, bb, 3), vsub(aa, bb, 4),
    vadd(t, aa, 0), vadd(t, aa, 1), vadd(t, aa, 2), vadd(t, aa, 3), vadd(t, aa, 4),
    ssub(aa, bb, 0), ssub(aa, bb, 1), ssub(aa, bb, 2), ssub(aa, bb, 3), ssub(aa, bb, 4),
    sadd(t, aa, 0), sadd(t, aa, 1), sadd(t, aa, 2), sadd(t, aa, 3), sadd(t, aa, 4),
  );
}

/** Swaps a and b when mask is all-ones, leaves them when it is zero; same work either way. */
// @ts-ignore: decorator
@inline function cswap(mask: u64, a: usize, b: usize): void {
  for (let i: usize = 0; i < FE; i += 8) {
    const x = load<u64>(a + i), y = load<u64>(b + i);
    const t = (x ^ y) & mask;
    store<u64>(a + i, x ^ t);
    store<u64>(b + i, y ^ t);
  }
}

/**
 * r = 32 little-endian bytes at p, top bit ignored (RFC 7748 §5: "implementations of X25519
 * MUST mask the most significant bit"). A value in [p, 2^255) is kept as is: the arithmetic is
 * mod p, so it is reduced on output like any other. The limbs are exact bit fields: tight.
 */
function decode(r: usize, p: usize): void {
  const w0 = load<u64>(p, 0), w1 = load<u64>(p, 8), w2 = load<u64>(p, 16), w3 = load<u64>(p, 24);
  store<u32>(r, <u32>(w0 & M26), 0);
  store<u32>(r, <u32>((w0 >>> 26) & M25), 4);
  store<u32>(r, <u32>(((w0 >>> 51) | (w1 << 13)) & M26), 8);
  store<u32>(r, <u32>((w1 >>> 13) & M25), 12);
  store<u32>(r, <u32>(w1 >>> 38), 16);
  store<u32>(r, <u32>(w2 & M25), 20);
  store<u32>(r, <u32>((w2 >>> 25) & M26), 24);
  store<u32>(r, <u32>(((w2 >>> 51) | (w3 << 13)) & M25), 28);
  store<u32>(r, <u32>((w3 >>> 12) & M26), 32);
  store<u32>(r, <u32>((w3 >>> 38) & M25), 36); // bits 230..254; bit 255 dropped
}

/**
 * 32 little-endian bytes of the canonical value of tight h (in [0, p)).
 *
 * A tight h is < 2^255 + 2^249 < 2p, so it needs at most one subtraction of p. q = 1 exactly
 * when h + 19 >= 2^255, i.e. h >= p; q is found by running the carry of h + 19 up through all
 * limbs (exact floor divisions, no branch). Then h + 19q, carried without wrapping, with bit 255
 * dropped, is h - q·p.
 */
function encode(out: usize, h: usize): void {
  let h0 = <u64>load<u32>(h, 0), h1 = <u64>load<u32>(h, 4);
  let h2 = <u64>load<u32>(h, 8), h3 = <u64>load<u32>(h, 12);
  let h4 = <u64>load<u32>(h, 16), h5 = <u64>load<u32>(h, 20);
  let h6 = <u64>load<u32>(h, 24), h7 = <u64>load<u32>(h, 28);
  let h8 = <u64>load<u32>(h, 32), h9 = <u64>load<u32>(h, 36);

  let q = (h0 + 19) >>> 26;
  q = (h1 + q) >>> 25;
  q = (h2 + q) >>> 26;
  q = (h3 + q) >>> 25;
  q = (h4 + q) >>> 26;
  q = (h5 + q) >>> 25;
  q = (h6 + q) >>> 26;
  q = (h7 + q) >>> 25;
  q = (h8 + q) >>> 26;
  q = (h9 + q) >>> 25;

  h0 += 19 * q;
  h1 += h0 >>> 26; h0 &= M26;
  h2 += h1 >>> 25; h1 &= M25;
  h3 += h2 >>> 26; h2 &= M26;
  h4 += h3 >>> 25; h3 &= M25;
  h5 += h4 >>> 26; h4 &= M26;
  h6 += h5 >>> 25; h5 &= M25;
  h7 += h6 >>> 26; h6 &= M26;
  h8 += h7 >>> 25; h7 &= M25;
  h9 += h8 >>> 26; h8 &= M26;
  h9 &= M25;

  // Bit positions 0, 26, 51, 77, 102 | 128, 153, 179, 204, 230, packed into four u64 words.
  store<u64>(out, h0 | (h1 << 26) | (h2 << 51), 0);
  store<u64>(out, (h2 >>> 13) | (h3 << 13) | (h4 << 38), 8);
  store<u64>(out, h5 | (h6 << 25) | (h7 << 51), 16);
  store<u64>(out, (h7 >>> 13) | (h8 << 12) | (h9 << 38), 24);
}

/**
 * r = z^(p-2) = z^(2^255 - 21) = 1/z (0 for z = 0), by Fermat with a fixed addition chain:
 * 254 squarings and 11 multiplications, whatever z is. z is not modified unless r aliases it.
 */
function invert(r: usize, z: usize): void {
  const t0 = fe(12), t1 = fe(13), t2 = fe(14), t3 = fe(15);
  sq(t0, z);            // z^2
  sqn(t1, t0, 2);       // z^8
  mul(t1, z, t1);       // z^9
  mul(t0, t0, t1);      // z^11
  sq(t2, t0);           // z^22
  mul(t1, t1, t2);      // z^(2^5 - 1)      = z^31
  sqn(t2, t1, 5);
  mul(t1, t2, t1);      // z^(2^10 - 1)
  sqn(t2, t1, 10);
  mul(t2, t2, t1);      // z^(2^20 - 1)
  sqn(t3, t2, 20);
  mul(t2, t3, t2);      // z^(2^40 - 1)
  sqn(t2, t2, 10);
  mul(t1, t2, t1);      // z^(2^50 - 1)
  sqn(t2, t1, 50);
  mul(t2, t2, t1);      // z^(2^100 - 1)
  sqn(t3, t2, 100);
  mul(t2, t3, t2);      // z^(2^200 - 1)
  sqn(t2, t2, 50);
  mul(t1, t2, t1);      // z^(2^250 - 1)
  sqn(t1, t1, 5);       // z^(2^255 - 32)
  mul(r, t1, t0);       // z^(2^255 - 21)
}

/**
 * out = X25519(scalar, u) with u decoded into fe(0). `base` (public) says u = 9, whose product
 * x1·(DA - CB)² becomes a multiplication by the constant 9.
 */
function ladder(out: usize, scalar: usize, base: bool): void {
  const k = scalarCopy();
  memory.copy(k, scalar, 32);
  // RFC 7748 §5 decodeScalar25519: clear the 3 low bits and bit 255, set bit 254.
  store<u8>(k, load<u8>(k) & 248);
  store<u8>(k, (load<u8>(k, 31) & 127) | 64, 31);

  const x1 = fe(0), x2 = fe(1), z2 = fe(2), x3 = fe(3), z3 = fe(4);
  const aa = fe(5), bb = fe(6), da = fe(7), cb = fe(8);
  memory.fill(x2, 0, FE); store<u32>(x2, 1);
  memory.fill(z2, 0, FE);
  memory.copy(x3, x1, FE);
  memory.fill(z3, 0, FE); store<u32>(z3, 1);

  // (x2 : z2) = [m]P and (x3 : z3) = [m+1]P for the scalar's bits above t. Rather than swapping
  // back after each step, `swap` remembers whether the pair is currently exchanged.
  let swap: u64 = 0;
  for (let t: i32 = 254; t >= 0; t--) {
    const bit = <u64>((load<u8>(k + <usize>(t >>> 3)) >>> <u8>(t & 7)) & 1);
    swap ^= bit;
    const mask = 0 - swap;
    cswap(mask, x2, x3);
    cswap(mask, z2, z3);
    swap = bit;

    // RFC 7748 §5 ladder step, with A = x2 + z2, B = x2 - z2, C = x3 + z3, D = x3 - z3 formed
    // inside the multiplications. Every stored value is tight, so every operand is loose.
    sqAdd(aa, x2, z2);              // AA = A²
    sqSub(bb, x2, z2);              // BB = B²
    mulAddSub(da, x2, z2, x3, z3);  // DA = D·A
    mulAddSub(cb, x3, z3, x2, z2);  // CB = C·B
    sqAdd(x3, da, cb);              // x3 = (DA + CB)²
    sqSub(z3, da, cb);
    if (base) mulSmall(z3, z3, 9);  // public: u = 9
    else mul(z3, z3, x1);           // z3 = x1·(DA - CB)²
    mul(x2, aa, bb);                // x2 = AA·BB
    z2Step(z2, aa, bb);             // z2 = E·(AA + a24·E), E = AA - BB
  }
  const mask = 0 - swap;
  cswap(mask, x2, x3);
  cswap(mask, z2, z3);

  // u = x2/z2; z2 = 0 (low-order input) gives u = 0, which x25519() reports.
  invert(z2, z2);
  mul(x2, x2, z2);
  encode(out, x2);

  wipe(scratch, FE * SCRATCH_FES + 32);
}

/**
 * out32 = X25519(scalar32, u32) (RFC 7748 §5). Returns 0 iff the result is all zero (a low-order
 * u; RFC 8446 §7.4.2 requires aborting the handshake), else 1. The output is computed and
 * written in full either way, and the zero test does not branch. out may alias either input.
 */
export function x25519(out: usize, scalar: usize, u: usize): i32 {
  decode(fe(0), u);
  ladder(out, scalar, false);
  return <i32>(ctIsZeroBytes(out, 32) ^ 1);
}

/** out32 = X25519(scalar32, 9): the public key of a private scalar (clamped here, as always). */
export function x25519_base(out: usize, scalar: usize): void {
  const x1 = fe(0);
  memory.fill(x1, 0, FE);
  store<u32>(x1, 9);
  ladder(out, scalar, true);
}
