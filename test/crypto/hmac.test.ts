// HMAC-SHA-256/384/512 (wasm/crypto/hmac.ts): Wycheproof vectors (truncated tags checked in
// constant time), differential tests against node:crypto, streaming and context reuse.
import { createHmac } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CryptoBox, cryptoBoxes, EDGE_LENGTHS, seededRandom } from "../helpers/cryptobox";
import { hex, loadVectors, unhex } from "../helpers/repo";

const test = suite("HMAC");
const boxes = await cryptoBoxes();

interface Alg { id: number; name: "sha256" | "sha384" | "sha512"; out: number; block: number }
const ALGS: Alg[] = [
  { id: 1, name: "sha256", out: 32, block: 64 },
  { id: 2, name: "sha384", out: 48, block: 128 },
  { id: 3, name: "sha512", out: 64, block: 128 },
];

const isTrap = (e: unknown): boolean => e instanceof WebAssembly.RuntimeError;
const nodeHmac = (alg: Alg, key: Uint8Array, data: Uint8Array): string => createHmac(alg.name, key).update(data).digest("hex");

function wasmHmac(box: CryptoBox, alg: Alg, key: Uint8Array, data: Uint8Array, misalign = 0): string {
  const a = box.arena();
  const k = a.put(key, 16, (misalign * 5 + 1) & 15);
  const p = a.put(data, 16, misalign);
  const o = a.alloc(alg.out, 16, (misalign * 3 + 2) & 15);
  box.x.hmac(alg.id, o, k, key.length, p, data.length);
  return hex(a.read(o, alg.out));
}

interface MacTest { tcId: number; comment: string; key: string; msg: string; tag: string; result: string; flags: string[] }
interface MacGroup { keySize: number; tagSize: number; tests: MacTest[] }

