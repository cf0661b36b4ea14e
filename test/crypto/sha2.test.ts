// SHA-256/384/512 (wasm/crypto/sha2.ts): FIPS 180 known answers, differential tests against
// node:crypto, streaming splits, snapshots, and misuse that must trap.
import { createHash } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CryptoBox, cryptoBoxes, EDGE_LENGTHS, seededRandom } from "../helpers/cryptobox";
import { hex } from "../helpers/repo";

const test = suite("SHA-2");
const boxes = await cryptoBoxes();

interface Alg { id: number; name: "sha256" | "sha384" | "sha512"; out: number; block: number }
const ALGS: Alg[] = [
  { id: 1, name: "sha256", out: 32, block: 64 },
  { id: 2, name: "sha384", out: 48, block: 128 },
  { id: 3, name: "sha512", out: 64, block: 128 },
];

/** A WebAssembly trap (unreachable), as opposed to any other exception. */
const isTrap = (e: unknown): boolean => e instanceof WebAssembly.RuntimeError;
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));
const nodeHash = (alg: Alg, data: Uint8Array): string => createHash(alg.name).update(data).digest("hex");

/** One-shot hash of `data` placed at `misalign` (mod 16), output at another misalignment. */
function wasmHash(box: CryptoBox, alg: Alg, data: Uint8Array, misalign = 0): string {
  const a = box.arena();
  const p = a.put(data, 16, misalign);
  const o = a.alloc(alg.out, 16, (misalign * 7 + 3) & 15);
  box.x.hash(alg.id, o, p, data.length);
  return hex(a.read(o, alg.out));
}

// FIPS 180-2 Appendices B-D (the same examples are in NIST's SHAVS "example values"):
// "abc", the empty string, the two-block messages, and one million repetitions of "a".
const TWO_BLOCK_256 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const TWO_BLOCK_512 =
  "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
const KAT: Record<string, { abc: string; empty: string; twoBlock: string; million: string }> = {
  sha256: {
    abc: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    empty: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    twoBlock: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    million: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  },
  sha384: {
    abc: "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    empty: "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
    twoBlock: "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039",
    million: "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
  },
  sha512: {
    abc: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    empty: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    twoBlock: "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
    million: "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
  },
};

/** Random lengths biased to the block boundaries' neighbourhood, where padding bugs live. */
function randomLength(next: (n: number) => Uint8Array): number {
  const r = next(2);
  const pick = r[0] & 3;
  if (pick === 0) return r[1] % 4; // tiny
  if (pick === 1) return 100 + (r[1] % 40); // around SHA-256's 55/56 and SHA-512's 111/112 bytes
  return ((r[0] << 8) | r[1]) % 600;
}

