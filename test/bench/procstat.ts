// What a process tree costs, read from /proc (Linux): CPU seconds and resident memory of a process
// and every descendant — for tlsbox the supervisor, its workers and the key server; for stunnel
// its one process (all threads). Also the one way the benchmarks and tests end such a tree.
//
// /proc/PID/stat of a thread-group leader sums all its threads. A descendant that has exited and
// been waited for is no longer in the tree, but its time moved into its parent's cutime/cstime,
// so counting those fields too keeps the sum monotonic across a worker restart.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** R, S, D, Z, ... */
  readonly state: string;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly cpuTicks: number;
  /** Resident set, in pages. */
  readonly rssPages: number;
}

export interface TreeUsage {
  readonly pids: number[];
  /** utime + stime over the tree (including reaped children), in seconds. */
  readonly cpuSeconds: number;
  /** Sum of the resident sets of the tree's processes (shared pages counted in each). */
  readonly rssBytes: number;
}

function getconf(name: string, fallback: number): number {
  try {
    const n = Number(execFileSync("getconf", [name], { encoding: "utf8", timeout: 5000 }).trim());
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

let clockTicks: number | undefined;
let pageSize: number | undefined;
/** Clock ticks per second (USER_HZ), usually 100: CPU figures have a 10 ms grain. */
export function ticksPerSecond(): number {
  return (clockTicks ??= getconf("CLK_TCK", 100));
}
export function pageBytes(): number {
  return (pageSize ??= getconf("PAGESIZE", 4096));
}

/** Parses one /proc/PID/stat line (proc(5)); the command name may contain spaces and parentheses. */
export function parseStat(line: string): ProcStat {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`unexpected /proc stat line: ${line.slice(0, 80)}`);
  // Fields from 3 (state) on; field N of proc(5) is rest[N - 3].
  const rest = line.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): number => Number(rest[n - 3]);
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid: field(4),
    cpuTicks: field(14) + field(15) + field(16) + field(17),
    rssPages: field(24),
  };
}

/** The stat of one process, or null if it is gone. */
export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

/** Every live process, found by scanning /proc. */
function allProcesses(): ProcStat[] {
  const found: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== null) found.push(stat);
  }
  return found;
}

/** `root` and all its live descendants (children found through the ppid field), root first. */
export function processTree(root: number): ProcStat[] {
  const all = allProcesses();
  const children = new Map<number, ProcStat[]>();
  let rootStat: ProcStat | undefined;
  for (const p of all) {
    if (p.pid === root) rootStat = p;
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [p]);
    else list.push(p);
  }
  if (rootStat === undefined) return [];
  const tree = [rootStat];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!.pid) ?? []));
  return tree;
}

export function treeUsage(root: number): TreeUsage {
  const tree = processTree(root);
  let ticks = 0;
  let pages = 0;
  for (const p of tree) {
    ticks += p.cpuTicks;
    if (p.state !== "Z") pages += p.rssPages;
  }
  return { pids: tree.map((p) => p.pid), cpuSeconds: ticks / ticksPerSecond(), rssBytes: pages * pageBytes() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Ends `root` and its descendants: SIGTERM to each, then SIGKILL to whatever is still alive
 * after `graceMs`. The tree is listed before signalling, so children re-parented to init when
 * their parent dies first are still reached.
 */
export async function killTree(root: number, graceMs = 2000): Promise<void> {
  const pids = processTree(root).map((p) => p.pid);
  if (pids.length === 0) return;
  for (const pid of pids) signal(pid, "SIGTERM");
  const alive = (): number[] => pids.filter((pid) => {
    const s = readStat(pid);
    return s !== null && s.state !== "Z";
  });
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await sleep(25);
  for (const pid of alive()) signal(pid, "SIGKILL");
}
