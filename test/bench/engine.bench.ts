// npm run bench [-- --json] [-- --only NAME[,NAME]]   (all.bench.ts runs this after crypto.bench.ts)
//
// The TLS engine (release variant) driven through the TlsSession API by Node's own TLS client,
// over an in-memory transport (no sockets, so no kernel in the figures):
//
// Every row exists for TLS 1.3 and, with a `tls12-` prefix, for TLS 1.2 (the ECDHE-ECDSA suite of
// the same cipher, extended master secret; the TLS 1.2 server flight has the ServerKeyExchange
// signature where TLS 1.3 has CertificateVerify):
//
//   handshake-engine-GROUP  µs of sandbox CPU per full TLS 1.3 handshake (TLS_AES_128_GCM_SHA256,
//                           ECDSA P-256 certificate): the time spent inside calls to the engine's
//                           exports (process.hrtime.bigint around each), from tls_configure to the
//                           client's Finished; median handshake of a round. The signature is
//                           not in it (node:crypto signs in the key-op callback, outside the calls),
//                           nor is the host's check of that signature, nor the fresh instance each
//                           handshake gets (that is the `instantiate` row of the crypto benchmark).
//                           Native column: none; OpenSSL has no sandbox-only counterpart. The
//                           timing wrapper costs about 0.1 µs per call, some 50 calls a handshake.
//   handshake-process-GROUP µs of CPU of the whole process (process.cpuUsage, user + system) per
//                           in-memory handshake, Node client included, in the same setting: the
//                           sandbox column with a TlsSession as the server (engine, host glue,
//                           node:crypto signing and the session's check of that signature; the
//                           instance is made before the clock starts), the native column with
//                           Node's own tls server (OpenSSL, signing included; it also sends the
//                           two session tickets OpenSSL sends by default, which the engine does
//                           not). Both sides pay the same client, so the ratio understates the
//                           server-side difference.
//   record-seal-SUITE       MB/s of 16 KiB plaintext through session.write + takeOutgoing (one
//                           record to the client each time)
//   record-open-SUITE       MB/s of 16 KiB plaintext through session.receive(one record the Node
//                           client sealed) + read
//
// Record rows time the whole session calls (host copies included); their native column is
// node:crypto's AEAD on the same 16 KiB, per record as a TLS stack pays it: a new cipher object,
// the 5-byte record header as AAD, the data and its content-type byte, the tag (as in
// crypto.bench.ts, plus that byte; TLS 1.2 records have no content-type byte, and the 13-byte
// AAD costs the same within noise, so the native column is the same).
// Each row is the median of interleaved rounds, sandbox and native alternating (measure.ts).
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from "node:crypto";
import { Duplex } from "node:stream";
import { connect, createSecureContext, TLSSocket } from "node:tls";
import type { NamedGroup } from "../../wasm/abi";
import { SUITES as CONFIG_SUITES } from "../../src/config/ciphers";
import type { Sandbox } from "../../src/sandbox/loader";
import { TlsSession } from "../../src/tls/session";
import { choiceFor, engineFactory, makeCert } from "../helpers/tls";
import { report, type Result } from "./measure";

const json = process.argv.includes("--json");
const onlyArg = process.argv.indexOf("--only");
const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(",") : null;
const wanted = (name: string): boolean => only === null || only.includes(name);

const RECORD = 16384;

type Version = "TLSv1.3" | "TLSv1.2";

/** The wire size of a record carrying RECORD bytes: header, [explicit nonce], data, [content type], tag. */
function recordWire(version: Version, suite: string): number {
  if (version === "TLSv1.3") return 5 + RECORD + 1 + 16;
  return 5 + (suite.includes("GCM") ? 8 : 0) + RECORD + 16;
}

/** The TLS 1.2 suite (ECDSA certificate) that matches a TLS 1.3 suite's AEAD. */
const TLS12_SUITE: Record<string, string> = {
  TLS_AES_128_GCM_SHA256: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  TLS_AES_256_GCM_SHA384: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  TLS_CHACHA20_POLY1305_SHA256: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
};
/** OpenSSL's name of a suite (IANA name in), which is what tls.connect's `ciphers` takes for TLS 1.2. */
const opensslName = (iana: string): string => CONFIG_SUITES.find((s) => s.iana === iana)?.name ?? iana;
const GROUP_CODE: Record<string, number> = { X25519: 0x1d, "P-256": 0x17, "P-384": 0x18 };
const VERSIONS: readonly [Version, string][] = [["TLSv1.3", ""], ["TLSv1.2", "tls12-"]];
/** The client's options for one version and suite (standard name). */
function clientOptions(version: Version, group: string, suite: string) {
  // TLS 1.2 has no key_share: the client's supported_groups also name the curves its ECDSA
  // certificate check accepts (RFC 8422 §5.1.1), so P-256 stays listed, after the group asked for.
  const curves = version === "TLSv1.2" && group !== "P-256" ? `${group}:P-256` : group;
  return { minVersion: version, maxVersion: version, rejectUnauthorized: false, ecdhCurve: curves, ciphers: opensslName(suite) } as const;
}
const ROUNDS = 7;
const ROUND_MS = 120;
const HANDSHAKES_PER_ROUND = 16;
/** Process CPU is counted in whole rounds, each of them some 4 ms a handshake: longer rounds. */
const PROCESS_HANDSHAKES_PER_ROUND = 32;
const HANDSHAKE_SUITE = "TLS_AES_128_GCM_SHA256";

