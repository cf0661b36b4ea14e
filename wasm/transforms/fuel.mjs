// Fuel metering (DESIGN.md invariants 4 and 5): a sandbox call that runs away must end in a trap
// the host can handle, not freeze the event loop that carries every other connection.
//
// Every unbounded path through WebAssembly code goes through a loop back-edge or a recursive call;
// straight-line code between them is bounded by the size of the module. So one unit of fuel is
// burned per run of every loop header (once per iteration, plus the run that exits) and at the
// entry of every function that can recurse (a cycle in the call graph, call_indirect counted as a
// call to every function in the table), and the instance traps with `unreachable` when the fuel
// goes below zero. The count is the same as burning `fuel -= 1` on the global at every header; two
// things make it cheap enough for the release engine (crypto inner loops are tight):
//
// 1. The counter lives in a local while a function runs. A function with loops loads the global
//    into a local f at entry and decrements f at its headers (f -= 1; if (f < 0) { fuel = -1;
//    unreachable }: the host still reads -1). The global is the truth whenever control is outside
//    the function: f is written back to it at every exit (each `return`, the end of the body) and
//    just before every call that can burn fuel (after the call's arguments, which may contain
//    loops, i.e. around its last operand / call_indirect's table index, evaluated last), and
//    reloaded from it right after that call returns. A callee that cannot burn (no loop, not
//    recursive, and calling none that can, transitively; call_indirect as a call to every table
//    function; imports never burn) neither reads nor writes the global, so it needs neither. So the
//    sequence of decrements, and every value of "the fuel" the host or a callee can observe, are
//    exactly those of the global-only scheme; only who holds the counter changes. A trap other than
//    exhaustion can leave the global higher than f (a stale, larger value): never -1, so the host
//    still tells a runaway from a fault. A recursive function without loops burns on the global at
//    entry, as before; a recursive one with loops burns f right after loading it.
//
// 2. A counted loop (countedLoop: `for (i = a; i < n; i += s)` or `while (n >= k) n -= s`, with the
//    counter written only by its update, one back-edge, and a limit the loop does not change, shape
//    and conditions checked on the IR) is charged its exact number of header runs once, before it
//    starts, instead of once per header: T + 1, with T computed from the counter's entry value and
//    the limit in 64 bits. The conditions guarantee the counter cannot wrap, so the header runs at
//    most T + 1 times (fewer only if the body leaves the loop or traps: then the charge was an
//    overestimate, which only makes the budget stricter). Its body's own loops and calls are
//    metered as usual; a loop that does not match keeps its per-header burn. So the fuel a call
//    burns is unchanged (the RFC 8448 handshake and 16 KiB records burn exactly what they did), and
//    a loop that would exceed the budget traps at its start rather than part way through.
//
// Bound: every execution of a loop header and every entry of a recursive function is paid for,
// one unit each, from one counter that starts at the budget and traps below zero, before or as it
// happens. Between two such events a call runs loop-free code through non-recursive calls, whose
// length is bounded by the module alone; so a call does at most (budget + 1) times that much work
// before it returns or traps.
//
// Exports added to the module:
//   tlsbox_set_fuel(n: i32)          budget for the next calls, n read as unsigned (up to 2^32 - 1)
//   tlsbox_set_fuel_per_call(n: i32) from now on, every call from the host starts with budget n
//                                    (set by a wrapper at the export's entry: the host need not
//                                    call tlsbox_set_fuel before each call; unsigned, as above)
//   tlsbox_fuel_left(): i32          what is left (capped at 2^31 - 1); -1 once the budget ran out
//   tlsbox_fuel_unlimited()          no budget, and no per-call budget (the state at instantiation)
// The budget starts unlimited, so a host that never sets it sees no behaviour change, and an
// instance that trapped for fuel stays at -1 (the host discards it anyway: invariant 5).
import { addLocal, definedFunctions, prepend, replaceChild, walk } from "./walk.mjs";

