// P-256 ECDH (wasm/crypto/p256.ts): every Wycheproof ecpoint test, the RFC 8448 §5 key share,
// edge scalars, peer-point validation, and differential tests against node:crypto
// (createECDH("prime256v1")), in both build variants.
import { createECDH } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cryptoBoxes, EDGE_LENGTHS, seededRandom, type CryptoBox } from "../helpers/cryptobox";
import { beBytes, EcdhBuffers, encodePoint, modPow, nodePublicKey, nodeSharedSecret, P256, toBig } from "../helpers/ecdh";
import { hex, loadVectors, unhex } from "../helpers/repo";

const test = suite("p256");
const boxes = await cryptoBoxes();

const P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

// Random differential iterations per variant. The checked build (-O1, bounds checks) runs at
// about the same speed as release here, so both get the full count; see the report if this
// ever needs to shrink for `checked`.
const DIFF_ITERATIONS: Record<CryptoBox["variant"], number> = { release: 10_000, checked: 10_000 };

const be32 = (x: bigint): Uint8Array => beBytes(x, 32);

/** A Wycheproof private key (big-endian two's complement, 1..33 bytes) as 32 bytes. */
function scalar32(text: string): Uint8Array {
  const x = BigInt("0x" + text);
  assert.ok(x < 2n ** 256n, "private key fits 32 bytes");
  return be32(x);
}

const point = (x: bigint, y: bigint, prefix = 4): Uint8Array => encodePoint(P256, x, y, prefix);
/** node's answers: the uncompressed public key of k, and k·peer's x. */
const nodePublic = (k: Uint8Array): Uint8Array => nodePublicKey(P256, k);
const nodeShared = (k: Uint8Array, peer: Uint8Array): Uint8Array => nodeSharedSecret(P256, k, peer);

class Ecdh extends EcdhBuffers {
  constructor(box: CryptoBox, misalign = 0, peerCapacity = 65) {
    super(box, P256, misalign, peerCapacity);
  }
}

const UNTOUCHED_OUT = "aa".repeat(32);
const UNTOUCHED_PUB = "55".repeat(65);

/** Scalars at the edges of [1, n-1] and with long runs of zero or one bits (window digits 0 and 15). */
const EDGE_SCALARS: bigint[] = [
  1n, 2n, 3n, 15n, 16n, 17n, 255n, 256n, 0xffffn,
  N - 1n, N - 2n, N - 3n, N - 15n, N - 16n, N - 17n, (N - 1n) / 2n, (N + 1n) / 2n,
  2n ** 255n, 2n ** 255n - 1n, 2n ** 255n + 1n, 2n ** 128n, 2n ** 128n - 1n, 2n ** 4n * 2n ** 240n,
  2n ** 256n - 2n ** 224n - 1n, // all ones below 2^224, the top 32 bits 0xfffffffe... < n
  BigInt("0x" + "0f".repeat(32)), BigInt("0x" + "f0".repeat(31) + "00"), BigInt("0x" + "80".repeat(32)),
  BigInt("0x" + "01" + "00".repeat(31)), BigInt("0x" + "00".repeat(31) + "ff"), BigInt("0x" + "ff".repeat(16)),
  BigInt("0x" + "ffffffff" + "00".repeat(28)), BigInt("0x" + "11".repeat(32)), BigInt("0x" + "ee".repeat(31) + "e1"),
];
const INVALID_SCALARS: bigint[] = [
  0n, N, N + 1n, N + 2n ** 100n, 2n ** 256n - 1n, BigInt("0x" + "ff".repeat(16) + "00".repeat(16)),
];