for (const box of boxes) {
  const v = box.variant;

  test(`${v}: sizes and lengths`, () => {
    assert.ok(box.x.hash_ctx_size() >= 208, "context holds 64 bytes of state and a 128-byte block");
    for (const alg of ALGS) {
      assert.is(box.x.hash_output_len(alg.id), alg.out, alg.name);
      assert.is(box.x.hash_block_len(alg.id), alg.block, alg.name);
    }
    for (const bad of [0, 4, -1, 224]) {
      assert.is(box.x.hash_output_len(bad), 0);
      assert.is(box.x.hash_block_len(bad), 0);
    }
  });

  test(`${v}: FIPS 180 known answers`, () => {
    for (const alg of ALGS) {
      const kat = KAT[alg.name];
      assert.is(wasmHash(box, alg, ascii("abc")), kat.abc, `${alg.name}("abc")`);
      assert.is(wasmHash(box, alg, new Uint8Array(0)), kat.empty, `${alg.name}("")`);
      const two = alg.id === 1 ? TWO_BLOCK_256 : TWO_BLOCK_512;
      assert.is(wasmHash(box, alg, ascii(two)), kat.twoBlock, `${alg.name} two-block message`);
      // One million "a", as 1,000 updates of 1,000 bytes (1,000 is not a multiple of the block).
      const a = box.arena();
      const ctx = a.alloc(box.x.hash_ctx_size(), 16, 5);
      const chunk = a.put(new Uint8Array(1000).fill(0x61), 16, 1);
      const out = a.alloc(alg.out);
      box.x.hash_init(ctx, alg.id);
      for (let i = 0; i < 1000; i++) box.x.hash_update(ctx, chunk, 1000);
      box.x.hash_final(ctx, out);
      assert.is(hex(a.read(out, alg.out)), kat.million, `${alg.name} million "a"`);
    }
  });

  test(`${v}: 10,000 random inputs per algorithm against node:crypto (edge lengths, misaligned)`, () => {
    for (const alg of ALGS) {
      const next = seededRandom(0x5a2 + alg.id);
      const lengths = [...EDGE_LENGTHS];
      while (lengths.length < 10_000) lengths.push(randomLength(next));
      lengths.forEach((len, i) => {
        const data = next(len);
        assert.is(wasmHash(box, alg, data, i & 15), nodeHash(alg, data), `${alg.name} length ${len} #${i}`);
      });
    }
  });

  test(`${v}: a 300-byte input split at every offset, and over every 3-update window`, () => {
    const data = seededRandom(300)(300);
    for (const alg of ALGS) {
      const want = nodeHash(alg, data);
      const a = box.arena();
      const p = a.put(data, 16, 3);
      const ctx = a.alloc(box.x.hash_ctx_size(), 16, 9);
      const out = a.alloc(alg.out);
      const mem = () => box.sandbox.bytes();
      for (let i = 0; i <= 300; i++) {
        box.x.hash_init(ctx, alg.id);
        box.x.hash_update(ctx, p, i);
        box.x.hash_update(ctx, p + i, 300 - i);
        box.x.hash_final(ctx, out);
        assert.is(hex(mem().subarray(out, out + alg.out)), want, `${alg.name} split at ${i}`);
      }
      // The sliding window of noble-hashes' tests: [0, i) [i, j) [j, 300) for every i <= j.
      let failures = 0;
      for (let i = 0; i <= 300; i++) {
        for (let j = i; j <= 300; j++) {
          box.x.hash_init(ctx, alg.id);
          box.x.hash_update(ctx, p, i);
          box.x.hash_update(ctx, p + i, j - i);
          box.x.hash_update(ctx, p + j, 300 - j);
          box.x.hash_final(ctx, out);
          if (Buffer.from(mem().buffer, out, alg.out).toString("hex") !== want) failures++;
        }
      }
      assert.is(failures, 0, `${alg.name}: windows that hashed wrong`);
    }
  });

  test(`${v}: hash_copy mid-stream snapshots the prefix and leaves the original running`, () => {
    const data = seededRandom(0xc0b7)(300);
    for (const alg of ALGS) {
      const a = box.arena();
      const p = a.put(data, 16, 1);
      const ctx = a.alloc(box.x.hash_ctx_size(), 16, 0);
      const snap = a.alloc(box.x.hash_ctx_size(), 16, 11);
      const out = a.alloc(alg.out, 16, 2);
      for (let k = 0; k <= 300; k++) {
        box.x.hash_init(ctx, alg.id);
        box.x.hash_update(ctx, p, k);
        box.x.hash_copy(snap, ctx);
        box.x.hash_final(snap, out);
        assert.is(hex(a.read(out, alg.out)), nodeHash(alg, data.subarray(0, k)), `${alg.name} snapshot at ${k}`);
        box.x.hash_update(ctx, p + k, 300 - k);
        box.x.hash_final(ctx, out);
        assert.is(hex(a.read(out, alg.out)), nodeHash(alg, data), `${alg.name} continued after snapshot at ${k}`);
      }
    }
  });

  test(`${v}: output may overlap the input; an unknown algorithm or a finalised context traps`, () => {
    for (const alg of ALGS) {
      const data = seededRandom(77)(200);
      const a = box.arena();
      const p = a.put(data);
      box.x.hash(alg.id, p, p, 200);
      assert.is(hex(a.read(p, alg.out)), nodeHash(alg, data), `${alg.name} in place`);

      const ctx = a.alloc(box.x.hash_ctx_size());
      box.x.hash_init(ctx, alg.id);
      box.x.hash_final(ctx, p);
      assert.throws(() => box.x.hash_update(ctx, p, 1), isTrap, "update after final");
      assert.throws(() => box.x.hash_final(ctx, p), isTrap, "final after final");
    }
    const a = box.arena();
    const ctx = a.alloc(box.x.hash_ctx_size());
    for (const bad of [0, 4, 224]) {
      assert.throws(() => box.x.hash_init(ctx, bad), isTrap, `init with alg ${bad}`);
      assert.throws(() => box.x.hash(bad, ctx, ctx, 0), isTrap, `hash with alg ${bad}`);
    }
  });
}

test.run();