// ---- Timing the sandbox ------------------------------------------------------------------------

/** Accumulates the time spent inside an instance's exported functions. */
class SandboxClock {
  ns = 0n;
  calls = 0;
  /** Off while the benchmark itself asks the session for its status. */
  running = true;
  private depth = 0;

  /**
   * Replaces the sandbox's export table with timed wrappers, before a TlsSession takes it (the
   * session keeps `sandbox.exports` in a private field at construction, so its constructor's
   * calls — the ABI check and tls_configure — are timed too). Imports the engine calls back
   * (random_get, key_op_request) run inside the timed call and count as sandbox time.
   */
  wrap(sandbox: Sandbox): Sandbox {
    const timed: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(sandbox.exports)) {
      if (typeof value !== "function") {
        timed[name] = value;
        continue;
      }
      const f = value as (...args: number[]) => number;
      timed[name] = (...args: number[]): number => {
        if (!this.running || this.depth > 0) return f(...args);
        this.depth++;
        const t0 = process.hrtime.bigint();
        try {
          return f(...args);
        } finally {
          this.ns += process.hrtime.bigint() - t0;
          this.calls++;
          this.depth--;
        }
      };
    }
    Object.defineProperty(sandbox, "exports", { value: timed });
    return sandbox;
  }
}

// ---- Node's TLS client against a TlsSession, in memory -------------------------------------------

const cert = makeCert("p256");
const select = () => choiceFor(cert);

interface Connection {
  session: TlsSession;
  client: TLSSocket;
  /** Where the client's bytes go once the handshake is done (null: to the session). */
  capture: Buffer[] | null;
  captured: number;
  onCapture: (() => void) | null;
}

/**
 * A full handshake between tls.connect and a TlsSession on `sandbox` (a fresh instance). The
 * client's transport is a Duplex whose writes go to session.receive and whose reads are what the
 * session sends; the promise resolves once both sides are done.
 */
function handshake(sandbox: Sandbox, clock: SandboxClock | null, group: string, suite: string, version: Version = "TLSv1.3"): Promise<Connection> {
  return new Promise((resolve, reject) => {
    // The row's group first in the server's order (a TLS 1.2 client also lists P-256 for the certificate).
    const groups = [GROUP_CODE[group], ...[0x1d, 0x17, 0x18].filter((g) => g !== GROUP_CODE[group])] as NamedGroup[];
    const policy = version === "TLSv1.2" ? { tls12: true, groups } : { groups };
    const session = new TlsSession(clock === null ? sandbox : clock.wrap(sandbox), policy, select);
    let client: TLSSocket;
    let clientDone = false;
    let serverDone = false;
    const conn: Connection = { session, client: undefined as unknown as TLSSocket, capture: null, captured: 0, onCapture: null };
    const check = (): void => {
      if (clock !== null) clock.running = false;
      const st = session.status;
      if (clock !== null) clock.running = true;
      if (st.failed) reject(new Error(`engine handshake failed: ${st.error?.message ?? "?"}`));
      else if (st.handshakeDone && st.group !== GROUP_CODE[group]) reject(new Error(`engine negotiated group ${st.group}, wanted ${group}`));
      else if (st.handshakeDone) serverDone = true;
      if (clientDone && serverDone) resolve(conn);
    };
    const flush = (): void => {
      const out = session.takeOutgoing();
      if (out.length > 0) transport.push(out);
    };
    const transport = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        if (conn.capture !== null) {
          conn.capture.push(chunk);
          conn.captured += chunk.length;
          conn.onCapture?.();
        } else {
          session.receive(chunk);
          flush();
          if (!serverDone) check();
        }
        callback();
      },
    });
    session.onUpdate = flush;
    client = connect({ socket: transport, ...clientOptions(version, group, suite) });
    conn.client = client;
    client.once("secureConnect", () => {
      const negotiated = client.getCipher()?.standardName;
      if (negotiated !== suite) reject(new Error(`negotiated ${negotiated}, wanted ${suite}`));
      clientDone = true;
      check();
    });
    client.once("error", reject);
  });
}

