// The README's configuration reference is generated from the option table the parser uses
// (src/config/options.ts), so the documentation cannot drift from the code. After changing an
// option, regenerate the section with:  TLSBOX_UPDATE_README=1 npm test
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { renderReference } from "../../src/config/reference";
import { REPO_ROOT } from "../helpers/repo";

const BEGIN = "<!-- config-reference:begin (generated from src/config/options.ts) -->";
const END = "<!-- config-reference:end -->";
const README = join(REPO_ROOT, "README.md");

const test = suite("README");

test("the configuration reference matches the option table", () => {
  const text = readFileSync(README, "utf8");
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  assert.ok(start >= 0 && end > start, `README.md has no ${BEGIN} … ${END} section`);
  const current = text.slice(start + BEGIN.length, end).trim();
  const expected = renderReference().trim();
  if (current !== expected && process.env.TLSBOX_UPDATE_README === "1") {
    writeFileSync(README, `${text.slice(0, start + BEGIN.length)}\n${expected}\n${text.slice(end)}`);
    return;
  }
  assert.ok(current === expected, "README.md's configuration reference is out of date: run TLSBOX_UPDATE_README=1 npm test");
});

test.run();
