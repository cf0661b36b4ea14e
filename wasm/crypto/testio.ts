// The working area of the crypto-only module, for tests and benchmarks.
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
