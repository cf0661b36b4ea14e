// The resolved configuration: defaults applied, per-vhost settings inherited from the top level,
// and the cross-checks that need the whole picture (every vhost has a certificate, a key and a
// backend; every vhost can be reached; the TLS settings leave something to negotiate).
//
// Certificates and keys are not read here; their paths are checked to be given and absolute.
import type { NamedGroup } from "../../wasm/abi";
import { defaultSuites, DEFAULT_GROUPS, resolveCipherString, suiteName, SUITES } from "./ciphers";
import { ConfigError, ValueError, formatLocation, type ConfigWarning, type Location } from "./errors";
import type { Backend, ListenAddress, LogLevel, OptionName, OptionValue, WasiChoice } from "./options";
import { parseArgs, parseConfigFile, parseConfigText, type ParseOptions, type RawConfig, type Scope, type Setting } from "./parse";

export interface TlsPolicy {
  readonly tls12: boolean;
  readonly tls13: boolean;
  /** CipherSuite / Tls12Suite numbers: TLS 1.3 ones first, each group in preference order. */
  readonly cipherSuites: readonly number[];
  /** Server order decides (titus `honor-client-cipher-order no`, the default). */
  readonly serverCipherOrder: boolean;
  readonly groups: readonly NamedGroup[];
  /** ALPN protocol names in server preference order; empty: ALPN not negotiated. */
  readonly alpn: readonly string[];
  readonly staticRsa: boolean;
}

export interface VhostMatch {
  /** null: any local address. */
  readonly localAddress: string | null;
  /** null: any local port. */
  readonly localPort: number | null;
  /** null: any server name; "": clients that send no SNI; otherwise lower case. */
  readonly sniName: string | null;
}

export type BackendTarget = { readonly kind: "tcp"; readonly host: string; readonly port: number } | { readonly kind: "unix"; readonly path: string };

export interface VhostConfig {
  /** Position in match order (0 first). */
  readonly index: number;
  /** The `vhost` line; null for the implicit vhost of a config without vhost blocks. */
  readonly at: Location | null;
  readonly match: VhostMatch;
  /** Absolute paths. */
  readonly key: string;
  readonly cert: string;
  readonly backend: BackendTarget;
  readonly tls: TlsPolicy;
}

export interface Listener {
  /** null: every local address (IPv6 and IPv4). */
  readonly host: string | null;
  readonly port: number;
}

export interface Config {
  readonly daemon: boolean;
  readonly pidFile: string | null;
  readonly listeners: readonly Listener[];
  readonly minSpareChildren: number;
  readonly maxChildren: number;
  /** Seconds; 0: no limit. */
  readonly maxHandshakeTime: number;
  /** Seconds; 0: none. */
  readonly idleTimeout: number;
  readonly workers: number | "auto";
  readonly networkUser: string | null;
  readonly networkGroup: string | null;
  readonly keyserverUser: string | null;
  readonly keyserverGroup: string | null;
  readonly keyserver: "local";
  readonly wasi: WasiChoice;
  readonly logLevel: LogLevel;
  /** In match order: the first vhost that matches a connection serves it. */
  readonly vhosts: readonly VhostConfig[];
  /** Config files read, absolute. */
  readonly files: readonly string[];
  readonly warnings: readonly ConfigWarning[];
  /** `--check` was given: validate and exit. */
  readonly check: boolean;
}

/** Reads the command line (and the files it names) into a checked Config. */
export function loadConfig(argv: readonly string[], options: ParseOptions = {}): Config {
  return resolveConfig(parseArgs(argv, options));
}

export function loadConfigFile(path: string, options: ParseOptions = {}): Config {
  return resolveConfig(parseConfigFile(path, options));
}

export function configFromText(text: string, file: string, options: ParseOptions = {}): Config {
  return resolveConfig(parseConfigText(text, file, options));
}

/** Looks an option up in a vhost scope, then in the top level. */
function inherited<K extends OptionName>(name: K, vhost: Scope | null, global: Scope): Setting<OptionValue<K>> | undefined {
  return vhost?.get(name) ?? global.get(name);
}

