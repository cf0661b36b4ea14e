// Mutations of fuzz inputs: bytewise (AFL's havoc: flips, interesting values, inserts, deletes,
// splices) and structural — records, handshake messages, ClientHello fields and extensions are
// parsed, changed, and written back with consistent lengths (or deliberately inconsistent ones),
// because a TLS parser rejects almost every random byte string at the first length field.
import { createECDH, generateKeyPairSync } from "node:crypto";
import { Op, OP_COUNT, type Input, type Step } from "./format";

/** xorshift128+: fast, and the whole campaign replays from the seed. */
export class Rng {
  private a: bigint;
  private b: bigint;
  constructor(seed: number) {
    this.a = BigInt(seed >>> 0) * 0x9e3779b97f4a7c15n + 1n;
    this.b = (this.a ^ 0xdeadbeefcafebaben) & 0xffffffffffffffffn;
    for (let i = 0; i < 8; i++) this.next();
  }
  next(): number {
    let s1 = this.a;
    const s0 = this.b;
    this.a = s0;
    s1 ^= (s1 << 23n) & 0xffffffffffffffffn;
    this.b = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    return Number((this.b + s0) & 0xffffffffn);
  }
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 255;
    return out;
  }
}

export const MAX_INPUT = 48 * 1024;

const INTERESTING_8 = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x03, 0x04, 0x16, 0x17, 0x14, 0x15];
const INTERESTING_16 = [0, 1, 0xff, 0x100, 0x3fff, 0x4000, 0x4001, 0x4100, 0x4101, 0x7fff, 0x8000, 0xffff, 0x0303, 0x0304, 0x1301, 0x1302, 0x1303, 0x001d, 0x0017, 0x0018];

// ---- Bytes ---------------------------------------------------------------------------------------

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

const u16 = (n: number): number[] => [(n >> 8) & 255, n & 255];
const u24 = (n: number): number[] => [(n >> 16) & 255, (n >> 8) & 255, n & 255];

export function mutateBytes(rng: Rng, d: Uint8Array, donor: Uint8Array | null): Uint8Array {
  const b = d.slice();
  const at = (): number => rng.below(b.length);
  switch (rng.below(b.length === 0 ? 1 : 11)) {
    case 0: return concat(b.subarray(0, b.length ? at() : 0), rng.bytes(1 + rng.below(rng.chance(0.8) ? 4 : 64)), b.subarray(b.length ? at() : 0));
    case 1: { const i = at(); b[i] ^= 1 << rng.below(8); return b; }
    case 2: { b[at()] = rng.pick(INTERESTING_8); return b; }
    case 3: { b[at()] = rng.next() & 255; return b; }
    case 4: { const i = at(); b[i] = (b[i] + rng.below(35) - 17) & 255; return b; }
    case 5: { if (b.length < 2) return b; const i = rng.below(b.length - 1); const v = rng.chance(0.5) ? rng.pick(INTERESTING_16) : (((b[i] << 8) | b[i + 1]) + rng.below(9) - 4) & 0xffff; b[i] = v >> 8; b[i + 1] = v & 255; return b; }
    case 6: { const i = at(); const n = 1 + rng.below(Math.min(b.length - i, rng.chance(0.7) ? 8 : 512)); return concat(b.subarray(0, i), b.subarray(i + n)); }
    case 7: { const i = at(); const n = 1 + rng.below(Math.min(b.length - i, 64)); const j = at(); return concat(b.subarray(0, j), b.subarray(i, i + n), b.subarray(j)); }
    case 8: { const i = at(); return b.subarray(0, i).slice(); }
    case 9: {
      if (donor === null || donor.length === 0) return b;
      const i = rng.below(donor.length); const n = 1 + rng.below(Math.min(donor.length - i, 256));
      const j = at(); return rng.chance(0.5) ? concat(b.subarray(0, j), donor.subarray(i, i + n), b.subarray(j)) : concat(b.subarray(0, j), donor.subarray(i, i + n), b.subarray(j + n));
    }
    default: { const i = at(); const n = 1 + rng.below(Math.min(b.length - i, 32)); b.fill(rng.pick(INTERESTING_8), i, i + n); return b; }
  }
}

// ---- Records ----------------------------------------------------------------------------------

export interface Rec {
  type: number;
  version: number;
  body: Uint8Array;
}

/** Splits a byte stream into records; a tail that is not a whole record is returned as `rest`. */
export function parseRecords(d: Uint8Array): { records: Rec[]; rest: Uint8Array } {
  const records: Rec[] = [];
  let p = 0;
  while (p + 5 <= d.length) {
    const len = (d[p + 3] << 8) | d[p + 4];
    if (p + 5 + len > d.length) break;
    records.push({ type: d[p], version: (d[p + 1] << 8) | d[p + 2], body: d.subarray(p + 5, p + 5 + len) });
    p += 5 + len;
  }
  return { records, rest: d.subarray(p) };
}

