// The engine's WebAssembly modules, embedded in the bundle at build time.
import engineChecked from "../../build/engine.checked.wasm";
import engineRelease from "../../build/engine.release.wasm";

export type EngineVariant = "release" | "checked";

export const ENGINE_MODULES: Readonly<Record<EngineVariant, Uint8Array<ArrayBuffer>>> = {
  release: engineRelease,
  checked: engineChecked,
};
