// What the isolation tests share: a fresh key made by the openssl CLI (so the test process never
// reads it), the scanner bundled and run as a child process, canaries planted in the test process,
// and the tree of processes a program started.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { REPO_ROOT } from "../helpers/repo";
import type { ScanReport, ScanRequest } from "./scanner";

export interface KeyPair {
  dir: string;
  key: string;
  cert: string;
  cleanup(): void;
}

/**
 * A fresh key and self-signed certificate written by openssl into a temporary directory. The key
 * file is only ever read by other processes (the key server, the scanner): reading it here would
 * put the secret into the very process whose memory must not hold it.
 */
export function makeKeyPair(kind: "rsa2048" | "p256", commonName = "localhost"): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), "tlsbox-isolation-"));
  const key = join(dir, `${kind}.key`);
  const cert = join(dir, `${kind}.crt`);
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  if (kind === "rsa2048") openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]);
  else openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
  openssl(["req", "-x509", "-new", "-key", key, "-subj", `/CN=${commonName}`, "-addext", `subjectAltName=DNS:${commonName}`, "-days", "2", "-out", cert]);
  return { dir, key, cert, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Bundles the scanner (test/isolation/scanner.ts) into `dir`; returns the script path. */
export async function buildScanner(dir: string): Promise<string> {
  const outfile = join(dir, "memscan-scanner.mjs");
  await esbuild.build({
    entryPoints: [join(REPO_ROOT, "test", "isolation", "scanner.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    outfile,
    logLevel: "error",
  });
  return outfile;
}

/**
 * Non-secret random values held by this process for its whole life, one in the V8 heap (a flat
 * one-byte string) and one in a Buffer's backing store: a scan of this process that finds them
 * has read where this process keeps its data, so finding no key there means something.
 */
const heapCanary = `memscan-canary-${randomBytes(24).toString("base64")}`;
const bufferCanary = randomBytes(48);

export function canaries(): Array<{ name: string; hex: string }> {
  return [
    { name: "canary.heap", hex: Buffer.from(heapCanary, "latin1").toString("hex") },
    { name: "canary.buffer", hex: bufferCanary.toString("hex") },
  ];
}

/** Runs the scanner as a child process; resolves with its report (names, counts, locations only). */
export function runScanner(script: string, request: ScanRequest, timeoutMs = 30000): Promise<ScanReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(request)], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`scanner exited with ${signal ?? code}: ${Buffer.concat(err).toString()}`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(out).toString()) as ScanReport);
      } catch (e) {
        reject(new Error(`scanner printed no report: ${String(e)}: ${Buffer.concat(out).toString().slice(0, 200)}`));
      }
    });
  });
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** /proc/PID/cmdline with NULs as spaces: what process.title sets. */
  cmdline: string;
}

/** `root` and every process descended from it, read from /proc. */
export function processTree(root: number): ProcessInfo[] {
  const all: ProcessInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      // The command name is in parentheses and may contain spaces or parentheses: parse after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "latin1").replace(/\0+$/, "").replace(/\0/g, " ");
      all.push({ pid: Number(name), ppid, cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  const tree: ProcessInfo[] = [];
  const wanted = new Set([root]);
  // Parents are not always listed before their children (pids wrap), so iterate to a fixed point.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if ((p.pid === root || wanted.has(p.ppid)) && !tree.includes(p)) {
        tree.push(p);
        wanted.add(p.pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** The patterns a report found with their counts, for assertion messages. */
export function foundSummary(report: ScanReport, target: string): string {
  const t = report.targets[target];
  if (t === undefined) return `${target}: not scanned`;
  if (t.error !== undefined) return `${target}: ${t.error}`;
  const found = Object.entries(t.found).filter(([, n]) => n > 0);
  const lines = found.map(([name, n]) => `  ${name} ×${n} at ${(t.where[name] ?? []).join("; ")}`);
  return `${target} (pid ${t.pid}, ${t.regions} regions, ${(t.bytesScanned / 2 ** 20).toFixed(0)} MiB, ${t.ms} ms${t.truncated ? ", TRUNCATED" : ""}): ${found.length === 0 ? "nothing found" : `\n${lines.join("\n")}`}`;
}
