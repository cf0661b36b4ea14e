import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NamedGroup, CipherSuite } from "../../wasm/abi";
import { Tls12Suite } from "../../src/config/ciphers";
import { configFromText, loadConfig, type Config } from "../../src/config/config";
import { ConfigError } from "../../src/config/errors";
import { OPTIONS, type OptionName } from "../../src/config/options";
import { renderReference } from "../../src/config/reference";
import { BASE, BASE_LINES, configDir, expectConfigError } from "./helpers";

const test = suite("config options");

interface Sample {
  readonly value: string;
  readonly check: (config: Config, dir: string) => void;
}

const vhost0 = (c: Config) => c.vhosts[0]!;

/** One valid value of every option that tlsbox honours, and what it must change. */
const SAMPLES: Partial<Record<OptionName, Sample>> = {
  config: { value: "extra.conf", check: (c) => assert.is(c.daemon, true) },
  "config-directory": { value: "conf.d", check: (c) => assert.is(c.logLevel, "debug") },
  daemon: { value: "yes", check: (c) => assert.is(c.daemon, true) },
  "pid-file": { value: "run/tlsbox.pid", check: (c, dir) => assert.is(c.pidFile, join(dir, "run/tlsbox.pid")) },
  port: { value: "8443", check: (c) => assert.equal(c.listeners, [{ host: null, port: 8443 }]) },
  transparent: { value: "no", check: () => {} },
  "min-spare-children": { value: "5", check: (c) => assert.is(c.minSpareChildren, 5) },
  "max-children": { value: "50", check: (c) => assert.is(c.maxChildren, 50) },
  "max-handshake-time": { value: "30", check: (c) => assert.is(c.maxHandshakeTime, 30) },
  "network-user": { value: "titus", check: (c) => assert.is(c.networkUser, "titus") },
  "network-group": { value: "nogroup", check: (c) => assert.is(c.networkGroup, "nogroup") },
  "keyserver-user": { value: "titus-keys", check: (c) => assert.is(c.keyserverUser, "titus-keys") },
  "keyserver-group": { value: "65534", check: (c) => assert.is(c.keyserverGroup, "65534") },
  key: { value: "other.key", check: (c, dir) => assert.is(vhost0(c).key, join(dir, "other.key")) },
  cert: { value: "/etc/ssl/other.crt", check: (c) => assert.is(vhost0(c).cert, "/etc/ssl/other.crt") },
  backend: { value: "10.1.2.3", check: (c) => assert.equal(vhost0(c).backend, { kind: "tcp", host: "10.1.2.3", port: 8080 }) },
  "backend-port": { value: "9000", check: (c) => assert.equal(vhost0(c).backend, { kind: "tcp", host: "localhost", port: 9000 }) },
  ciphers: {
    value: "ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_256_GCM_SHA384",
    check: (c) => assert.equal(vhost0(c).tls.cipherSuites, [CipherSuite.TLS_AES_256_GCM_SHA384, Tls12Suite.ECDHE_RSA_WITH_AES_256_GCM_SHA384]),
  },
  "honor-client-cipher-order": { value: "yes", check: (c) => assert.is(vhost0(c).tls.serverCipherOrder, false) },
  ecdhcurve: { value: "prime256v1", check: (c) => assert.equal(vhost0(c).tls.groups, [NamedGroup.SECP256R1]) },
  compression: { value: "no", check: () => {} },
  sslv3: { value: "no", check: () => {} },
  tlsv1: { value: "off", check: () => {} },
  "tlsv1.1": { value: "0", check: () => {} },
  "tlsv1.2": { value: "no", check: (c) => assert.is(vhost0(c).tls.tls12, false) },
  vhost: { value: "", check: (c) => assert.is(c.vhosts.length, 1) },
  "local-address": { value: "127.0.0.1", check: (c) => assert.is(vhost0(c).match.localAddress, "127.0.0.1") },
  "local-port": { value: "443", check: (c) => assert.is(vhost0(c).match.localPort, 443) },
  "sni-name": { value: "WWW.Example.COM.", check: (c) => assert.is(vhost0(c).match.sniName, "www.example.com") },
  listen: { value: "[::1]:8443", check: (c) => assert.equal(c.listeners, [{ host: "::1", port: 8443 }]) },
  "tlsv1.3": { value: "no", check: (c) => assert.is(vhost0(c).tls.tls13, false) },
  groups: { value: "x25519:P-384", check: (c) => assert.equal(vhost0(c).tls.groups, [NamedGroup.X25519, NamedGroup.SECP384R1]) },
  alpn: { value: "h2,http/1.1", check: (c) => assert.equal(vhost0(c).tls.alpn, ["h2", "http/1.1"]) },
  "static-rsa": {
    value: "yes",
    check: (c) => {
      assert.is(vhost0(c).tls.staticRsa, true);
      assert.ok(vhost0(c).tls.cipherSuites.includes(Tls12Suite.RSA_WITH_AES_128_GCM_SHA256));
    },
  },
  "idle-timeout": { value: "60", check: (c) => assert.is(c.idleTimeout, 60) },
  workers: { value: "auto", check: (c) => assert.is(c.workers, "auto") },
  wasi: { value: "wasmer", check: (c) => assert.is(c.wasi, "wasmer") },
  "log-level": { value: "debug", check: (c) => assert.is(c.logLevel, "debug") },
  keyserver: { value: "local", check: (c) => assert.is(c.keyserver, "local") },
  chroot: { value: "/var/lib/titus/empty", check: (c) => assert.ok(c.warnings.some((w) => w.option === "chroot" && w.message.includes("sandbox"))) },
};

