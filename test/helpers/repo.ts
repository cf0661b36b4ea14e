// Paths inside the repository, and hex helpers.
import { readFileSync } from "node:fs";
import { join } from "node:path";

// Set by build.mjs (esbuild `define`): the directory the build ran in.
declare const __TLSBOX_REPO_ROOT__: string;

export const REPO_ROOT: string = __TLSBOX_REPO_ROOT__;

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