export function writeRecords(records: Rec[], rest: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat(...records.map((r) => concat(new Uint8Array([r.type, ...u16(r.version), ...u16(r.body.length)]), r.body)), rest);
}

function mutateRecords(rng: Rng, d: Uint8Array, donor: Uint8Array | null): Uint8Array {
  const { records, rest } = parseRecords(d);
  if (records.length === 0) return mutateBytes(rng, d, donor);
  const i = rng.below(records.length);
  const r = records[i];
  switch (rng.below(9)) {
    case 0: { // fragment: split one record's body in two records of the same type
      if (r.body.length < 2) break;
      const cut = 1 + rng.below(r.body.length - 1);
      records.splice(i, 1, { ...r, body: r.body.subarray(0, cut) }, { ...r, body: r.body.subarray(cut) });
      break;
    }
    case 1: { // coalesce two records of the same type
      if (i + 1 >= records.length || records[i + 1].type !== r.type) break;
      records.splice(i, 2, { ...r, body: concat(r.body, records[i + 1].body) });
      break;
    }
    case 2: r.type = rng.chance(0.7) ? rng.pick([20, 21, 22, 23, 24, 0, 255]) : rng.next() & 255; break;
    case 3: r.version = rng.pick([0x0301, 0x0302, 0x0303, 0x0304, 0x0300, 0xfeff, 0]); break;
    case 4: records.splice(i, 0, { ...r }); break;
    case 5: records.splice(i, 1); break;
    case 6: records.splice(rng.below(records.length + 1), 0, rng.pick([
      { type: 20, version: 0x0303, body: new Uint8Array([1]) },
      { type: 21, version: 0x0303, body: new Uint8Array([rng.pick([1, 2]), rng.pick([0, 10, 20, 40, 50, 90, 255])]) },
      { type: 23, version: 0x0303, body: rng.bytes(rng.below(64)) },
      { type: 22, version: 0x0303, body: new Uint8Array(0) },
    ])); break;
    case 7: r.body = mutateBytes(rng, r.body, donor); break;
    default: { // a length field that lies (the header written by hand)
      const out = writeRecords(records, rest);
      let p = 0;
      for (let k = 0; k < i; k++) p += 5 + records[k].body.length;
      const v = rng.pick([0, 1, r.body.length - 1, r.body.length + 1, 0x4000, 0x4001, 0x4100, 0x4101, 0xffff]) & 0xffff;
      out[p + 3] = v >> 8; out[p + 4] = v & 255;
      return out;
    }
  }
  return writeRecords(records, rest);
}

// ---- ClientHello ------------------------------------------------------------------------------

export interface Hello {
  version: Uint8Array;
  random: Uint8Array;
  sid: Uint8Array;
  suites: Uint8Array;
  compression: Uint8Array;
  extensions: [number, Uint8Array][];
  /** Present: the extensions block exists (even if empty). */
  hasExtensions: boolean;
}

/** Parses a ClientHello body (after the 4-byte handshake header); null if it does not parse. */
export function parseHello(b: Uint8Array): Hello | null {
  let p = 0;
  const need = (n: number): boolean => p + n <= b.length;
  const take = (n: number): Uint8Array => { const out = b.subarray(p, p + n); p += n; return out; };
  if (!need(35)) return null;
  const version = take(2), random = take(32);
  const sidLen = b[p++];
  if (!need(sidLen + 2)) return null;
  const sid = take(sidLen);
  const suitesLen = (b[p] << 8) | b[p + 1]; p += 2;
  if (!need(suitesLen + 1)) return null;
  const suites = take(suitesLen);
  const compLen = b[p++];
  if (!need(compLen)) return null;
  const compression = take(compLen);
  const extensions: [number, Uint8Array][] = [];
  if (p === b.length) return { version, random, sid, suites, compression, extensions, hasExtensions: false };
  if (!need(2)) return null;
  const end = p + 2 + ((b[p] << 8) | b[p + 1]);
  p += 2;
  if (end > b.length) return null;
  while (p + 4 <= end) {
    const type = (b[p] << 8) | b[p + 1], len = (b[p + 2] << 8) | b[p + 3];
    p += 4;
    if (p + len > end) return null;
    extensions.push([type, take(len)]);
  }
  return { version, random, sid, suites, compression, extensions, hasExtensions: true };
}

export function writeHello(h: Hello): Uint8Array {
  const exts = concat(...h.extensions.map(([t, body]) => concat(new Uint8Array([...u16(t), ...u16(body.length)]), body)));
  return concat(h.version, h.random, new Uint8Array([h.sid.length]), h.sid, new Uint8Array(u16(h.suites.length)), h.suites,
    new Uint8Array([h.compression.length]), h.compression, h.hasExtensions ? new Uint8Array(u16(exts.length)) : new Uint8Array(0), h.hasExtensions ? exts : new Uint8Array(0));
}