/** Options refused whatever their value, and a word of the reason each must give. */
const ALWAYS_REFUSED: Partial<Record<OptionName, [string, string]>> = {
  dhgroup: ["14", "ECDHE"],
};

/** Refused values of options with a harmless setting, and a word of the reason. */
const REFUSED_VALUES: [string, string, string][] = [
  ["sslv3", "yes", "POODLE"],
  ["tlsv1", "yes", "RFC 8996"],
  ["tlsv1.1", "on", "RFC 8996"],
  ["compression", "yes", "CRIME"],
  ["transparent", "yes", "IP_TRANSPARENT"],
  ["transparent", "backend-only", "IP_TRANSPARENT"],
  ["keyserver", "10.0.0.5:7000", "reserved"],
  ["keyserver", "unix:/run/keys.sock", "reserved"],
];

const EXTRA_FILES = { "extra.conf": "daemon yes\n", "conf.d/a.conf": "log-level debug\n" };

function textWith(name: string, value: string, inVhost: boolean): string {
  if (name === "vhost") return `${BASE}vhost\n  sni-name a.example\n`;
  const line = `${name} ${value}`;
  return inVhost ? `${BASE}vhost\n  ${line}\n` : `${BASE}${line}\n`;
}

test("every option in the table has a test here: a sample, or a refusal", () => {
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const covered = SAMPLES[name] !== undefined || ALWAYS_REFUSED[name] !== undefined || name === "check";
    assert.ok(covered, `option '${name}' has no sample in options.test.ts`);
  }
});

for (const [name, sample] of Object.entries(SAMPLES) as [OptionName, Sample][]) {
  const scope = OPTIONS[name].scope;
  const where: boolean[] = scope === "both" ? [false, true] : [scope === "vhost"];
  for (const inVhost of where) {
    test(`'${name} ${sample.value}' parses${inVhost ? " inside a vhost" : ""}`, () => {
      const dir = configDir(EXTRA_FILES);
      const config = configFromText(textWith(name, sample.value, inVhost), join(dir, "tlsbox.conf"), { cwd: dir });
      sample.check(config, dir);
    });
  }
  if (scope !== "vhost" && name !== "vhost") {
    test(`'--${name} ${sample.value}' parses on the command line`, () => {
      const dir = configDir(EXTRA_FILES);
      const argv = [...BASE_LINES.flatMap((l) => [`--${l.split(" ")[0]}`, l.split(" ")[1]!]), `--${name}`, sample.value];
      sample.check(loadConfig(argv, { cwd: dir }), dir);
    });
  }
}

for (const [name, [value, reason]] of Object.entries(ALWAYS_REFUSED) as [OptionName, [string, string]][]) {
  test(`'${name}' is refused with its reason, at top level and on the command line`, () => {
    const dir = configDir();
    const e = expectConfigError(() => configFromText(`${BASE}${name} ${value}\n`, join(dir, "tlsbox.conf"), { cwd: dir }), "REFUSED_OPTION", reason);
    assert.is(e.option, name);
    assert.is(e.file, "tlsbox.conf");
    assert.is(e.line, 5);
    assert.ok(e.message.startsWith(`tlsbox.conf:5: option '${name}' is not supported by tlsbox: `), e.message);
    expectConfigError(() => loadConfig([`--${name}`, value], { cwd: dir }), "REFUSED_OPTION", reason);
  });
}