function close(conn: Connection): void {
  conn.client.destroy();
  conn.session.dispose();
}

// ---- Rounds ----------------------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(x: number): number {
  return x >= 100 ? Math.round(x * 10) / 10 : Math.round(x * 100) / 100;
}

function result(primitive: string, unit: Result["unit"], sandbox: number, native: number | null): Result {
  return {
    primitive,
    sandbox: round(sandbox),
    native: native === null ? null : round(native),
    unit,
    ratio: native === null ? null : Math.round((sandbox / native) * 1000) / 1000,
  };
}

/** MB/s of `op` (RECORD bytes each) over a round of about ROUND_MS. */
function recordRate(op: () => void): number {
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 8; i++) op();
    n += 8;
    elapsed = performance.now() - t0;
  } while (elapsed < ROUND_MS);
  return (n * RECORD) / 1000 / elapsed;
}

type Round = () => number | Promise<number>;

/** A warm-up round of each side, then ROUNDS interleaved rounds; the median round of each. */
async function interleaved(sandboxRound: Round, nativeRound: Round | null): Promise<[number, number | null]> {
  await sandboxRound();
  await nativeRound?.();
  const s: number[] = [];
  const n: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    s.push(await sandboxRound());
    if (nativeRound) n.push(await nativeRound());
  }
  return [median(s), nativeRound ? median(n) : null];
}

const results: Result[] = [];
const factory = await engineFactory("release");

// ---- Handshakes ------------------------------------------------------------------------------------

for (const [version, prefix] of VERSIONS) for (const [group, curve] of [["x25519", "X25519"], ["secp256r1", "P-256"], ["secp384r1", "P-384"]] as const) {
  const name = `${prefix}handshake-engine-${group}`;
  if (!wanted(name)) continue;
  const suite = version === "TLSv1.3" ? HANDSHAKE_SUITE : TLS12_SUITE[HANDSHAKE_SUITE];
  // A round's figure is its median handshake: a call preempted by another process on this
  // shared machine counts its wait as sandbox time, and the median keeps such handshakes out.
  const handshakeRound = async (): Promise<number> => {
    const each: number[] = [];
    for (let i = 0; i < HANDSHAKES_PER_ROUND; i++) {
      const clock = new SandboxClock();
      close(await handshake(factory.instantiate(), clock, curve, suite, version));
      each.push(Number(clock.ns) / 1000);
    }
    return median(each);
  };
  const [sandbox] = await interleaved(handshakeRound, null);
  results.push(result(name, "us/op", sandbox, null));
}

// The same handshake with Node's tls server on the other end of an in-memory pair.
const serverContext = createSecureContext({ cert: cert.certPem, key: cert.keyPem, minVersion: "TLSv1.2" });

function nodeHandshake(group: string, suite: string, version: Version): Promise<void> {
  return new Promise((resolve, reject) => {
    let clientEnd: Duplex;
    const serverEnd = new Duplex({ read() {}, write(chunk: Buffer, _e, callback) { clientEnd.push(chunk); callback(); } });
    clientEnd = new Duplex({ read() {}, write(chunk: Buffer, _e, callback) { serverEnd.push(chunk); callback(); } });
    const server = new TLSSocket(serverEnd, { isServer: true, secureContext: serverContext });
    const client = connect({ socket: clientEnd, ...clientOptions(version, group, suite) });
    let done = 0;
    const finish = (): void => {
      if (++done < 2) return;
      client.destroy();
      server.destroy();
      resolve();
    };
    server.once("secure", finish);
    client.once("secureConnect", () => {
      if (client.getCipher()?.standardName !== suite) reject(new Error(`node server negotiated ${client.getCipher()?.standardName}`));
      finish();
    });
    server.once("error", reject);
    client.once("error", reject);
  });
}

/** µs of process CPU per handshake over a round of `run`. */
async function cpuPerHandshake(run: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < PROCESS_HANDSHAKES_PER_ROUND; i++) await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / PROCESS_HANDSHAKES_PER_ROUND;
}

for (const [version, prefix] of VERSIONS) for (const [group, curve] of [["x25519", "X25519"], ["secp256r1", "P-256"], ["secp384r1", "P-384"]] as const) {
  const name = `${prefix}handshake-process-${group}`;
  if (!wanted(name)) continue;
  const suite = version === "TLSv1.3" ? HANDSHAKE_SUITE : TLS12_SUITE[HANDSHAKE_SUITE];
  const [sandbox, native] = await interleaved(
    () => {
      const spare = Array.from({ length: PROCESS_HANDSHAKES_PER_ROUND }, () => factory.instantiate());
      return cpuPerHandshake(async () => close(await handshake(spare.pop()!, null, curve, suite, version)));
    },
    () => cpuPerHandshake(() => nodeHandshake(curve, suite, version)),
  );
  results.push(result(name, "us/op", sandbox, native));
}

