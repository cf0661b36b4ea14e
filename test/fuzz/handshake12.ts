// TLS 1.2 for the fuzzer: a deterministic full handshake against the engine on the raw driver (the
// posthandshake12 target's prefix, and seeds that reach the connected TLS 1.2 state for the server
// and record targets), and the client's record protection for SEALED steps afterwards.
//
// The client side is computed here with node:crypto and test/helpers/tls12.ts (PRF, ClientHello):
// fixed client random and fixed ECDHE private keys, so with the harness's tape randomness on the
// server side every run of a driver gets the same bytes. Static RSA works too: the harness answers
// KeyOp 3 with DUMMY_PREMASTER, so the client knows the premaster whatever ciphertext it sends.
import { createCipheriv, createECDH, createHash, createPrivateKey, createPublicKey, diffieHellman } from "node:crypto";
import { helloMessage, hello12, parseMessages, prf12, record, u16 } from "../helpers/tls12";
import { Op, type Input } from "./format";
import { DUMMY_PREMASTER, policyStep, TLS12_ONLY_POLICY, type EngineDriver, type StepSealer } from "./harness";
import { parseRecords } from "./mutate";

export interface Suite12 {
  suite: number;
  hash: "sha256" | "sha384";
  cipher: "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305";
  keyLen: number;
  /** 4: GCM (salt ‖ explicit nonce, RFC 5288); 12: ChaCha20-Poly1305 (IV xor sequence, RFC 7905). */
  ivLen: number;
  staticRsa: boolean;
}

export const SUITES12: Record<number, Suite12> = {
  0xc02b: { suite: 0xc02b, hash: "sha256", cipher: "aes-128-gcm", keyLen: 16, ivLen: 4, staticRsa: false },
  0xc02f: { suite: 0xc02f, hash: "sha256", cipher: "aes-128-gcm", keyLen: 16, ivLen: 4, staticRsa: false },
  0xc02c: { suite: 0xc02c, hash: "sha384", cipher: "aes-256-gcm", keyLen: 32, ivLen: 4, staticRsa: false },
  0xc030: { suite: 0xc030, hash: "sha384", cipher: "aes-256-gcm", keyLen: 32, ivLen: 4, staticRsa: false },
  0xcca8: { suite: 0xcca8, hash: "sha256", cipher: "chacha20-poly1305", keyLen: 32, ivLen: 12, staticRsa: false },
  0xcca9: { suite: 0xcca9, hash: "sha256", cipher: "chacha20-poly1305", keyLen: 32, ivLen: 12, staticRsa: false },
  0x009c: { suite: 0x009c, hash: "sha256", cipher: "aes-128-gcm", keyLen: 16, ivLen: 4, staticRsa: true },
  0x009d: { suite: 0x009d, hash: "sha384", cipher: "aes-256-gcm", keyLen: 32, ivLen: 4, staticRsa: true },
};

/** The handshakes posthandshake12 runs (an input's first HOST step picks one: data[3] & 3). */
export const HANDSHAKES12: { suite: number; group: number }[] = [
  { suite: 0xc02f, group: 0x1d }, // AES-128-GCM, explicit nonces, X25519
  { suite: 0xcca8, group: 0x17 }, // ChaCha20-Poly1305, implicit nonces, P-256
  { suite: 0xc030, group: 0x1d }, // AES-256-GCM with the SHA-384 PRF
  { suite: 0x009c, group: 0x1d }, // static RSA (the premaster is the harness's DUMMY_PREMASTER)
];

const CLIENT_RANDOM = new Uint8Array(32).map((_, i) => 0x40 + i);
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");
const CLIENT_X25519 = Buffer.alloc(32, 0x5c);
const CLIENT_P256 = Buffer.alloc(32, 0x3a);

