// NIST P-384 (secp384r1) ECDH for TLS key_share (named group 0x0018): keygen, public key,
// shared secret. The structure follows p256.ts; what differs is the field and its bounds.
//
// Field elements (mod p = 2^384 - 2^128 - 2^96 + 2^32 - 1)
// ---------------------------------------------------------
// Fourteen limbs of 29 bits (u32 each, least significant first, 56 bytes). 14 * 29 = 406 bits,
// so the representation is redundant: the invariant every fe_* function keeps on its output, and
// assumes of its inputs, is
//     every limb in [0, 2^29)   and   value < 2p   (so limb 13, which holds bits 377.., is < 2^8),
// where "value" is the integer Σ limb_i·2^(29i); it is congruent to the element, not reduced.
// Only fe_canon produces the unique representative in [0, p).
//
// Multiplication is Montgomery with R = 2^406: fe_mul(a, b) = a·b·2^-406 mod p. Elements that
// take part in curve arithmetic are kept as x·R mod p. p ≡ -1 (mod 2^32), so -1/p ≡ 1 (mod 2^29)
// and the Montgomery digit of each step is just the low 29 bits of the current column, and
//     m·p = -m + m·2^32 - m·2^96 - m·2^128 + m·2^384
// is added with four shifts instead of multiplications. With 29-bit limbs these powers sit at
// limb offsets 1, 3, 4, 13 with in-limb shifts 32-29 = 3, 96-87 = 9, 128-116 = 12, 384-377 = 7.
// The -m term cancels the low 29 bits of the column exactly, so it becomes the carry
// (column >> 29) into the next column. The product is formed column by column (product
// scanning) and each column is reduced as soon as its last product is in, which keeps fewer
// 64-bit columns alive at once than forming all 27 first.
//
// Bounds of fe_mul / fe_sqr: limbs < 2^29, so each product is < 2^58 and a column of the 14x14
// schoolbook product holds at most 14 of them: < 14·2^58 < 2^61.81 (fe_sqr: seven products
// against doubled limbs < 2^30 plus one square, < 15·2^58). Besides its products a column
// receives at most one term from each of four reduction steps, each of magnitude < 2^29·2^12 =
// 2^41, and a carry of magnitude < 2^62 / 2^29 = 2^33: in all less than 2^43. Columns stay
// within ±2^62, so signed i64 never overflows, and the arithmetic shift `>> 29` together with
// `& M29` is an exact floor division / remainder even where a column went negative (the -m·2^96
// and -m·2^128 terms can make it so). The result is (A·B + M·p) / 2^406 with M < 2^406 and
// A, B < 2p < 2^385: < 2^770 / 2^406 + p = 2^364 + p < 2p, and it is nonnegative, so the final
// carry chain leaves limbs in [0, 2^29) and a nonnegative top limb. The invariant is kept.
//
// fe_add / fe_sub / fe_mulsmall work on i32 limbs and end in weakReduce: a carry pass, then the
// bits at 2^384 and above (h = value >> 384) are folded back with
// 2^384 ≡ 2^128 + 2^96 - 2^32 + 1, then another carry pass. Their pre-fold values are
// nonnegative and < 2^387 (a + b < 4p; a - b + 4p with b < 2p, so in (2p, 6p); 4·a < 8p;
// 8p < 2^387), hence h < 8 and the folded value is < 2^384 + 8·(2^128 + 2^96 + 1) < 2p, and
// still nonnegative (h·2^128 outweighs -h·2^32). So every fe_* output is below 2p, and fe_canon
// needs a single conditional subtraction of p.
// Limb sums before the first pass are within ±2^31 (each term < 2^29, at most three of them
// with one subtracted, or 4·a_i < 2^31).
//
// Points
// ------
// Jacobian coordinates (X : Y : Z) ↦ (X/Z², Y/Z³), 3 elements at offsets 0, 56, 112 of a
// 176-byte slot (11 v128 words, so the constant-time table scan works on whole vectors).
// Doubling is dbl-2001-b for a = -3 (3M + 5S in the literature; 4M + 4S here as 2·Y·Z replaces
// the squaring), addition is add-1998-cmo-2 (12M + 4S). Neither is complete, so the scalar
// multiplication is arranged to never meet an exceptional case, and the two it cannot avoid
// (an operand at infinity) are handled by masks, not branches:
//   * P is validated to lie on the curve, which has cofactor 1 and prime order n: every point
//     other than infinity has order n, none has order 2, so doubling a finite point never
//     produces Y = 0.
//   * The table holds i·P for i = 1..15, built as 2·P and (i-1)·P + P; (i-1) ≢ ±1 (mod n) for
//     i ≥ 3, so those additions are regular.
//   * The scalar k ∈ [1, n-1] is read in 96 four-bit digits from the top. Before the addition
//     of digit d the accumulator is c·P with c = 16·(prefix read so far) and c + d ≤ k < n.
//     When c ≠ 0 and d ≠ 0 the addition would be exceptional only if c ≡ ±d (mod n); but
//     16 ≤ c < n means 0 < c - d < n and 0 < c + d < n. The remaining cases are c = 0 (the
//     accumulator is the point at infinity, tracked as the mask `qinf`) and d = 0 (the table
//     entry would be infinity): the result is then chosen between T, Q and Q+T by masks.
// The digit is secret: the table entry is found by reading all 15 entries and combining them
// under masks, and all selections are bitwise.
// For the fixed base G (p384_public, p384_keygen) a precomputed 15-entry affine comb replaces
// the windows: 95 doublings and 96 mixed additions, with its own exception argument at
// scalar_mult_g.
//
// Scalars are 48 bytes big-endian and must be in [1, n-1] (checked in constant time). The
// entry points return 0 on any failure; peer points are public data and are validated with
// ordinary branches.
import { randomFill } from "../sys";
import { ctIsZeroBytes } from "./ct";

const M29: i64 = 0x1fffffff;
const FE: usize = 56;
const PT: usize = 176;

