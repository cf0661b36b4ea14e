// Paths inside the repository, found from the running file (tests run from build/test/...).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the repository root above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRoot();

/** A JSON test-vector file from test/vectors/ (never from ../shared: tests run on a fresh clone). */
export function loadVectors<T = any>(relativePath: string): T {
  return JSON.parse(readFileSync(join(REPO_ROOT, "test", "vectors", relativePath), "utf8")) as T;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}
