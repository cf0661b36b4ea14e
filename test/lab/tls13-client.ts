// A small, self-contained TLS 1.3 client for the labs (test/lab/*.ts): enough protocol to complete
// a real handshake with the real proxy and then send records a normal client never would (the
// Heartbleed lab's heartbeats). Everything is node:crypto; nothing here comes from tlsbox.
//
//   ClientHello: TLS_AES_128_GCM_SHA256, a fresh X25519 key share, SNI, supported_versions,
//                supported_groups, signature_algorithms, a legacy session id (middlebox mode)
//   ServerHello: its key share → ECDHE → the RFC 8446 §7.1 key schedule (SHA-256)
//   the encrypted flight up to the server's Finished, which is verified (the compatibility
//   ChangeCipherSpec is skipped); the certificate is NOT verified — the lab attacks, it does not trust
//   then the client Finished; application records both ways with the traffic keys, which the
//   caller gets to see (`secrets`) so a lab can look for them in leaked memory.
import { createCipheriv, createDecipheriv, createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";

// ---- RFC 8446 §7.1 key schedule, for any of the TLS 1.3 hashes --------------------------------------

export type Hash = "sha256" | "sha384";

/** HKDF-Extract (RFC 5869). */
export function hkdfExtract(hash: Hash, salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac(hash, salt).update(ikm).digest();
}

/** HKDF-Expand-Label (RFC 8446 §7.1), any output length. */
export function expandLabel(hash: Hash, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, "latin1");
  const info = Buffer.concat([Buffer.from([length >> 8, length & 255, full.length]), full, Buffer.from([context.length]), context]);
  const out: Buffer[] = [];
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1; out.reduce((n, b) => n + b.length, 0) < length; i++) {
    t = createHmac(hash, secret).update(Buffer.concat([t, info, Buffer.from([i])])).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}

export const digest = (hash: Hash, ...parts: Uint8Array[]): Buffer => createHash(hash).update(Buffer.concat(parts)).digest();

/** A TLS 1.3 cipher suite as the key schedule sees it. */
export interface Suite {
  name: string;
  hash: Hash;
  keyLength: number;
  cipher: "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305";
}

export const SUITES: Record<string, Suite> = {
  TLS_AES_128_GCM_SHA256: { name: "TLS_AES_128_GCM_SHA256", hash: "sha256", keyLength: 16, cipher: "aes-128-gcm" },
  TLS_AES_256_GCM_SHA384: { name: "TLS_AES_256_GCM_SHA384", hash: "sha384", keyLength: 32, cipher: "aes-256-gcm" },
  TLS_CHACHA20_POLY1305_SHA256: { name: "TLS_CHACHA20_POLY1305_SHA256", hash: "sha256", keyLength: 32, cipher: "chacha20-poly1305" },
};

export interface Keys {
  key: Buffer;
  iv: Buffer;
}

/** The record key and IV of a traffic secret (RFC 8446 §7.3). */
export function trafficKeys(suite: Suite, secret: Uint8Array): Keys {
  return { key: expandLabel(suite.hash, secret, "key", new Uint8Array(0), suite.keyLength), iv: expandLabel(suite.hash, secret, "iv", new Uint8Array(0), 12) };
}

// ---- Records (AES-128-GCM: the only suite this client offers) -----------------------------------

const AES128: Suite = SUITES.TLS_AES_128_GCM_SHA256;

function nonceFor(iv: Uint8Array, seq: number): Buffer {
  const n = Buffer.from(iv);
  for (let i = 0; i < 8; i++) n[11 - i] ^= Math.floor(seq / 2 ** (8 * i)) & 255;
  return n;
}

/** Opens one protected record; returns [inner content type, content]. Throws if it does not open. */
function openRecord(keys: Keys, seq: number, record: Uint8Array): [number, Buffer] {
  const header = record.subarray(0, 5);
  const len = (record[3] << 8) | record[4];
  const d = createDecipheriv("aes-128-gcm", keys.key, nonceFor(keys.iv, seq));
  d.setAAD(header);
  d.setAuthTag(record.subarray(5 + len - 16, 5 + len));
  const inner = Buffer.concat([d.update(record.subarray(5, 5 + len - 16)), d.final()]);
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  if (end < 0) throw new Error("protected record without a content type");
  return [inner[end], inner.subarray(0, end)];
}

/** Seals one record of inner type `type`. */
function sealRecord(keys: Keys, seq: number, type: number, content: Uint8Array): Buffer {
  const inner = Buffer.concat([content, Buffer.from([type])]);
  const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 255]);
  const c = createCipheriv("aes-128-gcm", keys.key, nonceFor(keys.iv, seq));
  c.setAAD(header);
  return Buffer.concat([header, c.update(inner), c.final(), c.getAuthTag()]);
}