// The constants below were computed with a throwaway Node script (BigInt arithmetic; the comb
// points from node:crypto's createECDH("secp384r1"), after checking that G satisfies the curve
// equation with this b and that (n-1)·G = -G) and split into 29-bit limbs, least significant
// first.
// 4p in the limb representation (limbs < 2^29), added in fe_sub to keep the difference positive.
const P4_LIMBS = memory.data<u32>([
  0x1ffffffc, 0x0000001f, 0x00000000, 0x1ffff800, 0x1fffbfff, 0x1fffffff, 0x1fffffff,
  0x1fffffff, 0x1fffffff, 0x1fffffff, 0x1fffffff, 0x1fffffff, 0x1fffffff, 0x000001ff,
]);
// p itself, subtracted by fe_canon.
const P_LIMBS = memory.data<u32>([
  0x1fffffff, 0x00000007, 0x00000000, 0x1ffffe00, 0x1fffefff, 0x1fffffff, 0x1fffffff,
  0x1fffffff, 0x1fffffff, 0x1fffffff, 0x1fffffff, 0x1fffffff, 0x1fffffff, 0x0000007f,
]);
// R² mod p = 2^812 mod p: fe_mul(x, R2) moves an integer x into the Montgomery domain.
const R2_LIMBS = memory.data<u32>([
  0x00000000, 0x00008000, 0x1ff80000, 0x001fffff, 0x02000000, 0x00000000, 0x00000000,
  0x1ffffffc, 0x0000000f, 0x00000100, 0x00000400, 0x00000000, 0x00000000, 0x00000000,
]);
// The integer 1: fe_mul(x, ONE_RAW) leaves the Montgomery domain.
const ONE_RAW = memory.data<u32>([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
// R mod p, the Montgomery form of 1 (Z of an affine point).
const ONE_M = memory.data<u32>([
  0x00400000, 0x1e000000, 0x1fffffff, 0x1fffffff, 0x00000003, 0x00000020, 0x00000000,
  0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
]);
// b·R mod p (curve equation y² = x³ - 3x + b).
const B_M = memory.data<u32>([
  0x13334204, 0x01a0723b, 0x00811887, 0x03aa2176, 0x10c6f765, 0x040045f8, 0x12209b19,
  0x1c5713bf, 0x12fba524, 0x0129c66e, 0x1f41f022, 0x1cdb1590, 0x0d813eff, 0x00000029,
]);
// Fixed-base comb for G (p384_public): entry d (1..15, 28 words each: X, Y in Montgomery form,
// exactly seven v128) is the affine point
//     (d0 + d1·2^96 + d2·2^192 + d3·2^288)·G    for d = d0 + 2·d1 + 4·d2 + 8·d3.
const G_COMB = memory.data<u32>([
  // 0001
  0x0a134eab, 0x0bf90c12, 0x03dd0756, 0x1708bd1c, 0x1878938b, 0x0369adcd, 0x1c3afc54,
  0x1877fc3c, 0x01a11668, 0x1c56c8a9, 0x123614ed, 0x09c097fb, 0x08a67854, 0x00000038,
  0x1f8ade2a, 0x1a3f15f9, 0x023043da, 0x1396a8d6, 0x14e142fe, 0x10760a19, 0x0de7562e,
  0x07fecc5d, 0x14865a3d, 0x10818d86, 0x0263969a, 0x14eec001, 0x09685717, 0x00000078,
  // 0010
  0x1e5a940b, 0x0f103f85, 0x024480c5, 0x122f1f20, 0x15a94a52, 0x07c57905, 0x1002c327,
  0x0f6a639a, 0x1a714fbc, 0x11d11885, 0x1f67f494, 0x190145d5, 0x0e2a5e18, 0x00000068,
  0x1fa45f12, 0x0c4b91dd, 0x1f5f13a4, 0x15131c75, 0x1a774eb1, 0x0464ed15, 0x136bcc37,
  0x1460c187, 0x1ecc55db, 0x0ecd8a62, 0x1a69bbcb, 0x0e778eab, 0x02cf8f53, 0x00000026,
  // 0011
  0x1422b71d, 0x1cb0dad3, 0x011426e2, 0x13061b28, 0x07b7cbe8, 0x002e94e5, 0x16b480ec,
  0x0c2337f9, 0x179d8611, 0x00929e97, 0x16d05806, 0x0917976d, 0x04677f2a, 0x0000003a,
  0x1384a8da, 0x0f4a647f, 0x1a619d09, 0x1af3bcf4, 0x07977796, 0x14969df3, 0x03e0470d,
  0x00ec7aa0, 0x0bf65de4, 0x0e1e5d75, 0x1cea7471, 0x1b2f31f5, 0x11fe7600, 0x00000028,
  // 0100
  0x19ff024d, 0x1a672d14, 0x0378205d, 0x1dbde122, 0x02e3fe11, 0x05c01e58, 0x0ec06c68,
  0x0aa11ede, 0x1170c453, 0x0c7de542, 0x0747a524, 0x05500ecc, 0x05f5c5ec, 0x00000036,
  0x05629cbc, 0x1e94ba5f, 0x09653bc4, 0x0fe9ce9a, 0x146cbaa4, 0x11c7e804, 0x1943dcaf,
  0x1f0b77bb, 0x12843a1b, 0x1b9ee0ee, 0x0f1bf9ff, 0x04b5b173, 0x19621d17, 0x00000073,
  // 0101
  0x1080febc, 0x143e8da6, 0x073ade4d, 0x17359a11, 0x04b57953, 0x0839de7c, 0x0c7d9837,
  0x10aa499b, 0x08035679, 0x1dfa3d5f, 0x092bd9a3, 0x12669f6c, 0x13171b1f, 0x0000004d,
  0x0b0d595c, 0x1df5c111, 0x1087e2fc, 0x065a4739, 0x082f14c9, 0x015f34e9, 0x184f28fe,
  0x049ad967, 0x1ea10b37, 0x112bbbfa, 0x17b6929c, 0x06260788, 0x19322f3f, 0x0000005a,
  // 0110
  0x1bd8b50d, 0x0db8cdde, 0x0fab0860, 0x125b2aed, 0x12f82077, 0x04f6850f, 0x16571e39,
  0x078fb79f, 0x0a4cdd54, 0x05e08691, 0x196a85e6, 0x1fb8b3dc, 0x05fd514a, 0x0000006b,
  0x09a53943, 0x1cbb609a, 0x1d85feb9, 0x016e47a9, 0x03bd8880, 0x146d6b3b, 0x1668ec9c,
  0x0d00b1c4, 0x1c68688b, 0x04a80a57, 0x172f6093, 0x19defdff, 0x03888827, 0x00000065,
  // 0111
  0x0bc2638c, 0x064da971, 0x190b2e5b, 0x191901b4, 0x07954dd7, 0x03b6f636, 0x01b00b20,
  0x08d511ff, 0x17bc3b99, 0x15afd24d, 0x1beb9b10, 0x1a32a164, 0x0e8bf2f9, 0x00000013,
  0x0fc4af4f, 0x07da6934, 0x0779deeb, 0x19be87ba, 0x1a389028, 0x0d1ef2e6, 0x12bb3b87,
  0x0942b422, 0x0ed347e5, 0x1f559eeb, 0x00029ea3, 0x09c7f35a, 0x0204dce9, 0x00000048,
  // 1000
  0x1d00f31c, 0x02259599, 0x1070d34e, 0x010dd27b, 0x11ed422e, 0x1715a524, 0x1af9b95e,
  0x02eed134, 0x080da9a9, 0x03c1bbc1, 0x08e63df4, 0x1550c5a9, 0x0a89837c, 0x00000036,
  0x15e9abbe, 0x13f3784b, 0x124a6770, 0x01eab6e9, 0x0aa65049, 0x10888660, 0x01e2a196,
  0x1367839e, 0x156344c6, 0x08a86cc0, 0x0832ee79, 0x06d8144e, 0x071b6377, 0x00000060,
  // 1001
  0x115d03f2, 0x071b3714, 0x1ba1464b, 0x1c4eadff, 0x1e734db8, 0x15a4e5a1, 0x1867dc93,
  0x1ee3bc9c, 0x0217aba7, 0x117b7d7c, 0x103894ea, 0x10b9d728, 0x08e6b08b, 0x00000013,
  0x08efff96, 0x04d1c7c6, 0x05e28b0a, 0x1097ae68, 0x0d4328be, 0x144c81bc, 0x067a18b0,
  0x19be1fa3, 0x09cb926e, 0x107558e9, 0x0f0e81e1, 0x15bcfb9a, 0x10ff6703, 0x0000006d,
  // 1010
  0x0ed02b8a, 0x037f682e, 0x103cf292, 0x0fec09ff, 0x082a6446, 0x154d0469, 0x17224780,
  0x06058216, 0x1ee85d16, 0x18400898, 0x1ef0959e, 0x0fe5317b, 0x1fe32a4a, 0x00000056,
  0x00b8a779, 0x138d139a, 0x1b8c5377, 0x1f507db8, 0x10a1aa86, 0x02d480e3, 0x108f9dc2,
  0x09980024, 0x09cea463, 0x0e736847, 0x1f1e0b94, 0x0bb1a587, 0x14b5a7da, 0x00000064,
  // 1011
  0x01277a33, 0x1fcc99c6, 0x0744d13f, 0x0e552f6d, 0x14389c7a, 0x0db8a85f, 0x17dc1233,
  0x134540f8, 0x10a9d8da, 0x143cb921, 0x0b77704c, 0x0d4b064f, 0x19becf59, 0x00000063,
  0x01b53e98, 0x18f845ba, 0x1c60fee0, 0x0772d963, 0x0da20c53, 0x0d6122a3, 0x1c0f5f20,
  0x0d526ba1, 0x16eb0864, 0x178485ea, 0x08fffebd, 0x0e677e3e, 0x079ba3b4, 0x00000010,
  // 1100
  0x01a43aba, 0x120efa93, 0x1867db63, 0x175b9b54, 0x111f7095, 0x1e1cf7d1, 0x1a7ffed4,
  0x1cfbf664, 0x1dc71e9d, 0x1de4f8af, 0x079d6b25, 0x00483ba0, 0x0ed0205a, 0x00000020,
  0x1ac7be93, 0x1bdfcf61, 0x1df2aae5, 0x03b3330f, 0x1bb09894, 0x0327dbeb, 0x1587d6ca,
  0x1ceb5407, 0x1548f726, 0x06074ad2, 0x10085920, 0x17bdc204, 0x12e9b6f7, 0x0000003f,
  // 1101
  0x057d4aae, 0x11d65290, 0x0fbd838f, 0x1c5d97ee, 0x0573c51e, 0x0c3224a4, 0x1fb9e6ad,
  0x11754458, 0x11030329, 0x01ff2c24, 0x12c2dbe0, 0x01cd6cda, 0x06b865d9, 0x00000054,
  0x0b4e26b0, 0x07e822e5, 0x1d0e8989, 0x0da227c8, 0x0149790a, 0x0deab983, 0x052ecf27,
  0x11f0932a, 0x10349eb4, 0x0de1b635, 0x16ade498, 0x1efb462f, 0x0e0b38c9, 0x0000006f,
  // 1110
  0x1252fff7, 0x1ad95419, 0x0cd96866, 0x13dbf28f, 0x1464fee2, 0x0b679a5d, 0x190d5304,
  0x1b28263f, 0x1cad603c, 0x0a38eab4, 0x19921d37, 0x0f237c59, 0x054f064f, 0x00000012,
  0x19f8b6cd, 0x11ab7441, 0x0cd15c04, 0x0d3ecff3, 0x005e6d57, 0x083b2e23, 0x002370bd,
  0x0bb603cb, 0x11c2c4ac, 0x013bbc2c, 0x17540c88, 0x0f2b5d08, 0x0f90d7ec, 0x00000038,
  // 1111
  0x0fd7161f, 0x160da0ce, 0x1d71e4aa, 0x05ecd968, 0x037bd0b0, 0x1aae4636, 0x04995f86,
  0x0d4b403d, 0x096f4594, 0x16dbe3e1, 0x12476803, 0x1ad2ee2d, 0x110b76a4, 0x00000017,
  0x103ae7e0, 0x039e9269, 0x02b6cdb3, 0x0e69489c, 0x09c36632, 0x0fd2c2aa, 0x03b2d25d,
  0x0602ea51, 0x00a99d2a, 0x105d27c8, 0x0e6da7ce, 0x12a2d64a, 0x07918f51, 0x00000050,
]);
const COMB_ENTRY: usize = 112;

// p and the group order n, big-endian, for range checks on encoded values.
const P_BYTES = memory.data<u8>([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
  0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
]);
const N_BYTES = memory.data<u8>([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
  0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
]);

// Static scratch (the stub runtime never frees, so nothing is allocated per call). Everything
// here may hold secret-derived values and is wiped before an entry point returns.
// 26 field slots of 56 bytes, 19 point slots of PT bytes, a 96-byte output stage:
// 1456 + 3344 + 96.
const SCRATCH_BYTES: i32 = 4896;
const SCRATCH = memory.data(4896, 16);
// Field temporaries, 56 bytes apart.
const F0 = SCRATCH;
const F1 = SCRATCH + 56;
const F2 = SCRATCH + 112;
const F3 = SCRATCH + 168;
const F4 = SCRATCH + 224;
const F5 = SCRATCH + 280;
const F6 = SCRATCH + 336;
const F7 = SCRATCH + 392;
const F8 = SCRATCH + 448;
const F9 = SCRATCH + 504;
const F10 = SCRATCH + 560;
const F11 = SCRATCH + 616;
const F12 = SCRATCH + 672;
// Inversion's temporaries (fe_inv calls no other user of these).
const I0 = SCRATCH + 728;
const I1 = SCRATCH + 784;
const I2 = SCRATCH + 840;
const I3 = SCRATCH + 896;
const I4 = SCRATCH + 952;
const I5 = SCRATCH + 1008;
const I6 = SCRATCH + 1064;
const I7 = SCRATCH + 1120;
const I8 = SCRATCH + 1176;
const I9 = SCRATCH + 1232;
// Results handed between steps of the entry points.
const AX = SCRATCH + 1288;
const AY = SCRATCH + 1344;
const AZ = SCRATCH + 1400;
// Points: TABLE[i] = i·P for i in 1..15 (slot 0 unused), then the accumulator, the looked-up
// entry and the sum.
const POINTS = SCRATCH + 56 * 26;
const TABLE = POINTS;
const ACC = POINTS + PT * 16;
const PICK = POINTS + PT * 17;
const SUM = POINTS + PT * 18;
const OUTBUF = SCRATCH + 4800;

// ---------------------------------------------------------------------------------------------
// Field arithmetic

/** r = a·b·2^-406 mod p (see the header for the bounds). r may alias a or b: every limb is
 * loaded before the first store. */
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
  const a9 = <i64>load<u32>(a, 36), b9 = <i64>load<u32>(b, 36);
  const a10 = <i64>load<u32>(a, 40), b10 = <i64>load<u32>(b, 40);
  const a11 = <i64>load<u32>(a, 44), b11 = <i64>load<u32>(b, 44);
  const a12 = <i64>load<u32>(a, 48), b12 = <i64>load<u32>(b, 48);
  const a13 = <i64>load<u32>(a, 52), b13 = <i64>load<u32>(b, 52);
  let t0: i64 = 0, t1: i64 = 0, t2: i64 = 0, t3: i64 = 0, t4: i64 = 0, t5: i64 = 0, t6: i64 = 0, t7: i64 = 0, t8: i64 = 0, t9: i64 = 0, t10: i64 = 0, t11: i64 = 0, t12: i64 = 0, t13: i64 = 0, t14: i64 = 0, t15: i64 = 0, t16: i64 = 0, t17: i64 = 0, t18: i64 = 0, t19: i64 = 0, t20: i64 = 0, t21: i64 = 0, t22: i64 = 0, t23: i64 = 0, t24: i64 = 0, t25: i64 = 0, t26: i64 = 0, t27: i64 = 0;
  let m: i64;
  t0 += a0 * b0;
  m = t0 & M29; t1 += (t0 >> 29) + (m << 3); t3 -= m << 9; t4 -= m << 12; t13 += m << 7;
  t1 += a0 * b1 + a1 * b0;
  m = t1 & M29; t2 += (t1 >> 29) + (m << 3); t4 -= m << 9; t5 -= m << 12; t14 += m << 7;
  t2 += a0 * b2 + a1 * b1 + a2 * b0;
  m = t2 & M29; t3 += (t2 >> 29) + (m << 3); t5 -= m << 9; t6 -= m << 12; t15 += m << 7;
  t3 += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  m = t3 & M29; t4 += (t3 >> 29) + (m << 3); t6 -= m << 9; t7 -= m << 12; t16 += m << 7;
  t4 += a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
  m = t4 & M29; t5 += (t4 >> 29) + (m << 3); t7 -= m << 9; t8 -= m << 12; t17 += m << 7;
  t5 += a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
  m = t5 & M29; t6 += (t5 >> 29) + (m << 3); t8 -= m << 9; t9 -= m << 12; t18 += m << 7;
  t6 += a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0;
  m = t6 & M29; t7 += (t6 >> 29) + (m << 3); t9 -= m << 9; t10 -= m << 12; t19 += m << 7;
  t7 += a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0;
  m = t7 & M29; t8 += (t7 >> 29) + (m << 3); t10 -= m << 9; t11 -= m << 12; t20 += m << 7;
  t8 += a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0;
  m = t8 & M29; t9 += (t8 >> 29) + (m << 3); t11 -= m << 9; t12 -= m << 12; t21 += m << 7;
  t9 += a0 * b9 + a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1 + a9 * b0;
  m = t9 & M29; t10 += (t9 >> 29) + (m << 3); t12 -= m << 9; t13 -= m << 12; t22 += m << 7;
  t10 += a0 * b10 + a1 * b9 + a2 * b8 + a3 * b7 + a4 * b6 + a5 * b5 + a6 * b4 + a7 * b3 + a8 * b2 + a9 * b1 + a10 * b0;
  m = t10 & M29; t11 += (t10 >> 29) + (m << 3); t13 -= m << 9; t14 -= m << 12; t23 += m << 7;
  t11 += a0 * b11 + a1 * b10 + a2 * b9 + a3 * b8 + a4 * b7 + a5 * b6 + a6 * b5 + a7 * b4 + a8 * b3 + a9 * b2 + a10 * b1 + a11 * b0;
  m = t11 & M29; t12 += (t11 >> 29) + (m << 3); t14 -= m << 9; t15 -= m << 12; t24 += m << 7;
  t12 += a0 * b12 + a1 * b11 + a2 * b10 + a3 * b9 + a4 * b8 + a5 * b7 + a6 * b6 + a7 * b5 + a8 * b4 + a9 * b3 + a10 * b2 + a11 * b1 + a12 * b0;
  m = t12 & M29; t13 += (t12 >> 29) + (m << 3); t15 -= m << 9; t16 -= m << 12; t25 += m << 7;
  t13 += a0 * b13 + a1 * b12 + a2 * b11 + a3 * b10 + a4 * b9 + a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5 + a9 * b4 + a10 * b3 + a11 * b2 + a12 * b1 + a13 * b0;
  m = t13 & M29; t14 += (t13 >> 29) + (m << 3); t16 -= m << 9; t17 -= m << 12; t26 += m << 7;
  t14 += a1 * b13 + a2 * b12 + a3 * b11 + a4 * b10 + a5 * b9 + a6 * b8 + a7 * b7 + a8 * b6 + a9 * b5 + a10 * b4 + a11 * b3 + a12 * b2 + a13 * b1;
  store<u32>(r, <u32>(t14 & M29), 0); t15 += t14 >> 29;
  t15 += a2 * b13 + a3 * b12 + a4 * b11 + a5 * b10 + a6 * b9 + a7 * b8 + a8 * b7 + a9 * b6 + a10 * b5 + a11 * b4 + a12 * b3 + a13 * b2;
  store<u32>(r, <u32>(t15 & M29), 4); t16 += t15 >> 29;
  t16 += a3 * b13 + a4 * b12 + a5 * b11 + a6 * b10 + a7 * b9 + a8 * b8 + a9 * b7 + a10 * b6 + a11 * b5 + a12 * b4 + a13 * b3;
  store<u32>(r, <u32>(t16 & M29), 8); t17 += t16 >> 29;
  t17 += a4 * b13 + a5 * b12 + a6 * b11 + a7 * b10 + a8 * b9 + a9 * b8 + a10 * b7 + a11 * b6 + a12 * b5 + a13 * b4;
  store<u32>(r, <u32>(t17 & M29), 12); t18 += t17 >> 29;
  t18 += a5 * b13 + a6 * b12 + a7 * b11 + a8 * b10 + a9 * b9 + a10 * b8 + a11 * b7 + a12 * b6 + a13 * b5;
  store<u32>(r, <u32>(t18 & M29), 16); t19 += t18 >> 29;
  t19 += a6 * b13 + a7 * b12 + a8 * b11 + a9 * b10 + a10 * b9 + a11 * b8 + a12 * b7 + a13 * b6;
  store<u32>(r, <u32>(t19 & M29), 20); t20 += t19 >> 29;
  t20 += a7 * b13 + a8 * b12 + a9 * b11 + a10 * b10 + a11 * b9 + a12 * b8 + a13 * b7;
  store<u32>(r, <u32>(t20 & M29), 24); t21 += t20 >> 29;
  t21 += a8 * b13 + a9 * b12 + a10 * b11 + a11 * b10 + a12 * b9 + a13 * b8;
  store<u32>(r, <u32>(t21 & M29), 28); t22 += t21 >> 29;
  t22 += a9 * b13 + a10 * b12 + a11 * b11 + a12 * b10 + a13 * b9;
  store<u32>(r, <u32>(t22 & M29), 32); t23 += t22 >> 29;
  t23 += a10 * b13 + a11 * b12 + a12 * b11 + a13 * b10;
  store<u32>(r, <u32>(t23 & M29), 36); t24 += t23 >> 29;
  t24 += a11 * b13 + a12 * b12 + a13 * b11;
  store<u32>(r, <u32>(t24 & M29), 40); t25 += t24 >> 29;
  t25 += a12 * b13 + a13 * b12;
  store<u32>(r, <u32>(t25 & M29), 44); t26 += t25 >> 29;
  t26 += a13 * b13;
  store<u32>(r, <u32>(t26 & M29), 48); t27 += t26 >> 29;
  store<u32>(r, <u32>t27, 52);
}

/** r = a²·2^-406 mod p; the cross products are formed once against doubled limbs (< 2^30). */
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
  const a9 = <i64>load<u32>(a, 36);
  const a10 = <i64>load<u32>(a, 40);
  const a11 = <i64>load<u32>(a, 44);
  const a12 = <i64>load<u32>(a, 48);
  const a13 = <i64>load<u32>(a, 52);
  const d0 = a0 << 1;
  const d1 = a1 << 1;
  const d2 = a2 << 1;
  const d3 = a3 << 1;
  const d4 = a4 << 1;
  const d5 = a5 << 1;
  const d6 = a6 << 1;
  const d7 = a7 << 1;
  const d8 = a8 << 1;
  const d9 = a9 << 1;
  const d10 = a10 << 1;
  const d11 = a11 << 1;
  const d12 = a12 << 1;
  let t0: i64 = 0, t1: i64 = 0, t2: i64 = 0, t3: i64 = 0, t4: i64 = 0, t5: i64 = 0, t6: i64 = 0, t7: i64 = 0, t8: i64 = 0, t9: i64 = 0, t10: i64 = 0, t11: i64 = 0, t12: i64 = 0, t13: i64 = 0, t14: i64 = 0, t15: i64 = 0, t16: i64 = 0, t17: i64 = 0, t18: i64 = 0, t19: i64 = 0, t20: i64 = 0, t21: i64 = 0, t22: i64 = 0, t23: i64 = 0, t24: i64 = 0, t25: i64 = 0, t26: i64 = 0, t27: i64 = 0;
  let m: i64;
  t0 += a0 * a0;
  m = t0 & M29; t1 += (t0 >> 29) + (m << 3); t3 -= m << 9; t4 -= m << 12; t13 += m << 7;
  t1 += d0 * a1;
  m = t1 & M29; t2 += (t1 >> 29) + (m << 3); t4 -= m << 9; t5 -= m << 12; t14 += m << 7;
  t2 += d0 * a2 + a1 * a1;
  m = t2 & M29; t3 += (t2 >> 29) + (m << 3); t5 -= m << 9; t6 -= m << 12; t15 += m << 7;
  t3 += d0 * a3 + d1 * a2;
  m = t3 & M29; t4 += (t3 >> 29) + (m << 3); t6 -= m << 9; t7 -= m << 12; t16 += m << 7;
  t4 += d0 * a4 + d1 * a3 + a2 * a2;
  m = t4 & M29; t5 += (t4 >> 29) + (m << 3); t7 -= m << 9; t8 -= m << 12; t17 += m << 7;
  t5 += d0 * a5 + d1 * a4 + d2 * a3;
  m = t5 & M29; t6 += (t5 >> 29) + (m << 3); t8 -= m << 9; t9 -= m << 12; t18 += m << 7;
  t6 += d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3;
  m = t6 & M29; t7 += (t6 >> 29) + (m << 3); t9 -= m << 9; t10 -= m << 12; t19 += m << 7;
  t7 += d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4;
  m = t7 & M29; t8 += (t7 >> 29) + (m << 3); t10 -= m << 9; t11 -= m << 12; t20 += m << 7;
  t8 += d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4;
  m = t8 & M29; t9 += (t8 >> 29) + (m << 3); t11 -= m << 9; t12 -= m << 12; t21 += m << 7;
  t9 += d0 * a9 + d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5;
  m = t9 & M29; t10 += (t9 >> 29) + (m << 3); t12 -= m << 9; t13 -= m << 12; t22 += m << 7;
  t10 += d0 * a10 + d1 * a9 + d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5;
  m = t10 & M29; t11 += (t10 >> 29) + (m << 3); t13 -= m << 9; t14 -= m << 12; t23 += m << 7;
  t11 += d0 * a11 + d1 * a10 + d2 * a9 + d3 * a8 + d4 * a7 + d5 * a6;
  m = t11 & M29; t12 += (t11 >> 29) + (m << 3); t14 -= m << 9; t15 -= m << 12; t24 += m << 7;
  t12 += d0 * a12 + d1 * a11 + d2 * a10 + d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6;
  m = t12 & M29; t13 += (t12 >> 29) + (m << 3); t15 -= m << 9; t16 -= m << 12; t25 += m << 7;
  t13 += d0 * a13 + d1 * a12 + d2 * a11 + d3 * a10 + d4 * a9 + d5 * a8 + d6 * a7;
  m = t13 & M29; t14 += (t13 >> 29) + (m << 3); t16 -= m << 9; t17 -= m << 12; t26 += m << 7;
  t14 += d1 * a13 + d2 * a12 + d3 * a11 + d4 * a10 + d5 * a9 + d6 * a8 + a7 * a7;
  store<u32>(r, <u32>(t14 & M29), 0); t15 += t14 >> 29;
  t15 += d2 * a13 + d3 * a12 + d4 * a11 + d5 * a10 + d6 * a9 + d7 * a8;
  store<u32>(r, <u32>(t15 & M29), 4); t16 += t15 >> 29;
  t16 += d3 * a13 + d4 * a12 + d5 * a11 + d6 * a10 + d7 * a9 + a8 * a8;
  store<u32>(r, <u32>(t16 & M29), 8); t17 += t16 >> 29;
  t17 += d4 * a13 + d5 * a12 + d6 * a11 + d7 * a10 + d8 * a9;
  store<u32>(r, <u32>(t17 & M29), 12); t18 += t17 >> 29;
  t18 += d5 * a13 + d6 * a12 + d7 * a11 + d8 * a10 + a9 * a9;
  store<u32>(r, <u32>(t18 & M29), 16); t19 += t18 >> 29;
  t19 += d6 * a13 + d7 * a12 + d8 * a11 + d9 * a10;
  store<u32>(r, <u32>(t19 & M29), 20); t20 += t19 >> 29;
  t20 += d7 * a13 + d8 * a12 + d9 * a11 + a10 * a10;
  store<u32>(r, <u32>(t20 & M29), 24); t21 += t20 >> 29;
  t21 += d8 * a13 + d9 * a12 + d10 * a11;
  store<u32>(r, <u32>(t21 & M29), 28); t22 += t21 >> 29;
  t22 += d9 * a13 + d10 * a12 + a11 * a11;
  store<u32>(r, <u32>(t22 & M29), 32); t23 += t22 >> 29;
  t23 += d10 * a13 + d11 * a12;
  store<u32>(r, <u32>(t23 & M29), 36); t24 += t23 >> 29;
  t24 += d11 * a13 + a12 * a12;
  store<u32>(r, <u32>(t24 & M29), 40); t25 += t24 >> 29;
  t25 += d12 * a13;
  store<u32>(r, <u32>(t25 & M29), 44); t26 += t25 >> 29;
  t26 += a13 * a13;
  store<u32>(r, <u32>(t26 & M29), 48); t27 += t26 >> 29;
  store<u32>(r, <u32>t27, 52);
}

