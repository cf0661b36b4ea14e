// Reads a vhost's certificate file in the supervisor: public material only (the key file is read by
// the key server alone). The file is the operator's, not the network's: this is PEM from disk, and
// node:crypto's X509Certificate does the parsing.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { KeyKind } from "../../wasm/abi";
import { ProxyError } from "./errors";

/** A certificate chain as it crosses to the workers (IPC carries JSON): DER in base64. */
export interface LoadedChain {
  /** DER certificates, leaf first, base64. */
  chain: string[];
  keyKind: KeyKind;
  /** The leaf's public key, SPKI PEM: the worker verifies every signature against it. */
  publicKey: string;
  /** For log lines: the leaf's subject and expiry. */
  subject: string;
  validTo: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

export function loadChain(path: string): LoadedChain {
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch (e) {
    throw new ProxyError("CERT_UNUSABLE", `cannot read certificate file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new ProxyError("CERT_UNUSABLE", `${path} holds no PEM certificate`);
  const certs = blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw new ProxyError("CERT_UNUSABLE", `${path}: certificate ${i + 1} does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  const leaf = certs[0]!;
  return {
    chain: certs.map((c) => c.raw.toString("base64")),
    keyKind: keyKindOf(leaf, path),
    publicKey: leaf.publicKey.export({ type: "spki", format: "pem" }).toString(),
    subject: leaf.subject.replace(/\n/g, ", "),
    validTo: leaf.validTo,
  };
}

function keyKindOf(cert: X509Certificate, path: string): KeyKind {
  const key = cert.publicKey;
  if (key.asymmetricKeyType === "rsa") return KeyKind.RSA;
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return KeyKind.ECDSA_P256;
    if (curve === "secp384r1") return KeyKind.ECDSA_P384;
    throw new ProxyError("CERT_UNUSABLE", `${path}: the certificate's key is on curve ${curve ?? "?"}; tlsbox signs with P-256 and P-384 only`);
  }
  throw new ProxyError("CERT_UNUSABLE", `${path}: the certificate's key is ${key.asymmetricKeyType ?? "of unknown type"}; tlsbox signs with RSA, P-256 and P-384`);
}
