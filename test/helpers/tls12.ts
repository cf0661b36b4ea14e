// Helpers for the TLS 1.2 tests: the policy that enables TLS 1.2, a Node TLS 1.2 round trip, and
// runners for the command-line clients (openssl s_client, curl, gnutls-cli).
import { spawn } from "node:child_process";
import {
  constants, createCipheriv, createDecipheriv, createECDH, createHmac, createHash, createPublicKey, diffieHellman, generateKeyPairSync,
  publicEncrypt, randomBytes, X509Certificate,
} from "node:crypto";
import { connect, type ConnectionOptions, type TLSSocket } from "node:tls";
import type { TlsPolicy } from "../../src/tls/session";

/** The default policy with TLS 1.2 on (TLS 1.3 stays on and preferred). */
export const TLS12_POLICY: Partial<TlsPolicy> = { tls12: true };

export interface Result12 {
  echoed: Buffer;
  cipher: string;
  version: string;
  alpn: string | false;
  socket: TLSSocket;
}

/** Connects with TLS 1.2 at most, sends `payload` in odd-sized pieces, half-closes, reads the echo. */
export function roundTrip12(port: number, payload: Buffer, options: ConnectionOptions): Promise<Result12> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let cipher = "";
    let version = "";
    let alpn: string | false = false;
    const socket = connect({ host: "127.0.0.1", port, maxVersion: "TLSv1.2", rejectUnauthorized: false, ...options }, () => {
      cipher = socket.getCipher()?.name ?? "";
      version = socket.getProtocol() ?? "";
      alpn = socket.alpnProtocol ?? false;
      let off = 0;
      let step = 1;
      while (off < payload.length) {
        const n = Math.min(step, payload.length - off);
        socket.write(payload.subarray(off, off + n));
        off += n;
        step = (step * 7 + 13) % 70000 + 1;
      }
      socket.end();
    });
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve({ echoed: Buffer.concat(chunks), cipher, version, alpn, socket }));
    socket.setTimeout(10000, () => socket.destroy(new Error("timeout")));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a command-line client, feeding `lines` (after `ready` appears in its output, or at once),
 * and returns everything it printed. Killed after `timeoutMs`.
 */
export async function runClient(cmd: string, args: string[], options: { lines?: string[]; ready?: string; timeoutMs?: number; gapMs?: number } = {}): Promise<{ out: string; code: number | null }> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d.toString("latin1"); });
  child.stderr.on("data", (d) => { out += d.toString("latin1"); });
  child.stdin.on("error", () => {});
  let code: number | null = null;
  const done = new Promise<void>((resolve) => child.on("close", (c) => { code = c; resolve(); }));
  const deadline = setTimeout(() => child.kill(), options.timeoutMs ?? 10000);
  if (options.ready !== undefined) {
    for (let i = 0; i < 100 && !out.includes(options.ready) && child.exitCode === null; i++) await sleep(50);
  }
  for (const line of options.lines ?? []) {
    child.stdin.write(`${line}\n`);
    await sleep(options.gapMs ?? 150);
  }
  child.stdin.end();
  await done;
  clearTimeout(deadline);
  return { out, code };
}

/**
 * A TCP server terminating TLS with the engine in front of a tiny HTTP backend: once the request
 * head arrived it answers `body` with Connection: close and closes (close_notify), for curl.
 */