/**
 * Carry pass, fold of the bits above 2^384, carry pass; stores the fourteen limbs. Requires
 * every t_i within ±2^31 and a total value in [0, 2^387) (see the header).
 */
// @ts-ignore: decorator
@inline function weakReduce(r: usize, t0: i32, t1: i32, t2: i32, t3: i32, t4: i32, t5: i32, t6: i32,
  t7: i32, t8: i32, t9: i32, t10: i32, t11: i32, t12: i32, t13: i32): void {
  t1 += t0 >> 29; t0 &= 0x1fffffff;
  t2 += t1 >> 29; t1 &= 0x1fffffff;
  t3 += t2 >> 29; t2 &= 0x1fffffff;
  t4 += t3 >> 29; t3 &= 0x1fffffff;
  t5 += t4 >> 29; t4 &= 0x1fffffff;
  t6 += t5 >> 29; t5 &= 0x1fffffff;
  t7 += t6 >> 29; t6 &= 0x1fffffff;
  t8 += t7 >> 29; t7 &= 0x1fffffff;
  t9 += t8 >> 29; t8 &= 0x1fffffff;
  t10 += t9 >> 29; t9 &= 0x1fffffff;
  t11 += t10 >> 29; t10 &= 0x1fffffff;
  t12 += t11 >> 29; t11 &= 0x1fffffff;
  t13 += t12 >> 29; t12 &= 0x1fffffff;
  // t13 now holds value >> 377 (< 2^10); h = value >> 384 < 8.
  const h = t13 >> 7;
  t13 &= 0x7f;
  t0 += h;
  t1 -= h << 3;
  t3 += h << 9;
  t4 += h << 12;
  t1 += t0 >> 29; t0 &= 0x1fffffff;
  t2 += t1 >> 29; t1 &= 0x1fffffff;
  t3 += t2 >> 29; t2 &= 0x1fffffff;
  t4 += t3 >> 29; t3 &= 0x1fffffff;
  t5 += t4 >> 29; t4 &= 0x1fffffff;
  t6 += t5 >> 29; t5 &= 0x1fffffff;
  t7 += t6 >> 29; t6 &= 0x1fffffff;
  t8 += t7 >> 29; t7 &= 0x1fffffff;
  t9 += t8 >> 29; t8 &= 0x1fffffff;
  t10 += t9 >> 29; t9 &= 0x1fffffff;
  t11 += t10 >> 29; t10 &= 0x1fffffff;
  t12 += t11 >> 29; t11 &= 0x1fffffff;
  t13 += t12 >> 29; t12 &= 0x1fffffff;
  store<u32>(r, t0, 0);
  store<u32>(r, t1, 4);
  store<u32>(r, t2, 8);
  store<u32>(r, t3, 12);
  store<u32>(r, t4, 16);
  store<u32>(r, t5, 20);
  store<u32>(r, t6, 24);
  store<u32>(r, t7, 28);
  store<u32>(r, t8, 32);
  store<u32>(r, t9, 36);
  store<u32>(r, t10, 40);
  store<u32>(r, t11, 44);
  store<u32>(r, t12, 48);
  store<u32>(r, t13, 52);
}

