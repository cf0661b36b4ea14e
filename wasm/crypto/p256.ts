// NIST P-256 (secp256r1) ECDH for TLS key_share: keygen, public key, shared secret.
//
// Field elements (mod p = 2^256 - 2^224 + 2^192 + 2^96 - 1)
// ----------------------------------------------------------
// Nine limbs of 29 bits (u32 each, least significant first, 36 bytes). 9 * 29 = 261 bits, so the
// representation is redundant: the invariant every fe_* function keeps on its output, and
// assumes of its inputs, is
//     every limb in [0, 2^29)   and   value < 2^257,
// where "value" is the integer Σ limb_i·2^(29i); it is congruent to the element, not reduced.
// Only fe_canon produces the unique representative in [0, p).
//
// Multiplication is Montgomery with R = 2^261: fe_mul(a, b) = a·b·2^-261 mod p. Elements that
// take part in curve arithmetic are kept as x·R mod p. p ≡ -1 (mod 2^96), so -1/p ≡ 1 (mod 2^29)
// and the Montgomery digit of each step is just the low 29 bits of the current column, and
//     m·p = -m + m·2^96 + m·2^192 - m·2^224 + m·2^256
// is added with four shifts instead of multiplications. With 29-bit limbs these powers sit at
// limb offsets 3, 6, 7, 8 with in-limb shifts 96-87 = 9, 192-174 = 18, 224-203 = 21,
// 256-232 = 24. The -m term cancels the low 29 bits of the column exactly, so it becomes the
// carry (column >> 29) into the next column.
//
// Bounds of fe_mul / fe_sqr: limbs < 2^29, so each product is < 2^58 and a column of the 9x9
// schoolbook product holds at most 9 of them: < 9·2^58 < 2^61.2. A reduction step adds at most
// m·2^24 < 2^53 to a column (four steps touch a column at most, plus a carry < 2^33), and
// subtracts at most m·2^21; columns stay within ±2^62, so signed i64 never overflows, and the
// arithmetic shift `>> 29` together with `& M29` is an exact floor division / remainder even
// where a column went negative. The result is (A·B + M·p) / 2^261 with M < 2^261 and
// A, B < 2^257: < 2^514/2^261 + p = 2^253 + p < 2^257, and it is nonnegative, so the final
// carry chain leaves limbs in [0, 2^29) and a top limb < 2^25. The invariant is kept.
//
// fe_add / fe_sub / fe_mulsmall work on i32 limbs and end in weakReduce: a carry pass, then the
// bits at 2^256 and above (h = value >> 256) are folded back with 2^256 ≡ 2^224 - 2^192 - 2^96 + 1,
// then another carry pass. Their pre-fold values are < 2^259 (a + b < 2^258; a - b + 4p with
// 4p < 2^258 and b < 2^257 < 4p, so also positive; 4·a < 2^259), hence h < 8 and the folded
// value is < 2^256 + 8·2^224 + 8 < 2^257 and still nonnegative (2^224 > 2^192 + 2^96).
// Both kinds of output are in fact below 2p = 2^257 - 2^225 + ... (2^253 + p, and
// 2^256 + 2^227 + 8), so fe_canon needs a single conditional subtraction of p.
// Limb sums before the first pass are within ±2^31 (each term < 2^29, at most two of them,
// or 4·a_i < 2^31).
//
// Points
// ------
// Jacobian coordinates (X : Y : Z) ↦ (X/Z², Y/Z³), 3 elements at offsets 0, 36, 72 of a
// 112-byte slot (7 v128 words, so the constant-time table scan works on whole vectors).
// Doubling is dbl-2001-b for a = -3 (3M + 5S in the literature; 4M + 4S here as 2·Y·Z replaces
// the squaring), addition is add-1998-cmo-2 (12M + 4S). Neither is complete, so the scalar
// multiplication is arranged to never meet an exceptional case, and the two it cannot avoid
// (an operand at infinity) are handled by masks, not branches:
//   * P is validated to lie on the curve, which has cofactor 1 and prime order n: every point
//     other than infinity has order n, none has order 2, so doubling a finite point never
//     produces Y = 0.
//   * The table holds i·P for i = 1..15, built as 2·P and (i-1)·P + P; (i-1) ≢ ±1 (mod n) for
//     i ≥ 3, so those additions are regular.
//   * The scalar k ∈ [1, n-1] is read in 64 four-bit digits from the top. Before the addition
//     of digit d the accumulator is c·P with c = 16·(prefix read so far) and c + d ≤ k < n.
//     When c ≠ 0 and d ≠ 0 the addition would be exceptional only if c ≡ ±d (mod n); but
//     16 ≤ c < n means 0 < c - d < n and 0 < c + d < n. The remaining cases are c = 0 (the
//     accumulator is the point at infinity, tracked as the mask `qinf`) and d = 0 (the table
//     entry would be infinity): the result is then chosen between T, Q and Q+T by masks.
// The digit is secret: the table entry is found by reading all 15 entries and combining them
// under masks, and all selections are bitwise.
// For the fixed base G (p256_public, p256_keygen) a precomputed 15-entry affine comb replaces the
// windows: 63 doublings and 64 mixed additions, with its own exception argument at
// scalar_mult_g.
//
// Scalars are 32 bytes big-endian and must be in [1, n-1] (checked in constant time). The
// entry points return 0 on any failure; peer points are public data and are validated with
// ordinary branches.
import { randomFill } from "../sys";
import { ctIsZeroBytes } from "./ct";

const M29: i64 = 0x1fffffff;
const FE: usize = 36;
const PT: usize = 112;