/** Applies defaults and cross-checks. Throws ConfigError; warnings are collected in the result. */
export function resolveConfig(raw: RawConfig): Config {
  const g = raw.global;
  const warnings: ConfigWarning[] = [...raw.warnings];
  const warn = (at: Location, option: string, message: string) => warnings.push({ file: at.file, line: at.line, option, message });

  // Listeners.
  const port = g.get("port");
  const listeners: Listener[] = [];
  for (const { value, at } of g.all("listen")) {
    const p = value.port ?? port?.value;
    if (p === undefined) {
      throw ConfigError.at("NO_LISTENER", at, "listen", `'listen' gives no port and no 'port' is set: write 'listen ADDRESS:PORT' or set 'port PORT'`);
    }
    if (listeners.some((l) => l.host === value.host && l.port === p)) {
      throw ConfigError.at("CONFLICT", at, "listen", `${describeListener({ host: value.host, port: p })} is listed twice`);
    }
    listeners.push({ host: value.host, port: p });
  }
  if (listeners.length === 0) {
    if (port === undefined) {
      throw ConfigError.at("NO_LISTENER", raw.origin, "port", "no port to listen on: set 'port PORT' (or 'listen ADDRESS:PORT')");
    }
    listeners.push({ host: null, port: port.value });
  }
  checkWildcardOverlap(listeners, g.all("listen"));

  // Process settings.
  const maxChildren = g.get("max-children")?.value ?? 100;
  const minSpare = g.get("min-spare-children");
  if (minSpare !== undefined && minSpare.value > maxChildren) {
    warn(minSpare.at, "min-spare-children", `min-spare-children ${minSpare.value} exceeds max-children ${maxChildren}; at most ${maxChildren} sandboxes will be kept`);
  }
  const networkUser = g.get("network-user");
  const keyserverUser = g.get("keyserver-user");
  if (networkUser !== undefined && keyserverUser !== undefined && networkUser.value === keyserverUser.value) {
    throw ConfigError.at("CONFLICT", keyserverUser.at, "keyserver-user",
      `keyserver-user is the same account as network-user ('${keyserverUser.value}'): the network-facing workers could then read the key server's memory and files; use a separate account`);
  }
  const chroot = g.get("chroot");
  if (chroot !== undefined) {
    warn(chroot.at, "chroot", "not applied: the TLS code runs in a WebAssembly sandbox with no filesystem imports at all (stricter than an empty chroot); Node.js cannot chroot(2) itself. The workers still run as network-user");
  }
  if (g.get("daemon")?.value === true && g.get("pid-file") === undefined) {
    warn(g.get("daemon")!.at, "daemon", "daemon yes without pid-file: nothing records the process id of the background process");
  }

  // Virtual hosts.
  const blocks = raw.vhosts.length > 0 ? raw.vhosts.map((v) => ({ at: v.at as Location | null, scope: v.scope as Scope | null })) : [{ at: null, scope: null }];
  const vhosts = blocks.map((block, index) => resolveVhost(index, block.at, block.scope, g, raw.origin, warn));
  checkReachable(vhosts, listeners);

  return {
    daemon: g.get("daemon")?.value ?? false,
    pidFile: g.get("pid-file")?.value ?? null,
    listeners,
    minSpareChildren: Math.min(minSpare?.value ?? 3, maxChildren),
    maxChildren,
    maxHandshakeTime: g.get("max-handshake-time")?.value ?? 10,
    idleTimeout: g.get("idle-timeout")?.value ?? 0,
    workers: g.get("workers")?.value ?? "auto",
    networkUser: networkUser?.value ?? null,
    networkGroup: g.get("network-group")?.value ?? null,
    keyserverUser: keyserverUser?.value ?? null,
    keyserverGroup: g.get("keyserver-group")?.value ?? null,
    keyserver: "local",
    wasi: g.get("wasi")?.value ?? "minimal",
    logLevel: g.get("log-level")?.value ?? "info",
    vhosts,
    files: raw.files,
    warnings,
    check: raw.check,
  };
}

function describeListener(l: { host: string | null; port: number }): string {
  const host = l.host === null ? "*" : l.host.includes(":") ? `[${l.host}]` : l.host;
  return `listen address ${host}:${l.port}`;
}