/** r = a + b (mod p). */
function fe_add(r: usize, a: usize, b: usize): void {
  weakReduce(r,
    load<i32>(a, 0) + load<i32>(b, 0), load<i32>(a, 4) + load<i32>(b, 4),
    load<i32>(a, 8) + load<i32>(b, 8), load<i32>(a, 12) + load<i32>(b, 12),
    load<i32>(a, 16) + load<i32>(b, 16), load<i32>(a, 20) + load<i32>(b, 20),
    load<i32>(a, 24) + load<i32>(b, 24), load<i32>(a, 28) + load<i32>(b, 28),
    load<i32>(a, 32) + load<i32>(b, 32), load<i32>(a, 36) + load<i32>(b, 36),
    load<i32>(a, 40) + load<i32>(b, 40), load<i32>(a, 44) + load<i32>(b, 44),
    load<i32>(a, 48) + load<i32>(b, 48), load<i32>(a, 52) + load<i32>(b, 52));
}

/** r = a - b (mod p), computed as a + 4p - b so that the value stays positive. */
function fe_sub(r: usize, a: usize, b: usize): void {
  const q = P4_LIMBS;
  weakReduce(r,
    load<i32>(a, 0) + load<i32>(q, 0) - load<i32>(b, 0), load<i32>(a, 4) + load<i32>(q, 4) - load<i32>(b, 4),
    load<i32>(a, 8) + load<i32>(q, 8) - load<i32>(b, 8), load<i32>(a, 12) + load<i32>(q, 12) - load<i32>(b, 12),
    load<i32>(a, 16) + load<i32>(q, 16) - load<i32>(b, 16), load<i32>(a, 20) + load<i32>(q, 20) - load<i32>(b, 20),
    load<i32>(a, 24) + load<i32>(q, 24) - load<i32>(b, 24), load<i32>(a, 28) + load<i32>(q, 28) - load<i32>(b, 28),
    load<i32>(a, 32) + load<i32>(q, 32) - load<i32>(b, 32), load<i32>(a, 36) + load<i32>(q, 36) - load<i32>(b, 36),
    load<i32>(a, 40) + load<i32>(q, 40) - load<i32>(b, 40), load<i32>(a, 44) + load<i32>(q, 44) - load<i32>(b, 44),
    load<i32>(a, 48) + load<i32>(q, 48) - load<i32>(b, 48), load<i32>(a, 52) + load<i32>(q, 52) - load<i32>(b, 52));
}

