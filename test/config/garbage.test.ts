// Property test: whatever the lines or arguments, the configuration layer either returns a Config
// or throws a ConfigError; never a TypeError, a RangeError or a hang.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { configFromText, loadConfig, loadConfigFile } from "../../src/config/config";
import { ConfigError } from "../../src/config/errors";
import { OPTIONS } from "../../src/config/options";
import { configDir } from "./helpers";

const test = suite("config garbage");

/** xorshift32: reproducible, so a failure can be replayed from its seed. */
function rng(seed: number) {
  let x = seed | 0 || 1;
  const next = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof rng>;

const NAMES = [...Object.keys(OPTIONS), "vhost", "foo", "", "#", "--port", "Port", "ciphers=", "\u00e9t\u00e9", "config", "config-directory"];
const VALUES = [
  "", "\"\"", "\"", "yes", "no", "0", "1", "443", "65535", "65536", "-1", "99999999999999999999", "1e3", "0x10", "NaN",
  "127.0.0.1", "::1", "[::1]", "[::1]:443", "*:443", "*", "a.example", "A.EXAMPLE.", "*.example", "..", "-", "_",
  "unix:", "unix:/tmp/s", "unix:rel", "key.pem", "/abs/path", "self.conf", "garbage.conf", ".", "missing.conf", "conf.d",
  "HIGH", "ALL:!ALL", "@STRENGTH", "@SECLEVEL=1", "+", "!", "-", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256", "kRSA",
  "x25519:P-256", "x25519,x25519", "secp521r1", "h2,http/1.1", ",", "h2,,", "a".repeat(300), "auto", "minimal", "wasmer",
  "debug", "backend-only", "local", "host:1", "10.0.0.1:99999", "\u202e\u0000x", "\t", " # c", "\ud800", "\u{1f600}", "constructor", "__proto__",
];
const INDENTS = ["", "", "", " ", "\t", "  ", " \t"];

function garbageLine(r: Rng): string {
  if (r.chance(0.05)) return r.pick(["", "#", "vhost", "  ", "\r", "\u0000", "\x07bell", "vhost x", "\uFEFFport 1"]);
  if (r.chance(0.05)) {
    let s = "";
    for (let i = r.int(20); i > 0; i--) s += String.fromCharCode(r.int(r.chance(0.5) ? 128 : 0x3000));
    return s;
  }
  const sep = r.pick([" ", "\t", "  ", "", "="]);
  return `${r.pick(INDENTS)}${r.pick(NAMES)}${sep}${r.pick(VALUES)}${r.chance(0.1) ? " " : ""}`;
}

test("random config files throw nothing but ConfigError", () => {
  const dir = configDir({ "key.pem": "", "conf.d/a.conf": "port 443\n", "garbage.conf": "" });
  const file = join(dir, "self.conf");
  let accepted = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(seed);
    const lines = Array.from({ length: 1 + r.int(12) }, () => garbageLine(r));
    if (r.chance(0.5)) lines.unshift("port 443", "key k", "cert c", "backend-port 80");
    const text = lines.join(r.chance(0.1) ? "\r\n" : "\n");
    const attempts = [() => configFromText(text, file, { cwd: dir })];
    // Writing files is the slow part: put the text on disk (where includes find it) every 10th seed.
    if (seed % 10 === 0) {
      writeFileSync(file, text);
      writeFileSync(join(dir, "garbage.conf"), Array.from({ length: r.int(4) }, () => garbageLine(r)).join("\n"));
      attempts.push(() => loadConfigFile(file, { cwd: dir }));
    }
    for (const attempt of attempts) {
      try {
        attempt();
        accepted++;
      } catch (error) {
        if (!(error instanceof ConfigError)) {
          assert.unreachable(`seed ${seed}: ${String(error)}\n--- config ---\n${JSON.stringify(text)}`);
          throw error;
        }
        assert.ok(error.message.length > 0 && error.line >= 0, `seed ${seed}: empty error`);
      }
    }
  }
  assert.ok(accepted > 0, "the generator should produce some valid configs too");
});

test("random command lines throw nothing but ConfigError", () => {
  const dir = configDir({ "garbage.conf": "port 1\n" });
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(seed * 7919);
    const argv: string[] = [];
    for (let i = r.int(10); i > 0; i--) {
      argv.push(r.chance(0.7) ? `--${r.pick(NAMES)}` : r.pick(["--check", "-", "--", "x", "--=", "--port=1"]));
      if (r.chance(0.9)) argv.push(r.pick(VALUES));
    }
    try {
      loadConfig(argv, { cwd: dir });
    } catch (error) {
      if (!(error instanceof ConfigError)) assert.unreachable(`seed ${seed}: ${String(error)}\nargv: ${JSON.stringify(argv)}`);
    }
  }
});

test.run();