export const FUEL_GLOBAL = "~tlsbox/fuel";
const PER_CALL_GLOBAL = "~tlsbox/fuel_per_call";
/** The fuel API itself: not metered (no loops), never wrapped. */
const API = new Set(["~tlsbox/set_fuel", "~tlsbox/set_fuel_per_call", "~tlsbox/fuel_unlimited", "~tlsbox/fuel_left"]);

export default class FuelTransform {
  afterCompile(module) {
    const b = this.binaryen;
    // The probes go in after asc has optimised the module, not here: probes in the unoptimised
    // code make small hot functions (field multiplications) too big for the inliner, which cost
    // more than half of a handshake in a first measurement. asc calls module.runPasses right after
    // its optimiser (also when no --runPasses are given, and first in every --converge round), so
    // the probes are added there, once; later converge rounds optimise them along with the rest.
    const runPasses = module.runPasses.bind(module);
    let done = false;
    module.runPasses = (passes) => {
      runPasses(passes);
      if (done) return;
      done = true;
      // The globals and the fuel API come with the probes (the optimiser would drop a global that
      // only the API reads or writes, such as the per-call budget before the wrappers exist).
      module.addGlobal(FUEL_GLOBAL, b.i64, true, module.i64.const(0x7fffffffffffffffn));
      module.addGlobal(PER_CALL_GLOBAL, b.i64, true, module.i64.const(-1n));
      const { loops, recursive, cached, synced, hoisted } = meter(b, module);
      addFuelExports(b, module);
      // After the metering, not before: a wrapper's write of the fuel inside a metered function
      // (an export the optimiser inlined into it) would come after that function loaded the fuel
      // into its local, and be lost. Added here, a wrapper is unmetered straight-line code; the
      // converge rounds may inline the export into it, its metering (entry load) included, after
      // the reset.
      addEntryWrappers(b, module);
      if (process.env.TLSBOX_TRANSFORM_VERBOSE) {
        this.log(`fuel: ${loops} loops (${hoisted} counted, charged before the loop), ${recursive} recursive functions metered; ${cached} functions cache the fuel, ${synced} calls write it back`);
      }
    };
  }
}

/** Burns fuel at every loop header and at the entry of every recursive function. */
function meter(b, module) {
  const fuel = () => module.global.get(FUEL_GLOBAL, b.i64);
  // The global form, for a recursive function without loops: fuel -= 1; if (fuel < 0) unreachable.
  // The decrement comes first, so an exhausted instance keeps the counter at -1 for the host.
  const burnGlobal = () => module.block(null, [
    module.global.set(FUEL_GLOBAL, module.i64.sub(fuel(), module.i64.const(1n))),
    module.if(module.i64.lt_s(fuel(), module.i64.const(0n)), module.unreachable()),
  ], b.none);
  const functions = definedFunctions(b, module).filter(({ info }) => !API.has(info.name));
  const graph = callGraph(b, module, functions);
  const recursive = recursiveFunctions(graph);
  const burning = burningFunctions(graph, recursive);
  let loops = 0, cached = 0, synced = 0, hoisted = 0;
  for (const { ref, info } of functions) {
    const node = graph.get(info.name);
    if (node.loops > 0) {
      const r = meterWithLocal(b, module, ref, info, recursive.has(info.name), (call) =>
        call.id === b.CallId ? burning.has(call.target) : graph.tableBurns(burning));
      synced += r.synced;
      hoisted += r.hoisted;
      loops += node.loops;
      cached++;
    } else if (recursive.has(info.name)) {
      b.Function.setBody(ref, prepend(module, burnGlobal(), info.body, info.results));
    }
  }
  return { loops, recursive: recursive.size, cached, synced, hoisted };
}

/**
 * Meters a function that has loops with its fuel cached in a local (see the header): load at entry,
 * decrement at loop headers, write back before every call that can burn fuel and reload after it,
 * write back at every return and at the end; a counted loop (countedLoop) is charged its trip count
 * once, before it starts. Returns how many calls got the write-back and how many loops were counted.
 */
