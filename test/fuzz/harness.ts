// Drives one engine instance through the raw ABI (wasm/abi.ts) for the fuzzer, the replay test and
// the metering benchmark. Unlike TlsSession it is synchronous and answers the engine's questions at
// once: the certificate is the RFC 8448 one, the CertificateVerify signature is dummy bytes (the
// engine does not check it; the host does, in session.ts, which is not under test here).
//
// Everything is deterministic: randomness comes from a tape (the RFC 8448 server random and X25519
// key, so the RFC ClientHello gives the RFC handshake, then a fixed PRNG), and the engine imports
// no clock. The same input always takes the same path, which is what lets a crasher be replayed
// and minimised.
//
// A run fails (Failure) on: a trap; fuel exhausted (a runaway call, DESIGN.md invariant 4/5); an
// exception in the host; linear memory over its cap; or a broken protocol invariant — bytes sent
// after the fatal alert went out, plaintext released before the handshake completed (client
// Finished verified), a region named by the engine outside its memory, WANT_KEY_OP without a
// request, or a pump that never settles.
import { Info, KeyKind, KeyOp, Status } from "../../wasm/abi";
import { SandboxFactory, type Sandbox } from "../../src/sandbox/loader";
import { encodePolicy, STATIC_RSA_SUITES, TLS12_SUITES, type TlsPolicy } from "../../src/tls/policy";
import { CipherSuite, NamedGroup } from "../../wasm/abi";
import { unhex } from "../helpers/repo";
import {
  RFC, RFC_CERT_DER, RFC_CLIENT_HELLO, RFC_CLIENT_HELLO_RECORD, expandLabel, openRecord, sealRecord, sha256, trafficKeys, type Keys,
} from "../helpers/tls_rfc8448";
import { createHmac } from "node:crypto";
import { Op, type Input } from "./format";

export type FailureKind = "trap" | "fuel" | "host-exception" | "memory" | "invariant";

export interface Failure {
  kind: FailureKind;
  message: string;
}

export interface RunResult {
  failure: Failure | null;
  /** The coverage counters after the run (fuzz variant only). */
  coverage: Uint8Array | null;
  handshakeDone: boolean;
  /** Most fuel one call used (metered variants). */
  maxFuel: number;
  /** Linear memory at the end of the run, in bytes. */
  memoryBytes: number;
}

const TLS13_SUITES = [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256];

/**
 * The policy an input runs with unless its first step picks another: everything the engine
 * supports (TLS 1.3 preferred, TLS 1.2 with the ECDHE suites for clients that offer nothing newer),
 * ALPN on so its code runs.
 */
export const FUZZ_POLICY: Partial<TlsPolicy> = {
  suites: [...TLS13_SUITES, ...TLS12_SUITES],
  groups: [NamedGroup.X25519, NamedGroup.SECP256R1],
  alpn: ["h2", "http/1.1"],
  tls12: true,
};

/** TLS 1.2 only, every TLS 1.2 suite including static RSA, EMS optional: the posthandshake12 handshakes. */
export const TLS12_ONLY_POLICY = 4;

/**
 * The policies, chosen by a HOST step at the start of an input (data[3] & 7, 0 = FUZZ_POLICY).
 * 2, 3 and 7 are TLS 1.3 only (what a server without `tlsv1.2` runs); 4 and 5 enable static RSA.
 */
