// P-384 ECDH (wasm/crypto/p384.ts): every Wycheproof ecpoint test, edge scalars, peer-point
// validation, keygen, and differential tests against node:crypto (createECDH("secp384r1")) in
// both directions, in both build variants.
import { Worker } from "node:worker_threads";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cryptoBoxes, EDGE_LENGTHS, seededRandom, type CryptoBox } from "../helpers/cryptobox";
import { beBytes, EcdhBuffers, encodePoint, modPow, nodePublicKey, nodeSharedSecret, P384, toBig } from "../helpers/ecdh";
import { hex, loadVectors, unhex } from "../helpers/repo";

const test = suite("p384");
const boxes = await cryptoBoxes();

const P = 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n;
const N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
const B = 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn;

// Random key pairs for the differential test (the same node results serve both variants, each
// used from a different side; see nodeSide). node's P-384 is slow (OpenSSL 3.0's generic code:
// ~1.4 ms for a public key, ~3.5 ms for computeSecret, against well under 1 ms for ours), so
// node's side is computed up front in two worker threads while the other tests run.
const DIFF_PAIRS = 2_000;

const be48 = (x: bigint): Uint8Array => beBytes(x, 48);

/** A Wycheproof private key (big-endian two's complement, 1..49 bytes) as 48 bytes. */
function scalar48(text: string): Uint8Array {
  const x = BigInt("0x" + text);
  assert.ok(x < 2n ** 384n, "private key fits 48 bytes");
  return be48(x);
}

function modP(x: bigint): bigint {
  return ((x % P) + P) % P;
}

const point = (x: bigint, y: bigint, prefix = 4): Uint8Array => encodePoint(P384, x, y, prefix);
const nodePublic = (k: Uint8Array): Uint8Array => nodePublicKey(P384, k);
const nodeShared = (k: Uint8Array, peer: Uint8Array): Uint8Array => nodeSharedSecret(P384, k, peer);

class Ecdh extends EcdhBuffers {
  constructor(box: CryptoBox, misalign = 0, peerCapacity = 97) {
    super(box, P384, misalign, peerCapacity);
  }
}

const UNTOUCHED_OUT = "aa".repeat(48);
const UNTOUCHED_PUB = "55".repeat(97);

/** Scalars at the edges of [1, n-1] and with long runs of zero or one bits (window digits 0 and
 * 15, comb entries 0 and 15). */
const EDGE_SCALARS: bigint[] = [
  1n, 2n, 3n, 15n, 16n, 17n, 255n, 256n, 0xffffn, 2n ** 96n, 2n ** 96n + 1n, 2n ** 192n, 2n ** 288n,
  1n + 2n ** 96n + 2n ** 192n + 2n ** 288n, 2n ** 96n - 1n, 2n ** 288n - 1n,
  N - 1n, N - 2n, N - 3n, N - 15n, N - 16n, N - 17n, (N - 1n) / 2n, (N + 1n) / 2n,
  2n ** 383n, 2n ** 383n - 1n, 2n ** 383n + 1n, 2n ** 192n - 1n, 2n ** 4n * 2n ** 370n,
  2n ** 384n - 2n ** 192n - 1n, // all ones but bit 192: < n
  BigInt("0x" + "0f".repeat(48)), BigInt("0x" + "f0".repeat(47) + "00"), BigInt("0x" + "80".repeat(48)),
  BigInt("0x" + "01" + "00".repeat(47)), BigInt("0x" + "00".repeat(47) + "ff"), BigInt("0x" + "ff".repeat(24)),
  BigInt("0x" + "ff".repeat(12) + "00".repeat(36)), BigInt("0x" + "11".repeat(48)), BigInt("0x" + "ee".repeat(47) + "e1"),
];
const INVALID_SCALARS: bigint[] = [
  0n, N, N + 1n, N + 2n ** 100n, 2n ** 384n - 1n, 2n ** 384n - 2n ** 189n,
  BigInt("0x" + "ff".repeat(25) + "00".repeat(23)),
];

// ---------------------------------------------------------------------------------------------
// node's side of the differential test, computed in worker threads.
//
// Item i of the list is a scalar k_i (every 8th one structured: bytes drawn from {00, ff,
// random}, for long runs of zero and fifteen digits). node gives pub_i = k_i·G and
// shared_i = x(k_i·pub_{i-1}) (pub_{-1} is the public key of the fixed scalar k_{-1} = FIRST_PEER).
// Each variant checks its public key of every k_i against pub_i byte for byte, so pub_i is at once
// our public key and node's. Then
//   release checks p384_ecdh(k_i, pub_{i-1}) == shared_i      (node's computeSecret, same inputs),
//   checked checks p384_ecdh(k_{i-1}, pub_i) == shared_i      (the peer's side of that exchange),
// so each variant computes 2,000 different (scalar, point) products against node's answers, and
// node paid for one set of key pairs, not two.

