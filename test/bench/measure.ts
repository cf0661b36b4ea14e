// Measuring helpers shared by the benchmarks.
//
// The machine is shared and noisy, so a benchmark never reports an absolute time alone: each
// figure is printed beside a native reference measured in the same run, interleaved round by
// round so both sides see the same noise, and the median round is kept.

export interface Result {
  primitive: string;
  sandbox: number;
  native: number | null;
  unit: "MB/s" | "us/op";
  /** sandbox / native (for us/op lower is better, for MB/s higher is better). */
  ratio: number | null;
}

/** Operations per second of `op`, over rounds of about `roundMs`. */
function opsPerSecond(op: () => void, roundMs: number): number {
  // Size the batch so a round lasts about roundMs.
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) op();
    const elapsed = performance.now() - t0;
    if (elapsed >= roundMs) return (batch * 1000) / elapsed;
    batch *= elapsed < roundMs / 8 ? 8 : 2;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export interface Pair {
  sandbox: () => void;
  native: (() => void) | null;
}

/**
 * Runs both sides in alternating rounds (after a warm-up) and returns the median rate of each.
 * `bytesPerOp` turns the rate into MB/s (10^6 bytes); without it the result is µs per operation.
 */
export function compare(primitive: string, pair: Pair, bytesPerOp?: number, rounds = 7, roundMs = 120): Result {
  opsPerSecond(pair.sandbox, roundMs);
  if (pair.native) opsPerSecond(pair.native, roundMs);
  const sandboxRates: number[] = [];
  const nativeRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    sandboxRates.push(opsPerSecond(pair.sandbox, roundMs));
    if (pair.native) nativeRates.push(opsPerSecond(pair.native, roundMs));
  }
  const toFigure = (rate: number): number => (bytesPerOp !== undefined ? (rate * bytesPerOp) / 1e6 : 1e6 / rate);
  const sandbox = toFigure(median(sandboxRates));
  const native = pair.native ? toFigure(median(nativeRates)) : null;
  return {
    primitive,
    sandbox: round(sandbox),
    native: native === null ? null : round(native),
    unit: bytesPerOp !== undefined ? "MB/s" : "us/op",
    ratio: native === null ? null : Math.round((sandbox / native) * 1000) / 1000,
  };
}

function round(x: number): number {
  return x >= 100 ? Math.round(x * 10) / 10 : Math.round(x * 100) / 100;
}

/** Prints results as a table, or as one JSON object per line with --json. */
export function report(results: Result[], json: boolean): void {
  if (json) {
    for (const r of results) console.log(JSON.stringify(r));
    return;
  }
  const rows = results.map((r) => [
    r.primitive,
    `${r.sandbox} ${r.unit}`,
    r.native === null ? "-" : `${r.native} ${r.unit}`,
    r.ratio === null ? "-" : r.ratio.toFixed(3),
  ]);
  const header = ["primitive", "sandbox", "node:crypto", "sandbox/native"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
