// The tlsbox program. One bundle for every role, chosen by how the process was started:
//   tlsbox                         the default set-up (self-signed certificate, demo backend)
//   tlsbox --config FILE | --OPTION VALUE ...   the supervisor (titus's options)
//   tlsbox ... --check             validate the configuration and exit
//   TLSBOX_ROLE=worker (a cluster worker, argv `--role worker` for ps)   a worker
//   TLSBOX_ROLE=keyserver           the key server, started by the supervisor
//   TLSBOX_ROLE=demo-certificate    makes the default set-up's key and certificate, then exits
// so `node dist/tlsbox.mjs` and a single executable behave the same.
import { spawn } from "node:child_process";
import cluster from "node:cluster";
import { ExitCode, loadConfig, readConfiguration, type Config } from "./config";
import { CERTIFICATE_ROLE, runCertificateRole, runDefault } from "./demo/default";
import { ProxyError } from "./proxy/errors";
import { Logger } from "./proxy/log";
import { exitCodeOf, prepare, ROLE_VARIABLE, Supervisor } from "./proxy/supervisor";
import { runWorker } from "./proxy/worker";

const VERSION = "0.1.0";
/** Set in the environment of the background process of `daemon yes`. */
const DAEMON_VARIABLE = "TLSBOX_DAEMON_CHILD";

const USAGE = `usage: tlsbox                       run the default set-up (self-signed certificate, demo backend)
       tlsbox --config FILE [--OPTION VALUE ...] [--check]
       tlsbox --port 8443 --backend 127.0.0.1 --backend-port 8080 --cert c.pem --key k.pem
Options are titus's (see README.md, "Configuration"). --check validates and exits.`;

/** True when running as Node's single executable (the program is process.execPath itself). */
function isSingleExecutable(): boolean {
  try {
    return (require("node:sea") as { isSea(): boolean }).isSea();
  } catch {
    // Node.js before 20.12 has no node:sea, and no single executables of this kind either.
    return false;
  }
}

/**
 * The script path children are started with. A single executable gets it too (Node repeats the
 * executable's path as argv[1] there), which is why roles are chosen by the environment, not argv.
 */
function program(): string {
  return process.argv[1] ?? process.execPath;
}

async function main(argv: string[]): Promise<number | null> {
  if (process.env[ROLE_VARIABLE] === "keyserver") {
    // A terminal's Ctrl-C or hangup reaches the whole process group; the key server ends when the
    // supervisor closes its stream (or SIGTERMs it), so open handshakes can finish during a drain.
    process.on("SIGINT", () => {});
    process.on("SIGHUP", () => {});
    // The key server reads its configuration (JSON) from argv[2]. It is the last argument it was
    // started with; a single executable may have the executable's path in between.
    const configArg = process.argv[process.argv.length - 1]!;
    process.argv.splice(2, process.argv.length - 2, configArg);
    await import("./keyserver/main");
    return null;
  }
  // By the environment, not argv: a single executable may see its own path among its arguments.
  if (cluster.isWorker && process.env[ROLE_VARIABLE] === "worker") {
    runWorker();
    return null;
  }
  if (process.env[ROLE_VARIABLE] === CERTIFICATE_ROLE) return runCertificateRole();
  if (argv.length === 0) return runDefault(program(), ROLE_VARIABLE);
  if (argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.OK;
  }
  if (argv[0] === "--version") {
    process.stdout.write(`tlsbox ${VERSION}\n`);
    return ExitCode.OK;
  }
  const out = { out: (line: string) => process.stdout.write(`${line}\n`), err: (line: string) => process.stderr.write(`${line}\n`) };
  const outcome = readConfiguration(argv, out);
  if (!outcome.ok) return outcome.exitCode;
  const config = outcome.config;
  if (config.check) return check(config);
  if (config.daemon && process.env[DAEMON_VARIABLE] !== "1") return daemonize(argv);
  return supervise(argv, config);
}

/** --check: beyond the configuration itself, the certificates must load and suit the engine. */
function check(config: Config): number {
  try {
    const warnings: string[] = [];
    prepare(config, 0, warnings);
    for (const w of warnings) process.stderr.write(`tlsbox: warning: ${w}\n`);
  } catch (e) {
    process.stderr.write(`tlsbox: but it cannot be used: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitCodeOf(e);
  }
  return ExitCode.OK;
}

async function supervise(argv: string[], config: Config): Promise<number> {
  const log = new Logger("supervisor", config.logLevel);
  const supervisor = new Supervisor({
    reloadConfig: () => loadConfig(argv),
    program: program(),
    log,
    onReady: () => {
      // The foreground process of `daemon yes` waits for this before it exits.
      if (process.env[DAEMON_VARIABLE] === "1" && process.send !== undefined) {
        process.send({ t: "daemon-ready" }, undefined, {}, () => process.disconnect());
      }
    },
  });
  try {
    await supervisor.start(config);
  } catch (e) {
    log.error(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
    return exitCodeOf(e);
  }
  return supervisor.exited;
}

/** `daemon yes`: run in a new session in the background; return once it reports it is serving. */
function daemonize(argv: string[]): Promise<number> {
  const args = isSingleExecutable() || process.argv[1] === undefined ? argv : [process.argv[1], ...argv];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ["ignore", "ignore", "ignore", "ipc"],
    env: { ...process.env, [DAEMON_VARIABLE]: "1" },
  });
  return new Promise((resolve) => {
    child.on("message", (m: unknown) => {
      if (typeof m === "object" && m !== null && (m as { t?: unknown }).t === "daemon-ready") {
        process.stdout.write(`tlsbox: running in the background (pid ${child.pid})\n`);
        child.unref();
        child.disconnect();
        resolve(ExitCode.OK);
      }
    });
    child.on("exit", (code) => {
      process.stderr.write(`tlsbox: the background process exited during start-up (code ${code}); run without 'daemon yes' to see why\n`);
      resolve(code ?? ExitCode.SYSTEM_ERROR);
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exit(code);
  },
  (e: unknown) => {
    const message = e instanceof ProxyError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`tlsbox: ${message}\n`);
    process.exit(exitCodeOf(e));
  },
);
