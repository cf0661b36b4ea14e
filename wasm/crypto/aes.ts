// AES-128 and AES-256 encryption (FIPS 197), bitsliced over WebAssembly SIMD.
//
// Constant time by construction: the S-box is a boolean circuit (Boyar and Peralta, "A new
// combinational logic minimization technique with applications to cryptology", 2009/191, the
// 113-gate circuit), ShiftRows and MixColumns are fixed byte shuffles and XORs, so no branch and no
// memory address depends on the key or the data. Only the round count (from the public key
// length) steers control flow.
//
// Representation. Eight 16-byte blocks are processed together as eight v128 "bit planes" q0..q7:
// byte lane j of plane k holds bit k of state byte j of all eight blocks, block b in bit b. State
// byte j is row j % 4, column j / 4 (FIPS 197 §3.4), so every row/column permutation of the state
// is the same i8x16.shuffle applied to each plane, and every bitwise operation on a plane works
// on the same bit of 128 state bytes at once.
//
// The conversion between eight blocks and eight planes is an 8x8 bit transpose within every byte
// position (transpose8), done with three rounds of swap-moves; it is its own inverse.
//
// Context layout (AES_CTX_SIZE bytes, any alignment):
//   0    u32  number of rounds Nr (10 or 14; public)
//   16   (Nr + 1) bitsliced round keys, 128 bytes each: plane k of round key r at 16 + 128r + 16k,
//        every byte 0x00 or 0xFF (the key is the same for all eight blocks). For r >= 1 the
//        S-box's affine constant 0x63 is folded in (see below).

const CTX_NR: usize = 0;
const CTX_RK: usize = 16;
export const AES_CTX_SIZE: i32 = 16 + 15 * 128;

// Scratch for the key expansion (up to 60 words) and for one-block and key-schedule S-box calls.
const expanded = memory.data(240, 16);
const blockScratch = memory.data(128, 16);
// Round keys of the "one S-box layer" cipher used by the key schedule: all zero, so the core
// computes ShiftRows(SubBytes(x)) ^ 0x63 (the S-box layer without its constant, see aesCore8).
const zeroKeys = memory.data(256, 16);
// The round constants of the key expansion (FIPS 197 §5.2); public, indexed by round number.
const RCON = memory.data<u8>([0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36]);

// @ts-ignore: decorator
@inline function xo(a: v128, b: v128): v128 { return v128.xor(a, b); }
// @ts-ignore: decorator
@inline function an(a: v128, b: v128): v128 { return v128.and(a, b); }

/**
 * Swap-move on plane pairs: exchanges the bits of `a` at positions p + n (p in the mask) with the
 * bits of `b` at p. The i64x2 shifts carry bits across byte boundaries, but only into positions
 * the mask clears (mask bytes 0x55/0x33/0x0F keep bit positions < 8 - n after a right shift by n,
 * and the shifted-back value stays inside its byte), so it acts on each byte lane independently.
 */
// @ts-ignore: decorator
@inline function swapDelta(a: v128, b: v128, mask: v128, n: i32): v128 {
  return an(xo(i64x2.shr_u(a, n), b), mask);
}

/**
 * In-place 8x8 bit transpose at every byte position of the eight v128 at p: afterwards, bit k of
 * byte j of register b becomes bit b of byte j of register k. Each stage swaps one bit of the
 * register index with the same bit of the bit position, so the three stages commute and the whole
 * is an involution: the same call converts blocks to planes and planes back to blocks.
 */
