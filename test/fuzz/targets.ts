// The fuzz targets (one per entry point, s2n-tls style) and their seed inputs.
//   server           the whole server from the first byte: steps of client bytes, backend data, close
//   record           the same entry point with record-layer mutations (fragmenting, coalescing, types,
//                    versions, lying lengths, interleaved CCS/alerts)
//   clienthello      the ClientHello parser: step 0 is a bare ClientHello body, framed by the harness
//                    into a handshake message and records; mutations are field- and extension-aware
//   posthandshake    after a real TLS 1.3 handshake (RFC 8448 ClientHello, our engine's flight, the
//                    client Finished computed over it): SEALED steps are encrypted with the client's
//                    application key, so KeyUpdate, alerts and data reach the handlers behind the AEAD
//   posthandshake12  after a full TLS 1.2 handshake (handshake12.ts; the first HOST step's data[3] & 3
//                    picks AES-128-GCM/X25519, ChaCha20/P-256, AES-256-GCM/X25519 or static RSA):
//                    SEALED steps are TLS 1.2 records under the client write key, so data, alerts,
//                    renegotiation attempts, CCS and garbage reach the handlers behind the AEAD
//   keyserver        the key server's decoder and dispatcher in process (keyserver.ts), guided by V8
//                    block coverage instead of the engine's counters
// The server, record and clienthello targets run with FUZZ_POLICIES (harness.ts): TLS 1.3 and 1.2,
// TLS 1.3 only, TLS 1.2 only, static RSA.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/repo";
import { RFC_CLIENT_HELLO, RFC_CLIENT_HELLO_RECORD } from "../helpers/tls_rfc8448";
import { record } from "../helpers/tls12";
import { decode, Op, type Input } from "./format";
import { EngineDriver, policyStep, rfcHandshake, Sealer, type RunResult } from "./harness";
import { clientHello12, HANDSHAKES12, Sealer12, SUITES12, tls12Handshake, type Handshake12 } from "./handshake12";
import { KeyServerTarget } from "./keyserver";
import { handshakeMessage, handshakeRecords, parseRecords, type Strategy } from "./mutate";

export const TARGET_NAMES = ["server", "record", "clienthello", "posthandshake", "posthandshake12", "keyserver"] as const;
export type TargetName = (typeof TARGET_NAMES)[number];
/** Targets that run the engine (the others need no driver). */
export const ENGINE_TARGETS: readonly TargetName[] = ["server", "record", "clienthello", "posthandshake", "posthandshake12"];

export const FUZZ_DIR = join(REPO_ROOT, "test", "fuzz");
export const SEEDS_DIR = join(FUZZ_DIR, "corpus", "seeds");

export interface Target {
  name: TargetName;
  strategy: Strategy;
  run(input: Input): RunResult | Promise<RunResult>;
  seeds(): Input[];
  /** Coverage points the target knows of, when not the length of its coverage map (keyserver: V8 blocks seen). */
  countersTotal?(): number;
  close?(): void;
}

function readDir(dir: string): Input[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".bin") || f.endsWith(".fz")).sort().map((f) => decode(new Uint8Array(readFileSync(join(dir, f)))));
}

/** The captured ClientHellos (test/fuzz/corpus/seeds/*.bin), each one RECV step. */
export function capturedSeeds(): Input[] {
  return readDir(SEEDS_DIR);
}

/** A ClientHello body from the first handshake message of a RECV stream, or null. */
function helloBody(stream: Uint8Array): Uint8Array | null {
  const hs = parseRecords(stream).records.filter((r) => r.type === 22);
  const msg = Buffer.concat(hs.map((r) => r.body));
  if (msg.length < 4 || msg[0] !== 1) return null;
  const len = (msg[1] << 16) | (msg[2] << 8) | msg[3];
  return msg.length >= 4 + len ? new Uint8Array(msg.subarray(4, 4 + len)) : null;
}

/** TLS 1.2 ClientHellos (OpenSSL -tls1_2 shape) for every TLS 1.2 suite with each group. */
function hellos12(): { suite: number; group: number; msg: Uint8Array }[] {
  return Object.keys(SUITES12).map(Number).flatMap((suite) => [0x1d, 0x17].map((group) => ({ suite, group, msg: clientHello12(suite, group, new Uint8Array(32).fill(suite & 255)) })));
}

/** A completed TLS 1.2 handshake followed by data both ways, as RECV steps (server and record targets). */
function connected12(hs: Handshake12): Input {
  const sealer = new Sealer12(hs.clientKeys);
  const text = (t: string): Uint8Array => new Uint8Array(Buffer.from(t));
  return [...hs.prefix, { op: Op.RECV, data: sealer.seal(new Uint8Array([23, ...text("ping")])) }, { op: Op.APP_IN, data: text("pong") },
    { op: Op.RECV, data: sealer.seal(new Uint8Array([21, 1, 0])) }];
}