export function handshakeMessage(type: number, body: Uint8Array): Uint8Array {
  return concat(new Uint8Array([type, ...u24(body.length)]), body);
}

/** Handshake records (type 22) carrying `msg`, fragmented at 2^14. */
export function handshakeRecords(msg: Uint8Array, version = 0x0301): Uint8Array {
  const recs: Rec[] = [];
  for (let off = 0; off < msg.length || off === 0; off += 16384) recs.push({ type: 22, version, body: msg.subarray(off, off + 16384) });
  return writeRecords(recs);
}

const x25519Public = (): Uint8Array => new Uint8Array(generateKeyPairSync("x25519").publicKey.export({ format: "der", type: "spki" }).subarray(-32));
const P256 = createECDH("prime256v1");
P256.generateKeys();
const X25519_SHARE = x25519Public();
const P256_SHARE = new Uint8Array(P256.getPublicKey());

const keyShare = (entries: [number, Uint8Array][]): Uint8Array => {
  const list = concat(...entries.map(([g, k]) => concat(new Uint8Array([...u16(g), ...u16(k.length)]), k)));
  return concat(new Uint8Array(u16(list.length)), list);
};
const u16list = (xs: number[], lenBytes = 2): Uint8Array => {
  const body = xs.flatMap(u16);
  return new Uint8Array([...(lenBytes === 1 ? [body.length] : u16(body.length)), ...body]);
};
const sni = (name: string): Uint8Array => {
  const n = Buffer.from(name, "latin1");
  return new Uint8Array([...u16(n.length + 3), 0, ...u16(n.length), ...n]);
};
const alpn = (names: string[]): Uint8Array => {
  const list = names.flatMap((s) => [s.length, ...Buffer.from(s, "latin1")]);
  return new Uint8Array([...u16(list.length), ...list]);
};

/** Extension bodies worth inserting: valid ones, edge cases, and ones the engine must refuse. */
function dictionaryExtension(rng: Rng): [number, Uint8Array] {
  const r = rng.below(24);
  switch (r) {
    case 0: return [0, sni(rng.pick(["localhost", "a", "x".repeat(255), "x".repeat(256), "", "example.com."]))];
    case 1: return [10, u16list(rng.pick([[0x1d, 0x17], [0x17], [0x18], [0x1d], [], [0x0a0a, 0x1d], [0x100, 0x101]]))];
    case 2: return [13, u16list(rng.pick([[0x0804, 0x0403], [0x0401], [0x0804], [0x0503, 0x0805, 0x0806], []]))];
    case 3: return [16, alpn(rng.pick([["h2", "http/1.1"], ["http/1.1"], ["spdy/3"], [""], ["h2"]]))];
    case 4: return [43, u16list(rng.pick([[0x0304], [0x0304, 0x0303], [0x0303], [0x7f1c], [0x0a0a, 0x0304], []]), 1)];
    case 5: return [45, new Uint8Array(rng.pick([[1, 1], [1, 0], [2, 0, 1], [0]]))];
    case 6: return [51, keyShare(rng.pick([[[0x1d, X25519_SHARE]], [[0x17, P256_SHARE]], [[0x1d, X25519_SHARE], [0x17, P256_SHARE]], [[0x1d, new Uint8Array(32)]], [[0x17, new Uint8Array(65)]], [[0x1d, X25519_SHARE], [0x1d, X25519_SHARE]], []]))];
    case 7: return [41, new Uint8Array([0, 7, 0, 1, 0xaa, 0, 0, 0, 0, 0, 33, 32, ...rng.bytes(32)])];
    case 8: return [42, new Uint8Array(0)];
    case 9: return [44, new Uint8Array([0, 4, 1, 2, 3, 4])];
    case 10: return [28, new Uint8Array(u16(rng.pick([64, 63, 0x4000, 0x4001, 0, 0xffff])))];
    case 11: return [23, new Uint8Array(0)];
    case 12: return [0xff01, new Uint8Array([0])];
    case 13: return [35, rng.bytes(rng.below(40))];
    case 14: return [5, new Uint8Array([1, 0, 0, 0, 0])];
    case 15: return [21, new Uint8Array(rng.below(600))];
    case 16: return [0x0a0a + 0x1010 * rng.below(16), new Uint8Array(rng.below(2))];
    case 17: return [50, u16list([0x0804, 0x0403])];
    case 18: return [11, new Uint8Array([1, 0])];
    case 19: return [18, new Uint8Array(0)];
    case 20: return [27, new Uint8Array([2, 0, 2])];
    case 21: return [49, new Uint8Array(0)];
    case 22: return [rng.next() & 0xffff, rng.bytes(rng.below(16))];
    default: return [0xfe0d, rng.bytes(rng.below(200))];
  }
}

