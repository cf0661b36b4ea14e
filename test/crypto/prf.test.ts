// The TLS 1.2 PRF (wasm/crypto/prf.ts): the mailing-list known answers and a differential test
// against P_hash written here on node's HMAC.
import { createHmac } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CryptoBox, cryptoBoxes, EDGE_LENGTHS, seededRandom } from "../helpers/cryptobox";
import { hex, loadVectors, unhex } from "../helpers/repo";

const test = suite("TLS 1.2 PRF");
const boxes = await cryptoBoxes();

interface Alg { id: number; name: "sha256" | "sha384" | "sha512"; out: number }
const ALGS: Alg[] = [
  { id: 1, name: "sha256", out: 32 },
  { id: 2, name: "sha384", out: 48 },
  { id: 3, name: "sha512", out: 64 },
];
const BY_NAME: Record<string, Alg | undefined> = { "SHA-256": ALGS[0], "SHA-384": ALGS[1], "SHA-512": ALGS[2] };

/** Equal hex strings; on a mismatch, reports the first differing byte instead of uvu's string
 *  diff, which takes minutes on outputs of several kilobytes. */
function sameHex(got: string | null, want: string | null, msg: string): void {
  if (got === want) return;
  if (got === null || want === null) assert.unreachable(`${msg}: got ${got === null ? "failure" : "output"}, want ${want === null ? "failure" : "output"}`);
  let i = 0;
  while (i < got!.length && got![i] === want![i]) i++;
  const at = i & ~1;
  assert.unreachable(`${msg}: ${got!.length / 2} bytes, want ${want!.length / 2}; first difference at byte ${at / 2}: ${got!.slice(at, at + 32)} vs ${want!.slice(at, at + 32)}`);
}

const isTrap = (e: unknown): boolean => e instanceof WebAssembly.RuntimeError;

/** RFC 5246 §5, independently: A(0) = label || seed, A(i) = HMAC(A(i-1)), out = HMAC(A(i) || label || seed)... */
function refPrf(alg: Alg, secret: Uint8Array, label: Uint8Array, seed: Uint8Array, len: number): string {
  const s = Buffer.concat([label, seed]);
  const mac = (data: Uint8Array) => createHmac(alg.name, secret).update(data).digest();
  const out: Buffer[] = [];
  let a: Buffer = s;
  while (out.length * alg.out < len) {
    a = mac(a);
    out.push(mac(Buffer.concat([a, s])));
  }
  return Buffer.concat(out).subarray(0, len).toString("hex");
}

function wasmPrf(box: CryptoBox, alg: Alg, secret: Uint8Array, label: Uint8Array, seed: Uint8Array, len: number, misalign = 0): string {
  const a = box.arena();
  const sp = a.put(secret, 16, misalign);
  const lp = a.put(label, 16, (misalign + 5) & 15);
  const dp = a.put(seed, 16, (misalign + 10) & 15);
  const out = a.alloc(len, 16, (misalign * 3 + 1) & 15);
  box.x.tls12_prf(alg.id, out, len, sp, secret.length, lp, label.length, dp, seed.length);
  return hex(a.read(out, len));
}

interface PrfVector { prfHash: string; secret: string; label: string; labelHex: string; seed: string; outputLength: number; output: string }
const vectors = loadVectors<{ vectors: PrfVector[] }>("tls12-prf.json").vectors;

for (const box of boxes) {
  const v = box.variant;

  test(`${v}: known answers (P_SHA256, P_SHA384, P_SHA512)`, () => {
    let ran = 0;
    for (const t of vectors) {
      const alg = BY_NAME[t.prfHash];
      // P_SHA224 is in the file but no TLS 1.2 suite uses it, and the engine has no SHA-224.
      if (t.prfHash === "SHA-224") continue;
      assert.ok(alg, `unexpected hash ${t.prfHash}`);
      assert.is(hex(Buffer.from(t.label, "latin1")), t.labelHex);
      const got = wasmPrf(box, alg!, unhex(t.secret), unhex(t.labelHex), unhex(t.seed), t.outputLength, 3);
      sameHex(got, t.output, t.prfHash);
      ran++;
    }
    assert.is(ran, 3);
  });

  test(`${v}: the reference itself reproduces the known answers`, () => {
    for (const t of vectors) {
      const alg = BY_NAME[t.prfHash];
      if (alg === undefined) continue;
      assert.is(refPrf(alg, unhex(t.secret), unhex(t.labelHex), unhex(t.seed), t.outputLength), t.output);
    }
  });

  test(`${v}: 10,000 random inputs per hash against the reference`, () => {
    for (const alg of ALGS) {
      const next = seededRandom(0x12f + alg.id);
      const cases: Array<[number, number, number, number]> = [];
      for (const len of EDGE_LENGTHS) cases.push([len, 13, 64, 48], [48, len, 64, 12], [48, 13, len, 12]);
      for (const len of [0, 1, 12, alg.out - 1, alg.out, alg.out + 1, 104, 136, 1000]) cases.push([48, 13, 64, len]);
      while (cases.length < 10_000) {
        const r = next(4);
        // TLS uses 48-byte secrets (or a pre-master of any length), short labels, 64-byte seeds.
        cases.push([r[0] % 100, r[1] % 20, r[2] % 80, r[3] % 160]);
      }
      cases.forEach(([secretLen, labelLen, seedLen, len], i) => {
        const secret = next(secretLen);
        const label = next(labelLen);
        const seed = next(seedLen);
        sameHex(
          wasmPrf(box, alg, secret, label, seed, len, i & 15),
          refPrf(alg, secret, label, seed, len),
          `${alg.name} secret ${secretLen} label ${labelLen} seed ${seedLen} out ${len} #${i}`,
        );
      });
    }
  });

  test(`${v}: the output may overwrite the secret (master secret over the pre-master); unknown hash traps`, () => {
    for (const alg of ALGS) {
      const next = seededRandom(0x48);
      const secret = next(48);
      const label = Buffer.from("master secret", "latin1");
      const seed = next(64);
      const a = box.arena();
      const sp = a.put(secret);
      const lp = a.put(label);
      const dp = a.put(seed);
      box.x.tls12_prf(alg.id, sp, 48, sp, 48, lp, label.length, dp, 64);
      assert.is(hex(a.read(sp, 48)), refPrf(alg, secret, label, seed, 48), alg.name);
    }
    const a = box.arena();
    const buf = a.alloc(64);
    for (const bad of [0, 4]) assert.throws(() => box.x.tls12_prf(bad, buf, 12, buf, 8, buf, 4, buf, 4), isTrap, `alg ${bad}`);
  });
}

test.run();