interface DiffItem { k: string; pub: string; shared: string }

const FIRST_PEER = "00".repeat(47) + "2a";

/** Runs inside the worker (eval'd as CommonJS): computes the chain for its slice of scalars. */
const WORKER_SOURCE = `
const { createECDH } = require("node:crypto");
const { parentPort, workerData } = require("node:worker_threads");
const { scalars, prev } = workerData;
const pub = (k) => { const e = createECDH("secp384r1"); e.setPrivateKey(Buffer.from(k, "hex")); return e; };
let peer = pub(prev).getPublicKey();
const out = [];
for (const k of scalars) {
  const e = pub(k);
  out.push({ k, pub: e.getPublicKey("hex"), shared: e.computeSecret(peer).toString("hex") });
  peer = e.getPublicKey();
}
parentPort.postMessage(out);
`;

function diffScalars(seed: number): string[] {
  const rand = seededRandom(seed);
  const list: string[] = [];
  for (let i = 0; list.length < DIFF_PAIRS; i++) {
    let k = rand(48);
    if (i % 8 === 7) {
      const sel = rand(48);
      k = k.map((b, j) => (sel[j]! < 96 ? 0 : sel[j]! < 192 ? 0xff : b));
    }
    const kv = toBig(k);
    if (kv === 0n || kv >= N) continue;
    list.push(hex(k));
  }
  return list;
}

function nodeChain(scalars: string[], prev: string): Promise<DiffItem[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { scalars, prev } });
    w.once("message", (m: DiffItem[]) => { resolve(m); void w.terminate(); });
    w.once("error", reject);
  });
}

/** Two halves, one worker each; the second half's first peer is the first half's last key, so
 * the chain is unbroken. */
const nodeSide: Promise<DiffItem[]> = (() => {
  const scalars = diffScalars(0x384);
  const half = scalars.length >> 1;
  const first = scalars.slice(0, half), second = scalars.slice(half);
  return Promise.all([nodeChain(first, FIRST_PEER), nodeChain(second, first.at(-1)!)]).then(([a, b]) => [...a, ...b]);
})();
// Keep a worker failure from surfacing as an unhandled rejection before a test awaits it.
nodeSide.catch(() => {});

// ---------------------------------------------------------------------------------------------