// 4p in the limb representation (limbs < 2^29), added in fe_sub to keep the difference positive.
const P4_LIMBS = memory.data<u32>([
  0x1ffffffc, 0x1fffffff, 0x1fffffff, 0x000007ff, 0x00000000, 0x00000000, 0x00100000, 0x1f800000, 0x03ffffff,
]);
// p itself, subtracted by fe_canon.
const P_LIMBS = memory.data<u32>([
  0x1fffffff, 0x1fffffff, 0x1fffffff, 0x000001ff, 0x00000000, 0x00000000, 0x00040000, 0x1fe00000, 0x00ffffff,
]);
// R² mod p = 2^522 mod p: fe_mul(x, R2) moves an integer x into the Montgomery domain.
const R2_LIMBS = memory.data<u32>([
  0x00000c00, 0x00000000, 0x1fff0000, 0x1fdfffff, 0x1fbfffff, 0x1fffffff, 0x1fffffff, 0x1ffffffe, 0x00000013,
]);
// The integer 1: fe_mul(x, ONE_RAW) leaves the Montgomery domain.
const ONE_RAW = memory.data<u32>([1, 0, 0, 0, 0, 0, 0, 0, 0]);
// R mod p, the Montgomery form of 1 (Z of an affine point).
const ONE_M = memory.data<u32>([
  0x00000020, 0x00000000, 0x00000000, 0x1fffc000, 0x1fffffff, 0x1fffffff, 0x1f7fffff, 0x03ffffff, 0x00000000,
]);
// b·R mod p (curve equation y² = x³ - 3x + b).
const B_M = memory.data<u32>([
  0x1897bbfb, 0x1cdf6229, 0x018486c4, 0x01732821, 0x1dad59e0, 0x0abf7212, 0x1a06d110, 0x17721d20, 0x008600c3,
]);
// Fixed-base comb for G (p256_public): entry d (1..15, 20 words each: X, Y in Montgomery form,
// two words of padding so an entry is five v128) is the affine point
//     (d0 + d1·2^64 + d2·2^128 + d3·2^192)·G    for d = d0 + 2·d1 + 4·d2 + 8·d3.
// Computed offline (node:crypto gave the affine points; converted to x·R mod p in limbs).
const G_COMB = memory.data<u32>([
  // 0001
  0x15228783, 0x0730d418, 0x0db00bcf, 0x057f11fb, 0x0a20eb75,
  0x12b77622, 0x0330fdb9, 0x1af4dd57, 0x00120bee,
  0x12aac150, 0x125357ce, 0x0f22e6ef, 0x0e390e86, 0x064b1695,
  0x088dd21f, 0x02a97443, 0x02962176, 0x00ae3fe3, 0, 0,
  // 0010
  0x141a5765, 0x122fc516, 0x11a4ca7c, 0x105afc98, 0x19161ab9,
  0x13a57c62, 0x1fb520e7, 0x08946d99, 0x00ebcd2c,
  0x1402f2fe, 0x15c70bf5, 0x0b0c92e0, 0x0d131c25, 0x16a47a41,
  0x137071fd, 0x1d0a488d, 0x1df5bc3d, 0x00c91f22, 0, 0,
  // 0011
  0x06f7778b, 0x166847e1, 0x105f64f2, 0x11a78c9a, 0x08c7c868,
  0x16179d73, 0x0aace213, 0x15acf400, 0x0057c050,
  0x098fb572, 0x0a837cc0, 0x10603c95, 0x07d2ecc9, 0x186eae7b,
  0x16278e6c, 0x013e498a, 0x0fedbdce, 0x00976e4b, 0, 0,
  // 0100
  0x1c4124ac, 0x08c244bf, 0x07433b15, 0x06b0cbf7, 0x00c72383,
  0x1d5dd387, 0x1afd4b52, 0x12074c93, 0x003ab0fa,
  0x0e2e7d5f, 0x1673a2a3, 0x1c5b2f43, 0x0001d6dd, 0x087c4709,
  0x01e05bab, 0x1e8c7c22, 0x0cf887be, 0x00423fc2, 0, 0,
  // 0101
  0x1633ffab, 0x091f2b2c, 0x11e118e4, 0x0356d664, 0x151c0375,
  0x1678ac5c, 0x0e2f681e, 0x11dc4efb, 0x000dd609,
  0x1d1da123, 0x15c6e527, 0x0f6f1061, 0x08cf0006, 0x05f43d03,
  0x0c056c65, 0x0887c7eb, 0x0222193c, 0x003ab581, 0, 0,
  // 0110
  0x16a67ab7, 0x177734d2, 0x0eee0312, 0x02bd7a6f, 0x0526ce77,
  0x09aa79ec, 0x184fbf3e, 0x09eec99a, 0x006dbcca,
  0x0a4b366c, 0x09303ab6, 0x13a4073f, 0x0bf4dc0e, 0x184fad41,
  0x1d19b3cf, 0x0db2d641, 0x0af462e6, 0x00168c33, 0, 0,
  // 0111
  0x1cb54393, 0x0a38e11a, 0x19b2c5eb, 0x194aac79, 0x0fdb716e,
  0x014ee5f8, 0x06398980, 0x0d1bafff, 0x00a1e4f6,
  0x0e614aa4, 0x1246317a, 0x1e41d654, 0x16cbef6e, 0x14e3392a,
  0x1e0ac019, 0x0673e0ef, 0x1555bb12, 0x00894acd, 0, 0,
  // 1000
  0x1f162d50, 0x18410ef4, 0x193352b7, 0x06bf911e, 0x0f832e48,
  0x18e6d9c8, 0x0d452035, 0x0d350aac, 0x0007e7c0,
  0x1b7d8d38, 0x0309a804, 0x1682fbf8, 0x017d9eee, 0x12ff5077,
  0x073ad8e1, 0x008304b9, 0x1c419eb7, 0x0012e881, 0, 0,
  // 1001
  0x0f35669e, 0x0a56f2c3, 0x0fc68c23, 0x01a2a507, 0x11df51dc,
  0x059176c6, 0x179818a2, 0x1a057c7c, 0x0035e65a,
  0x0eb7aa04, 0x0375315d, 0x1b3de4ce, 0x1feeb5cb, 0x047f06f9,
  0x01848d77, 0x057309d2, 0x040b5072, 0x007a1e26, 0, 0,
  // 1010
  0x17cb456a, 0x13e225d5, 0x079e376c, 0x0660c24d, 0x1ff8dfcf,
  0x12622626, 0x14f98a04, 0x07264085, 0x0017769b,
  0x0fd8c7c5, 0x0191c6e5, 0x0e6d91bc, 0x0b0ffc07, 0x01ecca84,
  0x19b0236e, 0x018cd404, 0x00a7f927, 0x00620023, 0, 0,
  // 1011
  0x0722b27b, 0x08b5c59b, 0x1387e7e3, 0x1d686060, 0x1977870b,
  0x1aad19ad, 0x05cca279, 0x096feeb8, 0x00aab133,
  0x1705fe9c, 0x188b8e74, 0x19a64c9d, 0x0f0fe479, 0x0455a5c0,
  0x0af43c03, 0x005d3d4f, 0x07d27581, 0x00dc98aa, 0, 0,
  // 1100
  0x1d843fdf, 0x014bfe80, 0x0df412ff, 0x045a7295, 0x1acfed9c,
  0x0072f4a5, 0x17505e2d, 0x074df98e, 0x005a4e29,
  0x1560b66e, 0x00b6ac29, 0x08d73486, 0x0a0ef789, 0x1cfa6f53,
  0x075c2aad, 0x01cd3ee4, 0x103c386a, 0x00e70fbc, 0, 0,
  // 1101
  0x0d81baf6, 0x1ecc49a5, 0x0363a0f4, 0x1f35e582, 0x1d9d4b9f,
  0x008f505a, 0x1eefbd0a, 0x05bbc311, 0x006f70b8,
  0x01cd51f3, 0x16b6e4cc, 0x047919ac, 0x12efb4ce, 0x1e9dfada,
  0x1fac39ce, 0x0a89d229, 0x0647d8a3, 0x00826b59, 0, 0,
  // 1110
  0x191f17d8, 0x1c729495, 0x1b15f850, 0x111fdefc, 0x095852c3,
  0x003df63d, 0x1fef20c2, 0x1147b3a3, 0x00213f39,
  0x128ae0b3, 0x1095d058, 0x1c2e0616, 0x0f65917a, 0x09377210,
  0x18d7a404, 0x10763495, 0x1f1bb87b, 0x00786689, 0, 0,
  // 1111
  0x12260e85, 0x1ae35642, 0x0a15886a, 0x06c9c829, 0x0654aa92,
  0x065b3107, 0x008f4e53, 0x0a1c6933, 0x002b23aa,
  0x09f307ec, 0x0f5b6bb8, 0x1c270f3b, 0x1bd04fd7, 0x03137cfd,
  0x09680baa, 0x15d9006a, 0x1de3bccc, 0x006ecaa3, 0, 0,

]);
const COMB_ENTRY: usize = 80;