export const FUZZ_POLICIES: Partial<TlsPolicy>[] = [
  FUZZ_POLICY,
  // Server order, ChaCha20 first in both versions; TLS 1.2 clients without EMS accepted.
  {
    suites: [CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_AES_128_GCM_SHA256,
      CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
      CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256],
    serverCipherOrder: true, alpn: ["http/1.1"], tls12: true, requireExtendedMasterSecret: false,
  },
  // P-256 only, TLS 1.3 only: a client that shared only X25519 gets a HelloRetryRequest.
  { suites: TLS13_SUITES, groups: [NamedGroup.SECP256R1], alpn: [] },
  { suites: [CipherSuite.TLS_AES_256_GCM_SHA384], groups: [NamedGroup.X25519], maxEarlyData: 0, maxKeyUpdates: 0, alpn: ["h2"] },
  // TLS 1.2 only (no downgrade sentinel, no fallback refusal), static RSA allowed, EMS optional.
  { suites: [...TLS12_SUITES, ...STATIC_RSA_SUITES], groups: [NamedGroup.SECP256R1, NamedGroup.X25519], tls13: false, tls12: true, staticRsa: true, requireExtendedMasterSecret: false, alpn: ["h2", "http/1.1"] },
  // Both versions, static RSA preferred by server order, P-256 only.
  {
    suites: [CipherSuite.TLS_AES_128_GCM_SHA256, ...STATIC_RSA_SUITES, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256],
    groups: [NamedGroup.SECP256R1], serverCipherOrder: true, tls12: true, staticRsa: true, alpn: [],
  },
  // TLS 1.2 only, ECDSA suites only (the RSA test chain has none: host answers decide), X25519 only.
  {
    suites: [CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384],
    groups: [NamedGroup.X25519], tls13: false, tls12: true, alpn: ["h2"],
  },
  // TLS 1.3 only, rekeying after every 2 records sent.
  { suites: TLS13_SUITES, groups: [NamedGroup.X25519, NamedGroup.SECP256R1], rekeyAfterRecords: 2, maxKeyUpdates: 1, alpn: ["http/1.1", "h2"] },
];

/** The HOST step that, first in an input, selects policy `index`. */
export const policyStep = (index: number): { op: Op; data: Uint8Array } => ({ op: Op.HOST, data: new Uint8Array([0, 0, 0, index]) });

/**
 * Fuel for one call. Measured (fuel-cost.fuzz.ts): the largest handshake call burns ~8,700 units,
 * a call with a 16 KiB record ~13,200; a window full of tiny records stays far below this. So a
 * call that burns 1,000,000 is a runaway by a wide margin, and is stopped within milliseconds.
 */
export const DEFAULT_FUEL_PER_CALL = 1_000_000;

const DUMMY_SIGNATURE = new Uint8Array(256).fill(0xa5);
/** The premaster the host "decrypts" for every static-RSA ClientKeyExchange (KeyOp 3): 48 bytes of 0xa5. */
export const DUMMY_PREMASTER = new Uint8Array(48).fill(0xa5);
const MAX_PUMP_ROUNDS = 10_000;

/** The RFC 8448 draws first (server random, X25519 private key), then a fixed xorshift stream. */
function tapeRandom(): (into: Uint8Array) => void {
  let tape = Buffer.concat([unhex(RFC.trace[5].values.ServerHello).subarray(6, 38), unhex(RFC.server.x25519PrivateKey)]);
  let x = 0x9e3779b9;
  return (into) => {
    const fromTape = Math.min(tape.length, into.length);
    into.set(tape.subarray(0, fromTape));
    tape = tape.subarray(fromTape);
    for (let i = fromTape; i < into.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      into[i] = x & 255;
    }
  };
}

class InvariantError extends Error {}

type Fn = (...args: number[]) => number;

export class EngineDriver {
  private constructor(
    private readonly factory: SandboxFactory,
    private readonly state: { random: (into: Uint8Array) => void; keyOp: { op: number; ptr: number; len: number } | null; current: Sandbox | null },
    readonly fuelPerCall: number,
    readonly memoryCap: number,
  ) {}

  /** `memoryCap`: bytes of linear memory above which a run fails (default: the module's maximum). */
  static async create(wasm: Uint8Array, options: { fuelPerCall?: number; memoryCap?: number } = {}): Promise<EngineDriver> {
    const state = { random: tapeRandom(), keyOp: null as { op: number; ptr: number; len: number } | null, current: null as Sandbox | null };
    const factory = await SandboxFactory.create(new Uint8Array(wasm), {
      random: (into) => state.random(into),
      host: {
        bind: () => ({
          key_op_request(op: number, _scheme: number, ptr: number, len: number): void {
            state.keyOp = { op, ptr, len };
          },
        }),
      },
    });
    return new EngineDriver(factory, state, options.fuelPerCall ?? DEFAULT_FUEL_PER_CALL, options.memoryCap ?? maxMemory(wasm));
  }