function transpose8(p: usize): void {
  let r0 = v128.load(p, 0); let r1 = v128.load(p, 16);
  let r2 = v128.load(p, 32); let r3 = v128.load(p, 48);
  let r4 = v128.load(p, 64); let r5 = v128.load(p, 80);
  let r6 = v128.load(p, 96); let r7 = v128.load(p, 112);
  const m1 = i8x16.splat(0x55);
  const m2 = i8x16.splat(0x33);
  const m4 = i8x16.splat(0x0f);
  let t: v128;
  // Register bit 0 <-> bit-position bit 0.
  t = swapDelta(r0, r1, m1, 1); r1 = xo(r1, t); r0 = xo(r0, i64x2.shl(t, 1));
  t = swapDelta(r2, r3, m1, 1); r3 = xo(r3, t); r2 = xo(r2, i64x2.shl(t, 1));
  t = swapDelta(r4, r5, m1, 1); r5 = xo(r5, t); r4 = xo(r4, i64x2.shl(t, 1));
  t = swapDelta(r6, r7, m1, 1); r7 = xo(r7, t); r6 = xo(r6, i64x2.shl(t, 1));
  // Register bit 1 <-> bit-position bit 1.
  t = swapDelta(r0, r2, m2, 2); r2 = xo(r2, t); r0 = xo(r0, i64x2.shl(t, 2));
  t = swapDelta(r1, r3, m2, 2); r3 = xo(r3, t); r1 = xo(r1, i64x2.shl(t, 2));
  t = swapDelta(r4, r6, m2, 2); r6 = xo(r6, t); r4 = xo(r4, i64x2.shl(t, 2));
  t = swapDelta(r5, r7, m2, 2); r7 = xo(r7, t); r5 = xo(r5, i64x2.shl(t, 2));
  // Register bit 2 <-> bit-position bit 2.
  t = swapDelta(r0, r4, m4, 4); r4 = xo(r4, t); r0 = xo(r0, i64x2.shl(t, 4));
  t = swapDelta(r1, r5, m4, 4); r5 = xo(r5, t); r1 = xo(r1, i64x2.shl(t, 4));
  t = swapDelta(r2, r6, m4, 4); r6 = xo(r6, t); r2 = xo(r2, i64x2.shl(t, 4));
  t = swapDelta(r3, r7, m4, 4); r7 = xo(r7, t); r3 = xo(r3, i64x2.shl(t, 4));
  v128.store(p, r0, 0); v128.store(p, r1, 16);
  v128.store(p, r2, 32); v128.store(p, r3, 48);
  v128.store(p, r4, 64); v128.store(p, r5, 80);
  v128.store(p, r6, 96); v128.store(p, r7, 112);
}

/**
 * Encrypts the eight blocks at p (128 bytes) in place with the bitsliced round keys at rk.
 *
 * The S-box circuit leaves out the XNORs that add the affine constant 0x63 (bits 0, 1, 5, 6):
 * a constant byte c in every position passes ShiftRows unchanged and MixColumns too (each output
 * byte is 2c ^ 3c ^ c ^ c = c), so adding it to round keys 1..Nr instead (aes_init inverts planes
 * 0, 1, 5 and 6 of those keys) gives the same result with four fewer operations per round.
 */
