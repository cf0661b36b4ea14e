// Entry point of the crypto-only module (build/crypto.*.wasm): the primitives' public API exactly
// as the TLS engine uses it, for known-answer tests, differential tests and benchmarks. The
// engine compiles the very same sources.
export * from "./ct";
export * from "./sha2";
export * from "./hmac";
export * from "./hkdf";
export * from "./prf";
export * from "./aes";
export * from "./ghash";
export * from "./gcm";
export * from "./chacha20";
export * from "./poly1305";
export * from "./chacha20poly1305";
export * from "./x25519";
export * from "./p256";

import { randomFill } from "../sys";

/** The tests' and benchmarks' working area: inputs are copied here, outputs read from here. */
const IO_BYTES: i32 = 1 << 20;
const io = memory.data(IO_BYTES, 64);

export function io_ptr(): usize {
  return io;
}

export function io_size(): i32 {
  return IO_BYTES;
}

/** Fills [ptr, ptr+len) through the WASI randomness import (exercises the checked path). */
export function random_fill(ptr: usize, len: usize): void {
  randomFill(ptr, len);
}
