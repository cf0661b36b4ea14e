// What fuel metering costs: the release engine (fuel-metered, as it ships) against the same build
// without the fuel transform (engine.unmetered, built with --fuzz), on a full handshake (fresh instance, ClientHello, certificate, signature, client
// Finished) and on 16 KiB application records both ways, for AES-128-GCM (the RFC 8448 handshake)
// and ChaCha20-Poly1305 (the same ClientHello under a policy that prefers it). Runs the engines
// interleaved in rounds, in CPU time, and compares the best round of each (on a shared, busy machine
// the minimum is the stable statistic) and the median of the per-round ratios. Also prints the most fuel one call used,
// which is what a host budget has to cover.
//   node build.mjs --fuzz --out build-fuzz --modules engine --tests fuzz && node build-fuzz/test/fuzz/fuel-cost.fuzz.mjs [ROUNDS]
// With `--baseline FILE.wasm` (another metered build of the engine, e.g. an older transform's) it
// is measured in the same rounds, so two transforms compare on the same machine load.
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
// The names keep the comparison's sense: "release" is the unmetered baseline, "metered" what ships.
import engineMetered from "../../build/engine.release.wasm";
import engineRelease from "../../build/engine.unmetered.wasm";
import { unhex } from "../helpers/repo";
import { RFC, RFC_CLIENT_HELLO, RFC_CLIENT_HELLO_RECORD, expandLabel, sha256 } from "../helpers/tls_rfc8448";
import { Op, type Input } from "./format";
import { EngineDriver, rfcHandshake, Sealer } from "./harness";

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const baselineFile = flag("--baseline");
const positional = argv.filter((a, i) => !a.startsWith("--") && argv[i - 1] !== "--baseline" && argv[i - 1] !== "--suite");
const ROUNDS = Number(positional[0] ?? 25);
const RECORDS = 160;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const best = (xs: number[]): number => Math.min(...xs);
const pct = (m: number, r: number): string => `${((m / r - 1) * 100).toFixed(1)}%`;

// ---- ChaCha20-Poly1305: the RFC ClientHello offers it; FUZZ_POLICIES[1] prefers it ----------------
// The server random and X25519 key come from the tape, so the ECDHE secret (hence the handshake
// and master secrets) are the RFC's; only the transcript differs (another suite in ServerHello).

interface ChachaKeys { key: Buffer; iv: Buffer }
const chachaKeys = (secret: Uint8Array): ChachaKeys =>
  ({ key: expandLabel(secret, "key", new Uint8Array(0), 32), iv: expandLabel(secret, "iv", new Uint8Array(0), 12) });

function nonce(iv: Uint8Array, seq: number): Buffer {
  const n = Buffer.from(iv);
  for (let i = 0; i < 8; i++) n[11 - i] ^= Math.floor(seq / 2 ** (8 * i)) & 255;
  return n;
}

function chachaSeal(keys: ChachaKeys, seq: number, type: number, content: Uint8Array): Uint8Array {
  const inner = Buffer.concat([content, Buffer.from([type])]);
  const header = Buffer.from([23, 3, 3, (inner.length + 16) >> 8, (inner.length + 16) & 255]);
  const c = createCipheriv("chacha20-poly1305", keys.key, nonce(keys.iv, seq), { authTagLength: 16 });
  c.setAAD(header, { plaintextLength: inner.length });
  return Buffer.concat([header, c.update(inner), c.final(), c.getAuthTag()]);
}

function chachaOpen(keys: ChachaKeys, seq: number, record: Uint8Array): Buffer {
  const len = (record[3] << 8) | record[4];
  const d = createDecipheriv("chacha20-poly1305", keys.key, nonce(keys.iv, seq), { authTagLength: 16 });
  d.setAAD(record.subarray(0, 5), { plaintextLength: len - 16 });
  d.setAuthTag(record.subarray(5 + len - 16, 5 + len));
  const inner = Buffer.concat([d.update(record.subarray(5, 5 + len - 16)), d.final()]);
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  return inner.subarray(0, end);
}