/** A wildcard listener and a specific one on the same port cannot both bind. */
function checkWildcardOverlap(listeners: readonly Listener[], settings: readonly Setting<ListenAddress>[]): void {
  for (let i = 0; i < listeners.length; i++) {
    for (let j = 0; j < listeners.length; j++) {
      const a = listeners[i]!;
      const b = listeners[j]!;
      if (i !== j && a.port === b.port && a.host === null && b.host !== null) {
        const at = settings[Math.max(i, j)]?.at ?? settings[0]!.at;
        throw ConfigError.at("CONFLICT", at, "listen",
          `${describeListener(b)} overlaps ${describeListener(a)}, which already covers every address on port ${a.port}`);
      }
    }
  }
}

function vhostName(at: Location | null): string {
  return at === null ? "the configuration" : `the vhost at ${formatLocation(at)}`;
}

function resolveVhost(
  index: number, at: Location | null, scope: Scope | null, g: Scope, origin: Location,
  warn: (at: Location, option: string, message: string) => void,
): VhostConfig {
  const where = at ?? origin;
  const who = vhostName(at);
  const get = <K extends OptionName>(name: K) => inherited(name, scope, g);
  const missing = (what: string, hint: string): never => {
    throw ConfigError.at("INCOMPLETE_VHOST", where, what, `${who} has no '${what}': ${hint}`);
  };

  const key = get("key")?.value ?? missing("key", "set 'key FILE' (the private key, PEM) in the vhost or at the top level");
  const cert = get("cert")?.value ?? missing("cert", "set 'cert FILE' (the certificate chain, PEM) in the vhost or at the top level");
  if (key === cert) {
    throw ConfigError.at("CONFLICT", get("cert")!.at, "cert",
      `${who} uses one file for key and cert: tlsbox keeps them apart (only the key server reads the key), so give the certificate chain its own file`);
  }

  const backendSetting = get("backend");
  const backendPort = get("backend-port");
  let backend: BackendTarget;
  const chosen: Backend = backendSetting?.value ?? { kind: "tcp", host: "localhost" };
  if (chosen.kind === "unix") {
    if (backendPort !== undefined) {
      const backendHere = scope?.has("backend") ?? false;
      const portHere = scope?.has("backend-port") ?? false;
      if (portHere || !backendHere) {
        throw ConfigError.at("CONFLICT", backendPort.at, "backend-port",
          `backend-port has no meaning for ${who}, whose backend is the UNIX socket ${chosen.path}; ${portHere && !backendHere ? "to use TCP in this vhost, set 'backend HOST' in it too" : "remove it"}`);
      }
    }
    backend = { kind: "unix", path: chosen.path };
  } else {
    if (backendPort === undefined) {
      missing("backend-port", "set 'backend-port PORT' (and 'backend HOST', default loopback), or 'backend unix:/path'");
    }
    backend = { kind: "tcp", host: chosen.host, port: backendPort!.value };
  }

  // TLS policy.
  const tls12 = get("tlsv1.2")?.value ?? true;
  const tls13 = get("tlsv1.3")?.value ?? true;
  if (!tls12 && !tls13) {
    const off = get("tlsv1.3") ?? get("tlsv1.2")!;
    throw ConfigError.at("CONFLICT", off.at, off === get("tlsv1.3") ? "tlsv1.3" : "tlsv1.2",
      `${who} disables both TLS 1.2 and TLS 1.3, the only versions tlsbox implements; enable one`);
  }
  const staticRsa = get("static-rsa")?.value ?? false;
  const ciphers = get("ciphers");
  let suites: readonly number[];
  if (ciphers === undefined) {
    suites = defaultSuites(staticRsa);
  } else {
    try {
      const resolved = resolveCipherString(ciphers.value, staticRsa);
      suites = resolved.suites;
      for (const term of resolved.skipped) {
        warn(ciphers.at, "ciphers", `cipher-list element '${term}' matches no suite tlsbox implements; skipped`);
      }
    } catch (error) {
      if (error instanceof ValueError) {
        throw ConfigError.at(error.code, ciphers.at, "ciphers", `bad value for 'ciphers'${at !== null && !(scope?.has("ciphers") ?? false) ? ` (inherited by ${who})` : ""}: ${error.message}`);
      }
      throw error;
    }
  }
  const has12 = suites.some((id) => SUITES.find((s) => s.id === id)?.version === "1.2");
  const has13 = suites.some((id) => SUITES.find((s) => s.id === id)?.version === "1.3");
  if (!(tls12 && has12) && !(tls13 && has13)) {
    throw ConfigError.at("CONFLICT", ciphers?.at ?? where, "ciphers",
      `${who} leaves no cipher suite for an enabled TLS version (suites: ${suites.map(suiteName).join(", ") || "none"}; TLS 1.2 ${tls12 ? "on" : "off"}, TLS 1.3 ${tls13 ? "on" : "off"})`);
  }
  if (tls12 && !has12 && ciphers !== undefined) {
    warn(ciphers.at, "ciphers", `${who} accepts TLS 1.2 but its cipher list has no TLS 1.2 suite; TLS 1.2 clients will fail`);
  }

  const groupsSetting = scope?.get("groups") ?? null;
  const curveSetting = scope?.get("ecdhcurve") ?? null;
  const globalGroups = g.get("groups");
  const globalCurve = g.get("ecdhcurve");
  for (const [a, b] of [[groupsSetting, curveSetting], [globalGroups ?? null, globalCurve ?? null]] as const) {
    if (a !== null && b !== null) {
      throw ConfigError.at("CONFLICT", a.at, "groups",
        `'groups' and 'ecdhcurve' are both set (at ${formatLocation(a.at)} and ${formatLocation(b.at)}); keep one ('ecdhcurve' is titus's single-curve form of 'groups')`);
    }
  }
  const groups = (groupsSetting ?? curveSetting ?? globalGroups ?? globalCurve)?.value ?? DEFAULT_GROUPS;

  const match: VhostMatch = {
    localAddress: scope?.get("local-address")?.value ?? null,
    localPort: scope?.get("local-port")?.value ?? null,
    sniName: scope?.get("sni-name")?.value ?? null,
  };

  return {
    index,
    at,
    match,
    key,
    cert,
    backend,
    tls: {
      tls12,
      tls13,
      cipherSuites: suites,
      serverCipherOrder: !(get("honor-client-cipher-order")?.value ?? false),
      groups: [...groups],
      alpn: get("alpn")?.value ?? [],
      staticRsa,
    },
  };
}

