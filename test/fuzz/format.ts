// The fuzz input: what the harness does to one fresh engine instance, as a list of steps.
// Steps rather than one byte string, because where the network splits the bytes (one record in
// five reads, five records in one read) is itself input that reaches different code.
//
// On disk (corpus and crashers): "TFZ1", then per step [op u8][length u32 big-endian][data].
// A file without the magic (a captured ClientHello, *.bin) is one RECV step of its bytes.
import { createHash } from "node:crypto";

export const enum Op {
  /** Bytes from the client, through tls_recv (as much as the receive window takes). */
  RECV = 0,
  /** Plaintext from the backend, through tls_app_in. */
  APP_IN = 1,
  /** The backend closed: tls_close. */
  CLOSE = 2,
  /** posthandshake target: a record sealed with the client's current key; data = [inner type, content...]. */
  SEALED = 3,
  /**
   * How the host answers the engine's questions from now on (host misbehaviour must not crash the
   * engine either): data[0] certificate: 0 the RSA test chain, 1 none (len 0), 2 the chain declared
   * as ECDSA P-256, 3 a chain entry longer than the chain; data[1] signature: 0 dummy 256 bytes,
   * 1 failed (len 0), 2 data[2] * 4 bytes, 3 longer than the key-op buffer. As the first step,
   * data[3] also picks the policy (harness.ts FUZZ_POLICIES).
   */
  HOST = 4,
}
export const OP_COUNT = 5;

export interface Step {
  op: Op;
  data: Uint8Array;
}
export type Input = Step[];

const MAGIC = Buffer.from("TFZ1", "latin1");

export function encode(input: Input): Uint8Array {
  const parts: Buffer[] = [MAGIC];
  for (const s of input) {
    const head = Buffer.alloc(5);
    head[0] = s.op;
    head.writeUInt32BE(s.data.length, 1);
    parts.push(head, Buffer.from(s.data));
  }
  return new Uint8Array(Buffer.concat(parts));
}

export function decode(bytes: Uint8Array): Input {
  const b = Buffer.from(bytes);
  if (b.length < 4 || !b.subarray(0, 4).equals(MAGIC)) return [{ op: Op.RECV, data: new Uint8Array(b) }];
  const out: Input = [];
  let p = 4;
  while (p + 5 <= b.length) {
    const op = b[p] % OP_COUNT;
    const len = Math.min(b.readUInt32BE(p + 1), b.length - p - 5);
    out.push({ op, data: new Uint8Array(b.subarray(p + 5, p + 5 + len)) });
    p += 5 + len;
  }
  return out;
}

export function inputSize(input: Input): number {
  return input.reduce((n, s) => n + 1 + s.data.length, 0);
}

/** A short stable name for an input (file names, deduplication). */
export function inputId(input: Input): string {
  return createHash("sha256").update(encode(input)).digest("hex").slice(0, 16);
}

export function cloneInput(input: Input): Input {
  return input.map((s) => ({ op: s.op, data: s.data.slice() }));
}
