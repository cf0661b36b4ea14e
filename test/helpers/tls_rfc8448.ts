// RFC 8448 §3 material for the engine tests: the server's RSA key, the certificate, and a
// replayed handshake driven up to any point, with record protection done by node:crypto using the
// RFC's secrets (and, past the EncryptedExtensions, secrets derived over our own transcript).
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey } from "node:crypto";
import { CipherSuite, KeyKind, NamedGroup } from "../../wasm/abi";
import type { EngineVariant } from "../../src/sandbox/modules";
import { TlsSession, type CertificateChoice, type TlsPolicy } from "../../src/tls/session";
import { loadVectors, unhex } from "./repo";
import { engineFactory, signCertificateVerify } from "./tls";

export const RFC = loadVectors("rfc8448-simple-1rtt.json");

const b64u = (h: string): string => Buffer.from(h, "hex").toString("base64url");
const k = RFC.serverRsaKey;
const jwk = { kty: "RSA", n: b64u(k.modulus), e: b64u(k.publicExponent) };
export const RFC_PUBLIC_KEY = createPublicKey({ key: jwk, format: "jwk" });
export const RFC_PRIVATE_KEY = createPrivateKey({
  key: { ...jwk, d: b64u(k.privateExponent), p: b64u(k.prime1), q: b64u(k.prime2), dp: b64u(k.exponent1), dq: b64u(k.exponent2), qi: b64u(k.coefficient) },
  format: "jwk",
});

export const RFC_CERT_MSG = unhex(RFC.handshakeMessages.certificate);
export const RFC_CERT_DER = RFC_CERT_MSG.subarray(11, 11 + ((RFC_CERT_MSG[8] << 16) | (RFC_CERT_MSG[9] << 8) | RFC_CERT_MSG[10]));
export const RFC_CLIENT_HELLO = unhex(RFC.handshakeMessages.clientHello);
export const RFC_CLIENT_HELLO_RECORD = unhex(RFC.records[0].completeRecord);

export const sha256 = (...parts: Uint8Array[]): Buffer => createHash("sha256").update(Buffer.concat(parts)).digest();

/** RFC 8446 §7.1 HKDF-Expand-Label with SHA-256 (output ≤ 32 bytes: one HMAC block). */
export function expandLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, "latin1");
  const info = Buffer.concat([Buffer.from([length >> 8, length & 255, full.length]), full, Buffer.from([context.length]), context]);
  return createHmac("sha256", secret).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

export interface Keys {
  key: Uint8Array;
  iv: Uint8Array;
}

export function trafficKeys(secret: Uint8Array): Keys {
  return { key: expandLabel(secret, "key", new Uint8Array(0), 16), iv: expandLabel(secret, "iv", new Uint8Array(0), 12) };
}

function nonceFor(iv: Uint8Array, seq: number): Buffer {
  const n = Buffer.from(iv);
  for (let i = 0; i < 8; i++) n[11 - i] ^= Math.floor(seq / 2 ** (8 * i)) & 255;
  return n;
}

/** Opens one AES-128-GCM TLS 1.3 record; returns [inner type, content]. Throws if it does not open. */
export function openRecord(keys: Keys, seq: number, record: Uint8Array): [number, Buffer] {
  const header = record.subarray(0, 5);
  const len = (record[3] << 8) | record[4];
  if (record.length < 5 + len) throw new Error("short record");
  const d = createDecipheriv("aes-128-gcm", keys.key, nonceFor(keys.iv, seq));
  d.setAAD(header);
  d.setAuthTag(record.subarray(5 + len - 16, 5 + len));
  const inner = Buffer.concat([d.update(record.subarray(5, 5 + len - 16)), d.final()]);
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  return [inner[end], inner.subarray(0, end)];
}

/** Seals one AES-128-GCM TLS 1.3 record with `padding` zero bytes. */
export function sealRecord(keys: Keys, seq: number, type: number, content: Uint8Array, padding = 0): Buffer {
  const inner = Buffer.concat([content, Buffer.from([type]), Buffer.alloc(padding)]);
  const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 255]);
  const c = createCipheriv("aes-128-gcm", keys.key, nonceFor(keys.iv, seq));
  c.setAAD(header);
  const body = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
  return Buffer.concat([header, body]);
}

export function rfcChoice(): CertificateChoice {
  return {
    chain: [RFC_CERT_DER],
    keyKind: KeyKind.RSA,
    publicKey: RFC_PUBLIC_KEY,
    sign: async (scheme, hash) => signCertificateVerify(RFC_PRIVATE_KEY, scheme, hash),
  };
}

export const RFC_POLICY: Partial<TlsPolicy> = {
  suites: [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256],
  groups: [NamedGroup.X25519, NamedGroup.SECP256R1],
};

/** A session on a factory replaying the RFC's server random and X25519 key. */
export async function rfcSession(variant: EngineVariant, policy: Partial<TlsPolicy> = RFC_POLICY): Promise<TlsSession> {
  const draws = [unhex(RFC.trace[5].values.ServerHello).subarray(6, 38), unhex(RFC.server.x25519PrivateKey)];
  const factory = await engineFactory(variant, (into) => {
    const next = draws.shift();
    if (next === undefined || next.length !== into.length) throw new Error(`unexpected draw of ${into.length} bytes`);
    into.set(next);
  });
  return new TlsSession(factory.instantiate(), policy, () => rfcChoice());
}

/** Waits until the session's asynchronous steps (certificate, signature) have run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export interface InFlight {
  session: TlsSession;
  /** The server's records: ServerHello, then the protected flight. */
  serverRecords: Uint8Array;
  clientHs: Keys;
  serverHs: Keys;
  /** Transcript hash ClientHello..server Finished (our transcript). */
  thFin: Buffer;
  /** The decrypted flight: EncryptedExtensions ‖ Certificate ‖ CertificateVerify ‖ Finished. */
  flight: Buffer;
  /** Inner plaintext length (content + type byte) of each flight record. */
  innerSizes: number[];
  clientFinished: Buffer;
}