function meterWithLocal(b, module, ref, info, isRecursive, callBurns) {
  const f = addLocal(b, ref, b.i64);
  const temps = new Map();
  const temp = (type) => {
    if (!temps.has(type)) temps.set(type, addLocal(b, ref, type));
    return temps.get(type);
  };
  const local = () => module.local.get(f, b.i64);
  const writeBack = () => module.global.set(FUEL_GLOBAL, local());
  const reload = () => module.local.set(f, module.global.get(FUEL_GLOBAL, b.i64));
  // f -= amount; if (f < 0) { fuel = -1; unreachable }: the global gets the -1 the host reads.
  const burn = (amount = module.i64.const(1n)) => module.block(null, [
    module.local.set(f, module.i64.sub(local(), amount)),
    module.if(module.i64.lt_s(local(), module.i64.const(0n)),
      module.block(null, [module.global.set(FUEL_GLOBAL, module.i64.const(-1n)), module.unreachable()], b.unreachable)),
  ], b.none);
  /** `expr` (of a concrete type), then `side`, yielding expr's value. */
  const thenDo = (expr, type, side) => {
    const t = temp(type);
    return module.block(null, [module.local.set(t, expr), side, module.local.get(t, type)], type);
  };

  // Collected first (parents before children), rewritten from the back: every node is rewritten
  // before its parent, so a parent's slots still hold the original children when they are replaced.
  const sites = [];
  walk(b, info.body, (expr, e, parent) => {
    // A return_call leaves the frame like a return: it always gets the write-back.
    if (e.id === b.LoopId || e.id === b.ReturnId || ((e.id === b.CallId || e.id === b.CallIndirectId) && (e.isReturn || callBurns(e)))) {
      sites.push({ expr, e, parent: parent === null ? null : parent.expr, counted: e.id === b.LoopId ? countedLoop(b, e) : null });
    }
  });
  let body = info.body;
  const replace = (parent, child, replacement) => {
    if (parent === null) body = replacement;
    else replaceChild(b, parent, child, replacement);
  };
  let synced = 0, hoisted = 0;
  for (let i = sites.length - 1; i >= 0; i--) {
    const { expr, e, parent, counted } = sites[i];
    if (e.id === b.LoopId && counted !== null) {
      // The header will run T + 1 times (countedLoop): charged once, before the loop.
      replace(parent, expr, module.block(null, [burn(headerRuns(b, module, counted, temp(b.i64))), expr], b.getExpressionType(expr)));
      hoisted++;
    } else if (e.id === b.LoopId) {
      // Children are read again, not taken from `e`: a rewrite below may have replaced them.
      const loopBody = b.Loop.getBody(expr);
      b.Loop.setBody(expr, prepend(module, burn(), loopBody, b.getExpressionType(loopBody)));
    } else if (e.id === b.ReturnId) {
      const value = b.Return.getValue(expr);
      if (value === 0) replace(parent, expr, module.block(null, [writeBack(), expr], b.auto));
      else if (b.getExpressionType(value) !== b.unreachable) b.Return.setValue(expr, thenDo(value, b.getExpressionType(value), writeBack()));
    } else {
      // A call: the write-back goes after its arguments (they can contain loops that burn from the
      // local) and just before the call: around the last operand, or for call_indirect around the
      // table index, which is evaluated last.
      if (e.type === b.unreachable && !e.isReturn) continue; // an argument never returns: the call never happens
      synced++;
      let before = null;
      if (e.id === b.CallIndirectId) {
        b.CallIndirect.setTarget(expr, thenDo(b.CallIndirect.getTarget(expr), b.i32, writeBack()));
      } else if (e.operands.length > 0) {
        const last = b.Call.getOperandAt(expr, e.operands.length - 1);
        b.Call.setOperandAt(expr, e.operands.length - 1, thenDo(last, b.getExpressionType(last), writeBack()));
      } else {
        before = writeBack();
      }
      // return_call leaves this frame for good: nothing to reload.
      let after;
      if (e.isReturn) after = expr;
      else if (e.type === b.none) after = module.block(null, [expr, reload()], b.none);
      else after = thenDo(expr, e.type, reload());
      if (before !== null) after = module.block(null, [before, after], e.isReturn ? b.auto : e.type);
      replace(parent, expr, after);
    }
  }
  // Entry: load (and burn, for a recursive function); exit: write back what is left.
  const entry = module.local.set(f, module.global.get(FUEL_GLOBAL, b.i64));
  const start = isRecursive ? [entry, burn()] : [entry];
  const type = b.getExpressionType(body);
  let end;
  if (type === b.unreachable) end = [body];
  else if (type === b.none) end = [body, writeBack()];
  else end = [thenDo(body, type, writeBack())];
  b.Function.setBody(ref, module.block(null, [...start, ...end], info.results));
  return { synced, hoisted };
}

