import { join } from "node:path";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ExitCode, checkMain, readConfiguration } from "../../src/config/cli";
import { configFromText, loadConfig, loadConfigFile, type Config } from "../../src/config/config";
import { COMMAND_LINE } from "../../src/config/errors";
import { MAX_INCLUDE_DEPTH, parseConfigText } from "../../src/config/parse";
import { BASE, configDir, expectConfigError } from "./helpers";

const test = suite("config parsing");

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

test("an unknown option names the file, the line and the option; the CLI exits with titus's config-error code", () => {
  const lines = [BASE.trim(), ...Array.from({ length: 7 }, () => "# padding"), "foo bar"].join("\n");
  const dir = configDir({ "tlsbox.conf": lines });
  const e = expectConfigError(() => loadConfigFile("tlsbox.conf", { cwd: dir }), "UNKNOWN_OPTION");
  assert.is(e.file, "tlsbox.conf");
  assert.is(e.line, 12);
  assert.is(e.option, "foo");
  assert.ok(e.message.startsWith("tlsbox.conf:12: unknown option 'foo'"), e.message);
  const { err, io } = capture();
  const outcome = readConfiguration(["--config", "tlsbox.conf"], io, { cwd: dir });
  assert.equal(outcome, { ok: false, exitCode: ExitCode.CONFIG_ERROR });
  assert.is(ExitCode.CONFIG_ERROR, 5);
  assert.ok(err[0]!.includes("tlsbox.conf:12: unknown option 'foo'"), err[0]);
});

test("unknown options: a near miss gets a suggestion; inside includes and vhosts the location is exact", () => {
  const dir = configDir({ "main.conf": `${BASE}config sub/extra.conf\n`, "sub/extra.conf": "\n\nvhost\n  sni-name a.example\n  ciphres HIGH\n" });
  const e = expectConfigError(() => loadConfigFile(join(dir, "main.conf"), { cwd: dir }), "UNKNOWN_OPTION", "(did you mean 'ciphers'?)");
  assert.is(e.file, join("sub", "extra.conf"));
  assert.is(e.line, 5);
  assert.is(e.option, "ciphres");
  assert.ok(e.message.includes("in vhost block"), e.message);
});

test("on the command line an unknown option names the argument", () => {
  const e = expectConfigError(() => loadConfig(["--port", "443", "--foo", "bar"]), "UNKNOWN_OPTION");
  assert.is(e.file, COMMAND_LINE);
  assert.is(e.line, 3);
  assert.ok(e.message.startsWith("command line, argument 3: unknown option 'foo'"), e.message);
});

test("malformed command lines are titus's 'bad arguments' (exit 2)", () => {
  for (const argv of [["stray"], ["--port"], ["--port=443"], ["--", "x"], ["-p", "443"]]) {
    const e = expectConfigError(() => loadConfig(argv), "BAD_ARGUMENTS");
    const { io } = capture();
    assert.equal(readConfiguration(argv, io), { ok: false, exitCode: ExitCode.BAD_ARGUMENTS }, e.message);
  }
  expectConfigError(() => loadConfig(["--port=443"]), "BAD_ARGUMENTS", "'--port VALUE' as two arguments");
});

function comparable(c: Config): unknown {
  return { ...c, files: [], warnings: [], check: false };
}

