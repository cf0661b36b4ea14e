// Loads private keys and their certificates in the key-server process, and refuses anything it
// would be wrong to sign with. Private keys leave this module only as KeyObjects (never as bytes or
// PEM), and only to the signing code of the same process (DESIGN.md invariant 1).
//
// Every refusal is a KeyLoadError whose message names the file(s) and what to do, because the
// person reading it is an operator at start-up, not a programmer.
import { createPrivateKey, createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { KeyKind } from "../../wasm/abi";
import { KeyLoadError } from "./errors";

/** Where one key lives. Paths only: the key server reads the files itself. */
export interface KeySpec {
  key: string;
  cert: string;
  /** A file whose first line is the passphrase of an encrypted key. */
  passphraseFile?: string;
}

export interface LoadedKey {
  keyFile: string;
  certFile: string;
  kind: KeyKind;
  /** RSA modulus bits, or the curve's field size. */
  bits: number;
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificate: X509Certificate;
}

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;

/** node:crypto's curve names for the curves tlsbox signs with. */
const CURVES: ReadonlyMap<string, { kind: KeyKind; bits: number; name: string }> = new Map([
  ["prime256v1", { kind: KeyKind.ECDSA_P256, bits: 256, name: "P-256" }],
  ["secp384r1", { kind: KeyKind.ECDSA_P384, bits: 384, name: "P-384" }],
]);

/**
 * Whether a PEM key file is encrypted: a PKCS#8 "ENCRYPTED PRIVATE KEY" block, or the legacy
 * "Proc-Type: 4,ENCRYPTED" header (neither can occur inside base64, which has no spaces or commas).
 * Searched in the Buffer itself: turning the file into a string would leave a copy of the key in
 * the heap that `fill(0)` cannot clear.
 */
function isEncryptedPem(pem: Buffer): boolean {
  return pem.includes("ENCRYPTED PRIVATE KEY") || pem.includes("4,ENCRYPTED");
}

function reason(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : e.message;
  return String(e);
}

function readFile(path: string, code: "KEY_UNREADABLE" | "CERT_UNREADABLE", what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new KeyLoadError(code, `cannot read ${what} ${path}: ${reason(e)}`);
  }
}

/** The first line of the file, as openssl's `-passin file:` reads it. */
function readPassphrase(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new KeyLoadError("PASSPHRASE_UNREADABLE", `cannot read passphrase file ${path}: ${reason(e)}`);
  }
  let end = raw.indexOf(0x0a);
  if (end < 0) end = raw.length;
  if (end > 0 && raw[end - 1] === 0x0d) end--;
  const passphrase = Buffer.from(raw.subarray(0, end));
  raw.fill(0);
  if (passphrase.length === 0) throw new KeyLoadError("PASSPHRASE_UNREADABLE", `passphrase file ${path} is empty (its first line is the passphrase)`);
  return passphrase;
}

function parsePrivateKey(spec: KeySpec): KeyObject {
  const pem = readFile(spec.key, "KEY_UNREADABLE", "key file");
  const encrypted = isEncryptedPem(pem);
  if (encrypted && spec.passphraseFile === undefined) {
    pem.fill(0);
    throw new KeyLoadError("PASSPHRASE_MISSING", `key ${spec.key} is encrypted: configure a passphrase file for it`);
  }
  const passphrase = encrypted && spec.passphraseFile !== undefined ? readPassphrase(spec.passphraseFile) : undefined;
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (encrypted && code === "ERR_OSSL_BAD_DECRYPT") {
      throw new KeyLoadError("PASSPHRASE_WRONG", `key ${spec.key}: the passphrase in ${spec.passphraseFile} does not decrypt it`);
    }
    throw new KeyLoadError("KEY_UNPARSABLE", `key ${spec.key}: not a PEM private key node:crypto can read (${reason(e)})`);
  } finally {
    pem.fill(0);
    passphrase?.fill(0);
  }
}