/** r = k·a (mod p) for a small public k in 0..4 (4·a_i < 2^31 still fits an i32). */
function fe_mulsmall(r: usize, a: usize, k: i32): void {
  weakReduce(r,
    load<i32>(a, 0) * k, load<i32>(a, 4) * k,
    load<i32>(a, 8) * k, load<i32>(a, 12) * k,
    load<i32>(a, 16) * k, load<i32>(a, 20) * k,
    load<i32>(a, 24) * k, load<i32>(a, 28) * k,
    load<i32>(a, 32) * k, load<i32>(a, 36) * k,
    load<i32>(a, 40) * k, load<i32>(a, 44) * k,
    load<i32>(a, 48) * k, load<i32>(a, 52) * k);
}

/** r = a with the value fully reduced into [0, p). Every fe_* output is < 2p (see the header),
 * so one conditional subtraction of p suffices; it keeps a - p unless that borrowed. */
function fe_canon(r: usize, a: usize): void {
  let c: i32 = 0;
  // d = a - p with signed carries; c ends as -1 exactly when a < p.
  for (let i: usize = 0; i < 14; i++) {
    const d = load<i32>(a + (i << 2)) - load<i32>(P_LIMBS + (i << 2)) + c;
    store<i32>(F12 + (i << 2), d & 0x1fffffff);
    c = d >> 29;
  }
  const keep = <u32>c; // all ones: a < p, keep a; zero: take a - p
  for (let i: usize = 0; i < 14; i++) {
    const x = load<u32>(a + (i << 2));
    const y = load<u32>(F12 + (i << 2));
    store<u32>(r + (i << 2), y ^ (keep & (x ^ y)));
  }
}

