// Builds tlsbox: the sandboxed engine (wasm/, AssemblyScript) and the host (src/, TypeScript).
//
//   node build.mjs                      build everything into build/
//   node build.mjs --quiet              only print errors
//
// For working on one primitive while others edit theirs (the build compiles everything together):
//   node build.mjs --out DIR --only x25519[,p256] --tests PATTERN
// builds into DIR a crypto module exporting only the named wasm/crypto/ modules, skips the engine,
// and bundles only the test files whose path contains PATTERN (run them with node DIR/test/...).
//   node build.mjs --out DIR --modules engine --tests PATTERN
// builds only the listed modules (engine, crypto).
//   node build.mjs --fuzz              (or --modules engine-fuzz: the engine with the fuzz variants)
// also builds the engine's `unmetered` and `fuzz` variants and bundles test/**/*.fuzz.ts (npm run fuzz).
//   node build.mjs --lab --out DIR     (never the default, never into build/ or dist/)
// also builds the TEST-ONLY engine variants with planted bugs (wasm/tls/lab.ts: lab-trap, lab-spin,
// lab-heartbleed), the lab program DIR/tlsbox-lab.mjs (TLSBOX_LAB_ENGINE=lab-… puts one in its
// workers) and bundles test/**/*.lab.ts and test/**/*.lab.test.ts, which need them.
//
// WebAssembly modules go to build/*.wasm (plus a .wat beside each, to audit what the compiler
// emitted: grep it for `__new` to find allocations). Each module is built in two variants:
//   release  -O3, assertions compiled out, linear memory capped by a maximum, fuel-metered
//   checked  assertions and bounds checks on, `unchecked()` ignored, debug names kept, fuel-metered
// The host, the tests and the benchmarks are bundled by esbuild with the .wasm files embedded
// as bytes, so nothing reads the build directory at run time.
import asc from "assemblyscript/asc";
import { execFileSync } from "node:child_process";
import { copyFileSync, chmodSync } from "node:fs";
import * as esbuild from "esbuild";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";

const argv = process.argv.slice(2);
const option = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const quiet = argv.includes("--quiet");
const outDir = resolve(option("--out") ?? "build");
const only = option("--only")?.split(",");
const testFilter = option("--tests");
const requestedModules = option("--modules")?.split(",") ?? (only === undefined ? ["engine", "crypto"] : ["crypto"]);
// The fuzz variants cost a compile each, so only a fuzzing build pays for them.
const fuzz = argv.includes("--fuzz") || requestedModules.includes("engine-fuzz");
// The lab variants carry deliberate bugs: only a private build directory may hold them.
const lab = argv.includes("--lab");
if (lab && (outDir === resolve("build") || outDir === resolve("dist"))) {
  throw new Error("--lab builds engines with planted bugs: give a private --out directory (not build/ or dist/)");
}
const moduleNames = requestedModules.map((m) => (m === "engine-fuzz" ? "engine" : m));
const log = (...args) => { if (!quiet) console.log(...args); };

/** Every module the sandbox side ships. `pages` are 64 KiB WebAssembly pages. */
const MODULES = [
  // The TLS engine: one fresh instance per connection.
  { name: "engine", entry: "wasm/engine.ts", initialPages: 4, maximumPages: 16 },
  // The crypto primitives alone, for known-answer tests, differential tests and benchmarks.
  { name: "crypto", entry: "wasm/crypto/exports.ts", initialPages: 40, maximumPages: 64 },
];

// Both variants are fuel-metered (wasm/transforms/fuel.mjs, applied after asc's optimiser): every
// loop iteration and recursive call burns fuel, and the host gives each call into the engine a
// budget, so an endless loop traps instead of freezing the worker (DESIGN.md invariants 4 and 5).
const FUEL = ["--transform", "./wasm/transforms/fuel.mjs"];
const VARIANTS = {
  release: ["-O3", "--noAssert", "--converge", ...FUEL],
  checked: ["-O1", "--debug", "--uncheckedBehavior", "never", ...FUEL],
};

