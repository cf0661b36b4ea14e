// Constant-time building blocks shared by the primitives and the TLS layer.
//
// Control values are exactly 0 or 1 (as in BearSSL's inner.h), masks are 0 or all-ones; nothing
// here branches on, or indexes memory by, its arguments' values.

/** 1 if the `len` bytes at a and b are equal, else 0; reads every byte whatever it finds. */
export function ctEqualBytes(a: usize, b: usize, len: usize): u32 {
  let diff: u32 = 0;
  for (let i: usize = 0; i < len; i++) {
    diff |= <u32>load<u8>(a + i) ^ <u32>load<u8>(b + i);
  }
  // diff is in 0..255; (diff - 1) has its top bit set exactly when diff == 0.
  return (diff - 1) >>> 31;
}

/** 1 if all `len` bytes at p are zero, else 0. */
export function ctIsZeroBytes(p: usize, len: usize): u32 {
  let acc: u32 = 0;
  for (let i: usize = 0; i < len; i++) acc |= <u32>load<u8>(p + i);
  return (acc - 1) >>> 31;
}

/** All-ones if ctl == 1, zero if ctl == 0. */
// @ts-ignore: decorator
@inline export function ctMask(ctl: u32): u32 {
  return 0 - ctl;
}

/** x if ctl == 1, y if ctl == 0. */
// @ts-ignore: decorator
@inline export function ctSelect(ctl: u32, x: u32, y: u32): u32 {
  return y ^ ((0 - ctl) & (x ^ y));
}

/** Overwrites secrets that are no longer needed (keys on rekey and on close). */
export function wipe(p: usize, len: usize): void {
  memory.fill(p, 0, len);
}