function mutateHelloFields(rng: Rng, h: Hello, donor: Uint8Array | null): void {
  const ex = h.extensions;
  const i = rng.below(ex.length);
  switch (rng.below(14)) {
    case 0: if (ex.length) ex.splice(i, 1); break;
    case 1: if (ex.length) ex.splice(rng.below(ex.length + 1), 0, [ex[i][0], ex[i][1]]); break;
    case 2: if (ex.length > 1) { const j = rng.below(ex.length); [ex[i], ex[j]] = [ex[j], ex[i]]; } break;
    case 3: case 4: ex.splice(rng.below(ex.length + 1), 0, dictionaryExtension(rng)); break;
    case 5: if (ex.length) { const [t] = dictionaryExtension(rng); ex[i] = [t, ex[i][1]]; } break;
    case 6: case 7: if (ex.length) ex[i] = [ex[i][0], mutateBytes(rng, ex[i][1], donor)]; break;
    case 8: if (ex.length && ex[i][1].length > 0) { // the extension's inner length lies
      const body = ex[i][1].slice();
      const v = rng.pick([0, 1, body.length - 2, body.length - 1, body.length, 0xff, 0xffff]);
      if (body.length >= 2 && rng.chance(0.7)) { body[0] = (v >> 8) & 255; body[1] = v & 255; } else body[0] = v & 255;
      ex[i] = [ex[i][0], body];
    } break;
    case 9: { const d = dictionaryExtension(rng); const k = ex.findIndex(([t]) => t === d[0]); if (k >= 0) ex[k] = d; else ex.push(d); break; }
    case 10: h.suites = rng.chance(0.5) ? mutateBytes(rng, h.suites, donor) : new Uint8Array(rng.pick([[0x13, 0x01], [0x13, 0x03], [0x13, 0x02, 0x13, 0x01], [0xc0, 0x2f], [0x13, 0x01, 0x13, 0x01], [0x13]])); break;
    case 11: h.compression = new Uint8Array(rng.pick([[0], [1, 0], [0, 1], [], [1]])); break;
    case 12: h.sid = rng.pick([new Uint8Array(0), rng.bytes(32), rng.bytes(33), rng.bytes(1)]); break;
    default: h.version = new Uint8Array(rng.pick([[3, 3], [3, 4], [3, 1], [2, 0], [3, 0]])); break;
  }
}

/**
 * Finds the first ClientHello in a RECV stream and mutates it structurally; the records around it
 * are rebuilt so every length agrees (the ClientHello is rewritten as one message).
 */
function mutateHelloInStream(rng: Rng, d: Uint8Array, donor: Uint8Array | null): Uint8Array {
  const { records, rest } = parseRecords(d);
  const first = records.findIndex((r) => r.type === 22);
  if (first < 0) return mutateRecords(rng, d, donor);
  // Reassemble the first handshake message from consecutive handshake records.
  let msg: Uint8Array = new Uint8Array(0);
  let last = first;
  for (let k = first; k < records.length && records[k].type === 22; k++) {
    msg = concat(msg, records[k].body);
    last = k;
    if (msg.length >= 4 && msg.length >= 4 + ((msg[1] << 16) | (msg[2] << 8) | msg[3])) break;
  }
  if (msg.length < 4 || msg[0] !== 1) return mutateRecords(rng, d, donor);
  const bodyLen = (msg[1] << 16) | (msg[2] << 8) | msg[3];
  const h = parseHello(msg.subarray(4, 4 + bodyLen));
  if (h === null) return mutateRecords(rng, d, donor);
  const n = 1 + rng.below(3);
  for (let k = 0; k < n; k++) mutateHelloFields(rng, h, donor);
  const rebuilt = concat(handshakeMessage(1, writeHello(h)), msg.subarray(4 + bodyLen));
  const hsRecords = parseRecords(handshakeRecords(rebuilt, records[first].version)).records;
  records.splice(first, last - first + 1, ...hsRecords);
  return writeRecords(records, rest);
}

// ---- Steps ----------------------------------------------------------------------------------------

export type Strategy = "server" | "record" | "clienthello" | "posthandshake" | "posthandshake12" | "keyserver";

function donorBytes(rng: Rng, donor: Input | null): Uint8Array | null {
  if (donor === null || donor.length === 0) return null;
  return rng.pick(donor).data;
}