for (const box of boxes) {
  const v = box.variant;

  test(`${v}: context size`, () => {
    assert.ok(box.x.hmac_ctx_size() >= 3 * box.x.hash_ctx_size(), "inner, ipad and opad states");
  });

  for (const alg of ALGS) {
    test(`${v}: Wycheproof hmac_${alg.name}: valid tags verify, modified tags do not`, () => {
      const file = loadVectors<{ numberOfTests: number; testGroups: MacGroup[] }>(`wycheproof/hmac_${alg.name}_test.json`);
      let valid = 0;
      let invalid = 0;
      for (const group of file.testGroups) {
        const tagLen = group.tagSize / 8;
        for (const t of group.tests) {
          const key = unhex(t.key);
          const msg = unhex(t.msg);
          const tag = unhex(t.tag);
          assert.is(key.length * 8, group.keySize, `tcId ${t.tcId} key size`);
          assert.is(tag.length, tagLen, `tcId ${t.tcId} tag size`);
          const a = box.arena();
          const kp = a.put(key, 16, t.tcId & 15);
          const mp = a.put(msg, 16, (t.tcId >> 4) & 15);
          const tp = a.put(tag, 16, 7);
          // One shot, and the streaming API with the message in two pieces.
          const full = a.alloc(alg.out, 16, 1);
          box.x.hmac(alg.id, full, kp, key.length, mp, msg.length);
          const streamed = a.alloc(alg.out, 16, 3);
          const ctx = a.alloc(box.x.hmac_ctx_size(), 16, 5);
          box.x.hmac_init(ctx, alg.id, kp, key.length);
          const half = msg.length >> 1;
          box.x.hmac_update(ctx, mp, half);
          box.x.hmac_update(ctx, mp + half, msg.length - half);
          box.x.hmac_final(ctx, streamed);
          assert.is(hex(a.read(streamed, alg.out)), hex(a.read(full, alg.out)), `tcId ${t.tcId} streaming = one shot`);
          // Verification compares the leftmost tagSize/8 bytes in constant time.
          const verifies = box.x.ctEqualBytes(full, tp, tagLen);
          // Wycheproof's HMAC files hold only valid and invalid cases; an "acceptable" one would be
          // a legal MAC, so the decision is that it must verify like a valid one.
          if (t.result === "valid" || t.result === "acceptable") {
            assert.is(verifies, 1, `tcId ${t.tcId} (${t.comment}) must verify`);
            assert.is(hex(a.read(full, tagLen)), t.tag, `tcId ${t.tcId} tag`);
            valid++;
          } else {
            assert.is(t.result, "invalid", `tcId ${t.tcId} result`);
            assert.is(verifies, 0, `tcId ${t.tcId} (${t.comment}) must not verify`);
            invalid++;
          }
        }
      }
      assert.is(valid + invalid, file.numberOfTests, "every test ran");
      assert.ok(valid > 0 && invalid > 0);
    });
  }

  test(`${v}: 10,000 random keys and messages per algorithm against node:crypto`, () => {
    for (const alg of ALGS) {
      const next = seededRandom(0x4ac + alg.id);
      const cases: Array<[number, number]> = [];
      // Edge lengths for the message, and for the key (longer than a block: hashed first).
      for (const len of EDGE_LENGTHS) cases.push([32, len], [len, 3]);
      for (const len of [alg.block - 1, alg.block, alg.block + 1]) cases.push([len, 0], [len, alg.block]);
      while (cases.length < 10_000) {
        const r = next(3);
        cases.push([r[0] % 200, ((r[1] << 8) | r[2]) % 400]);
      }
      cases.forEach(([keyLen, len], i) => {
        const key = next(keyLen);
        const data = next(len);
        assert.is(wasmHmac(box, alg, key, data, i & 15), nodeHmac(alg, key, data), `${alg.name} key ${keyLen} data ${len} #${i}`);
      });
    }
  });

  test(`${v}: streaming split at every offset of 300 bytes, reusing one keyed context`, () => {
    const next = seededRandom(0x300);
    const data = next(300);
    for (const alg of ALGS) {
      for (const keyLen of [0, 32, alg.block + 9]) {
        const key = next(keyLen);
        const want = nodeHmac(alg, key, data);
        const a = box.arena();
        const kp = a.put(key, 16, 13);
        const p = a.put(data, 16, 7);
        const ctx = a.alloc(box.x.hmac_ctx_size(), 16, 1);
        const out = a.alloc(alg.out, 16, 5);
        // hmac_final restarts the context under the same key: init once, MAC 301 messages.
        box.x.hmac_init(ctx, alg.id, kp, keyLen);
        for (let i = 0; i <= 300; i++) {
          box.x.hmac_update(ctx, p, i);
          box.x.hmac_update(ctx, p + i, 300 - i);
          box.x.hmac_final(ctx, out);
          assert.is(hex(a.read(out, alg.out)), want, `${alg.name} key ${keyLen} split at ${i}`);
        }
        // A different message on the same context: nothing of the previous one lingers.
        box.x.hmac_update(ctx, p, 17);
        box.x.hmac_final(ctx, out);
        assert.is(hex(a.read(out, alg.out)), nodeHmac(alg, key, data.subarray(0, 17)));
      }
    }
  });

  test(`${v}: the tag may overwrite the key or the message; an unknown algorithm traps`, () => {
    const next = seededRandom(99);
    for (const alg of ALGS) {
      const key = next(40);
      const data = next(100);
      const a = box.arena();
      // Room for the whole tag where the 40-byte key sits.
      const kp = a.alloc(64);
      box.sandbox.bytes().set(key, kp);
      const p = a.put(data);
      box.x.hmac(alg.id, kp, kp, 40, p, 100);
      assert.is(hex(a.read(kp, alg.out)), nodeHmac(alg, key, data), `${alg.name} over the key`);
      const kp2 = a.put(key);
      box.x.hmac(alg.id, p, kp2, 40, p, 100);
      assert.is(hex(a.read(p, alg.out)), nodeHmac(alg, key, data), `${alg.name} over the message`);
    }
    const a = box.arena();
    const ctx = a.alloc(box.x.hmac_ctx_size());
    for (const bad of [0, 4]) {
      assert.throws(() => box.x.hmac_init(ctx, bad, ctx, 0), isTrap, `alg ${bad}`);
      assert.throws(() => box.x.hmac(bad, ctx, ctx, 0, ctx, 0), isTrap, `alg ${bad}`);
    }
  });
}

test.run();
