// The policy blob tls_configure reads (layout in wasm/abi.ts), built from a typed policy.
import { Abi, CipherSuite, ConfigFlag, NamedGroup } from "../../wasm/abi";

export interface TlsPolicy {
  /** Cipher suites in server preference order. */
  suites: readonly CipherSuite[];
  /** Key-exchange groups in server preference order. */
  groups: readonly NamedGroup[];
  /** ALPN protocol names in server preference order; empty: ALPN is not negotiated. */
  alpn: readonly string[];
  /** Pick the suite by our order rather than the client's. */
  serverCipherOrder: boolean;
  /** Bytes of declined 0-RTT records skipped before giving up (RFC 8446 §4.2.10). */
  maxEarlyData: number;
  /** KeyUpdates a client may send in a row without application data in between. */
  maxKeyUpdates: number;
  /** Records sent under one key before the engine rekeys with a KeyUpdate (1 ..= 2^24, RFC 8446 §5.5). */
  rekeyAfterRecords: number;
}

export const DEFAULT_POLICY: TlsPolicy = {
  suites: [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256],
  groups: [NamedGroup.X25519, NamedGroup.SECP256R1],
  alpn: [],
  serverCipherOrder: false,
  maxEarlyData: 65536,
  maxKeyUpdates: 32,
  rekeyAfterRecords: 1 << 23,
};

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

const SUITES = new Set<number>([CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256]);
const GROUPS = new Set<number>([NamedGroup.X25519, NamedGroup.SECP256R1]);

/** Encodes a policy; throws PolicyError for anything the engine would refuse. */
export function encodePolicy(partial: Partial<TlsPolicy> = {}): Uint8Array {
  const p: TlsPolicy = { ...DEFAULT_POLICY, ...partial };
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new PolicyError(what);
  };
  check(p.suites.length >= 1 && p.suites.length <= 8 && p.suites.every((s) => SUITES.has(s)) && new Set(p.suites).size === p.suites.length, "suites: 1 to 8 distinct TLS 1.3 suites");
  check(p.groups.length >= 1 && p.groups.length <= 8 && p.groups.every((g) => GROUPS.has(g)) && new Set(p.groups).size === p.groups.length, "groups: 1 to 8 distinct of x25519, secp256r1");
  const names = p.alpn.map((a) => Buffer.from(a, "utf8"));
  check(names.every((n) => n.length >= 1 && n.length <= 255), "alpn: names of 1 to 255 bytes");
  const alpnLen = names.reduce((sum, n) => sum + 1 + n.length, 0);
  check(alpnLen <= 1024, "alpn: at most 1024 bytes in all");
  check(Number.isInteger(p.maxEarlyData) && p.maxEarlyData >= 0 && p.maxEarlyData <= 0xffffffff, "maxEarlyData: u32");
  check(Number.isInteger(p.maxKeyUpdates) && p.maxKeyUpdates >= 0 && p.maxKeyUpdates <= 255, "maxKeyUpdates: u8");
  check(Number.isInteger(p.rekeyAfterRecords) && p.rekeyAfterRecords >= 1 && p.rekeyAfterRecords <= 1 << 24, "rekeyAfterRecords: 1 to 2^24");
  const out: number[] = [Abi.VERSION, p.serverCipherOrder ? ConfigFlag.SERVER_CIPHER_ORDER : 0];
  out.push(p.suites.length);
  for (const s of p.suites) out.push(s >> 8, s & 255);
  out.push(p.groups.length);
  for (const g of p.groups) out.push(g >> 8, g & 255);
  out.push(alpnLen >> 8, alpnLen & 255);
  for (const n of names) out.push(n.length, ...n);
  out.push((p.maxEarlyData >>> 24) & 255, (p.maxEarlyData >>> 16) & 255, (p.maxEarlyData >>> 8) & 255, p.maxEarlyData & 255);
  out.push(p.maxKeyUpdates);
  const r = p.rekeyAfterRecords;
  out.push((r >>> 24) & 255, (r >>> 16) & 255, (r >>> 8) & 255, r & 255);
  return new Uint8Array(out);
}