/** True if every connection `later` matches is matched by `earlier` too. */
function covers(earlier: VhostMatch, later: VhostMatch): boolean {
  return (earlier.localAddress === null || earlier.localAddress === later.localAddress)
    && (earlier.localPort === null || earlier.localPort === later.localPort)
    && (earlier.sniName === null || earlier.sniName === later.sniName);
}

/** Every vhost must be able to serve some connection (titus picks the first match). */
function checkReachable(vhosts: readonly VhostConfig[], listeners: readonly Listener[]): void {
  for (const v of vhosts) {
    if (v.at === null) continue;
    const { localPort, localAddress } = v.match;
    if (localPort !== null && !listeners.some((l) => l.port === localPort)) {
      throw ConfigError.at("AMBIGUOUS_ROUTE", v.at, "local-port",
        `${vhostName(v.at)} matches local-port ${localPort}, but tlsbox listens only on port ${[...new Set(listeners.map((l) => l.port))].join(", ")}; it could never be used`);
    }
    if (localAddress !== null && listeners.every((l) => l.host !== null && l.host !== localAddress && isLiteral(l.host)) && isLiteral(localAddress)) {
      throw ConfigError.at("AMBIGUOUS_ROUTE", v.at, "local-address",
        `${vhostName(v.at)} matches local-address ${localAddress}, but tlsbox listens only on ${listeners.map((l) => l.host).join(", ")}; it could never be used`);
    }
    for (const earlier of vhosts.slice(0, v.index)) {
      if (covers(earlier.match, v.match)) {
        throw ConfigError.at("AMBIGUOUS_ROUTE", v.at, "vhost",
          `${vhostName(v.at)} can never be used: ${vhostName(earlier.at)} comes first and matches every connection it would (the first matching vhost wins); put the more specific vhost first or make them differ in local-address, local-port or sni-name`);
      }
    }
  }
}

function isLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(":");
}