  /** Runs `input` on a fresh instance. `sealer` turns SEALED steps into records (posthandshake). */
  run(input: Input, sealer: StepSealer | null = null): RunResult {
    this.state.random = tapeRandom();
    this.state.keyOp = null;
    const sandbox = this.factory.instantiate();
    this.state.current = sandbox;
    const x = sandbox.exports as unknown as Record<string, Fn>;
    const metered = typeof x.tlsbox_set_fuel === "function";
    let maxFuel = 0;
    let status = 0;
    let certGiven = false;
    let keyOpGiven = false;
    let certMode = 0;
    let sigMode = 0;
    let sigLen = DUMMY_SIGNATURE.length;
    /** The fatal alert has been flushed: from now on nothing may be sent. */
    let silenced = false;
    let handshakeDone = false;

    const call = (name: string, ...args: number[]): number => {
      if (metered) x.tlsbox_set_fuel(this.fuelPerCall);
      const r = x[name](...args);
      if (metered) maxFuel = Math.max(maxFuel, this.fuelPerCall - x.tlsbox_fuel_left());
      if (sandbox.bytes().byteLength > this.memoryCap) throw new InvariantError(`memory: ${sandbox.bytes().byteLength} bytes after ${name}`);
      return r;
    };

    const pump = (): void => {
      for (let round = 0; ; round++) {
        if (round > MAX_PUMP_ROUNDS) throw new InvariantError("pump does not settle");
        let moved = false;
        status = call("tls_status");
        if ((status & Status.WANT_CERT) !== 0 && !certGiven) {
          certGiven = true;
          const chain = new Uint8Array(3 + RFC_CERT_DER.length);
          const declared = certMode === 3 ? RFC_CERT_DER.length + 1 : RFC_CERT_DER.length;
          chain.set([declared >> 16, (declared >> 8) & 255, declared & 255]);
          chain.set(RFC_CERT_DER, 3);
          sandbox.region(call("tls_cert_ptr"), chain.length).set(chain);
          status = call("tls_set_certificate", certMode === 1 ? 0 : chain.length, certMode === 2 ? KeyKind.ECDSA_P256 : KeyKind.RSA);
          moved = true;
        }
        if ((status & Status.WANT_KEY_OP) !== 0 && !keyOpGiven) {
          const req = this.state.keyOp;
          if (req === null) throw new InvariantError("WANT_KEY_OP without key_op_request");
          sandbox.region(req.ptr, req.len); // the engine named this region for the host to read
          keyOpGiven = true;
          const cap = call("tls_keyop_capacity");
          // The right length for the op (a signature, or the 48-byte premaster of KeyOp 3) unless
          // the HOST step says otherwise.
          const normal = req.op === KeyOp.RSA_DECRYPT_PREMASTER ? DUMMY_PREMASTER.length : DUMMY_SIGNATURE.length;
          const len = sigMode === 1 ? 0 : sigMode === 2 ? Math.min(sigLen, cap) : sigMode === 3 ? cap + 1 : normal;
          sandbox.region(call("tls_keyop_ptr"), Math.min(len, cap)).fill(0xa5);
          status = call("tls_keyop_done", len);
          moved = true;
        }
        const pending = call("tls_send_pending");
        if (pending > 0) {
          if (silenced) throw new InvariantError(`${pending} bytes sent after the fatal alert`);
          const out = sandbox.region(call("tls_send_ptr"), pending).slice();
          sealer?.observeServer(out);
          status = call("tls_send_ack", pending);
          moved = true;
        }
        const plain = call("tls_app_out_pending");
        if (plain > 0) {
          if ((status & Status.HANDSHAKE_DONE) === 0) throw new InvariantError("application data released before the handshake completed");
          sandbox.region(call("tls_app_out_ptr"), plain);
          status = call("tls_app_out_ack", plain);
          moved = true;
        }
        if ((status & Status.HANDSHAKE_DONE) !== 0) handshakeDone = true;
        if (!moved) {
          if ((status & Status.FAILED) !== 0 && call("tls_send_pending") === 0) silenced = true;
          return;
        }
      }
    };

    const feed = (data: Uint8Array, window: string, ptr: string, push: string): void => {
      let off = 0;
      while (off < data.length) {
        const w = call(window);
        if (w <= 0) return; // backpressure: the rest would wait in the host; drop it
        const n = Math.min(w, data.length - off);
        sandbox.region(call(ptr), n).set(data.subarray(off, off + n));
        status = call(push, n);
        off += n;
        pump();
      }
    };

    let failure: Failure | null = null;
    try {
      const first = input[0];
      const blob = encodePolicy(FUZZ_POLICIES[first?.op === Op.HOST ? (first.data[3] ?? 0) & 7 : 0]);
      sandbox.region(call("tls_config_ptr"), blob.length).set(blob);
      if (call("tls_configure", blob.length) !== 0) throw new InvariantError("engine refused the fuzz policy");
      for (const step of input) {
        switch (step.op) {
          case Op.RECV: feed(step.data, "tls_recv_window", "tls_recv_ptr", "tls_recv"); break;
          case Op.APP_IN: feed(step.data, "tls_app_in_window", "tls_app_in_ptr", "tls_app_in"); break;
          case Op.CLOSE: status = call("tls_close"); break;
          case Op.HOST: certMode = (step.data[0] ?? 0) & 3; sigMode = (step.data[1] ?? 0) & 3; sigLen = (step.data[2] ?? 0) * 4; break;
          case Op.SEALED: feed(sealer === null ? step.data : sealer.seal(step.data), "tls_recv_window", "tls_recv_ptr", "tls_recv"); break;
        }
        pump();
      }
      // What a host reads after every step: every Info field, and the SNI and ALPN the engine names.
      for (let f = 0; f <= 13; f++) call("tls_info", f);
      const sni = call("tls_info", Info.SNI_LENGTH), alpn = call("tls_info", Info.ALPN_LENGTH);
      if (sni > 0) sandbox.region(call("tls_sni_ptr"), sni);
      if (alpn > 0) sandbox.region(call("tls_alpn_ptr"), alpn);
    } catch (e) {
      failure = classify(e, x, metered);
    }
    let coverage: Uint8Array | null = null;
    if (typeof x.fuzz_coverage_ptr === "function") {
      coverage = sandbox.bytes().slice(x.fuzz_coverage_ptr(), x.fuzz_coverage_ptr() + x.fuzz_coverage_size());
    }
    const memoryBytes = sandbox.bytes().byteLength;
    this.state.current = null;
    sandbox.dispose();
    return { failure, coverage, handshakeDone, maxFuel, memoryBytes };
  }
}

