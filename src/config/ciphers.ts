// OpenSSL cipher strings (ciphers(1SSL)) and curve names, mapped onto what the tlsbox engine
// implements.
//
// A titus `ciphers` value is an OpenSSL cipher list written for a 2014 OpenSSL: most of its names
// (DHE, CAMELLIA, RC4, CBC modes) are suites tlsbox does not implement. As OpenSSL does, names that
// match nothing are skipped (the config records a warning for each, so nothing vanishes silently);
// a string that selects no suite at all is an error.
//
// TLS 1.3 suites: OpenSSL configures them apart from the cipher list, so a titus-era string never
// mentions them. Here the one `ciphers` option takes both: if the string names at least one TLS 1.3
// suite (TLS_AES_128_GCM_SHA256, ...) it decides the TLS 1.3 set and order; otherwise all three are
// offered in the default order, less any the string removed with `!`/`-`. Aliases (ALL, HIGH,
// AESGCM, ...) select TLS 1.2 suites only, as in OpenSSL.
import { CipherSuite, NamedGroup } from "../../wasm/abi";
import { ValueError } from "./errors";

/**
 * TLS 1.2 suite numbers (IANA). wasm/abi.ts defines only the TLS 1.3 ones so far; these are the
 * TLS 1.2 suites the engine is to implement (ECDHE with AES-GCM or ChaCha20-Poly1305, and the
 * static-RSA AES-GCM pair behind `static-rsa yes`).
 */
export const enum Tls12Suite {
  ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b,
  ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c,
  ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f,
  ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030,
  ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8,
  ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9,
  RSA_WITH_AES_128_GCM_SHA256 = 0x009c,
  RSA_WITH_AES_256_GCM_SHA384 = 0x009d,
}

export interface SuiteInfo {
  readonly id: number;
  /** The OpenSSL name (for TLS 1.3 suites OpenSSL uses the IANA name). */
  readonly name: string;
  /** The IANA name, accepted too. */
  readonly iana: string;
  readonly version: "1.2" | "1.3";
  /** Key exchange: TLS 1.3 suites do not fix one. */
  readonly kx: "any" | "ECDHE" | "RSA";
  readonly auth: "any" | "RSA" | "ECDSA";
  readonly cipher: "AES128GCM" | "AES256GCM" | "CHACHA20";
  readonly hash: "SHA256" | "SHA384";
  readonly bits: 128 | 256;
}

const suite = (
  id: number, name: string, iana: string, version: "1.2" | "1.3", kx: SuiteInfo["kx"], auth: SuiteInfo["auth"],
  cipher: SuiteInfo["cipher"], hash: SuiteInfo["hash"],
): SuiteInfo => ({ id, name, iana, version, kx, auth, cipher, hash, bits: cipher === "AES128GCM" ? 128 : 256 });

/**
 * Every suite the engine implements, in the default preference order: ChaCha20-Poly1305 first,
 * because in the sandbox it is 4-5 times faster than AES-GCM (which has no AES-NI there and is
 * bitsliced to stay constant-time: README, "Benchmarks"); otherwise Mozilla's "intermediate"
 * server-side order, the source of titus's default list (titus.8). `ciphers` changes it.
 */
