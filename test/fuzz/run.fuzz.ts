// The coverage-guided fuzzer (npm run fuzz -- --seconds N [--runs N] [--seed S] [--target NAME|all]
// [--fuel UNITS per call] [--no-save] [--fail-on-crash] [--distil]; `--runs 0 --distil` only
// re-distils the saved corpus). `--target all` runs every target in turn, each for its share
// (ALL_SHARES) of --runs and of --seconds.
//
// libFuzzer's loop on the engine's `fuzz` variant: pick an input from the corpus, mutate it
// (mutate.ts), run it on a fresh instance (harness.ts), keep it if it lit a coverage counter in a
// hit-count bucket never seen before (AFL's buckets), and on a failure minimise it (delta
// debugging over steps, then bytes) and save it under test/fuzz/crashers/TARGET/ for
// test/fuzz/replay.test.ts. New corpus entries are saved under test/fuzz/corpus/TARGET/ at the end,
// distilled: an entry is kept only if it adds a feature the smaller entries do not have.
//
// Deterministic: with --runs (and no --seconds limit reached first), a seed always gives the same
// executions, corpus and findings — CI runs `--runs N --seed 1`. (The keyserver target is
// deterministic in what it executes, but its signatures are randomised and its coverage is V8's;
// the campaign's inputs are the same, the findings too unless a failure depends on timing.)
import { mkdirSync, writeFileSync, existsSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import engineFuzz from "../../build/engine.fuzz.wasm";
import { encode, inputId, inputSize, type Input } from "./format";
import { EngineDriver, type Failure } from "./harness";
import { mutate, Rng } from "./mutate";
import { ENGINE_TARGETS, FUZZ_DIR, makeTarget, savedInputs, TARGET_NAMES, type TargetName } from "./targets";

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const totalSeconds = Number(opt("--seconds") ?? (opt("--runs") === undefined ? "60" : "1e9"));
const totalRuns = Number(opt("--runs") ?? "Infinity");
const seed = Number(opt("--seed") ?? Date.now() % 1_000_000);
const targetArg = opt("--target") ?? "server";
const save = !argv.includes("--no-save");
if (targetArg !== "all" && !TARGET_NAMES.includes(targetArg as TargetName)) throw new Error(`unknown target ${targetArg}; one of ${TARGET_NAMES.join(", ")}, all`);

/**
 * `--target all`: each target's share of the runs and seconds, by what an execution costs (2-core
 * machine: server/record/clienthello ~0.7-1 ms, posthandshake ~2 ms, posthandshake12 ~2.5 ms with
 * its handshake prefix, keyserver ~8 ms with V8 coverage and signatures) and what is left to find.
 * `--runs 50000`: 15,000 / 9,000 / 9,000 / 6,000 / 8,000 / 3,000.
 */
const ALL_SHARES: Record<TargetName, number> = { server: 0.3, record: 0.18, clienthello: 0.18, posthandshake: 0.12, posthandshake12: 0.16, keyserver: 0.06 };

// AFL's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+ (one bit each).
const BUCKET = new Uint8Array(256);
for (let c = 1; c < 256; c++) BUCKET[c] = c === 1 ? 1 : c === 2 ? 2 : c === 3 ? 4 : c < 8 ? 8 : c < 16 ? 16 : c < 32 ? 32 : c < 128 ? 64 : 128;

interface Entry {
  input: Input;
  size: number;
  features: number[];
}

const SAVE_LIMIT = 8192;

const signature = (f: Failure): string => `${f.kind}: ${f.message.replace(/\d{3,}/g, "N").slice(0, 160)}`;

async function campaign(targetName: TargetName, maxRuns: number, seconds: number): Promise<{ crashes: number }> {
  const fuel = opt("--fuel");
  const driver = ENGINE_TARGETS.includes(targetName) ? await EngineDriver.create(engineFuzz, fuel === undefined ? {} : { fuelPerCall: Number(fuel) }) : null;
  const target = await makeTarget(targetName, driver);
  const rng = new Rng(seed);
  let virgin: Uint8Array | null = null;
  const corpus: Entry[] = [];
  const crashes = new Map<string, Input>();
  let execs = 0;
  let maxFuel = 0;
  let maxMemory = 0;
  const started = Date.now();
  let lastReport = started;

  /** Features = (counter index, bucket) pairs; returns those never seen before and records them. */
  const novel = (coverage: Uint8Array, record: boolean): number[] => {
    // The keyserver's map grows as V8 reports blocks it had not reported before.
    if (virgin === null || virgin.length < coverage.length) { const v = new Uint8Array(coverage.length); if (virgin !== null) v.set(virgin); virgin = v; }
    const out: number[] = [];
    for (let i = 0; i < coverage.length; i++) {
      const c = coverage[i];
      if (c === 0) continue;
      const bit = BUCKET[c];
      if ((virgin[i] & bit) === 0) {
        out.push(i * 8 + Math.log2(bit));
        if (record) virgin[i] |= bit;
      }
    }
    return out;
  };
  const edges = (): number => (virgin === null ? 0 : virgin.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0));

  const sameFailure = async (input: Input, sig: string): Promise<boolean> => {
    const r = await target.run(input);
    execs++;
    return r.failure !== null && signature(r.failure) === sig;
  };

  /** Delta debugging: drop steps (halves, then singles), then byte ranges inside each step. */
  const minimise = async (input: Input, sig: string): Promise<Input> => {
    let best = input;
    let budget = 2000;
    const attempt = async (cand: Input): Promise<boolean> => {
      if (budget-- <= 0) return false;
      if (await sameFailure(cand, sig)) { best = cand; return true; }
      return false;
    };
    for (let size = Math.max(1, best.length >> 1); size >= 1; size >>= 1) {
      for (let i = 0; i + size <= best.length && best.length > 1;) {
        if (!(await attempt([...best.slice(0, i), ...best.slice(i + size)]))) i += size;
      }
    }
    for (let s = 0; s < best.length; s++) {
      for (let size = Math.max(1, best[s].data.length >> 1); size >= 1; size >>= 1) {
        for (let i = 0; i + size <= best[s].data.length;) {
          const d = best[s].data;
          const cand = best.map((st, k) => (k === s ? { op: st.op, data: new Uint8Array([...d.subarray(0, i), ...d.subarray(i + size)]) } : st));
          if (!(await attempt(cand))) i += size;
        }
      }
    }
    return best;
  };

  const consider = async (input: Input, isSeed: boolean): Promise<void> => {
    const r = await target.run(input);
    execs++;
    maxFuel = Math.max(maxFuel, r.maxFuel);
    maxMemory = Math.max(maxMemory, r.memoryBytes);
    if (r.failure !== null) {
      const sig = signature(r.failure);
      if (crashes.has(sig)) return;
      const small = await minimise(input, sig);
      crashes.set(sig, small);
      const name = `${r.failure.kind}-${inputId(small)}`;
      console.log(`CRASH ${sig}\n  minimised to ${inputSize(small)} bytes in ${small.length} steps -> crashers/${targetName}/${name}.fz`);
      if (save) {
        const dir = join(FUZZ_DIR, "crashers", targetName);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${name}.fz`), encode(small));
        writeFileSync(join(dir, `${name}.txt`), `${sig}\nfound by: npm run fuzz -- --target ${targetName} --seed ${seed}\n`);
      }
      return;
    }
    if (r.coverage === null) throw new Error("the engine has no coverage map: run the fuzz variant");
    const features = novel(r.coverage, true);
    if (features.length > 0 || isSeed) corpus.push({ input, size: inputSize(input), features });
  };

  for (const s of target.seeds()) await consider(s, true);
  for (const { input } of savedInputs("corpus", targetName)) await consider(input, true);
  for (const { input } of savedInputs("crashers", targetName)) await consider(input, true);
  const initial = corpus.length;
  const total = (): number => target.countersTotal?.() ?? (virgin === null ? 0 : (virgin as Uint8Array).length);
  console.log(`fuzz ${targetName}: seed ${seed}, ${initial} initial inputs, ${edges()} counters lit${driver !== null ? `, fuel/call ${driver.fuelPerCall}` : ` of ${total()} V8 blocks seen`}`);

  while (execs < maxRuns && Date.now() - started < seconds * 1000) {
    // Favour the newest entries (they sit at the frontier of coverage) half of the time.
    const parent = rng.chance(0.5) ? corpus[corpus.length - 1 - rng.below(Math.max(1, corpus.length >> 2))] : rng.pick(corpus);
    const donor = rng.pick(corpus).input;
    await consider(mutate(rng, parent.input, target.strategy, donor), false);
    const now = Date.now();
    if (now - lastReport > 10_000) {
      lastReport = now;
      console.log(`  ${((now - started) / 1000).toFixed(0)}s  execs ${execs}  ${(execs / ((now - started) / 1000)).toFixed(0)}/s  counters ${edges()}  corpus ${corpus.length}  crashes ${crashes.size}`);
    }
  }
  const elapsed = (Date.now() - started) / 1000;

  // Distil (libFuzzer's merge): smallest first, keep an entry if it has a feature no kept entry
  // has; then, largest first, drop a kept entry whose every feature another kept entry also has.
  // Entries over SAVE_LIMIT are left out: they are mostly bulk data (16 KiB records) whose features
  // one mutation finds again, and they would make the committed corpus megabytes.
  let kept: { e: Entry; feats: number[] }[] = [];
  const count = new Map<number, number>();
  for (const e of corpus.filter((x) => x.size <= SAVE_LIMIT).sort((a, b) => a.size - b.size)) {
    const r = await target.run(e.input);
    if (r.coverage === null || r.failure !== null) continue;
    const feats: number[] = [];
    for (let i = 0; i < r.coverage.length; i++) if (r.coverage[i] !== 0) feats.push(i * 8 + Math.log2(BUCKET[r.coverage[i]]));
    if (feats.some((f) => !count.has(f))) { kept.push({ e, feats }); for (const f of feats) count.set(f, (count.get(f) ?? 0) + 1); }
  }
  for (const k of [...kept].reverse()) {
    if (k.feats.every((f) => (count.get(f) ?? 0) > 1)) {
      for (const f of k.feats) count.set(f, (count.get(f) ?? 0) - 1);
      kept = kept.filter((x) => x !== k);
    }
  }
  const have = count;
  if (save) {
    const dir = join(FUZZ_DIR, "corpus", targetName);
    mkdirSync(dir, { recursive: true });
    const existing = new Set(existsSync(dir) ? readdirSync(dir) : []);
    const names = new Set(kept.map((k) => `${inputId(k.e.input)}.fz`));
    let added = 0, removed = 0;
    for (const k of kept) {
      const f = `${inputId(k.e.input)}.fz`;
      if (!existing.has(f)) { writeFileSync(join(dir, f), encode(k.e.input)); added++; }
    }
    // --distil: the directory becomes exactly the distilled set (entries it subsumes go).
    if (argv.includes("--distil")) for (const f of existing) if (f.endsWith(".fz") && !names.has(f)) { unlinkSync(join(dir, f)); removed++; }
    console.log(`  corpus: ${kept.length} distilled entries (${added} new, ${removed} removed files in test/fuzz/corpus/${targetName}/)`);
  }
  const summary = {
    target: targetName, seed, seconds: Number(elapsed.toFixed(1)), execs, execsPerSecond: Math.round(execs / elapsed),
    countersLit: edges(), countersTotal: total(), features: have.size,
    corpus: kept.length, corpusBytes: kept.reduce((n, k) => n + k.e.size, 0), maxFuelPerCall: maxFuel, maxMemoryPages: maxMemory / 65536, crashes: [...crashes.keys()],
  };
  console.log(JSON.stringify(summary));
  target.close?.();
  return { crashes: crashes.size };
}

async function main(): Promise<void> {
  let crashes = 0;
  if (targetArg === "all") {
    const started = Date.now();
    for (const name of TARGET_NAMES) {
      const runs = Number.isFinite(totalRuns) ? Math.round(totalRuns * ALL_SHARES[name]) : Infinity;
      crashes += (await campaign(name, runs, totalSeconds * ALL_SHARES[name])).crashes;
    }
    console.log(`all targets: ${((Date.now() - started) / 1000).toFixed(1)} s, ${crashes} failure signature(s)`);
  } else {
    crashes = (await campaign(targetArg as TargetName, totalRuns, totalSeconds)).crashes;
  }
  if (argv.includes("--fail-on-crash") && crashes > 0) process.exitCode = 1;
}

await main();