test("the command-line form and the file form of the same options give the same Config", () => {
  const dir = configDir({ "ex.conf": "max-children 7\n" });
  const pairs: [string, string][] = [
    ["port", "443"], ["listen", "127.0.0.1"], ["listen", "[::1]:8443"], ["key", "keys/site.key"], ["cert", "certs/site.crt"],
    ["backend", "unix:run/app.sock"], ["ciphers", "ECDHE+AESGCM:!AES128"], ["honor-client-cipher-order", "yes"],
    ["groups", "P-256:x25519"], ["alpn", "h2,http/1.1"], ["tlsv1.3", "yes"], ["tlsv1.2", "yes"], ["sslv3", "no"],
    ["daemon", "yes"], ["pid-file", "tlsbox.pid"], ["network-user", "tlsbox"], ["keyserver-user", "tlsbox-keys"],
    ["min-spare-children", "2"], ["max-handshake-time", "5"], ["idle-timeout", "120"], ["workers", "4"],
    ["wasi", "wasmer"], ["log-level", "warn"], ["static-rsa", "no"], ["config", "ex.conf"],
  ];
  const fromArgs = loadConfig(pairs.flatMap(([n, v]) => [`--${n}`, v]), { cwd: dir });
  const fromFile = configFromText(pairs.map(([n, v]) => `${n}\t${v}`).join("\n"), join(dir, "tlsbox.conf"), { cwd: dir });
  assert.equal(comparable(fromArgs), comparable(fromFile));
  assert.is(fromArgs.maxChildren, 7);
  assert.equal(fromArgs.vhosts[0]!.backend, { kind: "unix", path: join(dir, "run/app.sock") });
});

test("file syntax: comments, blank lines, trailing whitespace, CRLF, values with spaces, \"\"", () => {
  const dir = configDir();
  const text = [
    "# a comment", "", "   ", "port 443   ", "\t# an indented comment", "key key.pem\r", "cert   my certs/site.crt", "backend-port\t\t8080",
    "vhost", "  sni-name \"\"", "vhost", "  sni-name b.example",
  ].join("\n");
  const c = configFromText(text, join(dir, "t.conf"), { cwd: dir });
  assert.equal(c.listeners, [{ host: null, port: 443 }]);
  assert.is(c.vhosts[0]!.cert, join(dir, "my certs/site.crt"));
  assert.is(c.vhosts[0]!.match.sniName, "");
  assert.is(c.vhosts[1]!.match.sniName, "b.example");
  // A '#' after a value belongs to the value, as in titus: the error shows it.
  expectConfigError(() => configFromText(`${BASE}max-children 10 # ten\n`, join(dir, "t.conf"), { cwd: dir }), "BAD_VALUE", "'10 # ten'");
  expectConfigError(() => configFromText(`${BASE}daemon\x01 yes\n`, join(dir, "t.conf"), { cwd: dir }), "BAD_SYNTAX", "control character 0x01");
  expectConfigError(() => configFromText(`${BASE}\x00\x00\x00`, join(dir, "t.conf"), { cwd: dir }), "BAD_SYNTAX", "binary file");
});

test("vhost blocks: indented lines belong to the block, the first unindented line ends it", () => {
  const dir = configDir();
  const text = [
    "port 443", "key default.key", "cert default.crt", "backend 127.0.0.1", "backend-port 8080", "alpn http/1.1",
    "vhost",
    "  sni-name a.example",
    "",
    "# a comment at column 0 does not end the block",
    "\tkey a.key",
    "\tcert a.crt",
    "  alpn h2,http/1.1",
    "vhost",
    "  local-port 443",
    "  sni-name \"\"",
    "  backend-port 9090",
    "max-children 10",
    "vhost",
  ].join("\n");
  const c = configFromText(text, join(dir, "t.conf"), { cwd: dir });
  assert.is(c.vhosts.length, 3);
  const [a, b, last] = c.vhosts;
  assert.equal(a!.match, { localAddress: null, localPort: null, sniName: "a.example" });
  assert.is(a!.key, join(dir, "a.key"));
  assert.equal(a!.tls.alpn, ["h2", "http/1.1"]);
  assert.equal(a!.at, { file: "t.conf", line: 7 });
  assert.equal(b!.match, { localAddress: null, localPort: 443, sniName: "" });
  assert.is(b!.key, join(dir, "default.key"), "inherited from the top level");
  assert.equal(b!.backend, { kind: "tcp", host: "127.0.0.1", port: 9090 });
  assert.equal(b!.tls.alpn, ["http/1.1"]);
  assert.is(c.maxChildren, 10, "the unindented line after a block is global");
  assert.equal(last!.match, { localAddress: null, localPort: null, sniName: null });
});

