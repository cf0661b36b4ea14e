// Helpers for the TLS engine tests: engine factories for both variants, throwaway certificates
// made with openssl at test time, a signer over node:crypto, and a small TCP harness (net server →
// TlsSession → echo) that real clients (Node's tls.connect, openssl s_client) connect to.
import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey, constants, sign as cryptoSign, X509Certificate, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyKind, SignatureScheme } from "../../wasm/abi";
import type { SandboxFactory } from "../../src/sandbox/loader";
import { decryptPremaster, newRejectionSecret } from "../../src/keyserver/premaster";
import { ENGINE_MODULES, type EngineVariant } from "../../src/sandbox/modules";
import {
  certificateVerifyContent, serverKeyExchangeContent, createTlsSandboxFactory, TlsSession, type CertificateChoice, type CertificateSelector, type TlsPolicy,
} from "../../src/tls/session";

export const VARIANTS: EngineVariant[] = ["release", "checked"];

export function engineFactory(variant: EngineVariant, random?: (into: Uint8Array) => void): Promise<SandboxFactory> {
  return createTlsSandboxFactory(ENGINE_MODULES[variant], random === undefined ? {} : { random });
}

export interface TestCert {
  certPem: string;
  keyPem: string;
  certDer: Uint8Array;
  keyKind: KeyKind;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A self-signed certificate for `cn` (with a SAN), made by openssl in a temporary directory. */
export function makeCert(kind: "rsa" | "p256" | "p384", cn = "localhost"): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "tlsbox-cert-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    const newkey = kind === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", `ec_paramgen_curve:${kind === "p256" ? "P-256" : "P-384"}`];
    execFileSync("openssl", ["req", "-x509", ...newkey, "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${cn}`,
      "-addext", `subjectAltName=DNS:${cn}`], { stdio: "ignore" });
    const certPem = readFileSync(cert, "utf8");
    const keyPem = readFileSync(key, "utf8");
    const privateKey = createPrivateKey(keyPem);
    return {
      certPem, keyPem,
      certDer: new Uint8Array(new X509Certificate(certPem).raw),
      keyKind: kind === "rsa" ? KeyKind.RSA : kind === "p256" ? KeyKind.ECDSA_P256 : KeyKind.ECDSA_P384,
      privateKey,
      publicKey: createPublicKey(privateKey),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HASH_OF: Record<number, [string, number]> = {
  [SignatureScheme.RSA_PSS_RSAE_SHA256]: ["sha256", 32],
  [SignatureScheme.RSA_PSS_RSAE_SHA384]: ["sha384", 48],
  [SignatureScheme.RSA_PSS_RSAE_SHA512]: ["sha512", 64],
  [SignatureScheme.ECDSA_SECP256R1_SHA256]: ["sha256", 32],
  [SignatureScheme.ECDSA_SECP384R1_SHA384]: ["sha384", 48],
  [SignatureScheme.RSA_PKCS1_SHA256]: ["sha256", 0],
  [SignatureScheme.RSA_PKCS1_SHA384]: ["sha384", 0],
  [SignatureScheme.RSA_PKCS1_SHA512]: ["sha512", 0],
};

/** Signs a TLS 1.2 ServerKeyExchange as the key server's op 2 does: client_random ‖ server_random ‖ params. */
export function signServerKeyExchange(privateKey: KeyObject, scheme: SignatureScheme, content: Uint8Array): Uint8Array {
  const [hash, saltLength] = HASH_OF[scheme];
  if (scheme >= 0x0804 && scheme <= 0x0806) {
    return new Uint8Array(cryptoSign(hash, content, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }));
  }
  if (scheme === SignatureScheme.RSA_PKCS1_SHA256 || scheme === SignatureScheme.RSA_PKCS1_SHA384 || scheme === SignatureScheme.RSA_PKCS1_SHA512) {
    return new Uint8Array(cryptoSign(hash, content, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }));
  }
  return new Uint8Array(cryptoSign(hash, content, { key: privateKey, dsaEncoding: "der" }));
}

/** Signs a CertificateVerify as the key server will: content built from the hash (RFC 8446 §4.4.3). */
export function signCertificateVerify(privateKey: KeyObject, scheme: SignatureScheme, transcriptHash: Uint8Array): Uint8Array {
  const [hash, saltLength] = HASH_OF[scheme];
  const content = certificateVerifyContent(transcriptHash);
  if (scheme >= 0x0804 && scheme <= 0x0806) {
    return new Uint8Array(cryptoSign(hash, content, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }));
  }
  return new Uint8Array(cryptoSign(hash, content, { key: privateKey, dsaEncoding: "der" }));
}

const rejectionSecrets = new WeakMap<TestCert, Uint8Array>();
function rejectionSecret(cert: TestCert): Uint8Array {
  let s = rejectionSecrets.get(cert);
  if (s === undefined) {
    s = newRejectionSecret();
    rejectionSecrets.set(cert, s);
  }
  return s;
}

/** A certificate choice backed by a local key (the key server comes later). */
export function choiceFor(cert: TestCert, sign?: CertificateChoice["sign"]): CertificateChoice {
  return {
    chain: [cert.certDer],
    keyKind: cert.keyKind,
    publicKey: cert.publicKey,
    sign: sign ?? (async (scheme, hash) => signCertificateVerify(cert.privateKey, scheme, hash)),
    signServerKeyExchange: async (scheme, clientRandom, serverRandom, params) =>
      signServerKeyExchange(cert.privateKey, scheme, serverKeyExchangeContent(clientRandom, serverRandom, params)),
    // The key server's op 3 logic, in process (implicit rejection under a per-certificate secret).
    decryptPremaster: async (ciphertext) => decryptPremaster(cert.privateKey, (cert.privateKey.asymmetricKeyDetails?.modulusLength ?? 0) >> 3,
      rejectionSecret(cert), ciphertext),
  };
}

export interface Harness {
  port: number;
  sessions: TlsSession[];
  /** Resolves when every accepted connection has closed. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP server terminating TLS with the engine and echoing the plaintext back. The backend is
 * simulated: plaintext read from the session is written back into it; when the client closes
 * (close_notify), the echo closes too (half-close, then close_notify back).
 */
export async function startEchoServer(factory: SandboxFactory, policy: Partial<TlsPolicy>, select: CertificateSelector): Promise<Harness> {
  const sessions: TlsSession[] = [];
  const open = new Set<Socket>();
  let waiters: (() => void)[] = [];
  const server: Server = createServer((socket) => {
    open.add(socket);
    const session = new TlsSession(factory.instantiate(), policy, select);
    sessions.push(session);
    let ended = false;
    const flush = (): void => {
      for (;;) {
        const plain = session.read();
        if (plain.length > 0) session.write(plain);
        const out = session.takeOutgoing();
        if (out.length > 0 && !socket.destroyed) socket.write(out);
        if (plain.length === 0 && out.length === 0) break;
      }
      const st = session.status;
      if (st.peerClosed && !st.localClosed) session.close();
      const out = session.takeOutgoing();
      if (out.length > 0 && !socket.destroyed) socket.write(out);
      if (!ended && session.finished) {
        ended = true;
        socket.end();
      }
    };
    session.onUpdate = flush;
    socket.on("data", (d) => {
      session.receive(d);
      flush();
    });
    socket.on("error", () => {});
    socket.on("end", () => {
      flush();
      socket.end();
    });
    socket.on("close", () => {
      if (process.env.TLSBOX_DEBUG) console.log("session closed", session.status);
      open.delete(socket);
      session.dispose();
      if (open.size === 0) {
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    idle: () => (open.size === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    close: () => new Promise((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}
