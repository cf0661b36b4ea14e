// The TLS engine's entry point (the sandbox ABI). The TLS 1.3 server lands with issue 3; until
// then the module exposes only what the loader tests need.
import { Abi } from "./abi";
import { randomFill } from "./sys";

const scratch = memory.data(32, 16);

/** ABI version: the host refuses a module whose version it does not know. */
export function tlsbox_abi_version(): i32 {
  return Abi.VERSION;
}

/** Draws 4 random bytes through WASI, proving the import path works. */
export function tlsbox_random_u32(): u32 {
  randomFill(scratch, 4);
  return load<u32>(scratch);
}
