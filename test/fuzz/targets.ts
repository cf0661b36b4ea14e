// The fuzz targets (one per entry point of the engine, s2n-tls style) and their seed inputs.
//   server         the whole server from the first byte: steps of client bytes, backend data, close
//   record         the same entry point with record-layer mutations (fragmenting, coalescing, types,
//                  versions, lying lengths, interleaved CCS/alerts)
//   clienthello    the ClientHello parser: step 0 is a bare ClientHello body, framed by the harness
//                  into a handshake message and records; mutations are field- and extension-aware
//   posthandshake  after a real handshake (RFC 8448 ClientHello, our engine's flight, the client
//                  Finished computed over it): SEALED steps are encrypted with the client's
//                  application key, so KeyUpdate, alerts and data reach the handlers behind the AEAD
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/repo";
import { RFC_CLIENT_HELLO, RFC_CLIENT_HELLO_RECORD } from "../helpers/tls_rfc8448";
import { decode, Op, type Input } from "./format";
import { EngineDriver, rfcHandshake, Sealer, type RunResult } from "./harness";
import { handshakeMessage, handshakeRecords, parseRecords, type Strategy } from "./mutate";

export const TARGET_NAMES = ["server", "record", "clienthello", "posthandshake"] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const FUZZ_DIR = join(REPO_ROOT, "test", "fuzz");
export const SEEDS_DIR = join(FUZZ_DIR, "corpus", "seeds");

export interface Target {
  name: TargetName;
  strategy: Strategy;
  run(input: Input): RunResult;
  seeds(): Input[];
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

export function makeTarget(name: TargetName, driver: EngineDriver): Target {
  const captured = capturedSeeds();
  switch (name) {
    case "server":
    case "record": {
      // The full RFC handshake with data after it: a seed that reaches the connected state.
      const hs = rfcHandshake(driver);
      const sealer = new Sealer(hs.clientApSecret);
      const full: Input = [...hs.prefix, { op: Op.RECV, data: sealer.seal(new Uint8Array([23, ...Buffer.from("ping")])) }, { op: Op.APP_IN, data: new Uint8Array(Buffer.from("pong")) }];
      return {
        name, strategy: name,
        run: (input) => driver.run(input),
        seeds: () => [
          [{ op: Op.RECV, data: RFC_CLIENT_HELLO_RECORD }], full, ...captured,
          // The host's failure paths: no certificate, ECDSA declared, bad chain, failed/short/oversized signature.
          ...[[1, 0, 0], [2, 0, 0], [3, 0, 0], [0, 1, 0], [0, 2, 16], [0, 3, 0], [0, 0, 0, 1], [0, 0, 0, 2], [0, 0, 0, 3]].map((h): Input => [{ op: Op.HOST, data: new Uint8Array(h) }, { op: Op.RECV, data: RFC_CLIENT_HELLO_RECORD }]),
        ],
      };
    }
    case "clienthello":
      return {
        name, strategy: "clienthello",
        run: (input) => driver.run(input.map((s, i) => (i === 0 && s.op === Op.RECV ? { op: Op.RECV, data: handshakeRecords(handshakeMessage(1, s.data)) } : s))),
        seeds: () => [RFC_CLIENT_HELLO.subarray(4), ...captured.map((c) => helloBody(c[0]?.data ?? new Uint8Array(0)))]
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
  }
}

/** Saved corpus and crashers of a target (test/fuzz/corpus/NAME, test/fuzz/crashers/NAME). */
export function savedInputs(kind: "corpus" | "crashers", name: TargetName): { file: string; input: Input }[] {
  const dir = join(FUZZ_DIR, kind, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".fz") || f.endsWith(".bin")).sort()
    .map((f) => ({ file: join(kind, name, f), input: decode(new Uint8Array(readFileSync(join(dir, f)))) }));
}
