// The one table of every configuration option: titus's (titus(8), v0.4) and tlsbox's own.
//
// The parser (parse.ts) takes names, scopes and value parsers from here, the resolver (config.ts)
// the defaults, and reference.ts renders the table as the README's configuration reference. An
// option is added here or nowhere.
//
// Scope:
//   global  top level of a config file, or `--name value` on the command line
//   vhost   only inside a `vhost` block
//   both    at the top level it is the default for every vhost; inside a vhost it overrides that
//
// Options tlsbox cannot honour are in the table too, with `refused`: the parser rejects them with
// the reason, never skips them. Where titus had a harmless setting (`sslv3 no`) that setting is
// accepted, so titus configs that spell out the safe choice keep working.
import { isAbsolute, resolve } from "node:path";
import { isIP } from "node:net";
import type { NamedGroup } from "../../wasm/abi";
import { parseCipherString, parseGroup, type CipherString } from "./ciphers";
import { ValueError } from "./errors";

export type Scope = "global" | "vhost" | "both";

/** What a value parser knows: the directory relative paths resolve against. */
export interface ValueContext {
  /** The directory of the config file being read, or the working directory for the command line. */
  readonly baseDir: string;
}

export interface OptionSpec<T> {
  readonly scope: Scope;
  /** Placeholder for the value in docs and messages: "yes | no", "PORT", "FILE". */
  readonly value: string;
  /** The default as documented; null if the option is unset by default. */
  readonly default: string | null;
  readonly doc: string;
  /** Where the option comes from: titus's man page, or tlsbox's own addition. */
  readonly origin: "titus" | "tlsbox";
  /** Parses and validates the raw value (throws ValueError). */
  readonly parse: (raw: string, ctx: ValueContext) => T;
  /** May be given several times, each adding to a list (otherwise a later setting replaces an earlier). */
  readonly repeatable?: boolean;
  /** Only on the command line, takes no value (`--check`). */
  readonly cliFlag?: boolean;
  /** Handled by the parser itself: `config`, `config-directory`, `vhost`. */
  readonly structural?: boolean;
  /**
   * tlsbox cannot honour this option. `accepts` says which parsed values are harmless (titus's
   * safe setting); without it every value is refused.
   */
  readonly refused?: { readonly reason: string; readonly accepts?: (value: T) => boolean; readonly harmless?: string };
}

function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Value parsers

/** titus's yes/no: yes|true|on|a positive number, no|false|off|0, any case (titus common.hpp). */
export function parseBool(raw: string): boolean {
  const v = raw.toLowerCase();
  if (v === "yes" || v === "true" || v === "on") return true;
  if (v === "no" || v === "false" || v === "off") return false;
  if (/^[0-9]+$/.test(v)) return /[1-9]/.test(v);
  throw new ValueError(`invalid yes/no value '${raw}' (use yes or no)`);
}

export function parseInteger(raw: string, min: number, max: number, what = "a whole number"): number {
  if (!/^[0-9]+$/.test(raw)) throw new ValueError(`'${raw}' is not ${what} (expected ${min}-${max})`);
  const n = Number(raw);
  if (n < min || n > max) throw new ValueError(`${raw} is out of range (expected ${min}-${max})`);
  return n;
}

export function parsePort(raw: string): number {
  return parseInteger(raw, 1, 65535, "a port number");
}

export function parsePath(raw: string, ctx: ValueContext): string {
  if (raw === "") throw new ValueError("empty path");
  return isAbsolute(raw) ? resolve(raw) : resolve(ctx.baseDir, raw);
}

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** An IPv4 or IPv6 literal (IPv6 with or without brackets) or a host name; IPv6 is returned bare. */
export function parseHost(raw: string): string {
  const bare = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  if (isIP(bare) !== 0) return bare.toLowerCase();
  if (bare !== raw) throw new ValueError(`'${raw}' is not an IPv6 address`);
  if (/^[0-9.]+$/.test(raw)) throw new ValueError(`'${raw}' is not a valid IPv4 address`);
  if (!HOSTNAME.test(raw)) throw new ValueError(`'${raw}' is not an IP address or host name`);
  return raw.toLowerCase();
}

/** A user or group: a name as useradd(8) allows, or a numeric id. */
export function parseAccount(raw: string): string {
  if (/^[0-9]+$/.test(raw)) return String(parseInteger(raw, 0, 0xfffffffe, "an id"));
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(raw)) throw new ValueError(`'${raw}' is not a user or group name`);
  return raw;
}