/** What the key is, or why tlsbox will not sign with it. */
function classify(key: KeyObject, file: string): { kind: KeyKind; bits: number; describe: string } {
  const type = key.asymmetricKeyType;
  if (type === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new KeyLoadError("KEY_SIZE_UNSUPPORTED", `key ${file}: RSA ${bits} bits, need ${MIN_RSA_BITS}–${MAX_RSA_BITS}`);
    }
    return { kind: KeyKind.RSA, bits, describe: `RSA ${bits}` };
  }
  if (type === "ec") {
    const curveName = key.asymmetricKeyDetails?.namedCurve ?? "unknown";
    const curve = CURVES.get(curveName);
    if (curve === undefined) throw new KeyLoadError("KEY_CURVE_UNSUPPORTED", `key ${file}: EC curve ${curveName}, need P-256 or P-384`);
    return { kind: curve.kind, bits: curve.bits, describe: `EC ${curve.name}` };
  }
  if (type === "rsa-pss") {
    throw new KeyLoadError(
      "KEY_TYPE_UNSUPPORTED",
      `key ${file}: an RSASSA-PSS (id-RSASSA-PSS) key; rsa_pss_rsae_* schemes need an rsaEncryption RSA key`,
    );
  }
  throw new KeyLoadError("KEY_TYPE_UNSUPPORTED", `key ${file}: ${type ?? "unknown"} key, need RSA or EC P-256/P-384`);
}

function describePublic(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === "rsa") return `RSA ${key.asymmetricKeyDetails?.modulusLength} bits`;
  if (type === "ec") return `EC ${key.asymmetricKeyDetails?.namedCurve}`;
  return String(type);
}

/** Why `fromKey` and `fromCert` differ, or null if they are the same public key. */
function publicKeyDifference(fromKey: KeyObject, fromCert: KeyObject): string | null {
  if (fromKey.asymmetricKeyType !== fromCert.asymmetricKeyType) {
    return `certificate holds ${describePublic(fromCert)}, key is ${describePublic(fromKey)}`;
  }
  const a: JsonWebKey = fromKey.export({ format: "jwk" });
  const b: JsonWebKey = fromCert.export({ format: "jwk" });
  if (a.kty === "RSA") {
    if (a.n !== b.n) return "RSA modulus differs";
    if (a.e !== b.e) return "RSA public exponent differs";
    return null;
  }
  if (a.crv !== b.crv) return `curve differs: certificate ${b.crv}, key ${a.crv}`;
  if (a.x !== b.x || a.y !== b.y) return "EC public point differs";
  return null;
}

/** Loads one key and its certificate, or throws KeyLoadError. */
export function loadKey(spec: KeySpec): LoadedKey {
  const privateKey = parsePrivateKey(spec);
  const { kind, bits } = classify(privateKey, spec.key);
  const certBytes = readFile(spec.cert, "CERT_UNREADABLE", "certificate file");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certBytes);
  } catch (e) {
    throw new KeyLoadError("CERT_UNPARSABLE", `certificate ${spec.cert}: not a PEM or DER X.509 certificate (${reason(e)})`);
  }
  const publicKey = createPublicKey(privateKey);
  const difference = publicKeyDifference(publicKey, certificate.publicKey);
  if (difference !== null) {
    throw new KeyLoadError("KEY_CERT_MISMATCH", `key ${spec.key} does not match certificate ${spec.cert} (${difference})`);
  }
  return { keyFile: spec.key, certFile: spec.cert, kind, bits, privateKey, publicKey, certificate };
}

/** Loads every key; the first failure stops start-up (a key server with a missing key is misconfigured). */
export function loadKeys(specs: readonly KeySpec[]): LoadedKey[] {
  if (specs.length === 0) throw new KeyLoadError("BAD_CONFIG", "no keys configured");
  if (specs.length > 255) throw new KeyLoadError("BAD_CONFIG", `${specs.length} keys configured, at most 255`);
  return specs.map(loadKey);
}
