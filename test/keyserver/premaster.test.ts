// Op 3 RSA_DECRYPT_PREMASTER: the branch-free PKCS#1 v1.5 unpadding against every Wycheproof
// RSAES-PKCS1-v1_5 vector (valid → the message, invalid → rejected), then the 48-byte premaster
// policy (right length and version → the premaster, anything else → the deterministic HMAC value),
// and the key server's answer: always OK and 48 bytes, the same frame shape for good and bad.
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadKeys } from "../../src/keyserver/keys";
import { decodeResponse, encodeRequest, Op, Status, type Request } from "../../src/keyserver/protocol";
import { decryptPremaster, pkcs1Type2Message, rejectionValue, selectPremaster } from "../../src/keyserver/premaster";
import { KeyServer } from "../../src/keyserver/server";
import { loadVectors, unhex } from "../helpers/repo";
import { makeFixtures } from "./fixtures";

const test = suite("keyserver premaster (op 3, implicit rejection)");

interface Vector { tcId: number; comment: string; flags: string[]; msg: string; ct: string; result: "valid" | "invalid" | "acceptable" }
const file = loadVectors<{ testGroups: { privateKeyPem: string; keySize: number; tests: Vector[] }[] }>("wycheproof/rsa_pkcs1_2048_test.json");

test("Wycheproof rsa_pkcs1_2048: valid → message, invalid → rejected (raw RSA, then our unpadding)", () => {
  let valid = 0;
  let invalid = 0;
  for (const group of file.testGroups) {
    const key = createPrivateKey(group.privateKeyPem);
    const k = group.keySize / 8;
    for (const t of group.tests) {
      const ct = unhex(t.ct);
      let em: Uint8Array | null = null;
      if (ct.length === k) {
        try {
          em = new Uint8Array(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ct));
        } catch {
          em = null;
        }
      }
      const msg = em === null ? null : pkcs1Type2Message(em);
      if (t.result === "valid") {
        valid++;
        assert.ok(msg !== null, `tcId ${t.tcId} (${t.comment}) rejected`);
        assert.is(Buffer.from(msg!).toString("hex"), t.msg, `tcId ${t.tcId}`);
      } else {
        invalid++;
        assert.is(msg, null, `tcId ${t.tcId} (${t.comment}) accepted`);
      }
    }
  }
  assert.ok(valid >= 10 && invalid >= 20, `${valid} valid, ${invalid} invalid`);
});

// ---- The 48-byte premaster policy, on EMs made by hand and encrypted with the public key ----

const fixtures = makeFixtures();
test.after(() => fixtures.cleanup());
const pem = loadKeys([fixtures.rsaPkcs1])[0];
const publicKey = createPublicKey(pem.privateKey);
const K = 256;

function em(message: Uint8Array, options: { first?: number; second?: number; psZeroAt?: number; psLength?: number } = {}): Uint8Array {
  const psLength = options.psLength ?? K - 3 - message.length;
  const out = new Uint8Array(K);
  out[0] = options.first ?? 0;
  out[1] = options.second ?? 2;
  const ps = randomBytes(psLength).map((b) => (b === 0 ? 1 : b));
  if (options.psZeroAt !== undefined) ps[options.psZeroAt] = 0;
  out.set(ps, 2);
  out[2 + psLength] = 0;
  out.set(message, 3 + psLength);
  return out;
}

const encrypt = (e: Uint8Array): Uint8Array => new Uint8Array(publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, e));

function premaster(version = [3, 3]): Uint8Array {
  const p = new Uint8Array(randomBytes(48));
  p[0] = version[0];
  p[1] = version[1];
  return p;
}