for (const [name, value, reason] of REFUSED_VALUES) {
  test(`'${name} ${value}' is refused with its reason; the harmless value is accepted`, () => {
    const dir = configDir();
    const e = expectConfigError(() => configFromText(`${BASE}${name} ${value}\n`, join(dir, "t.conf"), { cwd: dir }), "REFUSED_OPTION", reason);
    assert.is(e.option, name);
    assert.ok(e.message.includes(`'${name} ${value}' is not supported by tlsbox`), e.message);
    assert.ok(/only '.*' is accepted/.test(e.message), e.message);
    if (OPTIONS[name as OptionName].scope === "both") {
      const inVhost = expectConfigError(() => configFromText(`${BASE}vhost\n\t${name} ${value}\n`, join(dir, "t.conf"), { cwd: dir }), "REFUSED_OPTION", reason);
      assert.is(inVhost.line, 6);
    }
  });
}

test("the check flag: only on the command line, and without a value", () => {
  const dir = configDir();
  assert.is(loadConfig(["--check", ...BASE_LINES.flatMap((l) => [`--${l.split(" ")[0]}`, l.split(" ")[1]!])], { cwd: dir }).check, true);
  expectConfigError(() => configFromText(`${BASE}check yes\n`, join(dir, "t.conf"), { cwd: dir }), "WRONG_SCOPE", "--check");
});

test("values are validated: each bad value names the option and what was expected", () => {
  const dir = configDir();
  const file = join(dir, "t.conf");
  const bad: [string, RegExp][] = [
    ["port 0", /bad value for 'port': 0 is out of range \(expected 1-65535\)/],
    ["port 65536", /out of range/],
    ["port https", /'https' is not a port number/],
    ["daemon maybe", /invalid yes\/no value 'maybe'/],
    ["max-children 0", /out of range/],
    ["max-handshake-time -1", /not a whole number/],
    ["network-user bad user", /not a user or group name/],
    ["backend 127.0.0.1:8080", /backend-port/],
    ["backend 999.1.1.1", /not a valid IPv4 address/],
    ["backend unix:", /socket path/],
    ["listen 1.2.3.4:http", /not a port number/],
    ["groups x448", /tlsbox implements x25519/],
    ["groups x25519,x25519", /already listed/],
    ["ecdhcurve secp521r1", /unsupported curve 'secp521r1'/],
    ["alpn h2,,http/1.1", /empty protocol name/],
    ["alpn h2,h2", /listed twice/],
    ["wasi wasmtime", /not one of minimal, wasmer/],
    ["log-level loud", /not one of error, warn, info, debug/],
    ["workers 0", /out of range/],
    ["ciphers RC4-SHA:DES-CBC3-SHA", /selects no cipher suite tlsbox implements/],
    ["ciphers HIGH:@SECLEVEL=2", /@SECLEVEL=2' is not supported/],
    ["keyserver somewhere", /needs a port/],
  ];
  for (const [line, message] of bad) {
    const e = expectConfigError(() => configFromText(`${BASE}${line}\n`, file, { cwd: dir }), "BAD_VALUE", message);
    assert.is(e.option, line.split(" ")[0]);
    assert.is(e.line, 5, line);
  }
  const vhostOnly: [string, RegExp][] = [
    ["sni-name *.example.com", /wildcards are not supported/],
    ["sni-name 192.0.2.1", /RFC 6066/],
    ["local-address not_a host", /not an IP address or host name/],
  ];
  for (const [line, message] of vhostOnly) {
    expectConfigError(() => configFromText(`${BASE}vhost\n  ${line}\n`, file, { cwd: dir }), "BAD_VALUE", message);
  }
});

test("a missing value is named with the option's syntax", () => {
  const dir = configDir();
  expectConfigError(() => configFromText(`${BASE}backend-port\n`, join(dir, "t.conf"), { cwd: dir }), "MISSING_VALUE", "option 'backend-port' needs a value: backend-port PORT");
});

test("the reference table has one row per option, refused ones marked with their reason", () => {
  const md = renderReference();
  const rows = md.trim().split("\n");
  assert.is(rows.length, 2 + Object.keys(OPTIONS).length);
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const row = rows.find((r) => r.startsWith(`| \`${name}\` |`));
    assert.ok(row !== undefined, `no row for ${name}`);
    if (spec.refused !== undefined) {
      assert.ok(row!.includes("**Refused"), row);
      assert.ok(row!.includes(spec.refused.reason.slice(0, 20).replace(/\|/g, "\\|")), row);
    }
    assert.is(row!.split(/(?<!\\)\|/).length, 7, `row for ${name} has the wrong number of cells: ${row}`);
  }
});

test("ConfigError is an Error with code, file, line, option", () => {
  const e = new ConfigError("BAD_VALUE", "a.conf", 3, "port", "bad");
  assert.instance(e, Error);
  assert.is(e.message, "a.conf:3: bad");
  assert.is(e.detail, "bad");
});

test.run();