export async function startHttpServer(
  factory: import("../../src/sandbox/loader").SandboxFactory,
  policy: Partial<TlsPolicy>,
  select: import("../../src/tls/session").CertificateSelector,
  body: string,
): Promise<{ port: number; sessions: import("../../src/tls/session").TlsSession[]; close(): Promise<void> }> {
  const { createServer } = await import("node:net");
  const { TlsSession } = await import("../../src/tls/session");
  const sessions: import("../../src/tls/session").TlsSession[] = [];
  const open = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    const session = new TlsSession(factory.instantiate(), policy, select);
    sessions.push(session);
    let request = "";
    let answered = false;
    const flush = (): void => {
      request += Buffer.from(session.read()).toString("latin1");
      if (!answered && request.includes("\r\n\r\n")) {
        answered = true;
        session.write(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, "latin1"));
        session.close();
      }
      const out = session.takeOutgoing();
      if (out.length > 0 && !socket.destroyed) socket.write(out);
      if (session.finished || session.status.localClosed) socket.end();
    };
    session.onUpdate = flush;
    socket.on("data", (d) => { session.receive(d); flush(); });
    socket.on("error", () => {});
    socket.on("close", () => { open.delete(socket); session.dispose(); });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as import("node:net").AddressInfo).port,
    sessions,
    close: () => new Promise((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// ---- An in-process TLS 1.2 client (node:crypto), to look at and break what real clients will not ----

export const u16 = (n: number): number[] => [(n >> 8) & 255, n & 255];
export const u24 = (n: number): number[] => [(n >> 16) & 255, (n >> 8) & 255, n & 255];
const vec = (width: 1 | 2 | 3, body: number[] | Uint8Array): number[] => [...(width === 1 ? [body.length] : width === 2 ? u16(body.length) : u24(body.length)), ...body];
export const ext = (type: number, body: number[] | Uint8Array): number[] => [...u16(type), ...vec(2, body)];

export interface Hello12 {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: number[];
  suites: number[];
  compression: number[];
  /** Extensions as [type, body]; null: no extensions block at all. */
  extensions: [number, number[]][] | null;
}

/** A TLS 1.2 ClientHello the way OpenSSL 3 sends one with -tls1_2, as parts one test can change. */
export function hello12(overrides: Partial<Hello12> = {}): Hello12 {
  return {
    legacyVersion: 0x0303,
    random: randomBytes(32),
    sessionId: [],
    suites: [0xc02f, 0xc030, 0xc02b, 0xc02c, 0xcca8, 0xcca9, 0x00ff],
    compression: [0],
    extensions: [
      [0x000b, [...vec(1, [0])]], // ec_point_formats: uncompressed
      [0x000a, vec(2, [0, 0x1d, 0, 0x17])], // supported_groups
      [0x0017, []], // extended_master_secret
      [0x000d, vec(2, [8, 4, 4, 3, 4, 1, 5, 1, 6, 1, 5, 3])], // signature_algorithms
    ],
    ...overrides,
  };
}

export function helloMessage(h: Hello12): Uint8Array {
  const body = [...u16(h.legacyVersion), ...h.random, ...vec(1, h.sessionId), ...vec(2, h.suites.flatMap(u16)), ...vec(1, h.compression)];
  if (h.extensions !== null) body.push(...vec(2, h.extensions.flatMap(([t, b]) => ext(t, b))));
  return new Uint8Array([1, ...u24(body.length), ...body]);
}

export function record(type: number, body: Uint8Array | number[], version = 0x0303): Uint8Array {
  return new Uint8Array([type, ...u16(version), ...u16(body.length), ...body]);
}

/** RFC 5246 §5 PRF with SHA-256 or SHA-384. */
export function prf12(hash: "sha256" | "sha384", secret: Uint8Array, label: string, seed: Uint8Array, length: number): Buffer {
  const s = Buffer.concat([Buffer.from(label, "latin1"), seed]);
  const out: Buffer[] = [];
  let a: Buffer = s;
  let n = 0;
  while (n < length) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(s).digest();
    out.push(block);
    n += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

export interface ServerMessage {
  type: number;
  body: Uint8Array;
}

/** Splits plaintext TLS records into [type, body] and handshake records into messages. */
export function parseRecords(bytes: Uint8Array): { records: { type: number; body: Uint8Array }[]; rest: Uint8Array } {
  const records: { type: number; body: Uint8Array }[] = [];
  let off = 0;
  while (bytes.length - off >= 5) {
    const len = (bytes[off + 3] << 8) | bytes[off + 4];
    if (bytes.length - off < 5 + len) break;
    records.push({ type: bytes[off], body: bytes.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  return { records, rest: bytes.subarray(off) };
}

export function parseMessages(data: Uint8Array): ServerMessage[] {
  const out: ServerMessage[] = [];
  let off = 0;
  while (data.length - off >= 4) {
    const len = (data[off + 1] << 16) | (data[off + 2] << 8) | data[off + 3];
    out.push({ type: data[off], body: data.subarray(off + 4, off + 4 + len) });
    off += 4 + len;
  }
  return out;
}

const SUITE_INFO: Record<number, { hash: "sha256" | "sha384"; cipher: string; keyLen: number; ivLen: number }> = {
  0xc02b: { hash: "sha256", cipher: "aes-128-gcm", keyLen: 16, ivLen: 4 },
  0xc02f: { hash: "sha256", cipher: "aes-128-gcm", keyLen: 16, ivLen: 4 },
  0xc02c: { hash: "sha384", cipher: "aes-256-gcm", keyLen: 32, ivLen: 4 },
  0xc030: { hash: "sha384", cipher: "aes-256-gcm", keyLen: 32, ivLen: 4 },
  0xcca8: { hash: "sha256", cipher: "chacha20-poly1305", keyLen: 32, ivLen: 12 },
  0xcca9: { hash: "sha256", cipher: "chacha20-poly1305", keyLen: 32, ivLen: 12 },
  0x009c: { hash: "sha256", cipher: "aes-128-gcm", keyLen: 16, ivLen: 4 },
  0x009d: { hash: "sha384", cipher: "aes-256-gcm", keyLen: 32, ivLen: 4 },
};

interface Session12Like {
  receive(data: Uint8Array): void;
  takeOutgoing(): Uint8Array;
}

/**
 * A TLS 1.2 client over a TlsSession in the same process: it sends a ClientHello, reads the
 * server flight, and can finish the handshake (ECDHE, EMS or not) and protect records. Every step
 * is a method, so tests can stop anywhere and send something else.
 */
export class Client12 {
  readonly transcript: Uint8Array[] = [];
  serverRandom = new Uint8Array(32);
  suite = 0;
  group = 0;
  ems = false;
  serverExtensions = new Map<number, Uint8Array>();
  serverPoint = new Uint8Array(0);
  skeParams = new Uint8Array(0);
  skeScheme = 0;
  skeSignature = new Uint8Array(0);
  certificate = new Uint8Array(0);
  master: Buffer = Buffer.alloc(0);
  private keys: { cKey: Buffer; sKey: Buffer; cIv: Buffer; sIv: Buffer } | null = null;
  writeSeq = 0n;
  readSeq = 0n;
  private inbox = new Uint8Array(0);

  constructor(readonly session: Session12Like, readonly hello: Hello12 = hello12()) {}

  get clientRandom(): Uint8Array {
    return this.hello.random;
  }

  sendHello(): void {
    const msg = helloMessage(this.hello);
    this.transcript.push(msg);
    this.session.receive(record(22, msg, 0x0301));
  }

  /** Bytes the server sent since the last call, appended to the inbox; returns the records that are complete. */
  pull(): { type: number; body: Uint8Array }[] {
    const out = this.session.takeOutgoing();
    const all = new Uint8Array(this.inbox.length + out.length);
    all.set(this.inbox);
    all.set(out, this.inbox.length);
    const { records, rest } = parseRecords(all);
    this.inbox = rest.slice();
    return records;
  }

  /** Reads ServerHello .. ServerHelloDone from plaintext records. */
  readServerFlight(records: { type: number; body: Uint8Array }[]): ServerMessage[] {
    const hs = Buffer.concat(records.filter((r) => r.type === 22).map((r) => r.body));
    const msgs = parseMessages(hs);
    for (const m of msgs) {
      this.transcript.push(new Uint8Array([m.type, ...u24(m.body.length), ...m.body]));
      if (m.type === 2) {
        const b = m.body;
        this.serverRandom = b.slice(2, 34);
        const sidLen = b[34];
        let off = 35 + sidLen;
        this.suite = (b[off] << 8) | b[off + 1];
        off += 3;
        if (off < b.length) {
          const end = off + 2 + ((b[off] << 8) | b[off + 1]);
          off += 2;
          while (off < end) {
            const t = (b[off] << 8) | b[off + 1];
            const l = (b[off + 2] << 8) | b[off + 3];
            this.serverExtensions.set(t, b.slice(off + 4, off + 4 + l));
            off += 4 + l;
          }
        }
        this.ems = this.serverExtensions.has(0x0017);
      } else if (m.type === 11) {
        this.certificate = m.body.slice(6);
      } else if (m.type === 12) {
        const b = m.body;
        this.group = (b[1] << 8) | b[2];
        const plen = b[3];
        this.serverPoint = b.slice(4, 4 + plen);
        this.skeParams = b.slice(0, 4 + plen);
        this.skeScheme = (b[4 + plen] << 8) | b[5 + plen];
        const slen = (b[6 + plen] << 8) | b[7 + plen];
        this.skeSignature = b.slice(8 + plen, 8 + plen + slen);
      }
    }
    return msgs;
  }

  private hashName(): "sha256" | "sha384" {
    return SUITE_INFO[this.suite].hash;
  }

  transcriptHash(): Buffer {
    const h = createHash(this.hashName());
    for (const m of this.transcript) h.update(m);
    return h.digest();
  }

  /**
   * ClientKeyExchange with a fresh key (or the `point` given), then master secret and keys. Static
   * RSA suites: a fresh premaster 0x0303 ‖ 46 random bytes encrypted to the certificate's key (or
   * the ciphertext given as `point`).
   */
  clientKeyExchange(point?: Uint8Array): Uint8Array {
    let pub: Uint8Array;
    let shared: Buffer;
    if (this.suite === 0x009c || this.suite === 0x009d) {
      shared = Buffer.concat([Buffer.from([3, 3]), randomBytes(46)]);
      const key = new X509Certificate(Buffer.from(this.certificate)).publicKey;
      const ct = point ?? new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, shared));
      const msg = new Uint8Array([16, ...u24(ct.length + 2), ...u16(ct.length), ...ct]);
      this.transcript.push(msg);
      this.deriveKeys(shared);
      return record(22, msg);
    }
    if (this.group === 0x1d) {
      const { publicKey, privateKey } = generateKeyPairSync("x25519");
      pub = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(-32));
      const serverKey = { key: Buffer.concat([Buffer.from("302a300506032b656e032100", "hex"), this.serverPoint]), format: "der" as const, type: "spki" as const };
      shared = diffieHellman({ privateKey, publicKey: createPublicKey(serverKey) });
    } else {
      const ecdh = createECDH("prime256v1");
      pub = new Uint8Array(ecdh.generateKeys());
      shared = ecdh.computeSecret(this.serverPoint);
    }
    const sent = point ?? pub;
    const msg = new Uint8Array([16, ...u24(sent.length + 1), sent.length, ...sent]);
    this.transcript.push(msg);
    this.deriveKeys(shared);
    return record(22, msg);
  }

  private deriveKeys(shared: Buffer): void {
    const info = SUITE_INFO[this.suite];
    this.master = this.ems
      ? prf12(info.hash, shared, "extended master secret", this.transcriptHash(), 48)
      : prf12(info.hash, shared, "master secret", Buffer.concat([this.clientRandom, this.serverRandom]), 48);
    const kb = prf12(info.hash, this.master, "key expansion", Buffer.concat([this.serverRandom, this.clientRandom]), 2 * info.keyLen + 2 * info.ivLen);
    this.keys = {
      cKey: kb.subarray(0, info.keyLen), sKey: kb.subarray(info.keyLen, 2 * info.keyLen),
      cIv: kb.subarray(2 * info.keyLen, 2 * info.keyLen + info.ivLen), sIv: kb.subarray(2 * info.keyLen + info.ivLen),
    };
  }

  finishedMessage(label = "client finished"): Uint8Array {
    const vd = prf12(this.hashName(), this.master, label, this.transcriptHash(), 12);
    return new Uint8Array([20, 0, 0, 12, ...vd]);
  }

  /** The whole client flight after the server's: ClientKeyExchange, CCS, Finished (protected). */
  finish(): Uint8Array {
    const cke = this.clientKeyExchange();
    const fin = this.finishedMessage();
    const sealed = this.seal(22, fin);
    this.transcript.push(fin);
    return new Uint8Array([...cke, ...record(20, [1]), ...sealed]);
  }

  private nonce(iv: Buffer, seq: bigint, explicit: Buffer): Buffer {
    if (SUITE_INFO[this.suite].ivLen === 4) return Buffer.concat([iv, explicit]);
    const n = Buffer.from(iv);
    for (let i = 0; i < 8; i++) n[11 - i] ^= Number((seq >> BigInt(8 * i)) & 255n);
    return n;
  }

  private aad(seq: bigint, type: number, len: number): Buffer {
    const a = Buffer.alloc(13);
    a.writeBigUInt64BE(seq, 0);
    a[8] = type;
    a[9] = 3;
    a[10] = 3;
    a.writeUInt16BE(len, 11);
    return a;
  }

  /** A protected record (RFC 5246 §6.2.3.3) under the client write key. */
  seal(type: number, plain: Uint8Array, options: { explicit?: Buffer } = {}): Uint8Array {
    const k = this.keys!;
    const info = SUITE_INFO[this.suite];
    const seq = this.writeSeq++;
    const explicit = options.explicit ?? (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(seq); return b; })();
    const cipher = createCipheriv(info.cipher as "aes-128-gcm", k.cKey, this.nonce(k.cIv, seq, explicit), { authTagLength: 16 });
    cipher.setAAD(this.aad(seq, type, plain.length), { plaintextLength: plain.length });
    const ct = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return record(type, info.ivLen === 4 ? Buffer.concat([explicit, ct]) : ct);
  }

  /** Opens a protected record from the server; null if it does not authenticate. */
  open(type: number, body: Uint8Array): Buffer | null {
    const k = this.keys!;
    const info = SUITE_INFO[this.suite];
    const seq = this.readSeq++;
    const x = info.ivLen === 4 ? 8 : 0;
    const explicit = Buffer.from(body.subarray(0, x));
    const ct = body.subarray(x, body.length - 16);
    const d = createDecipheriv(info.cipher as "aes-128-gcm", k.sKey, this.nonce(k.sIv, seq, explicit), { authTagLength: 16 });
    d.setAAD(this.aad(seq, type, ct.length), { plaintextLength: ct.length });
    d.setAuthTag(body.subarray(body.length - 16));
    try {
      return Buffer.concat([d.update(ct), d.final()]);
    } catch {
      return null;
    }
  }

  /** Explicit nonces of the server's GCM records seen so far (RFC 5288 §3). */
  static explicitNonce(body: Uint8Array): bigint {
    return Buffer.from(body.subarray(0, 8)).readBigUInt64BE(0);
  }
}