test("vhost syntax errors say how to write it", () => {
  const dir = configDir();
  const f = join(dir, "t.conf");
  expectConfigError(() => configFromText(`${BASE}vhost a.example\n`, f, { cwd: dir }), "BAD_SYNTAX", "'vhost' stands alone on its line");
  expectConfigError(() => configFromText(`${BASE}vhost\n  sni-name a.example\n  vhost\n`, f, { cwd: dir }), "BAD_SYNTAX", "cannot contain 'vhost'");
  const g = expectConfigError(() => configFromText(`${BASE}vhost\n  max-children 3\n`, f, { cwd: dir }), "WRONG_SCOPE", "option 'max-children' is global");
  assert.is(g.line, 6);
  expectConfigError(() => configFromText(`${BASE}sni-name a.example\n`, f, { cwd: dir }), "WRONG_SCOPE", "only means something inside a vhost block");
  expectConfigError(() => configFromText(`${BASE}vhost\n  config other.conf\n`, f, { cwd: dir }), "WRONG_SCOPE");
  expectConfigError(() => loadConfig(["--vhost", "x"]), "WRONG_SCOPE", "only be written in a config file");
  expectConfigError(() => loadConfig(["--sni-name", "a.example"]), "WRONG_SCOPE", "vhost block");
});

test("includes: paths relative to the including file, in order, later settings win", () => {
  const dir = configDir({
    "etc/main.conf": `${BASE}config parts/one.conf\nmax-children 20\n`,
    "etc/parts/one.conf": "max-children 10\nconfig two.conf\n",
    "etc/parts/two.conf": "vhost\n  sni-name two.example\n  key two.key\n",
  });
  const c = loadConfigFile(join(dir, "etc/main.conf"), { cwd: dir });
  assert.is(c.maxChildren, 20);
  assert.is(c.vhosts[0]!.key, join(dir, "etc/parts/two.key"));
  assert.is(c.vhosts[0]!.cert, join(dir, "etc/cert.pem"));
  assert.equal(c.files, ["etc/main.conf", "etc/parts/one.conf", "etc/parts/two.conf"].map((f) => join(dir, f)));
});

test("a setting repeated in one file is a warning, not an error; across files it is the normal override", () => {
  const dir = configDir({ "defaults.conf": "max-children 5\n" });
  const c = configFromText(`${BASE}config defaults.conf\nmax-children 6\nmax-children 7\n`, join(dir, "t.conf"), { cwd: dir });
  assert.is(c.maxChildren, 7);
  assert.equal(c.warnings.map((w) => [w.line, w.option]), [[7, "max-children"]]);
  assert.ok(c.warnings[0]!.message.includes("replaces the value from line 6"));
});

test("config-directory: non-hidden files in lexicographic order; subdirectories skipped with a warning", () => {
  const dir = configDir({
    "conf.d/20-b.conf": "max-children 20\n",
    "conf.d/10-a.conf": "max-children 10\nlog-level warn\n",
    "conf.d/.hidden.conf": "no-such-option here\n",
    "conf.d/sub/x.conf": "no-such-option here\n",
  });
  const c = configFromText(`${BASE}config-directory conf.d\n`, join(dir, "t.conf"), { cwd: dir });
  assert.is(c.maxChildren, 20);
  assert.is(c.logLevel, "warn");
  assert.is(c.warnings.length, 1);
  assert.ok(c.warnings[0]!.message.includes("skipped subdirectory"));
  expectConfigError(() => configFromText(`${BASE}config-directory nowhere\n`, join(dir, "t.conf"), { cwd: dir }), "INCLUDE_FAILED", "no such file or directory");
});

test("unreadable includes are reported at the line that names them", () => {
  const dir = configDir({ "t.conf": `${BASE}\nconfig missing.conf\n` });
  const e = expectConfigError(() => loadConfigFile(join(dir, "t.conf"), { cwd: dir }), "INCLUDE_FAILED", "cannot read config file 'missing.conf': no such file");
  assert.equal([e.file, e.line, e.option], ["t.conf", 6, "config"]);
  expectConfigError(() => loadConfig(["--config", "nope.conf"], { cwd: dir }), "INCLUDE_FAILED", "command line, argument 1: cannot read config file");
  mkdirSync(join(dir, "adir"));
  expectConfigError(() => loadConfig(["--config", "adir"], { cwd: dir }), "INCLUDE_FAILED", "use config-directory");
});

