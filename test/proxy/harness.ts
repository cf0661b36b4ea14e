// End-to-end harness: the real program in its own processes, real backends, real clients. Every
// process started here is tracked and killed by `cleanup()`; every wait is bounded.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { PROGRAM } from "../helpers/program";

export { PROGRAM };

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "tlsbox-proxy-"));
}

export interface CertFiles {
  cert: string;
  key: string;
  pem: string;
}

/** A self-signed certificate for `names` (first is the CN), made by `openssl req -x509`. */
export function makeCert(dir: string, file: string, names: string[], kind: "rsa" | "p256" = "rsa"): CertFiles {
  const cert = join(dir, `${file}.cert.pem`);
  const key = join(dir, `${file}.key.pem`);
  const newkey = kind === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
  const san = names.map((n) => (/^[0-9.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  execFileSync("openssl", ["req", "-x509", ...newkey, "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${names[0]}`,
    "-addext", `subjectAltName=${san}`], { stdio: "ignore" });
  return { cert, key, pem: readFileSync(cert, "utf8") };
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects after `ms` with `what` in the message. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]);
}

// ---- Backends -------------------------------------------------------------------------------------

export interface Backend {
  /** TCP port, or 0 for a UNIX socket. */
  port: number;
  path: string | null;
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

function track(server: Server, path: string | null): Backend {
  const sockets = new Set<Socket>();
  const backend: Backend = {
    port: path === null ? (server.address() as AddressInfo).port : 0,
    path,
    accepted: 0,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  server.on("connection", (s: Socket) => {
    backend.accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return backend;
}

/**
 * Echoes everything back; when the proxy half-closes (the client's close_notify), writes `trailer`
 * after the echo and then ends its side: a client that sees the trailer followed by a clean end has
 * seen half-close cross the proxy both ways.
 */
export async function echoBackend(options: { path?: string; trailer?: string } = {}): Promise<Backend> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => {});
    socket.pipe(socket, { end: false });
    socket.on("end", () => socket.end(options.trailer ?? ""));
  });
  await new Promise<void>((resolve) => (options.path !== undefined ? server.listen(options.path, resolve) : server.listen(0, "127.0.0.1", resolve)));
  return track(server, options.path ?? null);
}

/** An HTTP backend answering `${name} ${method} ${url}`. */
export async function httpBackend(name: string): Promise<Backend> {
  const server = createHttpServer((req, res) => res.end(`${name} ${req.method} ${req.url}\n`));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return track(server, null);
}

// ---- The program -------------------------------------------------------------------------------

const running = new Set<ChildProcess>();

export class Tlsbox {
  readonly lines: string[] = [];
  readonly stdout: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    running.add(child);
    let partial = "";
    child.stderr!.on("data", (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split("\n");
      partial = parts.pop()!;
      this.lines.push(...parts);
      if (process.env.TLSBOX_TEST_DEBUG) for (const p of parts) process.stderr.write(`  | ${p}\n`);
      for (const w of this.waiters.splice(0)) w();
    });
    child.stdout!.on("data", (d: Buffer) => {
      this.stdout.push(d.toString());
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => child.on("exit", (code) => {
      running.delete(child);
      for (const w of this.waiters.splice(0)) w();
      resolve(code);
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first stderr line matching `pattern` (counting from line `from`), waiting up to `ms`. */
  async waitFor(pattern: RegExp, ms = 10000, from = 0): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines.slice(from).find((l) => pattern.test(l));
      if (found !== undefined) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`tlsbox exited (${this.child.exitCode ?? this.child.signalCode}) before a line matching ${pattern}:\n${this.lines.join("\n")}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line matching ${pattern} within ${ms} ms:\n${this.lines.join("\n")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Connection log lines so far. */
  connectionLines(): string[] {
    return this.lines.filter((l) => / connection client=/.test(l));
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL of the process group's survivors after `ms`. */
  async stop(ms = 8000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => { timer = setTimeout(() => resolve("timeout"), ms); });
    const code = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (code === "timeout") {
      killGroup(this.child);
      return this.exited;
    }
    return code;
  }
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

/**
 * Starts the program with `args` in its own process group (so cleanup reaches its workers and key
 * server too) and waits for its "listening" line.
 */
export async function startTlsbox(args: string[], options: { cwd?: string; env?: Record<string, string>; ready?: RegExp; program?: string } = {}): Promise<Tlsbox> {
  const child = spawn(process.execPath, [options.program ?? PROGRAM, ...args], {
    cwd: options.cwd,
    env: { ...process.env, TLSBOX_DRAIN_TIMEOUT: "5", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const box = new Tlsbox(child);
  await box.waitFor(options.ready ?? / listening on=/, 20000);
  return box;
}

/** Writes a config file and starts the program with it. */
export function startWithConfig(dir: string, text: string, options: { env?: Record<string, string>; program?: string } = {}): Promise<Tlsbox> {
  const file = join(dir, "tlsbox.conf");
  writeFileSync(file, text);
  return startTlsbox(["--config", file], options);
}

/** Kills every process this harness started that is still running. */
export function cleanup(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

/** Runs the program to completion (e.g. --check): exit code and output. */
export function runProgram(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROGRAM, ...args], { cwd, timeout: 15000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

// ---- Clients ---------------------------------------------------------------------------------------

export interface RoundTrip {
  received: Buffer;
  protocol: string | null;
  cipher: string;
  /** The server ended cleanly (close_notify / FIN) rather than with an error. */
  clean: boolean;
  error: Error | null;
}

/**
 * Node's TLS client: connects, writes `payload` (in uneven pieces), half-closes, and reads until
 * the server closes. Resolves in every case; `error` says what went wrong.
 */
export function nodeRoundTrip(port: number, payload: Buffer, options: ConnectionOptions = {}, timeoutMs = 30000): Promise<RoundTrip> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: Error | null = null;
    let ended = false;
    let protocol: string | null = null;
    let cipher = "";
    const socket: TLSSocket = tlsConnect({ host: "127.0.0.1", port, minVersion: "TLSv1.3", rejectUnauthorized: false, ...options }, () => {
      protocol = socket.getProtocol();
      cipher = socket.getCipher()?.standardName ?? "";
      let off = 0;
      let step = 1;
      const writeMore = (): void => {
        while (off < payload.length) {
          const n = Math.min(step, payload.length - off);
          const ok = socket.write(payload.subarray(off, off + n));
          off += n;
          step = (step * 7 + 13) % 70000 + 1;
          if (!ok) {
            socket.once("drain", writeMore);
            return;
          }
        }
        socket.end();
      };
      writeMore();
    });
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("end", () => { ended = true; });
    socket.on("error", (e) => { error = e; });
    socket.on("close", () => resolve({ received: Buffer.concat(chunks), protocol, cipher, clean: ended && error === null, error }));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error("client timeout")));
  });
}

/** Runs a command with a timeout; resolves with its exit code and output. */
export function run(command: string, args: string[], input?: string | Buffer, timeoutMs = 15000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

export function rmDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