/**
 * Every exported function (but the fuel API) gets an entry wrapper (the export now names it; calls
 * inside the module still go to the function itself): if a per-call budget is set
 * (tlsbox_set_fuel_per_call), the wrapper sets the fuel to it, so a host needs no tlsbox_set_fuel
 * call (a JS -> wasm call) before each call. Only calls from the host start a new budget: an
 * internal call never resets it (the bound is per call from the host, as with tlsbox_set_fuel).
 */
function addEntryWrappers(b, module) {
  const exports = [];
  for (let i = 0, n = module.getNumExports(); i < n; i++) {
    const info = b.getExportInfo(module.getExportByIndex(i));
    if (info.kind === b.ExternalFunction && !API.has(info.value)) exports.push(info);
  }
  for (const { name, value } of exports) {
    const fn = b.getFunctionInfo(module.getFunction(value));
    const params = b.expandType(fn.params);
    const wrapper = `~tlsbox-entry/${name}`;
    const perCall = () => module.global.get(PER_CALL_GLOBAL, b.i64);
    module.addFunction(wrapper, fn.params, fn.results, [], module.block(null, [
      module.if(module.i64.ge_s(perCall(), module.i64.const(0n)), module.global.set(FUEL_GLOBAL, perCall())),
      module.call(value, params.map((t, i) => module.local.get(i, t)), fn.results),
    ], fn.results));
    module.removeExport(name);
    module.addFunctionExport(wrapper, name);
  }
}

function addFuelExports(b, module) {
  const i32 = b.i32;
  module.addFunction("~tlsbox/set_fuel", b.createType([i32]), b.none, [],
    module.global.set(FUEL_GLOBAL, module.i64.extend_u(module.local.get(0, i32))));
  module.addFunctionExport("~tlsbox/set_fuel", "tlsbox_set_fuel");
  module.addFunction("~tlsbox/set_fuel_per_call", b.createType([i32]), b.none, [],
    module.global.set(PER_CALL_GLOBAL, module.i64.extend_u(module.local.get(0, i32))));
  module.addFunctionExport("~tlsbox/set_fuel_per_call", "tlsbox_set_fuel_per_call");
  // Unlimited: also no per-call budget (the state at instantiation).
  module.addFunction("~tlsbox/fuel_unlimited", b.none, b.none, [], module.block(null, [
    module.global.set(FUEL_GLOBAL, module.i64.const(0x7fffffffffffffffn)),
    module.global.set(PER_CALL_GLOBAL, module.i64.const(-1n)),
  ], b.none));
  module.addFunctionExport("~tlsbox/fuel_unlimited", "tlsbox_fuel_unlimited");
  // fuel < 0 ? -1 : min(fuel, 2^31 - 1)
  const fuel = () => module.global.get(FUEL_GLOBAL, b.i64);
  module.addFunction("~tlsbox/fuel_left", b.none, i32, [],
    module.if(module.i64.lt_s(fuel(), module.i64.const(0n)), module.i32.const(-1),
      module.if(module.i64.gt_s(fuel(), module.i64.const(0x7fffffffn)), module.i32.const(0x7fffffff), module.i32.wrap(fuel()))));
  module.addFunctionExport("~tlsbox/fuel_left", "tlsbox_fuel_left");
}

