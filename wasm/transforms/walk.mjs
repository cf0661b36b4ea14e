// Shared by the instrumentation transforms (fuel.mjs, coverage.mjs): a walk over every expression
// of a binaryen module, handing each node to a visitor with its parent, so a transform can find
// loops, ifs, branches and block ends without a case per expression kind of its own.
//
// The transforms run in asc's afterCompile hook, i.e. on the unoptimised module: the optimiser
// then runs over the instrumented code, so the probes are inlined, merged and scheduled like any
// other code rather than bolted onto the final binary.

/**
 * The child expressions of a node, by expression id. A kind the table does not know makes the build
 * fail: silently skipping a node could leave a loop unmetered, which is the one thing fuel exists
 * to prevent.
 */
export function childFields(binaryen) {
  const b = binaryen;
  return new Map([
    [b.BlockId, ["children"]],
    [b.IfId, ["condition", "ifTrue", "ifFalse"]],
    [b.LoopId, ["body"]],
    [b.BreakId, ["condition", "value"]],
    [b.SwitchId, ["condition", "value"]],
    [b.CallId, ["operands"]],
    [b.CallIndirectId, ["target", "operands"]],
    [b.LocalGetId, []],
    [b.LocalSetId, ["value"]],
    [b.GlobalGetId, []],
    [b.GlobalSetId, ["value"]],
    [b.LoadId, ["ptr"]],
    [b.StoreId, ["ptr", "value"]],
    [b.ConstId, []],
    [b.UnaryId, ["value"]],
    [b.BinaryId, ["left", "right"]],
    [b.SelectId, ["ifTrue", "ifFalse", "condition"]],
    [b.DropId, ["value"]],
    [b.ReturnId, ["value"]],
    [b.MemorySizeId, []],
    [b.MemoryGrowId, ["delta"]],
    [b.NopId, []],
    [b.UnreachableId, []],
    [b.SIMDExtractId, ["vec"]],
    [b.SIMDReplaceId, ["vec", "value"]],
    [b.SIMDShuffleId, ["left", "right"]],
    [b.SIMDTernaryId, ["a", "b", "c"]],
    [b.SIMDShiftId, ["vec", "shift"]],
    [b.SIMDLoadId, ["ptr"]],
    [b.SIMDLoadStoreLaneId, ["ptr", "vec"]],
    [b.MemoryInitId, ["dest", "offset", "size"]],
    [b.DataDropId, []],
    [b.MemoryCopyId, ["dest", "source", "size"]],
    [b.MemoryFillId, ["dest", "value", "size"]],
  ]);
}

/**
 * Calls visit(expr, info, parent, index) for every expression under `root`, parents before
 * children. `parent` is the enclosing expression's {expr, info} (null at the root) and `index` the
 * position among a block's children (else -1). Iterative: AssemblyScript emits deep nests for long
 * `if … else if` chains and a recursive walk could overflow the JS stack.
 */
export function walk(binaryen, root, visit) {
  const fields = childFields(binaryen);
  const stack = [[root, null, -1]];
  while (stack.length > 0) {
    const [expr, parent, index] = stack.pop();
    if (expr === 0) continue;
    const id = binaryen.getExpressionId(expr);
    const names = fields.get(id);
    if (names === undefined) throw new Error(`tlsbox transform: expression id ${id} not handled by the walker`);
    // Leaves need no info (and binaryen.js has no info reader for some, e.g. Unreachable).
    const info = names.length === 0 ? { id, type: binaryen.getExpressionType(expr) } : binaryen.getExpressionInfo(expr);
    visit(expr, info, parent, index);
    const self = { expr, info };
    for (const name of names) {
      const v = info[name];
      if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], self, info.id === binaryen.BlockId ? i : -1]);
      else if (v) stack.push([v, self, -1]);
    }
  }
}

/** Every function of the module that has a body (imports have none). */
export function definedFunctions(binaryen, module) {
  const out = [];
  for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
    const ref = module.getFunctionByIndex(i);
    const info = binaryen.getFunctionInfo(ref);
    if (info.module === null || info.module === "") out.push({ ref, info });
  }
  return out;
}

/** Wraps `body` so `probe` runs first; the wrapper keeps the body's type. */
export function prepend(module, probe, body, type) {
  return module.block(null, [probe, body], type);
}
