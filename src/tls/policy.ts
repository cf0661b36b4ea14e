// The policy blob tls_configure reads (layout in wasm/abi.ts), built from a typed policy.
import { Abi, CipherSuite, ConfigFlag, NamedGroup } from "../../wasm/abi";

export interface TlsPolicy {
  /**
   * Cipher suites in server preference order (TLS 1.3 and TLS 1.2 ones together). Left out with
   * tls12 on: the TLS 1.3 suites, then TLS12_SUITES.
   */
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
  /** Negotiate TLS 1.3 (config `tlsv1.3`). */
  tls13: boolean;
  /** Negotiate TLS 1.2 with clients that offer nothing newer (config `tlsv1.2`). Off by default. */
  tls12: boolean;
  /** TLS 1.2: refuse clients without extended_master_secret (RFC 7627) with handshake_failure. */
  requireExtendedMasterSecret: boolean;
  /**
   * TLS 1.2: allow static RSA key exchange (TLS_RSA_WITH_AES_128/256_GCM, legacy, no forward
   * secrecy; the key server decrypts with implicit rejection). Off by default.
   */
  staticRsa: boolean;
}

/** The static-RSA suites (RFC 5288), used only with `staticRsa`. */
export const STATIC_RSA_SUITES: readonly CipherSuite[] = [CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384];

/** TLS 1.2 suites the engine implements (ECDHE with AEADs), in a sensible server order. */
export const TLS12_SUITES: readonly CipherSuite[] = [
  CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
  CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
  CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
  CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
  CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
];

const TLS13_SUITES: readonly CipherSuite[] = [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256];

export const DEFAULT_POLICY: TlsPolicy = {
  suites: TLS13_SUITES,
  groups: [NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1],
  alpn: [],
  serverCipherOrder: false,
  maxEarlyData: 65536,
  maxKeyUpdates: 32,
  rekeyAfterRecords: 1 << 23,
  tls13: true,
  tls12: false,
  requireExtendedMasterSecret: true,
  staticRsa: false,
};

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

const SUITES = new Set<number>([...TLS13_SUITES, ...TLS12_SUITES, ...STATIC_RSA_SUITES]);
const SUITES13 = new Set<number>(TLS13_SUITES);
const GROUPS = new Set<number>([NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1]);

/** Encodes a policy; throws PolicyError for anything the engine would refuse. */
export function encodePolicy(partial: Partial<TlsPolicy> = {}): Uint8Array {
  const p: TlsPolicy = { ...DEFAULT_POLICY, ...partial };
  // TLS 1.2 switched on without a suite list: the TLS 1.2 suites follow the TLS 1.3 ones.
  if (partial.suites === undefined && p.tls12) {
    p.suites = [...(p.tls13 ? TLS13_SUITES : []), ...TLS12_SUITES, ...(p.staticRsa ? STATIC_RSA_SUITES : [])];
  }
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new PolicyError(what);
  };
  check(p.suites.length >= 1 && p.suites.length <= 16 && p.suites.every((s) => SUITES.has(s)) && new Set(p.suites).size === p.suites.length, "suites: 1 to 16 distinct suites the engine implements");
  check(p.tls13 || p.tls12, "versions: at least one of TLS 1.3 and TLS 1.2");
  check(!p.tls13 || p.suites.some((s) => SUITES13.has(s)), "suites: TLS 1.3 is enabled but no TLS 1.3 suite is listed");
  check(!p.tls12 || p.suites.some((s) => !SUITES13.has(s)), "suites: TLS 1.2 is enabled but no TLS 1.2 suite is listed");
  check(p.groups.length >= 1 && p.groups.length <= 8 && p.groups.every((g) => GROUPS.has(g)) && new Set(p.groups).size === p.groups.length, "groups: 1 to 8 distinct of x25519, secp256r1, secp384r1");
  const names = p.alpn.map((a) => Buffer.from(a, "utf8"));
  check(names.every((n) => n.length >= 1 && n.length <= 255), "alpn: names of 1 to 255 bytes");
  const alpnLen = names.reduce((sum, n) => sum + 1 + n.length, 0);
  check(alpnLen <= 1024, "alpn: at most 1024 bytes in all");
  check(Number.isInteger(p.maxEarlyData) && p.maxEarlyData >= 0 && p.maxEarlyData <= 0xffffffff, "maxEarlyData: u32");
  check(Number.isInteger(p.maxKeyUpdates) && p.maxKeyUpdates >= 0 && p.maxKeyUpdates <= 255, "maxKeyUpdates: u8");
  check(Number.isInteger(p.rekeyAfterRecords) && p.rekeyAfterRecords >= 1 && p.rekeyAfterRecords <= 1 << 24, "rekeyAfterRecords: 1 to 2^24");
  const flags = (p.serverCipherOrder ? ConfigFlag.SERVER_CIPHER_ORDER : 0) | (p.tls12 ? ConfigFlag.TLS12 : 0) |
    (p.tls13 ? 0 : ConfigFlag.NO_TLS13) | (p.requireExtendedMasterSecret ? 0 : ConfigFlag.ALLOW_NO_EMS) | (p.staticRsa ? ConfigFlag.STATIC_RSA : 0);
  const out: number[] = [Abi.VERSION, flags];
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
