// The engine switch of the lab program — in every normal build, this file: there is no switch.
//
// `node build.mjs --lab --out DIR` also bundles DIR/tlsbox-lab.mjs, the program with
// lab-engines.lab.ts in this file's place (the build swaps the import), so the isolation lab can
// run its deliberately vulnerable engines inside the real proxy. dist/tlsbox.mjs and the single
// executable are bundled with this file: no environment variable, no lab engine, nothing to turn on.
export function labEngine(): { name: string; module: Uint8Array<ArrayBuffer> } | null {
  return null;
}