function classify(e: unknown, x: Record<string, Fn>, metered: boolean): Failure {
  if (e instanceof InvariantError) return { kind: e.message.startsWith("memory:") ? "memory" : "invariant", message: e.message };
  if (e instanceof WebAssembly.RuntimeError) {
    let left = 0;
    try { left = metered ? x.tlsbox_fuel_left() : 0; } catch { /* the instance is gone */ }
    if (metered && left === -1) return { kind: "fuel", message: "fuel exhausted (runaway call)" };
    return { kind: "trap", message: `${e.message} @ ${wasmFrames(e)}` };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: "host-exception", message: `${err.name}: ${err.message}` };
}

/** The wasm frames of a trap's stack (function names in the fuzz/checked builds), innermost first. */
function wasmFrames(e: Error): string {
  const frames = (e.stack ?? "").split("\n").filter((l) => l.includes("wasm://")).slice(0, 4);
  return frames.map((l) => l.trim().replace(/^at /, "").replace(/ \(wasm:\/\/.*\)$/, "")).join(" < ") || "?";
}

/** The module's declared maximum memory in bytes (the instance can never exceed it). */
function maxMemory(wasm: Uint8Array): number {
  // The memory section: [count][flags][initial][maximum if flags & 1], LEB128 numbers.
  let p = 8;
  const u = (): number => { let r = 0, s = 0; for (;;) { const b = wasm[p++]; r += (b & 127) * 2 ** s; s += 7; if (b < 128) return r; } };
  while (p < wasm.length) {
    const id = wasm[p++];
    const size = u();
    const end = p + size;
    if (id === 5) {
      u(); // count
      const flags = u();
      u(); // initial
      return (flags & 1) !== 0 ? u() * 65536 : 65536 * 65536;
    }
    p = end;
  }
  return 65536 * 65536;
}