// Instrumented variants of the engine (binaryen rewrites in wasm/transforms/, loaded by asc:
// coverage probes go in before asc's optimiser, fuel probes after it), built with --fuzz only:
//   unmetered  release without fuel metering: what metering costs (test/fuzz/fuel-cost.fuzz.ts)
//   fuzz     checked-style assertions at -O3 + fuel + coverage counters (fuzz_coverage_ptr);
//            --memoryBase keeps the first 64 KiB free for the coverage map, so one more page.
const FUZZ_VARIANTS = {
  unmetered: { args: ["-O3", "--noAssert", "--converge"], extraPages: 0 },
  fuzz: {
    args: ["-O3", "--debug", "--uncheckedBehavior", "never", "--memoryBase", "65536",
      "--transform", "./wasm/transforms/coverage.mjs", ...FUEL],
    extraPages: 1,
  },
};

// TEST-ONLY variants of the engine (wasm/tls/lab.ts), built with --lab only. The switches are asc
// integer constants (`--use NAME=VALUE`): every other build sets them to 0, so the hooks in
// wasm/tls/conn.ts compile to nothing there (the release .wat is the same as without them).
const LAB_SWITCHES = ["LAB_TRAP", "LAB_SPIN", "LAB_HEARTBLEED"];
const labUse = (on) => LAB_SWITCHES.flatMap((name) => ["--use", `${name}=${name === on ? 1 : 0}`]);
const LAB_VARIANTS = {
  // A trap on "TRAP!!!!" (fault containment).
  "lab-trap": { args: [...VARIANTS.release, ...labUse("LAB_TRAP")], extraPages: 0 },
  // An endless loop on "SPIN!!!!": the release engine's fuel metering lets the host stop it (no hang).
  "lab-spin": { args: [...VARIANTS.release, ...labUse("LAB_SPIN")], extraPages: 0 },
  // Heartbleed (RFC 6520 heartbeat without the payload_length check): the blast-radius lab.
  "lab-heartbleed": { args: [...VARIANTS.release, ...labUse("LAB_HEARTBLEED")], extraPages: 0 },
};

const COMMON = [
  "--runtime", "stub",          // one instance per connection, destroyed whole: nothing to collect
  "--enable", "simd",
  "--use", "abort=wasm/sys/abort",
];

async function compileModule(mod, variant) {
  const out = `${outDir}/${mod.name}.${variant}`;
  const special = FUZZ_VARIANTS[variant] ?? LAB_VARIANTS[variant];
  const extraPages = special?.extraPages ?? 0;
  const args = [
    mod.entry, "-o", `${out}.wasm`, "-t", `${out}.wat`,
    ...COMMON,
    ...(VARIANTS[variant] ?? special.args),
    // The lab switches off (a lab variant's args set them itself).
    ...(LAB_VARIANTS[variant] === undefined ? labUse(null) : []),
    "--initialMemory", String(mod.initialPages + extraPages),
    "--maximumMemory", String(mod.maximumPages + extraPages),
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
    define: { __TLSBOX_REPO_ROOT__: JSON.stringify(process.cwd()) },
    plugins: [buildDirPlugin],
    outExtension: { ".js": ".mjs" },
    logLevel: "error",
    // esbuild's ESM output for node needs `require` for the CommonJS dependencies.
    banner: { js: "import { createRequire as __tlsboxRequire } from 'node:module'; const require = __tlsboxRequire(import.meta.url);" },
  };
  // The program: one bundle for every role (supervisor, worker, key server are selected by
  // arguments), so the single executable and `node dist/tlsbox.mjs` behave the same.
  if (existsSync("src/cli.ts") && (testFilter === undefined || moduleNames.includes("engine"))) {
    await esbuild.build({
      ...common,
      entryPoints: ["src/cli.ts"],
      outfile: `${outDir === resolve("build") ? "dist" : outDir}/tlsbox.mjs`,
      banner: { js: "#!/usr/bin/env node\n" + common.banner.js },
    });
    log(`  bundle src/cli.ts -> ${outDir === resolve("build") ? "dist" : relative(process.cwd(), outDir)}/tlsbox.mjs`);
  }
  // The lab program (--lab only): the same program with lab-engines.lab.ts swapped in for
  // lab-engines.ts, so TLSBOX_LAB_ENGINE can put a lab engine into the real workers.
  if (lab && existsSync("src/cli.ts")) {
    await esbuild.build({
      ...common,
      entryPoints: ["src/cli.ts"],
      outfile: `${outDir}/tlsbox-lab.mjs`,
      plugins: [buildDirPlugin, labEnginesPlugin],
      banner: { js: "#!/usr/bin/env node\n" + common.banner.js },
    });
    log(`  bundle src/cli.ts (lab engines) -> ${relative(process.cwd(), outDir)}/tlsbox-lab.mjs`);
  }
  // *.lab.test.ts and *.lab.ts import the lab engines: bundled only with --lab.
  const tests = [...findFiles("test", ".test.ts"), ...findFiles("test", ".bench.ts"), ...(fuzz ? findFiles("test", ".fuzz.ts") : []),
    ...(lab ? findFiles("test", ".lab.ts") : [])]
    .filter((path) => lab || !path.endsWith(".lab.test.ts"))
    .filter((path) => testFilter === undefined || path.includes(testFilter));
  await esbuild.build({ ...common, entryPoints: tests, outdir: `${outDir}/test`, outbase: "test" });
  log(`  bundle ${tests.length} test and benchmark files -> ${relative(process.cwd(), outDir)}/test/`);
}

