// A process memory scanner for DESIGN.md invariant 1 ("no key material outside the key server"):
// it reads another process's memory through /proc/PID/maps and /proc/PID/mem and looks for byte
// patterns, and it derives from a private key the byte patterns that would betray it.
//
// Reading /proc/PID/mem needs ptrace-attach rights over the target: root, or the target's parent
// when Yama allows it. The tests run as root.
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";

/** A pattern shorter than this could occur by chance in gigabytes of memory; longer ones cannot. */
export const MIN_PATTERN_BYTES = 16;

export interface Pattern {
  name: string;
  bytes: Buffer;
}

export interface Region {
  start: number;
  end: number;
  perms: string;
  /** The mapped file, [heap], [stack], [anon:…], or "" for anonymous memory. */
  path: string;
}

export interface Hit {
  pattern: string;
  /** "start-end perms path" of the mapping, as /proc/PID/maps prints it. */
  region: string;
  /** Offset of the match from the start of the mapping. */
  offset: number;
}

export interface ScanOptions {
  /** Stop after this many bytes (default 4 GiB): a scan must end even on a huge process. */
  maxBytes?: number;
  /** Stop after this many milliseconds (default 15 s). */
  maxMs?: number;
  /** Bytes read per /proc/PID/mem read (default 4 MiB). */
  chunkBytes?: number;
  /** Hits recorded per pattern with their location (default 16); every hit is counted. */
  maxHitsPerPattern?: number;
}

export interface ScanResult {
  pid: number;
  regions: number;
  /** Readable regions that could not be read in full (vanished, or a page refused). */
  failedRegions: number;
  /** Regions left out on purpose: unreadable, [vvar], [vsyscall], beyond the address limit. */
  skippedRegions: number;
  bytesScanned: number;
  ms: number;
  /** Whether maxBytes or maxMs stopped the scan before every region was read. */
  truncated: boolean;
  /** Matches per pattern name (every pattern is present, 0 when not found). */
  counts: Record<string, number>;
  hits: Hit[];
}

const PAGE = 4096;

/** The mappings of `pid`, in address order. */
export function readMaps(pid: number): Region[] {
  const regions: Region[] = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, "latin1").split("\n")) {
    // start-end perms offset dev inode [path]; the path may contain spaces.
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m === null) continue;
    // [vsyscall] sits above 2^53; BigInt first so such an address is recognised, not rounded.
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    const limit = BigInt(Number.MAX_SAFE_INTEGER);
    regions.push({
      start: start > limit ? Number.POSITIVE_INFINITY : Number(start),
      end: end > limit ? Number.POSITIVE_INFINITY : Number(end),
      perms: m[3],
      path: m[4],
    });
  }
  return regions;
}

function describe(r: Region): string {
  return `${r.start.toString(16)}-${r.end.toString(16)} ${r.perms} ${r.path || "[anon]"}`;
}

/** Whether a region is worth reading: readable, real memory, at an address a Number holds. */
function scannable(r: Region): boolean {
  if (r.perms[0] !== "r") return false;
  // [vvar] is kernel data whose reads fault; [vsyscall] lies beyond what /proc/PID/mem serves.
  if (r.path === "[vvar]" || r.path === "[vvar_vclock]" || r.path === "[vsyscall]") return false;
  return Number.isFinite(r.end);
}

/**
 * Reads `length` bytes at `address` into `into` at `at`, page by page when a whole read fails, so
 * one bad page (a guard page, memory unmapped meanwhile) costs that page and not the chunk. Returns
 * the runs actually read, as [start, end) offsets into `into`.
 */
function readRange(fd: number, into: Buffer, at: number, address: number, length: number): Array<[number, number]> {
  const whole = tryRead(fd, into, at, address, length);
  if (whole === length) return [[at, at + length]];
  const runs: Array<[number, number]> = [];
  let runStart = -1;
  for (let off = 0; off < length; off += PAGE) {
    const n = Math.min(PAGE, length - off);
    const got = tryRead(fd, into, at + off, address + off, n);
    if (got === n) {
      if (runStart < 0) runStart = at + off;
    } else {
      if (runStart >= 0) runs.push([runStart, at + off]);
      if (got > 0) runs.push([at + off, at + off + got]);
      runStart = -1;
    }
  }
  if (runStart >= 0) runs.push([runStart, at + length]);
  return runs;
}

/** Bytes read at `address`, looping over short reads; stops at the first error. */
function tryRead(fd: number, into: Buffer, at: number, address: number, length: number): number {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, into, at + done, length - done, address + done);
    } catch {
      break;
    }
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/**
 * Scans every readable mapping of `pid` for `patterns`. Chunks overlap by the longest pattern's
 * length − 1, so a match that straddles two reads is found, and is counted once.
 */