// p and the group order n, big-endian, for range checks on encoded values.
const P_BYTES = memory.data<u8>([
  0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
]);
const N_BYTES = memory.data<u8>([
  0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
]);

// Static scratch (the stub runtime never frees, so nothing is allocated per call). Everything
// here may hold secret-derived values and is wiped before an entry point returns.
// 24 field slots of 40 bytes, 20 point slots of PT bytes, a 64-byte output stage: 960 + 2240 + 64.
const SCRATCH_BYTES: i32 = 3264;
const SCRATCH = memory.data(3264, 16);
// Field temporaries, 40 bytes apart.
const F0 = SCRATCH;
const F1 = SCRATCH + 40;
const F2 = SCRATCH + 80;
const F3 = SCRATCH + 120;
const F4 = SCRATCH + 160;
const F5 = SCRATCH + 200;
const F6 = SCRATCH + 240;
const F7 = SCRATCH + 280;
const F8 = SCRATCH + 320;
const F9 = SCRATCH + 360;
const F10 = SCRATCH + 400;
const F11 = SCRATCH + 440;
const F12 = SCRATCH + 480;
// Inversion's temporaries (fe_inv calls no other user of these).
const I0 = SCRATCH + 520;
const I1 = SCRATCH + 560;
const I2 = SCRATCH + 600;
const I3 = SCRATCH + 640;
const I4 = SCRATCH + 680;
const I5 = SCRATCH + 720;
const I6 = SCRATCH + 760;
const I7 = SCRATCH + 800;
// Results handed between steps of the entry points.
const AX = SCRATCH + 840;
const AY = SCRATCH + 880;
const AZ = SCRATCH + 920;
// Points: TABLE[i] = i·P for i in 1..15 (slot 0 unused), then the accumulator, the looked-up
// entry and the sum.
const POINTS = SCRATCH + 40 * 24;
const TABLE = POINTS;
const ACC = POINTS + PT * 16;
const PICK = POINTS + PT * 17;
const SUM = POINTS + PT * 18;
const OUTBUF = SCRATCH + 3200;

// ---------------------------------------------------------------------------------------------
// Field arithmetic