for (const box of boxes) {
  const v = box.variant;

  test(`${v}: Wycheproof ecdh_secp256r1_ecpoint (valid: shared; invalid and acceptable: 0)`, () => {
    const file = loadVectors("wycheproof/ecdh_secp256r1_ecpoint_test.json");
    const e = new Ecdh(box, 0, 128);
    const counts = { valid: 0, invalid: 0, acceptable: 0 };
    for (const group of file.testGroups) {
      assert.is(group.curve, "secp256r1");
      for (const t of group.tests) {
        const where = `tcId ${t.tcId} (${t.comment})`;
        const [ret, out] = e.ecdh(scalar32(t.private), unhex(t.public));
        counts[t.result as keyof typeof counts]++;
        if (t.result === "valid") {
          assert.is(ret, 1, where);
          assert.is(hex(out), t.shared, where);
        } else {
          // Decision for "acceptable": TLS 1.3 key shares are uncompressed only (RFC 8446
          // §4.2.8.2), so the only acceptable case here, a compressed point, is rejected.
          if (t.result === "acceptable") assert.ok(t.flags.includes("CompressedPoint"), `${where}: unexpected acceptable case`);
          assert.is(ret, 0, where);
          assert.is(hex(out), UNTOUCHED_OUT, `${where}: nothing written`);
        }
      }
    }
    assert.equal(counts, { valid: 330, invalid: 24, acceptable: 1 });
  });

  test(`${v}: RFC 8448 §5 P-256 key shares and shared secret`, () => {
    const trace = loadVectors("rfc8448-hello-retry-request.json");
    const e = new Ecdh(box, 5);
    for (const side of [trace.client, trace.server]) {
      const [ret, pub] = e.publicKey(unhex(side.p256PrivateKey));
      assert.is(ret, 1);
      assert.is(hex(pub), side.p256PublicKey);
    }
    const [r1, s1] = e.ecdh(unhex(trace.client.p256PrivateKey), unhex(trace.server.p256PublicKey));
    const [r2, s2] = e.ecdh(unhex(trace.server.p256PrivateKey), unhex(trace.client.p256PublicKey));
    assert.is(r1, 1);
    assert.is(r2, 1);
    assert.is(hex(s1), trace.sharedSecret);
    assert.is(hex(s2), trace.sharedSecret);
  });

  test(`${v}: edge scalars against node (public key and ECDH), out-of-range scalars rejected`, () => {
    const e = new Ecdh(box, 9);
    const peerPriv = be32(0x1234567890abcdef1234567890abcdef1234567890abcdefn);
    const peer = nodePublic(peerPriv);
    for (const k of EDGE_SCALARS) {
      const kb = be32(k);
      const [r1, pub] = e.publicKey(kb);
      assert.is(r1, 1, `public, k = ${k.toString(16)}`);
      assert.is(hex(pub), hex(nodePublic(kb)), `public, k = ${k.toString(16)}`);
      const [r2, out] = e.ecdh(kb, peer);
      assert.is(r2, 1, `ecdh, k = ${k.toString(16)}`);
      assert.is(hex(out), hex(nodeShared(kb, peer)), `ecdh, k = ${k.toString(16)}`);
      // The generator as the peer: k·G's x must match the public key just computed.
      const [r3, out3] = e.ecdh(kb, nodePublic(be32(1n)));
      assert.is(r3, 1);
      assert.is(hex(out3), hex(pub.subarray(1, 33)));
    }
    for (const k of INVALID_SCALARS) {
      const kb = be32(k);
      const [r1, pub] = e.publicKey(kb);
      assert.is(r1, 0, `public must reject k = ${k.toString(16)}`);
      assert.is(hex(pub), UNTOUCHED_PUB, "nothing written");
      const [r2, out] = e.ecdh(kb, peer);
      assert.is(r2, 0, `ecdh must reject k = ${k.toString(16)}`);
      assert.is(hex(out), UNTOUCHED_OUT, "nothing written");
    }
  });

  test(`${v}: peer validation (length, encoding, range, curve equation)`, () => {
    const k = be32(0xc0ffee0123456789n * 0x1000000000001n);
    const good = nodePublic(be32(0xabcdef987654321n));
    const gx = toBig(good.subarray(1, 33));
    const gy = toBig(good.subarray(33, 65));
    const expected = hex(nodeShared(k, good));
    const e = new Ecdh(box, 3, 16385 + 16);

    const ok = (peer: Uint8Array, peerlen = peer.length) => e.ecdh(k, peer, peerlen);
    const rejects = (peer: Uint8Array, what: string, peerlen = peer.length) => {
      const [ret, out] = ok(peer, peerlen);
      assert.is(ret, 0, what);
      assert.is(hex(out), UNTOUCHED_OUT, `${what}: nothing written`);
    };

    assert.equal(ok(good).map((x) => (typeof x === "number" ? x : hex(x))), [1, expected]);
    // -P has the same x-coordinate in every multiple: the same shared secret.
    assert.equal(ok(point(gx, P - gy)).map((x) => (typeof x === "number" ? x : hex(x))), [1, expected]);

    // Every length but 65, with a valid point as the first 65 bytes where it fits.
    for (const len of [...EDGE_LENGTHS, 2, 33, 64, 66, 97, 130]) {
      if (len === 65) continue;
      const buf = new Uint8Array(len);
      buf.set(good.subarray(0, Math.min(len, 65)));
      rejects(buf, `length ${len}`);
    }
    // Only the uncompressed prefix 04.
    for (const prefix of [0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x44, 0x84, 0xff]) {
      rejects(point(gx, gy, prefix), `prefix ${prefix}`);
    }
    // A valid compressed encoding (33 bytes) and the 1-byte point at infinity.
    const compressed = new Uint8Array([2 + Number(gy & 1n), ...be32(gx)]);
    rejects(compressed, "compressed point");
    rejects(new Uint8Array([0]), "infinity encoding");
    rejects(point(0n, 0n), "all-zero coordinates");

    // Off the curve: every single-bit change of y, a sample of x bit flips, y = 0, small-order
    // style values on the twist are all just "not on the curve" for cofactor-1 P-256.
    for (let bit = 0; bit < 256; bit++) {
      rejects(point(gx, gy ^ (1n << BigInt(bit))), `y bit ${bit}`);
    }
    for (let bit = 0; bit < 256; bit += 7) {
      const x = gx ^ (1n << BigInt(bit));
      if (x < P) rejects(point(x, gy), `x bit ${bit}`);
    }
    rejects(point(gx, 0n), "y = 0");

    // Coordinates at or above p are rejected even when they are congruent to a valid point.
    rejects(point(P, gy), "x = p");
    rejects(point(gx, P), "y = p");
    rejects(point(2n ** 256n - 1n, gy), "x = 2^256 - 1");
    rejects(point(gx, 2n ** 256n - 1n), "y = 2^256 - 1");
    // A point with y = 5, so that y + p still fits 32 bytes (found offline as a root of
    // x³ - 3x + b - 25; checked here).
    const x5 = 0xd7325d7646cd60d80a92738ceb345f844cffaf35841022cab176f692de8de1d7n;
    assert.is((((x5 * x5 * x5 - 3n * x5 + B - 25n) % P) + P) % P, 0n, "(x5, 5) is on the curve");
    const small = point(x5, 5n);
    assert.is(hex(ok(small)[1]), hex(nodeShared(k, small)), "(x5, 5)");
    rejects(point(x5, 5n + P), "y + p for y = 5");
    assert.is(hex(ok(point(x5, P - 5n))[1]), hex(nodeShared(k, small)), "(x5, -5)");
    // Find small x with x³ - 3x + b a square (p ≡ 3 mod 4: the root is rhs^((p+1)/4)).
    let found = 0;
    for (let x = 0n; found < 3; x++) {
      const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
      const y = modPow(rhs, (P + 1n) / 4n, P);
      if ((y * y) % P !== rhs) continue;
      found++;
      const valid = point(x, y);
      const [ret, out] = ok(valid);
      assert.is(ret, 1, `small x = ${x}`);
      assert.is(hex(out), hex(nodeShared(k, valid)), `small x = ${x}`);
      rejects(point(x + P, y), `x + p for x = ${x}`);
      if (y + P < 2n ** 256n) rejects(point(x, y + P), `y + p for x = ${x}`);
      rejects(point(x, (y + 1n) % P), `y + 1 for x = ${x}`);
    }
  });

  test(`${v}: in-place and overlapping buffers`, () => {
    const a = box.arena();
    const k = be32(0x5eed5eed5eed5eedn ** 3n);
    const peer = nodePublic(be32(77n));
    const expected = hex(nodeShared(k, peer));
    // out32 == priv32.
    const s = a.put(k, 16, 7);
    const p = a.put(peer, 16, 2);
    assert.is(box.x.p256_ecdh(s, s, p, 65), 1);
    assert.is(hex(a.read(s, 32)), expected);
    // out32 over the peer's x.
    const s2 = a.put(k, 16, 1);
    const p2 = a.put(peer, 16, 9);
    assert.is(box.x.p256_ecdh(p2 + 1, s2, p2, 65), 1);
    assert.is(hex(a.read(p2 + 1, 32)), expected);
    // pub65 overlapping priv32.
    const buf = a.alloc(65 + 32, 16, 3);
    box.sandbox.bytes().set(k, buf + 20);
    assert.is(box.x.p256_public(buf, buf + 20), 1);
    assert.is(hex(a.read(buf, 65)), hex(nodePublic(k)));
  });

  test(`${v}: p256_keygen draws in-range scalars whose public key matches node`, () => {
    const a = box.arena();
    const priv = a.alloc(32, 16, 11);
    const pub = a.alloc(65, 16, 6);
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      box.x.p256_keygen(priv, pub);
      const k = a.read(priv, 32);
      const kv = toBig(k);
      assert.ok(kv >= 1n && kv < N, "scalar in [1, n-1]");
      assert.is(hex(a.read(pub, 65)), hex(nodePublic(k)));
      seen.add(hex(k));
    }
    assert.is(seen.size, 100, "fresh randomness every call");
  });

  test(`${v}: differential against node on ${DIFF_ITERATIONS[v]} random scalars and peers`, () => {
    const rand = seededRandom(0x256 + (v === "release" ? 0 : 1));
    const setups = Array.from({ length: 16 }, (_, m) => new Ecdh(box, m));
    const ref = createECDH("prime256v1");
    let prevPub = nodePublic(be32(2n));
    let checked = 0;
    for (let i = 0; checked < DIFF_ITERATIONS[v]; i++) {
      const e = setups[i % 16]!;
      let k = rand(32);
      // Every 8th scalar is structured: bytes drawn from {00, ff, random}, which exercises long
      // runs of zero digits (the masked infinity handling) and of digit 15.
      if (i % 8 === 7) {
        const sel = rand(32);
        k = k.map((b, j) => (sel[j]! < 96 ? 0 : sel[j]! < 192 ? 0xff : b));
      }
      const kv = toBig(k);
      if (kv === 0n || kv >= N) continue;
      ref.setPrivateKey(k);
      const want = ref.getPublicKey();
      const [r1, pub] = e.publicKey(k);
      if (r1 !== 1 || hex(pub) !== want.toString("hex")) {
        assert.unreachable(`public key mismatch, iteration ${i}, k = ${hex(k)}`);
      }
      // The peer is the previous iteration's key (already checked against node).
      const [r2, out] = e.ecdh(k, prevPub);
      const shared = ref.computeSecret(prevPub);
      if (r2 !== 1 || hex(out) !== shared.toString("hex")) {
        assert.unreachable(`shared secret mismatch, iteration ${i}, k = ${hex(k)}, peer = ${hex(prevPub)}`);
      }
      prevPub = pub;
      checked++;
    }
    assert.is(checked, DIFF_ITERATIONS[v]);
  });
}

test.run();
