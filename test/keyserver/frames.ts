// Seeded randomness and sample requests shared by the codec and process fuzz tests.
import { Op, type Request } from "../../src/keyserver/protocol";

/** xorshift32: deterministic, so the seed in a failure message replays it. */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

export const bytes = (n: number, fill = 0xab) => new Uint8Array(n).fill(fill);

export const SAMPLES: Request[] = [
  { op: Op.SIGN_TLS13_CERT_VERIFY, id: 1, keyId: 0, handshakeId: 0n, scheme: 0x0804, transcriptHash: bytes(32) },
  { op: Op.SIGN_TLS13_CERT_VERIFY, id: 0xffffffff, keyId: 0xffff, handshakeId: (1n << 64n) - 1n, scheme: 0x0503, transcriptHash: bytes(48) },
  {
    op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, id: 7, keyId: 2, handshakeId: 99n, scheme: 0x0401,
    clientRandom: bytes(32, 1), serverRandom: bytes(32, 2), params: Uint8Array.from([3, 0, 0x1d, 32, ...bytes(32)]),
  },
  { op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, id: 8, keyId: 0, handshakeId: 1n, scheme: 0x0403, clientRandom: bytes(32), serverRandom: bytes(32), params: new Uint8Array(0) },
  { op: Op.RSA_DECRYPT_PREMASTER, id: 9, keyId: 1, handshakeId: 5n, ciphertext: bytes(256) },
  { op: Op.PING, id: 10, keyId: 0 },
];

