// Temporary directories with config files, and assertions about ConfigErrors.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as assert from "uvu/assert";
import { ConfigError, type ConfigErrorCode } from "../../src/config/errors";

/** A fresh directory holding `files` (path relative to it → content). Returns its absolute path. */
export function configDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "tlsbox-config-"));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** Runs `fn`, which must throw a ConfigError with `code`; returns it for further checks. */
export function expectConfigError(fn: () => unknown, code: ConfigErrorCode, messagePart?: string | RegExp): ConfigError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.is(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (typeof messagePart === "string") assert.ok(error.message.includes(messagePart), `message lacks '${messagePart}': ${error.message}`);
    else if (messagePart !== undefined) assert.match(error.message, messagePart);
    return error;
  }
  assert.unreachable(`expected a ConfigError ${code}`);
  throw new Error("unreachable");
}

/** Lines that make a minimal valid config (relative key/cert paths: they are not read). */
export const BASE_LINES = ["port 443", "key key.pem", "cert cert.pem", "backend-port 8080"];
export const BASE = `${BASE_LINES.join("\n")}\n`;
