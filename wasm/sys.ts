// The sandbox's only ways out, besides the `tls_host` key-operation imports (DESIGN.md invariant 2).
// Anything imported here must also be on the allow-list in test/sandbox/imports.test.ts.

@external("wasi_snapshot_preview1", "random_get")
declare function wasi_random_get(buf: usize, len: usize): u16;

/**
 * Fills [ptr, ptr+len) with bytes from the host's CSPRNG. A failure of the host's generator is
 * not survivable (every key and nonce would be predictable), so it traps: the host sees the trap
 * and ends this one connection.
 */
export function randomFill(ptr: usize, len: usize): void {
  if (wasi_random_get(ptr, len) != 0) unreachable();
}

/**
 * Replaces AssemblyScript's default `abort` (which would import `env.abort`): a failed assertion
 * in the checked build, or an out-of-range access in the standard library, traps. The host reports
 * the trap; nothing crosses the boundary but the fact that it happened.
 */
export function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  unreachable();
}