test("selectPremaster: the premaster only for good padding, exactly 48 bytes and version 0x0303", () => {
  const fallback = new Uint8Array(randomBytes(48));
  const good = premaster();
  assert.equal([...selectPremaster(em(good), fallback)], [...good]);
  const cases: [string, Uint8Array][] = [
    ["version 0x0302", em(premaster([3, 2]))],
    ["version 0x0403", em(premaster([4, 3]))],
    ["47 bytes", em(premaster().subarray(0, 47))],
    ["49 bytes", em(new Uint8Array([...premaster(), 7]))],
    ["first byte 1", em(good, { first: 1 })],
    ["block type 1", em(good, { second: 1 })],
    ["a zero inside the first 8 PS bytes", em(good, { psZeroAt: 5 })],
    ["no separator", (() => { const e = em(good); e[K - 49] = 9; return e; })()],
    ["all zero", new Uint8Array(K)],
  ];
  for (const [name, e] of cases) assert.equal([...selectPremaster(e, fallback)], [...fallback], name);
});

test("decryptPremaster: end to end with the key, deterministic rejection values of one length", () => {
  const secret = new Uint8Array(randomBytes(32));
  const good = premaster();
  assert.equal([...decryptPremaster(pem.privateKey, K, secret, encrypt(em(good)))], [...good]);
  for (const bad of [encrypt(em(premaster([3, 1]))), encrypt(em(good, { second: 1 })), new Uint8Array(K - 1), new Uint8Array(K).fill(0xff), new Uint8Array(0)]) {
    const a = decryptPremaster(pem.privateKey, K, secret, bad);
    const b = decryptPremaster(pem.privateKey, K, secret, bad);
    assert.is(a.length, 48);
    assert.equal([...a], [...b], "the same ciphertext gives the same answer");
    assert.equal([...a], [...rejectionValue(secret, bad)]);
  }
  // Another secret (another key server start, another key): another value.
  const bad = encrypt(em(premaster([3, 1])));
  assert.not.equal([...decryptPremaster(pem.privateKey, K, new Uint8Array(32), bad)], [...decryptPremaster(pem.privateKey, K, secret, bad)]);
});

test("the key server's op 3: always OK with 48 bytes; the premaster when valid; one operation per handshake", async () => {
  const keys = loadKeys([fixtures.rsaPkcs1, fixtures.p256]);
  const rsaPublic = createPublicKey(keys[0].privateKey);
  const server = new KeyServer(keys, { log: () => {} });
  let id = 1;
  const call = async (body: Omit<Extract<Request, { op: Op.RSA_DECRYPT_PREMASTER }>, "id">) => {
    const frame = encodeRequest({ ...body, id: id++ } as Request);
    return decodeResponse((await server.handle(frame.subarray(4))).subarray(4));
  };
  const good = premaster();
  const ct = new Uint8Array(publicEncrypt({ key: rsaPublic, padding: constants.RSA_NO_PADDING }, em(good)));
  const ok = await call({ op: Op.RSA_DECRYPT_PREMASTER, keyId: 0, handshakeId: 1n, ciphertext: ct });
  assert.is(ok.status, Status.OK);
  assert.equal([...ok.payload], [...good]);
  const answers = [];
  for (const [n, c] of [[2n, new Uint8Array(256)], [3n, new Uint8Array(randomBytes(256))], [4n, new Uint8Array(10)], [5n, ct.map((b, i) => (i === 100 ? b ^ 1 : b))]] as const) {
    const r = await call({ op: Op.RSA_DECRYPT_PREMASTER, keyId: 0, handshakeId: n, ciphertext: c });
    assert.is(r.status, Status.OK);
    assert.is(r.payload.length, 48);
    answers.push(Buffer.from(r.payload).toString("hex"));
  }
  assert.is(new Set(answers).size, answers.length);
  // The same handshake cannot use the key twice.
  assert.is((await call({ op: Op.RSA_DECRYPT_PREMASTER, keyId: 0, handshakeId: 1n, ciphertext: ct })).status, Status.ALREADY_SIGNED);
  // An EC key cannot decrypt.
  assert.is((await call({ op: Op.RSA_DECRYPT_PREMASTER, keyId: 1, handshakeId: 9n, ciphertext: ct })).status, Status.SCHEME_KEY_MISMATCH);
  assert.is(server.stats.decryptions, 5);
});

test.run();
