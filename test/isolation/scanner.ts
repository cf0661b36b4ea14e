// The scanner process. A test that plays the worker's role must not hold the key's secret values,
// not even to look for them: loading them into its own memory would make its own scan meaningless.
// So the test spawns this program, which reads the key file, derives the patterns, scans the
// target processes and prints to stdout ONLY pattern names, lengths, counts and locations:
//
//   node scanner.mjs REQUEST-JSON
//   REQUEST = {key, passphraseFile?, targets: [{name, pid}], canaries?: [{name, hex}], maxBytes?, maxMs?}
//   → one JSON line: {patterns: {name: length}, targets: {name: TargetReport}}
//
// Canaries are non-secret values the test plants in its own memory, so a scan of the test process
// that finds nothing is known to have looked where the test's data lives.
import { readFileSync } from "node:fs";
import { MIN_PATTERN_BYTES, scanProcess, secretPatterns, type Pattern } from "./memscan";

export interface ScanRequest {
  key: string;
  passphraseFile?: string;
  targets: Array<{ name: string; pid: number }>;
  canaries?: Array<{ name: string; hex: string }>;
  maxBytes?: number;
  maxMs?: number;
}

export interface TargetReport {
  pid: number;
  regions: number;
  failedRegions: number;
  skippedRegions: number;
  bytesScanned: number;
  ms: number;
  truncated: boolean;
  /** Count per pattern name, every pattern listed. */
  found: Record<string, number>;
  /** For patterns found: up to 4 locations, "start-end perms path +offset". */
  where: Record<string, string[]>;
  /** Set when the process could not be scanned at all (it exited, or no permission). */
  error?: string;
}

export interface ScanReport {
  patterns: Record<string, number>;
  targets: Record<string, TargetReport>;
}

function main(): void {
  const request = JSON.parse(process.argv[2] ?? "") as ScanRequest;
  const passphrase = request.passphraseFile === undefined ? undefined : readFileSync(request.passphraseFile, "utf8").split(/\r?\n/)[0];
  const patterns: Pattern[] = secretPatterns(readFileSync(request.key), passphrase);
  for (const c of request.canaries ?? []) {
    const bytes = Buffer.from(c.hex, "hex");
    if (bytes.length < MIN_PATTERN_BYTES) throw new Error(`canary ${c.name} is shorter than ${MIN_PATTERN_BYTES} bytes`);
    patterns.push({ name: c.name, bytes });
  }
  const report: ScanReport = { patterns: Object.fromEntries(patterns.map((p) => [p.name, p.bytes.length])), targets: {} };
  for (const target of request.targets) {
    try {
      const r = scanProcess(target.pid, patterns, { maxBytes: request.maxBytes, maxMs: request.maxMs });
      const where: Record<string, string[]> = {};
      for (const hit of r.hits) {
        const list = (where[hit.pattern] ??= []);
        if (list.length < 4) list.push(`${hit.region} +0x${hit.offset.toString(16)}`);
      }
      const { pid, regions, failedRegions, skippedRegions, bytesScanned, ms, truncated, counts } = r;
      report.targets[target.name] = { pid, regions, failedRegions, skippedRegions, bytesScanned, ms, truncated, found: counts, where };
    } catch (e) {
      report.targets[target.name] = {
        pid: target.pid, regions: 0, failedRegions: 0, skippedRegions: 0, bytesScanned: 0, ms: 0, truncated: false,
        found: {}, where: {}, error: e instanceof Error ? e.message : String(e),
      };
    }
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main();
