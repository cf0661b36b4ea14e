// Signing latency through the key-server process (one request at a time, and pipelined), beside
// node:crypto signing in-process: the difference is what the process boundary costs a handshake.
//   node build.mjs --quiet --out DIR --modules none --tests keyserver && node DIR/test/keyserver/latency.bench.mjs
import { constants, randomBytes, sign, verify } from "node:crypto";
import { SignatureScheme } from "../../wasm/abi";
import { startKeyServer } from "../../src/keyserver/client";
import { loadKey } from "../../src/keyserver/keys";
import { tls13CertificateVerifyContent } from "../../src/keyserver/schemes";
import { buildKeyServerEntry, makeFixtures } from "./fixtures";

const f = makeFixtures();
const script = await buildKeyServerEntry(f.dir);
const ks = await startKeyServer({ script, keys: [f.rsaPkcs1, f.p256], stderr: "pipe", log: () => {} });
const local = [loadKey(f.rsaPkcs1), loadKey(f.p256)];
let handshake = 1n;

const CASES = [
  { name: "RSA-2048 rsa_pss_rsae_sha256", keyId: 0, scheme: SignatureScheme.RSA_PSS_RSAE_SHA256, n: 400 },
  { name: "P-256 ecdsa_secp256r1_sha256", keyId: 1, scheme: SignatureScheme.ECDSA_SECP256R1_SHA256, n: 2000 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log("signing latency, microseconds per operation (median of 5 rounds)");
console.log("scheme                          process seq   process pipelined(32)   node:crypto sign   node:crypto sign+verify");
for (const c of CASES) {
  const hash = randomBytes(32);
  const content = tls13CertificateVerifyContent(hash);
  const key = local[c.keyId].privateKey;
  const inProcess = () =>
    c.keyId === 0 ? sign("sha256", content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }) : sign("sha256", content, key);
  const pub = local[c.keyId].publicKey;
  // What the key server does per request: sign, then verify its own signature (strict mode).
  const inProcessChecked = () => {
    const sig = inProcess();
    return c.keyId === 0
      ? verify("sha256", content, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
      : verify("sha256", content, pub, sig);
  };
  const checked: number[] = [];
  const seq: number[] = [];
  const pipe: number[] = [];
  const nat: number[] = [];
  for (let round = 0; round < 6; round++) {
    let t0 = performance.now();
    for (let i = 0; i < c.n / 4; i++) await ks.sign(c.keyId, handshake++, c.scheme, hash);
    const s = ((performance.now() - t0) * 1000) / (c.n / 4);
    t0 = performance.now();
    for (let i = 0; i < c.n; i += 32) {
      await Promise.all(Array.from({ length: 32 }, () => ks.sign(c.keyId, handshake++, c.scheme, hash)));
    }
    const p = ((performance.now() - t0) * 1000) / c.n;
    t0 = performance.now();
    for (let i = 0; i < c.n / 4; i++) inProcess();
    const n = ((performance.now() - t0) * 1000) / (c.n / 4);
    t0 = performance.now();
    for (let i = 0; i < c.n / 4; i++) inProcessChecked();
    const v = ((performance.now() - t0) * 1000) / (c.n / 4);
    if (round > 0) {
      seq.push(s);
      pipe.push(p);
      nat.push(n);
      checked.push(v);
    }
  }
  console.log(`${c.name.padEnd(32)}${median(seq).toFixed(0).padStart(11)}${median(pipe).toFixed(0).padStart(24)}${median(nat).toFixed(0).padStart(19)}${median(checked).toFixed(0).padStart(26)}`);
}
await ks.close();
f.cleanup();