/** One to several stacked mutations of `input` (a fresh copy; the original is kept). */
export function mutate(rng: Rng, input: Input, strategy: Strategy, donor: Input | null): Input {
  let steps: Step[] = input.map((s) => ({ op: s.op, data: s.data }));
  if (steps.length === 0) steps.push({ op: Op.RECV, data: new Uint8Array(0) });
  const rounds = 1 + rng.below(rng.chance(0.5) ? 2 : 8);
  for (let k = 0; k < rounds; k++) {
    const i = rng.below(steps.length);
    const s = steps[i];
    const d = donorBytes(rng, donor);
    const r = rng.below(100);
    if (r < 12) {
      // Network chunking: split a step, merge two, drop, duplicate, reorder, insert backend traffic.
      switch (rng.below(7)) {
        case 0: if (s.data.length > 1) { const cut = 1 + rng.below(s.data.length - 1); steps.splice(i, 1, { op: s.op, data: s.data.subarray(0, cut) }, { op: s.op, data: s.data.subarray(cut) }); } break;
        case 1: if (i + 1 < steps.length && steps[i + 1].op === s.op) steps.splice(i, 2, { op: s.op, data: concat(s.data, steps[i + 1].data) }); break;
        case 2: if (steps.length > 1) steps.splice(i, 1); break;
        case 3: steps.splice(i, 0, { op: s.op, data: s.data }); break;
        case 4: if (steps.length > 1) { const j = rng.below(steps.length); [steps[i], steps[j]] = [steps[j], steps[i]]; } break;
        case 5: {
          const r2 = rng.below(10);
          const step = r2 < 2 ? { op: Op.CLOSE, data: new Uint8Array(0) }
            : r2 < 4 ? { op: Op.HOST, data: new Uint8Array([rng.below(4), rng.below(4), rng.next() & 255, rng.below(8)]) }
            : { op: Op.APP_IN, data: rng.bytes(rng.chance(0.9) ? rng.below(64) : 16384 + rng.below(100)) };
          steps.splice(rng.below(steps.length + 1), 0, step);
          break;
        }
        default: if (d !== null) steps.splice(rng.below(steps.length + 1), 0, { op: rng.below(OP_COUNT), data: d }); break;
      }
      continue;
    }
    let data: Uint8Array;
    if (strategy === "keyserver") {
      data = r < 80 ? mutateKeyServerStream(rng, s.data, d) : mutateBytes(rng, s.data, d);
      steps[i] = { op: s.op === Op.HOST || s.op === Op.CLOSE ? Op.RECV : s.op, data };
      continue;
    }
    if (strategy === "posthandshake12" && (s.op === Op.SEALED || rng.chance(0.5))) {
      // TLS 1.2 records after the handshake: [record type, content], sealed by the target.
      data = r < 45 ? postHandshakeMessage12(rng) : r < 55 ? fragmentHandshake(rng, s.data) : mutateBytes(rng, s.data, d);
      steps[i] = { op: Op.SEALED, data };
      continue;
    }
    if (s.op === Op.SEALED || strategy === "posthandshake") {
      // Inner plaintexts: [type, content]; structural knowledge of the post-handshake messages.
      data = r < 40 ? postHandshakeMessage(rng) : mutateBytes(rng, s.data, d);
      if (strategy === "posthandshake" && rng.chance(0.5)) { steps[i] = { op: Op.SEALED, data }; continue; }
    } else if (strategy === "clienthello" && i === 0) {
      // The clienthello target's first step is a bare ClientHello body (the harness frames it).
      const h = r < 85 ? parseHello(s.data) : null;
      if (h !== null) { const n = 1 + rng.below(3); for (let m = 0; m < n; m++) mutateHelloFields(rng, h, d); data = writeHello(h); }
      else data = mutateBytes(rng, s.data, d);
    } else if (strategy === "server" && r < 55) {
      data = mutateHelloInStream(rng, s.data, d);
    } else if (strategy === "record" || r < 75) {
      data = mutateRecords(rng, s.data, d);
    } else {
      data = mutateBytes(rng, s.data, d);
    }
    steps[i] = { op: s.op, data };
  }
  // Keep the total bounded: the engine's windows take at most a few records anyway.
  let total = 0;
  steps = steps.filter((s) => (total += s.data.length + 1) <= MAX_INPUT);
  return steps.map((s) => ({ op: s.op, data: s.data.slice() }));
}

/** A post-handshake inner plaintext: [content type, content]. */
function postHandshakeMessage(rng: Rng): Uint8Array {
  switch (rng.below(9)) {
    case 0: return new Uint8Array([22, 24, 0, 0, 1, rng.pick([0, 1, 2])]); // KeyUpdate
    case 1: return new Uint8Array([22, 4, 0, 0, 4, 0, 0, 0, 0]); // NewSessionTicket from a client
    case 2: return new Uint8Array([22, rng.next() & 255, ...u24(rng.below(8)), ...rng.bytes(rng.below(8))]);
    case 3: return new Uint8Array([21, rng.pick([1, 2]), rng.pick([0, 10, 20, 40, 50, 80, 90, 100])]);
    case 4: return concat(new Uint8Array([23]), rng.bytes(rng.chance(0.8) ? rng.below(200) : 16384 + rng.below(3) - 1));
    case 5: return new Uint8Array([20, 1]);
    case 6: return new Uint8Array([rng.next() & 255, ...rng.bytes(rng.below(8))]);
    case 7: return new Uint8Array(0);
    default: return new Uint8Array([22, 24, 0, 0, 1, 0, 24, 0, 0, 1, 0]); // two KeyUpdates in one record
  }
}