/** The number of header runs of a counted loop (countedLoop), T + 1, as an i64 expression. */
function headerRuns(b, module, { counter, signed, step, limit, bound }, t) {
  const i64 = module.i64;
  const ext = (x) => (signed ? i64.extend_s(x) : i64.extend_u(x));
  const i0 = ext(module.local.get(counter, b.i32));
  const d = () => module.local.get(t, b.i64);
  const c = (n) => i64.const(BigInt(n));
  let trips;
  if (step > 0) {
    // d = LIMIT - i0; T = d > 0 ? (d + s - 1) / s : 0 (d + s - 1 < 2^33: no overflow; s != 0).
    const up = step === 1 ? d() : i64.div_u(i64.add(d(), c(step - 1)), c(step));
    trips = [module.local.set(t, i64.sub(ext(module.copyExpression(limit)), i0)), module.select(i64.gt_s(d(), c(0)), up, c(0))];
  } else {
    // d = i0 - K; T = d >= 0 ? d / s + 1 : 0.
    const down = i64.add(step === -1 ? d() : i64.div_u(d(), c(-step)), c(1));
    trips = [module.local.set(t, i64.sub(i0, c(bound))), module.select(i64.ge_s(d(), c(0)), down, c(0))];
  }
  return module.block(null, [trips[0], i64.add(trips[1], c(1))], b.i64);
}

/**
 * A loop whose header runs a number of times known when the loop starts, or null. The shape
 * (binaryen's, and AssemblyScript's `for (...; i < n; i++)` / `while (n >= 2) { ...; n -= 2 }`
 * after the optimiser):
 *   loop $L
 *     ...                                   ;; optional, runs once per header (a coverage probe)
 *     if (COND)                             ;; an else arm is allowed (it runs once, at the exit)
 *       ...
 *       local.set $i (i32.add (local.get $i) (i32.const STEP))   ;; or i32.sub
 *       ...
 *       br $L
 *     end
 *   end
 * with COND, STEP and LIMIT one of
 *   up:   $i < LIMIT (signed or unsigned; also LIMIT > $i), STEP = s > 0; LIMIT made of constants,
 *         locals not written in the loop and trap-free i32 arithmetic on them (so it has the same
 *         value at every header, and evaluating a copy before the loop changes nothing); if s > 1,
 *         LIMIT is a constant <= MAX - s + 1 (MAX of the comparison's signedness);
 *   down: $i >= K (or $i > K - 1; also the mirrored forms), STEP = -s < 0, K a constant >= s
 *         (and K - 1 < MAX for the `>` form);
 * and, inside the whole loop (nested code included): $i is written only by that update, a direct
 * child of the then-block before its last child, the unconditional `br $L`; no other branch targets
 * $L and no nested block or loop reuses the label.
 *
 * Then every back-edge follows exactly one update, and the counter never wraps: going up, the
 * update runs only when i < LIMIT, so i + s <= LIMIT - 1 + s <= MAX (s = 1: LIMIT <= MAX); going
 * down, only when i >= K >= s, so i - s >= 0 (signed and unsigned alike). The condition is thus
 * true exactly for the first T headers, with, for the entry value i0 (in 64 bits, same signedness):
 *   up:   d = LIMIT - i0, T = d > 0 ? ceil(d / s) : 0
 *   down: d = i0 - K,     T = d >= 0 ? floor(d / s) + 1 : 0
 * and the header runs T + 1 times (fewer if the body leaves the loop another way, or traps).
 * Returns { counter, signed, step, limit (an expression, up) | bound (a number, down) }.
 */