/** The ClientHello the deterministic client sends: OpenSSL's -tls1_2 shape with one suite and one group. */
export function clientHello12(suite: number, group: number, random: Uint8Array = CLIENT_RANDOM): Uint8Array {
  const h = hello12({
    random,
    suites: [suite, 0x00ff],
    extensions: hello12().extensions!.map(([t, b]): [number, number[]] => (t === 0x0a ? [t, [...u16(2), ...u16(group)]] : [t, b])),
  });
  return helloMessage(h);
}

export interface Keys12 {
  suite: Suite12;
  key: Buffer;
  iv: Buffer;
}

/** Seals SEALED steps as TLS 1.2 records (RFC 5246 §6.2.3.3) under the client write key. */
export class Sealer12 implements StepSealer {
  private seq: bigint;
  constructor(private readonly keys: Keys12, firstSeq = 1n) {
    this.seq = firstSeq;
  }

  /**
   * data = [content type, content...]: the record type is the real one (TLS 1.2 has no inner
   * type); an empty step seals an empty application-data record.
   */
  seal(data: Uint8Array): Uint8Array {
    const type = data.length > 0 ? data[0] : 23;
    return seal12(this.keys, this.seq++, type, data.subarray(1));
  }

  observeServer(_bytes: Uint8Array): void {}
}

export function seal12(keys: Keys12, seq: bigint, type: number, plain: Uint8Array): Uint8Array {
  const explicit = Buffer.alloc(8);
  explicit.writeBigUInt64BE(seq);
  let nonce: Buffer;
  if (keys.suite.ivLen === 4) nonce = Buffer.concat([keys.iv, explicit]);
  else {
    nonce = Buffer.from(keys.iv);
    for (let i = 0; i < 8; i++) nonce[4 + i] ^= explicit[i];
  }
  const aad = Buffer.alloc(13);
  aad.writeBigUInt64BE(seq, 0);
  aad[8] = type;
  aad[9] = 3;
  aad[10] = 3;
  aad.writeUInt16BE(plain.length & 0xffff, 11);
  const c = createCipheriv(keys.suite.cipher as "aes-128-gcm", keys.key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: plain.length });
  const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  const body = keys.suite.ivLen === 4 ? Buffer.concat([explicit, ct]) : ct;
  // A body over 2^16 - 1 cannot be framed: cut (the engine sees a record that does not authenticate).
  return record(type, body.subarray(0, 0xffff));
}

export interface Handshake12 {
  /** HOST (policy 4), the ClientHello record, then ClientKeyExchange, CCS and the sealed Finished. */
  prefix: Input;
  /** The client write keys; the Finished used sequence number 0, so SEALED steps start at 1. */
  clientKeys: Keys12;
  /** The client's Finished verify_data (renegotiation_info of a secure renegotiation, RFC 5746). */
  clientVerifyData: Uint8Array;
  suite: number;
  group: number;
}

/**
 * Runs the ClientHello against the engine once (policy TLS12_ONLY_POLICY), reads the server's flight
 * and computes the client's: ClientKeyExchange (ECDHE with a fixed key, or static RSA with any
 * ciphertext: the host's answer is DUMMY_PREMASTER), CCS, Finished. Throws if the engine does not
 * then complete the handshake.
 */
