// Keys and certificates for the key-server tests, made with the openssl CLI in a temporary
// directory at test time (no key material is committed), and the key-server entry bundled for
// spawning.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { REPO_ROOT } from "../helpers/repo";

export interface Pair {
  key: string;
  cert: string;
}

export interface Fixtures {
  dir: string;
  rsaPkcs1: Pair;
  rsaPkcs8: Pair;
  /** PKCS#8 encrypted with AES-256-CBC under the passphrase in `passphraseFile`. */
  rsaEncrypted: Pair;
  /** Traditional (PKCS#1) PEM encryption, "Proc-Type: 4,ENCRYPTED". */
  rsaEncryptedTraditional: Pair;
  passphraseFile: string;
  wrongPassphraseFile: string;
  rsa3072: Pair;
  rsa1024: Pair;
  p256: Pair;
  p384: Pair;
  p521: Pair;
  ed25519: Pair;
  /** A second RSA 2048 key, for mismatches. */
  rsaOther: Pair;
  cleanup(): void;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function selfSigned(dir: string, name: string, key: string): string {
  const cert = join(dir, `${name}.crt`);
  openssl(["req", "-x509", "-new", "-key", key, "-subj", `/CN=${name}.tlsbox.test`, "-days", "2", "-out", cert]);
  return cert;
}

/** Keys are generated on first use, so each test file pays only for the keys it touches. */
export function makeFixtures(): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), "tlsbox-keys-"));
  const path = (name: string) => join(dir, name);
  const cache = new Map<string, unknown>();
  const once = <T>(name: string, make: () => T): T => {
    if (!cache.has(name)) cache.set(name, make());
    return cache.get(name) as T;
  };
  const rsa = (name: string, bits: number): Pair =>
    once(name, () => {
      openssl(["genrsa", "-traditional", "-out", path(`${name}.key`), String(bits)]);
      return { key: path(`${name}.key`), cert: selfSigned(dir, name, path(`${name}.key`)) };
    });
  const pkey = (name: string, args: string[]): Pair =>
    once(name, () => {
      openssl(["genpkey", ...args, "-out", path(`${name}.key`)]);
      return { key: path(`${name}.key`), cert: selfSigned(dir, name, path(`${name}.key`)) };
    });
  const passphraseFile = (): string =>
    once("pass", () => {
      writeFileSync(path("pass.txt"), "correct horse battery staple\n");
      return path("pass.txt");
    });
  const derived = (name: string, args: (from: string, to: string) => string[]): Pair =>
    once(name, () => {
      const base = rsa("rsa2048", 2048);
      openssl(args(base.key, path(`${name}.key`)));
      return { key: path(`${name}.key`), cert: base.cert };
    });

  return {
    dir,
    get rsaPkcs1() {
      return rsa("rsa2048", 2048);
    },
    get rsaPkcs8() {
      return derived("rsa2048-pkcs8", (from, to) => ["pkcs8", "-topk8", "-nocrypt", "-in", from, "-out", to]);
    },
    get rsaEncrypted() {
      return derived("rsa2048-enc", (from, to) => ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", from, "-passout", `file:${passphraseFile()}`, "-out", to]);
    },
    get rsaEncryptedTraditional() {
      return derived("rsa2048-enc-trad", (from, to) => ["rsa", "-traditional", "-aes256", "-in", from, "-passout", `file:${passphraseFile()}`, "-out", to]);
    },
    get passphraseFile() {
      return passphraseFile();
    },
    get wrongPassphraseFile() {
      return once("wrong-pass", () => {
        writeFileSync(path("wrong-pass.txt"), "incorrect horse\n");
        return path("wrong-pass.txt");
      });
    },
    get rsa3072() {
      return rsa("rsa3072", 3072);
    },
    get rsa1024() {
      return rsa("rsa1024", 1024);
    },
    // SEC1 "EC PRIVATE KEY" for P-256 and PKCS#8 for P-384: both PEM forms node:crypto reads.
    get p256() {
      return once("p256", () => {
        openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path("p256.key")]);
        return { key: path("p256.key"), cert: selfSigned(dir, "p256", path("p256.key")) };
      });
    },
    get p384() {
      return pkey("p384", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]);
    },
    get p521() {
      return pkey("p521", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"]);
    },
    get ed25519() {
      return pkey("ed25519", ["-algorithm", "ED25519"]);
    },
    get rsaOther() {
      return rsa("rsa2048-other", 2048);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Bundles src/keyserver/main.ts into `dir` so a test can spawn the real key-server process. */
export async function buildKeyServerEntry(dir: string): Promise<string> {
  const outfile = join(dir, "keyserver-main.mjs");
  await esbuild.build({
    entryPoints: [join(REPO_ROOT, "src", "keyserver", "main.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    outfile,
    logLevel: "error",
  });
  return outfile;
}