function parseEnum<T extends string>(values: readonly T[]): (raw: string) => T {
  return (raw) => {
    const v = raw.toLowerCase();
    const found = values.find((x) => x === v);
    if (found === undefined) throw new ValueError(`'${raw}' is not one of ${values.join(", ")}`);
    return found;
  };
}

export type Backend = { readonly kind: "tcp"; readonly host: string } | { readonly kind: "unix"; readonly path: string };

export function parseBackend(raw: string, ctx: ValueContext): Backend {
  if (raw.startsWith("unix:")) {
    const path = raw.slice(5);
    if (path === "") throw new ValueError("'unix:' needs a socket path, as in 'unix:/run/app.sock'");
    return { kind: "unix", path: parsePath(path, ctx) };
  }
  const colons = raw.split(":").length - 1;
  if (colons === 1 || /^\[.*\]:/.test(raw)) {
    throw new ValueError(`'${raw}' looks like HOST:PORT; give the host to 'backend' and the port to 'backend-port' (as titus does), or use 'unix:/path'`);
  }
  return { kind: "tcp", host: parseHost(raw) };
}

/** A listening address: `PORT`, `HOST`, `HOST:PORT`, `[IPv6]:PORT`, `*:PORT`. A null host is every address. */
export interface ListenAddress {
  readonly host: string | null;
  readonly port: number | null;
}

const WILDCARDS = new Set(["*", "0.0.0.0", "::", "[::]"]);

export function parseListen(raw: string): ListenAddress {
  if (raw === "") throw new ValueError("empty address");
  if (/^[0-9]+$/.test(raw)) return { host: null, port: parsePort(raw) };
  let host = raw;
  let port: number | null = null;
  const bracketed = /^(\[[^\]]*\])(?::(.*))?$/.exec(raw);
  if (bracketed !== null) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = parsePort(bracketed[2]);
  } else if (raw.split(":").length === 2) {
    const i = raw.indexOf(":");
    host = raw.slice(0, i);
    port = parsePort(raw.slice(i + 1));
  }
  if (WILDCARDS.has(host)) return { host: null, port };
  return { host: parseHost(host), port };
}

/** A server name to match against SNI; `""` is "the client sent no SNI". Lower-cased, no trailing dot. */
export function parseSniName(raw: string): string {
  if (raw === "") return "";
  if (raw.includes("*")) throw new ValueError(`wildcards are not supported in sni-name ('${raw}'): titus matches names exactly; give each name its own vhost`);
  if (isIP(raw.replace(/^\[|\]$/g, "")) !== 0) {
    throw new ValueError(`'${raw}' is an IP address, which clients never send as a server name (RFC 6066 §3); match it with local-address`);
  }
  if (!HOSTNAME.test(raw)) throw new ValueError(`'${raw}' is not a valid server name`);
  return raw.toLowerCase().replace(/\.$/, "");
}

/** ALPN protocol names, comma-separated, in server preference order; `""` is none. */
export function parseAlpn(raw: string): string[] {
  if (raw === "") return [];
  const names = raw.split(",").map((n) => n.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (name === "") throw new ValueError(`empty protocol name in '${raw}'`);
    if (!/^[\x21-\x7e]+$/.test(name)) throw new ValueError(`protocol name '${name}' must be printable ASCII without spaces`);
    if (name.length > 255) throw new ValueError(`protocol name '${name.slice(0, 20)}...' is longer than 255 bytes (RFC 7301)`);
    if (seen.has(name)) throw new ValueError(`protocol '${name}' is listed twice`);
    seen.add(name);
  }
  return names;
}

export function parseGroups(raw: string): NamedGroup[] {
  const names = raw.split(/[:,]/).map((n) => n.trim());
  if (names.some((n) => n === "")) throw new ValueError(`empty curve name in '${raw}'`);
  const groups = names.map(parseGroup);
  for (let i = 0; i < groups.length; i++) {
    if (groups.indexOf(groups[i]!) !== i) throw new ValueError(`'${names[i]}' names a curve already listed`);
  }
  return groups;
}

export type LogLevel = "error" | "warn" | "info" | "debug";
export type WasiChoice = "minimal" | "wasmer";

/** `local`, or a remote key server's address (`HOST:PORT`, `unix:/path`), checked for form only. */
function parseKeyserver(raw: string): string {
  if (raw.toLowerCase() === "local") return "local";
  if (raw.startsWith("unix:")) {
    if (raw.length === 5) throw new ValueError("'unix:' needs a socket path");
    return raw;
  }
  if (parseListen(raw).port === null) throw new ValueError(`a key-server address needs a port: HOST:PORT (got '${raw}')`);
  return raw;
}