export function tls12Handshake(driver: EngineDriver, suite: number, group: number): Handshake12 {
  const info = SUITES12[suite];
  const hello = clientHello12(suite, group);
  const helloRecord = record(22, hello, 0x0301);
  const server: Uint8Array[] = [];
  const capture: StepSealer = { seal: (d) => d, observeServer: (b) => server.push(b.slice()) };
  const first: Input = [policyStep(TLS12_ONLY_POLICY), { op: Op.RECV, data: helloRecord }];
  const r = driver.run(first, capture);
  if (r.failure !== null) throw new Error(`TLS 1.2 handshake (0x${suite.toString(16)}): ${r.failure.message}`);
  const out = new Uint8Array(Buffer.concat(server));
  const records = parseRecords(out).records;
  if (records.some((rec) => rec.type !== 22)) throw new Error(`TLS 1.2 handshake (0x${suite.toString(16)}): the server sent records ${records.map((x) => x.type)}`);
  const messages = parseMessages(new Uint8Array(Buffer.concat(records.map((rec) => rec.body))));
  const transcript: Uint8Array[] = [hello];
  let serverRandom = new Uint8Array(0);
  let serverPoint = new Uint8Array(0);
  let ems = false;
  for (const m of messages) {
    transcript.push(new Uint8Array([m.type, m.body.length >> 16, (m.body.length >> 8) & 255, m.body.length & 255, ...m.body]));
    if (m.type === 2) {
      serverRandom = m.body.slice(2, 34);
      const sidLen = m.body[34];
      if (((m.body[35 + sidLen] << 8) | m.body[36 + sidLen]) !== suite) throw new Error("the engine chose another suite");
      ems = findExtension(m.body.subarray(38 + sidLen), 0x17);
    } else if (m.type === 12) {
      serverPoint = m.body.slice(4, 4 + m.body[3]);
    }
  }
  if (messages.at(-1)?.type !== 14) throw new Error(`TLS 1.2 handshake (0x${suite.toString(16)}): no ServerHelloDone`);
  let shared: Buffer;
  let cke: Uint8Array;
  if (info.staticRsa) {
    shared = Buffer.from(DUMMY_PREMASTER);
    const ct = new Uint8Array(256).fill(0x5a); // any ciphertext: the host answers DUMMY_PREMASTER
    cke = new Uint8Array([16, 0, (ct.length + 2) >> 8, (ct.length + 2) & 255, ...u16(ct.length), ...ct]);
  } else if (group === 0x1d) {
    const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, CLIENT_X25519]), format: "der", type: "pkcs8" });
    const pub = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);
    shared = diffieHellman({ privateKey, publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, serverPoint]), format: "der", type: "spki" }) });
    cke = new Uint8Array([16, 0, 0, pub.length + 1, pub.length, ...pub]);
  } else {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(CLIENT_P256);
    const pub = ecdh.getPublicKey();
    shared = ecdh.computeSecret(serverPoint);
    cke = new Uint8Array([16, 0, 0, pub.length + 1, pub.length, ...pub]);
  }
  transcript.push(cke);
  const hash = (): Buffer => { const h = createHash(info.hash); for (const m of transcript) h.update(m); return h.digest(); };
  const master = ems
    ? prf12(info.hash, shared, "extended master secret", hash(), 48)
    : prf12(info.hash, shared, "master secret", Buffer.concat([CLIENT_RANDOM, serverRandom]), 48);
  const kb = prf12(info.hash, master, "key expansion", Buffer.concat([serverRandom, CLIENT_RANDOM]), 2 * info.keyLen + 2 * info.ivLen);
  const clientKeys: Keys12 = { suite: info, key: kb.subarray(0, info.keyLen), iv: kb.subarray(2 * info.keyLen, 2 * info.keyLen + info.ivLen) };
  const verifyData = prf12(info.hash, master, "client finished", hash(), 12);
  const finished = seal12(clientKeys, 0n, 22, new Uint8Array([20, 0, 0, 12, ...verifyData]));
  const prefix: Input = [...first, { op: Op.RECV, data: new Uint8Array([...record(22, cke), ...record(20, [1]), ...finished]) }];
  const done = driver.run(prefix);
  if (done.failure !== null || !done.handshakeDone) {
    throw new Error(`TLS 1.2 handshake (0x${suite.toString(16)}) did not complete: ${done.failure?.message ?? "no HANDSHAKE_DONE"}`);
  }
  return { prefix, clientKeys, clientVerifyData: new Uint8Array(verifyData), suite, group };
}

function findExtension(block: Uint8Array, type: number): boolean {
  if (block.length < 2) return false;
  const end = Math.min(block.length, 2 + ((block[0] << 8) | block[1]));
  for (let p = 2; p + 4 <= end;) {
    const t = (block[p] << 8) | block[p + 1];
    const l = (block[p + 2] << 8) | block[p + 3];
    if (t === type) return true;
    p += 4 + l;
  }
  return false;
}
