// Signing through the key server's request handler (in-process): every scheme verifies against the
// certificate with node:crypto, refusals are precise, one signature per handshake, and the
// verification rule is checked against Wycheproof.
import { constants, createPrivateKey, createPublicKey, randomBytes, sign, verify, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { KeyKind, SignatureScheme } from "../../wasm/abi";
import { loadKeys } from "../../src/keyserver/keys";
import { decodeResponse, encodeRequest, Op, Status, type Request } from "../../src/keyserver/protocol";
import { schemeInfo, signContent, Tls12Scheme, verifyContent } from "../../src/keyserver/schemes";
import { KeyServer } from "../../src/keyserver/server";
import { verifyCertificateVerify } from "../../src/tls/session";
import { loadVectors, unhex } from "../helpers/repo";
import { makeFixtures } from "./fixtures";

const test = suite("keyserver signing");
const f = makeFixtures();
// Key ids: 0 RSA 2048, 1 P-256, 2 P-384.
const pairs = [f.rsaPkcs1, f.p256, f.p384];
const keys = loadKeys(pairs);
const certs = pairs.map((p) => new X509Certificate(readFileSync(p.cert)));
const logged: string[] = [];
const server = new KeyServer(keys, { log: (line) => logged.push(line) });

let nextHandshake = 1n;
let nextId = 1;
type Body = Request extends infer R ? (R extends Request ? Omit<R, "id"> : never) : never;

async function call(body: Body): Promise<{ status: Status; payload: Uint8Array }> {
  const frame = encodeRequest({ ...body, id: nextId++ } as Request);
  const answer = decodeResponse((await server.handle(frame.subarray(4))).subarray(4));
  return { status: answer.status, payload: answer.payload };
}

const cv = (keyId: number, scheme: number, hash: Uint8Array, handshakeId = nextHandshake++) =>
  call({ op: Op.SIGN_TLS13_CERT_VERIFY, keyId, handshakeId, scheme, transcriptHash: hash });

/** Built here independently of the key server (RFC 8446 §4.4.3). */
function certificateVerifyContent(hash: Uint8Array): Buffer {
  return Buffer.concat([Buffer.alloc(64, 0x20), Buffer.from("TLS 1.3, server CertificateVerify", "ascii"), Buffer.from([0]), hash]);
}

function nodeVerify(scheme: number, publicKey: KeyObject, content: Uint8Array, signature: Uint8Array): boolean {
  const hash = { 0x0403: "sha256", 0x0503: "sha384", 0x0804: "sha256", 0x0805: "sha384", 0x0806: "sha512", 0x0401: "sha256", 0x0501: "sha384", 0x0601: "sha512" }[scheme]!;
  const saltLength = { sha256: 32, sha384: 48, sha512: 64 }[hash]!;
  if ((scheme & 0xff00) === 0x0800) {
    return verify(hash, content, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
  }
  if ((scheme & 0xff) === 0x01) return verify(hash, content, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
  return verify(hash, content, publicKey, signature);
}

const TLS13_CASES: Array<[number, number]> = [
  [0, SignatureScheme.RSA_PSS_RSAE_SHA256],
  [0, SignatureScheme.RSA_PSS_RSAE_SHA384],
  [0, SignatureScheme.RSA_PSS_RSAE_SHA512],
  [1, SignatureScheme.ECDSA_SECP256R1_SHA256],
  [2, SignatureScheme.ECDSA_SECP384R1_SHA384],
];

for (const [keyId, scheme] of TLS13_CASES) {
  test(`TLS 1.3 CertificateVerify, ${schemeInfo(scheme)!.name}: verifies against the certificate for 32- and 48-byte transcript hashes`, async () => {
    for (const hashLength of [32, 48]) {
      const hash = randomBytes(hashLength);
      const { status, payload } = await cv(keyId, scheme, hash);
      assert.is(status, Status.OK);
      assert.ok(nodeVerify(scheme, certs[keyId].publicKey, certificateVerifyContent(hash), payload), "signature does not verify");
      // Bound to the transcript: the same signature does not verify for another hash.
      const other = Uint8Array.from(hash);
      other[0] ^= 1;
      assert.not.ok(nodeVerify(scheme, certs[keyId].publicKey, certificateVerifyContent(other), payload));
      if (keyId === 0) assert.is(payload.length, 256);
      else assert.is(payload[0], 0x30, "ECDSA signatures are DER SEQUENCEs");
    }
  });
}

test("a scheme that does not fit the key, or is not a TLS 1.3 scheme, is refused", async () => {
  const hash = randomBytes(32);
  const cases: Array<[number, number, Status]> = [
    [0, SignatureScheme.ECDSA_SECP256R1_SHA256, Status.SCHEME_KEY_MISMATCH],
    [1, SignatureScheme.ECDSA_SECP384R1_SHA384, Status.SCHEME_KEY_MISMATCH],
    [2, SignatureScheme.ECDSA_SECP256R1_SHA256, Status.SCHEME_KEY_MISMATCH],
    [1, SignatureScheme.RSA_PSS_RSAE_SHA256, Status.SCHEME_KEY_MISMATCH],
    [0, Tls12Scheme.RSA_PKCS1_SHA256, Status.UNKNOWN_SCHEME],
    [0, 0x0809, Status.UNKNOWN_SCHEME], // rsa_pss_pss_sha256: needs an id-RSASSA-PSS key
    [1, 0x0807, Status.UNKNOWN_SCHEME], // ed25519
    [0, 0x0201, Status.UNKNOWN_SCHEME], // rsa_pkcs1_sha1
    [3, SignatureScheme.RSA_PSS_RSAE_SHA256, Status.UNKNOWN_KEY],
    [0xffff, SignatureScheme.RSA_PSS_RSAE_SHA256, Status.UNKNOWN_KEY],
  ];
  for (const [keyId, scheme, expected] of cases) {
    const { status, payload } = await cv(keyId, scheme, hash);
    assert.is(status, expected, `key ${keyId} scheme 0x${scheme.toString(16)}: ${new TextDecoder().decode(payload)}`);
  }
});

test("transcript hashes of other lengths are refused; RSA decryption answers 48 bytes (premaster.test.ts has the rest)", async () => {
  for (const n of [0, 20, 31, 33, 47, 49, 64]) {
    assert.is((await cv(0, SignatureScheme.RSA_PSS_RSAE_SHA256, new Uint8Array(n))).status, Status.BAD_HASH_LENGTH, `${n} bytes`);
  }
  const decrypt = await call({ op: Op.RSA_DECRYPT_PREMASTER, keyId: 0, handshakeId: nextHandshake++, ciphertext: new Uint8Array(256) });
  assert.is(decrypt.status, Status.OK);
  assert.is(decrypt.payload.length, 48);
});

test("at most one signature per (key, handshake); refusals do not use the handshake's signature", async () => {
  const handshake = 0xdead_beef_0000_0001n;
  const hash = randomBytes(32);
  assert.is((await cv(0, SignatureScheme.ECDSA_SECP256R1_SHA256, hash, handshake)).status, Status.SCHEME_KEY_MISMATCH);
  assert.is((await cv(0, SignatureScheme.RSA_PSS_RSAE_SHA256, hash, handshake)).status, Status.OK);
  const again = await cv(0, SignatureScheme.RSA_PSS_RSAE_SHA256, hash, handshake);
  assert.is(again.status, Status.ALREADY_SIGNED);
  assert.ok(new TextDecoder().decode(again.payload).includes(String(handshake)));
  // Also across ops: a TLS 1.2 signature for the same handshake is a second signature.
  const ske = await call({
    op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, keyId: 0, handshakeId: handshake, scheme: Tls12Scheme.RSA_PKCS1_SHA256,
    clientRandom: randomBytes(32), serverRandom: randomBytes(32), params: x25519Params(),
  });
  assert.is(ske.status, Status.ALREADY_SIGNED);
  // Another key is another pair.
  assert.is((await cv(1, SignatureScheme.ECDSA_SECP256R1_SHA256, hash, handshake)).status, Status.OK);
  assert.is((await cv(1, SignatureScheme.ECDSA_SECP256R1_SHA256, hash, handshake)).status, Status.ALREADY_SIGNED);
});

test("the window is bounded: an evicted handshake id is accepted again (why ids must never be reused)", async () => {
  const small = new KeyServer(keys, { windowSize: 4, log: () => {} });
  const ask = async (handshakeId: bigint) => {
    const frame = encodeRequest({ op: Op.SIGN_TLS13_CERT_VERIFY, id: 1, keyId: 1, handshakeId, scheme: SignatureScheme.ECDSA_SECP256R1_SHA256, transcriptHash: new Uint8Array(32) });
    return decodeResponse((await small.handle(frame.subarray(4))).subarray(4)).status;
  };
  assert.is(await ask(1n), Status.OK);
  assert.is(await ask(1n), Status.ALREADY_SIGNED);
  for (const h of [2n, 3n, 4n, 5n]) assert.is(await ask(h), Status.OK);
  assert.is(await ask(1n), Status.OK);
  assert.is(await ask(5n), Status.ALREADY_SIGNED);
});

function x25519Params(): Uint8Array {
  return Uint8Array.from([3, 0x00, 0x1d, 32, ...randomBytes(32)]);
}

function p256Params(): Uint8Array {
  return Uint8Array.from([3, 0x00, 0x17, 65, 4, ...randomBytes(64)]);
}

test("TLS 1.2 ServerKeyExchange: PKCS#1 v1.5, PSS and ECDSA signatures over the randoms and params verify", async () => {
  const cases: Array<[number, number]> = [
    [0, Tls12Scheme.RSA_PKCS1_SHA256],
    [0, Tls12Scheme.RSA_PKCS1_SHA384],
    [0, Tls12Scheme.RSA_PKCS1_SHA512],
    [0, SignatureScheme.RSA_PSS_RSAE_SHA256],
    [1, SignatureScheme.ECDSA_SECP256R1_SHA256],
    [2, SignatureScheme.ECDSA_SECP384R1_SHA384],
  ];
  for (const [keyId, scheme] of cases) {
    const clientRandom = randomBytes(32);
    const serverRandom = randomBytes(32);
    const params = keyId === 1 ? p256Params() : x25519Params();
    const { status, payload } = await call({ op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, keyId, handshakeId: nextHandshake++, scheme, clientRandom, serverRandom, params });
    assert.is(status, Status.OK, `0x${scheme.toString(16)}`);
    const content = Buffer.concat([clientRandom, serverRandom, params]);
    assert.ok(nodeVerify(scheme, certs[keyId].publicKey, content, payload), `0x${scheme.toString(16)} does not verify`);
  }
});

test("TLS 1.2 params that are not one named-curve ServerECDHParams are refused", async () => {
  const bad: Uint8Array[] = [
    new Uint8Array(0),
    Uint8Array.from([1, 0x00, 0x1d, 32, ...new Uint8Array(32)]), // explicit_prime curve type
    Uint8Array.from([3, 0x00, 0x19, 32, ...new Uint8Array(32)]), // secp521r1: not offered
    Uint8Array.from([3, 0x00, 0x1d, 31, ...new Uint8Array(31)]), // x25519 key of 31 bytes
    Uint8Array.from([3, 0x00, 0x1d, 32, ...new Uint8Array(33)]), // trailing byte
    Uint8Array.from([3, 0x00, 0x17, 33, 2, ...new Uint8Array(32)]), // compressed P-256 point
    Uint8Array.from([3, 0x00, 0x17, 65, 2, ...new Uint8Array(64)]), // wrong point prefix
    new Uint8Array(1000).fill(0x41), // arbitrary bytes to sign
  ];
  for (const params of bad) {
    const { status } = await call({
      op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, keyId: 0, handshakeId: nextHandshake++, scheme: Tls12Scheme.RSA_PKCS1_SHA256,
      clientRandom: new Uint8Array(32), serverRandom: new Uint8Array(32), params,
    });
    assert.is(status, Status.BAD_PARAMS);
  }
});

interface PssFile {
  testGroups: Array<{ sha: string; mgfSha: string; sLen: number; publicKeyPem: string; tests: Array<{ tcId: number; msg: string; sig: string; result: string; flags: string[] }> }>;
}

test("Wycheproof rsa_pss_2048_sha256_mgf1_32: the verification rule accepts every valid and rejects every invalid signature", () => {
  const file = loadVectors<PssFile>("wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json");
  const info = schemeInfo(SignatureScheme.RSA_PSS_RSAE_SHA256)!;
  const counts = { valid: 0, invalid: 0 };
  for (const group of file.testGroups) {
    assert.equal([group.sha, group.mgfSha, group.sLen], ["SHA-256", "SHA-256", 32]);
    const publicKey = createPublicKey(group.publicKeyPem);
    for (const t of group.tests) {
      // No "acceptable" cases in this file; if one appears it needs a decision here.
      assert.ok(t.result === "valid" || t.result === "invalid", `tcId ${t.tcId}: result ${t.result}`);
      const ok = verifyContent(publicKey, info, unhex(t.msg), unhex(t.sig));
      assert.is(ok, t.result === "valid", `tcId ${t.tcId} (${t.flags.join(",")})`);
      counts[t.result as "valid" | "invalid"]++;
    }
  }
  assert.equal(counts, { valid: 63, invalid: 45 });
});

test("key-server PSS signatures pass that same rule; mutated ones and other salt lengths do not", async () => {
  const info = schemeInfo(SignatureScheme.RSA_PSS_RSAE_SHA256)!;
  const publicKey = certs[0].publicKey;
  for (let i = 0; i < 8; i++) {
    const hash = randomBytes(32);
    const { status, payload } = await cv(0, SignatureScheme.RSA_PSS_RSAE_SHA256, hash);
    assert.is(status, Status.OK);
    const content = certificateVerifyContent(hash);
    assert.ok(verifyContent(publicKey, info, content, payload));
    const flipped = Uint8Array.from(payload);
    flipped[i * 31] ^= 1 << i;
    assert.not.ok(verifyContent(publicKey, info, content, flipped));
    assert.not.ok(verifyContent(publicKey, info, content, payload.subarray(1)));
  }
  // A PSS signature with a 20-byte salt is valid PSS but not rsa_pss_rsae_sha256 (salt = hash length).
  const content = certificateVerifyContent(randomBytes(32));
  const salt20 = sign("sha256", content, { key: keys[0].privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 });
  assert.not.ok(verifyContent(publicKey, info, content, salt20));
});

test("an RSA signature one byte short is invalid even when its first byte is zero (RFC 8017 §8.2.2)", () => {
  // OpenSSL alone accepts the 255-byte form of a 256-byte signature that starts with 0x00; both the
  // key server's rule and the host's check must not. One signature in 256 starts with zero.
  const info = schemeInfo(SignatureScheme.RSA_PSS_RSAE_SHA256)!;
  for (let i = 0; i < 4096; i++) {
    const hash = randomBytes(32);
    const content = certificateVerifyContent(hash);
    const sig = sign("sha256", content, { key: keys[0].privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    if (sig[0] !== 0) continue;
    assert.ok(verifyContent(certs[0].publicKey, info, content, sig));
    assert.ok(verifyCertificateVerify(certs[0].publicKey, SignatureScheme.RSA_PSS_RSAE_SHA256, hash, sig));
    assert.not.ok(verifyContent(certs[0].publicKey, info, content, sig.subarray(1)));
    assert.not.ok(verifyCertificateVerify(certs[0].publicKey, SignatureScheme.RSA_PSS_RSAE_SHA256, hash, sig.subarray(1)));
    return;
  }
  assert.unreachable("no signature with a leading zero byte in 4,096 tries");
});

interface SigGenFile {
  testGroups: Array<{ sha: string; keySize: number; privateKeyPkcs8: string; tests: Array<{ tcId: number; msg: string; sig: string; result: string }> }>;
}

test("Wycheproof rsa_pkcs1_2048_sig_gen: PKCS#1 v1.5 signatures are byte-identical for SHA-256/384/512", async () => {
  const file = loadVectors<SigGenFile>("wycheproof/rsa_pkcs1_2048_sig_gen_test.json");
  const schemeOf: Record<string, number> = { "SHA-256": Tls12Scheme.RSA_PKCS1_SHA256, "SHA-384": Tls12Scheme.RSA_PKCS1_SHA384, "SHA-512": Tls12Scheme.RSA_PKCS1_SHA512 };
  let compared = 0;
  for (const group of file.testGroups) {
    const scheme = schemeOf[group.sha];
    if (scheme === undefined) continue; // SHA-1 and SHA-224 are not TLS 1.2 schemes tlsbox signs with
    // The "acceptable" groups left (SmallPublicKey: e = 3 and the like) are compared too: signing
    // is deterministic whatever the exponent, and the key loader, not the signer, judges keys.
    const info = schemeInfo(scheme)!;
    const privateKey = createPrivateKey({ key: Buffer.from(group.privateKeyPkcs8, "hex"), format: "der", type: "pkcs8" });
    for (const t of group.tests) {
      const signature = await signContent(privateKey, info, unhex(t.msg));
      assert.is(Buffer.from(signature).toString("hex"), t.sig, `tcId ${t.tcId}`);
      assert.ok(verifyContent(createPublicKey(privateKey), info, unhex(t.msg), signature));
      compared++;
    }
  }
  assert.is(compared, 27);
});

test("the key kinds announced in READY match the keys", () => {
  const frame = server.readyFrame();
  assert.equal(Array.from(frame.subarray(9)), [1, 3, 0, 0, KeyKind.RSA, 8, 0, 0, 1, KeyKind.ECDSA_P256, 1, 0, 0, 2, KeyKind.ECDSA_P384, 1, 128]);
  assert.is(logged.length, 0, logged.join("\n"));
});

test.after(() => f.cleanup());
test.run();