test("include cycles are detected and the chain is shown", () => {
  const dir = configDir({
    "a.conf": `${BASE}config b.conf\n`,
    "b.conf": "\nconfig c.conf\n",
    "c.conf": "config a.conf\n",
    "self.conf": "config ./self.conf\n",
    "d/loop.conf": "config-directory .\n",
  });
  const e = expectConfigError(() => loadConfigFile(join(dir, "a.conf"), { cwd: dir }), "INCLUDE_CYCLE", "a.conf -> b.conf -> c.conf -> a.conf");
  assert.equal([e.file, e.line], ["c.conf", 1]);
  expectConfigError(() => loadConfigFile(join(dir, "self.conf"), { cwd: dir }), "INCLUDE_CYCLE", "self.conf -> self.conf");
  expectConfigError(() => loadConfigFile(join(dir, "d/loop.conf"), { cwd: dir }), "INCLUDE_CYCLE");
  symlinkSync(join(dir, "a.conf"), join(dir, "link.conf"));
  writeFileSync(join(dir, "c.conf"), "config link.conf\n");
  expectConfigError(() => loadConfigFile(join(dir, "a.conf"), { cwd: dir }), "INCLUDE_CYCLE", "link.conf");
});

test("the same file included twice (not a cycle) is fine; nesting is bounded", () => {
  const dir = configDir({ "common.conf": "max-children 9\n", "x.conf": "config common.conf\n", "y.conf": "config common.conf\n" });
  const c = configFromText(`${BASE}config x.conf\nconfig y.conf\n`, join(dir, "t.conf"), { cwd: dir });
  assert.is(c.maxChildren, 9);
  const files: Record<string, string> = {};
  for (let i = 0; i < MAX_INCLUDE_DEPTH + 2; i++) files[`n${i}.conf`] = `config n${i + 1}.conf\n`;
  files[`n${MAX_INCLUDE_DEPTH + 2}.conf`] = "";
  const deep = configDir(files);
  expectConfigError(() => loadConfigFile(join(deep, "n0.conf"), { cwd: deep }), "INCLUDE_TOO_DEEP");
});

test("--check: exit 0 and a summary for a usable config, 5 and the error otherwise", () => {
  const dir = configDir({ "good.conf": BASE, "bad.conf": `${BASE}sslv3 yes\n` });
  let io = capture();
  assert.is(checkMain(["--config", "good.conf"], io.io, { cwd: dir }), ExitCode.OK);
  assert.match(io.out[0]!, /configuration OK: 1 vhost, listening on \*:443/);
  io = capture();
  assert.is(checkMain(["--check", "--config", "bad.conf"], io.io, { cwd: dir }), ExitCode.CONFIG_ERROR);
  assert.match(io.err[0]!, /configuration error: bad.conf:5: 'sslv3 yes' is not supported by tlsbox: SSLv3 is broken/);
  io = capture();
  const outcome = readConfiguration(["--config", "good.conf", "--check"], io.io, { cwd: dir });
  assert.ok(outcome.ok && outcome.config.check);
});

test("warnings are printed by the CLI with their location", () => {
  const dir = configDir({ "w.conf": `${BASE}ciphers ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256\n` });
  const io = capture();
  assert.is(checkMain(["--config", "w.conf"], io.io, { cwd: dir }), ExitCode.OK);
  assert.equal(io.err, ["tlsbox: warning: w.conf:5: cipher-list element 'DHE-RSA-AES128-GCM-SHA256' matches no suite tlsbox implements; skipped"]);
});

test("parseConfigText keeps every setting with its location", () => {
  const raw = parseConfigText(`${BASE}vhost\n  sni-name a.example\n`, "/virtual/t.conf", { cwd: "/virtual" });
  assert.equal(raw.global.get("port"), { value: 443, at: { file: "t.conf", line: 1 } });
  assert.equal(raw.vhosts[0]!.scope.get("sni-name"), { value: "a.example", at: { file: "t.conf", line: 6 } });
});

test.run();