// ---- TLS 1.2 after the handshake (posthandshake12) ---------------------------------------------

/** A TLS 1.2 ClientHello message as a client renegotiating would send it (RFC 5746 variants). */
function renegotiationHello(rng: Rng): Uint8Array {
  const exts: [number, Uint8Array][] = [
    [11, new Uint8Array([1, 0])],
    [10, u16list(rng.pick([[0x1d, 0x17], [0x17], [0x1d]]))],
    [23, new Uint8Array(0)],
    [13, u16list([0x0804, 0x0401, 0x0403])],
  ];
  switch (rng.below(5)) {
    case 0: exts.push([0xff01, new Uint8Array([0])]); break; // empty: a fresh connection's answer
    case 1: exts.push([0xff01, new Uint8Array([12, ...rng.bytes(12)])]); break; // the wrong verify_data
    case 2: exts.push([0xff01, new Uint8Array([24, ...rng.bytes(24)])]); break;
    case 3: break; // none (insecure renegotiation)
    default: exts.push([43, u16list([0x0304, 0x0303], 1)], [51, keyShare([[0x1d, X25519_SHARE]])]); // a TLS 1.3 hello mid-connection
  }
  const suites = rng.pick([[0xc02f, 0x00ff], [0xc02f], [0xcca8, 0xc030], [0x009c], [0x1301, 0xc02f]]);
  return handshakeMessage(1, writeHello({
    version: new Uint8Array([3, 3]), random: rng.bytes(32), sid: rng.chance(0.3) ? rng.bytes(32) : new Uint8Array(0),
    suites: new Uint8Array(suites.flatMap(u16)), compression: new Uint8Array([0]), extensions: exts, hasExtensions: true,
  }));
}

/** A record a TLS 1.2 client could send after the handshake: [record type, content]. */
function postHandshakeMessage12(rng: Rng): Uint8Array {
  switch (rng.below(14)) {
    case 0: case 1: return concat(new Uint8Array([22]), renegotiationHello(rng)); // renegotiation
    case 2: return new Uint8Array([22, 0, 0, 0, 0]); // HelloRequest, which only a server sends
    case 3: return new Uint8Array([20, 1]); // ChangeCipherSpec again, protected
    case 4: return new Uint8Array([21, rng.pick([1, 2]), rng.pick([0, 10, 20, 40, 42, 46, 50, 80, 90, 100, 255])]);
    case 5: return new Uint8Array([21, 1, 100]); // no_renegotiation, as a warning
    case 6: case 7: return concat(new Uint8Array([23]), rng.bytes(rng.chance(0.8) ? rng.below(200) : 16384 + rng.below(3) - 1));
    case 8: return new Uint8Array([22, 20, 0, 0, 12, ...rng.bytes(12)]); // a second Finished
    case 9: return new Uint8Array([22, rng.pick([4, 11, 12, 13, 14, 15, 16, 24, 254]), ...u24(rng.below(8)), ...rng.bytes(rng.below(8))]);
    case 10: return new Uint8Array([24, 1, 0, 16, ...rng.bytes(16 + rng.below(20))]); // heartbeat
    case 11: return new Uint8Array([rng.pick([22, 21, 20, 23])]); // an empty record of the type
    case 12: return new Uint8Array([rng.next() & 255, ...rng.bytes(rng.below(8))]);
    default: return new Uint8Array([21, 1, 0]); // close_notify
  }
}

/** Splits a [22, message...] step's handshake message at a random point (the two halves as one step each is done by chunking). */
function fragmentHandshake(rng: Rng, d: Uint8Array): Uint8Array {
  if (d.length < 3 || d[0] !== 22) return concat(new Uint8Array([22]), renegotiationHello(rng).subarray(0, 1 + rng.below(40)));
  return d.subarray(0, 1 + rng.below(d.length - 1)).slice();
}

// ---- Key-server frames (keyserver) ----------------------------------------------------------------