/** r = a·b·2^-261 mod p (see the header for the bounds). r may alias a or b. */
function fe_mul(r: usize, a: usize, b: usize): void {
  const a0 = <i64>load<u32>(a, 0), b0 = <i64>load<u32>(b, 0);
  const a1 = <i64>load<u32>(a, 4), b1 = <i64>load<u32>(b, 4);
  const a2 = <i64>load<u32>(a, 8), b2 = <i64>load<u32>(b, 8);
  const a3 = <i64>load<u32>(a, 12), b3 = <i64>load<u32>(b, 12);
  const a4 = <i64>load<u32>(a, 16), b4 = <i64>load<u32>(b, 16);
  const a5 = <i64>load<u32>(a, 20), b5 = <i64>load<u32>(b, 20);
  const a6 = <i64>load<u32>(a, 24), b6 = <i64>load<u32>(b, 24);
  const a7 = <i64>load<u32>(a, 28), b7 = <i64>load<u32>(b, 28);
  const a8 = <i64>load<u32>(a, 32), b8 = <i64>load<u32>(b, 32);
  let t0 = a0 * b0;
  let t1 = a0 * b1 + a1 * b0;
  let t2 = a0 * b2 + a1 * b1 + a2 * b0;
  let t3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  let t4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
  let t5 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
  let t6 = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0;
  let t7 = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0;
  let t8 = a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0;
  let t9 = a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1;
  let t10 = a2 * b8 + a3 * b7 + a4 * b6 + a5 * b5 + a6 * b4 + a7 * b3 + a8 * b2;
  let t11 = a3 * b8 + a4 * b7 + a5 * b6 + a6 * b5 + a7 * b4 + a8 * b3;
  let t12 = a4 * b8 + a5 * b7 + a6 * b6 + a7 * b5 + a8 * b4;
  let t13 = a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5;
  let t14 = a6 * b8 + a7 * b7 + a8 * b6;
  let t15 = a7 * b8 + a8 * b7;
  let t16 = a8 * b8;
  let t17: i64 = 0;
  let m: i64;
  m = t0 & M29; t1 += t0 >> 29; t3 += m << 9; t6 += m << 18; t7 -= m << 21; t8 += m << 24;
  m = t1 & M29; t2 += t1 >> 29; t4 += m << 9; t7 += m << 18; t8 -= m << 21; t9 += m << 24;
  m = t2 & M29; t3 += t2 >> 29; t5 += m << 9; t8 += m << 18; t9 -= m << 21; t10 += m << 24;
  m = t3 & M29; t4 += t3 >> 29; t6 += m << 9; t9 += m << 18; t10 -= m << 21; t11 += m << 24;
  m = t4 & M29; t5 += t4 >> 29; t7 += m << 9; t10 += m << 18; t11 -= m << 21; t12 += m << 24;
  m = t5 & M29; t6 += t5 >> 29; t8 += m << 9; t11 += m << 18; t12 -= m << 21; t13 += m << 24;
  m = t6 & M29; t7 += t6 >> 29; t9 += m << 9; t12 += m << 18; t13 -= m << 21; t14 += m << 24;
  m = t7 & M29; t8 += t7 >> 29; t10 += m << 9; t13 += m << 18; t14 -= m << 21; t15 += m << 24;
  m = t8 & M29; t9 += t8 >> 29; t11 += m << 9; t14 += m << 18; t15 -= m << 21; t16 += m << 24;
  t10 += t9 >> 29; store<u32>(r, <u32>(t9 & M29), 0);
  t11 += t10 >> 29; store<u32>(r, <u32>(t10 & M29), 4);
  t12 += t11 >> 29; store<u32>(r, <u32>(t11 & M29), 8);
  t13 += t12 >> 29; store<u32>(r, <u32>(t12 & M29), 12);
  t14 += t13 >> 29; store<u32>(r, <u32>(t13 & M29), 16);
  t15 += t14 >> 29; store<u32>(r, <u32>(t14 & M29), 20);
  t16 += t15 >> 29; store<u32>(r, <u32>(t15 & M29), 24);
  t17 += t16 >> 29; store<u32>(r, <u32>(t16 & M29), 28);
  store<u32>(r, <u32>t17, 32);
}

/** r = a²·2^-261 mod p; the cross products are formed once against doubled limbs (< 2^30). */
function fe_sqr(r: usize, a: usize): void {
  const a0 = <i64>load<u32>(a, 0);
  const a1 = <i64>load<u32>(a, 4);
  const a2 = <i64>load<u32>(a, 8);
  const a3 = <i64>load<u32>(a, 12);
  const a4 = <i64>load<u32>(a, 16);
  const a5 = <i64>load<u32>(a, 20);
  const a6 = <i64>load<u32>(a, 24);
  const a7 = <i64>load<u32>(a, 28);
  const a8 = <i64>load<u32>(a, 32);
  const d0 = a0 << 1;
  const d1 = a1 << 1;
  const d2 = a2 << 1;
  const d3 = a3 << 1;
  const d4 = a4 << 1;
  const d5 = a5 << 1;
  const d6 = a6 << 1;
  const d7 = a7 << 1;
  let t0 = a0 * a0;
  let t1 = d0 * a1;
  let t2 = d0 * a2 + a1 * a1;
  let t3 = d0 * a3 + d1 * a2;
  let t4 = d0 * a4 + d1 * a3 + a2 * a2;
  let t5 = d0 * a5 + d1 * a4 + d2 * a3;
  let t6 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3;
  let t7 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4;
  let t8 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4;
  let t9 = d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5;
  let t10 = d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5;
  let t11 = d3 * a8 + d4 * a7 + d5 * a6;
  let t12 = d4 * a8 + d5 * a7 + a6 * a6;
  let t13 = d5 * a8 + d6 * a7;
  let t14 = d6 * a8 + a7 * a7;
  let t15 = d7 * a8;
  let t16 = a8 * a8;
  let t17: i64 = 0;
  let m: i64;
  m = t0 & M29; t1 += t0 >> 29; t3 += m << 9; t6 += m << 18; t7 -= m << 21; t8 += m << 24;
  m = t1 & M29; t2 += t1 >> 29; t4 += m << 9; t7 += m << 18; t8 -= m << 21; t9 += m << 24;
  m = t2 & M29; t3 += t2 >> 29; t5 += m << 9; t8 += m << 18; t9 -= m << 21; t10 += m << 24;
  m = t3 & M29; t4 += t3 >> 29; t6 += m << 9; t9 += m << 18; t10 -= m << 21; t11 += m << 24;
  m = t4 & M29; t5 += t4 >> 29; t7 += m << 9; t10 += m << 18; t11 -= m << 21; t12 += m << 24;
  m = t5 & M29; t6 += t5 >> 29; t8 += m << 9; t11 += m << 18; t12 -= m << 21; t13 += m << 24;
  m = t6 & M29; t7 += t6 >> 29; t9 += m << 9; t12 += m << 18; t13 -= m << 21; t14 += m << 24;
  m = t7 & M29; t8 += t7 >> 29; t10 += m << 9; t13 += m << 18; t14 -= m << 21; t15 += m << 24;
  m = t8 & M29; t9 += t8 >> 29; t11 += m << 9; t14 += m << 18; t15 -= m << 21; t16 += m << 24;
  t10 += t9 >> 29; store<u32>(r, <u32>(t9 & M29), 0);
  t11 += t10 >> 29; store<u32>(r, <u32>(t10 & M29), 4);
  t12 += t11 >> 29; store<u32>(r, <u32>(t11 & M29), 8);
  t13 += t12 >> 29; store<u32>(r, <u32>(t12 & M29), 12);
  t14 += t13 >> 29; store<u32>(r, <u32>(t13 & M29), 16);
  t15 += t14 >> 29; store<u32>(r, <u32>(t14 & M29), 20);
  t16 += t15 >> 29; store<u32>(r, <u32>(t15 & M29), 24);
  t17 += t16 >> 29; store<u32>(r, <u32>(t16 & M29), 28);
  store<u32>(r, <u32>t17, 32);
}

