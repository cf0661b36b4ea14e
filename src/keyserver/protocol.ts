// The key-server wire protocol: length-prefixed binary frames over a socket pair.
//
//   frame     = u32 length ‖ body                      (length ≤ MAX_BODY; all integers big-endian)
//   request   = u32 id ‖ u8 op ‖ u16 key id ‖ fields   (id ≠ 0: 0 names the server's own frames)
//   response  = u32 id ‖ u8 status ‖ payload            (error statuses carry a short UTF-8 detail)
//
// Fields per op:
//   SIGN_TLS13_CERT_VERIFY          u64 handshake ‖ u16 scheme ‖ u8 n ‖ transcript hash[n], n ∈ {32, 48}
//   SIGN_TLS12_SERVER_KEY_EXCHANGE  u64 handshake ‖ u16 scheme ‖ client_random[32] ‖ server_random[32]
//                                   ‖ u16 n ‖ ServerECDHParams[n]
//   RSA_DECRYPT_PREMASTER           u64 handshake ‖ u16 n ‖ ciphertext[n]; answer: 48 bytes, always
//                                   (the premaster, or the implicit-rejection value: premaster.ts)
//   PING                            nothing (key id 0)
// The server's first frame is READY (id 0, status OK): u8 version ‖ u8 n ‖ n × (u16 key id ‖ u8 KeyKind
// ‖ u16 bits). A server that cannot start sends id 0 with START_FAILED and exits.
//
// The decoder is strict in the manner of Go's cryptobyte: every length is checked against what
// remains, trailing bytes are refused, and no strict prefix of a valid body decodes. It is a pure
// function of the bytes, so the fuzz tests can throw anything at it in-process.
import { KeyOp } from "../../wasm/abi";

export const PROTOCOL_VERSION = 1;

/** Largest frame body either side accepts. Requests are small; 64 KiB leaves room for TLS 1.2 params. */
export const MAX_BODY = 64 * 1024;

/** Request id of frames the server sends on its own (READY, START_FAILED, answers to id-less bodies). */
export const SERVER_FRAME_ID = 0;

/** Longest error detail sent back; the details are for logs, not for parsing. */
export const MAX_DETAIL = 200;

/**
 * Operations. Numbers 1–3 follow the engine's KeyOp numbering (wasm/abi.ts), so the host forwards
 * the engine's op unchanged; the TLS 1.2 ops take the numbers KeyOp will give them.
 */
export const enum Op {
  SIGN_TLS13_CERT_VERIFY = KeyOp.SIGN_TLS13_SERVER_CERT_VERIFY,
  SIGN_TLS12_SERVER_KEY_EXCHANGE = KeyOp.SIGN_TLS12_SERVER_KEY_EXCHANGE,
  RSA_DECRYPT_PREMASTER = KeyOp.RSA_DECRYPT_PREMASTER,
  /** Liveness probe; answers OK with no payload. Far from the key ops so it never collides with them. */
  PING = 0x7f,
}

/** Response status byte. */
export const enum Status {
  OK = 0,
  /** A field is truncated, too long, or followed by trailing bytes; or a request used id 0. */
  MALFORMED = 1,
  /** The op byte names no operation. */
  UNKNOWN_OP = 2,
  /** No key has this id. */
  UNKNOWN_KEY = 3,
  /** The signature scheme is not one the op accepts. */
  UNKNOWN_SCHEME = 4,
  /** The scheme does not fit the key (an RSA scheme for an EC key, P-384 scheme for a P-256 key, ...). */
  SCHEME_KEY_MISMATCH = 5,
  /** A TLS 1.3 transcript hash that is neither 32 nor 48 bytes. */
  BAD_HASH_LENGTH = 6,
  /** TLS 1.2 ServerECDHParams that are not a well-formed named-curve key share. */
  BAD_PARAMS = 7,
  /** This handshake already got its one signature from this key. */
  ALREADY_SIGNED = 8,
  /** An operation that is defined but not implemented by this server. */
  NOT_IMPLEMENTED = 9,
  /** Signing failed inside the server, or the signature failed its own verification (never sent). */
  SIGN_FAILED = 10,
  /** The server could not load its keys; sent with id 0 before it exits. */
  START_FAILED = 11,
}

