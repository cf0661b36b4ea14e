// The fuel transform (wasm/transforms/fuel.mjs) on a small AssemblyScript program compiled here,
// in memory, with asc's API: every endless path (a loop, a recursion, one through call_indirect,
// one through a call into a looping leaf, a counted loop whose counter or limit is rewritten in
// the body) must trap with tlsbox_fuel_left() == -1 under a budget, a counted loop of N iterations
// must complete with a budget of N + a little and trap with much less, a per-call budget must
// restart only calls from the host, and with the unlimited budget everything finite completes with
// the right result. Compiled three ways: like the release engine (-O3 --converge), unoptimised
// (-O0: the shapes the optimiser would have cleaned up), and like the fuzz engine (coverage probes
// first, then fuel). The endless recursions get a budget of 1,000, not 100,000: that deep, the
// JavaScript stack would overflow (a RangeError) before the fuel ran out.
import asc from "assemblyscript/asc";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { REPO_ROOT } from "../helpers/repo";

const SOURCE = `
let sink: i32 = 0;
export function setSink(v: i32): void { sink = v; }

/** while (true): no exit at all. */
export function spin(): void {
  while (true) sink++;
}

/** Unbounded recursion (not a tail call: the + 1 runs after it). */
export function recurse(n: i32): i32 {
  return recurse(n + 1) + 1;
}

/** A counted loop of n iterations. */
export function count(n: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) s += i ^ sink;
  return s;
}

/** Counted loops with other steps: down by 2 while n >= 2 (poly1305's shape), up by 3. */
export function downBy2(n: u32): u32 {
  let s: u32 = 0;
  while (n >= 2) { s += n; n -= 2; }
  return s;
}
export function upBy3(n: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i += 3) s += i;
  return s;
}

/** Look counted, but the counter wraps: endless (unsigned n - 2 from 1; i + 16 never reaches 2^32 - 1). */
export function downWraps(n: u32): void {
  while (n >= 1) { sink++; n -= 2; }
}
export function upWraps(): void {
  for (let i: u32 = 0; i < 0xffffffff; i += 16) sink++;
}

/** A loop whose trip count is not known when it starts (n down to 0 by halving or decrementing). */
export function collatzish(n: i32): i32 {
  let steps = 0;
  while (n != 0) {
    n = (n & 1) != 0 ? n - 1 : n >>> 1;
    steps++;
  }
  return steps;
}

/** Nested counted loops. */
export function nested(n: i32, m: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) s += i * j + sink;
  return s;
}

/** An endless loop around a counted one. */
export function nestedSpin(): void {
  while (true) for (let j = 0; j < 10; j++) sink += j;
}

/**
 * Counted-looking loops whose counter is reset, or whose limit grows, in the body while sink > 0:
 * about 10 * sink iterations then. (Finite, so a transform that wrongly charged them their
 * apparent trip count up front fails the test instead of hanging it.)
 */
export function counterReset(): i32 {
  let s = 0;
  for (let i = 0; i < 10; i++) {
    s += i;
    if (sink > 0) { sink--; i = 0; }
  }
  return s;
}
export function limitGrows(n: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += i;
    if (sink > 0) { sink--; n++; }
  }
  return s;
}

/** A leaf with a loop, and loops calling it. */
export function leaf(k: i32): i32 {
  let s = 0;
  for (let i = 0; i < k; i++) s += load<u8>(<usize>(i & 1023)) + i;
  return s;
}
export function callsLeaf(n: i32, k: i32): i32 {
  let s = 0;
  for (let i = 0; i < n; i++) s += leaf(k);
  return s;
}
export function callsLeafForever(): void {
  while (true) sink += leaf(sink & 7);
}

/** Recursion through call_indirect (a function value). */
function zero(n: i32): i32 { return 0; }
let through: (n: i32) => i32 = zero;
function indirect(n: i32): i32 {
  if (n == 0) return 0;
  return through(n - 1) + 1;
}
export function indirectDepth(n: i32): i32 {
  through = indirect;
  return through(n);
}
`;

interface Fuel {
  tlsbox_set_fuel(n: number): void;
  tlsbox_set_fuel_per_call(n: number): void;
  tlsbox_fuel_left(): number;
  tlsbox_fuel_unlimited(): void;
}
type Exports = Fuel & Record<string, (...args: number[]) => number>;

const TRANSFORMS = join(REPO_ROOT, "wasm", "transforms");
const VARIANTS: Record<string, string[]> = {
  "release (-O3 --converge)": ["-O3", "--noAssert", "--converge", "--transform", join(TRANSFORMS, "fuel.mjs")],
  "unoptimised (-O0)": ["-O0", "--transform", join(TRANSFORMS, "fuel.mjs")],
  "fuzz (coverage + fuel)": ["-O3", "--debug", "--memoryBase", "65536",
    "--transform", join(TRANSFORMS, "coverage.mjs"), "--transform", join(TRANSFORMS, "fuel.mjs")],
};