/**
 * Carry pass, fold of the bits above 2^256, carry pass; stores the nine limbs. Requires every
 * t_i within ±2^31 and a total value in [0, 2^259) (see the header).
 */
// @ts-ignore: decorator
@inline function weakReduce(r: usize, t0: i32, t1: i32, t2: i32, t3: i32, t4: i32, t5: i32, t6: i32, t7: i32, t8: i32): void {
  t1 += t0 >> 29; t0 &= 0x1fffffff;
  t2 += t1 >> 29; t1 &= 0x1fffffff;
  t3 += t2 >> 29; t2 &= 0x1fffffff;
  t4 += t3 >> 29; t3 &= 0x1fffffff;
  t5 += t4 >> 29; t4 &= 0x1fffffff;
  t6 += t5 >> 29; t5 &= 0x1fffffff;
  t7 += t6 >> 29; t6 &= 0x1fffffff;
  t8 += t7 >> 29; t7 &= 0x1fffffff;
  // t8 now holds value >> 232 (< 2^27); h = value >> 256 < 8.
  const h = t8 >> 24;
  t8 &= 0xffffff;
  t0 += h;
  t3 -= h << 9;
  t6 -= h << 18;
  t7 += h << 21;
  t1 += t0 >> 29; t0 &= 0x1fffffff;
  t2 += t1 >> 29; t1 &= 0x1fffffff;
  t3 += t2 >> 29; t2 &= 0x1fffffff;
  t4 += t3 >> 29; t3 &= 0x1fffffff;
  t5 += t4 >> 29; t4 &= 0x1fffffff;
  t6 += t5 >> 29; t5 &= 0x1fffffff;
  t7 += t6 >> 29; t6 &= 0x1fffffff;
  t8 += t7 >> 29; t7 &= 0x1fffffff;
  store<u32>(r, t0, 0);
  store<u32>(r, t1, 4);
  store<u32>(r, t2, 8);
  store<u32>(r, t3, 12);
  store<u32>(r, t4, 16);
  store<u32>(r, t5, 20);
  store<u32>(r, t6, 24);
  store<u32>(r, t7, 28);
  store<u32>(r, t8, 32);
}

/** r = a + b (mod p). */
function fe_add(r: usize, a: usize, b: usize): void {
  weakReduce(r,
    load<i32>(a, 0) + load<i32>(b, 0), load<i32>(a, 4) + load<i32>(b, 4),
    load<i32>(a, 8) + load<i32>(b, 8), load<i32>(a, 12) + load<i32>(b, 12),
    load<i32>(a, 16) + load<i32>(b, 16), load<i32>(a, 20) + load<i32>(b, 20),
    load<i32>(a, 24) + load<i32>(b, 24), load<i32>(a, 28) + load<i32>(b, 28),
    load<i32>(a, 32) + load<i32>(b, 32));
}

/** r = a - b (mod p), computed as a + 4p - b so that the value stays positive. */
function fe_sub(r: usize, a: usize, b: usize): void {
  const q = P4_LIMBS;
  weakReduce(r,
    load<i32>(a, 0) + load<i32>(q, 0) - load<i32>(b, 0), load<i32>(a, 4) + load<i32>(q, 4) - load<i32>(b, 4),
    load<i32>(a, 8) + load<i32>(q, 8) - load<i32>(b, 8), load<i32>(a, 12) + load<i32>(q, 12) - load<i32>(b, 12),
    load<i32>(a, 16) + load<i32>(q, 16) - load<i32>(b, 16), load<i32>(a, 20) + load<i32>(q, 20) - load<i32>(b, 20),
    load<i32>(a, 24) + load<i32>(q, 24) - load<i32>(b, 24), load<i32>(a, 28) + load<i32>(q, 28) - load<i32>(b, 28),
    load<i32>(a, 32) + load<i32>(q, 32) - load<i32>(b, 32));
}

/** r = k·a (mod p) for a small public k in 0..4 (4·a_i < 2^31 still fits an i32). */
function fe_mulsmall(r: usize, a: usize, k: i32): void {
  weakReduce(r,
    load<i32>(a, 0) * k, load<i32>(a, 4) * k, load<i32>(a, 8) * k,
    load<i32>(a, 12) * k, load<i32>(a, 16) * k, load<i32>(a, 20) * k,
    load<i32>(a, 24) * k, load<i32>(a, 28) * k, load<i32>(a, 32) * k);
}

/** r = a with the value fully reduced into [0, p). Every fe_* output is < 2p (see the header),
 * so one conditional subtraction of p suffices; it keeps a - p unless that borrowed. */
function fe_canon(r: usize, a: usize): void {
  let c: i32 = 0;
  // d = a - p with signed carries; c ends as -1 exactly when a < p.
  for (let i: usize = 0; i < 9; i++) {
    const d = load<i32>(a + (i << 2)) - load<i32>(P_LIMBS + (i << 2)) + c;
    store<i32>(F12 + (i << 2), d & 0x1fffffff);
    c = d >> 29;
  }
  const keep = <u32>c; // all ones: a < p, keep a; zero: take a - p
  for (let i: usize = 0; i < 9; i++) {
    const x = load<u32>(a + (i << 2));
    const y = load<u32>(F12 + (i << 2));
    store<u32>(r + (i << 2), y ^ (keep & (x ^ y)));
  }
}

/** 1 if a ≡ 0 (mod p), else 0, in constant time. */
function fe_iszero(a: usize): u32 {
  fe_canon(F11, a);
  let acc: u32 = 0;
  for (let i: usize = 0; i < 9; i++) acc |= load<u32>(F11 + (i << 2));
  return (acc - 1) >>> 31;
}

/** r = the 32-byte big-endian integer at src, as limbs (not reduced, not Montgomery). */
function fe_from_bytes(r: usize, src: usize): void {
  let acc: u64 = 0;
  let bits: u32 = 0;
  let k: usize = 0;
  for (let i = 31; i >= 0; i--) {
    acc |= <u64>load<u8>(src + <usize>i) << bits;
    bits += 8;
    if (bits >= 29) {
      store<u32>(r + (k << 2), <u32>(acc & 0x1fffffff));
      k++;
      acc >>>= 29;
      bits -= 29;
    }
  }
  // 256 = 8·29 + 24: the top 24 bits remain for limb 8.
  store<u32>(r + 32, <u32>acc);
}