export function scanProcess(pid: number, patterns: readonly Pattern[], options: ScanOptions = {}): ScanResult {
  for (const p of patterns) {
    if (p.bytes.length < MIN_PATTERN_BYTES) throw new Error(`pattern ${p.name}: ${p.bytes.length} bytes, need ${MIN_PATTERN_BYTES} or more`);
  }
  const maxBytes = options.maxBytes ?? 4 * 1024 ** 3;
  const maxMs = options.maxMs ?? 15000;
  const chunkBytes = Math.max(PAGE, options.chunkBytes ?? 4 * 1024 * 1024);
  const maxHits = options.maxHitsPerPattern ?? 16;
  const overlap = Math.max(0, ...patterns.map((p) => p.bytes.length)) - 1;
  const started = Date.now();
  const result: ScanResult = {
    pid,
    regions: 0,
    failedRegions: 0,
    skippedRegions: 0,
    bytesScanned: 0,
    ms: 0,
    truncated: false,
    counts: Object.fromEntries(patterns.map((p) => [p.name, 0])),
    hits: [],
  };
  const recorded = new Map<string, number>();
  // One buffer for the whole scan: the carried-over tail of the previous chunk, then the new chunk.
  const buffer = Buffer.alloc(overlap + chunkBytes);
  const regions = readMaps(pid);
  const fd = openSync(`/proc/${pid}/mem`, "r");
  try {
    result.skippedRegions = regions.filter((r) => !scannable(r)).length;
    for (const region of regions.filter(scannable)) {
      if (result.truncated) break;
      result.regions++;
      let failed = false;
      // Bytes at the start of `buffer` carried from the previous read of this region; only a
      // match that ends beyond them is new (one lying wholly inside was counted last time).
      let carried = 0;
      for (let address = region.start; address < region.end; address += chunkBytes) {
        if (result.bytesScanned >= maxBytes || Date.now() - started > maxMs) {
          result.truncated = true;
          break;
        }
        const length = Math.min(chunkBytes, region.end - address);
        const runs = readRange(fd, buffer, carried, address, length);
        const complete = runs.length === 1 && runs[0][0] === carried && runs[0][1] === carried + length;
        if (!complete) failed = true;
        for (const [from, to] of runs) {
          // The carried tail joins only a run that starts right after it (contiguous memory).
          const searchFrom = from === carried ? 0 : from;
          const newFrom = from === carried ? carried : from;
          search(buffer, searchFrom, to, newFrom, (index, pattern) => {
            result.counts[pattern.name]++;
            const n = recorded.get(pattern.name) ?? 0;
            if (n < maxHits) {
              recorded.set(pattern.name, n + 1);
              // `index` is relative to the buffer, whose byte `carried` is `address`.
              result.hits.push({ pattern: pattern.name, region: describe(region), offset: address - region.start + (index - carried) });
            }
          });
          result.bytesScanned += to - from;
        }
        // Keep the last `overlap` bytes for the next chunk, if this chunk ended in readable memory.
        const last = runs.at(-1);
        if (overlap > 0 && last !== undefined && last[1] === carried + length) {
          const keepFrom = Math.max(last[1] - overlap, last[0] === carried ? 0 : last[0]);
          buffer.copy(buffer, 0, keepFrom, last[1]);
          carried = last[1] - keepFrom;
        } else {
          carried = 0;
        }
      }
      if (failed) result.failedRegions++;
    }
  } finally {
    closeSync(fd);
  }
  result.ms = Date.now() - started;
  return result;

  /** Reports each pattern occurrence in buffer[from, to) that ends after `newFrom`. */
  function search(buf: Buffer, from: number, to: number, newFrom: number, found: (index: number, pattern: Pattern) => void): void {
    const view = buf.subarray(0, to);
    for (const pattern of patterns) {
      const len = pattern.bytes.length;
      // The earliest start whose match ends past `newFrom`: anything before was already counted.
      let at = Math.max(from, newFrom - len + 1);
      for (;;) {
        const index = view.indexOf(pattern.bytes, at);
        if (index < 0) break;
        found(index, pattern);
        at = index + 1;
      }
    }
  }
}

function fromBase64url(text: string | undefined, what: string): Buffer {
  if (text === undefined) throw new Error(`the key's JWK has no ${what}`);
  return Buffer.from(text, "base64url");
}

/** The value without leading zero bytes: the minimal big-endian form, contained in every padded one. */
function stripZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** Lines of the base64 body of a PEM text (each a 64-character line, the last one shorter). */
function pemBodyLines(pem: string): string[] {
  return pem.split(/\r?\n/).filter((l) => /^[A-Za-z0-9+/=]+$/.test(l));
}

/**
 * Text forms of the PUBLIC key that other processes may rightly hold (the certificate, the SPKI
 * PEM a worker verifies with, a JWK): the modulus or point and the SPKI/PKCS#1 DER, raw, both byte
 * orders, and base64 / base64url at each of the 3 alignments at which they can sit inside a
 * longer encoding (a certificate's base64, for one). No secret pattern may occur inside these.
 */