async function compile(args: string[]): Promise<Exports> {
  let binary: Uint8Array | null = null;
  const { error, stderr } = await asc.main(["fuel.ts", "--outFile", "fuel.wasm", "--runtime", "stub", "--initialMemory", "2", ...args], {
    readFile: (name: string) => (name === "fuel.ts" ? SOURCE : null),
    writeFile: (name: string, contents: string | Uint8Array) => { if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents; },
    listFiles: () => [],
  });
  if (error) throw new Error(`asc: ${error.message}\n${stderr.toString()}`);
  if (binary === null) throw new Error("asc wrote no binary");
  const { instance } = await WebAssembly.instantiate(binary, {
    env: { abort: () => { throw new Error("abort"); } },
  });
  return instance.exports as unknown as Exports;
}

/** Runs f under `budget`: "trap" if it trapped for fuel, else the fuel it used and its result. */
function run(x: Exports, budget: number, f: () => number): { trapped: true } | { trapped: false; used: number; value: number } {
  x.tlsbox_set_fuel(budget);
  let value: number;
  try {
    value = f();
  } catch (e) {
    assert.instance(e, WebAssembly.RuntimeError, `not a trap: ${String(e)}`);
    assert.is(x.tlsbox_fuel_left(), -1, `trapped (${(e as Error).message}) but not for fuel`);
    return { trapped: true };
  }
  const left = x.tlsbox_fuel_left();
  assert.ok(left >= 0, `completed but fuel_left = ${left}`);
  return { trapped: false, used: budget - left, value };
}

function traps(x: Exports, budget: number, f: () => number, what: string): void {
  const r = run(x, budget, f);
  assert.ok(r.trapped, `${what} completed under a budget of ${budget}`);
}

function completes(x: Exports, budget: number, f: () => number, what: string): { used: number; value: number } {
  const r = run(x, budget, f);
  if (r.trapped) assert.unreachable(`${what} ran out of a budget of ${budget}`);
  return r as { used: number; value: number };
}

const BUDGET = 100_000;

// Compiled up front, not in `before` hooks: uvu would report a compile error as 0 tests passed,
// and every suite must be registered before uvu starts running them.
const compiled: [string, Exports][] = [];
for (const [variant, args] of Object.entries(VARIANTS)) compiled.push([variant, await compile(args)]);