// ---- Records ---------------------------------------------------------------------------------------

const SUITES = [
  ["TLS_AES_128_GCM_SHA256", "aes-128-gcm", 16],
  ["TLS_AES_256_GCM_SHA384", "aes-256-gcm", 32],
  // Node's typings list only the GCM names; chacha20-poly1305 takes the same calls.
  ["TLS_CHACHA20_POLY1305_SHA256", "chacha20-poly1305" as CipherGCMTypes, 32],
] as const;

const plaintext = randomBytes(RECORD);
const header = Buffer.from([0x17, 0x03, 0x03, (recordWire("TLSv1.3", "") - 5) >> 8, (recordWire("TLSv1.3", "") - 5) & 255]);
const nonce = randomBytes(12);

/** node:crypto sealing one record, as a TLS stack does per record. */
function nativeSeal(cipher: CipherGCMTypes, key: Buffer): () => void {
  return () => {
    const c = createCipheriv(cipher, key, nonce, { authTagLength: 16 });
    c.setAAD(header);
    c.update(plaintext);
    c.update(Buffer.of(23));
    c.final();
    c.getAuthTag();
  };
}

/** node:crypto opening one record (the same record each time: the cost does not depend on it). */
function nativeOpen(cipher: CipherGCMTypes, key: Buffer): () => void {
  const c = createCipheriv(cipher, key, nonce, { authTagLength: 16 });
  c.setAAD(header);
  const body = Buffer.concat([c.update(plaintext), c.update(Buffer.of(23)), c.final()]);
  const tag = c.getAuthTag();
  return () => {
    const d = createDecipheriv(cipher, key, nonce, { authTagLength: 16 });
    d.setAAD(header);
    d.setAuthTag(tag);
    d.update(body);
    d.final();
  };
}

/** `count` records of RECORD bytes sealed by the Node client, split at record boundaries. */
function clientRecords(conn: Connection, count: number, wire: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    conn.capture = [];
    conn.captured = 0;
    const want = count * wire;
    conn.onCapture = () => {
      if (conn.captured < want) return;
      const all = Buffer.concat(conn.capture!);
      conn.capture = null;
      conn.onCapture = null;
      const records: Buffer[] = [];
      for (let off = 0; off < all.length;) {
        const len = 5 + all.readUInt16BE(off + 3);
        if (len !== wire) return reject(new Error(`client sent a ${len}-byte record`));
        records.push(all.subarray(off, off + len));
        off += len;
      }
      resolve(records);
    };
    for (let i = 0; i < count; i++) conn.client.write(plaintext);
  });
}

for (const [version, prefix] of VERSIONS) for (const [suite13, cipher, keyLength] of SUITES) {
  const suite = version === "TLSv1.3" ? suite13 : TLS12_SUITE[suite13];
  const wire = recordWire(version, suite);
  const rowSuite = version === "TLSv1.3" ? suite : opensslName(suite);
  const sealName = `${prefix}record-seal-${rowSuite}`;
  const openName = `${prefix}record-open-${rowSuite}`;
  if (!wanted(sealName) && !wanted(openName)) continue;
  const conn = await handshake(factory.instantiate(), null, "X25519", suite, version);
  const { session } = conn;
  const key = randomBytes(keyLength);

  if (wanted(sealName)) {
    session.write(plaintext);
    const first = session.takeOutgoing();
    if (first.length !== wire) throw new Error(`${suite}: sealed ${RECORD} bytes into ${first.length}, not one record`);
    const [sandbox, native] = await interleaved(
      () => recordRate(() => {
        session.write(plaintext);
        session.takeOutgoing();
      }),
      () => recordRate(nativeSeal(cipher, key)),
    );
    results.push(result(sealName, "MB/s", sandbox, native));
  }

  if (wanted(openName)) {
    // The records must go in in order, once each, so every round gets fresh ones from the client
    // (made before the round's clock starts), as many as fill about ROUND_MS at the last rate.
    let perRound = 64;
    const sandboxRound = async (): Promise<number> => {
      const records = await clientRecords(conn, perRound, wire);
      const t0 = performance.now();
      for (const r of records) {
        session.receive(r);
        if (session.read().length !== RECORD) throw new Error(`${suite}: opening a record gave the wrong length`);
      }
      const ms = performance.now() - t0;
      if (session.error !== null) throw session.error;
      perRound = Math.max(16, Math.min(4096, Math.round((perRound * ROUND_MS) / ms)));
      return (records.length * RECORD) / 1000 / ms;
    };
    const [sandbox, native] = await interleaved(sandboxRound, () => recordRate(nativeOpen(cipher, key)));
    results.push(result(openName, "MB/s", sandbox, native));
  }
  close(conn);
}

if (results.length > 0 || only === null) report(results, json);