/** Schemes worth trying: the ones the key server signs with, near misses, and ones it never uses. */
export const KS_SCHEMES = [0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0603, 0x0807, 0x0808, 0x0809, 0x0201, 0x0203, 0x0402, 0x0000, 0xffff];
const KS_MAX_BODY = 64 * 1024;
const u32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** ServerECDHParams: valid for each group, and each way one can be wrong. */
function ecdhParams(rng: Rng): Uint8Array {
  const [group, n] = rng.pick([[0x1d, 32], [0x17, 65], [0x18, 97], [0x19, 133], [0x1e, 56], [0x1d, 65], [0x17, 32]]);
  const point = n === 32 || n === 56 ? rng.bytes(n) : concat(new Uint8Array([rng.chance(0.85) ? 4 : rng.pick([2, 3, 0])]), rng.bytes(n - 1));
  const p = concat(new Uint8Array([rng.chance(0.9) ? 3 : rng.pick([1, 2, 0]), ...u16(group), rng.chance(0.9) ? n : (n + rng.below(3) - 1) & 255]), point);
  switch (rng.below(8)) {
    case 0: return p.subarray(0, rng.below(p.length));
    case 1: return concat(p, rng.bytes(1 + rng.below(4)));
    default: return p;
  }
}

/** A request body with consistent lengths (mostly): op 1, 2, 3 or PING. */
function ksRequest(rng: Rng, handshakes: bigint[]): Uint8Array {
  const id = rng.chance(0.9) ? 1 + rng.below(1000) : rng.pick([0, 0xffffffff, 0x80000000]);
  const keyId = rng.chance(0.9) ? rng.below(2) : rng.pick([2, 255, 0xffff]);
  const hs = handshakes.length > 0 && rng.chance(0.3) ? rng.pick(handshakes) : rng.chance(0.7) ? BigInt(rng.below(16)) : (BigInt(rng.next()) << 32n) | BigInt(rng.next());
  const hsBytes = Array.from({ length: 8 }, (_, k) => Number((hs >> BigInt(56 - 8 * k)) & 255n));
  const scheme = rng.pick(KS_SCHEMES);
  const head = [...u32(id)];
  switch (rng.below(7)) {
    case 0: case 1: {
      const n = rng.chance(0.85) ? rng.pick([32, 48]) : rng.pick([0, 1, 31, 33, 47, 49, 64, 255]);
      return new Uint8Array([...head, 1, ...u16(keyId), ...hsBytes, ...u16(scheme), n, ...rng.bytes(n)]);
    }
    case 2: case 3: {
      const params = ecdhParams(rng);
      return new Uint8Array([...head, 2, ...u16(keyId), ...hsBytes, ...u16(scheme), ...rng.bytes(64), ...u16(params.length), ...params]);
    }
    case 4: case 5: {
      const n = rng.chance(0.8) ? 256 : rng.pick([0, 1, 255, 257, 512]);
      const ct = rng.chance(0.3) ? new Uint8Array(n).fill(rng.pick([0, 0xff])) : rng.bytes(n);
      return new Uint8Array([...head, 3, ...u16(keyId), ...hsBytes, ...u16(ct.length), ...ct]);
    }
    default: return new Uint8Array([...head, rng.chance(0.8) ? 0x7f : rng.pick([0, 4, 0x7e, 0x80, 0xff]), ...u16(rng.chance(0.8) ? 0 : keyId)]);
  }
}