function chachaHandshake(driver: EngineDriver): { prefix: Input; clientKeys: ChachaKeys } {
  const server: Uint8Array[] = [];
  const capture = new (class extends Sealer {
    override observeServer(bytes: Uint8Array): void { server.push(bytes.slice()); }
  })(Buffer.alloc(32));
  const hello: Input = [{ op: Op.HOST, data: new Uint8Array([0, 0, 0, 1]) }, { op: Op.RECV, data: RFC_CLIENT_HELLO_RECORD }];
  const r = driver.run(hello, capture);
  if (r.failure !== null) throw new Error(`ChaCha20 handshake failed: ${r.failure.message}`);
  const out = Buffer.concat(server);
  const shLen = 5 + ((out[3] << 8) | out[4]);
  const sh = out.subarray(5, shLen);
  if (sh[4 + 2 + 32 + 1 + sh[4 + 2 + 32]] !== 0x13 || sh[4 + 2 + 32 + 2 + sh[4 + 2 + 32]] !== 0x03) {
    throw new Error("the engine did not select TLS_CHACHA20_POLY1305_SHA256");
  }
  const hs = unhex(RFC.keySchedule.handshakeSecret.secret);
  const th1 = sha256(RFC_CLIENT_HELLO, sh);
  const cHs = expandLabel(hs, "c hs traffic", th1, 32);
  const serverKeys = chachaKeys(expandLabel(hs, "s hs traffic", th1, 32));
  // The encrypted flight (EncryptedExtensions .. Finished), in however many records; skip CCS.
  const flight: Buffer[] = [];
  for (let p = shLen, seq = 0; p < out.length;) {
    const len = 5 + ((out[p + 3] << 8) | out[p + 4]);
    if (out[p] === 23) flight.push(chachaOpen(serverKeys, seq++, out.subarray(p, p + len)));
    p += len;
  }
  const thFin = sha256(RFC_CLIENT_HELLO, sh, Buffer.concat(flight));
  const verify = createHmac("sha256", expandLabel(cHs, "finished", new Uint8Array(0), 32)).update(thFin).digest();
  const finished = chachaSeal(chachaKeys(cHs), 0, 22, Buffer.concat([Buffer.from("14000020", "hex"), verify]));
  const master = unhex(RFC.keySchedule.masterSecret.secret);
  return {
    prefix: [...hello, { op: Op.RECV, data: finished }],
    clientKeys: chachaKeys(expandLabel(master, "c ap traffic", thFin, 32)),
  };
}

// ---- Workloads ------------------------------------------------------------------------------------

type Suite = "aes128gcm" | "chacha20";
// `--suite aes128gcm` or `--suite chacha20` measures only that one (more rounds in the same time).
const SUITES = (["aes128gcm", "chacha20"] as Suite[]).filter((s) => flag("--suite") === undefined || s === flag("--suite"));
interface Workloads { driver: EngineDriver; handshake: Record<Suite, Input>; decrypt: Record<Suite, Input>; encrypt: Record<Suite, Input> }

async function workloads(wasm: Uint8Array): Promise<Workloads> {
  const driver = await EngineDriver.create(wasm);
  const record = (): Uint8Array => new Uint8Array(16385).fill(0x61, 1).fill(23, 0, 1);
  const writes: Input = [];
  for (let i = 0; i < RECORDS; i++) writes.push({ op: Op.APP_IN, data: new Uint8Array(16384).fill(0x62) });

  const aes = rfcHandshake(driver);
  const sealer = new Sealer(aes.clientApSecret);
  const aesRecords: Input = [];
  for (let i = 0; i < RECORDS; i++) aesRecords.push({ op: Op.RECV, data: sealer.seal(record()) });

  const chacha = chachaHandshake(driver);
  const chachaRecords: Input = [];
  for (let i = 0; i < RECORDS; i++) {
    const r = record();
    chachaRecords.push({ op: Op.RECV, data: chachaSeal(chacha.clientKeys, i, r[0], r.subarray(1)) });
  }
  return {
    driver,
    handshake: { aes128gcm: aes.prefix, chacha20: chacha.prefix },
    decrypt: { aes128gcm: [...aes.prefix, ...aesRecords], chacha20: [...chacha.prefix, ...chachaRecords] },
    encrypt: { aes128gcm: [...aes.prefix, ...writes], chacha20: [...chacha.prefix, ...writes] },
  };
}

function time(driver: EngineDriver, input: Input, reps: number): { ms: number; maxFuel: number } {
  let maxFuel = 0;
  // CPU time, not wall time: on a shared machine, time spent descheduled is not the engine's.
  const t0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) {
    const r = driver.run(input);
    if (r.failure !== null || !r.handshakeDone) throw new Error(`workload failed: ${r.failure?.message ?? "no handshake"}`);
    maxFuel = Math.max(maxFuel, r.maxFuel);
  }
  const t = process.cpuUsage(t0);
  return { ms: (t.user + t.system) / 1e3 / reps, maxFuel };
}

/**
 * The module with its fuel exports renamed (tlsbox_* -> xlsbox_*, same length, so the binary stays
 * valid): the harness then sets no budget per call and reads none back, and the metering code runs
 * against the budget the instance starts with (unlimited). That times the engine's own code; the
 * per-call budget calls are host overhead, timed apart ("+ budget per call").
 */