/**
 * dist/tlsbox: the single executable (Node's single-executable-application support). The program
 * is bundled again as one CommonJS file with every dependency inside (a single executable can
 * require only Node's builtin modules), turned into a blob by Node, and injected into a copy of
 * the node binary with postject. It runs with no Node.js and no node_modules beside it.
 */
async function buildSingleExecutable() {
  const main = join(outDir, "tlsbox.sea.cjs");
  await esbuild.build({
    entryPoints: ["src/cli.ts"],
    outfile: main,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    loader: { ".wasm": "binary" },
    plugins: [buildDirPlugin],
    logLevel: "error",
  });
  const seaConfig = join(outDir, "sea-config.json");
  const blob = join(outDir, "tlsbox.sea.blob");
  writeFileSync(seaConfig, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true }));
  execFileSync(process.execPath, ["--experimental-sea-config", seaConfig], { stdio: "ignore" });
  mkdirSync("dist", { recursive: true });
  const exe = "dist/tlsbox";
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  execFileSync(process.execPath, [
    "node_modules/postject/dist/cli.js", exe, "NODE_SEA_BLOB", blob,
    "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
  ], { stdio: "ignore" });
  log(`  single executable -> ${exe}`);
}

// Sources import modules as "../../build/NAME.wasm"; this points those imports at the output
// directory of this build, so a private build (--out) embeds its own modules.
const buildDirPlugin = {
  name: "tlsbox-build-dir",
  setup(build) {
    build.onResolve({ filter: /\/build\/[^/]+\.wasm$/ }, (args) => ({ path: join(outDir, basename(args.path)) }));
  },
};

// The lab program's swap: src/sandbox/lab-engines.ts (no switch) becomes lab-engines.lab.ts.
const labEnginesPlugin = {
  name: "tlsbox-lab-engines",
  setup(build) {
    build.onResolve({ filter: /\/lab-engines$/ }, (args) => ({ path: resolve(args.resolveDir, `${args.path}.lab.ts`) }));
  },
};

/**
 * With --only: an entry exporting just the named primitives (and the IO area). It lives beside
 * them (git ignores it) because the compiler names elements by their path under the project.
 */
function partialCryptoEntry() {
  const entry = `wasm/crypto/.partial.${outDir.replace(/[^A-Za-z0-9]+/g, "_")}.ts`;
  const names = ["testio", "ct", ...only.filter((n) => n !== "testio" && n !== "ct")];
  writeFileSync(entry, names.map((n) => `export * from "./${n}";\n`).join(""));
  return entry;
}

mkdirSync(outDir, { recursive: true });
log("tlsbox build");
const modules = MODULES
  .filter((m) => moduleNames.includes(m.name))
  .map((m) => (m.name === "crypto" && only !== undefined ? { ...m, entry: partialCryptoEntry() } : m));
for (const mod of modules) {
  for (const variant of Object.keys(VARIANTS)) await compileModule(mod, variant);
  if (fuzz && mod.name === "engine") for (const variant of Object.keys(FUZZ_VARIANTS)) await compileModule(mod, variant);
  if (lab && mod.name === "engine") for (const variant of Object.keys(LAB_VARIANTS)) await compileModule(mod, variant);
}
await bundle();
if (existsSync("src/cli.ts") && outDir === resolve("build") && testFilter === undefined) await buildSingleExecutable();
log(`  done (${relative(process.cwd(), outDir) || "."}/)`);
