// The default set-up's certificate: a self-signed RSA certificate for localhost, 127.0.0.1 and ::1,
// made with node-forge on first run and kept in the state directory (.tlsbox/, git-ignored).
// It runs in a short-lived process of its own (default.ts), so that the supervisor never holds the
// private key, in the default set-up as in any other (DESIGN.md invariant 1).
import type forgeModule from "node-forge";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProxyError } from "../proxy/errors";

export interface DemoFiles {
  dir: string;
  cert: string;
  key: string;
  /** True if this run made them. */
  created: boolean;
}

const VALID_DAYS = 365;

/** Where the files are, and whether both exist. */
export function demoFiles(dir: string): DemoFiles {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  return { dir, cert, key, created: false };
}

export async function ensureDemoCertificate(dir: string): Promise<DemoFiles> {
  const { cert, key } = demoFiles(dir);
  if (existsSync(cert) && existsSync(key)) return { dir, cert, key, created: false };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Loaded here only: every other role of the program has no use for node-forge.
    const forge = ((await import("node-forge")) as unknown as { default: typeof forgeModule }).default;
    const { certPem, keyPem } = selfSigned(forge);
    // The key first and private: a crash between the two writes leaves no certificate without key.
    writeFileSync(key, keyPem, { mode: 0o600 });
    chmodSync(key, 0o600);
    writeFileSync(cert, certPem, { mode: 0o644 });
  } catch (e) {
    throw new ProxyError("DEFAULT_SETUP", `cannot create the default certificate in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { dir, cert, key, created: true };
}

function selfSigned(forge: typeof forgeModule): { certPem: string; keyPem: string } {
  // node-forge hands RSA key generation to node:crypto when it is there (fast and a real CSPRNG).
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // A positive 16-byte serial (RFC 5280 §4.1.2.2: positive, at most 20 bytes).
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString("hex");
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + VALID_DAYS * 86_400_000);
  const name = [{ name: "commonName", value: "localhost" }, { name: "organizationName", value: "tlsbox demo" }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    // Self-signed and used as its own trust anchor (curl --cacert): a CA certificate, so every
    // verifier accepts it as an anchor; the SAN below is what names the server.
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }, { type: 7, ip: "::1" }] },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}