for (const [variant, x] of compiled) {
  const test = suite(`fuel transform, ${variant}`);
  test.before.each(() => {
    x.setSink(0);
    x.tlsbox_fuel_unlimited();
  });

  test("the budget starts unlimited and is reported capped at 2^31 - 1", () => {
    assert.is(x.tlsbox_fuel_left(), 0x7fffffff);
    x.tlsbox_set_fuel(0xffffffff);
    assert.is(x.tlsbox_fuel_left(), 0x7fffffff);
    x.tlsbox_set_fuel(1234);
    assert.is(x.tlsbox_fuel_left(), 1234);
  });

  test("an endless loop traps with fuel_left == -1", () => {
    traps(x, BUDGET, () => { x.spin(); return 0; }, "spin");
    // The instance trapped for fuel stays at -1 until a new budget.
    assert.is(x.tlsbox_fuel_left(), -1);
  });

  test("an endless recursion traps with fuel_left == -1 (before the stack overflows)", () => {
    traps(x, 1_000, () => x.recurse(0), "recurse");
  });

  test("an endless recursion through call_indirect traps with fuel_left == -1", () => {
    traps(x, 1_000, () => x.indirectDepth(-1 >>> 0), "indirectDepth(2^32 - 1)");
    const r = completes(x, 1_000, () => x.indirectDepth(100), "indirectDepth(100)");
    assert.is(r.value, 100);
    assert.ok(r.used >= 100 && r.used <= 110, `100 indirect recursive calls burned ${r.used}`);
  });

  test("a counted loop of N iterations completes with N + a little, traps with much less", () => {
    const N = 1_000_000;
    const r = completes(x, N + 2, () => x.count(N), "count(N)");
    assert.ok(r.used >= N && r.used <= N + 2, `count(${N}) burned ${r.used}`);
    traps(x, N >> 1, () => x.count(N), "count(N) with N/2");
    traps(x, N - 1, () => x.count(N), "count(N) with N - 1");
    assert.is(completes(x, 10, () => x.count(0), "count(0)").value, 0);
    assert.is(completes(x, 10, () => x.count(-5), "count(-5)").value, 0);
  });

  test("counted loops with other steps cost their iterations; ones whose counter wraps trap", () => {
    const N = 1_000_000;
    let r = completes(x, N / 2 + 2, () => x.downBy2(N + 1), "downBy2(N + 1)");
    assert.ok(r.used >= N / 2 && r.used <= N / 2 + 2, `downBy2(${N + 1}) (${N / 2} iterations) burned ${r.used}`);
    traps(x, N / 4, () => x.downBy2(N + 1), "downBy2(N + 1) with N / 4");
    r = completes(x, N / 3 + 3, () => x.upBy3(N), "upBy3(N)");
    assert.ok(r.used >= N / 3 && r.used <= N / 3 + 3, `upBy3(${N}) burned ${r.used}`);
    traps(x, N / 6, () => x.upBy3(N), "upBy3(N) with N / 6");
    traps(x, BUDGET, () => { x.downWraps(5); return 0; }, "downWraps(5)");
    traps(x, BUDGET, () => { x.upWraps(); return 0; }, "upWraps");
  });

  test("a loop with an unknown trip count burns per iteration", () => {
    // 2^20 - 1: 20 halvings and 20 decrements... every odd step decrements: 39 steps.
    const r = completes(x, 100, () => x.collatzish((1 << 20) - 1), "collatzish");
    assert.is(r.value, 39);
    assert.ok(r.used >= 39 && r.used <= 41, `39 iterations burned ${r.used}`);
    traps(x, 20, () => x.collatzish((1 << 20) - 1), "collatzish with 20");
  });

  test("nested loops: finite ones cost their iterations, an endless outer one traps", () => {
    const r = completes(x, BUDGET, () => x.nested(100, 50), "nested(100, 50)");
    assert.ok(r.used >= 100 * 50 && r.used <= 100 * 52 + 2, `100 x 50 iterations burned ${r.used}`);
    traps(x, 100 * 40, () => x.nested(100, 50), "nested(100, 50) with 4,000");
    traps(x, BUDGET, () => { x.nestedSpin(); return 0; }, "nestedSpin");
  });

  test("a loop whose counter or limit is rewritten in its body is not taken for counted", () => {
    assert.is(completes(x, BUDGET, () => x.counterReset(), "counterReset").value, 45);
    assert.is(completes(x, BUDGET, () => x.limitGrows(10), "limitGrows(10)").value, 45);
    x.setSink(1_000_000);
    traps(x, BUDGET, () => x.counterReset(), "counterReset with 1,000,000 resets");
    x.setSink(1_000_000);
    traps(x, BUDGET, () => x.limitGrows(10), "limitGrows(10) growing 1,000,000 times");
  });

  test("a loop calling a leaf that loops: the callee's fuel is the caller's", () => {
    const r = completes(x, BUDGET, () => x.callsLeaf(100, 50), "callsLeaf(100, 50)");
    assert.ok(r.used >= 100 * 51 && r.used <= 100 * 53 + 2, `100 calls of a 50-iteration leaf burned ${r.used}`);
    traps(x, 100 * 40, () => x.callsLeaf(100, 50), "callsLeaf(100, 50) with 4,000");
    traps(x, BUDGET, () => { x.callsLeafForever(); return 0; }, "callsLeafForever");
  });

  test("a per-call budget starts every call from the host, not calls inside the module", () => {
    x.tlsbox_set_fuel_per_call(BUDGET);
    assert.throws(() => x.spin());
    assert.is(x.tlsbox_fuel_left(), -1);
    // No tlsbox_set_fuel: the next calls from the host start with the per-call budget again.
    x.setSink(0); // spin moved it
    assert.is(x.count(1000), count(1000));
    assert.ok(x.tlsbox_fuel_left() >= BUDGET - 1002, `fuel left ${x.tlsbox_fuel_left()}`);
    // leaf is exported, but its calls from callsLeafForever do not go through the entry: no reset.
    assert.throws(() => x.callsLeafForever());
    assert.is(x.tlsbox_fuel_left(), -1);
    x.tlsbox_fuel_unlimited(); // also ends the per-call budget
    x.tlsbox_set_fuel(5);
    assert.throws(() => x.count(1000));
    assert.is(x.tlsbox_fuel_left(), -1);
  });

  test("with the unlimited budget everything finite completes", () => {
    x.tlsbox_fuel_unlimited();
    assert.is(x.count(3_000_000), count(3_000_000));
    assert.is(x.nested(300, 300), nested(300, 300));
    assert.is(x.collatzish(0x7fffffff), 61);
    assert.is(x.indirectDepth(1000), 1000);
    assert.is(x.counterReset(), 45);
    assert.is(x.tlsbox_fuel_left(), 0x7fffffff);
  });

  test.run();
}

// The same arithmetic in JavaScript (i32 wrapping), for the results above.
function count(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + (i ^ 0)) | 0;
  return s;
}
function nested(n: number, m: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) s = (s + Math.imul(i, j)) | 0;
  return s;
}