/** dst = 32 big-endian bytes of a's canonical value. */
function fe_to_bytes(dst: usize, a: usize): void {
  fe_canon(F11, a);
  let acc: u64 = 0;
  let bits: u32 = 0;
  let j: usize = 0;
  for (let i: usize = 0; i < 9; i++) {
    acc |= <u64>load<u32>(F11 + (i << 2)) << bits;
    bits += 29;
    while (bits >= 8 && j < 32) {
      store<u8>(dst + 31 - j, <u8>acc);
      j++;
      acc >>>= 8;
      bits -= 8;
    }
  }
}

// @ts-ignore: decorator
@inline function fe_sqr_n(r: usize, n: i32): void {
  for (let i = 0; i < n; i++) fe_sqr(r, r);
}

/**
 * r = a^(p-2) = 1/a (Montgomery form in, Montgomery form out; 0 maps to 0). The exponent
 * p - 2 = ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff fffffffd (hex) is
 * built from runs of ones x_k = a^(2^k - 1): 255 squarings and 12 multiplications.
 */
function fe_inv(r: usize, a: usize): void {
  const x2 = I0, x3 = I1, x6 = I2, x12 = I3, x15 = I4, x30 = I5, x32 = I6, t = I7;
  fe_sqr(x2, a); fe_mul(x2, x2, a);                    // 2^2 - 1
  fe_sqr(x3, x2); fe_mul(x3, x3, a);                   // 2^3 - 1
  fe_sqr(x6, x3); fe_sqr_n(x6, 2); fe_mul(x6, x6, x3);   // 2^6 - 1
  fe_sqr(x12, x6); fe_sqr_n(x12, 5); fe_mul(x12, x12, x6); // 2^12 - 1
  fe_sqr(x15, x12); fe_sqr_n(x15, 2); fe_mul(x15, x15, x3); // 2^15 - 1
  fe_sqr(x30, x15); fe_sqr_n(x30, 14); fe_mul(x30, x30, x15); // 2^30 - 1
  fe_sqr(x32, x30); fe_sqr(x32, x32); fe_mul(x32, x32, x2);  // 2^32 - 1
  fe_sqr(t, x32); fe_sqr_n(t, 31); fe_mul(t, t, a);      // ffffffff 00000001
  fe_sqr_n(t, 96);                                      // ... followed by 96 zero bits
  fe_sqr_n(t, 32); fe_mul(t, t, x32);                   // ... ffffffff
  fe_sqr_n(t, 32); fe_mul(t, t, x32);                   // ... ffffffff
  fe_sqr_n(t, 30); fe_mul(t, t, x30);                   // ... 30 ones
  fe_sqr_n(t, 2); fe_mul(r, t, a);                      // ... 01: fffffffd
}

// ---------------------------------------------------------------------------------------------
// Points (Jacobian; see the header for why no exceptional case is reached)

/** r = 2·p (a = -3: α = 3(X - Z²)(X + Z²), X' = α² - 8XY², Y' = α(4XY² - X') - 8Y⁴, Z' = 2YZ).
 * r may alias p. */
function pt_double(r: usize, p: usize): void {
  const X = p, Y = p + 36, Z = p + 72;
  const delta = F0, gamma = F1, beta = F2, alpha = F3, t = F4, u = F5;
  fe_sqr(delta, Z);
  fe_sqr(gamma, Y);
  fe_mul(beta, X, gamma);
  fe_sub(t, X, delta);
  fe_add(u, X, delta);
  fe_mul(t, t, u);
  fe_mulsmall(alpha, t, 3);
  // X, Y, Z are read for the last time here, so writing r (which may be p) is safe from now on.
  fe_mul(t, Y, Z);
  fe_add(r + 72, t, t);
  fe_sqr(t, alpha);
  fe_mulsmall(beta, beta, 4);
  fe_add(u, beta, beta);
  fe_sub(r, t, u);
  fe_sub(beta, beta, r);
  fe_mul(beta, alpha, beta);
  fe_sqr(gamma, gamma);
  fe_mulsmall(gamma, gamma, 4);
  fe_add(gamma, gamma, gamma);
  fe_sub(r + 36, beta, gamma);
}

/** r = p + q for p ≠ ±q, neither at infinity (the caller guarantees it). r may alias p or q. */
function pt_add(r: usize, p: usize, q: usize): void {
  const X1 = p, Y1 = p + 36, Z1 = p + 72;
  const X2 = q, Y2 = q + 36, Z2 = q + 72;
  const z1z1 = F0, z2z2 = F1, u1 = F2, u2 = F3, s1 = F4, s2 = F5, h = F6, rr = F7;
  const hh = F8, hhh = F9, v = F10;
  fe_sqr(z1z1, Z1);
  fe_sqr(z2z2, Z2);
  fe_mul(u1, X1, z2z2);
  fe_mul(u2, X2, z1z1);
  fe_mul(s1, Y1, Z2);
  fe_mul(s1, s1, z2z2);
  fe_mul(s2, Y2, Z1);
  fe_mul(s2, s2, z1z1);
  fe_sub(h, u2, u1);
  fe_sub(rr, s2, s1);
  fe_mul(u2, Z1, Z2);
  // Every input coordinate has now been read.
  fe_mul(r + 72, u2, h);
  fe_sqr(hh, h);
  fe_mul(hhh, h, hh);
  fe_mul(v, u1, hh);
  fe_sqr(u2, rr);
  fe_sub(u2, u2, hhh);
  fe_add(s2, v, v);
  fe_sub(r, u2, s2);
  fe_sub(v, v, r);
  fe_mul(v, rr, v);
  fe_mul(s1, s1, hhh);
  fe_sub(r + 36, v, s1);
}