/** The frames of a key-server stream: bodies, and a tail that is not a whole frame. */
export function parseKsFrames(d: Uint8Array): { bodies: Uint8Array[]; rest: Uint8Array } {
  const bodies: Uint8Array[] = [];
  let p = 0;
  while (d.length - p >= 4) {
    const len = ((d[p] << 24) >>> 0) + (d[p + 1] << 16) + (d[p + 2] << 8) + d[p + 3];
    if (len > KS_MAX_BODY || d.length - p - 4 < len) break;
    bodies.push(d.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return { bodies, rest: d.subarray(p) };
}

const ksFrame = (body: Uint8Array): Uint8Array => concat(new Uint8Array(u32(body.length)), body);

/** Offsets of the variable-length field's length in a body of op 1/2/3: [offset, width]. */
function lengthField(body: Uint8Array): [number, 1 | 2] | null {
  switch (body[4]) {
    case 1: return body.length >= 18 ? [17, 1] : null;
    case 2: return body.length >= 83 ? [81, 2] : null;
    case 3: return body.length >= 17 ? [15, 2] : null;
    default: return null;
  }
}

/** Structural mutations of a stream of key-server frames: headers, fields, lengths, handshake reuse. */
function mutateKeyServerStream(rng: Rng, d: Uint8Array, donor: Uint8Array | null): Uint8Array {
  const { bodies, rest } = parseKsFrames(d);
  const handshakes = bodies.filter((b) => b.length >= 15 && b[4] >= 1 && b[4] <= 3).map((b) => {
    let v = 0n;
    for (let k = 7; k < 15; k++) v = (v << 8n) | BigInt(b[k]);
    return v;
  });
  if (bodies.length === 0 || rng.chance(0.08)) {
    bodies.splice(rng.below(bodies.length + 1), 0, ksRequest(rng, handshakes));
    return concat(...bodies.map(ksFrame), rest);
  }
  const i = rng.below(bodies.length);
  const b = bodies[i].slice();
  const set16 = (at: number, v: number): void => { if (b.length >= at + 2) { b[at] = (v >> 8) & 255; b[at + 1] = v & 255; } };
  switch (rng.below(16)) {
    case 0: { // the frame header's length lies (or exceeds the maximum)
      const out = concat(...bodies.map(ksFrame), rest);
      let p = 0;
      for (let k = 0; k < i; k++) p += 4 + bodies[k].length;
      const v = rng.pick([0, 1, 3, 4, 6, b.length - 1, b.length + 1, b.length + 4, KS_MAX_BODY, KS_MAX_BODY + 1, 0x7fffffff, 0xffffffff]) >>> 0;
      out.set(u32(v), p);
      return out;
    }
    case 1: if (b.length >= 5) b[4] = rng.chance(0.8) ? rng.pick([1, 2, 3, 0x7f]) : rng.pick([0, 4, 0x7e, 0x80, 0xff, 0x81]); break;
    case 2: { // the request id: another frame's (answers then share an id), or an edge value
      if (b.length < 4) break;
      const other = rng.pick(bodies);
      if (rng.chance(0.5) && other.length >= 4) b.set(other.subarray(0, 4), 0);
      else b.set(u32(rng.pick([0, 1, 2, 0xffffffff, rng.next()])), 0);
      break;
    }
    case 3: set16(5, rng.pick([0, 1, 2, 3, 0xff, 0x100, 0xffff])); break;
    case 4: { // reuse another request's handshake id (one private-key operation per handshake)
      if (b.length >= 15) {
        const hs = handshakes.length > 0 && rng.chance(0.8) ? rng.pick(handshakes) : rng.pick([0n, 1n, (1n << 64n) - 1n, 1n << 63n]);
        for (let k = 0; k < 8; k++) b[7 + k] = Number((hs >> BigInt(56 - 8 * k)) & 255n);
      }
      break;
    }
    case 5: if (b.length >= 17 && b[4] !== 3) set16(15, rng.pick(KS_SCHEMES)); break;
    case 6: case 7: { // a field length: consistent with its data (resized) or lying
      const f = lengthField(b);
      if (f === null) break;
      const [at, width] = f;
      const old = width === 1 ? b[at] : (b[at] << 8) | b[at + 1];
      const v = rng.pick([0, 1, 31, 32, 33, 47, 48, 49, 64, 65, 97, 255, 256, 257, old - 1, old + 1, 0xffff]) & (width === 1 ? 0xff : 0xffff);
      const head = b.slice(0, at + width);
      if (width === 1) head[at] = v; else { head[at] = v >> 8; head[at + 1] = v & 255; }
      const data = b.subarray(at + width);
      const resized = rng.chance(0.6) ? (v <= data.length ? data.subarray(0, v) : concat(data, rng.bytes(v - data.length))) : data;
      bodies[i] = concat(head, resized);
      return concat(...bodies.map(ksFrame), rest);
    }
    case 8: { // op 2's params replaced
      if (b[4] !== 2 || b.length < 83) break;
      const params = ecdhParams(rng);
      bodies[i] = concat(b.subarray(0, 81), new Uint8Array(u16(params.length)), params);
      return concat(...bodies.map(ksFrame), rest);
    }
    case 9: bodies.splice(rng.below(bodies.length + 1), 0, ksRequest(rng, handshakes)); return concat(...bodies.map(ksFrame), rest);
    case 10: { // the same request again (same handshake), with a new id or the same
      const copy = b.slice();
      if (rng.chance(0.6) && copy.length >= 4) copy.set(u32(1 + rng.below(5000)), 0);
      bodies.splice(rng.below(bodies.length + 1), 0, copy);
      return concat(...bodies.map(ksFrame), rest);
    }
    case 11: if (bodies.length > 1) { bodies.splice(i, 1); return concat(...bodies.map(ksFrame), rest); } break;
    case 12: if (bodies.length > 1) { const j = rng.below(bodies.length); [bodies[i], bodies[j]] = [bodies[j], bodies[i]]; return concat(...bodies.map(ksFrame), rest); } break;
    case 13: { // trailing bytes, or a strict prefix
      bodies[i] = rng.chance(0.5) ? concat(b, rng.bytes(1 + rng.below(3))) : b.subarray(0, rng.below(b.length));
      return concat(...bodies.map(ksFrame), rest);
    }
    case 14: return concat(...bodies.map(ksFrame), rng.chance(0.5) ? ksFrame(ksRequest(rng, handshakes)).subarray(0, 1 + rng.below(20)) : rest);
    default: bodies[i] = mutateBytes(rng, b, donor); return concat(...bodies.map(ksFrame), rest);
  }
  bodies[i] = b;
  return concat(...bodies.map(ksFrame), rest);
}