function hideFuelExports(wasm: Uint8Array): Uint8Array {
  const out = new Uint8Array(wasm);
  for (const name of ["tlsbox_set_fuel", "tlsbox_fuel_left", "tlsbox_fuel_unlimited"]) {
    const at = Buffer.from(out.buffer, out.byteOffset, out.length).indexOf(Buffer.from(name, "latin1"));
    if (at < 0) throw new Error(`no export ${name}`);
    out[at] = "x".charCodeAt(0);
  }
  return out;
}

const meteredModules: { name: string; wasm: Uint8Array }[] = [{ name: "metered", wasm: engineMetered }];
if (baselineFile !== undefined) meteredModules.push({ name: "baseline", wasm: new Uint8Array(readFileSync(baselineFile)) });
const engines: { name: string; w: Workloads }[] = [{ name: "unmetered", w: await workloads(engineRelease) }];
for (const m of meteredModules) engines.push({ name: m.name, w: await workloads(hideFuelExports(m.wasm)) });
engines.push({ name: "metered + budget per call", w: await workloads(engineMetered) });

type Key = "handshake" | "decrypt" | "encrypt";
const KEYS: Key[] = ["handshake", "decrypt", "encrypt"];
// results[engine][suite][key]: ms per run, one entry per round.
const results = engines.map(() => Object.fromEntries(SUITES.map((s) => [s, Object.fromEntries(KEYS.map((k) => [k, [] as number[]]))]))) as Record<Suite, Record<Key, number[]>>[];

// Warm-up: let V8 tier every module up before measuring.
for (const { w } of engines) for (const s of SUITES) { time(w.driver, w.handshake[s], 20); time(w.driver, w.decrypt[s], 2); time(w.driver, w.encrypt[s], 2); }
for (let round = 0; round < ROUNDS; round++) {
  // Every other round the other way round, so no engine always runs right after another.
  const order = engines.map((_, e) => e);
  if (round % 2 === 1) order.reverse();
  for (const s of SUITES) {
    for (const key of KEYS) {
      const reps = key === "handshake" ? 30 : 2;
      for (const e of order) {
        results[e][s][key].push(time(engines[e].w.driver, engines[e].w[key][s], reps).ms);
      }
    }
  }
}

// The most fuel one call used, per metered module (an untimed run with the budget set per call).
const maxFuel = new Map<string, Record<Suite, Record<Key, number>>>();
for (const m of meteredModules) {
  const w = m.name === "metered" ? engines[engines.length - 1].w : await workloads(m.wasm);
  maxFuel.set(m.name, Object.fromEntries(SUITES.map((s) => [s, Object.fromEntries(KEYS.map((k) => [k, time(w.driver, w[k][s], 1).maxFuel]))])) as Record<Suite, Record<Key, number>>);
}
const fuelOf = (e: number, s: Suite, k: Key): string => {
  const f = maxFuel.get(engines[e].name === "metered + budget per call" ? "metered" : engines[e].name)?.[s][k];
  return f === undefined ? "" : `; max fuel per call ${f}`;
};

// Two statistics per comparison: the best round of each engine ("best"), and the median over the
// rounds of the ratio within a round ("paired": the engines ran seconds apart, under the same load).
const mib = (RECORDS * 16384) / 1048576;
const paired = (m: number[], r: number[]): string => pct(median(m.map((x, i) => x / r[i])), 1);
for (const s of SUITES) {
  console.log(`${s}:`);
  const hs = results.map((r) => r[s].handshake);
  for (let e = 1; e < engines.length; e++) {
    const r = best(hs[0]), m = best(hs[e]);
    console.log(`  full handshake (fresh instance .. client Finished): release ${r.toFixed(3)} ms, ${engines[e].name} ${m.toFixed(3)} ms: cost ${pct(m, r)} (paired: ${paired(hs[e], hs[0])})${fuelOf(e, s, "handshake")}`);
  }
  for (const key of ["decrypt", "encrypt"] as const) {
    // The records alone: each run minus the handshake it starts with (same round).
    const rec = results.map((r) => r[s][key].map((x, i) => x - r[s].handshake[i]));
    for (let e = 1; e < engines.length; e++) {
      const r = best(results[0][s][key]) - best(hs[0]), m = best(results[e][s][key]) - best(hs[e]);
      console.log(`  16 KiB records, ${key}: release ${(mib / (r / 1000)).toFixed(1)} MiB/s, ${engines[e].name} ${(mib / (m / 1000)).toFixed(1)} MiB/s: cost ${pct(m, r)} (paired: ${paired(rec[e], rec[0])})${fuelOf(e, s, key)}`);
    }
  }
}
