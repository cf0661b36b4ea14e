// Fuel metering (DESIGN.md invariants 4 and 5): a sandbox call that runs away must end in a trap
// the host can handle, not freeze the event loop that carries every other connection.
//
// Every unbounded path through WebAssembly code goes through a loop back-edge or a recursive call;
// straight-line code between them is bounded by the size of the module. So one unit of fuel is
// burned at the top of every loop body (once per iteration) and at the entry of every function
// that can recurse (a cycle in the call graph, call_indirect counted as a call to every function
// in the table), and the instance traps with `unreachable` when the fuel goes below zero.
//
// Exports added to the module:
//   tlsbox_set_fuel(n: i32)        budget for the next calls, n read as unsigned (up to 2^32 - 1)
//   tlsbox_fuel_left(): i32         what is left (capped at 2^31 - 1); -1 once the budget ran out
//   tlsbox_fuel_unlimited()         no budget (also the state at instantiation)
// The budget starts unlimited, so a host that never sets it sees no behaviour change, and an
// instance that trapped for fuel stays at -1 (the host discards it anyway: invariant 5).
import { definedFunctions, prepend, walk } from "./walk.mjs";

export const FUEL_GLOBAL = "~tlsbox/fuel";

export default class FuelTransform {
  afterCompile(module) {
    const b = this.binaryen;
    module.addGlobal(FUEL_GLOBAL, b.i64, true, module.i64.const(0x7fffffffffffffffn));
    addFuelExports(b, module);
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
      const { loops, recursive } = meter(b, module);
      if (process.env.TLSBOX_TRANSFORM_VERBOSE) this.log(`fuel: ${loops} loops, ${recursive} recursive functions metered`);
    };
  }
}

/** Burns fuel at every loop header and at the entry of every recursive function. */
function meter(b, module) {
  // fuel -= 1; if (fuel < 0) unreachable. The decrement comes first so an exhausted instance
  // keeps a negative counter the host can read (tlsbox_fuel_left() == -1).
  const burn = () => module.block(null, [
    module.global.set(FUEL_GLOBAL, module.i64.sub(module.global.get(FUEL_GLOBAL, b.i64), module.i64.const(1n))),
    module.if(module.i64.lt_s(module.global.get(FUEL_GLOBAL, b.i64), module.i64.const(0n)), module.unreachable()),
  ], b.none);
  const functions = definedFunctions(b, module).filter(({ info }) => !info.name.startsWith("~tlsbox/"));
  const recursive = recursiveFunctions(b, module, functions);
  let loops = 0;
  for (const { ref, info } of functions) {
    walk(b, info.body, (expr, e) => {
      if (e.id !== b.LoopId) return;
      b.Loop.setBody(expr, prepend(module, burn(), e.body, b.getExpressionType(e.body)));
      loops++;
    });
    if (recursive.has(info.name)) b.Function.setBody(ref, prepend(module, burn(), info.body, info.results));
  }
  return { loops, recursive: recursive.size };
}

function addFuelExports(b, module) {
  const i32 = b.i32;
  module.addFunction("~tlsbox/set_fuel", b.createType([i32]), b.none, [],
    module.global.set(FUEL_GLOBAL, module.i64.extend_u(module.local.get(0, i32))));
  module.addFunctionExport("~tlsbox/set_fuel", "tlsbox_set_fuel");
  module.addFunction("~tlsbox/fuel_unlimited", b.none, b.none, [],
    module.global.set(FUEL_GLOBAL, module.i64.const(0x7fffffffffffffffn)));
  module.addFunctionExport("~tlsbox/fuel_unlimited", "tlsbox_fuel_unlimited");
  // fuel < 0 ? -1 : min(fuel, 2^31 - 1)
  const fuel = () => module.global.get(FUEL_GLOBAL, b.i64);
  module.addFunction("~tlsbox/fuel_left", b.none, i32, [],
    module.if(module.i64.lt_s(fuel(), module.i64.const(0n)), module.i32.const(-1),
      module.if(module.i64.gt_s(fuel(), module.i64.const(0x7fffffffn)), module.i32.const(0x7fffffff), module.i32.wrap(fuel()))));
  module.addFunctionExport("~tlsbox/fuel_left", "tlsbox_fuel_left");
}

/** Names of the functions on a cycle of the call graph (Tarjan's strongly connected components). */
function recursiveFunctions(b, module, functions) {
  const table = new Set();
  for (let i = 0, n = module.getNumElementSegments(); i < n; i++) {
    for (const name of b.getElementSegmentInfo(module.getElementSegmentByIndex(i)).data) table.add(name);
  }
  const callees = new Map();
  for (const { info } of functions) {
    const out = new Set();
    walk(b, info.body, (_expr, e) => {
      if (e.id === b.CallId) out.add(e.target);
      else if (e.id === b.CallIndirectId) for (const t of table) out.add(t);
    });
    callees.set(info.name, out);
  }
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
