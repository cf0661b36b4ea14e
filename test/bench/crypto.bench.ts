// npm run bench [-- --json] [-- --only NAME[,NAME]]   (all.bench.ts runs this, then engine.bench.ts)
//
// The sandbox's crypto against node:crypto (OpenSSL) on the same operation, in the same run:
// 16 KiB inputs for the hashes and AEADs, one scalar multiplication for the key exchanges, one
// new instance for `instantiate`. The AEADs are measured per record, as a TLS stack pays them:
// for node:crypto a new cipher object, the AAD, the data and the tag for every 16 KiB record.
import { createCipheriv, createDecipheriv, createECDH, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, randomBytes, type CipherGCM, type CipherGCMTypes, type DecipherGCM, type KeyObject } from "node:crypto";
import { SandboxFactory } from "../../src/sandbox/loader";
import { ENGINE_MODULES } from "../../src/sandbox/modules";
import { releaseCryptoBox } from "../helpers/cryptobox";
import { compare, report, type Result } from "./measure";

const json = process.argv.includes("--json");
const onlyArg = process.argv.indexOf("--only");
const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(",") : null;
const wanted = (name: string): boolean => only === null || only.includes(name);

const RECORD = 16384;
const box = await releaseCryptoBox();
const x = box.x;
const has = (...names: string[]): boolean => names.every((n) => typeof x[n] === "function");
const arena = box.arena();
const input = randomBytes(RECORD);
const inPtr = arena.put(input);
const outPtr = arena.alloc(RECORD + 64);
const tagPtr = arena.alloc(16);
const key32 = randomBytes(32);
const keyPtr = arena.put(key32);
const nonce = randomBytes(12);
const noncePtr = arena.put(nonce);
const aad = Buffer.from([0x17, 0x03, 0x03, 0x40, 0x11]); // a TLS 1.3 record header
const aadPtr = arena.put(aad);

const results: Result[] = [];
const skipped: string[] = [];
function run(name: string, needs: string[], measure: () => Result): void {
  if (!wanted(name)) return;
  if (!has(...needs)) {
    skipped.push(name);
    return;
  }
  results.push(measure());
}

const HASH_SHA256 = 1;
const HASH_SHA384 = 2;

run("sha256", ["hash"], () =>
  compare("sha256", {
    sandbox: () => x.hash(HASH_SHA256, outPtr, inPtr, RECORD),
    native: () => createHash("sha256").update(input).digest(),
  }, RECORD));

run("sha384", ["hash"], () =>
  compare("sha384", {
    sandbox: () => x.hash(HASH_SHA384, outPtr, inPtr, RECORD),
    native: () => createHash("sha384").update(input).digest(),
  }, RECORD));

run("hmac-sha256", ["hmac"], () =>
  compare("hmac-sha256", {
    sandbox: () => x.hmac(HASH_SHA256, outPtr, keyPtr, 32, inPtr, RECORD),
    native: () => createHmac("sha256", key32).update(input).digest(),
  }, RECORD));

for (const bits of [128, 256]) {
  const name = `aes-${bits}-gcm-seal`;
  run(name, ["gcm_ctx_size", "gcm_init", "gcm_seal"], () => {
    const ctx = arena.alloc(x.gcm_ctx_size());
    x.gcm_init(ctx, keyPtr, bits / 8);
    const key = key32.subarray(0, bits / 8);
    return compare(name, {
      sandbox: () => x.gcm_seal(ctx, noncePtr, aadPtr, aad.length, inPtr, RECORD, outPtr, tagPtr),
      native: () => {
        const c = createCipheriv(`aes-${bits}-gcm` as CipherGCMTypes, key, nonce);
        c.setAAD(aad);
        c.update(input);
        c.final();
        c.getAuthTag();
      },
    }, RECORD);
  });
}

run("aes-128-gcm-open", ["gcm_ctx_size", "gcm_init", "gcm_seal", "gcm_open"], () => {
  const ctx = arena.alloc(x.gcm_ctx_size());
  x.gcm_init(ctx, keyPtr, 16);
  const key = key32.subarray(0, 16);
  const c = createCipheriv("aes-128-gcm", key, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(input), c.final()]);
  const tag = c.getAuthTag();
  const ctPtr = arena.put(ct);
  const tPtr = arena.put(tag);
  return compare("aes-128-gcm-open", {
    sandbox: () => { if (x.gcm_open(ctx, noncePtr, aadPtr, aad.length, ctPtr, RECORD, outPtr, tPtr) !== 1) throw new Error("open failed"); },
    native: () => {
      const d = createDecipheriv("aes-128-gcm", key, nonce);
      d.setAAD(aad);
      d.setAuthTag(tag);
      d.update(ct);
      d.final();
    },
  }, RECORD);
});

