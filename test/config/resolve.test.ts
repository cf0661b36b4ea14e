import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CipherSuite, NamedGroup } from "../../wasm/abi";
import { Tls12Suite, suiteName } from "../../src/config/ciphers";
import { configFromText, loadConfigFile } from "../../src/config/config";
import { BASE, configDir, expectConfigError } from "./helpers";
import { TITUS_EXAMPLE, titusExample } from "../helpers/titus-example";

const test = suite("config resolution");

const dir = configDir();
const file = join(dir, "tlsbox.conf");
const parse = (text: string) => configFromText(text, file, { cwd: dir });
const names = (ids: readonly number[]) => ids.map(suiteName);

test("defaults: titus's where tlsbox can keep them", () => {
  const c = parse(BASE);
  assert.is(c.daemon, false);
  assert.is(c.pidFile, null);
  assert.equal(c.listeners, [{ host: null, port: 443 }]);
  assert.is(c.minSpareChildren, 3);
  assert.is(c.maxChildren, 100);
  assert.is(c.maxHandshakeTime, 10);
  assert.is(c.idleTimeout, 0);
  assert.is(c.workers, "auto"); // issue 4: one worker per core by default
  assert.is(c.wasi, "minimal");
  assert.is(c.logLevel, "info");
  assert.is(c.keyserver, "local");
  assert.equal([c.networkUser, c.networkGroup, c.keyserverUser, c.keyserverGroup], [null, null, null, null]);
  assert.is(c.vhosts.length, 1);
  const v = c.vhosts[0]!;
  assert.is(v.at, null);
  assert.equal(v.match, { localAddress: null, localPort: null, sniName: null });
  assert.equal(v.backend, { kind: "tcp", host: "localhost", port: 8080 });
  assert.equal(v.tls, {
    tls12: true,
    tls13: true,
    // ChaCha20-Poly1305 first: the fastest suite in the sandbox (src/config/ciphers.ts).
    cipherSuites: [
      CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384,
      Tls12Suite.ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, Tls12Suite.ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
      Tls12Suite.ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, Tls12Suite.ECDHE_RSA_WITH_AES_128_GCM_SHA256,
      Tls12Suite.ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, Tls12Suite.ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ],
    serverCipherOrder: true,
    groups: [NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1],
    alpn: [],
    staticRsa: false,
  });
  assert.equal(c.warnings, []);
});

test("every vhost needs a key, a cert and a backend, inherited or its own", () => {
  const e = expectConfigError(() => parse("port 443\nkey k.pem\nbackend-port 80\n"), "INCOMPLETE_VHOST", "has no 'cert'");
  assert.is(e.file, "tlsbox.conf");
  const v = expectConfigError(() => parse("port 443\ncert c.pem\nbackend-port 80\nvhost\n  sni-name a.example\n  key a.key\nvhost\n  sni-name b.example\n"),
    "INCOMPLETE_VHOST", "the vhost at tlsbox.conf:7 has no 'key'");
  assert.is(v.line, 7);
  expectConfigError(() => parse("port 443\nkey k.pem\ncert c.pem\nbackend 10.0.0.1\n"), "INCOMPLETE_VHOST", "has no 'backend-port'");
  expectConfigError(() => parse("port 443\nkey same.pem\ncert same.pem\nbackend-port 80\n"), "CONFLICT", "one file for key and cert");
});

test("UNIX-socket backends, and backend-port where it cannot apply", () => {
  const c = parse("port 443\nkey k\ncert c\nbackend unix:sock/app.sock\n");
  assert.equal(c.vhosts[0]!.backend, { kind: "unix", path: join(dir, "sock/app.sock") });
  expectConfigError(() => parse("port 443\nkey k\ncert c\nbackend unix:/a.sock\nbackend-port 80\n"), "CONFLICT", "backend-port has no meaning");
  expectConfigError(() => parse("port 443\nkey k\ncert c\nbackend unix:/a.sock\nvhost\n  backend-port 80\n"), "CONFLICT", "set 'backend HOST' in it too");
  const mixed = parse("port 443\nkey k\ncert c\nbackend-port 80\nvhost\n  sni-name a.example\n  backend unix:/a.sock\nvhost\n");
  assert.equal(mixed.vhosts.map((v) => v.backend.kind), ["unix", "tcp"]);
});

