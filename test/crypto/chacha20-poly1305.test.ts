// ChaCha20, Poly1305 and AEAD_CHACHA20_POLY1305 (RFC 8439) in the sandbox, both build variants:
// RFC 8439 known answers, Wycheproof, and differential tests against node:crypto (ChaCha20 and
// the AEAD) or a BigInt model of the RFC's definition (Poly1305, which node:crypto lacks).
import { createCipheriv, createDecipheriv } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type CryptoBox, cryptoBoxes, EDGE_LENGTHS, seededRandom } from "../helpers/cryptobox";
import { hex, loadVectors, unhex } from "../helpers/repo";

const test = suite("chacha20-poly1305");
const boxes = await cryptoBoxes();

/** Random inputs per primitive and per variant. */
const RANDOM_CASES = 10_000;

const KEY_00_1F = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const SUNSCREEN = new TextEncoder().encode(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
);

// ---- node:crypto and BigInt references ----

function nodeChacha(key: Uint8Array, nonce: Uint8Array, counter: number, data: Uint8Array): Uint8Array {
  // OpenSSL's "chacha20" IV is the 32-bit little-endian block counter followed by the nonce.
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  iv.set(nonce, 4);
  const c = createCipheriv("chacha20", key, iv);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): { ct: Uint8Array; tag: Uint8Array } {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: pt.length });
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return { ct: new Uint8Array(ct), tag: new Uint8Array(c.getAuthTag()) };
}

function nodeOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array): Uint8Array | null {
  const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  d.setAAD(aad, { plaintextLength: ct.length });
  d.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
  } catch {
    return null;
  }
}

const leBig = (b: Uint8Array): bigint => {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
};

/** Poly1305 straight from RFC 8439 §2.5.1, in BigInt arithmetic. */
function refPoly1305(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const P = (1n << 130n) - 5n;
  const r = leBig(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leBig(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, Math.min(i + 16, msg.length));
    const n = leBig(block) | (1n << BigInt(8 * block.length));
    acc = ((acc + n) * r) % P;
  }
  let tag = (acc + s) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++, tag >>= 8n) out[i] = Number(tag & 0xffn);
  return out;
}

// ---- calls into the sandbox ----

interface Placement {
  misalign?: number;
  inPlace?: boolean;
}

function sbChacha(box: CryptoBox, key: Uint8Array, nonce: Uint8Array, counter: number, data: Uint8Array, at: Placement = {}): Uint8Array {
  const a = box.arena();
  const m = at.misalign ?? 0;
  const k = a.put(key, 16, (m + 3) % 16);
  const n = a.put(nonce, 16, (m + 5) % 16);
  const inp = a.put(data, 16, m);
  const out = at.inPlace ? inp : a.alloc(data.length, 16, (m + 7) % 16);
  box.x.chacha20_xor(k, n, counter, inp, data.length, out);
  return a.read(out, data.length);
}

function sbPoly(box: CryptoBox, key: Uint8Array, msg: Uint8Array, misalign = 0): Uint8Array {
  const a = box.arena();
  const k = a.put(key, 16, (misalign + 9) % 16);
  const m = a.put(msg, 16, misalign);
  const out = a.alloc(16, 16, (misalign + 1) % 16);
  box.x.poly1305_mac(out, k, m, msg.length);
  return a.read(out, 16);
}

function sbSeal(box: CryptoBox, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array, at: Placement = {}): { ct: Uint8Array; tag: Uint8Array } {
  const a = box.arena();
  const m = at.misalign ?? 0;
  const k = a.put(key, 16, (m + 1) % 16);
  const n = a.put(nonce, 16, (m + 2) % 16);
  const ad = a.put(aad, 16, (m + 3) % 16);
  const inp = a.put(pt, 16, m);
  const out = at.inPlace ? inp : a.alloc(pt.length, 16, (m + 4) % 16);
  const tag = a.alloc(16, 16, (m + 5) % 16);
  box.x.chacha20_poly1305_seal(k, n, ad, aad.length, inp, pt.length, out, tag);
  return { ct: a.read(out, pt.length), tag: a.read(tag, 16) };
}

