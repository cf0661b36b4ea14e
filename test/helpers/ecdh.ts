// Shared by the NIST-curve ECDH tests (test/crypto/p256.test.ts, p384.test.ts): big-endian
// encodings, modular exponentiation, node:crypto's answers, and the buffers one box's calls use.
import { createECDH } from "node:crypto";
import * as assert from "uvu/assert";
import type { CryptoBox } from "./cryptobox";
import { hex, unhex } from "./repo";

export interface NistCurve {
  /** The export prefix: `${prefix}_ecdh`, `${prefix}_public`. */
  prefix: "p256" | "p384";
  /** Bytes of a scalar, a coordinate and a shared secret. */
  bytes: 32 | 48;
  /** node:crypto's name for the curve. */
  nodeName: "prime256v1" | "secp384r1";
}

export const P256: NistCurve = { prefix: "p256", bytes: 32, nodeName: "prime256v1" };
export const P384: NistCurve = { prefix: "p384", bytes: 48, nodeName: "secp384r1" };

/** x as `len` big-endian bytes (x must fit). */
export function beBytes(x: bigint, len: number): Uint8Array {
  if (x < 0n || x >= 2n ** BigInt(8 * len)) throw new Error(`${x.toString(16)} does not fit ${len} bytes`);
  return unhex(x.toString(16).padStart(2 * len, "0"));
}

export function toBig(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt("0x" + hex(bytes));
}

export function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** The uncompressed point prefix ‖ x ‖ y. */
export function encodePoint(curve: NistCurve, x: bigint, y: bigint, prefix = 4): Uint8Array {
  return new Uint8Array([prefix, ...beBytes(x, curve.bytes), ...beBytes(y, curve.bytes)]);
}

/** node's uncompressed public key of k. */
export function nodePublicKey(curve: NistCurve, k: Uint8Array): Uint8Array {
  const e = createECDH(curve.nodeName);
  e.setPrivateKey(k);
  return new Uint8Array(e.getPublicKey());
}

/** node's k·peer x-coordinate (throws where node refuses the peer). */
export function nodeSharedSecret(curve: NistCurve, k: Uint8Array, peer: Uint8Array): Uint8Array {
  const e = createECDH(curve.nodeName);
  e.setPrivateKey(k);
  return new Uint8Array(e.computeSecret(peer));
}

/**
 * Buffers laid out once per box (the differential loops reuse them): the scalar, the peer key and
 * the outputs, at the given misalignment. Outputs are pre-filled with a marker so a failed call
 * can be shown to write nothing.
 */
export class EcdhBuffers {
  readonly priv: number;
  readonly peer: number;
  readonly out: number;
  readonly pub: number;
  private readonly pubLen: number;

  constructor(private readonly box: CryptoBox, private readonly curve: NistCurve, misalign = 0, peerCapacity = 1 + 2 * curve.bytes) {
    const a = box.arena();
    this.pubLen = 1 + 2 * curve.bytes;
    this.priv = a.alloc(curve.bytes, 16, misalign);
    this.peer = a.alloc(peerCapacity, 16, (misalign * 3 + 1) % 16);
    this.out = a.alloc(curve.bytes, 16, (misalign * 5 + 2) % 16);
    this.pub = a.alloc(this.pubLen, 16, (misalign * 7 + 3) % 16);
  }

  private mem(): Uint8Array {
    return this.box.sandbox.bytes();
  }

  /** [return value, the output]; the output is 0xaa-filled before the call. */
  ecdh(k: Uint8Array, peer: Uint8Array, peerlen = peer.length): [number, Uint8Array] {
    const n = this.curve.bytes;
    const m = this.mem();
    m.set(k, this.priv);
    m.set(peer, this.peer);
    m.fill(0xaa, this.out, this.out + n);
    const ret = this.box.x[`${this.curve.prefix}_ecdh`](this.out, this.priv, this.peer, peerlen);
    const mm = this.mem();
    assert.is(hex(mm.subarray(this.priv, this.priv + n)), hex(k), "priv untouched");
    return [ret, mm.slice(this.out, this.out + n)];
  }

  /** [return value, the public key]; it is 0x55-filled before the call. */
  publicKey(k: Uint8Array): [number, Uint8Array] {
    const m = this.mem();
    m.set(k, this.priv);
    m.fill(0x55, this.pub, this.pub + this.pubLen);
    const ret = this.box.x[`${this.curve.prefix}_public`](this.pub, this.priv);
    return [ret, this.mem().slice(this.pub, this.pub + this.pubLen)];
  }
}