/**
 * The target `name`. Engine targets need `driver`; the TLS 1.2 handshakes and the keyserver's keys
 * are made here, once. `coverage: false` (the replay test) skips the keyserver's V8 coverage.
 */
export async function makeTarget(name: TargetName, driver: EngineDriver | null, options: { coverage?: boolean } = {}): Promise<Target> {
  if (name === "keyserver") {
    const ks = new KeyServerTarget({ coverage: options.coverage ?? true });
    return { name, strategy: "keyserver", run: (input) => ks.run(input), seeds: () => ks.seeds(), countersTotal: () => ks.known, close: () => ks.close() };
  }
  if (driver === null) throw new Error(`target ${name} needs an engine driver`);
  const captured = capturedSeeds();
  switch (name) {
    case "server":
    case "record": {
      // The full RFC handshake with data after it: a seed that reaches the connected state.
      const hs = rfcHandshake(driver);
      const sealer = new Sealer(hs.clientApSecret);
      const full: Input = [...hs.prefix, { op: Op.RECV, data: sealer.seal(new Uint8Array([23, ...Buffer.from("ping")])) }, { op: Op.APP_IN, data: new Uint8Array(Buffer.from("pong")) }];
      const connected = HANDSHAKES12.map((h) => connected12(tls12Handshake(driver, h.suite, h.group)));
      // TLS 1.2 hellos: policy 0 (both versions) for the ECDHE_RSA suites; the ECDSA ones with the
      // chain declared ECDSA (HOST data[0] = 2); static RSA under policy 4 (TLS 1.2 only).
      const hellos: Input[] = hellos12().map(({ suite, msg }) => {
        const rec: Input = [{ op: Op.RECV, data: record(22, msg, 0x0301) }];
        if (SUITES12[suite].staticRsa) return [policyStep(4), ...rec];
        if (suite === 0xc02b || suite === 0xc02c || suite === 0xcca9) return [{ op: Op.HOST, data: new Uint8Array([2, 0, 0, 0]) }, ...rec];
        return rec;
      });
      return {
        name, strategy: name,
        run: (input) => driver.run(input),
        seeds: () => [
          [{ op: Op.RECV, data: RFC_CLIENT_HELLO_RECORD }], full, ...captured, ...connected, ...hellos,
          // The captured TLS 1.2 hellos under the TLS-1.2-only and static-RSA policies too.
          ...captured.filter((c) => (c[0]?.data.length ?? 0) < 280).flatMap((c) => [[policyStep(4), ...c], [policyStep(5), ...c]]),
          // The host's failure paths: no certificate, ECDSA declared, bad chain, failed/short/oversized signature.
          ...[[1, 0, 0], [2, 0, 0], [3, 0, 0], [0, 1, 0], [0, 2, 16], [0, 3, 0], [0, 0, 0, 1], [0, 0, 0, 2], [0, 0, 0, 3]].map((h): Input => [{ op: Op.HOST, data: new Uint8Array(h) }, { op: Op.RECV, data: RFC_CLIENT_HELLO_RECORD }]),
          // ... and for TLS 1.2 (KeyOp 2 signatures; KeyOp 3 premasters of the wrong length).
          ...[[0, 1, 0, 0], [0, 2, 16, 0], [0, 3, 0, 0], [0, 2, 12, 4], [0, 1, 0, 4]].map((h): Input => [{ op: Op.HOST, data: new Uint8Array(h) }, ...connected[h[3] === 4 ? 3 : 0].slice(1)]),
        ],
      };
    }
    case "clienthello":
      return {
        name, strategy: "clienthello",
        run: (input) => driver.run(input.map((s, i) => (i === 0 && s.op === Op.RECV ? { op: Op.RECV, data: handshakeRecords(handshakeMessage(1, s.data)) } : s))),
        seeds: () => [RFC_CLIENT_HELLO.subarray(4), ...captured.map((c) => helloBody(c[0]?.data ?? new Uint8Array(0))), ...hellos12().map((h) => h.msg.subarray(4))]
          .filter((b): b is Uint8Array => b !== null)
          .map((b) => [{ op: Op.RECV, data: new Uint8Array(b) }]),
      };
    case "posthandshake": {
      const hs = rfcHandshake(driver);
      const text = (t: string): Uint8Array => new Uint8Array(Buffer.from(t));
      return {
        name, strategy: "posthandshake",
        run: (input) => driver.run([...hs.prefix, ...input], new Sealer(hs.clientApSecret)),
        seeds: () => [
          [{ op: Op.SEALED, data: new Uint8Array([23, ...text("GET / HTTP/1.1\r\n\r\n")]) }, { op: Op.APP_IN, data: text("HTTP/1.1 200 OK\r\n\r\n") }],
          [{ op: Op.SEALED, data: new Uint8Array([22, 24, 0, 0, 1, 1]) }, { op: Op.SEALED, data: new Uint8Array([23, 1, 2, 3]) }],
          [{ op: Op.SEALED, data: new Uint8Array([21, 1, 0]) }, { op: Op.CLOSE, data: new Uint8Array(0) }],
          [{ op: Op.APP_IN, data: new Uint8Array(40000) }, { op: Op.SEALED, data: new Uint8Array([23, ...new Uint8Array(16384)]) }],
        ],
      };
    }
    case "posthandshake12": {
      const handshakes = HANDSHAKES12.map((h) => tls12Handshake(driver, h.suite, h.group));
      const pick = (input: Input): Handshake12 => handshakes[input[0]?.op === Op.HOST ? (input[0].data[3] ?? 0) & 3 : 0];
      const text = (t: string): Uint8Array => new Uint8Array(Buffer.from(t));
      const sealed = (...bytes: number[]): { op: Op; data: Uint8Array } => ({ op: Op.SEALED, data: new Uint8Array(bytes) });
      const renego = (hs: Handshake12, info: number[] | null): number[] => {
        const hello = clientHello12(hs.suite, hs.group, new Uint8Array(32).fill(7));
        if (info === null) return [22, ...hello];
        // Append renegotiation_info to the extensions block and fix the lengths.
        const ext = [0xff, 0x01, 0, info.length + 1, info.length, ...info];
        const body = [...hello.subarray(4), ...ext];
        const at = extensionsAt(hello) - 4;
        const extLen = ((body[at] << 8) | body[at + 1]) + ext.length;
        body[at] = extLen >> 8; body[at + 1] = extLen & 255;
        return [22, 1, 0, body.length >> 8, body.length & 255, ...body];
      };
      return {
        name, strategy: "posthandshake12",
        run: (input) => { const hs = pick(input); return driver.run([...hs.prefix, ...input], new Sealer12(hs.clientKeys)); },
        seeds: () => [
          ...handshakes.map((_, k): Input => [{ op: Op.HOST, data: new Uint8Array([0, 0, 0, k]) }, { op: Op.SEALED, data: new Uint8Array([23, ...text("GET / HTTP/1.1\r\n\r\n")]) }, { op: Op.APP_IN, data: text("HTTP/1.1 200 OK\r\n\r\n") }]),
          // Renegotiation: the client's ClientHello with the right verify_data, none, or an empty one.
          [sealed(...renego(handshakes[0], [...handshakes[0].clientVerifyData]))],
          [sealed(...renego(handshakes[0], null))],
          [sealed(...renego(handshakes[0], []))],
          [sealed(22, 0, 0, 0, 0), sealed(23, 1, 2, 3)], // a HelloRequest from the client
          [sealed(20, 1), sealed(23, 1)], // a protected ChangeCipherSpec
          [{ op: Op.RECV, data: record(20, [1]) }], // a plaintext one
          [sealed(21, 1, 100), sealed(23, 1)], // no_renegotiation as a warning
          [sealed(21, 1, 0), { op: Op.CLOSE, data: new Uint8Array(0) }],
          [{ op: Op.CLOSE, data: new Uint8Array(0) }, sealed(23, 1, 2)],
          [{ op: Op.RECV, data: record(21, [2, 40]) }],
          [{ op: Op.APP_IN, data: new Uint8Array(40000) }, { op: Op.SEALED, data: new Uint8Array([23, ...new Uint8Array(16384)]) }],
          [{ op: Op.HOST, data: new Uint8Array([0, 0, 0, 1]) }, { op: Op.SEALED, data: new Uint8Array([23, ...new Uint8Array(16385)]) }],
        ],
      };
    }
  }
}

/** Offset of the extensions block's u16 length in a ClientHello message (with its 4-byte header). */
function extensionsAt(hello: Uint8Array): number {
  // version(2) random(32) session_id(1+n) cipher_suites(2+n) compression_methods(1+n) extensions(2+n)
  let p = 4 + 2 + 32;
  p += 1 + hello[p];
  p += 2 + ((hello[p] << 8) | hello[p + 1]);
  p += 1 + hello[p];
  return p;
}

/** Saved corpus and crashers of a target (test/fuzz/corpus/NAME, test/fuzz/crashers/NAME). */
export function savedInputs(kind: "corpus" | "crashers", name: TargetName): { file: string; input: Input }[] {
  const dir = join(FUZZ_DIR, kind, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".fz") || f.endsWith(".bin")).sort()
    .map((f) => ({ file: join(kind, name, f), input: decode(new Uint8Array(readFileSync(join(dir, f)))) }));
}
