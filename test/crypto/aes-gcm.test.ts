// AES-128/256 and AES-GCM (wasm/crypto/aes.ts, ghash.ts, gcm.ts): FIPS-197 known answers,
// Wycheproof, differential tests against node:crypto, and tamper detection.
import { CipherGCMTypes, createCipheriv } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CryptoBox, EDGE_LENGTHS, cryptoBoxes, seededRandom } from "../helpers/cryptobox";
import { hex, loadVectors, unhex } from "../helpers/repo";

const test = suite("aes-gcm");
const boxes = await cryptoBoxes();

interface AeadTest {
  tcId: number; comment: string; flags: string[];
  key: string; iv: string; aad: string; msg: string; ct: string; tag: string;
  result: "valid" | "invalid" | "acceptable";
}
interface AeadGroup { keySize: number; ivSize: number; tagSize: number; tests: AeadTest[] }

function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): { ct: Uint8Array; tag: Uint8Array } {
  const alg: CipherGCMTypes = key.length === 16 ? "aes-128-gcm" : "aes-256-gcm";
  const c = createCipheriv(alg, key, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return { ct: new Uint8Array(ct), tag: new Uint8Array(c.getAuthTag()) };
}

function nodeEcb(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

/** One GCM context plus buffers in a fresh arena; every buffer can be misaligned. */
function setup(box: CryptoBox, key: Uint8Array, misalign = 0) {
  const a = box.arena();
  const ctx = a.alloc(box.x.gcm_ctx_size(), 16, misalign);
  const k = a.put(key, 16, misalign);
  assert.is(box.x.gcm_init(ctx, k, key.length), 1, "gcm_init");
  return { a, ctx };
}

interface SealResult { ct: Uint8Array; tag: Uint8Array }

/** Seals through the sandbox; `inPlace` encrypts the input buffer itself. */
function seal(box: CryptoBox, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array, mis = 0, inPlace = false): SealResult {
  const { a, ctx } = setup(box, key, mis);
  const n = a.put(nonce, 16, (mis + 3) & 15);
  const ad = a.put(aad, 16, (mis + 5) & 15);
  const inp = a.put(pt, 16, (mis + 7) & 15);
  const out = inPlace ? inp : a.alloc(pt.length, 16, (mis + 9) & 15);
  const tag = a.alloc(16, 16, (mis + 11) & 15);
  box.x.gcm_seal(ctx, n, ad, aad.length, inp, pt.length, out, tag);
  return { ct: a.read(out, pt.length), tag: a.read(tag, 16) };
}

/** Opens through the sandbox; returns null when rejected, after checking output was untouched. */
function open(box: CryptoBox, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array, mis = 0, inPlace = false): Uint8Array | null {
  const { a, ctx } = setup(box, key, mis);
  const n = a.put(nonce, 16, (mis + 1) & 15);
  const ad = a.put(aad, 16, (mis + 2) & 15);
  const inp = a.put(ct, 16, (mis + 4) & 15);
  const out = inPlace ? inp : a.alloc(ct.length, 16, (mis + 6) & 15);
  if (!inPlace) box.sandbox.bytes().fill(0xa5, out, out + ct.length);
  const t = a.put(tag, 16, (mis + 8) & 15);
  const ok = box.x.gcm_open(ctx, n, ad, aad.length, inp, ct.length, out, t);
  assert.ok(ok === 0 || ok === 1, `gcm_open returned ${ok}`);
  if (ok === 1) return a.read(out, ct.length);
  const after = a.read(out, ct.length);
  if (inPlace) assert.ok(Buffer.from(after).equals(Buffer.from(ct)), "rejected open modified the buffer");
  else assert.ok(after.every((b) => b === 0xa5), "rejected open wrote to output");
  return null;
}

const cat = (x: Uint8Array, y: Uint8Array): string => hex(x) + hex(y);

for (const box of boxes) {
  test(`${box.variant}: FIPS-197 AES block known answers`, () => {
    const cases = [
      // FIPS 197 Appendix B (cipher example) and Appendix C.1 / C.3.
      ["2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734", "3925841d02dc09fbdc118597196a0b32"],
      ["000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"],
      ["000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089"],
    ];
    for (const [key, pt, ct] of cases) {
      const { a, ctx } = setup(box, unhex(key));
      const inp = a.put(unhex(pt), 16, 1);
      const out = a.alloc(16, 16, 3);
      box.x.aes_encrypt_block(ctx, inp, out);
      assert.is(hex(a.read(out, 16)), ct, `key ${key}`);
      // In place.
      box.x.aes_encrypt_block(ctx, inp, inp);
      assert.is(hex(a.read(inp, 16)), ct, `key ${key} in place`);
    }
  });

  test(`${box.variant}: AES block encryption matches node:crypto (1000 random keys and blocks)`, () => {
    const rand = seededRandom(0xae5);
    for (let i = 0; i < 1000; i++) {
      const key = rand(i & 1 ? 32 : 16);
      const block = rand(16);
      const { a, ctx } = setup(box, key, i & 15);
      const p = a.put(block, 16, (i * 7) & 15);
      box.x.aes_encrypt_block(ctx, p, p);
      assert.is(hex(a.read(p, 16)), hex(nodeEcb(key, block)), `case ${i}`);
    }
  });

  test(`${box.variant}: gcm_init accepts only 16- and 32-byte keys`, () => {
    const a = box.arena();
    const ctx = a.alloc(box.x.gcm_ctx_size());
    const key = a.alloc(64);
    for (const len of [0, 1, 15, 17, 24, 31, 33, 64]) assert.is(box.x.gcm_init(ctx, key, len), 0, `keylen ${len}`);
    for (const len of [16, 32]) assert.is(box.x.gcm_init(ctx, key, len), 1, `keylen ${len}`);
  });

  test(`${box.variant}: Wycheproof aes_gcm_test.json (96-bit IV, 128-bit tag, AES-128 and AES-256)`, () => {
    const file = loadVectors<{ testGroups: AeadGroup[] }>("wycheproof/aes_gcm_test.json");
    const counts: Record<string, number> = {};
    for (const g of file.testGroups) {
      // TLS nonces are 96 bits and tags 128 bits; AES-192 is in no TLS suite and not offered.
      if (g.ivSize !== 96 || g.tagSize !== 128 || (g.keySize !== 128 && g.keySize !== 256)) continue;
      for (const t of g.tests) {
        const id = `tcId ${t.tcId} (${t.comment})`;
        counts[`${g.keySize} ${t.result}`] = (counts[`${g.keySize} ${t.result}`] ?? 0) + 1;
        const [key, iv, aad, msg, ct, tag] = [t.key, t.iv, t.aad, t.msg, t.ct, t.tag].map(unhex);
        const opened = open(box, key, iv, aad, ct, tag, t.tcId & 15);
        if (t.result === "invalid") {
          assert.is(opened, null, `${id} must be rejected`);
          continue;
        }
        // "acceptable" would be treated as valid (none exist in these groups: asserted below).
        const sealed = seal(box, key, iv, aad, msg, t.tcId & 15);
        assert.is(cat(sealed.ct, sealed.tag), t.ct + t.tag, `${id} seal`);
        assert.ok(opened !== null, `${id} must open`);
        assert.is(hex(opened!), t.msg, `${id} open`);
      }
    }
    assert.equal(counts, { "128 valid": 40, "128 invalid": 27, "256 valid": 39, "256 invalid": 27 });
  });

  test(`${box.variant}: differential against node:crypto, 10000 random inputs (edge lengths, misaligned, in place)`, () => {
    const rand = seededRandom(box.variant === "release" ? 0x6c3 : 0x6c4);
    const word = (): number => new DataView(rand(4).buffer).getUint32(0, true);
    const AAD_EDGES = [0, 1, 5, 13, 15, 16, 17, 63, 64, 65];
    let edgeCount = 0;
    for (let i = 0; i < 10000; i++) {
      const key = rand((i & 1) === 0 ? 16 : 32);
      const nonce = rand(12);
      let len: number;
      if (i % 8 === 0) len = EDGE_LENGTHS[(i >>> 3) % EDGE_LENGTHS.length]!;
      else if (i % 8 === 1) len = word() % 2048;
      else len = word() % 300;
      if (EDGE_LENGTHS.includes(len)) edgeCount++;
      const aadLen = i % 3 === 0 ? AAD_EDGES[word() % AAD_EDGES.length]! : word() % 100;
      const aad = rand(aadLen);
      const pt = rand(len);
      const mis = word() & 15;
      const inPlace = (i & 2) !== 0;
      const ref = nodeSeal(key, nonce, aad, pt);
      const got = seal(box, key, nonce, aad, pt, mis, inPlace);
      const what = `case ${i}: key ${key.length}, len ${len}, aad ${aadLen}, misalign ${mis}, in place ${inPlace}`;
      if (cat(got.ct, got.tag) !== cat(ref.ct, ref.tag)) assert.unreachable(`${what}: seal differs from node:crypto`);
      const back = open(box, key, nonce, aad, ref.ct, ref.tag, (mis + 5) & 15, !inPlace);
      if (back === null || hex(back) !== hex(pt)) assert.unreachable(`${what}: open of node's ciphertext failed`);
    }
    assert.ok(edgeCount >= EDGE_LENGTHS.length * 2, "every edge length was tried with both key sizes");
  });

  test(`${box.variant}: contexts are independent (two keys interleaved)`, () => {
    const rand = seededRandom(99);
    const k1 = rand(16), k2 = rand(32);
    const a = box.arena();
    const c1 = a.alloc(box.x.gcm_ctx_size(), 16, 3);
    const c2 = a.alloc(box.x.gcm_ctx_size(), 16, 5);
    assert.is(box.x.gcm_init(c1, a.put(k1), 16), 1);
    assert.is(box.x.gcm_init(c2, a.put(k2), 32), 1);
    for (let i = 0; i < 20; i++) {
      const key = i & 1 ? k2 : k1;
      const ctx = i & 1 ? c2 : c1;
      const nonce = rand(12), aad = rand(i), pt = rand(50 * i);
      const n = a.put(nonce), ad = a.put(aad), p = a.put(pt), o = a.alloc(pt.length), t = a.alloc(16);
      box.x.gcm_seal(ctx, n, ad, aad.length, p, pt.length, o, t);
      const ref = nodeSeal(key, nonce, aad, pt);
      assert.is(cat(a.read(o, pt.length), a.read(t, 16)), cat(ref.ct, ref.tag), `message ${i}`);
    }
  });

  test(`${box.variant}: flipping any bit of ciphertext, tag, AAD or nonce fails authentication`, () => {
    const rand = seededRandom(0xb17);
    const word = (): number => new DataView(rand(4).buffer).getUint32(0, true);
    for (const [keyLen, len, aadLen, sampled] of [[16, 37, 13, false], [32, 33, 5, false], [16, 16385, 64, true], [32, 4096, 13, true]] as const) {
      const key = rand(keyLen), nonce = rand(12), aad = rand(aadLen), pt = rand(len);
      const { ct, tag } = nodeSeal(key, nonce, aad, pt);
      assert.is(hex(open(box, key, nonce, aad, ct, tag)!), hex(pt), "untampered message opens");
      const bits = (n: number): number[] => {
        if (!sampled) return Array.from({ length: n * 8 }, (_, i) => i);
        // First and last bytes fully, the rest sampled.
        const picks = new Set<number>();
        for (let i = 0; i < 8 * Math.min(n, 4); i++) { picks.add(i); picks.add(n * 8 - 1 - i); }
        for (let i = 0; i < 150; i++) picks.add(word() % (n * 8));
        return [...picks];
      };
      const flip = (b: Uint8Array, bit: number): Uint8Array => { const c = b.slice(); c[bit >>> 3] ^= 1 << (bit & 7); return c; };
      for (const bit of bits(len)) assert.is(open(box, key, nonce, aad, flip(ct, bit), tag, bit & 15, (bit & 1) === 1), null, `ciphertext bit ${bit}`);
      for (let bit = 0; bit < 128; bit++) assert.is(open(box, key, nonce, aad, ct, flip(tag, bit)), null, `tag bit ${bit}`);
      for (const bit of bits(aadLen)) assert.is(open(box, key, nonce, flip(aad, bit), ct, tag), null, `aad bit ${bit}`);
      for (let bit = 0; bit < 96; bit += sampled ? 7 : 1) assert.is(open(box, key, flip(nonce, bit), aad, ct, tag), null, `nonce bit ${bit}`);
      // Truncating or extending the AAD or ciphertext changes the length block.
      assert.is(open(box, key, nonce, aad.subarray(1), ct, tag), null, "shorter AAD");
      assert.is(open(box, key, nonce, aad, ct.subarray(0, len - 1), tag), null, "shorter ciphertext");
    }
  });
}

test.run();