/**
 * Opens in the sandbox. On failure also checks that the output buffer (pre-filled with 0xa5, or
 * the ciphertext itself when in place) was not written.
 */
function sbOpen(box: CryptoBox, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array, at: Placement = {}): Uint8Array | null {
  const a = box.arena();
  const m = at.misalign ?? 0;
  const k = a.put(key, 16, (m + 1) % 16);
  const n = a.put(nonce, 16, (m + 2) % 16);
  const ad = a.put(aad, 16, (m + 3) % 16);
  const inp = a.put(ct, 16, m);
  const sentinel = new Uint8Array(ct.length).fill(0xa5);
  const out = at.inPlace ? inp : a.put(sentinel, 16, (m + 4) % 16);
  const t = a.put(tag, 16, (m + 5) % 16);
  const ok = box.x.chacha20_poly1305_open(k, n, ad, aad.length, inp, ct.length, out, t);
  assert.ok(ok === 0 || ok === 1, `open returned ${ok}`);
  const written = a.read(out, ct.length);
  if (ok === 1) return written;
  assert.equal(hex(written), hex(at.inPlace ? ct : sentinel), "open wrote to output although it failed");
  return null;
}

// ---- RFC 8439 known answers ----

for (const box of boxes) {
  test(`${box.variant}: RFC 8439 §2.3.2 ChaCha20 block (counter 1)`, () => {
    const block = sbChacha(box, KEY_00_1F, unhex("000000090000004a00000000"), 1, new Uint8Array(64));
    assert.is(hex(block),
      "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
      "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
  });

  test(`${box.variant}: RFC 8439 §2.4.2 ChaCha20 encryption (sunscreen)`, () => {
    const ct = sbChacha(box, KEY_00_1F, unhex("000000000000004a00000000"), 1, SUNSCREEN);
    assert.is(hex(ct),
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
      "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
      "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
      "5af90bbf74a35be6b40b8eedf2785e42874d");
  });

  test(`${box.variant}: RFC 8439 §2.5.2 Poly1305`, () => {
    const key = unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
    const tag = sbPoly(box, key, new TextEncoder().encode("Cryptographic Forum Research Group"));
    assert.is(hex(tag), "a8061dc1305136c6c22b8baf0c0127a9");
  });

  test(`${box.variant}: RFC 8439 §A.3 Poly1305 vectors #5-#11 (final-reduction edge cases)`, () => {
    const cases: [string, string, string][] = [
      ["02" + "00".repeat(31), "ff".repeat(16), "03" + "00".repeat(15)],
      ["02" + "00".repeat(15) + "ff".repeat(16), "02" + "00".repeat(15), "03" + "00".repeat(15)],
      ["01" + "00".repeat(31), "ff".repeat(16) + "f0" + "ff".repeat(15) + "11" + "00".repeat(15), "05" + "00".repeat(15)],
      ["01" + "00".repeat(31), "ff".repeat(16) + "fb" + "fe".repeat(15) + "01".repeat(16), "00".repeat(16)],
      ["02" + "00".repeat(31), "fd" + "ff".repeat(15), "fa" + "ff".repeat(15)],
      ["0100000000000000040000000000000000000000000000000000000000000000",
        "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000" +
        "0000000000000000000000000000000001000000000000000000000000000000",
        "14000000000000005500000000000000"],
      ["0100000000000000040000000000000000000000000000000000000000000000",
        "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000" +
        "00000000000000000000000000000000",
        "13000000000000000000000000000000"],
    ];
    cases.forEach(([key, msg, tag], i) => {
      // The model must agree too, or it would be no reference for the random tests below.
      assert.is(hex(refPoly1305(unhex(key), unhex(msg))), tag, `model, vector #${i + 5}`);
      assert.is(hex(sbPoly(box, unhex(key), unhex(msg))), tag, `vector #${i + 5}`);
    });
  });

  test(`${box.variant}: RFC 8439 §2.8.2 AEAD seal and open`, () => {
    const key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    const nonce = unhex("070000004041424344454647");
    const aad = unhex("50515253c0c1c2c3c4c5c6c7");
    const want =
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
      "3ff4def08e4b7a9de576d26586cec64b6116";
    const { ct, tag } = sbSeal(box, key, nonce, aad, SUNSCREEN);
    assert.is(hex(ct), want);
    assert.is(hex(tag), "1ae10b594f09e26a7e902ecbd0600691");
    const pt = sbOpen(box, key, nonce, aad, ct, tag);
    assert.ok(pt !== null);
    assert.is(hex(pt!), hex(SUNSCREEN));
  });
}

// ---- Wycheproof ----

interface AeadTest { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string; flags: string[] }
interface AeadGroup { ivSize: number; keySize: number; tagSize: number; tests: AeadTest[] }
const wycheproof = loadVectors<{ testGroups: AeadGroup[] }>("wycheproof/chacha20_poly1305_test.json");

for (const box of boxes) {
  test(`${box.variant}: Wycheproof chacha20_poly1305 (96-bit nonces)`, () => {
    let valid = 0;
    let invalid = 0;
    let otherNonce = 0;
    for (const group of wycheproof.testGroups) {
      if (group.ivSize !== 96) {
        // The API takes exactly 12 nonce bytes, so other sizes cannot even be expressed; every
        // such test in the file is "invalid" (InvalidNonceSize), which is what we want.
        for (const t of group.tests) assert.is(t.result, "invalid", `tcId ${t.tcId}`);
        otherNonce += group.tests.length;
        continue;
      }
      assert.is(group.keySize, 256);
      assert.is(group.tagSize, 128);
      for (const t of group.tests) {
        const [key, nonce, aad, msg, ct, tag] = [t.key, t.iv, t.aad, t.msg, t.ct, t.tag].map(unhex);
        const where = `tcId ${t.tcId} (${t.flags.join(",")})`;
        // Policy for "acceptable": none exist in this file; if one appears, it must decide it.
        assert.ok(t.result === "valid" || t.result === "invalid", `${where}: unexpected result ${t.result}`);
        const misalign = t.tcId % 16;
        const opened = sbOpen(box, key, nonce, aad, ct, tag, { misalign, inPlace: t.tcId % 2 === 0 });
        if (t.result === "valid") {
          const sealed = sbSeal(box, key, nonce, aad, msg, { misalign });
          assert.is(hex(sealed.ct), t.ct, `${where}: ciphertext`);
          assert.is(hex(sealed.tag), t.tag, `${where}: tag`);
          assert.ok(opened !== null, `${where}: open rejected a valid test`);
          assert.is(hex(opened!), t.msg, `${where}: plaintext`);
          valid++;
        } else {
          assert.is(opened, null, `${where}: open accepted an invalid test`);
          invalid++;
        }
      }
    }
    // The file's composition (so a truncated or swapped file cannot pass silently).
    assert.is(valid, 256);
    assert.is(invalid, 60);
    assert.is(otherNonce, 9);
  });
}

// ---- differential tests ----

/** Length of random case i: the edge lengths first, then mostly short records with some long ones. */
function lengthFor(i: number, rand: (n: number) => Uint8Array): number {
  if (i < EDGE_LENGTHS.length) return EDGE_LENGTHS[i];
  const r = rand(4);
  const v = r[0] | (r[1] << 8) | (r[2] << 16);
  if (r[3] < 4) return v % 16_400; // ~1.5%: up to a full TLS record and beyond
  return v % 700;
}

for (const box of boxes) {
  test(`${box.variant}: ChaCha20 vs node:crypto, ${RANDOM_CASES} random inputs`, () => {
    const rand = seededRandom(0xc4ac4a + (box.variant === "checked" ? 1 : 0));
    for (let i = 0; i < RANDOM_CASES; i++) {
      const len = lengthFor(i, rand);
      const key = rand(32);
      const nonce = rand(12);
      // Any counter that does not reach 2^32 within this input (OpenSSL carries into the nonce).
      const c = rand(4);
      const counter = ((c[0] | (c[1] << 8) | (c[2] << 16) | (c[3] << 24)) >>> 0) % (2 ** 32 - 300);
      const data = rand(len);
      const got = sbChacha(box, key, nonce, counter, data, { misalign: i % 16, inPlace: i % 3 === 0 });
      const want = nodeChacha(key, nonce, counter, data);
      if (hex(got) !== hex(want)) assert.unreachable(`case ${i}: len ${len} counter ${counter}`);
    }
  });

  test(`${box.variant}: ChaCha20 continues across calls at every block boundary; counter wraps mod 2^32`, () => {
    const rand = seededRandom(99);
    const key = rand(32);
    const nonce = rand(12);
    const data = rand(1000);
    const whole = sbChacha(box, key, nonce, 7, data);
    assert.is(hex(whole), hex(nodeChacha(key, nonce, 7, data)));
    for (let split = 0; split <= 1000; split += 64) {
      const a = sbChacha(box, key, nonce, 7, data.subarray(0, split));
      const b = sbChacha(box, key, nonce, 7 + split / 64, data.subarray(split));
      assert.is(hex(a) + hex(b), hex(whole), `split at ${split}`);
    }
    // RFC 8439 gives the counter 32 bits: block 2^32 - 1 is followed by block 0.
    const wrapped = sbChacha(box, key, nonce, 0xffffffff, data.subarray(0, 300));
    const last = sbChacha(box, key, nonce, 0xffffffff, data.subarray(0, 64));
    const first = sbChacha(box, key, nonce, 0, data.subarray(64, 300));
    assert.is(hex(wrapped), hex(last) + hex(first));
  });

  test(`${box.variant}: Poly1305 vs the RFC model, ${RANDOM_CASES} random inputs`, () => {
    const rand = seededRandom(0x1305 + (box.variant === "checked" ? 1 : 0));
    for (let i = 0; i < RANDOM_CASES; i++) {
      const len = lengthFor(i, rand) % 2048; // the BigInt model is slow; length coverage is in EDGE_LENGTHS
      const key = rand(32);
      // Every 8th case: all-ones message and r, s to drive h and the final addition to their maxima.
      const msg = i % 8 === 7 ? new Uint8Array(len).fill(0xff) : rand(len);
      if (i % 16 === 15) key.fill(0xff);
      const got = hex(sbPoly(box, key, msg, i % 16));
      const want = hex(refPoly1305(key, msg));
      if (got !== want) assert.unreachable(`case ${i}: len ${len}: ${got} != ${want}`);
    }
    for (const len of EDGE_LENGTHS) {
      const key = rand(32);
      const msg = rand(len);
      assert.is(hex(sbPoly(box, key, msg, len % 16)), hex(refPoly1305(key, msg)), `len ${len}`);
    }
  });

  const ctxSize = (box.sandbox.exports.POLY1305_CTX_SIZE as WebAssembly.Global).value as number;
  test(`${box.variant}: Poly1305 context split at every block offset of a 300-byte input`, () => {
    const rand = seededRandom(300);
    const key = rand(32);
    const msg = rand(300);
    const want = hex(refPoly1305(key, msg));
    const full = 288; // 18 blocks; the 12-byte tail is padded by hand below
    for (let split = 0; split <= full; split += 16) {
      const a = box.arena();
      const ctx = a.alloc(ctxSize);
      const k = a.put(key);
      const m = a.put(msg, 16, split % 7);
      const tail = new Uint8Array(16);
      tail.set(msg.subarray(full));
      tail[12] = 1;
      const t = a.put(tail);
      const out = a.alloc(16);
      box.x.poly1305_init(ctx, k);
      box.x.poly1305_blocks(ctx, m, split / 16, 1);
      box.x.poly1305_blocks(ctx, m + split, (full - split) / 16, 1);
      box.x.poly1305_blocks(ctx, t, 1, 0);
      box.x.poly1305_finish(ctx, out);
      assert.is(hex(a.read(out, 16)), want, `split at ${split}`);
    }
  });

  test(`${box.variant}: AEAD vs node:crypto, ${RANDOM_CASES} random inputs (seal, open, tampering)`, () => {
    const rand = seededRandom(0xaead + (box.variant === "checked" ? 1 : 0));
    for (let i = 0; i < RANDOM_CASES; i++) {
      const len = lengthFor(i, rand);
      const aadLen = i < EDGE_LENGTHS.length ? EDGE_LENGTHS[(i * 7) % EDGE_LENGTHS.length] % 300 : rand(1)[0] % 40;
      const key = rand(32);
      const nonce = rand(12);
      const aad = rand(aadLen);
      const pt = rand(len);
      const at = { misalign: i % 16, inPlace: i % 3 === 1 };
      const want = nodeSeal(key, nonce, aad, pt);
      const got = sbSeal(box, key, nonce, aad, pt, at);
      if (hex(got.ct) !== hex(want.ct) || hex(got.tag) !== hex(want.tag)) {
        assert.unreachable(`case ${i}: seal differs (len ${len}, aad ${aadLen})`);
      }
      const opened = sbOpen(box, key, nonce, aad, want.ct, want.tag, { misalign: (i + 5) % 16, inPlace: i % 3 === 2 });
      if (opened === null || hex(opened) !== hex(pt)) assert.unreachable(`case ${i}: open failed (len ${len}, aad ${aadLen})`);
      // One random bit flipped in the ciphertext, the tag or the AAD: both sides must reject.
      const r = rand(3);
      let which = r[0] % 3;
      if ((which === 0 && len === 0) || (which === 2 && aadLen === 0)) which = 1;
      const ct2 = new Uint8Array(want.ct);
      const tag2 = new Uint8Array(want.tag);
      const aad2 = new Uint8Array(aad);
      const target = [ct2, tag2, aad2][which];
      const pos = ((r[1] << 8) | r[2]) % (target.length * 8);
      target[pos >> 3] ^= 1 << (pos & 7);
      assert.is(nodeOpen(key, nonce, aad2, ct2, tag2), null, `case ${i}: node accepted the tampered input`);
      if (sbOpen(box, key, nonce, aad2, ct2, tag2, at) !== null) assert.unreachable(`case ${i}: tampered input accepted`);
    }
  });

  test(`${box.variant}: AEAD rejects every single-bit flip of ciphertext, tag and AAD`, () => {
    const rand = seededRandom(4242);
    const key = rand(32);
    const nonce = rand(12);
    const aad = rand(13);
    const pt = rand(37);
    const { ct, tag } = sbSeal(box, key, nonce, aad, pt);
    assert.is(hex(sbOpen(box, key, nonce, aad, ct, tag) ?? new Uint8Array()), hex(pt));
    const parts = { ct, tag, aad };
    for (const name of ["ct", "tag", "aad"] as const) {
      for (let bit = 0; bit < parts[name].length * 8; bit++) {
        const bad = { ...parts, [name]: new Uint8Array(parts[name]) };
        bad[name][bit >> 3] ^= 1 << (bit & 7);
        const inPlace = bit % 2 === 0;
        assert.is(sbOpen(box, key, nonce, bad.aad, bad.ct, bad.tag, { inPlace, misalign: bit % 16 }), null, `${name} bit ${bit}`);
      }
    }
    // A wrong nonce or key, and a truncated or extended ciphertext, are rejected too.
    const otherNonce = new Uint8Array(nonce);
    otherNonce[11] ^= 0x80;
    assert.is(sbOpen(box, key, otherNonce, aad, ct, tag), null);
    const otherKey = new Uint8Array(key);
    otherKey[0] ^= 1;
    assert.is(sbOpen(box, otherKey, nonce, aad, ct, tag), null);
    assert.is(sbOpen(box, key, nonce, aad, ct.subarray(0, 36), tag), null);
    assert.is(sbOpen(box, key, nonce, aad, new Uint8Array([...ct, 0]), tag), null);
  });
}

test.run();