/**
 * Runs a ClientHello (the RFC's, or one rebuilt from it) through a session until the server flight
 * is out. The handshake traffic secrets come from the RFC's handshake secret (which depends only
 * on the key exchange) over the actual transcript: for the RFC's own ClientHello they are the
 * RFC's handshake traffic secrets.
 */
export async function toServerFlight(variant: EngineVariant, clientHello: Uint8Array = RFC_CLIENT_HELLO, policy: Partial<TlsPolicy> = RFC_POLICY): Promise<InFlight> {
  const session = await rfcSession(variant, policy);
  session.receive(new Uint8Array([22, 3, 1, clientHello.length >> 8, clientHello.length & 255, ...clientHello]));
  await settle();
  const serverRecords = session.takeOutgoing();
  const shLen = 5 + ((serverRecords[3] << 8) | serverRecords[4]);
  const thSh = sha256(clientHello, serverRecords.subarray(5, shLen));
  const hs = unhex(RFC.keySchedule.handshakeSecret.secret);
  const serverHsSecret = expandLabel(hs, "s hs traffic", thSh, 32);
  const clientHsSecret = expandLabel(hs, "c hs traffic", thSh, 32);
  const serverHs = trafficKeys(serverHsSecret);
  const clientHs = trafficKeys(clientHsSecret);
  // The flight: as many protected records as the client's record_size_limit called for.
  const parts: Buffer[] = [];
  const innerSizes: number[] = [];
  for (let p = shLen, seq = 0; p < serverRecords.length; seq++) {
    const len = 5 + ((serverRecords[p + 3] << 8) | serverRecords[p + 4]);
    const [type, content] = openRecord(serverHs, seq, serverRecords.subarray(p, p + len));
    if (type !== 22) throw new Error(`flight record of type ${type}`);
    parts.push(content);
    innerSizes.push(len - 5 - 16);
    p += len;
  }
  const flight = Buffer.concat(parts);
  const thFin = sha256(clientHello, serverRecords.subarray(5, shLen), flight);
  const verify = createHmac("sha256", expandLabel(clientHsSecret, "finished", new Uint8Array(0), 32)).update(thFin).digest();
  return { session, serverRecords, clientHs, serverHs, thFin, flight, innerSizes, clientFinished: Buffer.concat([Buffer.from("14000020", "hex"), verify]) };
}

export interface Connected extends InFlight {
  clientAp: Keys;
  serverAp: Keys;
  clientApSecret: Buffer;
  serverApSecret: Buffer;
}

/** The RFC handshake completed (client Finished accepted); application keys over our transcript. */
export async function connected(variant: EngineVariant, policy: Partial<TlsPolicy> = RFC_POLICY): Promise<Connected> {
  const f = await toServerFlight(variant, RFC_CLIENT_HELLO, policy);
  // Cross-check: for the RFC's ClientHello the derived handshake keys are the RFC's.
  if (Buffer.from(f.clientHs.key).toString("hex") !== RFC.trafficKeys.clientHandshake.key) throw new Error("client handshake key differs from RFC 8448");
  f.session.receive(sealRecord(f.clientHs, 0, 22, f.clientFinished));
  if (!f.session.status.handshakeDone) throw new Error(`handshake not done: ${f.session.error?.message}`);
  const master = unhex(RFC.keySchedule.masterSecret.secret);
  const clientApSecret = expandLabel(master, "c ap traffic", f.thFin, 32);
  const serverApSecret = expandLabel(master, "s ap traffic", f.thFin, 32);
  return { ...f, clientApSecret, serverApSecret, clientAp: trafficKeys(clientApSecret), serverAp: trafficKeys(serverApSecret) };
}

// ---- ClientHellos taken apart and rebuilt ----

/** A ClientHello taken apart, to rebuild with one defect. */
export interface Hello {
  version: number[];
  random: number[];
  sid: number[];
  suites: number[];
  compression: number[];
  extensions: [number, number[]][];
}

export const u16 = (n: number): number[] => [(n >> 8) & 255, n & 255];
export const u24 = (n: number): number[] => [(n >> 16) & 255, (n >> 8) & 255, n & 255];

export function parseHello(msg: Uint8Array): Hello {
  let p = 4;
  const take = (n: number): number[] => { const out = [...msg.subarray(p, p + n)]; p += n; return out; };
  const version = take(2);
  const random = take(32);
  const sid = take(msg[p++]);
  const suites = take((msg[p] << 8) | msg[p + 1] + (p += 2) * 0);
  const compression = take(msg[p++]);
  const extEnd = p + 2 + ((msg[p] << 8) | msg[p + 1]);
  p += 2;
  const extensions: [number, number[]][] = [];
  while (p < extEnd) {
    const type = (msg[p] << 8) | msg[p + 1];
    const len = (msg[p + 2] << 8) | msg[p + 3];
    p += 4;
    extensions.push([type, take(len)]);
  }
  return { version, random, sid, suites, compression, extensions };
}

/** The ClientHello as one plaintext record. */
export function helloRecord(h: Hello): Uint8Array {
  const exts = h.extensions.flatMap(([t, body]) => [...u16(t), ...u16(body.length), ...body]);
  const body = [...h.version, ...h.random, h.sid.length, ...h.sid, ...u16(h.suites.length), ...h.suites, h.compression.length, ...h.compression, ...u16(exts.length), ...exts];
  const msg = [1, ...u24(body.length), ...body];
  return new Uint8Array([22, 3, 1, ...u16(msg.length), ...msg]);
}

