// How tlsbox starts more of itself (workers, the key server). The program is one bundle for
// every role, run either as `node dist/tlsbox.mjs ARGS` or as the single executable
// `dist/tlsbox ARGS` (Node's single-executable-application support). In the second form there is
// no script path: the executable is the program, and Node puts its path in argv[1] itself.

function runningAsSingleExecutable(): boolean {
  try {
    // node:sea exists from Node 20.12; it tells whether this process is a single executable.
    return (require("node:sea") as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

/** The command and arguments that start this same program with `args`. */
export function selfCommand(args: readonly string[]): { command: string; args: string[] } {
  if (runningAsSingleExecutable()) return { command: process.execPath, args: [...args] };
  const script = process.argv[1];
  if (script === undefined) throw new Error("cannot tell which script is running (process.argv[1] is empty)");
  return { command: process.execPath, args: [script, ...args] };
}
