// The `keyserver` fuzz target: the key server's request decoder and dispatcher, in process, with
// real keys (RSA-2048 = key 0, P-256 = key 1, made once at start), coverage-guided by V8's precise
// block coverage of src/keyserver/* (node:inspector; the engine targets use the wasm counters).
//
// One execution: a fresh KeyServer (its one-signature window and implicit-rejection secrets are
// per-instance state) serves a Duplex; RECV steps are written to it as chunks (where the stream is
// cut is input too), CLOSE half-closes it, a first HOST step sets the window size (data[0]) and
// maxInFlight (data[1]) so eviction and flow control run. Then the same server must still sign a
// valid request with each key (the state-broken check, every execution).
//
// Failures: an exception or rejection that escapes (process-level handlers catch them); a hang (the
// stream not finished within HANG_MS); a request without exactly one answer, or an answer that is
// not the one an independent model of the protocol gives (decoding, status, the one-signature-per-
// handshake rule) — OK answers are checked: signatures verify over the content the op defines with
// the scheme's rules, a premaster is 48 bytes; an unexpected log line; the health check failing.
import { constants, publicEncrypt, verify as cryptoVerify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { KeyKind } from "../../wasm/abi";
import { loadKey, type LoadedKey } from "../../src/keyserver/keys";
import { decodeReady, encodeRequest, MAX_BODY, MAX_DETAIL, Op as KsOp, type Request } from "../../src/keyserver/protocol";
import { KeyServer } from "../../src/keyserver/server";
import { makeCert } from "../helpers/tls";
import { Op, type Input } from "./format";
import type { Failure, RunResult } from "./harness";

/** Wall time one execution may take (signing runs on libuv's pool; a loaded CI machine is slow). */
export const HANG_MS = 5000;

// Status numbers (src/keyserver/protocol.ts Status), spelled out: the model is independent of it.
const OK = 0, MALFORMED = 1, UNKNOWN_OP = 2, UNKNOWN_KEY = 3, UNKNOWN_SCHEME = 4, MISMATCH = 5, BAD_HASH_LENGTH = 6,
  BAD_PARAMS = 7, ALREADY_SIGNED = 8;
const STATUS_NAMES = ["OK", "MALFORMED", "UNKNOWN_OP", "UNKNOWN_KEY", "UNKNOWN_SCHEME", "SCHEME_KEY_MISMATCH", "BAD_HASH_LENGTH",
  "BAD_PARAMS", "ALREADY_SIGNED", "NOT_IMPLEMENTED", "SIGN_FAILED", "START_FAILED"];
const statusName = (s: number): string => STATUS_NAMES[s] ?? `status ${s}`;

/** The model's schemes: [hash, padding, key kind, allowed in TLS 1.3] (RFC 8446 §4.2.3, RFC 5246). */
const SCHEMES: Map<number, { hash: string; padding: "pss" | "pkcs1" | "ecdsa"; kind: KeyKind; tls13: boolean; salt: number }> = new Map([
  [0x0403, { hash: "sha256", padding: "ecdsa", kind: KeyKind.ECDSA_P256, tls13: true, salt: 0 }],
  [0x0503, { hash: "sha384", padding: "ecdsa", kind: KeyKind.ECDSA_P384, tls13: true, salt: 0 }],
  [0x0804, { hash: "sha256", padding: "pss", kind: KeyKind.RSA, tls13: true, salt: 32 }],
  [0x0805, { hash: "sha384", padding: "pss", kind: KeyKind.RSA, tls13: true, salt: 48 }],
  [0x0806, { hash: "sha512", padding: "pss", kind: KeyKind.RSA, tls13: true, salt: 64 }],
  [0x0401, { hash: "sha256", padding: "pkcs1", kind: KeyKind.RSA, tls13: false, salt: 0 }],
  [0x0501, { hash: "sha384", padding: "pkcs1", kind: KeyKind.RSA, tls13: false, salt: 0 }],
  [0x0601, { hash: "sha512", padding: "pkcs1", kind: KeyKind.RSA, tls13: false, salt: 0 }],
]);

const POINT: Map<number, number> = new Map([[0x17, 65], [0x18, 97], [0x1d, 32]]);

function paramsOk(p: Uint8Array): boolean {
  if (p.length < 4 || p[0] !== 3) return false;
  const n = POINT.get((p[1] << 8) | p[2]);
  if (n === undefined || p[3] !== n || p.length !== 4 + n) return false;
  return n === 32 || p[4] === 4;
}

const TLS13_CONTEXT = Buffer.concat([Buffer.alloc(64, 0x20), Buffer.from("TLS 1.3, server CertificateVerify", "latin1"), Buffer.from([0])]);

/** What the model expects for one body: the answer's id and status, and for OK a payload check. */
interface Expected {
  id: number;
  status: number;
  what: string;
  checkPayload?: (payload: Uint8Array) => string | null;
}

const be16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
const be32 = (b: Uint8Array, at: number): number => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
const be64 = (b: Uint8Array, at: number): bigint => (BigInt(be32(b, at)) << 32n) + BigInt(be32(b, at + 4));

/** The one-signature-per-handshake window, modelled: insertion-ordered, oldest evicted. */
class WindowModel {
  readonly seen = new Map<string, true>();
  constructor(readonly capacity: number) {}
  claim(key: number, hs: bigint): boolean {
    const k = `${key}:${hs}`;
    if (this.seen.has(k)) return false;
    this.seen.set(k, true);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }
}

function signatureCheck(key: LoadedKey, scheme: number, content: Uint8Array): (sig: Uint8Array) => string | null {
  const s = SCHEMES.get(scheme)!;
  return (sig) => {
    if (key.kind === KeyKind.RSA && sig.length !== key.bits / 8) return `RSA signature of ${sig.length} bytes`;
    const opts = s.padding === "pss" ? { key: key.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: s.salt }
      : s.padding === "pkcs1" ? { key: key.publicKey, padding: constants.RSA_PKCS1_PADDING } : { key: key.publicKey, dsaEncoding: "der" as const };
    let ok = false;
    try { ok = cryptoVerify(s.hash, content, opts, sig); } catch { ok = false; }
    return ok ? null : `signature (scheme 0x${scheme.toString(16)}) does not verify`;
  };
}

/** The model: what the key server must answer to `b`, given the keys and the window so far. */
function expect(b: Uint8Array, keys: readonly LoadedKey[], window: WindowModel): Expected {
  if (b.length < 4) return { id: 0, status: MALFORMED, what: `${b.length}-byte body` };
  const id = be32(b, 0);
  if (id === 0) return { id: 0, status: MALFORMED, what: "id 0" };
  if (b.length < 7) return { id, status: MALFORMED, what: `${b.length}-byte body` };
  const op = b[4], keyId = be16(b, 5);
  const what = `id ${id} op ${op} key ${keyId}`;
  const malformed = { id, status: MALFORMED, what };
  const key = keys[keyId];
  switch (op) {
    case 1: {
      if (b.length < 18 || b.length !== 18 + b[17]) return malformed;
      const hs = be64(b, 7), scheme = be16(b, 15), n = b[17];
      if (n !== 32 && n !== 48) return { id, status: BAD_HASH_LENGTH, what };
      const s = SCHEMES.get(scheme);
      const w = `${what} scheme 0x${scheme.toString(16)} handshake ${hs}`;
      if (key === undefined) return { id, status: UNKNOWN_KEY, what: w };
      if (s === undefined) return { id, status: UNKNOWN_SCHEME, what: w };
      if (s.kind !== key.kind) return { id, status: MISMATCH, what: w };
      if (!s.tls13) return { id, status: UNKNOWN_SCHEME, what: w };
      if (!window.claim(keyId, hs)) return { id, status: ALREADY_SIGNED, what: w };
      return { id, status: OK, what: w, checkPayload: signatureCheck(key, scheme, Buffer.concat([TLS13_CONTEXT, b.subarray(18)])) };
    }
    case 2: {
      if (b.length < 83 || b.length !== 83 + be16(b, 81)) return malformed;
      const hs = be64(b, 7), scheme = be16(b, 15);
      const s = SCHEMES.get(scheme);
      const w = `${what} scheme 0x${scheme.toString(16)} handshake ${hs}`;
      if (key === undefined) return { id, status: UNKNOWN_KEY, what: w };
      if (s === undefined) return { id, status: UNKNOWN_SCHEME, what: w };
      if (s.kind !== key.kind) return { id, status: MISMATCH, what: w };
      if (!paramsOk(b.subarray(83))) return { id, status: BAD_PARAMS, what: w };
      if (!window.claim(keyId, hs)) return { id, status: ALREADY_SIGNED, what: w };
      // The signed content is client_random ‖ server_random ‖ params: exactly the body after the u16.
      return { id, status: OK, what: w, checkPayload: signatureCheck(key, scheme, Buffer.concat([b.subarray(17, 81), b.subarray(83)])) };
    }
    case 3: {
      if (b.length < 17 || b.length !== 17 + be16(b, 15)) return malformed;
      const hs = be64(b, 7);
      const w = `${what} handshake ${hs}`;
      if (key === undefined) return { id, status: UNKNOWN_KEY, what: w };
      if (key.kind !== KeyKind.RSA) return { id, status: MISMATCH, what: w };
      if (!window.claim(keyId, hs)) return { id, status: ALREADY_SIGNED, what: w };
      return { id, status: OK, what: w, checkPayload: (p) => (p.length === 48 ? null : `premaster of ${p.length} bytes`) };
    }
    case 0x7f:
      if (b.length !== 7 || keyId !== 0) return malformed;
      return { id, status: OK, what, checkPayload: (p) => (p.length === 0 ? null : `PING answered ${p.length} bytes`) };
    default:
      return { id, status: UNKNOWN_OP, what };
  }
}

/** Cuts a stream into frame bodies as the protocol defines it; `bad`: a length over MAX_BODY stopped it. */
export function cutFrames(stream: Uint8Array): { bodies: Uint8Array[]; bad: boolean } {
  const bodies: Uint8Array[] = [];
  let p = 0;
  while (stream.length - p >= 4) {
    const len = be32(stream, p);
    if (len > MAX_BODY) return { bodies, bad: true };
    if (stream.length - p - 4 < len) break;
    bodies.push(stream.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return { bodies, bad: false };
}

// ---- Keys --------------------------------------------------------------------------------------

let keysOnce: LoadedKey[] | null = null;

/** RSA-2048 (key 0) and P-256 (key 1), loaded through keys.ts as the key server does. */
export function fuzzKeys(): LoadedKey[] {
  if (keysOnce !== null) return keysOnce;
  const dir = mkdtempSync(join(tmpdir(), "tlsbox-fuzz-keys-"));
  try {
    keysOnce = (["rsa", "p256"] as const).map((kind) => {
      const c = makeCert(kind);
      writeFileSync(join(dir, `${kind}.key`), c.keyPem);
      writeFileSync(join(dir, `${kind}.crt`), c.certPem);
      return loadKey({ key: join(dir, `${kind}.key`), cert: join(dir, `${kind}.crt`) });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return keysOnce;
}

// ---- V8 block coverage of src/keyserver/* ------------------------------------------------------

interface Range { startOffset: number; endOffset: number; count: number }
interface FunctionCoverage { functionName: string; ranges: Range[]; isBlockCoverage: boolean }
interface ScriptCoverage { scriptId: string; url: string; functions: FunctionCoverage[] }

/**
 * Precise block coverage (callCount, detailed) of the key server's code in this bundle. esbuild
 * marks each module's code with a `// src/keyserver/NAME.ts` line; the functions starting between
 * such a marker and the next marker are the key server's. V8 reports per function the ranges whose
 * count differs from their parent's, so each block ever reported gets a stable index and its count
 * is that of the innermost range reported around it (its own, or its parent's). takePreciseCoverage
 * resets the counts: one call per execution gives that execution's counts.
 */
export class V8BlockCoverage {
  private readonly session = new Session();
  private readonly url: string;
  private readonly sections: [number, number][] = [];
  private readonly index = new Map<string, number>();
  private readonly blocksOf = new Map<number, { start: number; end: number; i: number }[]>();

  constructor(bundleUrl: string, readonly moduleFilter = "src/keyserver/") {
    this.url = bundleUrl;
    const source = readFileSync(fileURLToPath(bundleUrl), "utf8");
    const markers = [...source.matchAll(/^\/\/ (\S+\.(?:ts|js|mjs|cjs|wasm|json))$/gm)];
    markers.forEach((m, k) => {
      if (m[1].startsWith(moduleFilter)) this.sections.push([m.index!, k + 1 < markers.length ? markers[k + 1].index! : source.length]);
    });
    if (this.sections.length === 0) throw new Error(`no ${moduleFilter} code found in ${bundleUrl}`);
    this.session.connect();
    this.post("Profiler.enable");
    this.post("Profiler.startPreciseCoverage", { callCount: true, detailed: true });
  }

  private post(method: string, params?: object): unknown {
    let out: unknown = null;
    let error: Error | null = null;
    // The in-process inspector answers synchronously.
    this.session.post(method, params as never, (e: Error | null, r: unknown) => { error = e; out = r; });
    if (error !== null) throw error;
    return out;
  }

  private mine(offset: number): boolean {
    return this.sections.some(([a, b]) => offset >= a && offset < b);
  }

  /** Blocks seen so far (the denominator of "blocks lit"). */
  get known(): number {
    return this.index.size;
  }

  /** The counts since the last call (saturated at 255), one per block ever seen. */
  take(): Uint8Array {
    const r = this.post("Profiler.takePreciseCoverage") as { result: ScriptCoverage[] };
    const script = r.result.find((s) => s.url === this.url);
    const fns = (script?.functions ?? []).filter((f) => f.ranges.length > 0 && this.mine(f.ranges[0].startOffset));
    for (const f of fns) {
      const fnStart = f.ranges[0].startOffset;
      let blocks = this.blocksOf.get(fnStart);
      if (blocks === undefined) this.blocksOf.set(fnStart, (blocks = []));
      for (const range of f.ranges) {
        const key = `${range.startOffset}:${range.endOffset}`;
        if (!this.index.has(key)) {
          this.index.set(key, this.index.size);
          blocks.push({ start: range.startOffset, end: range.endOffset, i: this.index.get(key)! });
        }
      }
    }
    const counts = new Uint8Array(this.index.size);
    for (const f of fns) {
      for (const b of this.blocksOf.get(f.ranges[0].startOffset)!) {
        let best: Range | null = null;
        for (const range of f.ranges) {
          if (range.startOffset <= b.start && range.endOffset >= b.end && (best === null || range.endOffset - range.startOffset <= best.endOffset - best.startOffset)) best = range;
        }
        counts[b.i] = Math.min(255, best?.count ?? 0);
      }
    }
    return counts;
  }

  close(): void {
    try { this.post("Profiler.stopPreciseCoverage"); this.post("Profiler.disable"); } catch { /* already gone */ }
    this.session.disconnect();
  }
}

// ---- The target -----------------------------------------------------------------------------------

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function u64(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(56 - 8 * i)) & 255n));
}

export class KeyServerTarget {
  private readonly keys = fuzzKeys();
  private readonly coverage: V8BlockCoverage | null;
  private escaped: unknown[] = [];
  private readonly onEscape = (e: unknown): void => { this.escaped.push(e); };

  /** `coverage`: collect V8 block coverage (the fuzzer); the replay test runs without it. */
  constructor(options: { coverage: boolean }) {
    // Coverage first: functions compiled before it starts would have no block counters.
    this.coverage = options.coverage ? new V8BlockCoverage(import.meta.url) : null;
    process.on("unhandledRejection", this.onEscape);
    process.on("uncaughtException", this.onEscape);
  }

  get known(): number {
    return this.coverage?.known ?? 0;
  }

  close(): void {
    process.off("unhandledRejection", this.onEscape);
    process.off("uncaughtException", this.onEscape);
    this.coverage?.close();
  }

  async run(input: Input): Promise<RunResult> {
    // No take before the run: nothing of src/keyserver/* runs between executions (the mutators are
    // test code), and a take costs ~1.5 ms whatever it returns (V8 walks every function it tracks).
    let failure: Failure | null = null;
    try {
      failure = await this.execute(input);
    } catch (e) {
      failure = { kind: "host-exception", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
    await tick();
    if (failure === null && this.escaped.length > 0) {
      const e = this.escaped[0];
      failure = { kind: "host-exception", message: `escaped: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
    }
    this.escaped = [];
    const coverage = this.coverage?.take() ?? new Uint8Array(0);
    return { failure, coverage, handshakeDone: false, maxFuel: 0, memoryBytes: 0 };
  }

  private async execute(input: Input): Promise<Failure | null> {
    const first = input[0];
    const windowSize = first?.op === Op.HOST && (first.data[0] ?? 0) > 0 ? first.data[0] : 65536;
    const maxInFlight = first?.op === Op.HOST && (first.data[1] ?? 0) > 0 ? first.data[1] : 1024;
    const logs: string[] = [];
    const server = new KeyServer(this.keys, { windowSize, maxInFlight, log: (line) => logs.push(line) });
    const written: Buffer[] = [];
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) { written.push(Buffer.from(chunk)); callback(); },
      final(callback) { callback(); },
    });
    const served = server.serve(stream);
    const sent: Uint8Array[] = [];
    for (const step of input) {
      if (step.op === Op.HOST) continue;
      if (step.op === Op.CLOSE) break; // half-close: what follows is never sent
      if (step.data.length === 0) continue;
      sent.push(step.data);
      stream.push(Buffer.from(step.data));
      await tick();
    }
    stream.push(null);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([served, new Promise<"hang">((resolve) => { timer = setTimeout(() => resolve("hang"), HANG_MS); })]);
    clearTimeout(timer);
    if (outcome === "hang") { stream.destroy(); return { kind: "invariant", message: `hang: the stream was not finished after ${HANG_MS} ms` }; }

    // What was asked, and what the model says each request must get.
    const { bodies, bad } = cutFrames(new Uint8Array(Buffer.concat(sent)));
    if ((outcome === "framing-error") !== bad) return { kind: "invariant", message: `serve ended "${outcome}", the stream ${bad ? "had" : "had no"} frame length over the maximum` };
    const window = new WindowModel(windowSize);
    const expected = bodies.map((b) => expect(b, this.keys, window));

    // What was answered: READY, then one frame per request.
    const answers = cutFrames(new Uint8Array(Buffer.concat(written)));
    if (answers.bad) return { kind: "invariant", message: "the server wrote a frame longer than the maximum" };
    const frames = answers.bodies;
    if (frames.length === 0 || be32(frames[0], 0) !== 0 || frames[0][4] !== OK) return { kind: "invariant", message: "no READY frame first" };
    const ready = decodeReady(frames[0].subarray(5));
    if (ready.keys.length !== this.keys.length) return { kind: "invariant", message: `READY announces ${ready.keys.length} keys` };
    if (frames.length - 1 !== bodies.length) return { kind: "invariant", message: `${bodies.length} requests, ${frames.length - 1} answers` };
    const open = [...expected];
    for (const f of frames.slice(1)) {
      if (f.length < 5) return { kind: "invariant", message: `an answer of ${f.length} bytes` };
      const id = be32(f, 0), status = f[4], payload = f.subarray(5);
      if (status !== OK && payload.length > MAX_DETAIL) return { kind: "invariant", message: `an error detail of ${payload.length} bytes` };
      const sameId = open.filter((x) => x.id === id);
      if (sameId.length === 0) return { kind: "invariant", message: `an answer to id ${id}, which no request had (or had already been answered)` };
      const match = sameId.find((x) => x.status === status && (x.checkPayload?.(payload) ?? null) === null);
      if (match === undefined) {
        const x = sameId[0];
        const why = x.status === status && x.checkPayload ? x.checkPayload(payload) : `${statusName(status)}, model expects ${statusName(x.status)}`;
        return { kind: "invariant", message: `${x.what}: ${why} (${Buffer.from(payload.subarray(0, 80)).toString(status === OK ? "hex" : "latin1")})` };
      }
      open.splice(open.indexOf(match), 1);
    }
    const unexpectedLog = logs.find((l) => !(bad && l.includes("the next frame cannot be found")));
    if (unexpectedLog !== undefined) return { kind: "invariant", message: `log: ${unexpectedLog.slice(0, 160)}` };
    if (server.stats.requests !== bodies.length) return { kind: "invariant", message: `stats.requests ${server.stats.requests}, ${bodies.length} requests` };

    // The same server must still sign: a fresh handshake id, TLS 1.3 CertificateVerify with P-256
    // after every input, TLS 1.2 ServerKeyExchange with RSA-PSS after every input that asked key 0
    // for a private-key operation (an RSA signature costs ~1.4 ms, most inputs never reach one).
    const fresh = (keyId: number): bigint => {
      let h = 0xfffffffffffffff0n;
      while (window.seen.has(`${keyId}:${h}`)) h--;
      return h;
    };
    const checks: Request[] = [
      { op: KsOp.SIGN_TLS13_CERT_VERIFY, id: 0x7ffffff1, keyId: 1, handshakeId: fresh(1), scheme: 0x0403, transcriptHash: new Uint8Array(32).fill(7) },
      {
        op: KsOp.SIGN_TLS12_SERVER_KEY_EXCHANGE, id: 0x7ffffff2, keyId: 0, handshakeId: fresh(0), scheme: 0x0804,
        clientRandom: new Uint8Array(32).fill(1), serverRandom: new Uint8Array(32).fill(2), params: new Uint8Array([3, 0, 0x1d, 32, ...new Uint8Array(32).fill(9)]),
      },
    ];
    const usedRsa = bodies.some((b) => b.length >= 7 && b[4] >= 1 && b[4] <= 3 && be16(b, 5) === 0);
    for (const req of usedRsa ? checks : checks.slice(0, 1)) {
      const body = encodeRequest(req).subarray(4);
      const want = expect(body, this.keys, window);
      const answer = await server.handle(body);
      const status = answer[8], payload = answer.subarray(9);
      const problem = status !== OK ? `${statusName(status)}: ${Buffer.from(payload).toString("latin1")}` : want.checkPayload?.(payload) ?? null;
      if (problem !== null) return { kind: "invariant", message: `state broken: a valid request (${want.what}) after the input got ${problem}` };
    }
    return null;
  }

  /** Seeds: one valid request per op, key and scheme; near misses; several frames; a reused handshake. */
  seeds(): Input[] {
    // A real ClientKeyExchange ciphertext (PKCS#1 v1.5 of 0x0303 ‖ 46 bytes) under key 0: the
    // premaster path's "good padding" branch. (Node refuses this padding for decryption only.)
    const good = new Uint8Array(publicEncrypt({ key: this.keys[0].publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from([3, 3, ...new Uint8Array(46).fill(0x11)])));
    const p = (group: number, n: number): Uint8Array => new Uint8Array([3, 0, group, n, ...(n === 32 ? new Uint8Array(32).fill(9) : [4, ...new Uint8Array(n - 1).fill(9)])]);
    const reqs: Request[] = [];
    let id = 1;
    let hs = 1n;
    for (const scheme of SCHEMES.keys()) {
      for (const keyId of [0, 1]) {
        for (const n of [32, 48]) reqs.push({ op: KsOp.SIGN_TLS13_CERT_VERIFY, id: id++, keyId, handshakeId: hs++, scheme, transcriptHash: new Uint8Array(n).fill(n) });
        for (const [g, n] of [[0x1d, 32], [0x17, 65], [0x18, 97]]) {
          reqs.push({ op: KsOp.SIGN_TLS12_SERVER_KEY_EXCHANGE, id: id++, keyId, handshakeId: hs++, scheme, clientRandom: new Uint8Array(32).fill(1), serverRandom: new Uint8Array(32).fill(2), params: p(g, n) });
        }
      }
    }
    for (const keyId of [0, 1, 2]) for (const c of [good, new Uint8Array(256).fill(0xff), new Uint8Array(255)]) reqs.push({ op: KsOp.RSA_DECRYPT_PREMASTER, id: id++, keyId, handshakeId: hs++, ciphertext: c });
    reqs.push({ op: KsOp.PING, id: id++, keyId: 0 });
    const one = (r: Request): Input => [{ op: Op.RECV, data: encodeRequest(r) }];
    const seeds = reqs.map(one);
    const frames = (rs: Request[]): Uint8Array => new Uint8Array(Buffer.concat(rs.map((r) => encodeRequest(r))));
    const sign = reqs[0];
    // The same handshake twice (the second is refused), one op 2 and one op 3 for one handshake.
    seeds.push([{ op: Op.RECV, data: frames([sign, { ...sign, id: 999 }]) }]);
    const premaster = reqs.find((r) => r.op === KsOp.RSA_DECRYPT_PREMASTER)!;
    const ske = reqs.find((r) => r.op === KsOp.SIGN_TLS12_SERVER_KEY_EXCHANGE && r.keyId === 0 && r.scheme === 0x0804)!;
    seeds.push([{ op: Op.RECV, data: frames([premaster, { ...ske, handshakeId: 1000n } as Request, { ...sign, handshakeId: 1000n } as Request]) }]);
    // A window of 2 (eviction), maxInFlight 1 (flow control), pipelined frames cut mid-header.
    const many = frames(reqs.slice(0, 12));
    seeds.push([{ op: Op.HOST, data: new Uint8Array([2, 1]) }, { op: Op.RECV, data: many.subarray(0, 3) }, { op: Op.RECV, data: many.subarray(3, 200) }, { op: Op.RECV, data: many.subarray(200) }]);
    // Malformed: empty body, short bodies, id 0, unknown op, a length over the maximum, a truncated frame.
    for (const body of [[], [0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 5, 1], [0, 0, 0, 6, 9, 0, 0], [0, 0, 0, 7, 0x7f, 0, 1]]) {
      seeds.push([{ op: Op.RECV, data: new Uint8Array([0, 0, 0, body.length, ...body]) }]);
    }
    seeds.push([{ op: Op.RECV, data: new Uint8Array([...encodeRequest(sign), 0, 1, 0, 1, 1, 2, 3]) }]);
    seeds.push([{ op: Op.RECV, data: new Uint8Array([...encodeRequest(sign).subarray(0, 30)]) }, { op: Op.CLOSE, data: new Uint8Array(0) }]);
    seeds.push([{ op: Op.RECV, data: new Uint8Array([0, 0, 0, 9, 0, 0, 0, 1, 1, 0, 0, ...u64(5n).slice(0, 2)]) }]);
    return seeds;
  }
}
