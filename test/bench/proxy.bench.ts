// npm run bench:proxy [-- --json] [-- --only handshakes,bulk,memory] [-- --quick]
//   also: --rounds N (3)  --seconds S of s_time per round (4)  --clients N s_time processes (2)
//         --connections N idle (2000)  --bulk-mib N (64)  --no-pin  --timeout S for the whole run (900)
//
// tlsbox against a native TLS terminator, stunnel (OpenSSL), in the same run: the same
// certificate, backend, clients and TLS policy (TLS 1.3 only, X25519, no session resumption),
// one worker process each. The three figures a terminator is judged by (rustls BENCHMARKING.md):
//   handshakes  full TLS 1.3 handshakes per second, RSA-2048 and ECDSA P-256 certificates:
//               `openssl s_time -new`, a new connection per request, a tiny response
//   bulk        MB/s (10^6 bytes) through one keep-alive connection, 64 MiB per transfer
//               (backend → client: the proxy encrypts), ChaCha20-Poly1305 and AES-128-GCM
//   memory      resident memory per idle connection: RSS of the terminator's processes with
//               2,000 idle TLS connections open, less the RSS with none, over 2,000
// Rates are given per CPU-second of the terminator's own processes (utime + stime over its whole
// tree: supervisor, worker, key server — /proc, see procstat.ts), which the rest of a noisy,
// shared machine hardly moves, and per wall-second. Rounds alternate between the two sides and
// the median round is kept. Ratio = tlsbox / stunnel (for memory lower is better). On a small
// shared machine the per-wall figures are bound by the clients and the neighbours as much as by
// the terminator; the per-CPU figures are the ones to compare. The no-tickets policy is checked
// on both sides (s_client -msg) before measuring, not assumed.
//
// Needs openssl and stunnel4 (Debian: apt-get install openssl stunnel4). With two or more CPUs
// the terminators are pinned to CPU 0 and this process and the clients to CPU 1 (--no-pin
// leaves scheduling alone). tlsbox is `node dist/tlsbox.mjs` (TLSBOX_PROGRAM overrides the
// path); if it is not built, the stunnel side runs alone.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { Backend, BulkClient, openIdle, sTime, ticketsSent } from "./clients";
import { treeUsage } from "./procstat";
import { startStunnel, startTlsbox, stunnelProgram, tlsboxProgram, type Terminator, type TerminatorName, type TerminatorOptions } from "./terminators";