function refuseAlways(raw: string): string {
  return raw;
}

const refusedVersion = (name: string, titusDefault: "yes" | "no", reason: string) =>
  option<boolean>({
    scope: "both", value: "yes | no", default: "no", origin: "titus",
    doc: `titus: enable ${name} (titus's default: ${titusDefault}).`,
    parse: parseBool,
    refused: { reason, accepts: (v) => !v, harmless: "no" },
  });

// ---------------------------------------------------------------------------------------------
// The table

export const OPTIONS = {
  // --- titus: files and process -----------------------------------------------------------
  config: option<string>({
    scope: "global", value: "FILE", default: null, origin: "titus", structural: true, repeatable: true,
    doc: "Read more options from FILE, one `option value` per line. A relative FILE is taken relative to the directory of the file that names it (the working directory on the command line). Files may include files; a cycle is an error.",
    parse: parsePath,
  }),
  "config-directory": option<string>({
    scope: "global", value: "DIR", default: null, origin: "titus", structural: true, repeatable: true,
    doc: "Read every file in DIR as a config file, in lexicographic order; names starting with '.' are skipped, subdirectories are not entered.",
    parse: parsePath,
  }),
  daemon: option<boolean>({
    scope: "global", value: "yes | no", default: "no", origin: "titus",
    doc: "Detach into the background once initialisation has succeeded.",
    parse: parseBool,
  }),
  "pid-file": option<string>({
    scope: "global", value: "FILE", default: null, origin: "titus",
    doc: "Write the supervisor's process id to FILE after start-up (and remove it on exit).",
    parse: parsePath,
  }),
  port: option<number>({
    scope: "global", value: "PORT", default: null, origin: "titus",
    doc: "Listen on this TCP port on every local address (IPv6 and IPv4), and the port for `listen` addresses that give none.",
    parse: parsePort,
  }),
  transparent: option<"yes" | "no" | "backend-only">({
    scope: "global", value: "yes | no | backend-only", default: "no", origin: "titus",
    doc: "titus: transparent proxy mode, keeping the client's source address (and with 'yes' the destination) towards the backend.",
    parse: (raw) => (raw.toLowerCase() === "backend-only" ? "backend-only" : parseBool(raw) ? "yes" : "no"),
    refused: {
      reason: "transparent proxying needs IP_TRANSPARENT sockets, which Node.js cannot create; to pass the client address to the backend, a PROXY-protocol option is planned instead",
      accepts: (v) => v === "no",
      harmless: "no",
    },
  }),
  "min-spare-children": option<number>({
    scope: "global", value: "NUMBER", default: "3", origin: "titus",
    doc: "Keep this many connection sandboxes instantiated ahead of demand (titus: spare child processes).",
    parse: (raw) => parseInteger(raw, 0, 100000),
  }),
  "max-children": option<number>({
    scope: "global", value: "NUMBER", default: "100", origin: "titus",
    doc: "Serve at most this many connections at once (titus: one child process per connection); further connections wait in the listen queue.",
    parse: (raw) => parseInteger(raw, 1, 1000000),
  }),
  "max-handshake-time": option<number>({
    scope: "global", value: "SECONDS", default: "10", origin: "titus",
    doc: "Close a connection whose TLS handshake has not completed after this many seconds; 0 disables the limit.",
    parse: (raw) => parseInteger(raw, 0, 86400),
  }),
  "network-user": option<string>({
    scope: "global", value: "USER", default: null, origin: "titus",
    doc: "Run the processes that talk to the network (the workers) as this user. Use an account with no other purpose.",
    parse: parseAccount,
  }),
  "network-group": option<string>({
    scope: "global", value: "GROUP", default: null, origin: "titus",
    doc: "Run the workers with this group.",
    parse: parseAccount,
  }),
  "keyserver-user": option<string>({
    scope: "global", value: "USER", default: null, origin: "titus",
    doc: "Run the key server, the only process holding private keys, as this user; it should differ from network-user.",
    parse: parseAccount,
  }),
  "keyserver-group": option<string>({
    scope: "global", value: "GROUP", default: null, origin: "titus",
    doc: "Run the key server with this group.",
    parse: parseAccount,
  }),
  chroot: option<string>({
    scope: "global", value: "DIR", default: null, origin: "titus",
    doc: "titus: chroot the per-connection processes to this empty directory. Accepted with a warning: what titus confined with chroot(2), tlsbox runs in a WebAssembly sandbox with no filesystem imports at all, which is stricter; Node.js itself cannot chroot(2).",
    parse: parsePath,
  }),

  // --- titus: per-vhost settings (also global defaults) ------------------------------------
  key: option<string>({
    scope: "both", value: "FILE", default: null, origin: "titus",
    doc: "The private key (PEM). Only the key server ever reads it.",
    parse: parsePath,
  }),
  cert: option<string>({
    scope: "both", value: "FILE", default: null, origin: "titus",
    doc: "The certificate (PEM), followed by its intermediate (chain) certificates. Must not be the key file.",
    parse: parsePath,
  }),
  backend: option<Backend>({
    scope: "both", value: "HOST | unix:PATH", default: "loopback", origin: "titus",
    doc: "Where to forward the plaintext: a host (with `backend-port`) or, new in tlsbox, a UNIX socket `unix:/path`.",
    parse: parseBackend,
  }),
  "backend-port": option<number>({
    scope: "both", value: "PORT", default: null, origin: "titus",
    doc: "The backend's TCP port; required unless `backend` is a UNIX socket.",
    parse: parsePort,
  }),
  ciphers: option<CipherString>({
    scope: "both", value: "LIST", default: "Mozilla intermediate", origin: "titus",
    doc: "An OpenSSL cipher list (ciphers(1SSL)) over the suites tlsbox implements: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 and ECDHE-{ECDSA,RSA}-{AES128-GCM-SHA256,AES256-GCM-SHA384,CHACHA20-POLY1305} (AES128/AES256-GCM-SHA{256,384} with `static-rsa yes`). Names of suites tlsbox lacks are skipped with a warning; a list selecting none is an error. Without a TLS 1.3 name in the list, all three TLS 1.3 suites are offered.",
    parse: parseCipherString,
  }),
  "honor-client-cipher-order": option<boolean>({
    scope: "both", value: "yes | no", default: "no", origin: "titus",
    doc: "Let the client's order pick among the allowed suites; with 'no' the order of `ciphers` wins.",
    parse: parseBool,
  }),
  dhgroup: option<string>({
    scope: "both", value: "14 | 15 | 16", default: null, origin: "titus",
    doc: "titus: the RFC 3526 finite-field group for DHE suites (default 14).",
    parse: refuseAlways,
    refused: { reason: "tlsbox implements no finite-field (DHE) key exchange, only ECDHE; choose curves with 'groups'. Remove the line" },
  }),
  ecdhcurve: option<NamedGroup[]>({
    scope: "both", value: "CURVE", default: null, origin: "titus",
    doc: "Use only this curve for ECDHE, as titus did: x25519, prime256v1/secp256r1/P-256 or secp384r1/P-384 (secp521r1 is not implemented). Unset, the `groups` default applies (titus's default was prime256v1 alone). Prefer `groups`; the two cannot be set in the same scope.",
    parse: (raw) => [parseGroup(raw)],
  }),
  compression: refusedVersion("TLS compression", "no", "TLS compression enables the CRIME attack and does not exist in TLS 1.3; tlsbox does not implement it"),
  sslv3: refusedVersion("SSLv3", "no", "SSLv3 is broken (POODLE) and prohibited by RFC 7568; tlsbox implements TLS 1.2 and 1.3 only"),
  tlsv1: refusedVersion("TLS 1.0", "yes", "TLS 1.0 is deprecated by RFC 8996; tlsbox implements TLS 1.2 and 1.3 only"),
  "tlsv1.1": refusedVersion("TLS 1.1", "yes", "TLS 1.1 is deprecated by RFC 8996; tlsbox implements TLS 1.2 and 1.3 only"),
  "tlsv1.2": option<boolean>({
    scope: "both", value: "yes | no", default: "yes", origin: "titus",
    doc: "Accept TLS 1.2.",
    parse: parseBool,
  }),

  // --- titus: virtual hosts -------------------------------------------------------------------
  vhost: option<string>({
    scope: "global", value: "(none)", default: null, origin: "titus", structural: true, repeatable: true,
    doc: "On a line by itself, begins a virtual host; the following indented lines are its options, up to the first unindented line. The first vhost matching a connection serves it; with no vhost, one implicit vhost matches everything. Config files only.",
    parse: (raw) => raw,
  }),
  "local-address": option<string>({
    scope: "vhost", value: "HOST", default: "any", origin: "titus",
    doc: "Match connections made to this local address.",
    parse: parseHost,
  }),
  "local-port": option<number>({
    scope: "vhost", value: "PORT", default: "any", origin: "titus",
    doc: "Match connections made to this local port.",
    parse: parsePort,
  }),
  "sni-name": option<string>({
    scope: "vhost", value: "NAME | \"\"", default: "any", origin: "titus",
    doc: "Match clients that send this server name (compared case-insensitively); `\"\"` matches clients that send none.",
    parse: parseSniName,
  }),

  // --- tlsbox additions ----------------------------------------------------------------------
  listen: option<ListenAddress>({
    scope: "global", value: "ADDRESS[:PORT]", default: "every address", origin: "tlsbox", repeatable: true,
    doc: "Listen on this address (IPv4, [IPv6], host name or `*`), with its own port or `port`. May be repeated. Without it tlsbox listens on every address at `port`.",
    parse: parseListen,
  }),
  "tlsv1.3": option<boolean>({
    scope: "both", value: "yes | no", default: "yes", origin: "tlsbox",
    doc: "Accept TLS 1.3.",
    parse: parseBool,
  }),
  groups: option<NamedGroup[]>({
    scope: "both", value: "CURVE[:CURVE...]", default: "x25519:secp256r1:secp384r1", origin: "tlsbox",
    doc: "Key-exchange groups in server preference order: x25519, secp256r1 (P-256, prime256v1), secp384r1 (P-384).",
    parse: parseGroups,
  }),
  alpn: option<string[]>({
    scope: "both", value: "PROTO[,PROTO...]", default: "none", origin: "tlsbox",
    doc: "Offer ALPN with these protocols, in server preference order (e.g. `h2,http/1.1`). A client offering none of them is refused (no_application_protocol).",
    parse: parseAlpn,
  }),
  "static-rsa": option<boolean>({
    scope: "both", value: "yes | no", default: "no", origin: "tlsbox",
    doc: "Allow TLS 1.2 static-RSA key exchange (AES128-GCM-SHA256, AES256-GCM-SHA384) for legacy clients. It has no forward secrecy; the key server decrypts with implicit rejection.",
    parse: parseBool,
  }),
  "idle-timeout": option<number>({
    scope: "global", value: "SECONDS", default: "0", origin: "tlsbox",
    doc: "Close a connection after this many seconds without data in either direction; 0 leaves it to the backend (titus behaviour).",
    parse: (raw) => parseInteger(raw, 0, 604800),
  }),
  workers: option<number | "auto">({
    scope: "global", value: "NUMBER | auto", default: "auto", origin: "tlsbox",
    doc: "Number of worker processes sharing the listening sockets; `auto` is one per CPU.",
    parse: (raw) => (raw.toLowerCase() === "auto" ? "auto" : parseInteger(raw, 1, 1024)),
  }),
  wasi: option<WasiChoice>({
    scope: "global", value: "minimal | wasmer", default: "minimal", origin: "tlsbox",
    doc: "Which WASI implementation backs the sandbox's two allowed calls (randomness, clock).",
    parse: parseEnum<WasiChoice>(["minimal", "wasmer"]),
  }),
  "log-level": option<LogLevel>({
    scope: "global", value: "error | warn | info | debug", default: "info", origin: "tlsbox",
    doc: "How much to log.",
    parse: parseEnum<LogLevel>(["error", "warn", "info", "debug"]),
  }),
  keyserver: option<string>({
    scope: "global", value: "local | ADDRESS", default: "local", origin: "tlsbox",
    doc: "Where private-key operations happen: `local`, a key-server process started by this tlsbox. `HOST:PORT` and `unix:PATH` are reserved for a shared remote key server.",
    parse: parseKeyserver,
    refused: {
      reason: "a remote key server is reserved for a later version (the key-server protocol over an authenticated socket); use 'keyserver local'",
      accepts: (v) => v === "local",
      harmless: "local",
    },
  }),
  check: option<boolean>({
    scope: "global", value: "(flag)", default: null, origin: "tlsbox", cliFlag: true,
    doc: "Command line only: read and validate the configuration, print the problems, exit 0 if it is usable and 5 if not.",
    parse: () => true,
  }),
} as const;

export type OptionName = keyof typeof OPTIONS;
export type OptionValue<K extends OptionName> = ReturnType<(typeof OPTIONS)[K]["parse"]>;

export function isOptionName(name: string): name is OptionName {
  return Object.prototype.hasOwnProperty.call(OPTIONS, name);
}

export function optionSpec(name: OptionName): OptionSpec<unknown> {
  return OPTIONS[name] as OptionSpec<unknown>;
}

/** The closest option name, for "did you mean" (edit distance at most 2). */
export function suggestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of Object.keys(OPTIONS)) {
    const d = editDistance(name.toLowerCase(), candidate);
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
