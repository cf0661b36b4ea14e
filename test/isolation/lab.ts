// Shared by the lab tests (test/isolation/*.lab.test.ts, test/lab/*.lab.ts): the TEST-ONLY engines
// with planted bugs (wasm/tls/lab.ts, built by `node build.mjs --lab`), and a sandbox factory that
// remembers its instances so a test can look at their memory.
import labHeartbleed from "../../build/engine.lab-heartbleed.wasm";
import labSpin from "../../build/engine.lab-spin.wasm";
import labTrap from "../../build/engine.lab-trap.wasm";
import { fileURLToPath } from "node:url";
import type { SandboxFactory } from "../../src/sandbox/loader";
import { createTlsSandboxFactory } from "../../src/tls/session";

export const LAB_ENGINES = { trap: labTrap, spin: labSpin, heartbleed: labHeartbleed } as const;

export async function labFactory(kind: keyof typeof LAB_ENGINES): Promise<SandboxFactory> {
  return createTlsSandboxFactory(LAB_ENGINES[kind]);
}

/**
 * The lab program (OUT/tlsbox-lab.mjs, bundled by `node build.mjs --lab --out OUT` beside the lab
 * tests, which live in OUT/test/<dir>/): the real proxy, whose workers run the lab engine named by
 * TLSBOX_LAB_ENGINE.
 */
export const LAB_PROGRAM: string = fileURLToPath(new URL("../../tlsbox-lab.mjs", import.meta.url));