// ---------------------------------------------------------------------------------------------
// Arguments

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const value = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const numberArg = (name: string, fallback: number): number => {
  const raw = value(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, got '${raw}'`);
  return n;
};
const quick = flag("--quick");
const settings = {
  json: flag("--json"),
  only: value("--only")?.split(",") ?? null,
  rounds: numberArg("--rounds", quick ? 1 : 3),
  /** Seconds of s_time per round and side. */
  seconds: numberArg("--seconds", quick ? 2 : 4),
  /** Concurrent s_time processes. */
  clients: numberArg("--clients", 2),
  connections: numberArg("--connections", quick ? 500 : 2000),
  bulkBytes: numberArg("--bulk-mib", 64) * 1024 * 1024,
  /** A bulk round repeats the transfer until it has lasted this long (CPU time has a 10 ms grain). */
  bulkRoundSeconds: quick ? 0.5 : 1.5,
  pin: !flag("--no-pin"),
  timeoutSeconds: numberArg("--timeout", 900),
};
const wanted = (group: string): boolean => settings.only === null || settings.only.includes(group);

const SUITE_AES128 = "TLS_AES_128_GCM_SHA256";
const SUITE_CHACHA = "TLS_CHACHA20_POLY1305_SHA256";
/** What both servers allow; each client offers exactly one. */
const SERVER_SUITES = [SUITE_AES128, SUITE_CHACHA];

// ---------------------------------------------------------------------------------------------
// Results

interface Row {
  metric: string;
  /** What is counted: handshakes, MB, KiB. */
  quantity: string;
  /** per-cpu-s: per CPU-second of the terminator's processes; per-wall-s; per-conn. */
  unit: "per-cpu-s" | "per-wall-s" | "per-conn";
  tlsbox: number | null;
  stunnel: number | null;
  /** tlsbox / stunnel. */
  ratio: number | null;
}

const rows: Row[] = [];
const problems: string[] = [];
/** Why tlsbox has no figure somewhere in this run, shown in its column ("not built yet", "failed"). */
let tlsboxStatus: string | null = null;

function round(x: number): number {
  return x >= 100 ? Math.round(x * 10) / 10 : Math.round(x * 100) / 100;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One measured round of one side: an amount done, over wall time and the side's CPU time. */
interface Sample {
  amount: number;
  wallSeconds: number;
  cpuSeconds: number;
}

function addRates(metric: string, quantity: string, samples: Record<TerminatorName, Sample[]>): void {
  const rate = (side: TerminatorName, per: (s: Sample) => number): number | null =>
    median(samples[side].filter((s) => per(s) > 0).map((s) => s.amount / per(s)));
  addRow(metric, quantity, "per-cpu-s", rate("tlsbox", (s) => s.cpuSeconds), rate("stunnel", (s) => s.cpuSeconds));
  addRow(metric, quantity, "per-wall-s", rate("tlsbox", (s) => s.wallSeconds), rate("stunnel", (s) => s.wallSeconds));
}

function addRow(metric: string, quantity: string, unit: Row["unit"], tlsbox: number | null, stunnel: number | null): void {
  rows.push({
    metric,
    quantity,
    unit,
    tlsbox: tlsbox === null ? null : round(tlsbox),
    stunnel: stunnel === null ? null : round(stunnel),
    ratio: tlsbox === null || stunnel === null || stunnel === 0 ? null : Math.round((tlsbox / stunnel) * 1000) / 1000,
  });
}

function printReport(): void {
  if (settings.json) {
    for (const r of rows) console.log(JSON.stringify(r));
    return;
  }
  const missing = tlsboxStatus ?? "-";
  const table = rows.map((r) => [
    r.metric,
    `${r.quantity} ${r.unit}`,
    r.tlsbox === null ? missing : String(r.tlsbox),
    r.stunnel === null ? "-" : String(r.stunnel),
    r.ratio === null ? "-" : r.ratio.toFixed(3),
  ]);
  const header = ["metric", "unit", "tlsbox", "stunnel", "tlsbox/stunnel"];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  for (const row of table) console.log(line(row));
}

const progress = (text: string): void => {
  if (!settings.json) process.stderr.write(`  ${text}\n`);
};

// ---------------------------------------------------------------------------------------------
// Environment: file descriptors, CPU pinning, certificates

function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  const [soft, hard] = (line ?? "").split(/\s+/).slice(3, 5).map((v) => (v === "unlimited" ? Infinity : Number(v)));
  return { soft: soft ?? 1024, hard: hard ?? 1024 };
}

/**
 * Each idle connection holds two sockets here (client, backend) and two in the terminator, which
 * inherits this process's limit: raise the soft limit (to the hard one if need be) in place.
 */
function raiseOpenFiles(connections: number): number {
  const needed = connections * 2 + 1024;
  const { soft, hard } = openFilesLimit();
  if (soft >= needed) return connections;
  const target = Math.min(needed, hard);
  try {
    execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${target}:${hard === Infinity ? "unlimited" : hard}`], { stdio: "ignore", timeout: 5000 });
  } catch {
    // fall through: the limit stays as it was
  }
  const now = openFilesLimit().soft;
  if (now >= needed) return connections;
  const possible = Math.max(100, Math.floor((now - 1024) / 2));
  problems.push(`open-file limit ${now} (hard ${hard}): idle connections reduced to ${possible} (raise it with ulimit -n ${needed})`);
  return possible;
}

function hasCommand(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore", timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Terminators on CPU 0, this process (backend, Node clients) and s_time on CPU 1. */
function pinning(): { proxy: string | null; clients: string | null } {
  if (!settings.pin || availableParallelism() < 2 || !hasCommand("taskset")) return { proxy: null, clients: null };
  execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore", timeout: 5000 });
  return { proxy: "0", clients: "1" };
}

interface Certificate {
  name: string;
  certFile: string;
  keyFile: string;
}

function makeCertificate(dir: string, name: string, keyArgs: string[]): Certificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-nodes", ...keyArgs, "-keyout", keyFile, "-out", certFile, "-days", "2",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
  ], { stdio: "ignore", timeout: 30_000 });
  return { name, certFile, keyFile };
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every process and directory, whatever happens

const cleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        process.stderr.write(`clean-up: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  })();
  return cleaning;
}
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    interrupted = true;
    process.stderr.write(`bench:proxy: ${sig}, cleaning up\n`);
    void cleanup().then(() => process.exit(130));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// The measurements

type Sides = Partial<Record<TerminatorName, Terminator>>;
const SIDES: TerminatorName[] = ["tlsbox", "stunnel"];

/**
 * Runs one side's part of a measurement. tlsbox is the system under test: if its part fails, the
 * failure is recorded, tlsbox leaves this group of measurements and stunnel's figures still come.
 * A failure on the stunnel side is the harness's and ends the run.
 */
async function attempt<T>(side: TerminatorName, sides: Sides, what: string, work: (t: Terminator) => Promise<T>): Promise<T | undefined> {
  const t = sides[side];
  if (t === undefined) return undefined;
  if (side === "stunnel") return work(t);
  try {
    return await work(t);
  } catch (e) {
    tlsboxStatus = "failed";
    problems.push(`tlsbox failed in ${what}: ${e instanceof Error ? e.message : String(e)}\n${t.logTail()}`);
    delete sides.tlsbox;
    return undefined;
  }
}

async function measured<T>(t: Terminator, work: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }> {
  const before = treeUsage(t.pid).cpuSeconds;
  const result = await work();
  const cpuSeconds = treeUsage(t.pid).cpuSeconds - before;
  return { result, cpuSeconds };
}

async function handshakes(metric: string, sides: Sides, clientCpus: string | null): Promise<void> {
  const samples: Record<TerminatorName, Sample[]> = { tlsbox: [], stunnel: [] };
  const run = (t: Terminator, seconds: number) =>
    measured(t, () => sTime(t.port, { seconds, clients: settings.clients, suite: SUITE_AES128, cpus: clientCpus }));
  for (const side of SIDES) await attempt(side, sides, `${metric} (warm-up)`, (t) => run(t, 1));
  for (let r = 0; r < settings.rounds; r++) {
    for (const side of SIDES) {
      const m = await attempt(side, sides, metric, (t) => run(t, settings.seconds));
      if (m === undefined) continue;
      samples[side].push({ amount: m.result.connections, wallSeconds: m.result.wallSeconds, cpuSeconds: m.cpuSeconds });
      progress(`${metric} ${side} round ${r + 1}: ${m.result.connections} in ${m.result.wallSeconds.toFixed(2)} s, ${m.cpuSeconds.toFixed(2)} CPU-s`);
    }
  }
  addRates(metric, "handshakes", samples);
}

async function bulk(metric: string, suite: string, sides: Sides): Promise<void> {
  const samples: Record<TerminatorName, Sample[]> = { tlsbox: [], stunnel: [] };
  const clients: Partial<Record<TerminatorName, { client: BulkClient; repeat: number }>> = {};
  try {
    for (const side of SIDES) {
      await attempt(side, sides, `${metric} (warm-up)`, async (t) => {
        const client = await BulkClient.connect(t.port, suite);
        clients[side] = { client, repeat: 1 };
        // Warm-up, and how many transfers make a round of about bulkRoundSeconds.
        const seconds = await client.download(settings.bulkBytes);
        clients[side]!.repeat = Math.max(1, Math.min(64, Math.ceil(settings.bulkRoundSeconds / Math.max(seconds, 0.001))));
      });
    }
    for (let r = 0; r < settings.rounds; r++) {
      for (const side of SIDES) {
        const entry = clients[side];
        if (entry === undefined) continue;
        const m = await attempt(side, sides, metric, (t) => measured(t, async () => {
          let wall = 0;
          for (let i = 0; i < entry.repeat; i++) wall += await entry.client.download(settings.bulkBytes);
          return wall;
        }));
        if (m === undefined) continue;
        const mb = (settings.bulkBytes * entry.repeat) / 1e6;
        samples[side].push({ amount: mb, wallSeconds: m.result, cpuSeconds: m.cpuSeconds });
        progress(`${metric} ${side} round ${r + 1}: ${entry.repeat} x ${settings.bulkBytes / 1048576} MiB in ${m.result.toFixed(2)} s, ${m.cpuSeconds.toFixed(2)} CPU-s`);
      }
    }
  } finally {
    for (const side of SIDES) clients[side]?.client.close();
  }
  addRates(metric, "MB", samples);
}

async function memory(sides: Sides, backend: Backend, connections: number): Promise<void> {
  const perConnection: Partial<Record<TerminatorName, number>> = {};
  for (const side of SIDES) {
    await attempt(side, sides, "memory", async (t) => {
      // Warm-up (lazy initialisation belongs to the baseline), then let it settle.
      const warm = await openIdle(t.port, SUITE_AES128, 20);
      for (const s of warm) s.destroy();
      await waitFor("warm-up connections to close", () => backend.holding === 0, 10_000);
      await sleep(500);
      const baseline = treeUsage(t.pid).rssBytes;
      let sockets: TLSSocket[] = [];
      try {
        sockets = await openIdle(t.port, SUITE_AES128, connections, 32, 180_000);
        await waitFor("backend connections", () => backend.holding >= connections, 20_000);
        await sleep(1000);
        const loaded = treeUsage(t.pid).rssBytes;
        perConnection[side] = (loaded - baseline) / connections / 1024;
        progress(`memory ${side}: ${(baseline / 1048576).toFixed(1)} MiB idle, ${(loaded / 1048576).toFixed(1)} MiB with ${connections} connections`);
      } finally {
        for (const s of sockets) s.destroy();
      }
      await waitFor("idle connections to close", () => backend.holding === 0, 30_000).catch((e: Error) => problems.push(e.message));
    });
  }
  addRow(`memory-idle-${connections}`, "KiB", "per-conn", perConnection.tlsbox ?? null, perConnection.stunnel ?? null);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const stunnel = stunnelProgram();
  if (stunnel === null || !hasCommand("openssl")) {
    process.stderr.write("bench:proxy needs stunnel and openssl (Debian: apt-get install stunnel4 openssl)\n");
    return 2;
  }
  const tlsbox = tlsboxProgram();
  if (tlsbox === null) tlsboxStatus = "not built yet";
  const connections = wanted("memory") ? raiseOpenFiles(settings.connections) : settings.connections;
  const cpus = pinning();

  const dir = mkdtempSync(join(tmpdir(), "tlsbox-bench-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const backend = await Backend.start();
  cleanups.push(() => backend.close());

  progress(`tlsbox: ${tlsbox ?? "not built yet"}; stunnel: ${stunnel}; pinned: ${cpus.proxy === null ? "no" : `terminators CPU ${cpus.proxy}, clients CPU ${cpus.clients}`}`);
  const certificates = [
    makeCertificate(dir, "rsa2048", ["-newkey", "rsa:2048"]),
    makeCertificate(dir, "ecdsa-p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
  ];

  for (const cert of certificates) {
    const needed = wanted("handshakes") || (cert.name === "ecdsa-p256" && (wanted("bulk") || wanted("memory")));
    if (!needed) continue;
    const sides: Sides = {};
    const stops: (() => Promise<void>)[] = [];
    const options = (name: TerminatorName): TerminatorOptions => {
      const sub = mkdtempSync(join(dir, `${name}-`));
      return { certFile: cert.certFile, keyFile: cert.keyFile, suites: SERVER_SUITES, backendPort: backend.port, dir: sub, cpus: cpus.proxy, maxConnections: connections + 256 };
    };
    const stopAll = async (): Promise<void> => {
      for (const stop of stops.splice(0)) await stop();
    };
    cleanups.push(stopAll);
    try {
      sides.stunnel = await startStunnel(stunnel, options("stunnel"));
      stops.push(() => sides.stunnel!.stop());
      if (tlsbox !== null) {
        try {
          sides.tlsbox = await startTlsbox(tlsbox, options("tlsbox"));
          stops.push(() => sides.tlsbox!.stop());
        } catch (e) {
          tlsboxStatus = "failed";
          problems.push(`tlsbox did not start: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      // The same policy on both sides, checked rather than assumed: no session tickets.
      for (const side of SIDES) {
        const tickets = await attempt(side, sides, "ticket check", (t) => ticketsSent(t.port, SUITE_AES128));
        if (tickets !== undefined) progress(`${cert.name} ${side}: ${tickets} session tickets per full handshake`);
        if (tickets !== undefined && tickets > 0) problems.push(`${side} sent ${tickets} session tickets per handshake (the policy is none)`);
      }
      if (wanted("handshakes")) await handshakes(`handshakes-${cert.name}`, sides, cpus.clients);
      if (cert.name === "ecdsa-p256") {
        if (wanted("bulk")) {
          await bulk("bulk-chacha20-poly1305", SUITE_CHACHA, sides);
          await bulk("bulk-aes-128-gcm", SUITE_AES128, sides);
        }
        if (wanted("memory")) await memory(sides, backend, connections);
      }
    } finally {
      await stopAll();
    }
  }

  printReport();
  if (!settings.json) {
    if (tlsbox === null) console.log(`\ntlsbox: not built yet (${process.env.TLSBOX_PROGRAM ?? "dist/tlsbox.mjs"} is missing): stunnel measured alone`);
    console.log(`\nper-cpu-s: per CPU-second of the terminator's own processes; per-wall-s: per second of elapsed time.`);
  }
  for (const p of problems) process.stderr.write(`bench:proxy: ${p}\n`);
  return tlsboxStatus === "failed" ? 1 : 0;
}

const watchdog = setTimeout(() => {
  process.stderr.write(`bench:proxy: not finished after ${settings.timeoutSeconds} s, giving up\n`);
  void cleanup().then(() => process.exit(3));
}, settings.timeoutSeconds * 1000);

let code = 1;
try {
  code = await main();
} catch (e) {
  // After a signal the clean-up has ended the processes under the measurement's feet: no news.
  if (!interrupted) process.stderr.write(`bench:proxy: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  for (const p of problems) process.stderr.write(`bench:proxy: ${p}\n`);
  code = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);
