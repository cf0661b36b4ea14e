// Builds tlsbox: the sandboxed engine (wasm/, AssemblyScript) and the host (src/, TypeScript).
//
//   node build.mjs            build everything
//   node build.mjs --quiet    only print errors
//
// WebAssembly modules go to build/*.wasm (plus a .wat beside each, to audit what the compiler
// emitted: grep it for `__new` to find allocations). Each module is built in two variants:
//   release  -O3, assertions compiled out, linear memory capped by a maximum
//   checked  assertions and bounds checks on, `unchecked()` ignored, debug names kept
// The host, the tests and the benchmarks are bundled by esbuild with the .wasm files embedded
// as bytes, so nothing reads the build directory at run time.
import asc from "assemblyscript/asc";
import * as esbuild from "esbuild";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const quiet = process.argv.includes("--quiet");
const log = (...args) => { if (!quiet) console.log(...args); };

/** Every module the sandbox side ships. `pages` are 64 KiB WebAssembly pages. */
const MODULES = [
  // The TLS engine: one fresh instance per connection.
  { name: "engine", entry: "wasm/engine.ts", initialPages: 2, maximumPages: 16 },
  // The crypto primitives alone, for known-answer tests, differential tests and benchmarks.
  { name: "crypto", entry: "wasm/crypto/exports.ts", initialPages: 40, maximumPages: 64 },
];

const VARIANTS = {
  release: ["-O3", "--noAssert", "--converge"],
  checked: ["-O1", "--debug", "--uncheckedBehavior", "never"],
};

const COMMON = [
  "--runtime", "stub",          // one instance per connection, destroyed whole: nothing to collect
  "--enable", "simd",
  "--use", "abort=wasm/sys/abort",
];

async function compileModule(mod, variant) {
  const out = `build/${mod.name}.${variant}`;
  const args = [
    mod.entry, "-o", `${out}.wasm`, "-t", `${out}.wat`,
    ...COMMON,
    ...VARIANTS[variant],
    "--initialMemory", String(mod.initialPages),
    "--maximumMemory", String(mod.maximumPages),
  ];
  const { error, stderr } = await asc.main(args, {});
  if (error) {
    process.stderr.write(stderr.toString());
    throw new Error(`AssemblyScript build of ${mod.entry} (${variant}) failed: ${error.message}`);
  }
  log(`  wasm   ${out}.wasm`);
}

function findFiles(dir, suffix) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findFiles(path, suffix));
    else if (name.endsWith(suffix)) found.push(path);
  }
  return found;
}

async function bundle() {
  const common = {
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: "inline",
    packages: "external",
    loader: { ".wasm": "binary" },
    outExtension: { ".js": ".mjs" },
    logLevel: "error",
    // esbuild's ESM output for node needs `require` for the CommonJS dependencies.
    banner: { js: "import { createRequire as __tlsboxRequire } from 'node:module'; const require = __tlsboxRequire(import.meta.url);" },
  };
  const tests = [...findFiles("test", ".test.ts"), ...findFiles("test", ".bench.ts")];
  await esbuild.build({ ...common, entryPoints: tests, outdir: "build/test", outbase: "test" });
  log(`  bundle ${tests.length} test and benchmark files -> build/test/`);
}

mkdirSync("build", { recursive: true });
log("tlsbox build");
for (const mod of MODULES) {
  for (const variant of Object.keys(VARIANTS)) await compileModule(mod, variant);
}
await bundle();
log(`  done (${relative(process.cwd(), "build")}/)`);