/** r = p + q for q affine (Z = 1; madd: 8M + 3S), same preconditions as pt_add. r may alias p. */
function pt_add_mixed(r: usize, p: usize, q: usize): void {
  const X1 = p, Y1 = p + 36, Z1 = p + 72;
  const X2 = q, Y2 = q + 36;
  const z1z1 = F0, u2 = F1, s2 = F2, h = F3, rr = F4, hh = F5, hhh = F6, v = F7, t = F8;
  fe_sqr(z1z1, Z1);
  fe_mul(u2, X2, z1z1);
  fe_mul(s2, Y2, Z1);
  fe_mul(s2, s2, z1z1);
  fe_sub(h, u2, X1);
  fe_sub(rr, s2, Y1);
  fe_sqr(hh, h);
  fe_mul(hhh, h, hh);
  fe_mul(v, X1, hh);
  fe_mul(t, Y1, hhh);
  // Every input coordinate has now been read.
  fe_mul(r + 72, Z1, h);
  fe_sqr(u2, rr);
  fe_sub(u2, u2, hhh);
  fe_add(s2, v, v);
  fe_sub(r, u2, s2);
  fe_sub(v, v, r);
  fe_mul(v, rr, v);
  fe_sub(r + 36, v, t);
}

/** PICK = G_COMB entry d (X, Y; Z = 1 in Montgomery form) for d in 1..15, all-zero X, Y for
 * d = 0; reads every entry whatever d is. */
function lookup_g(d: u32): void {
  let w0 = i32x4.splat(0), w1 = w0, w2 = w0, w3 = w0, w4 = w0;
  for (let i: u32 = 1; i < 16; i++) {
    const m = i32x4.splat(<i32>(0 - (((d ^ i) - 1) >>> 31)));
    const e = G_COMB + <usize>(i - 1) * COMB_ENTRY;
    w0 = v128.or(w0, v128.and(v128.load(e, 0), m));
    w1 = v128.or(w1, v128.and(v128.load(e, 16), m));
    w2 = v128.or(w2, v128.and(v128.load(e, 32), m));
    w3 = v128.or(w3, v128.and(v128.load(e, 48), m));
    w4 = v128.or(w4, v128.and(v128.load(e, 64), m));
  }
  v128.store(PICK, w0, 0);
  v128.store(PICK, w1, 16);
  v128.store(PICK, w2, 32);
  v128.store(PICK, w3, 48);
  v128.store(PICK, w4, 64);
  memory.copy(PICK + 72, ONE_M, FE);
}

/** PICK = TABLE[d] for d in 1..15, all zero for d = 0; reads every entry whatever d is. */
function lookup(d: u32): void {
  let w0 = i32x4.splat(0), w1 = w0, w2 = w0, w3 = w0, w4 = w0, w5 = w0, w6 = w0;
  for (let i: u32 = 1; i < 16; i++) {
    // (d ^ i) is in 0..15; subtracting 1 sets the top bit exactly when it was 0.
    const m = i32x4.splat(<i32>(0 - (((d ^ i) - 1) >>> 31)));
    const e = TABLE + <usize>i * PT;
    w0 = v128.or(w0, v128.and(v128.load(e, 0), m));
    w1 = v128.or(w1, v128.and(v128.load(e, 16), m));
    w2 = v128.or(w2, v128.and(v128.load(e, 32), m));
    w3 = v128.or(w3, v128.and(v128.load(e, 48), m));
    w4 = v128.or(w4, v128.and(v128.load(e, 64), m));
    w5 = v128.or(w5, v128.and(v128.load(e, 80), m));
    w6 = v128.or(w6, v128.and(v128.load(e, 96), m));
  }
  v128.store(PICK, w0, 0);
  v128.store(PICK, w1, 16);
  v128.store(PICK, w2, 32);
  v128.store(PICK, w3, 48);
  v128.store(PICK, w4, 64);
  v128.store(PICK, w5, 80);
  v128.store(PICK, w6, 96);
}

/** ACC = qinf ? PICK : (dzero ? ACC : SUM), masks all-ones or zero. */
function select_acc(qinf: u32, dzero: u32): void {
  const mq = i32x4.splat(<i32>qinf);
  const md = i32x4.splat(<i32>dzero);
  for (let o: usize = 0; o < PT; o += 16) {
    const kept = v128.bitselect(v128.load(ACC + o), v128.load(SUM + o), md);
    v128.store(ACC + o, v128.bitselect(v128.load(PICK + o), kept, mq));
  }
}

/**
 * ACC = k·P (Jacobian) for P = (px, py) in Montgomery form, on the curve, and k (32 bytes,
 * big-endian) in [1, n-1]. Fixed 4-bit windows; see the header for the exception analysis.
 */
function scalar_mult(px: usize, py: usize, k: usize): void {
  const P1 = TABLE + PT;
  memory.copy(P1, px, FE);
  memory.copy(P1 + 36, py, FE);
  memory.copy(P1 + 72, ONE_M, FE);
  pt_double(TABLE + 2 * PT, P1);
  for (let i: usize = 3; i < 16; i++) pt_add(TABLE + i * PT, TABLE + (i - 1) * PT, P1);

  // ACC starts as a harmless placeholder; qinf says it stands for the point at infinity.
  memory.copy(ACC, P1, PT);
  let qinf: u32 = 0xffffffff;
  for (let w = 63; w >= 0; w--) {
    if (w != 63) {
      pt_double(ACC, ACC);
      pt_double(ACC, ACC);
      pt_double(ACC, ACC);
      pt_double(ACC, ACC);
    }
    // Digit w: byte 31 - w/2, low nibble for even w. The position is public, the value not.
    const byte = <u32>load<u8>(k + 31 - (<usize>w >> 1));
    const d = (byte >> ((<u32>w & 1) << 2)) & 15;
    lookup(d);
    pt_add(SUM, ACC, PICK);
    const dzero = 0 - ((d - 1) >>> 31);
    select_acc(qinf, dzero);
    qinf &= dzero;
  }
}

/**
 * ACC = k·G (Jacobian) for k (32 bytes, big-endian) in [1, n-1]: a comb with four teeth 64 bits
 * apart, 63 doublings and 64 mixed additions. Step i (63 down to 0) adds the entry for bits
 * i, 64+i, 128+i, 192+i of k.
 *
 * Why no exceptional addition occurs: write k = Σ K_j·2^(64j) with 64-bit K_j. Before step i's
 * addition the accumulator is 2·A with A = Σ floor(K_j / 2^(i+1))·2^(64j), and the entry is
 * T = Σ t_j·2^(64j) with t_j = bit i of K_j; after it, 2A + T = Σ floor(K_j / 2^i)·2^(64j) ≤ k < n.
 * So 2A + T ≢ 0 unless both are 0, and 0 ≤ 2A, T < n gives 2A ≡ T only if 2A = T as integers;
 * both are written in base 2^64 with digits 2·floor(K_j / 2^(i+1)) < 2^64 (even) and t_j ∈ {0, 1},
 * so they are equal only when all digits are 0. The zero cases (accumulator or entry at
 * infinity) are the masked ones, as in scalar_mult.
 */
