// TEST-ONLY. Bundled only into the lab program (DIR/tlsbox-lab.mjs, `node build.mjs --lab --out DIR`)
// in place of lab-engines.ts; never into build/, dist/ or the single executable.
//
// TLSBOX_LAB_ENGINE=lab-trap | lab-spin | lab-heartbleed makes the workers run that engine variant
// (wasm/tls/lab.ts: bugs planted on purpose), so the isolation tests and `npm run lab:heartbleed`
// exercise the real supervisor, workers and key server. Unset, the lab program runs the release
// engine like the normal one.
import labHeartbleed from "../../build/engine.lab-heartbleed.wasm";
import labSpin from "../../build/engine.lab-spin.wasm";
import labTrap from "../../build/engine.lab-trap.wasm";

const LAB_ENGINES: Readonly<Record<string, Uint8Array<ArrayBuffer>>> = {
  "lab-trap": labTrap,
  "lab-spin": labSpin,
  "lab-heartbleed": labHeartbleed,
};

export function labEngine(): { name: string; module: Uint8Array<ArrayBuffer> } | null {
  const name = process.env.TLSBOX_LAB_ENGINE;
  if (name === undefined || name === "") return null;
  const module = LAB_ENGINES[name];
  if (module === undefined) throw new Error(`TLSBOX_LAB_ENGINE=${name}: not a lab engine (${Object.keys(LAB_ENGINES).join(", ")})`);
  return { name, module };
}