/** 1 if a ≡ 0 (mod p), else 0, in constant time. */
function fe_iszero(a: usize): u32 {
  fe_canon(F11, a);
  let acc: u32 = 0;
  for (let i: usize = 0; i < 14; i++) acc |= load<u32>(F11 + (i << 2));
  return (acc - 1) >>> 31;
}

/** r = the 48-byte big-endian integer at src, as limbs (not reduced, not Montgomery). */
function fe_from_bytes(r: usize, src: usize): void {
  let acc: u64 = 0;
  let bits: u32 = 0;
  let k: usize = 0;
  for (let i = 47; i >= 0; i--) {
    acc |= <u64>load<u8>(src + <usize>i) << bits;
    bits += 8;
    if (bits >= 29) {
      store<u32>(r + (k << 2), <u32>(acc & 0x1fffffff));
      k++;
      acc >>>= 29;
      bits -= 29;
    }
  }
  // 384 = 13·29 + 7: the top 7 bits remain for limb 13.
  store<u32>(r + 52, <u32>acc);
}

/** dst = 48 big-endian bytes of a's canonical value. */
function fe_to_bytes(dst: usize, a: usize): void {
  fe_canon(F11, a);
  let acc: u64 = 0;
  let bits: u32 = 0;
  let j: usize = 0;
  for (let i: usize = 0; i < 14; i++) {
    acc |= <u64>load<u32>(F11 + (i << 2)) << bits;
    bits += 29;
    while (bits >= 8 && j < 48) {
      store<u8>(dst + 47 - j, <u8>acc);
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
 * r = a^(p-2) = 1/a (Montgomery form in, Montgomery form out; 0 maps to 0). The exponent is
 *     p - 2 = 2^384 - 2^128 - 2^96 + 2^32 - 3
 *           = [255 ones] 0 [32 ones] [64 zeros] [30 ones] 0 1   (binary, from the top),
 * built from runs of ones x_k = a^(2^k - 1): 385 squarings and 14 multiplications.
 */
function fe_inv(r: usize, a: usize): void {
  const x2 = I0, x3 = I1, x6 = I2, x12 = I3, x15 = I4, x30 = I5, x32 = I6, x60 = I7, x120 = I8, t = I9;
  fe_sqr(x2, a); fe_mul(x2, x2, a);                           // 2^2 - 1
  fe_sqr(x3, x2); fe_mul(x3, x3, a);                          // 2^3 - 1
  fe_sqr(x6, x3); fe_sqr_n(x6, 2); fe_mul(x6, x6, x3);        // 2^6 - 1
  fe_sqr(x12, x6); fe_sqr_n(x12, 5); fe_mul(x12, x12, x6);    // 2^12 - 1
  fe_sqr(x15, x12); fe_sqr_n(x15, 2); fe_mul(x15, x15, x3);   // 2^15 - 1
  fe_sqr(x30, x15); fe_sqr_n(x30, 14); fe_mul(x30, x30, x15); // 2^30 - 1
  fe_sqr(x32, x30); fe_sqr(x32, x32); fe_mul(x32, x32, x2);   // 2^32 - 1
  fe_sqr(x60, x30); fe_sqr_n(x60, 29); fe_mul(x60, x60, x30); // 2^60 - 1
  fe_sqr(x120, x60); fe_sqr_n(x120, 59); fe_mul(x120, x120, x60); // 2^120 - 1
  fe_sqr(t, x120); fe_sqr_n(t, 119); fe_mul(t, t, x120);      // 2^240 - 1
  fe_sqr_n(t, 15); fe_mul(t, t, x15);                         // 2^255 - 1: 255 ones
  fe_sqr_n(t, 33); fe_mul(t, t, x32);                         // ... 0, 32 ones
  fe_sqr_n(t, 64);                                            // ... 64 zeros
  fe_sqr_n(t, 30); fe_mul(t, t, x30);                         // ... 30 ones
  fe_sqr_n(t, 2); fe_mul(r, t, a);                            // ... 01
}

// ---------------------------------------------------------------------------------------------
// Points (Jacobian; see the header for why no exceptional case is reached)

/** r = 2·p (a = -3: α = 3(X - Z²)(X + Z²), X' = α² - 8XY², Y' = α(4XY² - X') - 8Y⁴, Z' = 2YZ).
 * r may alias p. */
function pt_double(r: usize, p: usize): void {
  const X = p, Y = p + 56, Z = p + 112;
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
  fe_add(r + 112, t, t);
  fe_sqr(t, alpha);
  fe_mulsmall(beta, beta, 4);
  fe_add(u, beta, beta);
  fe_sub(r, t, u);
  fe_sub(beta, beta, r);
  fe_mul(beta, alpha, beta);
  fe_sqr(gamma, gamma);
  fe_mulsmall(gamma, gamma, 4);
  fe_add(gamma, gamma, gamma);
  fe_sub(r + 56, beta, gamma);
}

/** r = p + q for p ≠ ±q, neither at infinity (the caller guarantees it). r may alias p or q. */
function pt_add(r: usize, p: usize, q: usize): void {
  const X1 = p, Y1 = p + 56, Z1 = p + 112;
  const X2 = q, Y2 = q + 56, Z2 = q + 112;
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
  fe_mul(r + 112, u2, h);
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
  fe_sub(r + 56, v, s1);
}

/** r = p + q for q affine (Z = 1; madd: 8M + 3S), same preconditions as pt_add. r may alias p. */
function pt_add_mixed(r: usize, p: usize, q: usize): void {
  const X1 = p, Y1 = p + 56, Z1 = p + 112;
  const X2 = q, Y2 = q + 56;
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
  fe_mul(r + 112, Z1, h);
  fe_sqr(u2, rr);
  fe_sub(u2, u2, hhh);
  fe_add(s2, v, v);
  fe_sub(r, u2, s2);
  fe_sub(v, v, r);
  fe_mul(v, rr, v);
  fe_sub(r + 56, v, t);
}

/** PICK = G_COMB entry d (X, Y; Z = 1 in Montgomery form) for d in 1..15, all-zero X, Y for
 * d = 0; reads every entry whatever d is. */
function lookup_g(d: u32): void {
  let w0 = i32x4.splat(0), w1 = w0, w2 = w0, w3 = w0, w4 = w0, w5 = w0, w6 = w0;
  for (let i: u32 = 1; i < 16; i++) {
    // (d ^ i) is in 0..15; subtracting 1 sets the top bit exactly when it was 0.
    const m = i32x4.splat(<i32>(0 - (((d ^ i) - 1) >>> 31)));
    const e = G_COMB + <usize>(i - 1) * COMB_ENTRY;
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
  memory.copy(PICK + 112, ONE_M, FE);
}

/** PICK = TABLE[d] for d in 1..15, all zero for d = 0; reads every entry whatever d is. */
function lookup(d: u32): void {
  let w0 = i32x4.splat(0), w1 = w0, w2 = w0, w3 = w0, w4 = w0, w5 = w0;
  let w6 = w0, w7 = w0, w8 = w0, w9 = w0, w10 = w0;
  for (let i: u32 = 1; i < 16; i++) {
    const m = i32x4.splat(<i32>(0 - (((d ^ i) - 1) >>> 31)));
    const e = TABLE + <usize>i * PT;
    w0 = v128.or(w0, v128.and(v128.load(e, 0), m));
    w1 = v128.or(w1, v128.and(v128.load(e, 16), m));
    w2 = v128.or(w2, v128.and(v128.load(e, 32), m));
    w3 = v128.or(w3, v128.and(v128.load(e, 48), m));
    w4 = v128.or(w4, v128.and(v128.load(e, 64), m));
    w5 = v128.or(w5, v128.and(v128.load(e, 80), m));
    w6 = v128.or(w6, v128.and(v128.load(e, 96), m));
    w7 = v128.or(w7, v128.and(v128.load(e, 112), m));
    w8 = v128.or(w8, v128.and(v128.load(e, 128), m));
    w9 = v128.or(w9, v128.and(v128.load(e, 144), m));
    w10 = v128.or(w10, v128.and(v128.load(e, 160), m));
  }
  v128.store(PICK, w0, 0);
  v128.store(PICK, w1, 16);
  v128.store(PICK, w2, 32);
  v128.store(PICK, w3, 48);
  v128.store(PICK, w4, 64);
  v128.store(PICK, w5, 80);
  v128.store(PICK, w6, 96);
  v128.store(PICK, w7, 112);
  v128.store(PICK, w8, 128);
  v128.store(PICK, w9, 144);
  v128.store(PICK, w10, 160);
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
 * ACC = k·P (Jacobian) for P = (px, py) in Montgomery form, on the curve, and k (48 bytes,
 * big-endian) in [1, n-1]. Fixed 4-bit windows; see the header for the exception analysis.
 */
function scalar_mult(px: usize, py: usize, k: usize): void {
  const P1 = TABLE + PT;
  memory.copy(P1, px, FE);
  memory.copy(P1 + 56, py, FE);
  memory.copy(P1 + 112, ONE_M, FE);
  pt_double(TABLE + 2 * PT, P1);
  for (let i: usize = 3; i < 16; i++) pt_add(TABLE + i * PT, TABLE + (i - 1) * PT, P1);

  // ACC starts as a harmless placeholder; qinf says it stands for the point at infinity.
  memory.copy(ACC, P1, PT);
  let qinf: u32 = 0xffffffff;
  for (let w = 95; w >= 0; w--) {
    if (w != 95) {
      pt_double(ACC, ACC);
      pt_double(ACC, ACC);
      pt_double(ACC, ACC);
      pt_double(ACC, ACC);
    }
    // Digit w: byte 47 - w/2, low nibble for even w. The position is public, the value not.
    const byte = <u32>load<u8>(k + 47 - (<usize>w >> 1));
    const d = (byte >> ((<u32>w & 1) << 2)) & 15;
    lookup(d);
    pt_add(SUM, ACC, PICK);
    const dzero = 0 - ((d - 1) >>> 31);
    select_acc(qinf, dzero);
    qinf &= dzero;
  }
}

/**
 * ACC = k·G (Jacobian) for k (48 bytes, big-endian) in [1, n-1]: a comb with four teeth 96 bits
 * apart, 95 doublings and 96 mixed additions. Step i (95 down to 0) adds the entry for bits
 * i, 96+i, 192+i, 288+i of k.
 *
 * Why no exceptional addition occurs: write k = Σ K_j·2^(96j) with 96-bit K_j. Before step i's
 * addition the accumulator is 2·A with A = Σ floor(K_j / 2^(i+1))·2^(96j), and the entry is
 * T = Σ t_j·2^(96j) with t_j = bit i of K_j; after it, 2A + T = Σ floor(K_j / 2^i)·2^(96j) ≤ k < n.
 * So 2A + T ≢ 0 unless both are 0, and 0 ≤ 2A, T < n gives 2A ≡ T only if 2A = T as integers;
 * both are written in base 2^96 with digits 2·floor(K_j / 2^(i+1)) < 2^96 (even) and t_j ∈ {0, 1},
 * so they are equal only when all digits are 0. The zero cases (accumulator or entry at
 * infinity) are the masked ones, as in scalar_mult.
 */
function scalar_mult_g(k: usize): void {
  memory.copy(ACC, G_COMB, 112);
  memory.copy(ACC + 112, ONE_M, FE);
  let qinf: u32 = 0xffffffff;
  for (let i = 95; i >= 0; i--) {
    if (i != 95) pt_double(ACC, ACC);
    // Bit 96j + i of k sits in byte 47 - 12j - i/8, bit i % 8 (public positions, secret bits).
    const byteIndex = 47 - (<usize>i >> 3);
    const sh = <u32>i & 7;
    const d = ((<u32>load<u8>(k + byteIndex) >> sh) & 1)
      | (((<u32>load<u8>(k + byteIndex - 12) >> sh) & 1) << 1)
      | (((<u32>load<u8>(k + byteIndex - 24) >> sh) & 1) << 2)
      | (((<u32>load<u8>(k + byteIndex - 36) >> sh) & 1) << 3);
    lookup_g(d);
    pt_add_mixed(SUM, ACC, PICK);
    const dzero = 0 - ((d - 1) >>> 31);
    select_acc(qinf, dzero);
    qinf &= dzero;
  }
}

/** 1 if the 48-byte big-endian scalar is in [1, n-1], else 0; constant time. */
function scalar_ok(k: usize): u32 {
  let borrow: u32 = 0;
  for (let i = 47; i >= 0; i--) {
    // Each difference is in -256..255; as u32 its top bit is the borrow.
    const d = <u32>load<u8>(k + <usize>i) - <u32>load<u8>(N_BYTES + <usize>i) - borrow;
    borrow = d >>> 31;
  }
  // borrow == 1 exactly when k < n.
  return borrow & (ctIsZeroBytes(k, 48) ^ 1);
}

/** Big-endian compare of public 48-byte values: 1 if a < b. */
function less_than_public(a: usize, b: usize): bool {
  for (let i: usize = 0; i < 48; i++) {
    const x = load<u8>(a + i), y = load<u8>(b + i);
    if (x != y) return x < y;
  }
  return false;
}

/** Writes the affine coordinates of ACC as big-endian bytes to xout (and yout unless 0).
 * Returns 0 if ACC is the point at infinity (Z ≡ 0). */
function acc_to_affine(xout: usize, yout: usize): u32 {
  const zinv = AZ;
  const ok = fe_iszero(ACC + 112) ^ 1;
  fe_inv(zinv, ACC + 112);
  fe_sqr(AY, zinv);
  fe_mul(AX, ACC, AY);
  fe_mul(AX, AX, ONE_RAW);
  fe_to_bytes(xout, AX);
  if (yout != 0) {
    fe_mul(AY, AY, zinv);
    fe_mul(AY, ACC + 56, AY);
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

/** pub97 = 04 ‖ x ‖ y of priv·G. Returns 0 (and writes nothing) unless priv is in [1, n-1]. */
export function p384_public(pub97: usize, priv48: usize): i32 {
  if (scalar_ok(priv48) == 0) return 0;
  scalar_mult_g(priv48);
  // k ∈ [1, n-1] and G has order n, so the result is never infinity. The scalar has been read
  // in full, so pub97 may overlap priv48.
  acc_to_affine(OUTBUF, OUTBUF + 48);
  store<u8>(pub97, 4);
  memory.copy(pub97 + 1, OUTBUF, 96);
  wipe_scratch();
  return 1;
}

/**
 * out48 = x-coordinate of priv·peer. Returns 0 (and writes nothing) unless priv is in [1, n-1]
 * and peer is exactly 04 ‖ x ‖ y (97 bytes) with x, y < p on y² = x³ - 3x + b, and the result
 * is not the point at infinity. The peer's key is public, so its checks branch; the scalar's
 * check is constant time and only its verdict steers control flow.
 */
export function p384_ecdh(out48: usize, priv48: usize, peer: usize, peerlen: usize): i32 {
  if (peerlen != 97 || load<u8>(peer) != 4) return 0;
  if (!less_than_public(peer + 1, P_BYTES) || !less_than_public(peer + 49, P_BYTES)) return 0;
  const x = AX, y = AY, lhs = F0, rhs = F1;
  fe_from_bytes(x, peer + 1);
  fe_from_bytes(y, peer + 49);
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
  if (scalar_ok(priv48) == 0) {
    wipe_scratch();
    return 0;
  }
  // scalar_mult reads the point from TABLE after copying it there; AX/AY are free again after.
  scalar_mult(x, y, priv48);
  const ok = acc_to_affine(OUTBUF, 0);
  if (ok != 0) memory.copy(out48, OUTBUF, 48);
  wipe_scratch();
  return <i32>ok;
}

/** A fresh key pair: priv48 uniform in [1, n-1] (rejection sampling; n > 2^384 - 2^190, so a
 * redraw is practically never needed, and it depends only on discarded randomness), pub97 its
 * uncompressed public point. */
export function p384_keygen(priv48: usize, pub97: usize): void {
  do {
    randomFill(priv48, 48);
  } while (scalar_ok(priv48) == 0);
  p384_public(pub97, priv48);
}