/** Reads whole TLS records from a socket. */
class RecordReader {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  error: Error | null = null;
  constructor(socket: Socket) {
    socket.on("data", (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    socket.on("close", () => { this.closed = true; this.wake(); });
    socket.on("error", (e) => { this.error = e; });
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  async next(): Promise<Buffer | null> {
    for (;;) {
      if (this.buf.length >= 5) {
        const len = 5 + ((this.buf[3] << 8) | this.buf[4]);
        if (this.buf.length >= len) {
          const rec = this.buf.subarray(0, len);
          this.buf = this.buf.subarray(len);
          return rec;
        }
      }
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

// ---- The ClientHello ------------------------------------------------------------------------------

const u8 = (n: number): number[] => [n & 255];
const u16 = (n: number): number[] => [(n >> 8) & 255, n & 255];
const u24 = (n: number): number[] => [(n >> 16) & 255, (n >> 8) & 255, n & 255];
const vec8 = (b: number[]): number[] => [...u8(b.length), ...b];
const vec16 = (b: number[]): number[] => [...u16(b.length), ...b];
const ext = (type: number, body: number[]): number[] => [...u16(type), ...vec16(body)];

function clientHello(serverName: string, x25519Public: Buffer): Buffer {
  const name = [...Buffer.from(serverName, "ascii")];
  const extensions = [
    ...ext(0, vec16([0, ...vec16(name)])), // server_name: host_name
    ...ext(10, vec16(u16(0x001d))), // supported_groups: x25519
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256/384/512, ecdsa_secp384r1_sha384, ed25519
    ...ext(13, vec16([0x0403, 0x0804, 0x0805, 0x0806, 0x0503, 0x0807].flatMap(u16))),
    ...ext(43, vec8(u16(0x0304))), // supported_versions: TLS 1.3
    ...ext(51, vec16([...u16(0x001d), ...vec16([...x25519Public])])), // key_share: x25519
  ];
  const body = [
    ...u16(0x0303), ...randomBytes(32), ...vec8([...randomBytes(32)]), // legacy_version, random, legacy_session_id
    ...vec16(u16(0x1301)), // cipher_suites: TLS_AES_128_GCM_SHA256
    ...vec8([0]), // legacy_compression_methods: null
    ...vec16(extensions),
  ];
  return Buffer.from([1, ...u24(body.length), ...body]);
}

/** The extensions of a ServerHello, by type. */
function serverHelloExtensions(sh: Buffer): Map<number, Buffer> {
  let p = 4 + 2 + 32;
  p += 1 + sh[p]; // legacy_session_id_echo
  const suite = sh.readUInt16BE(p);
  if (suite !== 0x1301) throw new Error(`server chose suite 0x${suite.toString(16)}, not offered`);
  p += 2 + 1;
  const end = p + 2 + sh.readUInt16BE(p);
  p += 2;
  const out = new Map<number, Buffer>();
  while (p < end) {
    const type = sh.readUInt16BE(p);
    const len = sh.readUInt16BE(p + 2);
    out.set(type, sh.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return out;
}

const HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c";
const ALERT = 21;
const HANDSHAKE = 22;
const APPLICATION_DATA = 23;

// ---- The client ---------------------------------------------------------------------------------------

export interface Tls13Secrets {
  clientHandshake: Buffer;
  serverHandshake: Buffer;
  clientApplication: Buffer;
  serverApplication: Buffer;
  clientKeys: Keys;
  serverKeys: Keys;
}

export class Tls13Client {
  private cseq = 0;
  private sseq = 0;
  private constructor(
    private readonly socket: Socket,
    private readonly reader: RecordReader,
    private readonly clientKeys: Keys,
    private readonly serverKeys: Keys,
    readonly secrets: Tls13Secrets,
  ) {}

  /** Connects and completes a TLS 1.3 handshake (TLS_AES_128_GCM_SHA256 over X25519). */
  static async connect(port: number, host: string, serverName: string): Promise<Tls13Client> {
    const socket = netConnect(port, host);
    await new Promise<void>((resolve, reject) => { socket.once("connect", resolve); socket.once("error", reject); });
    const reader = new RecordReader(socket);
    try {
      return await Tls13Client.handshake(socket, reader, serverName);
    } catch (e) {
      socket.destroy();
      throw e;
    }
  }

  private static async handshake(socket: Socket, reader: RecordReader, serverName: string): Promise<Tls13Client> {
    const { publicKey, privateKey } = generateKeyPairSync("x25519");
    const ourShare = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
    const ch = clientHello(serverName, ourShare);
    socket.write(Buffer.concat([Buffer.from([HANDSHAKE, 3, 1, ...u16(ch.length)]), ch]));

    // ServerHello, in the clear.
    const shRecord = await reader.next();
    if (shRecord === null) throw new Error("server closed before the ServerHello");
    if (shRecord[0] === ALERT) throw new Error(`server alert ${shRecord[6]} instead of a ServerHello`);
    if (shRecord[0] !== HANDSHAKE || shRecord[5] !== 2) throw new Error(`expected a ServerHello, got record type ${shRecord[0]}`);
    const sh = shRecord.subarray(5);
    if (sh.length !== 4 + ((sh[1] << 16) | (sh[2] << 8) | sh[3])) throw new Error("ServerHello not alone in its record");
    if (sh.subarray(6, 38).toString("hex") === HRR_RANDOM) throw new Error("HelloRetryRequest (x25519 refused?)");
    const exts = serverHelloExtensions(sh);
    if (exts.get(43)?.readUInt16BE(0) !== 0x0304) throw new Error("server did not select TLS 1.3");
    const share = exts.get(51);
    if (share === undefined || share.readUInt16BE(0) !== 0x001d || share.readUInt16BE(2) !== 32) throw new Error("no x25519 key_share in the ServerHello");
    const theirShare = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: share.subarray(4, 36).toString("base64url") }, format: "jwk" });
    const ecdhe = diffieHellman({ privateKey, publicKey: theirShare });

    // RFC 8446 §7.1.
    const h = AES128.hash;
    const zeros = Buffer.alloc(32);
    const emptyHash = digest(h);
    const early = hkdfExtract(h, zeros, zeros);
    const handshakeSecret = hkdfExtract(h, expandLabel(h, early, "derived", emptyHash, 32), ecdhe);
    const thSh = digest(h, ch, sh);
    const clientHandshake = expandLabel(h, handshakeSecret, "c hs traffic", thSh, 32);
    const serverHandshake = expandLabel(h, handshakeSecret, "s hs traffic", thSh, 32);
    const serverHs = trafficKeys(AES128, serverHandshake);

    // The encrypted flight up to the server's Finished, message by message.
    const messages: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let serverFinished: Buffer | null = null;
    for (let seq = 0; serverFinished === null;) {
      const rec = await reader.next();
      if (rec === null) throw new Error("server closed during the handshake");
      if (rec[0] === 20) continue; // the compatibility ChangeCipherSpec
      if (rec[0] === ALERT) throw new Error(`server alert ${rec[6]} during the handshake`);
      const [type, content] = openRecord(serverHs, seq++, rec);
      if (type === ALERT) throw new Error(`server alert ${content[1]} during the handshake`);
      if (type !== HANDSHAKE) throw new Error(`flight record of inner type ${type}`);
      pending = Buffer.concat([pending, content]);
      while (pending.length >= 4) {
        const len = 4 + ((pending[1] << 16) | (pending[2] << 8) | pending[3]);
        if (pending.length < len) break;
        const msg = pending.subarray(0, len);
        pending = pending.subarray(len);
        if (msg[0] === 20) {
          // Finished: verify_data over the transcript up to the CertificateVerify.
          const expected = createHmac(h, expandLabel(h, serverHandshake, "finished", new Uint8Array(0), 32)).update(digest(h, ch, sh, ...messages)).digest();
          if (!expected.equals(msg.subarray(4))) throw new Error("the server's Finished does not verify");
          serverFinished = msg;
        }
        messages.push(msg);
      }
    }
    const thFin = digest(h, ch, sh, ...messages);
    const verify = createHmac(h, expandLabel(h, clientHandshake, "finished", new Uint8Array(0), 32)).update(thFin).digest();
    socket.write(sealRecord(trafficKeys(AES128, clientHandshake), 0, HANDSHAKE, Buffer.concat([Buffer.from([20, ...u24(verify.length)]), verify])));

    const master = hkdfExtract(h, expandLabel(h, handshakeSecret, "derived", emptyHash, 32), zeros);
    const clientApplication = expandLabel(h, master, "c ap traffic", thFin, 32);
    const serverApplication = expandLabel(h, master, "s ap traffic", thFin, 32);
    const clientKeys = trafficKeys(AES128, clientApplication);
    const serverKeys = trafficKeys(AES128, serverApplication);
    return new Tls13Client(socket, reader, clientKeys, serverKeys, { clientHandshake, serverHandshake, clientApplication, serverApplication, clientKeys, serverKeys });
  }

  /** Sends one protected record of inner content type `type` (23 application data, 24 heartbeat…). */
  send(type: number, content: Uint8Array): void {
    this.socket.write(sealRecord(this.clientKeys, this.cseq++, type, content));
  }

  /** The next protected record the server sent: [inner type, content], or null once it closed. */
  async receive(): Promise<[number, Buffer] | null> {
    const rec = await this.reader.next();
    if (rec === null) return null;
    if (rec[0] === ALERT) return [ALERT, rec.subarray(5)]; // a plaintext alert (before keys): unusual
    return openRecord(this.serverKeys, this.sseq++, rec);
  }

  /** Reads until `n` bytes of application data came back (NewSessionTickets etc. are skipped). */
  async readApplicationData(n: number): Promise<Buffer> {
    const got: Buffer[] = [];
    let total = 0;
    while (total < n) {
      const r = await this.receive();
      if (r === null) throw new Error(`server closed after ${total} of ${n} bytes`);
      if (r[0] === ALERT) throw new Error(`server alert ${r[1][1]}`);
      if (r[0] === APPLICATION_DATA) {
        got.push(r[1]);
        total += r[1].length;
      }
    }
    return Buffer.concat(got);
  }

  close(): void {
    this.socket.destroy();
  }
}