function countedLoop(b, e) {
  if (!e.name) return null;
  const info = (x) => b.getExpressionInfo(x);
  const constOf = (x) => { const n = info(x); return n.id === b.ConstId && n.type === b.i32 ? n.value : null; };
  let body = info(e.body);
  if (body.id === b.BlockId) {
    if (body.children.length === 0) return null;
    body = info(body.children[body.children.length - 1]);
  }
  if (body.id !== b.IfId) return null;
  const cond = info(body.condition);
  if (cond.id !== b.BinaryId) return null;
  // Normalised to `counterSide OP other`, OP one of < <= > >= (op name, signedness).
  const OPS = new Map([
    [b.LtSInt32, ["<", true]], [b.LtUInt32, ["<", false]], [b.GtSInt32, [">", true]], [b.GtUInt32, [">", false]],
    [b.LeSInt32, ["<=", true]], [b.LeUInt32, ["<=", false]], [b.GeSInt32, [">=", true]], [b.GeUInt32, [">=", false]],
  ]);
  const MIRROR = { "<": ">", ">": "<", "<=": ">=", ">=": "<=" };
  if (!OPS.has(cond.op)) return null;
  const [op, signed] = OPS.get(cond.op);
  // Either side can be the counter (`n > i`, `i < n`: both are local.gets).
  return countedAs(b, e, body, cond.left, cond.right, op, signed) ?? countedAs(b, e, body, cond.right, cond.left, MIRROR[op], signed);
}

/** countedLoop with `counterSide OP other` as the condition (counterSide a local.get, or null). */
function countedAs(b, e, body, counterSide, other, op, signed) {
  const info = (x) => b.getExpressionInfo(x);
  const constOf = (x) => { const n = info(x); return n.id === b.ConstId && n.type === b.i32 ? n.value : null; };
  const counterGet = info(counterSide);
  if (counterGet.id !== b.LocalGetId) return null;
  const counter = counterGet.index;
  // The then-arm: [..., local.set $i ($i ± STEP), ..., br $L].
  const then = info(body.ifTrue);
  if (then.id !== b.BlockId || then.children.length < 2) return null;
  const last = info(then.children[then.children.length - 1]);
  if (last.id !== b.BreakId || last.name !== e.name || last.condition || last.value) return null;
  const stepOf = (x) => {
    const set = info(x);
    if (set.id !== b.LocalSetId || set.isTee || set.index !== counter) return null;
    const v = info(set.value);
    if (v.id !== b.BinaryId || (v.op !== b.AddInt32 && v.op !== b.SubInt32)) return null;
    const isCounter = (g) => { const n = info(g); return n.id === b.LocalGetId && n.index === counter; };
    let c = null;
    if (isCounter(v.left)) c = constOf(v.right);
    else if (v.op === b.AddInt32 && isCounter(v.right)) c = constOf(v.left);
    if (c === null || c === 0 || c === -0x80000000) return null;
    return v.op === b.AddInt32 ? c : -c;
  };
  const steps = then.children.slice(0, -1).map(stepOf).filter((c) => c !== null);
  if (steps.length !== 1) return null;
  const step = steps[0];
  // Everything the loop writes and every branch to it, nested code included.
  const writes = new Map();
  let backEdges = 0, shadowed = false;
  walk(b, e.body, (_x, n) => {
    if (n.id === b.LocalSetId) writes.set(n.index, (writes.get(n.index) ?? 0) + 1);
    else if (n.id === b.BreakId && n.name === e.name) backEdges++;
    else if (n.id === b.SwitchId && (n.defaultName === e.name || n.names.includes(e.name))) backEdges += 2;
    else if ((n.id === b.BlockId || n.id === b.LoopId) && n.name === e.name) shadowed = true;
  });
  if (shadowed || backEdges !== 1 || writes.get(counter) !== 1) return null;
  const MAX = signed ? 0x7fffffff : 0xffffffff;
  const asNumber = (c) => (signed ? c : c >>> 0);
  if (op === "<" && step > 0) {
    const SAFE = new Set([b.AddInt32, b.SubInt32, b.MulInt32, b.AndInt32, b.OrInt32, b.XorInt32, b.ShlInt32, b.ShrUInt32, b.ShrSInt32]);
    const invariant = (x) => {
      const n = info(x);
      if (n.type !== b.i32) return false;
      if (n.id === b.ConstId) return true;
      if (n.id === b.LocalGetId) return !writes.has(n.index);
      if (n.id === b.BinaryId) return SAFE.has(n.op) && invariant(n.left) && invariant(n.right);
      return false;
    };
    if (!invariant(other)) return null;
    if (step > 1) {
      const limit = constOf(other);
      if (limit === null || asNumber(limit) > MAX - step + 1) return null;
    }
    return { counter, signed, step, limit: other };
  }
  if ((op === ">=" || op === ">") && step < 0) {
    const k = constOf(other);
    if (k === null) return null;
    if (op === ">" && asNumber(k) === MAX) return null;
    const bound = asNumber(k) + (op === ">" ? 1 : 0);
    if (bound < -step) return null;
    return { counter, signed, step, bound };
  }
  return null;
}