// ---- The RFC 8448 handshake, replayed against our engine (posthandshake target, benchmark) ------

/** Turns SEALED steps into records (a target's client write state), and sees what the server sends. */
export interface StepSealer {
  seal(data: Uint8Array): Uint8Array;
  observeServer(bytes: Uint8Array): void;
}

/** Seals SEALED steps with the client's application keys after the handshake, following KeyUpdates. */
export class Sealer implements StepSealer {
  private seq = 0;
  private keys: Keys;
  constructor(private secret: Buffer) {
    this.keys = trafficKeys(secret);
  }

  /** data = [inner content type, content...]; an empty step seals an empty inner plaintext. */
  seal(data: Uint8Array): Uint8Array {
    const type = data.length > 0 ? data[0] : 0;
    const content = data.subarray(1);
    const rec = sealRecord(this.keys, this.seq++, type, content);
    // A KeyUpdate from the client switches its sending key after this record (RFC 8446 §4.6.3).
    if (type === 22 && content.length >= 4 && content[0] === 24) {
      this.secret = expandLabel(this.secret, "traffic upd", new Uint8Array(0), 32);
      this.keys = trafficKeys(this.secret);
      this.seq = 0;
    }
    return rec;
  }

  observeServer(_bytes: Uint8Array): void {}
}

export interface RfcHandshake {
  /** The client's flight: ClientHello record, then its Finished sealed under the handshake key. */
  prefix: Input;
  clientApSecret: Buffer;
  serverApSecret: Buffer;
}

/**
 * Runs the RFC ClientHello against the engine once, reads the server flight (RFC handshake keys:
 * the tape gives the RFC server random and key share), and computes the client Finished over our
 * own transcript — what tls_rfc8448.ts does through TlsSession, done on the raw driver.
 */
export function rfcHandshake(driver: EngineDriver): RfcHandshake {
  const server: Uint8Array[] = [];
  const capture = new (class extends Sealer {
    override observeServer(bytes: Uint8Array): void { server.push(bytes.slice()); }
  })(Buffer.alloc(32));
  const r = driver.run([{ op: Op.RECV, data: RFC_CLIENT_HELLO_RECORD }], capture);
  if (r.failure !== null) throw new Error(`RFC handshake failed: ${r.failure.message}`);
  const out = Buffer.concat(server);
  const shLen = 5 + ((out[3] << 8) | out[4]);
  const serverHs = { key: unhex(RFC.trafficKeys.serverHandshake.key), iv: unhex(RFC.trafficKeys.serverHandshake.iv) };
  const clientHs = { key: unhex(RFC.trafficKeys.clientHandshake.key), iv: unhex(RFC.trafficKeys.clientHandshake.iv) };
  const [, flight] = openRecord(serverHs, 0, out.subarray(shLen));
  const thFin = sha256(RFC_CLIENT_HELLO, out.subarray(5, shLen), flight);
  const verify = createHmac("sha256", unhex(RFC.finished.client.finishedKey)).update(thFin).digest();
  const finished = sealRecord(clientHs, 0, 22, Buffer.concat([Buffer.from("14000020", "hex"), verify]));
  const master = unhex(RFC.keySchedule.masterSecret.secret);
  return {
    prefix: [{ op: Op.RECV, data: RFC_CLIENT_HELLO_RECORD }, { op: Op.RECV, data: new Uint8Array(finished) }],
    clientApSecret: expandLabel(master, "c ap traffic", thFin, 32),
    serverApSecret: expandLabel(master, "s ap traffic", thFin, 32),
  };
}