function scalar_mult_g(k: usize): void {
  memory.copy(ACC, G_COMB, 72);
  memory.copy(ACC + 72, ONE_M, FE);
  let qinf: u32 = 0xffffffff;
  for (let i = 63; i >= 0; i--) {
    if (i != 63) pt_double(ACC, ACC);
    // Bit 64j + i of k sits in byte 31 - 8j - i/8, bit i % 8 (public positions, secret bits).
    const byteIndex = 31 - (<usize>i >> 3);
    const sh = <u32>i & 7;
    const d = ((<u32>load<u8>(k + byteIndex) >> sh) & 1)
      | (((<u32>load<u8>(k + byteIndex - 8) >> sh) & 1) << 1)
      | (((<u32>load<u8>(k + byteIndex - 16) >> sh) & 1) << 2)
      | (((<u32>load<u8>(k + byteIndex - 24) >> sh) & 1) << 3);
    lookup_g(d);
    pt_add_mixed(SUM, ACC, PICK);
    const dzero = 0 - ((d - 1) >>> 31);
    select_acc(qinf, dzero);
    qinf &= dzero;
  }
}

/** 1 if the 32-byte big-endian scalar is in [1, n-1], else 0; constant time. */
function scalar_ok(k: usize): u32 {
  let borrow: u32 = 0;
  for (let i = 31; i >= 0; i--) {
    // Each difference is in -256..255; as u32 its top bit is the borrow.
    const d = <u32>load<u8>(k + <usize>i) - <u32>load<u8>(N_BYTES + <usize>i) - borrow;
    borrow = d >>> 31;
  }
  // borrow == 1 exactly when k < n.
  return borrow & (ctIsZeroBytes(k, 32) ^ 1);
}

/** Big-endian compare of public 32-byte values: 1 if a < b. */
function less_than_public(a: usize, b: usize): bool {
  for (let i: usize = 0; i < 32; i++) {
    const x = load<u8>(a + i), y = load<u8>(b + i);
    if (x != y) return x < y;
  }
  return false;
}

/** Writes the affine coordinates of ACC as big-endian bytes to xout (and yout unless 0).
 * Returns 0 if ACC is the point at infinity (Z ≡ 0). */
function acc_to_affine(xout: usize, yout: usize): u32 {
  const zinv = AZ;
  const ok = fe_iszero(ACC + 72) ^ 1;
  fe_inv(zinv, ACC + 72);
  fe_sqr(AY, zinv);
  fe_mul(AX, ACC, AY);
  fe_mul(AX, AX, ONE_RAW);
  fe_to_bytes(xout, AX);
  if (yout != 0) {
    fe_mul(AY, AY, zinv);
    fe_mul(AY, ACC + 36, AY);
    fe_mul(AY, AY, ONE_RAW);
    fe_to_bytes(yout, AY);
  }
  return ok;
}

function wipe_scratch(): void {
  memory.fill(SCRATCH, 0, SCRATCH_BYTES);
}

// ---------------------------------------------------------------------------------------------
// API (wasm/crypto/README.md)

/** pub65 = 04 ‖ x ‖ y of priv·G. Returns 0 (and writes nothing) unless priv is in [1, n-1]. */
export function p256_public(pub65: usize, priv32: usize): i32 {
  if (scalar_ok(priv32) == 0) return 0;
  scalar_mult_g(priv32);
  // k ∈ [1, n-1] and G has order n, so the result is never infinity. The scalar has been read
  // in full, so pub65 may overlap priv32.
  acc_to_affine(OUTBUF, OUTBUF + 32);
  store<u8>(pub65, 4);
  memory.copy(pub65 + 1, OUTBUF, 64);
  wipe_scratch();
  return 1;
}

/**
 * out32 = x-coordinate of priv·peer. Returns 0 (and writes nothing) unless priv is in [1, n-1]
 * and peer is exactly 04 ‖ x ‖ y (65 bytes) with x, y < p on y² = x³ - 3x + b, and the result
 * is not the point at infinity. The peer's key is public, so its checks branch; the scalar's
 * check is constant time and only its verdict steers control flow.
 */
export function p256_ecdh(out32: usize, priv32: usize, peer: usize, peerlen: usize): i32 {
  if (peerlen != 65 || load<u8>(peer) != 4) return 0;
  if (!less_than_public(peer + 1, P_BYTES) || !less_than_public(peer + 33, P_BYTES)) return 0;
  const x = AX, y = AY, lhs = F0, rhs = F1;
  fe_from_bytes(x, peer + 1);
  fe_from_bytes(y, peer + 33);
  fe_mul(x, x, R2_LIMBS);
  fe_mul(y, y, R2_LIMBS);
  fe_sqr(lhs, y);
  fe_sqr(rhs, x);
  fe_mul(rhs, rhs, x);
  fe_mulsmall(F2, x, 3);
  fe_sub(rhs, rhs, F2);
  fe_add(rhs, rhs, B_M);
  fe_sub(lhs, lhs, rhs);
  if (fe_iszero(lhs) == 0) {
    wipe_scratch();
    return 0;
  }
  if (scalar_ok(priv32) == 0) {
    wipe_scratch();
    return 0;
  }
  // scalar_mult reads the point from TABLE after copying it there; AX/AY are free again after.
  scalar_mult(x, y, priv32);
  const ok = acc_to_affine(OUTBUF, 0);
  if (ok != 0) memory.copy(out32, OUTBUF, 32);
  wipe_scratch();
  return <i32>ok;
}

/** A fresh key pair: priv32 uniform in [1, n-1] (rejection sampling; the rare redraw depends only
 * on discarded randomness), pub65 its uncompressed public point. */
export function p256_keygen(priv32: usize, pub65: usize): void {
  do {
    randomFill(priv32, 32);
  } while (scalar_ok(priv32) == 0);
  p256_public(pub65, priv32);
}
