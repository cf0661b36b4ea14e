// Shared by the lab tests (test/isolation/*.lab.test.ts, test/lab/*.lab.ts): the TEST-ONLY engines
// with planted bugs (wasm/tls/lab.ts, built by `node build.mjs --lab`), and a sandbox factory that
// remembers its instances so a test can look at their memory.
import labHeartbleed from "../../build/engine.lab-heartbleed.wasm";
import labSpin from "../../build/engine.lab-spin.wasm";
import labTrap from "../../build/engine.lab-trap.wasm";
import { connect, type ConnectionOptions } from "node:tls";
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

/** Sends `payload` in pieces, half-closes, resolves with what came back before the server closed. */
export function echo(options: ConnectionOptions, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", minVersion: "TLSv1.3", ...options }, () => {
      for (let off = 0; off < payload.length; off += 16000) socket.write(payload.subarray(off, off + 16000));
      socket.end();
    });
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

/** Connects, sends the trigger after `delay` ms; resolves when the server cut the connection. */
export function poison(options: ConnectionOptions, trigger: string, delay: number): Promise<{ echoed: Buffer; error: string | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const socket = connect({ host: "127.0.0.1", minVersion: "TLSv1.3", ...options }, () => {
      setTimeout(() => socket.write(Buffer.from(`${trigger} and then some more bytes`)), delay);
    });
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (e) => { error = e.message; });
    socket.on("close", () => resolve({ echoed: Buffer.concat(chunks), error }));
  });
}
