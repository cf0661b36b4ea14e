// DESIGN.md invariant 2: the sandbox's imports are an allow-list. No filesystem, no sockets, no
// environment: if the engine grows an import, this test fails until someone reviews it here.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { disallowedImports, SandboxError, SandboxFactory } from "../../src/sandbox/loader";
import { ENGINE_MODULES } from "../../src/sandbox/modules";

/** Exactly what engine.wasm may import, as "module.name". */
const ENGINE_ALLOW_LIST = ["wasi_snapshot_preview1.random_get", "tls_host.key_op_request"];

const test = suite("sandbox imports");

for (const [variant, wasm] of Object.entries(ENGINE_MODULES)) {
  test(`engine (${variant}) imports exactly the allow-list`, () => {
    const module = new WebAssembly.Module(wasm);
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort();
    assert.equal(imports, [...ENGINE_ALLOW_LIST].sort());
    for (const i of WebAssembly.Module.imports(module)) assert.is(i.kind, "function");
  });
}

// A hand-assembled module importing env.abort (what AssemblyScript emits by default): the
// loader must refuse it, or the allow-list check proves nothing.
const MODULE_IMPORTING_ENV_ABORT = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one func type () -> ()
  0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05, 0x61, 0x62, 0x6f, 0x72, 0x74, 0x00, 0x00, // import env.abort
]);

test("a module with an import off the list is refused", async () => {
  assert.equal(disallowedImports(new WebAssembly.Module(MODULE_IMPORTING_ENV_ABORT)), ["env.abort"]);
  try {
    await SandboxFactory.create(MODULE_IMPORTING_ENV_ABORT);
    assert.unreachable("the loader accepted env.abort");
  } catch (err) {
    assert.instance(err, SandboxError);
    assert.is((err as SandboxError).code, "IMPORT_NOT_ALLOWED");
  }
});

test.run();
