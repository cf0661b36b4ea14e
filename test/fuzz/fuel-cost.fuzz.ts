// What fuel metering costs: the release engine against the same build with the fuel transform
// (engine.metered), on a full handshake (fresh instance, ClientHello, certificate, signature, client
// Finished) and on 16 KiB application records both ways. Runs A and B interleaved in rounds and
// compares the best round of each (on a shared, busy machine the minimum is the stable statistic;
// medians are printed too). Also prints the most fuel one call used,
// which is what a host budget has to cover.
//   node build.mjs --fuzz --out build-fuzz --modules engine --tests fuzz && node build-fuzz/test/fuzz/fuel-cost.fuzz.mjs
import engineMetered from "../../build/engine.metered.wasm";
import engineRelease from "../../build/engine.release.wasm";
import { Op, type Input } from "./format";
import { EngineDriver, rfcHandshake, Sealer } from "./harness";

const ROUNDS = Number(process.argv[2] ?? 25);
const RECORDS = 64;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const best = (xs: number[]): number => Math.min(...xs);
const pct = (m: number, r: number): string => `${((m / r - 1) * 100).toFixed(1)}%`;

async function workloads(wasm: Uint8Array): Promise<{ driver: EngineDriver; handshake: Input; decrypt: Input; encrypt: Input }> {
  const driver = await EngineDriver.create(wasm);
  const hs = rfcHandshake(driver);
  const sealer = new Sealer(hs.clientApSecret);
  const records: Input = [];
  for (let i = 0; i < RECORDS; i++) records.push({ op: Op.RECV, data: sealer.seal(new Uint8Array(16385).fill(0x61, 1).fill(23, 0, 1)) });
  const writes: Input = [];
  for (let i = 0; i < RECORDS; i++) writes.push({ op: Op.APP_IN, data: new Uint8Array(16384).fill(0x62) });
  return { driver, handshake: hs.prefix, decrypt: [...hs.prefix, ...records], encrypt: [...hs.prefix, ...writes] };
}

function time(driver: EngineDriver, input: Input, reps: number): { ms: number; maxFuel: number } {
  let maxFuel = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    const r = driver.run(input);
    if (r.failure !== null || !r.handshakeDone) throw new Error(`workload failed: ${r.failure?.message ?? "no handshake"}`);
    maxFuel = Math.max(maxFuel, r.maxFuel);
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6 / reps, maxFuel };
}

const A = await workloads(engineRelease);
const B = await workloads(engineMetered);
const results: Record<string, { release: number[]; metered: number[]; fuel: number }> = {
  handshake: { release: [], metered: [], fuel: 0 },
  decrypt: { release: [], metered: [], fuel: 0 },
  encrypt: { release: [], metered: [], fuel: 0 },
};
// Warm-up: let V8 tier both modules up before measuring.
for (const w of [A, B]) { time(w.driver, w.handshake, 20); time(w.driver, w.decrypt, 2); time(w.driver, w.encrypt, 2); }
for (let round = 0; round < ROUNDS; round++) {
  for (const key of ["handshake", "decrypt", "encrypt"] as const) {
    const reps = key === "handshake" ? 30 : 3;
    results[key].release.push(time(A.driver, A[key], reps).ms);
    const m = time(B.driver, B[key], reps);
    results[key].metered.push(m.ms);
    results[key].fuel = Math.max(results[key].fuel, m.maxFuel);
  }
}
const hs = { r: best(results.handshake.release), m: best(results.handshake.metered), rMed: median(results.handshake.release), mMed: median(results.handshake.metered) };
console.log(`full handshake (fresh instance .. client Finished): release ${hs.r.toFixed(3)} ms, metered ${hs.m.toFixed(3)} ms: cost ${pct(hs.m, hs.r)} (medians ${hs.rMed.toFixed(3)} / ${hs.mMed.toFixed(3)} ms: ${pct(hs.mMed, hs.rMed)}); max fuel per call ${results.handshake.fuel}`);
for (const key of ["decrypt", "encrypt"] as const) {
  // Subtract the handshake every run includes; what is left is RECORDS records of 16 KiB.
  const mib = (RECORDS * 16384) / 1048576;
  const r = best(results[key].release) - hs.r;
  const m = best(results[key].metered) - hs.m;
  const rMed = median(results[key].release) - hs.rMed;
  const mMed = median(results[key].metered) - hs.mMed;
  console.log(`16 KiB records, ${key}: release ${(mib / (r / 1000)).toFixed(1)} MiB/s, metered ${(mib / (m / 1000)).toFixed(1)} MiB/s: cost ${pct(m, r)} (medians: ${pct(mMed, rMed)}); max fuel per call ${results[key].fuel}`);
}
