// Coverage probes for the `fuzz` variant of the engine: libFuzzer's "inline 8-bit counters" done as
// a binaryen rewrite. Every basic-block entry the structured control flow exposes gets its own
// one-byte counter, incremented (wrapping) when control arrives:
//   - function entry and loop header (each iteration),
//   - both arms of every `if` (an `else` arm is added where there is none),
//   - both outcomes of every plain `br_if` (rewritten as `if (c) { probe; br } else { probe }`),
//   - the join point after every labelled block (where `br`/`br_table` land).
// Counters per block rather than AFL's hashed edges: no hash collisions, no `prev_location` global
// to maintain, and with probes on both sides of every branch the counters already tell the edges
// apart. The fuzzer buckets the counts (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+) like AFL.
//
// The map lives at a fixed address below the module's data: the variant is compiled with
// --memoryBase 65536, so [MAP_BASE, 65536) is never used by AssemblyScript's data segments or heap.
// Exports added: fuzz_coverage_ptr(): i32 and fuzz_coverage_size(): i32.
import { definedFunctions, prepend, walk } from "./walk.mjs";

export const MAP_BASE = 4096;
export const MAP_LIMIT = 65536;

export default class CoverageTransform {
  afterCompile(module) {
    const b = this.binaryen;
    for (let i = 0, n = module.getNumDataSegments(); i < n; i++) {
      const seg = module.getDataSegmentInfo(module.getDataSegmentByIndex(i));
      if (!seg.passive && seg.offset < MAP_LIMIT) {
        throw new Error(`coverage transform: data segment at ${seg.offset} overlaps the map; build with --memoryBase ${MAP_LIMIT}`);
      }
    }
    let next = 0;
    const probe = () => {
      const id = next++;
      // mem[MAP_BASE + id] += 1; the id rides in the static offset so each probe is one load and one store.
      return module.i32.store8(id, 1, module.i32.const(MAP_BASE),
        module.i32.add(module.i32.load8_u(id, 1, module.i32.const(MAP_BASE)), module.i32.const(1)));
    };

    for (const { ref, info } of definedFunctions(b, module)) {
      // Insertions into blocks are collected and applied from the back, so indices stay valid.
      const inserts = [];
      walk(b, info.body, (expr, e, parent, index) => {
        if (e.id === b.LoopId) {
          b.Loop.setBody(expr, prepend(module, probe(), e.body, b.getExpressionType(e.body)));
        } else if (e.id === b.IfId) {
          b.If.setIfTrue(expr, prepend(module, probe(), e.ifTrue, b.getExpressionType(e.ifTrue)));
          if (e.ifFalse) b.If.setIfFalse(expr, prepend(module, probe(), e.ifFalse, b.getExpressionType(e.ifFalse)));
          else b.If.setIfFalse(expr, probe());
        } else if (e.id === b.BreakId && e.condition && !e.value && parent?.info.id === b.BlockId) {
          const replacement = module.if(e.condition, module.block(null, [probe(), module.br(e.name)], b.none), probe());
          b.Block.setChildAt(parent.expr, index, replacement);
        } else if (e.id === b.BlockId && e.name && parent?.info.id === b.BlockId) {
          // A probe after the block must not become the parent's value: only where the block is
          // not the parent's last child, or the parent yields nothing.
          const siblings = parent.info.children.length;
          if (index < siblings - 1 || parent.info.type === b.none) inserts.push([parent.expr, index + 1]);
        }
      });
      inserts.sort((x, y) => (x[0] - y[0]) || (y[1] - x[1]));
      for (const [block, at] of inserts) b.Block.insertChildAt(block, at, probe());
      b.Function.setBody(ref, prepend(module, probe(), b.Function.getBody(ref), info.results));
    }
    if (MAP_BASE + next > MAP_LIMIT) throw new Error(`coverage transform: ${next} probes do not fit the map`);

    module.addFunction("~tlsbox/coverage_ptr", b.none, b.i32, [], module.i32.const(MAP_BASE));
    module.addFunctionExport("~tlsbox/coverage_ptr", "fuzz_coverage_ptr");
    module.addFunction("~tlsbox/coverage_size", b.none, b.i32, [], module.i32.const(next));
    module.addFunctionExport("~tlsbox/coverage_size", "fuzz_coverage_size");
    if (process.env.TLSBOX_TRANSFORM_VERBOSE) this.log(`coverage: ${next} probes`);
  }
}
