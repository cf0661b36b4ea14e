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

/** binaryen.js's class for each expression id the walker knows (the holder of its child setters). */
function expressionClasses(binaryen) {
  const b = binaryen;
  return new Map([
    [b.BlockId, b.Block], [b.IfId, b.If], [b.LoopId, b.Loop], [b.BreakId, b.Break], [b.SwitchId, b.Switch],
    [b.CallId, b.Call], [b.CallIndirectId, b.CallIndirect], [b.LocalSetId, b.LocalSet], [b.GlobalSetId, b.GlobalSet],
    [b.LoadId, b.Load], [b.StoreId, b.Store], [b.UnaryId, b.Unary], [b.BinaryId, b.Binary], [b.SelectId, b.Select],
    [b.DropId, b.Drop], [b.ReturnId, b.Return], [b.MemoryGrowId, b.MemoryGrow], [b.SIMDExtractId, b.SIMDExtract],
    [b.SIMDReplaceId, b.SIMDReplace], [b.SIMDShuffleId, b.SIMDShuffle], [b.SIMDTernaryId, b.SIMDTernary],
    [b.SIMDShiftId, b.SIMDShift], [b.SIMDLoadId, b.SIMDLoad], [b.SIMDLoadStoreLaneId, b.SIMDLoadStoreLane],
    [b.MemoryInitId, b.MemoryInit], [b.MemoryCopyId, b.MemoryCopy], [b.MemoryFillId, b.MemoryFill],
  ]);
}

/**
 * Puts `replacement` where `child` is among the CURRENT children of `parent` (an expression ref; its
 * children are read again, so earlier replacements under the same parent are seen). Throws if
 * `child` is not a child of `parent`: a rewrite that silently missed its target could leave a
 * probe out. A replacement in a function's body root is the caller's job (Function.setBody).
 */
export function replaceChild(binaryen, parent, child, replacement) {
  const b = binaryen;
  const info = b.getExpressionInfo(parent);
  const names = childFields(b).get(info.id);
  const cls = expressionClasses(b).get(info.id);
  if (names === undefined || cls === undefined) throw new Error(`tlsbox transform: cannot replace a child of expression id ${info.id}`);
  for (const name of names) {
    const v = info[name];
    if (Array.isArray(v)) {
      const i = v.indexOf(child);
      if (i < 0) continue;
      if (name === "children") cls.setChildAt(parent, i, replacement);
      else if (name === "operands") cls.setOperandAt(parent, i, replacement);
      else throw new Error(`tlsbox transform: no setter for ${name}`);
      return;
    }
    if (v === child) {
      cls[`set${name[0].toUpperCase()}${name.slice(1)}`](parent, replacement);
      return;
    }
  }
  throw new Error(`tlsbox transform: expression ${child} is not a child of ${parent}`);
}

/** Adds a local of `type` to a function; returns its index. */
export function addLocal(binaryen, func, type) {
  return binaryen._BinaryenFunctionAddVar(func, type);
}