test("listening: port, listen addresses, and their conflicts", () => {
  expectConfigError(() => parse("key k\ncert c\nbackend-port 80\n"), "NO_LISTENER", "no port to listen on");
  expectConfigError(() => parse("key k\ncert c\nbackend-port 80\nlisten 127.0.0.1\n"), "NO_LISTENER", "'listen' gives no port");
  const c = parse("port 443\nkey k\ncert c\nbackend-port 80\nlisten 127.0.0.1\nlisten [::1]:8443\nlisten *:9443\n");
  assert.equal(c.listeners, [{ host: "127.0.0.1", port: 443 }, { host: "::1", port: 8443 }, { host: null, port: 9443 }]);
  expectConfigError(() => parse(`${BASE}listen 127.0.0.1\nlisten 127.0.0.1:443\n`), "CONFLICT", "listed twice");
  expectConfigError(() => parse(`${BASE}listen 443\nlisten 127.0.0.1\n`), "CONFLICT", "overlaps");
});

test("routes: a vhost that an earlier one always pre-empts is an error", () => {
  const shadowed = expectConfigError(() => parse(`${BASE}vhost\n  key a.key\nvhost\n  sni-name b.example\n`), "AMBIGUOUS_ROUTE",
    "the vhost at tlsbox.conf:7 can never be used: the vhost at tlsbox.conf:5 comes first");
  assert.is(shadowed.line, 7);
  expectConfigError(() => parse(`${BASE}vhost\n  sni-name A.example\nvhost\n  sni-name a.example.\n`), "AMBIGUOUS_ROUTE");
  expectConfigError(() => parse(`${BASE}vhost\n  local-port 443\nvhost\n  local-port 443\n  sni-name b.example\n`), "AMBIGUOUS_ROUTE");
  expectConfigError(() => parse(`${BASE}vhost\n  local-port 8443\n`), "AMBIGUOUS_ROUTE", "listens only on port 443");
  expectConfigError(() => parse(`${BASE}listen 127.0.0.1\nvhost\n  local-address 10.0.0.1\n`), "AMBIGUOUS_ROUTE", "local-address 10.0.0.1");
  // Specific first, catch-all last: titus's recommended layout.
  const ok = parse(`${BASE}vhost\n  sni-name a.example\nvhost\n  sni-name \"\"\nvhost\n  local-address ::1\nvhost\n`);
  assert.is(ok.vhosts.length, 4);
});

test("the key server and the workers must not share a user", () => {
  expectConfigError(() => parse(`${BASE}network-user tlsbox\nkeyserver-user tlsbox\n`), "CONFLICT", "use a separate account");
});

test("TLS versions: only 1.2 and 1.3, at least one of them", () => {
  expectConfigError(() => parse(`${BASE}tlsv1.2 no\ntlsv1.3 no\n`), "CONFLICT", "disables both TLS 1.2 and TLS 1.3");
  const v = parse(`${BASE}tlsv1.2 no\nvhost\n  tlsv1.2 yes\n  tlsv1.3 no\n`).vhosts[0]!;
  assert.equal([v.tls.tls12, v.tls.tls13], [true, false]);
});