/** Handshake identifiers are u64 on the wire. */
export const MAX_HANDSHAKE_ID = (1n << 64n) - 1n;

export type Request =
  | { op: Op.SIGN_TLS13_CERT_VERIFY; id: number; keyId: number; handshakeId: bigint; scheme: number; transcriptHash: Uint8Array }
  | {
      op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE;
      id: number;
      keyId: number;
      handshakeId: bigint;
      scheme: number;
      clientRandom: Uint8Array;
      serverRandom: Uint8Array;
      params: Uint8Array;
    }
  | { op: Op.RSA_DECRYPT_PREMASTER; id: number; keyId: number; handshakeId: bigint; ciphertext: Uint8Array }
  | { op: Op.PING; id: number; keyId: number };

/** A body that is not a valid request, and what to answer it. */
export interface Rejection {
  /** The request id if the body held one, else SERVER_FRAME_ID. */
  id: number;
  status: Status;
  detail: string;
}

export interface Response {
  id: number;
  status: Status;
  payload: Uint8Array;
}

/** A key as announced in the READY frame. */
export interface KeyAnnouncement {
  keyId: number;
  kind: number;
  bits: number;
}

export interface Ready {
  version: number;
  keys: KeyAnnouncement[];
}

/** The bytes do not fit the structure (internal to decoding; callers see a Rejection or an Error). */
class Short extends Error {}

/** A cursor over a body: each read checks that the bytes are there. */
class Cursor {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get remaining(): number {
    return this.data.length - this.at;
  }

  private take(n: number): number {
    if (n > this.remaining) throw new Short(`needs ${n} bytes at offset ${this.at}, ${this.remaining} remain`);
    const start = this.at;
    this.at += n;
    return start;
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }
  u16(): number {
    return this.view.getUint16(this.take(2));
  }
  u32(): number {
    return this.view.getUint32(this.take(4));
  }
  u64(): bigint {
    return this.view.getBigUint64(this.take(8));
  }
  /** A copy, so the request never aliases the reader's buffer. */
  bytes(n: number): Uint8Array {
    const start = this.take(n);
    return this.data.slice(start, start + n);
  }
  /** Trailing bytes are an error: a request means exactly one thing. */
  end(): void {
    if (this.remaining !== 0) throw new Short(`${this.remaining} trailing bytes`);
  }
}

/** Decodes one request body (the frame's length prefix already removed). Never throws. */
export function decodeRequest(body: Uint8Array): { ok: true; request: Request } | { ok: false; rejection: Rejection } {
  if (body.length < 4) {
    return { ok: false, rejection: { id: SERVER_FRAME_ID, status: Status.MALFORMED, detail: `body of ${body.length} bytes holds no request id` } };
  }
  const c = new Cursor(body);
  const id = c.u32();
  const reject = (status: Status, detail: string) => ({ ok: false as const, rejection: { id, status, detail } });
  if (id === SERVER_FRAME_ID) return reject(Status.MALFORMED, "request id 0 is reserved for the server");
  try {
    const op = c.u8();
    const keyId = c.u16();
    switch (op) {
      case Op.SIGN_TLS13_CERT_VERIFY: {
        const handshakeId = c.u64();
        const scheme = c.u16();
        const n = c.u8();
        const transcriptHash = c.bytes(n);
        c.end();
        // RFC 8446 §4.4.1: the transcript hash has the cipher suite's hash length (SHA-256 or
        // SHA-384), which may differ from the signature scheme's hash.
        if (n !== 32 && n !== 48) return reject(Status.BAD_HASH_LENGTH, `transcript hash of ${n} bytes, need 32 or 48`);
        return { ok: true, request: { op, id, keyId, handshakeId, scheme, transcriptHash } };
      }
      case Op.SIGN_TLS12_SERVER_KEY_EXCHANGE: {
        const handshakeId = c.u64();
        const scheme = c.u16();
        const clientRandom = c.bytes(32);
        const serverRandom = c.bytes(32);
        const params = c.bytes(c.u16());
        c.end();
        return { ok: true, request: { op, id, keyId, handshakeId, scheme, clientRandom, serverRandom, params } };
      }
      case Op.RSA_DECRYPT_PREMASTER: {
        const handshakeId = c.u64();
        const ciphertext = c.bytes(c.u16());
        c.end();
        return { ok: true, request: { op, id, keyId, handshakeId, ciphertext } };
      }
      case Op.PING:
        c.end();
        if (keyId !== 0) return reject(Status.MALFORMED, "PING takes key id 0");
        return { ok: true, request: { op, id, keyId } };
      default:
        return reject(Status.UNKNOWN_OP, `unknown op ${op}`);
    }
  } catch (e) {
    if (e instanceof Short) return reject(Status.MALFORMED, e.message);
    throw e;
  }
}

