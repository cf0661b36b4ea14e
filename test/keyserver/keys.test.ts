import { KeyObject } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { KeyKind } from "../../wasm/abi";
import { KeyLoadError, type KeyLoadErrorCode } from "../../src/keyserver/errors";
import { loadKey, loadKeys, type KeySpec } from "../../src/keyserver/keys";
import { makeFixtures } from "./fixtures";

const test = suite("keyserver keys");
const f = makeFixtures();

function refused(spec: KeySpec, code: KeyLoadErrorCode, ...mustMention: string[]): void {
  try {
    loadKey(spec);
  } catch (e) {
    assert.instance(e, KeyLoadError);
    const err = e as KeyLoadError;
    assert.is(err.code, code, err.message);
    for (const text of mustMention) assert.ok(err.message.includes(text), `"${err.message}" does not mention "${text}"`);
    return;
  }
  assert.unreachable(`${spec.key} was accepted`);
}

test("RSA 2048 in PKCS#1, PKCS#8, encrypted PKCS#8 and encrypted traditional PEM all load as the same key", () => {
  const loaded = [
    loadKey(f.rsaPkcs1),
    loadKey(f.rsaPkcs8),
    loadKey({ ...f.rsaEncrypted, passphraseFile: f.passphraseFile }),
    loadKey({ ...f.rsaEncryptedTraditional, passphraseFile: f.passphraseFile }),
  ];
  for (const k of loaded) {
    assert.is(k.kind, KeyKind.RSA);
    assert.is(k.bits, 2048);
    assert.instance(k.privateKey, KeyObject);
    assert.is(k.privateKey.type, "private");
    assert.ok(k.publicKey.equals(loaded[0].publicKey));
  }
});

test("RSA 3072, EC P-256 (SEC1) and EC P-384 (PKCS#8) load with their kind and size", () => {
  const rsa = loadKey(f.rsa3072);
  assert.equal([rsa.kind, rsa.bits], [KeyKind.RSA, 3072]);
  const p256 = loadKey(f.p256);
  assert.equal([p256.kind, p256.bits], [KeyKind.ECDSA_P256, 256]);
  const p384 = loadKey(f.p384);
  assert.equal([p384.kind, p384.bits], [KeyKind.ECDSA_P384, 384]);
  assert.is(loadKeys([f.rsaPkcs1, f.p256, f.p384]).length, 3);
});

test("RSA 1024 is refused with its size and the allowed range", () => {
  refused(f.rsa1024, "KEY_SIZE_UNSUPPORTED", f.rsa1024.key, "RSA 1024 bits", "2048–4096");
});

test("other curves and key types are refused", () => {
  refused(f.p521, "KEY_CURVE_UNSUPPORTED", f.p521.key, "secp521r1", "P-256 or P-384");
  refused(f.ed25519, "KEY_TYPE_UNSUPPORTED", f.ed25519.key, "ed25519");
});

test("a key that does not match its certificate is refused, naming both files and the difference", () => {
  refused({ key: f.rsaOther.key, cert: f.rsaPkcs1.cert }, "KEY_CERT_MISMATCH", f.rsaOther.key, f.rsaPkcs1.cert, "RSA modulus differs");
  refused({ key: f.p256.key, cert: f.rsaPkcs1.cert }, "KEY_CERT_MISMATCH", f.p256.key, f.rsaPkcs1.cert, "certificate holds RSA");
  refused({ key: f.p256.key, cert: f.p384.cert }, "KEY_CERT_MISMATCH", f.p256.key, f.p384.cert, "curve differs");
  // The message reads as one sentence an operator can act on.
  try {
    loadKey({ key: f.rsaOther.key, cert: f.rsaPkcs1.cert });
  } catch (e) {
    assert.is((e as Error).message, `key ${f.rsaOther.key} does not match certificate ${f.rsaPkcs1.cert} (RSA modulus differs)`);
  }
});

test("encrypted keys: missing, wrong, empty and unreadable passphrase files are told apart", () => {
  refused(f.rsaEncrypted, "PASSPHRASE_MISSING", f.rsaEncrypted.key, "passphrase file");
  refused({ ...f.rsaEncrypted, passphraseFile: f.wrongPassphraseFile }, "PASSPHRASE_WRONG", f.rsaEncrypted.key, f.wrongPassphraseFile);
  refused({ ...f.rsaEncryptedTraditional, passphraseFile: f.wrongPassphraseFile }, "PASSPHRASE_WRONG", f.wrongPassphraseFile);
  const missing = join(f.dir, "no-such-pass.txt");
  refused({ ...f.rsaEncrypted, passphraseFile: missing }, "PASSPHRASE_UNREADABLE", `cannot read passphrase file ${missing}`, "no such file");
  const empty = join(f.dir, "empty-pass.txt");
  writeFileSync(empty, "\n");
  refused({ ...f.rsaEncrypted, passphraseFile: empty }, "PASSPHRASE_UNREADABLE", empty, "empty");
  // Only the first line is the passphrase (as with openssl -passin file:); CRLF is tolerated.
  const crlf = join(f.dir, "crlf-pass.txt");
  writeFileSync(crlf, "correct horse battery staple\r\nsecond line\n");
  assert.is(loadKey({ ...f.rsaEncrypted, passphraseFile: crlf }).bits, 2048);
});

test("unreadable and unparsable files name the file", () => {
  const nowhere = join(f.dir, "nowhere.key");
  refused({ key: nowhere, cert: f.rsaPkcs1.cert }, "KEY_UNREADABLE", `cannot read key file ${nowhere}`);
  refused({ key: f.rsaPkcs1.key, cert: join(f.dir, "nowhere.crt") }, "CERT_UNREADABLE", "nowhere.crt");
  refused({ key: f.rsaPkcs1.cert, cert: f.rsaPkcs1.cert }, "KEY_UNPARSABLE", f.rsaPkcs1.cert);
  refused({ key: f.rsaPkcs1.key, cert: f.rsaPkcs1.key }, "CERT_UNPARSABLE", f.rsaPkcs1.key);
  if (process.getuid?.() !== 0) {
    // Root reads anything, so a permission test only means something for other users.
    const locked = join(f.dir, "locked.key");
    writeFileSync(locked, "x");
    chmodSync(locked, 0);
    refused({ key: locked, cert: f.rsaPkcs1.cert }, "KEY_UNREADABLE", locked);
  }
});

test("an empty key list is a configuration error", () => {
  assert.throws(() => loadKeys([]), (e: unknown) => e instanceof KeyLoadError && e.code === "BAD_CONFIG");
});

test.after(() => f.cleanup());
test.run();
