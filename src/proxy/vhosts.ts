// Virtual hosts as a worker sees them, and routing: which vhost serves a connection, by the local
// address and port it arrived on and the server name the client sent (SNI, parsed inside the
// sandbox; the host only compares the name the engine reports). The first match wins, as in titus.
import { createPublicKey, type KeyObject } from "node:crypto";
import { CipherSuite, NamedGroup, type KeyKind } from "../../wasm/abi";
import { STATIC_RSA_SUITES, TLS12_SUITES } from "../tls/session";
import type { BackendTarget, TlsPolicy as ConfigTlsPolicy, VhostConfig, VhostMatch } from "../config";
import type { TlsPolicy as EnginePolicy } from "../tls/session";
import type { LoadedChain } from "./certs";
import { ProxyError } from "./errors";

/** One vhost as sent to the workers (plain JSON: it crosses the IPC channel). */
export interface VhostSpec {
  index: number;
  match: VhostMatch;
  backend: BackendTarget;
  /** Only what the configuration decides; the engine's defaults stand for the rest. */
  policy: Partial<EnginePolicy>;
  /** The key server's id for this vhost's private key. */
  keyId: number;
  cert: LoadedChain;
}

/** A vhost ready to serve: certificate decoded, public key parsed once. */
export interface Vhost {
  readonly spec: VhostSpec;
  readonly chain: readonly Uint8Array[];
  readonly keyKind: KeyKind;
  readonly publicKey: KeyObject;
}

const TLS13_SUITES = new Set<number>([CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256]);
const ENGINE_SUITES = new Set<number>([...TLS13_SUITES, ...TLS12_SUITES, ...STATIC_RSA_SUITES]);
const STATIC_RSA = new Set<number>(STATIC_RSA_SUITES);
const ENGINE_GROUPS = new Set<number>([NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1]);

/**
 * The engine's policy for a vhost. Suites and groups the engine does not implement are left out
 * (and static RSA unless `static-rsa yes`); a version left without a suite is switched off, and a
 * vhost left with nothing to negotiate is refused at start-up rather than failing every handshake.
 */
export function enginePolicy(tls: ConfigTlsPolicy, where: string): Partial<EnginePolicy> {
  // Static-RSA suites only with `static-rsa yes` (the configuration lists them only then, too).
  const offered = tls.cipherSuites.filter((s) => ENGINE_SUITES.has(s) && (tls.staticRsa || !STATIC_RSA.has(s))) as CipherSuite[];
  const tls13 = tls.tls13 && offered.some((s) => TLS13_SUITES.has(s));
  const tls12 = tls.tls12 && offered.some((s) => !TLS13_SUITES.has(s));
  if (!tls13 && !tls12) throw new ProxyError("UNSUPPORTED", `${where} leaves no cipher suite the engine implements for an enabled TLS version`);
  const suites = offered.filter((s) => (TLS13_SUITES.has(s) ? tls13 : tls12));
  const groups = tls.groups.filter((g) => ENGINE_GROUPS.has(g));
  if (groups.length === 0) throw new ProxyError("UNSUPPORTED", `${where} allows no key-exchange group the engine implements (x25519, secp256r1, secp384r1)`);
  return {
    tls13,
    tls12,
    staticRsa: tls12 && suites.some((s) => STATIC_RSA.has(s)),
    suites: suites.slice(0, 16),
    groups: groups.slice(0, 8),
    alpn: [...tls.alpn],
    serverCipherOrder: tls.serverCipherOrder,
  };
}

/** Describes a vhost in messages: "vhost 2 (tlsbox.conf:14)". */
export function describeVhost(v: VhostConfig): string {
  return v.at === null ? "the configuration" : `vhost ${v.index + 1} (${v.at.file}:${v.at.line})`;
}

/** IPv4 clients of a dual-stack socket show up as ::ffff:a.b.c.d; compare the IPv4 form. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return "";
  const lower = address.toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}

export class VhostTable {
  readonly vhosts: readonly Vhost[];

  constructor(specs: readonly VhostSpec[]) {
    this.vhosts = specs.map((spec) => ({
      spec,
      chain: spec.cert.chain.map((b64) => new Uint8Array(Buffer.from(b64, "base64"))),
      keyKind: spec.cert.keyKind,
      publicKey: createPublicKey(spec.cert.publicKey),
    }));
  }

  /** The vhosts a connection to this local address and port can reach, in match order. */
  candidates(localAddress: string | undefined, localPort: number | undefined): Vhost[] {
    const address = normalizeAddress(localAddress);
    return this.vhosts.filter(({ spec: { match } }) =>
      (match.localAddress === null || normalizeAddress(match.localAddress) === address) &&
      (match.localPort === null || match.localPort === localPort));
  }

  /** The first candidate whose sni-name matches: null matches any, "" a client without SNI. */
  static select(candidates: readonly Vhost[], sni: string | null): Vhost | null {
    const name = sni === null ? null : sni.toLowerCase();
    for (const v of candidates) {
      const want = v.spec.match.sniName;
      if (want === null || (want === "" ? name === null : want === name)) return v;
    }
    return null;
  }
}