/**
 * The call graph of the defined functions: per function its callees (call_indirect counts as a call
 * to every function in the table) and how many loops it has. `tableBurns(burning)` says whether
 * any function reachable through the table is in `burning`.
 */
function callGraph(b, module, functions) {
  const table = new Set();
  for (let i = 0, n = module.getNumElementSegments(); i < n; i++) {
    for (const name of b.getElementSegmentInfo(module.getElementSegmentByIndex(i)).data) table.add(name);
  }
  const graph = new Map();
  for (const { info } of functions) {
    const callees = new Set();
    let loops = 0;
    walk(b, info.body, (_expr, e) => {
      if (e.id === b.LoopId) loops++;
      else if (e.id === b.CallId) callees.add(e.target);
      else if (e.id === b.CallIndirectId) for (const t of table) callees.add(t);
    });
    graph.set(info.name, { callees, loops });
  }
  // Imports (no node) never burn fuel; the table's defined functions are graph nodes.
  graph.tableBurns = (burning) => [...table].some((t) => burning.has(t));
  return graph;
}

/**
 * The functions whose call can change the fuel: those with a loop, the recursive ones, and every
 * function that calls one of them (transitively). A call to any other function needs no
 * write-back of a cached counter: it neither reads nor writes the global.
 */
function burningFunctions(graph, recursive) {
  const burning = new Set();
  for (const [name, node] of graph) if (node.loops > 0 || recursive.has(name)) burning.add(name);
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, node] of graph) {
      if (burning.has(name)) continue;
      for (const c of node.callees) {
        if (burning.has(c)) { burning.add(name); changed = true; break; }
      }
    }
  }
  return burning;
}

/** Names of the functions on a cycle of the call graph (Tarjan's strongly connected components). */
function recursiveFunctions(graph) {
  const callees = new Map([...graph].map(([name, node]) => [name, node.callees]));
  const index = new Map(), low = new Map(), onStack = new Set(), stack = [], result = new Set();
  let counter = 0;
  // Iterative Tarjan: a frame is [node, iterator over its callees].
  for (const start of callees.keys()) {
    if (index.has(start)) continue;
    const frames = [[start, callees.get(start)[Symbol.iterator]()]];
    index.set(start, counter); low.set(start, counter); counter++; stack.push(start); onStack.add(start);
    while (frames.length > 0) {
      const [v, it] = frames[frames.length - 1];
      const step = it.next();
      if (!step.done) {
        const w = step.value;
        if (!callees.has(w)) continue; // an import
        if (!index.has(w)) {
          index.set(w, counter); low.set(w, counter); counter++; stack.push(w); onStack.add(w);
          frames.push([w, callees.get(w)[Symbol.iterator]()]);
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v), index.get(w)));
        }
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const u = frames[frames.length - 1][0];
        low.set(u, Math.min(low.get(u), low.get(v)));
      }
      if (low.get(v) === index.get(v)) {
        const component = [];
        let w;
        do { w = stack.pop(); onStack.delete(w); component.push(w); } while (w !== v);
        if (component.length > 1 || callees.get(v).has(v)) for (const c of component) result.add(c);
      }
    }
  }
  return result;
}