export const SUITES: readonly SuiteInfo[] = [
  suite(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "1.3", "any", "any", "CHACHA20", "SHA256"),
  suite(CipherSuite.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "1.3", "any", "any", "AES128GCM", "SHA256"),
  suite(CipherSuite.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", "1.3", "any", "any", "AES256GCM", "SHA384"),
  suite(Tls12Suite.ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "1.2", "ECDHE", "ECDSA", "CHACHA20", "SHA256"),
  suite(Tls12Suite.ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "1.2", "ECDHE", "RSA", "CHACHA20", "SHA256"),
  suite(Tls12Suite.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "1.2", "ECDHE", "ECDSA", "AES128GCM", "SHA256"),
  suite(Tls12Suite.ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "1.2", "ECDHE", "RSA", "AES128GCM", "SHA256"),
  suite(Tls12Suite.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "1.2", "ECDHE", "ECDSA", "AES256GCM", "SHA384"),
  suite(Tls12Suite.ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "1.2", "ECDHE", "RSA", "AES256GCM", "SHA384"),
  suite(Tls12Suite.RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", "1.2", "RSA", "RSA", "AES128GCM", "SHA256"),
  suite(Tls12Suite.RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", "1.2", "RSA", "RSA", "AES256GCM", "SHA384"),
];

const BY_NAME = new Map<string, SuiteInfo>();
for (const s of SUITES) {
  BY_NAME.set(s.name.toUpperCase(), s);
  BY_NAME.set(s.iana.toUpperCase(), s);
}

export function suiteName(id: number): string {
  return SUITES.find((s) => s.id === id)?.name ?? `0x${id.toString(16).padStart(4, "0")}`;
}

type Predicate = (s: SuiteInfo) => boolean;
const tls12: Predicate = (s) => s.version === "1.2";
const none: Predicate = () => false;

/**
 * OpenSSL aliases, as predicates over TLS 1.2 suites. Aliases OpenSSL knows that match nothing
 * here (RC4, DHE, CAMELLIA, ...) are listed as `none` so that `!RC4` reads as the harmless no-op it
 * is; added positively they select nothing and earn a warning like any other empty term.
 */
const ALIASES = new Map<string, Predicate>([
  ["ALL", tls12],
  ["DEFAULT", tls12],
  ["HIGH", tls12],
  ["TLSV1.2", tls12],
  ["AESGCM", (s) => tls12(s) && s.cipher !== "CHACHA20"],
  ["AES", (s) => tls12(s) && s.cipher !== "CHACHA20"],
  ["AES128", (s) => tls12(s) && s.cipher === "AES128GCM"],
  ["AES256", (s) => tls12(s) && s.cipher === "AES256GCM"],
  ["CHACHA20", (s) => tls12(s) && s.cipher === "CHACHA20"],
  ["ECDHE", (s) => s.kx === "ECDHE"],
  ["EECDH", (s) => s.kx === "ECDHE"],
  ["KECDHE", (s) => s.kx === "ECDHE"],
  ["KEECDH", (s) => s.kx === "ECDHE"],
  ["ECDH", (s) => s.kx === "ECDHE"],
  ["KRSA", (s) => s.kx === "RSA"],
  ["RSA", (s) => s.kx === "RSA"],
  ["ARSA", (s) => tls12(s) && s.auth === "RSA"],
  ["AECDSA", (s) => s.auth === "ECDSA"],
  ["ECDSA", (s) => s.auth === "ECDSA"],
  ["SHA256", (s) => tls12(s) && s.hash === "SHA256"],
  ["SHA384", (s) => tls12(s) && s.hash === "SHA384"],
  ...[
    "COMPLEMENTOFDEFAULT", "COMPLEMENTOFALL", "MEDIUM", "LOW", "EXP", "EXPORT", "ENULL", "NULL", "ANULL",
    "RC4", "3DES", "DES", "MD5", "SHA1", "SHA", "CAMELLIA", "CAMELLIA128", "CAMELLIA256", "SEED", "IDEA",
    "PSK", "KPSK", "APSK", "SRP", "KSRP", "DSS", "ADSS", "KDHE", "KEDH", "DHE", "EDH", "DH", "ADH", "AECDH",
    "ARIA", "CCM", "CCM8", "AESCCM", "AESCCM8", "KDHR", "KDHD", "KECDHR", "KECDHE-PSK", "TLSV1", "SSLV3",
    "GOST94", "GOST89MAC", "KGOST", "AGOST", "AGOST01", "SUITEB128", "SUITEB128ONLY", "SUITEB192",
  ].map((name): [string, Predicate] => [name, none]),
]);

/** One `:`-separated element of a cipher string. */
interface CipherOp {
  readonly kind: "add" | "kill" | "delete" | "tail" | "strength";
  /** `+`-joined parts, upper-cased. */
  readonly parts: readonly string[];
  /** As written, for messages. */
  readonly text: string;
}

/** A syntax-checked cipher string; resolve it once `static-rsa` is known. */
export interface CipherString {
  readonly text: string;
  readonly ops: readonly CipherOp[];
}

export interface ResolvedSuites {
  /** TLS 1.3 suites in preference order, then TLS 1.2 suites in preference order. */
  readonly suites: readonly number[];
  /** Terms that selected nothing tlsbox implements (skipped, as OpenSSL does). */
  readonly skipped: readonly string[];
}

/** Checks a cipher string's syntax (`ciphers` option); names are judged by resolveCipherString. */
export function parseCipherString(text: string): CipherString {
  const items = text.split(/[:, ]+/).filter((item) => item !== "");
  if (items.length === 0) throw new ValueError("empty cipher list");
  const ops: CipherOp[] = [];
  for (const item of items) {
    if (item.startsWith("@")) {
      const word = item.slice(1).toUpperCase();
      if (word === "STRENGTH") { ops.push({ kind: "strength", parts: [], text: item }); continue; }
      if (word.startsWith("SECLEVEL")) {
        throw new ValueError(`'${item}' is not supported: tlsbox has no OpenSSL security levels; every suite it implements is an AEAD suite with forward secrecy (static RSA only with 'static-rsa yes')`);
      }
      throw new ValueError(`unknown cipher-list command '${item}' (tlsbox knows @STRENGTH)`);
    }
    let kind: CipherOp["kind"] = "add";
    let body = item;
    if (item[0] === "!") { kind = "kill"; body = item.slice(1); }
    else if (item[0] === "-") { kind = "delete"; body = item.slice(1); }
    else if (item[0] === "+") { kind = "tail"; body = item.slice(1); }
    const parts = body.split("+");
    if (parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p))) {
      throw new ValueError(`malformed cipher-list element '${item}': expected NAME, ALIAS, or '+'-joined aliases with an optional '!', '-' or '+' prefix`);
    }
    ops.push({ kind, parts: parts.map((p) => p.toUpperCase()), text: item });
  }
  return { text, ops };
}

function matches(parts: readonly string[], universe: readonly SuiteInfo[]): SuiteInfo[] {
  return universe.filter((s) =>
    parts.every((part) => {
      const exact = BY_NAME.get(part);
      if (exact !== undefined) return exact === s;
      return (ALIASES.get(part) ?? none)(s);
    }),
  );
}

function run(cs: CipherString, universe: readonly SuiteInfo[]): { active: SuiteInfo[]; killed: Set<SuiteInfo>; named13: boolean; skipped: string[] } {
  let active: SuiteInfo[] = [];
  const killed = new Set<SuiteInfo>();
  const skipped: string[] = [];
  let named13 = false;
  for (const op of cs.ops) {
    if (op.kind === "strength") {
      active = [...active].sort((a, b) => b.bits - a.bits);
      continue;
    }
    const selected = matches(op.parts, universe);
    if (op.kind === "kill") {
      for (const s of selected) killed.add(s);
      active = active.filter((s) => !killed.has(s));
    } else if (op.kind === "delete") {
      active = active.filter((s) => !selected.includes(s));
    } else if (op.kind === "tail") {
      const moved = active.filter((s) => selected.includes(s));
      active = [...active.filter((s) => !selected.includes(s)), ...moved];
    } else {
      if (selected.some((s) => s.version === "1.3")) named13 = true;
      const fresh = selected.filter((s) => !killed.has(s) && !active.includes(s));
      if (selected.length === 0) skipped.push(op.text);
      active.push(...fresh);
    }
  }
  return { active, killed, named13, skipped };
}

/**
 * The suites a cipher string selects. `staticRsa` admits the static-RSA key-exchange suites
 * (option `static-rsa`). Throws ValueError when the string selects nothing tlsbox implements.
 */
export function resolveCipherString(cs: CipherString, staticRsa: boolean): ResolvedSuites {
  const universe = SUITES.filter((s) => staticRsa || s.kx !== "RSA");
  const { active, killed, named13, skipped } = run(cs, universe);
  const tls13 = named13
    ? active.filter((s) => s.version === "1.3")
    : SUITES.filter((s) => s.version === "1.3" && !killed.has(s) && !cs.ops.some((op) => op.kind === "delete" && matches(op.parts, [s]).length > 0));
  const tls12Suites = active.filter((s) => s.version === "1.2");
  if (tls12Suites.length === 0 && !named13) {
    let hint = "";
    if (!staticRsa && run(cs, SUITES).active.some((s) => s.kx === "RSA")) {
      hint = " It names only static-RSA suites: set 'static-rsa yes' to allow them (no forward secrecy), or name ECDHE suites.";
    }
    throw new ValueError(
      `cipher list '${cs.text}' selects no cipher suite tlsbox implements.${hint} tlsbox implements ${SUITES.map((s) => s.name).join(", ")}`,
    );
  }
  return { suites: [...tls13, ...tls12Suites].map((s) => s.id), skipped };
}

/** The default suites: every suite, in the default order (static RSA only when allowed). */
export function defaultSuites(staticRsa: boolean): number[] {
  return SUITES.filter((s) => staticRsa || s.kx !== "RSA").map((s) => s.id);
}

/** Curve / group names, as OpenSSL, RFC 8422 and NIST spell them. */
const GROUP_NAMES = new Map<string, NamedGroup>([
  ["x25519", NamedGroup.X25519],
  ["secp256r1", NamedGroup.SECP256R1],
  ["prime256v1", NamedGroup.SECP256R1],
  ["p-256", NamedGroup.SECP256R1],
  ["secp384r1", NamedGroup.SECP384R1],
  ["p-384", NamedGroup.SECP384R1],
]);

export const DEFAULT_GROUPS: readonly NamedGroup[] = [NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1];

export function groupName(group: number): string {
  switch (group) {
    case NamedGroup.X25519: return "x25519";
    case NamedGroup.SECP256R1: return "secp256r1";
    case NamedGroup.SECP384R1: return "secp384r1";
    default: return `0x${group.toString(16).padStart(4, "0")}`;
  }
}

export function parseGroup(name: string): NamedGroup {
  const group = GROUP_NAMES.get(name.toLowerCase());
  if (group === undefined) {
    throw new ValueError(`unsupported curve '${name}': tlsbox implements x25519, secp256r1 (also called prime256v1 or P-256) and secp384r1 (P-384)`);
  }
  return group;
}