test("cipher strings: names, aliases, !, -, +, @STRENGTH, as OpenSSL reads them", () => {
  const suites = (ciphers: string, extra = "") => names(parse(`${BASE}${extra}ciphers ${ciphers}\n`).vhosts[0]!.tls.cipherSuites);
  const all13 = ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"];
  assert.equal(suites("ECDHE-RSA-AES256-GCM-SHA384"), [...all13, "ECDHE-RSA-AES256-GCM-SHA384"]);
  assert.equal(suites("ECDHE+AESGCM:!ECDSA"), [...all13, "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]);
  assert.equal(suites("HIGH:!aNULL:!MD5:!AES128"), [...all13, "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"]);
  assert.equal(suites("aRSA:-CHACHA20:+AES128"), [...all13, "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]);
  assert.equal(suites("ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384 @STRENGTH"), [...all13, "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]);
  // TLS 1.3 names choose the TLS 1.3 set and order; without any, all three are offered.
  assert.equal(suites("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"),
    ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"]);
  assert.equal(suites("ALL:!TLS_AES_128_GCM_SHA256").slice(0, 2), ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384"]);
  // IANA names are accepted too.
  assert.equal(suites("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), [...all13, "ECDHE-RSA-CHACHA20-POLY1305"]);
  // Static RSA only with static-rsa yes.
  assert.equal(suites("kRSA", "static-rsa yes\n"), [...all13, "AES128-GCM-SHA256", "AES256-GCM-SHA384"]);
  expectConfigError(() => parse(`${BASE}ciphers AES128-GCM-SHA256\n`), "BAD_VALUE", "set 'static-rsa yes'");
  // A TLS 1.3-only list leaves TLS 1.2 without suites: a warning while TLS 1.2 is on, fine when it is off.
  const only13 = parse(`${BASE}ciphers TLS_AES_128_GCM_SHA256\n`);
  assert.ok(only13.warnings.some((w) => w.message.includes("TLS 1.2 clients will fail")));
  assert.equal(parse(`${BASE}ciphers TLS_AES_128_GCM_SHA256\ntlsv1.2 no\n`).warnings, []);
  expectConfigError(() => parse(`${BASE}ciphers ECDHE-RSA-AES128-GCM-SHA256\ntlsv1.3 no\ntlsv1.2 no\n`), "CONFLICT");
  expectConfigError(() => parse(`${BASE}ciphers ECDHE-RSA-AES128-GCM-SHA256:!TLS_AES_128_GCM_SHA256:!TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256\ntlsv1.2 no\n`), "CONFLICT", "leaves no cipher suite");
  expectConfigError(() => parse(`${BASE}ciphers ECDHE-RSA-AES128-GCM-SHA256+\n`), "BAD_VALUE", "malformed cipher-list element");
});

test("a cipher error found for one vhost is reported where the list was written", () => {
  const e = expectConfigError(() => parse(`${BASE}ciphers AES128-GCM-SHA256\nvhost\n  sni-name a.example\n  static-rsa yes\nvhost\n`), "BAD_VALUE", "inherited by the vhost at tlsbox.conf:9");
  assert.is(e.line, 5);
});

test("groups and ecdhcurve", () => {
  const groups = (text: string) => parse(`${BASE}${text}`).vhosts.map((v) => v.tls.groups);
  assert.equal(groups("ecdhcurve secp384r1\n"), [[NamedGroup.SECP384R1]]);
  assert.equal(groups("groups secp256r1,x25519\n"), [[NamedGroup.SECP256R1, NamedGroup.X25519]]);
  assert.equal(groups("groups x25519\nvhost\n  sni-name a.example\n  ecdhcurve P-256\nvhost\n"), [[NamedGroup.SECP256R1], [NamedGroup.X25519]]);
  expectConfigError(() => parse(`${BASE}groups x25519\necdhcurve prime256v1\n`), "CONFLICT", "keep one");
});

test("a warning when min-spare-children exceeds max-children, and when a daemon has no pid-file", () => {
  const c = parse(`${BASE}min-spare-children 20\nmax-children 10\ndaemon yes\n`);
  assert.is(c.minSpareChildren, 10);
  assert.equal(c.warnings.map((w) => w.option), ["min-spare-children", "daemon"]);
});


test("titus's example config starts unchanged; its chroot line is accepted with a warning saying why it is not applied", () => {
  const root = configDir({ "titus.conf": titusExample(dir) });
  const c = loadConfigFile(join(root, "titus.conf"), { cwd: root });
  assert.equal(c.listeners, [{ host: null, port: 443 }]);
  assert.equal([c.networkUser, c.networkGroup, c.keyserverUser, c.keyserverGroup], ["titus", "nogroup", "titus-keys", "nogroup"]);
  assert.is(c.vhosts.length, 1);
  assert.equal(c.vhosts[0]!.backend, { kind: "tcp", host: "127.0.0.1", port: 8443 });
  assert.is(c.vhosts[0]!.key, join(dir, "private/www.example.com.key"));
  assert.is(c.vhosts[0]!.cert, join(dir, "certs/www.example.com.chained.crt"));
  assert.is(c.warnings.length, 1);
  assert.equal([c.warnings[0]!.file, c.warnings[0]!.line, c.warnings[0]!.option], ["titus.conf", 33, "chroot"]);
  assert.match(c.warnings[0]!.message, "WebAssembly sandbox");
});

test("titus's example with its commented TLS settings switched on: what tlsbox does with each", () => {
  const tls = (line: string) => parse(`${BASE}${line}\n`);
  const ciphers = /^#ciphers\t+(.*)$/m.exec(TITUS_EXAMPLE)![1]!;
  const c = tls(`ciphers ${ciphers}`);
  assert.equal(names(c.vhosts[0]!.tls.cipherSuites).slice(3), ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]);
  assert.is(c.warnings.length, 22, "each skipped name is reported");
  assert.ok(c.warnings.some((w) => w.message.includes("'RC4-SHA'")));
  expectConfigError(() => tls("dhgroup 14"), "REFUSED_OPTION");
  expectConfigError(() => tls("ecdhcurve secp521r1"), "BAD_VALUE");
  expectConfigError(() => tls("tlsv1 yes"), "REFUSED_OPTION");
  expectConfigError(() => tls("tlsv1.1 yes"), "REFUSED_OPTION");
  for (const ok of ["compression no", "sslv3 no", "tlsv1.2 yes", "honor-client-cipher-order no", "daemon yes\npid-file /var/run/titus.pid", "transparent no", "min-spare-children 3", "max-children 100", "max-handshake-time 10"]) {
    tls(ok);
  }
});

test.run();