function aesCore8(rk: usize, nr: i32, p: usize): void {
  transpose8(p);
  // AddRoundKey 0.
  let q0 = xo(v128.load(p, 0), v128.load(rk, 0));
  let q1 = xo(v128.load(p, 16), v128.load(rk, 16));
  let q2 = xo(v128.load(p, 32), v128.load(rk, 32));
  let q3 = xo(v128.load(p, 48), v128.load(rk, 48));
  let q4 = xo(v128.load(p, 64), v128.load(rk, 64));
  let q5 = xo(v128.load(p, 80), v128.load(rk, 80));
  let q6 = xo(v128.load(p, 96), v128.load(rk, 96));
  let q7 = xo(v128.load(p, 112), v128.load(rk, 112));
  for (let r = 1; r <= nr; r++) {
    // SubBytes: the Boyar–Peralta circuit; x0 is the most significant bit of each byte.
    const x0 = q7, x1 = q6, x2 = q5, x3 = q4, x4 = q3, x5 = q2, x6 = q1, x7 = q0;
    // Top linear layer.
    const y14 = xo(x3, x5);
    const y13 = xo(x0, x6);
    const y9 = xo(x0, x3);
    const y8 = xo(x0, x5);
    const t0 = xo(x1, x2);
    const y1 = xo(t0, x7);
    const y4 = xo(y1, x3);
    const y12 = xo(y13, y14);
    const y2 = xo(y1, x0);
    const y5 = xo(y1, x6);
    const y3 = xo(y5, y8);
    const t1 = xo(x4, y12);
    const y15 = xo(t1, x5);
    const y20 = xo(t1, x1);
    const y6 = xo(y15, x7);
    const y10 = xo(y15, t0);
    const y11 = xo(y20, y9);
    const y7 = xo(x7, y11);
    const y17 = xo(y10, y11);
    const y19 = xo(y10, y8);
    const y16 = xo(t0, y11);
    const y21 = xo(y13, y16);
    const y18 = xo(x0, y16);
    // Middle, non-linear layer: inversion in GF(2^4)^2 expressed over GF(2).
    const t2 = an(y12, y15);
    const t3 = an(y3, y6);
    const t4 = xo(t3, t2);
    const t5 = an(y4, x7);
    const t6 = xo(t5, t2);
    const t7 = an(y13, y16);
    const t8 = an(y5, y1);
    const t9 = xo(t8, t7);
    const t10 = an(y2, y7);
    const t11 = xo(t10, t7);
    const t12 = an(y9, y11);
    const t13 = an(y14, y17);
    const t14 = xo(t13, t12);
    const t15 = an(y8, y10);
    const t16 = xo(t15, t12);
    const t17 = xo(t4, t14);
    const t18 = xo(t6, t16);
    const t19 = xo(t9, t14);
    const t20 = xo(t11, t16);
    const t21 = xo(t17, y20);
    const t22 = xo(t18, y19);
    const t23 = xo(t19, y21);
    const t24 = xo(t20, y18);
    const t25 = xo(t21, t22);
    const t26 = an(t21, t23);
    const t27 = xo(t24, t26);
    const t28 = an(t25, t27);
    const t29 = xo(t28, t22);
    const t30 = xo(t23, t24);
    const t31 = xo(t22, t26);
    const t32 = an(t31, t30);
    const t33 = xo(t32, t24);
    const t34 = xo(t23, t33);
    const t35 = xo(t27, t33);
    const t36 = an(t24, t35);
    const t37 = xo(t36, t34);
    const t38 = xo(t27, t36);
    const t39 = an(t29, t38);
    const t40 = xo(t25, t39);
    const t41 = xo(t40, t37);
    const t42 = xo(t29, t33);
    const t43 = xo(t29, t40);
    const t44 = xo(t33, t37);
    const t45 = xo(t42, t41);
    const z0 = an(t44, y15);
    const z1 = an(t37, y6);
    const z2 = an(t33, x7);
    const z3 = an(t43, y16);
    const z4 = an(t40, y1);
    const z5 = an(t29, y7);
    const z6 = an(t42, y11);
    const z7 = an(t45, y17);
    const z8 = an(t41, y10);
    const z9 = an(t44, y12);
    const z10 = an(t37, y3);
    const z11 = an(t33, y4);
    const z12 = an(t43, y13);
    const z13 = an(t40, y5);
    const z14 = an(t29, y2);
    const z15 = an(t42, y9);
    const z16 = an(t45, y14);
    const z17 = an(t41, y8);
    // Bottom linear layer (without the 0x63 constant, see above).
    const t46 = xo(z15, z16);
    const t47 = xo(z10, z11);
    const t48 = xo(z5, z13);
    const t49 = xo(z9, z10);
    const t50 = xo(z2, z12);
    const t51 = xo(z2, z5);
    const t52 = xo(z7, z8);
    const t53 = xo(z0, z3);
    const t54 = xo(z6, z7);
    const t55 = xo(z16, z17);
    const t56 = xo(z12, t48);
    const t57 = xo(t50, t53);
    const t58 = xo(z4, t46);
    const t59 = xo(z3, t54);
    const t60 = xo(t46, t57);
    const t61 = xo(z14, t57);
    const t62 = xo(t52, t58);
    const t63 = xo(t49, t58);
    const t64 = xo(z4, t59);
    const t65 = xo(t61, t62);
    const t66 = xo(z1, t63);
    const t67 = xo(t64, t65);
    const s3 = xo(t53, t66);
    q7 = xo(t59, t63);   // s0
    q6 = xo(t64, s3);    // s1 (complemented by the round key)
    q5 = xo(t55, t67);   // s2 (complemented by the round key)
    q4 = s3;             // s3
    q3 = xo(t51, t66);   // s4
    q2 = xo(t47, t65);   // s5
    q1 = xo(t56, t62);   // s6 (complemented by the round key)
    q0 = xo(t48, t60);   // s7 (complemented by the round key)

    if (r != nr) {
      // ShiftRows then MixColumns. With a' = ShiftRows(a) and rot1/rot2 rotating each column by
      // one/two rows, MixColumns is 2(a' ^ rot1 a') ^ rot1 a' ^ rot2(a' ^ rot1 a'): row i gets
      // 2a'_i ^ 3a'_{i+1} ^ a'_{i+2} ^ a'_{i+3}. rot1(ShiftRows(a)) is a single shuffle of a.
      const s0 = i8x16.shuffle(q0, q0, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const s1 = i8x16.shuffle(q1, q1, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const s2 = i8x16.shuffle(q2, q2, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const s3 = i8x16.shuffle(q3, q3, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const s4 = i8x16.shuffle(q4, q4, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const s5 = i8x16.shuffle(q5, q5, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const s6 = i8x16.shuffle(q6, q6, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const s7 = i8x16.shuffle(q7, q7, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      const u0 = i8x16.shuffle(q0, q0, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const u1 = i8x16.shuffle(q1, q1, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const u2 = i8x16.shuffle(q2, q2, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const u3 = i8x16.shuffle(q3, q3, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const u4 = i8x16.shuffle(q4, q4, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const u5 = i8x16.shuffle(q5, q5, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const u6 = i8x16.shuffle(q6, q6, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const u7 = i8x16.shuffle(q7, q7, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12);
      const w0 = xo(s0, u0), w1 = xo(s1, u1), w2 = xo(s2, u2), w3 = xo(s3, u3);
      const w4 = xo(s4, u4), w5 = xo(s5, u5), w6 = xo(s6, u6), w7 = xo(s7, u7);
      // Multiplication by x in GF(2^8) on planes: a shift of the plane index, with the bit
      // leaving the top (plane 7) folded back by x^8 = x^4 + x^3 + x + 1 into planes 0, 1, 3, 4.
      q0 = xo(xo(w7, u0), i8x16.shuffle(w0, w0, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      q1 = xo(xo(xo(w0, w7), u1), i8x16.shuffle(w1, w1, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      q2 = xo(xo(w1, u2), i8x16.shuffle(w2, w2, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      q3 = xo(xo(xo(w2, w7), u3), i8x16.shuffle(w3, w3, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      q4 = xo(xo(xo(w3, w7), u4), i8x16.shuffle(w4, w4, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      q5 = xo(xo(w4, u5), i8x16.shuffle(w5, w5, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      q6 = xo(xo(w5, u6), i8x16.shuffle(w6, w6, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
      q7 = xo(xo(w6, u7), i8x16.shuffle(w7, w7, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
    } else {
      // Last round: ShiftRows only. Row i of column c moves to column c - i.
      q0 = i8x16.shuffle(q0, q0, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      q1 = i8x16.shuffle(q1, q1, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      q2 = i8x16.shuffle(q2, q2, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      q3 = i8x16.shuffle(q3, q3, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      q4 = i8x16.shuffle(q4, q4, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      q5 = i8x16.shuffle(q5, q5, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      q6 = i8x16.shuffle(q6, q6, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
      q7 = i8x16.shuffle(q7, q7, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
    }
    // AddRoundKey r.
    const k = rk + (<usize>r << 7);
    q0 = xo(q0, v128.load(k, 0));
    q1 = xo(q1, v128.load(k, 16));
    q2 = xo(q2, v128.load(k, 32));
    q3 = xo(q3, v128.load(k, 48));
    q4 = xo(q4, v128.load(k, 64));
    q5 = xo(q5, v128.load(k, 80));
    q6 = xo(q6, v128.load(k, 96));
    q7 = xo(q7, v128.load(k, 112));
  }
  v128.store(p, q0, 0); v128.store(p, q1, 16);
  v128.store(p, q2, 32); v128.store(p, q3, 48);
  v128.store(p, q4, 64); v128.store(p, q5, 80);
  v128.store(p, q6, 96); v128.store(p, q7, 112);
  transpose8(p);
}

/**
 * SubWord of the key expansion: the four bytes of w (little-endian, byte 0 lowest) through the
 * S-box. They are placed at state bytes 0, 5, 10 and 15, which ShiftRows moves to bytes 0..3, and
 * pushed through one round of a cipher with all-zero keys (no MixColumns in a last round).
 */
function subWord(w: u32): u32 {
  const p = blockScratch;
  memory.fill(p, 0, 128);
  store<u8>(p, <u8>w, 0);
  store<u8>(p, <u8>(w >>> 8), 5);
  store<u8>(p, <u8>(w >>> 16), 10);
  store<u8>(p, <u8>(w >>> 24), 15);
  aesCore8(zeroKeys, 1, p);
  const r = load<u32>(p) ^ 0x63636363;
  memory.fill(p, 0, 128);
  return r;
}

/** Bytes an AES context needs. */
export function aes_ctx_size(): i32 {
  return AES_CTX_SIZE;
}

/**
 * Expands a 16- or 32-byte key (FIPS 197 §5.2) into ctx; 0 (and nothing written) for any other
 * length. AES-192 is not offered: TLS has no suite using it.
 */
export function aes_init(ctx: usize, key: usize, keylen: i32): i32 {
  if (keylen != 16 && keylen != 32) return 0;
  const nk = keylen >>> 2;
  const nr = nk + 6;
  const total = (nr + 1) << 2;
  const w = expanded;
  memory.copy(w, key, <usize>keylen);
  for (let i = nk; i < total; i++) {
    // Words are kept little-endian, so RotWord (bytes 1,2,3,0) is a right rotation by 8.
    let t = load<u32>(w + (<usize>(i - 1) << 2));
    const j = i % nk;
    if (j == 0) {
      t = subWord(rotr<u32>(t, 8)) ^ <u32>load<u8>(RCON + <usize>(i / nk - 1));
    } else if (nk > 6 && j == 4) {
      t = subWord(t);
    }
    store<u32>(w + (<usize>i << 2), t ^ load<u32>(w + (<usize>(i - nk) << 2)));
  }
  store<u32>(ctx + CTX_NR, <u32>nr);
  // Bitslice each round key: plane k gets 0xFF in byte j iff bit k of key byte j is set, found by
  // moving bit k to the sign bit and shifting it arithmetically across the byte.
  for (let r = 0; r <= nr; r++) {
    const kb = v128.load(w + (<usize>r << 4));
    const dst = ctx + CTX_RK + (<usize>r << 7);
    // Planes 0, 1, 5 and 6 of keys 1..Nr carry the S-box constant 0x63 (see aesCore8).
    const c = r == 0 ? i8x16.splat(0) : i8x16.splat(-1);
    v128.store(dst, xo(i8x16.shr_s(i8x16.shl(kb, 7), 7), c), 0);
    v128.store(dst, xo(i8x16.shr_s(i8x16.shl(kb, 6), 7), c), 16);
    v128.store(dst, i8x16.shr_s(i8x16.shl(kb, 5), 7), 32);
    v128.store(dst, i8x16.shr_s(i8x16.shl(kb, 4), 7), 48);
    v128.store(dst, i8x16.shr_s(i8x16.shl(kb, 3), 7), 64);
    v128.store(dst, xo(i8x16.shr_s(i8x16.shl(kb, 2), 7), c), 80);
    v128.store(dst, xo(i8x16.shr_s(i8x16.shl(kb, 1), 7), c), 96);
    v128.store(dst, i8x16.shr_s(kb, 7), 112);
  }
  memory.fill(w, 0, 240);
  return 1;
}

/** Encrypts one 16-byte block (tests, and the GHASH key); in and out may be the same. */
export function aes_encrypt_block(ctx: usize, input: usize, output: usize): void {
  const p = blockScratch;
  memory.copy(p, input, 16);
  aesCore8(ctx + CTX_RK, <i32>load<u32>(ctx + CTX_NR), p);
  memory.copy(output, p, 16);
  memory.fill(p, 0, 128);
}

/**
 * Eight CTR-mode keystream blocks to dst (128 bytes): the encryptions of nonce12 ‖ BE32(ctr + i)
 * for i = 0..7, the counter wrapping modulo 2^32 as GCM's inc32 does. The nonce and counter are
 * public.
 */
export function aes_ctr8(ctx: usize, nonce12: usize, ctr: u32, dst: usize): void {
  const base = v128.load32_lane(nonce12, v128.load64_zero(nonce12), 2, 8);
  for (let i: u32 = 0; i < 8; i++) {
    v128.store(dst + (<usize>i << 4), i32x4.replace_lane(base, 3, bswap<u32>(ctr + i)));
  }
  aesCore8(ctx + CTX_RK, <i32>load<u32>(ctx + CTX_NR), dst);
}
