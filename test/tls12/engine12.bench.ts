// node build-DIR/test/tls12/engine12.bench.mjs [--json]
//
// TLS 1.2 figures for the engine (release variant), driven through TlsSession by the in-process
// client of test/helpers/tls12.ts (no sockets):
//
//   tls12-handshake-SUITE-GROUP  µs of wall time per full TLS 1.2 handshake, server and client
//                                together (fresh instance, ECDHE, the signature by node:crypto
//                                in the key-op callback, the host's check of it); median of rounds
//   tls12-record-seal-SUITE      MB/s of 16 KiB plaintext through session.write + takeOutgoing
//   tls12-record-open-SUITE      MB/s of 16 KiB records through session.receive + read
//
// Like test/bench/engine.bench.ts's rows, but for TLS 1.2 and without a native column.
import { randomBytes } from "node:crypto";
import { TlsSession } from "../../src/tls/session";
import { choiceFor, engineFactory, makeCert } from "../helpers/tls";
import { Client12, hello12, TLS12_POLICY } from "../helpers/tls12";

const json = process.argv.includes("--json");
const ROUNDS = 7;
const PER_ROUND = 16;
const RECORD = 16384;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const factory = await engineFactory("release");
  const rsa = makeCert("rsa");
  const p256 = makeCert("p256");
  const rows: { name: string; value: number; unit: string }[] = [];

  const connect = (suite: number, group: number): { s: TlsSession; c: Client12 } => {
    const ecdsa = suite === 0xc02b || suite === 0xc02c || suite === 0xcca9;
    const s = new TlsSession(factory.instantiate(), TLS12_POLICY, () => choiceFor(ecdsa ? p256 : rsa));
    const groups = group === 0x17 ? [0, 2, 0, 0x17] : [0, 4, 0, 0x1d, 0, 0x17];
    const c = new Client12(s, hello12({ suites: [suite], extensions: hello12().extensions!.map(([t, b]) => (t === 0x0a ? [t, groups] : [t, b])) }));
    return { s, c };
  };
  /** One handshake; the signing callback is async, so a few turns of the event loop. */
  const handshake = async (suite: number, group: number): Promise<{ s: TlsSession; c: Client12 }> => {
    const { s, c } = connect(suite, group);
    c.sendHello();
    let recs = c.pull();
    for (let i = 0; recs.length === 0 && i < 1000 && !s.status.failed; i++) {
      await new Promise((r) => setImmediate(r));
      recs = c.pull();
    }
    c.readServerFlight(recs);
    s.receive(c.finish());
    const done = c.pull();
    if (done.length !== 2 || !s.status.handshakeDone) throw new Error(`handshake failed: ${s.error?.message}`);
    return { s, c };
  };

  for (const [suite, group, name] of [[0xc02b, 0x1d, "ECDHE-ECDSA-AES128-GCM-X25519"], [0xc02b, 0x17, "ECDHE-ECDSA-AES128-GCM-P256"],
    [0xc02f, 0x1d, "ECDHE-RSA-AES128-GCM-X25519"]] as const) {
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < PER_ROUND; i++) (await handshake(suite, group)).s.dispose();
      times.push(Number(process.hrtime.bigint() - t0) / 1000 / PER_ROUND);
    }
    rows.push({ name: `tls12-handshake-${name}`, value: median(times), unit: "µs" });
  }

  for (const [suite, name] of [[0xc02f, "AES128-GCM"], [0xc030, "AES256-GCM"], [0xcca8, "CHACHA20-POLY1305"]] as const) {
    const { s, c } = await handshake(suite, 0x1d);
    const plain = randomBytes(RECORD);
    const seal: number[] = [];
    const open: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let t0 = process.hrtime.bigint();
      const n = 64;
      const out: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        s.write(plain);
        out.push(s.takeOutgoing());
      }
      seal.push((n * RECORD) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6);
      const records = Array.from({ length: n }, () => c.seal(23, plain));
      t0 = process.hrtime.bigint();
      for (const rec of records) {
        s.receive(rec);
        s.read();
      }
      open.push((n * RECORD) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6);
      // Keep the client's read sequence in step with what the server sent.
      for (const o of out) for (let off = 0; off < o.length;) { const len = (o[off + 3] << 8) | o[off + 4]; c.readSeq++; off += 5 + len; }
    }
    rows.push({ name: `tls12-record-seal-${name}`, value: median(seal), unit: "MB/s" });
    rows.push({ name: `tls12-record-open-${name}`, value: median(open), unit: "MB/s" });
    s.dispose();
  }

  if (json) console.log(JSON.stringify(rows));
  else for (const r of rows) console.log(`${r.name.padEnd(44)} ${r.value.toFixed(1).padStart(10)} ${r.unit}`);
}

await main();
