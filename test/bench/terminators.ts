// The two TLS terminators a proxy benchmark compares, started with equivalent settings: the same
// certificate and key, the same backend, TLS 1.3 only, the same suites and key-exchange group, no
// session resumption offered by the server, one process (tlsbox: one worker, beside which run
// its supervisor and key server; stunnel: its single process, one thread per connection).
//
// Each runs in its own process group, logs to a file in the run's temporary directory, and is
// ready once a TLS handshake through it succeeds. stop() ends the whole process tree.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { tlsOpen } from "./clients";
import { killTree } from "./procstat";

export type TerminatorName = "tlsbox" | "stunnel";

export interface TerminatorOptions {
  readonly certFile: string;
  readonly keyFile: string;
  /** TLS 1.3 suites the server allows (IANA names), in its order of preference. */
  readonly suites: readonly string[];
  readonly backendPort: number;
  /** A private directory for the config and the log. */
  readonly dir: string;
  /** taskset CPU list for the terminator's processes, or null to leave them unpinned. */
  readonly cpus: string | null;
  /** Connections the benchmark will hold open at once (stunnel has no limit but its fd limit). */
  readonly maxConnections: number;
}

export interface Terminator {
  readonly name: TerminatorName;
  /** The process whose tree is the terminator (tlsbox: the supervisor). */
  readonly pid: number;
  readonly port: number;
  /** The end of its log, for error messages. */
  logTail(): string;
  stop(): Promise<void>;
}

/** The tlsbox program to benchmark, or null if it is not built. */
export function tlsboxProgram(): string | null {
  const path = resolve(process.env.TLSBOX_PROGRAM ?? "dist/tlsbox.mjs");
  return existsSync(path) ? path : null;
}

/** The stunnel executable (Debian's stunnel4 package installs both names), or null. */
export function stunnelProgram(): string | null {
  const candidates = process.env.STUNNEL !== undefined ? [process.env.STUNNEL] : ["stunnel4", "stunnel"];
  for (const name of candidates) {
    for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
      const path = name.includes("/") ? name : join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  return null;
}

/** A free loopback port (there is a small race until the terminator binds it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r, j) => {
    server.once("error", j);
    server.listen(0, "127.0.0.1", r);
  });
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

const OPENSSL_GROUP = "X25519";
const TLSBOX_GROUP = "x25519";

export async function startStunnel(program: string, opts: TerminatorOptions): Promise<Terminator> {
  const port = await freePort();
  const config = join(opts.dir, "stunnel.conf");
  writeFileSync(config, [
    "foreground = yes",
    "pid =",
    "syslog = no",
    "debug = err",
    "",
    "[bench]",
    `accept = 127.0.0.1:${port}`,
    `connect = 127.0.0.1:${opts.backendPort}`,
    `cert = ${opts.certFile}`,
    `key = ${opts.keyFile}`,
    "sslVersionMin = TLSv1.3",
    "sslVersionMax = TLSv1.3",
    `ciphersuites = ${opts.suites.join(":")}`,
    `curves = ${OPENSSL_GROUP}`,
    // No tickets, no session cache: every connection is a full handshake, and no ticket is
    // minted that tlsbox (which issues none) would not pay for.
    "sessionResume = no",
    "options = NO_TICKET",
    // Close at once after the peer's close_notify or FIN instead of waiting for the other side's.
    "TIMEOUTclose = 0",
    "socket = l:TCP_NODELAY=1",
    "socket = r:TCP_NODELAY=1",
    "",
  ].join("\n"));
  return launch("stunnel", [program, config], port, opts);
}

export async function startTlsbox(program: string, opts: TerminatorOptions): Promise<Terminator> {
  const port = await freePort();
  const config = join(opts.dir, "tlsbox.conf");
  writeFileSync(config, [
    `listen 127.0.0.1:${port}`,
    "backend 127.0.0.1",
    `backend-port ${opts.backendPort}`,
    `cert ${opts.certFile}`,
    `key ${opts.keyFile}`,
    "workers 1",
    // titus's default (100) would queue the idle connections of the memory measurement.
    `max-children ${opts.maxConnections}`,
    "tlsv1.2 no",
    `ciphers ${opts.suites.join(":")}`,
    `groups ${TLSBOX_GROUP}`,
    "log-level warn",
    "",
  ].join("\n"));
  return launch("tlsbox", [process.execPath, program, "--config", config], port, opts);
}

async function launch(name: TerminatorName, command: string[], port: number, opts: TerminatorOptions): Promise<Terminator> {
  const logFile = join(opts.dir, `${name}.log`);
  const log = openSync(logFile, "a");
  const argv = opts.cpus === null ? command : ["taskset", "-c", opts.cpus, ...command];
  let child: ChildProcess;
  try {
    // taskset execs the command, so the pid is the terminator's own.
    child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", log, log], detached: true });
  } finally {
    closeSync(log);
  }
  let exited: string | null = null;
  const exit = new Promise<void>((r) => {
    child.once("exit", (code, sig) => {
      exited = `exited with ${sig ?? code}`;
      r();
    });
    child.once("error", (e) => {
      exited = `failed to start: ${e.message}`;
      r();
    });
  });
  const logTail = (): string => {
    try {
      return readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");
    } catch {
      return "";
    }
  };
  let stopped = false;
  const terminator: Terminator = {
    name,
    pid: child.pid ?? -1,
    port,
    logTail,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child.pid !== undefined && exited === null) {
        await killTree(child.pid);
        await Promise.race([exit, new Promise((r) => setTimeout(r, 3000))]);
        // Its own process group: anything of it that escaped the tree walk.
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // the group is empty
        }
      }
    },
  };
  try {
    await waitReady(terminator, opts.suites[0]!, () => exited);
  } catch (e) {
    await terminator.stop();
    throw e;
  }
  return terminator;
}

/** Waits (at most 20 s) until a TLS handshake through the terminator succeeds. */
async function waitReady(t: Terminator, suite: string, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = "";
  while (Date.now() < deadline) {
    const status = exited();
    if (status !== null) throw new Error(`${t.name} ${status} before it was ready:\n${t.logTail()}`);
    try {
      const socket = await tlsOpen(t.port, suite, 2000);
      socket.destroy();
      return;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${t.name} not ready after 20 s (${last}):\n${t.logTail()}`);
}