function publicForms(key: KeyObject): Buffer[] {
  const pub = createPublicKey(key);
  const jwk = pub.export({ format: "jwk" });
  const raw: Buffer[] = [pub.export({ type: "spki", format: "der" })];
  if (jwk.kty === "RSA") {
    raw.push(pub.export({ type: "pkcs1", format: "der" }), Buffer.from(jwk.n!, "base64url"));
  } else {
    raw.push(Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url"));
  }
  const forms: Buffer[] = [];
  for (const blob of raw) {
    forms.push(blob, Buffer.from(blob).reverse());
    for (let shift = 0; shift < 3; shift++) {
      // The first 4 characters mix the padding bytes with the blob's: drop them.
      const padded = Buffer.concat([Buffer.alloc(shift), blob]);
      forms.push(Buffer.from(padded.toString("base64").slice(4)), Buffer.from(padded.toString("base64url").slice(4)));
    }
  }
  return forms;
}

/**
 * The byte patterns that would show a process holds `keyPem`'s private key:
 *  - each secret integer (RSA d, p, q, dP, dQ, qInv; EC d) as minimal big-endian bytes (what
 *    JWK, DER and most serialisations hold; a zero-padded form contains it), byte-reversed (how
 *    OpenSSL's BIGNUMs keep it in memory: little-endian 64-bit limbs on a little-endian machine),
 *    and as its base64url text (what a JWK export leaves in a JavaScript heap);
 *  - the DER encodings (PKCS#8, and PKCS#1 for RSA or SEC1 for EC);
 *  - 64-character lines of the PEM text: of `keyPem` itself and of the PKCS#8 and traditional PEM
 *    forms (what remains if a process read the key file or re-encoded the key). Only lines that
 *    encode secret bytes count: the first lines of an RSA PEM encode the modulus, which is public
 *    and sits, base64-aligned just so, in the certificate every worker holds.
 * Patterns under MIN_PATTERN_BYTES are left out (a short qInv, say), and duplicates merged. Throws
 * if a pattern occurs in the public key's encodings (it would make a false alarm).
 */
export function secretPatterns(keyPem: string | Buffer, passphrase?: string | Buffer): Pattern[] {
  const key: KeyObject = createPrivateKey(passphrase === undefined ? { key: keyPem } : { key: keyPem, passphrase });
  const jwk: JsonWebKey = key.export({ format: "jwk" });
  const patterns: Pattern[] = [];
  const secrets: Buffer[] = [];
  const seen = new Set<string>();
  const add = (name: string, bytes: Buffer) => {
    const id = bytes.toString("hex");
    if (bytes.length < MIN_PATTERN_BYTES || seen.has(id)) return;
    seen.add(id);
    patterns.push({ name, bytes: Buffer.from(bytes) });
  };
  const integer = (prefix: string, field: string, value: string | undefined) => {
    const be = stripZeros(fromBase64url(value, field));
    secrets.push(be);
    add(`${prefix}.${field}`, be);
    add(`${prefix}.${field}.le`, Buffer.from(be).reverse());
    add(`${prefix}.${field}.b64u`, Buffer.from(value!, "latin1"));
  };
  let traditional: "pkcs1" | "sec1";
  if (key.asymmetricKeyType === "rsa") {
    for (const field of ["d", "p", "q", "dp", "dq", "qi"] as const) integer("rsa", field, jwk[field]);
    traditional = "pkcs1";
  } else if (key.asymmetricKeyType === "ec") {
    integer("ec", "d", jwk.d);
    traditional = "sec1";
  } else {
    throw new Error(`secretPatterns: ${key.asymmetricKeyType} keys are not supported`);
  }
  add("der.pkcs8", key.export({ type: "pkcs8", format: "der" }));
  add(`der.${traditional}`, key.export({ type: traditional, format: "der" }));
  const pemLines = (name: string, text: string) => {
    const lines = pemBodyLines(text);
    // Line i encodes DER bytes [48i, 48i + 48). It qualifies if at least MIN_PATTERN_BYTES of those
    // are one secret integer's (an encrypted PEM's lines are ciphertext: none qualify).
    const der = Buffer.from(lines.join(""), "base64");
    const spans = secrets.map((v) => [der.indexOf(v), v.length]).filter(([at]) => at >= 0);
    const secretLines = lines
      .map((line, i) => ({ line, i }))
      .filter(({ line, i }) =>
        line.length === 64 && spans.some(([at, len]) => Math.min(48 * i + 48, at + len) - Math.max(48 * i, at) >= MIN_PATTERN_BYTES));
    // The first and a middle one: either alone identifies the key.
    for (const k of new Set([0, Math.floor(secretLines.length / 2)])) {
      const chosen = secretLines[k];
      if (chosen !== undefined) add(`pem.${name}.line${chosen.i + 1}`, Buffer.from(chosen.line, "latin1"));
    }
  };
  pemLines("file", typeof keyPem === "string" ? keyPem : keyPem.toString("latin1"));
  pemLines("pkcs8", key.export({ type: "pkcs8", format: "pem" }).toString());
  pemLines(traditional, key.export({ type: traditional, format: "pem" }).toString());
  for (const form of publicForms(key)) {
    for (const p of patterns) {
      if (form.includes(p.bytes)) throw new Error(`pattern ${p.name} occurs in the public key's encodings: it would raise false alarms`);
    }
  }
  return patterns;
}