/** Builds a complete frame (length prefix included) from body parts. */
function frame(size: number, fill: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  if (size > MAX_BODY) throw new RangeError(`frame body of ${size} bytes exceeds ${MAX_BODY}`);
  const bytes = new Uint8Array(4 + size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, size);
  fill(view, bytes);
  return bytes;
}

function checkU(value: number, bits: 8 | 16 | 32, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) throw new RangeError(`${name} ${value} is not a u${bits}`);
}

/** Encodes a request as a frame. Throws RangeError on a value the wire cannot carry. */
export function encodeRequest(request: Request): Uint8Array {
  checkU(request.id, 32, "request id");
  checkU(request.keyId, 16, "key id");
  const parts: Uint8Array[] = [];
  const head = new Uint8Array(7);
  new DataView(head.buffer).setUint32(0, request.id);
  head[4] = request.op;
  new DataView(head.buffer).setUint16(5, request.keyId);
  parts.push(head);
  const u64 = (v: bigint) => {
    if (v < 0n || v > MAX_HANDSHAKE_ID) throw new RangeError(`handshake id ${v} is not a u64`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v);
    parts.push(b);
  };
  const u16 = (v: number, name: string) => {
    checkU(v, 16, name);
    parts.push(new Uint8Array([v >> 8, v & 0xff]));
  };
  const fixed = (b: Uint8Array, n: number, name: string) => {
    if (b.length !== n) throw new RangeError(`${name} of ${b.length} bytes, need ${n}`);
    parts.push(b);
  };
  switch (request.op) {
    case Op.SIGN_TLS13_CERT_VERIFY:
      u64(request.handshakeId);
      u16(request.scheme, "scheme");
      checkU(request.transcriptHash.length, 8, "transcript hash length");
      parts.push(new Uint8Array([request.transcriptHash.length]), request.transcriptHash);
      break;
    case Op.SIGN_TLS12_SERVER_KEY_EXCHANGE:
      u64(request.handshakeId);
      u16(request.scheme, "scheme");
      fixed(request.clientRandom, 32, "client_random");
      fixed(request.serverRandom, 32, "server_random");
      u16(request.params.length, "params length");
      parts.push(request.params);
      break;
    case Op.RSA_DECRYPT_PREMASTER:
      u64(request.handshakeId);
      u16(request.ciphertext.length, "ciphertext length");
      parts.push(request.ciphertext);
      break;
    case Op.PING:
      break;
  }
  const size = parts.reduce((n, p) => n + p.length, 0);
  return frame(size, (_view, bytes) => {
    let at = 4;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
  });
}

export function encodeResponse(id: number, status: Status, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  checkU(id, 32, "request id");
  return frame(5 + payload.length, (view, bytes) => {
    view.setUint32(4, id);
    bytes[8] = status;
    bytes.set(payload, 9);
  });
}