for (const box of boxes) {
  const v = box.variant;

  test(`${v}: Wycheproof ecdh_secp384r1_ecpoint (valid: shared; invalid and acceptable: 0)`, () => {
    const file = loadVectors("wycheproof/ecdh_secp384r1_ecpoint_test.json");
    const e = new Ecdh(box, 0, 128);
    const counts = { valid: 0, invalid: 0, acceptable: 0 };
    for (const group of file.testGroups) {
      assert.is(group.curve, "secp384r1");
      assert.is(group.encoding, "ecpoint");
      for (const t of group.tests) {
        const where = `tcId ${t.tcId} (${t.comment})`;
        const [ret, out] = e.ecdh(scalar48(t.private), unhex(t.public));
        counts[t.result as keyof typeof counts]++;
        if (t.result === "valid") {
          assert.is(ret, 1, where);
          assert.is(hex(out), t.shared, where);
        } else {
          // Decision for "acceptable": TLS key shares for secp384r1 are uncompressed only
          // (RFC 8446 §4.2.8.2; RFC 8422 §5.1.2 with no other point format negotiated), so the
          // only acceptable case here, a compressed point, is rejected.
          if (t.result === "acceptable") assert.ok(t.flags.includes("CompressedPoint"), `${where}: unexpected acceptable case`);
          assert.is(ret, 0, where);
          assert.is(hex(out), UNTOUCHED_OUT, `${where}: nothing written`);
        }
      }
    }
    assert.equal(counts, { valid: 771, invalid: 18, acceptable: 1 });
  });

  test(`${v}: edge scalars against node (public key and ECDH), out-of-range scalars rejected`, () => {
    const e = new Ecdh(box, 9);
    const peerPriv = be48(0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefn);
    const peer = nodePublic(peerPriv);
    const gen = nodePublic(be48(1n));
    for (const k of EDGE_SCALARS) {
      const kb = be48(k);
      const [r1, pub] = e.publicKey(kb);
      assert.is(r1, 1, `public, k = ${k.toString(16)}`);
      assert.is(hex(pub), hex(nodePublic(kb)), `public, k = ${k.toString(16)}`);
      const [r2, out] = e.ecdh(kb, peer);
      assert.is(r2, 1, `ecdh, k = ${k.toString(16)}`);
      assert.is(hex(out), hex(nodeShared(kb, peer)), `ecdh, k = ${k.toString(16)}`);
      // The generator as the peer: k·G's x must match the public key just computed.
      const [r3, out3] = e.ecdh(kb, gen);
      assert.is(r3, 1);
      assert.is(hex(out3), hex(pub.subarray(1, 49)));
    }
    for (const k of INVALID_SCALARS) {
      const kb = be48(k);
      const [r1, pub] = e.publicKey(kb);
      assert.is(r1, 0, `public must reject k = ${k.toString(16)}`);
      assert.is(hex(pub), UNTOUCHED_PUB, "nothing written");
      const [r2, out] = e.ecdh(kb, peer);
      assert.is(r2, 0, `ecdh must reject k = ${k.toString(16)}`);
      assert.is(hex(out), UNTOUCHED_OUT, "nothing written");
    }
  });

  test(`${v}: peer validation (length, encoding, range, curve equation)`, () => {
    const k = be48(0xc0ffee0123456789n * 0x1000000000001n * 0xfedcba9876543210n);
    const good = nodePublic(be48(0xabcdef987654321n));
    const gx = toBig(good.subarray(1, 49));
    const gy = toBig(good.subarray(49, 97));
    const expected = hex(nodeShared(k, good));
    const e = new Ecdh(box, 3, 16385 + 16);

    const ok = (peer: Uint8Array, peerlen = peer.length) => e.ecdh(k, peer, peerlen);
    const rejects = (peer: Uint8Array, what: string, peerlen = peer.length) => {
      const [ret, out] = ok(peer, peerlen);
      assert.is(ret, 0, what);
      assert.is(hex(out), UNTOUCHED_OUT, `${what}: nothing written`);
    };
    const shows = (r: [number, Uint8Array]) => [r[0], hex(r[1])];

    assert.equal(shows(ok(good)), [1, expected]);
    // -P has the same x-coordinate in every multiple: the same shared secret.
    assert.equal(shows(ok(point(gx, P - gy))), [1, expected]);

    // Every length but 97, with a valid point as the first 97 bytes where it fits; also the
    // right buffer with a wrong length argument.
    for (const len of [...EDGE_LENGTHS, 2, 33, 49, 65, 96, 98, 129, 194]) {
      if (len === 97) continue;
      const buf = new Uint8Array(len);
      buf.set(good.subarray(0, Math.min(len, 97)));
      rejects(buf, `length ${len}`);
    }
    const padded = new Uint8Array(98);
    padded.set(good);
    rejects(padded, "peerlen 96 of a valid point", 96);
    rejects(padded, "valid point plus a trailing byte", 98);
    // Only the uncompressed prefix 04 (06/07 are X9.62 "hybrid").
    for (const prefix of [0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x14, 0x44, 0x84, 0xff]) {
      rejects(point(gx, gy, prefix), `prefix ${prefix}`);
    }
    // Compressed encodings (49 bytes, and 97 bytes with a 02/03 prefix) and the point at infinity
    // (the 1-byte 00 encoding, 00 followed by zeros, and 04 with zero coordinates).
    for (const c of [2, 3]) {
      rejects(new Uint8Array([c, ...be48(gx)]), `compressed point ${c}`);
      rejects(point(gx, gy, c), `97 bytes with prefix ${c}`);
    }
    rejects(new Uint8Array([0]), "infinity encoding 00");
    rejects(new Uint8Array(97), "97 zero bytes");
    rejects(point(0n, 0n), "04 with zero coordinates");

    // Off the curve: every single-bit change of y, a sample of x bit flips, y = 0 (the curve has
    // no point of order 2), x = 0 with y = 1.
    for (let bit = 0; bit < 384; bit++) {
      rejects(point(gx, gy ^ (1n << BigInt(bit))), `y bit ${bit}`);
    }
    for (let bit = 0; bit < 384; bit += 7) {
      const x = gx ^ (1n << BigInt(bit));
      if (x < P) rejects(point(x, gy), `x bit ${bit}`);
    }
    rejects(point(gx, 0n), "y = 0");
    rejects(point(0n, 1n), "(0, 1)");

    // Coordinates at or above p are rejected even when they are congruent to a valid point.
    rejects(point(P, gy), "x = p");
    rejects(point(gx, P), "y = p");
    rejects(point(P + 1n, gy), "x = p + 1");
    rejects(point(2n ** 384n - 1n, gy), "x = 2^384 - 1");
    rejects(point(gx, 2n ** 384n - 1n), "y = 2^384 - 1");
    // A point with y = 1, so that y + p still fits 48 bytes. x was found offline as the only
    // root of x³ - 3x + b - 1 (gcd of x^p - x with that cubic); checked here.
    const x1 = 0x2261b2bf605c22f2f3aef6338719b2c486388ad5240719a5257315969ef01ba27f0a104c89704773a81fdabee6ab5c78n;
    assert.is(modP(x1 * x1 * x1 - 3n * x1 + B - 1n), 0n, "(x1, 1) is on the curve");
    const small = point(x1, 1n);
    assert.equal(shows(ok(small)), [1, hex(nodeShared(k, small))], "(x1, 1)");
    rejects(point(x1, 1n + P), "y + p for y = 1");
    assert.equal(shows(ok(point(x1, P - 1n))), [1, hex(nodeShared(k, small))], "(x1, -1)");
    // Small x with x³ - 3x + b a square (p ≡ 3 mod 4: the root is rhs^((p+1)/4)), so x + p fits.
    let found = 0;
    for (let x = 0n; found < 3; x++) {
      const rhs = modP(x * x * x - 3n * x + B);
      const y = modPow(rhs, (P + 1n) / 4n, P);
      if ((y * y) % P !== rhs) continue;
      found++;
      const valid = point(x, y);
      const [ret, out] = ok(valid);
      assert.is(ret, 1, `small x = ${x}`);
      assert.is(hex(out), hex(nodeShared(k, valid)), `small x = ${x}`);
      rejects(point(x + P, y), `x + p for x = ${x}`);
      if (y + P < 2n ** 384n) rejects(point(x, y + P), `y + p for x = ${x}`);
      rejects(point(x, (y + 1n) % P), `y + 1 for x = ${x}`);
    }
  });

  test(`${v}: in-place and overlapping buffers`, () => {
    const a = box.arena();
    const k = be48(0x5eed5eed5eed5eedn ** 5n);
    const peer = nodePublic(be48(77n));
    const expected = hex(nodeShared(k, peer));
    // out48 == priv48.
    const s = a.put(k, 16, 7);
    const p = a.put(peer, 16, 2);
    assert.is(box.x.p384_ecdh(s, s, p, 97), 1);
    assert.is(hex(a.read(s, 48)), expected);
    // out48 over the peer's x.
    const s2 = a.put(k, 16, 1);
    const p2 = a.put(peer, 16, 9);
    assert.is(box.x.p384_ecdh(p2 + 1, s2, p2, 97), 1);
    assert.is(hex(a.read(p2 + 1, 48)), expected);
    // pub97 overlapping priv48.
    const buf = a.alloc(97 + 48, 16, 3);
    box.sandbox.bytes().set(k, buf + 30);
    assert.is(box.x.p384_public(buf, buf + 30), 1);
    assert.is(hex(a.read(buf, 97)), hex(nodePublic(k)));
  });

  test(`${v}: p384_keygen draws distinct in-range scalars whose public key matches node`, () => {
    const a = box.arena();
    const priv = a.alloc(48, 16, 11);
    const pub = a.alloc(97, 16, 6);
    const e = new Ecdh(box, 4);
    const seen = new Set<string>();
    let prevPriv: Uint8Array | null = null;
    let prevPub: Uint8Array | null = null;
    for (let i = 0; i < 50; i++) {
      box.x.p384_keygen(priv, pub);
      const k = a.read(priv, 48);
      const pk = a.read(pub, 97);
      const kv = toBig(k);
      assert.ok(kv >= 1n && kv < N, "scalar in [1, n-1]");
      assert.is(hex(pk), hex(nodePublic(k)));
      // Two fresh key pairs agree on a shared secret.
      if (prevPriv !== null && prevPub !== null) {
        const [r1, s1] = e.ecdh(k, prevPub);
        const [r2, s2] = e.ecdh(prevPriv, pk);
        assert.is(r1, 1);
        assert.is(r2, 1);
        assert.is(hex(s1), hex(s2));
      }
      prevPriv = k;
      prevPub = pk;
      seen.add(hex(k));
      seen.add(hex(pk));
    }
    assert.is(seen.size, 100, "fresh randomness every call");
  });

  test(`${v}: differential against node on ${DIFF_PAIRS} random key pairs (both directions)`, async () => {
    const items = await nodeSide;
    assert.is(items.length, DIFF_PAIRS);
    const setups = Array.from({ length: 16 }, (_, m) => new Ecdh(box, m));
    let prevK = unhex(FIRST_PEER);
    let prevPub = nodePublic(prevK);
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      const e = setups[i % 16]!;
      const k = unhex(it.k);
      const [r1, pub] = e.publicKey(k);
      if (r1 !== 1 || hex(pub) !== it.pub) {
        assert.unreachable(`public key mismatch, pair ${i}, k = ${it.k}`);
      }
      const [r2, out] = v === "release" ? e.ecdh(k, prevPub) : e.ecdh(prevK, pub);
      if (r2 !== 1 || hex(out) !== it.shared) {
        assert.unreachable(`shared secret mismatch, pair ${i}, k = ${it.k}, previous k = ${hex(prevK)}`);
      }
      prevK = k;
      prevPub = pub;
    }
  });
}

test.run();