run("chacha20-poly1305-seal", ["chacha20_poly1305_seal"], () =>
  compare("chacha20-poly1305-seal", {
    sandbox: () => x.chacha20_poly1305_seal(keyPtr, noncePtr, aadPtr, aad.length, inPtr, RECORD, outPtr, tagPtr),
    native: () => {
      const c = createCipheriv("chacha20-poly1305", key32, nonce, { authTagLength: 16 }) as unknown as CipherGCM;
      c.setAAD(aad);
      c.update(input);
      c.final();
      c.getAuthTag();
    },
  }, RECORD));

run("chacha20-poly1305-open", ["chacha20_poly1305_seal", "chacha20_poly1305_open"], () => {
  const c = createCipheriv("chacha20-poly1305", key32, nonce, { authTagLength: 16 }) as unknown as CipherGCM;
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(input), c.final()]);
  const tag = c.getAuthTag();
  const ctPtr = arena.put(ct);
  const tPtr = arena.put(tag);
  return compare("chacha20-poly1305-open", {
    sandbox: () => { if (x.chacha20_poly1305_open(keyPtr, noncePtr, aadPtr, aad.length, ctPtr, RECORD, outPtr, tPtr) !== 1) throw new Error("open failed"); },
    native: () => {
      const d = createDecipheriv("chacha20-poly1305", key32, nonce, { authTagLength: 16 }) as unknown as DecipherGCM;
      d.setAAD(aad);
      d.setAuthTag(tag);
      d.update(ct);
      d.final();
    },
  }, RECORD);
});

// Key exchange: one shared-secret computation (a scalar multiplication by the peer's point).
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

run("x25519", ["x25519", "x25519_base"], () => {
  const scalar = randomBytes(32);
  const peerScalar = randomBytes(32);
  const scalarPtr = arena.put(scalar);
  const peerPub = arena.alloc(32);
  x.x25519_base(peerPub, arena.put(peerScalar));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, scalar]), format: "der", type: "pkcs8" });
  const publicKey: KeyObject = createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, arena.read(peerPub, 32)]), format: "der", type: "spki" });
  return compare("x25519", {
    sandbox: () => x.x25519(outPtr, scalarPtr, peerPub),
    native: () => diffieHellman({ privateKey, publicKey }),
  });
});

for (const [name, fn, curve, jwkCurve, coord] of [["p256-ecdh", "p256_ecdh", "prime256v1", "P-256", 32], ["p384-ecdh", "p384_ecdh", "secp384r1", "P-384", 48]] as const) {
  run(name, [fn], () => {
    const ours = createECDH(curve);
    ours.generateKeys();
    const peer = createECDH(curve);
    peer.generateKeys();
    const privPtr = arena.put(ours.getPrivateKey());
    const peerPub = peer.getPublicKey();
    const peerPtr = arena.put(peerPub);
    const jwk = (pub: Buffer) => ({ kty: "EC", crv: jwkCurve, x: pub.subarray(1, 1 + coord).toString("base64url"), y: pub.subarray(1 + coord).toString("base64url") });
    const privateKey = createPrivateKey({ key: { ...jwk(ours.getPublicKey()), d: ours.getPrivateKey().toString("base64url") }, format: "jwk" });
    const publicKey = createPublicKey({ key: jwk(peerPub), format: "jwk" });
    return compare(name, {
      sandbox: () => { if (x[fn](outPtr, privPtr, peerPtr, peerPub.length) !== 1) throw new Error("ecdh failed"); },
      native: () => diffieHellman({ privateKey, publicKey }),
    });
  });
}

// One fresh engine instance, as each connection gets (the spare pool pays this ahead of demand).
// There is no native counterpart; the @wasmer/wasi figure is the alternative provider's cost.
if (wanted("instantiate")) {
  const minimal = await SandboxFactory.create(ENGINE_MODULES.release, { wasi: "minimal" });
  const wasmer = await SandboxFactory.create(ENGINE_MODULES.release, { wasi: "wasmer" });
  results.push(compare("instantiate", { sandbox: () => minimal.instantiate().dispose(), native: null }, undefined, 5, 100));
  results.push(compare("instantiate-wasmer-wasi", { sandbox: () => wasmer.instantiate().dispose(), native: null }, undefined, 5, 100));
}

// all.bench.ts runs the engine benchmark after this one: with --only naming none of these rows,
// print nothing rather than an empty table.
if (results.length > 0 || skipped.length > 0 || only === null) report(results, json);
if (skipped.length > 0 && !json) console.log(`\nnot built yet: ${skipped.join(", ")}`);
