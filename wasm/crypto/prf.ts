// The TLS 1.2 PRF (RFC 5246 §5): PRF(secret, label, seed) = P_hash(secret, label || seed), with
// P_hash(secret, s) = HMAC(secret, A(1) || s) || HMAC(secret, A(2) || s) || ...,
// A(0) = s, A(i) = HMAC(secret, A(i-1)).
//
// The secret keys one HMAC context once; every later HMAC reuses its precomputed pads (hmac.ts).
// label || seed is never concatenated: both are fed to HMAC in turn. Constant time follows from
// hmac.ts; only the public lengths steer the loop.
import { hmac_final, hmac_init, hmac_update } from "./hmac";
import { hash_output_len } from "./sha2";

/** The keyed HMAC context; wiped before tls12_prf returns. */
const prfCtx = memory.data(3 * 208, 16);
/** A(i), one digest. */
const chainA = memory.data(64, 16);
/** One output block, before it is cut to the remaining length. */
const outBlock = memory.data(64, 16);

/**
 * Writes `outlen` bytes of P_hash(secret, label || seed) to `out`. The hash is SHA-256 or SHA-384
 * as TLS 1.2 suites use (SHA-512 works too); an unknown id traps. `out` may overlap `secret`,
 * not `label` or `seed`.
 */
export function tls12_prf(alg: i32, out: usize, outlen: usize, secret: usize, secretlen: usize, label: usize, labellen: usize, seed: usize, seedlen: usize): void {
  const hashLen = <usize>hash_output_len(alg);
  if (hashLen == 0) unreachable();
  hmac_init(prfCtx, alg, secret, secretlen);
  // A(1) = HMAC(secret, label || seed).
  hmac_update(prfCtx, label, labellen);
  hmac_update(prfCtx, seed, seedlen);
  hmac_final(prfCtx, chainA);
  let done: usize = 0;
  while (done < outlen) {
    hmac_update(prfCtx, chainA, hashLen);
    hmac_update(prfCtx, label, labellen);
    hmac_update(prfCtx, seed, seedlen);
    hmac_final(prfCtx, outBlock);
    const n = outlen - done < hashLen ? outlen - done : hashLen;
    memory.copy(out + done, outBlock, n);
    done += n;
    if (done < outlen) {
      // A(i+1) = HMAC(secret, A(i)), in place: the context has absorbed A(i) before it is written.
      hmac_update(prfCtx, chainA, hashLen);
      hmac_final(prfCtx, chainA);
    }
  }
  memory.fill(prfCtx, 0, 3 * 208);
  memory.fill(chainA, 0, 64);
  memory.fill(outBlock, 0, 64);
}