/** An error answer; the detail is cut to MAX_DETAIL bytes so an error never grows a frame. */
export function encodeError(id: number, status: Status, detail: string): Uint8Array {
  return encodeResponse(id, status, new TextEncoder().encode(detail).subarray(0, MAX_DETAIL));
}

export function encodeReady(keys: readonly KeyAnnouncement[]): Uint8Array {
  checkU(keys.length, 8, "key count");
  const payload = new Uint8Array(2 + keys.length * 5);
  const view = new DataView(payload.buffer);
  payload[0] = PROTOCOL_VERSION;
  payload[1] = keys.length;
  keys.forEach((k, i) => {
    view.setUint16(2 + i * 5, k.keyId);
    view.setUint8(4 + i * 5, k.kind);
    view.setUint16(5 + i * 5, k.bits);
  });
  return encodeResponse(SERVER_FRAME_ID, Status.OK, payload);
}

/** Decodes a response body. Throws Error on a body that is not one (the client treats that as fatal). */
export function decodeResponse(body: Uint8Array): Response {
  try {
    const c = new Cursor(body);
    const id = c.u32();
    const status = c.u8() as Status;
    return { id, status, payload: c.bytes(c.remaining) };
  } catch (e) {
    if (e instanceof Short) throw new Error(`response body of ${body.length} bytes: ${e.message}`);
    throw e;
  }
}

export function decodeReady(payload: Uint8Array): Ready {
  try {
    const c = new Cursor(payload);
    const version = c.u8();
    const n = c.u8();
    const keys: KeyAnnouncement[] = [];
    for (let i = 0; i < n; i++) keys.push({ keyId: c.u16(), kind: c.u8(), bits: c.u16() });
    c.end();
    return { version, keys };
  } catch (e) {
    if (e instanceof Short) throw new Error(`READY payload: ${e.message}`);
    throw e;
  }
}

/** A frame length that leaves no way to find the next frame: the stream must be closed. */
export class FramingError extends Error {
  constructor(readonly length: number) {
    super(`frame length ${length} exceeds the maximum of ${MAX_BODY}`);
    this.name = "FramingError";
  }
}

/**
 * Cuts a byte stream into frame bodies. Any length up to MAX_BODY can be skipped over, so a bad
 * body never desynchronises the stream; a length above it could only be honoured by reading up to
 * 4 GiB, so the reader stops there: `error` is set, the frames before it are still returned, and
 * any later push throws it.
 */
export class FrameReader {
  // Received bytes not yet cut into frames, as the chunks they arrived in: a frame that arrives in
  // many small reads is joined once, when complete, not once per read (no quadratic copying).
  private chunks: Buffer[] = [];
  private total = 0;
  /** Length of the frame at the front once its 4 length bytes are in, else -1. */
  private needed = -1;
  error: FramingError | null = null;

  /** Adds received bytes; returns the bodies now complete, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.error) throw this.error;
    if (chunk.length === 0) return [];
    this.chunks.push(Buffer.from(chunk));
    this.total += chunk.length;
    if (this.total < 4 || (this.needed >= 0 && this.total < 4 + this.needed)) return [];
    // Enough bytes for at least a length, or a whole frame: join once and cut everything complete.
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const bodies: Uint8Array[] = [];
    let at = 0;
    this.needed = -1;
    while (all.length - at >= 4) {
      const length = all.readUInt32BE(at);
      if (length > MAX_BODY) {
        this.error = new FramingError(length);
        this.chunks = [];
        this.total = 0;
        return bodies;
      }
      if (all.length - at - 4 < length) {
        this.needed = length;
        break;
      }
      bodies.push(new Uint8Array(all.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    const rest = all.subarray(at);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.total = rest.length;
    return bodies;
  }

  /** Bytes received that do not yet form a whole frame. */
  get buffered(): number {
    return this.total;
  }
}
