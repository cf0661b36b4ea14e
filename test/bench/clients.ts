// The two ends a proxy benchmark needs around the proxy: a backend (in this process, plain TCP on
// loopback) and the TLS clients — `openssl s_time` for handshakes (C, cheap: it shares the CPUs
// with the proxy), Node's TLS client for bulk transfers and for holding idle connections.
//
// The backend speaks a line protocol, so one server serves every measurement:
//   GET ... \r\n\r\n   (s_time -www)  a tiny HTTP/1.0 response, then the connection is closed
//   BULK n\n           n bytes of data; the connection stays open for the next command
//   HOLD\n             "OK\n"; the connection stays open (an idle connection, known to be through)
import { spawn } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

const TINY_RESPONSE = Buffer.from("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
const CHUNK = Buffer.alloc(1 << 20, 0x61);

export class Backend {
  /** Connections open now. */
  open = 0;
  /** Open connections that have sent HOLD (the idle connections of a memory measurement). */
  holding = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(): Promise<Backend> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, resolve);
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("backend: no port");
    const backend = new Backend(server, address.port);
    server.on("connection", (socket) => backend.serve(socket));
    return backend;
  }

  private serve(socket: Socket): void {
    this.open++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => {
      this.open--;
      if (held) this.holding--;
      this.sockets.delete(socket);
    });
    socket.on("error", () => {});
    let pending = "";
    let busy = false;
    let held = false;
    const next = (): void => {
      while (!busy) {
        if (pending.startsWith("GET ")) {
          if (!pending.includes("\r\n\r\n")) return;
          pending = "";
          socket.end(TINY_RESPONSE);
          return;
        }
        const nl = pending.indexOf("\n");
        if (nl < 0) {
          if (pending.length > 4096) socket.destroy();
          return;
        }
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        const bulk = /^BULK ([0-9]+)$/.exec(line);
        if (bulk !== null) {
          busy = true;
          this.send(socket, Number(bulk[1]), () => {
            busy = false;
            next();
          });
        } else if (line === "HOLD") {
          if (!held) this.holding++;
          held = true;
          socket.write("OK\n");
        } else {
          socket.destroy();
          return;
        }
      }
    };
    socket.on("data", (data: Buffer) => {
      pending += data.toString("latin1");
      next();
    });
  }

  /** Writes `bytes` bytes, respecting backpressure. */
  private send(socket: Socket, bytes: number, done: () => void): void {
    let left = bytes;
    const pump = (): void => {
      while (left > 0 && !socket.destroyed) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          socket.once("drain", pump);
          return;
        }
      }
      if (left === 0) done();
    };
    pump();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Handshakes: openssl s_time

export interface STimeResult {
  /** Connections completed (full handshake + one tiny request each), over all clients. */
  connections: number;
  wallSeconds: number;
}

/**
 * Runs `clients` copies of `openssl s_time -new` for `seconds` against the port: each opens a new
 * connection per request (a full TLS 1.3 handshake, `GET /`, a tiny response, close). s_time never
 * resumes with -new (a new SSL object per connection, no client session cache, no tickets reused).
 * `cpus` pins the clients (taskset list) away from the proxy.
 */
export async function sTime(port: number, opts: { seconds: number; clients: number; suite: string; cpus: string | null }): Promise<STimeResult> {
  const args = ["s_time", "-connect", `127.0.0.1:${port}`, "-new", "-tls1_3", "-ciphersuites", opts.suite, "-www", "/", "-time", String(opts.seconds)];
  const command = opts.cpus === null ? ["openssl", ...args] : ["taskset", "-c", opts.cpus, "openssl", ...args];
  const t0 = performance.now();
  const outputs = await Promise.all(Array.from({ length: opts.clients }, () => run(command, (opts.seconds + 20) * 1000)));
  const wallSeconds = (performance.now() - t0) / 1000;
  let connections = 0;
  for (const out of outputs) {
    // "1234 connections in 2.34s; 527.35 connections/user sec, bytes read 0"
    const m = /([0-9]+) connections in [0-9.]+s;/.exec(out);
    if (m === null) throw new Error(`openssl s_time: unexpected output:\n${out.slice(-1500)}`);
    connections += Number(m[1]);
  }
  return { connections, wallSeconds };
}

/**
 * How many session tickets (NewSessionTicket messages) the server sends after a full TLS 1.3
 * handshake, seen by `openssl s_client -msg`: the policy is none, so that neither side pays for
 * minting tickets nobody uses.
 */
export async function ticketsSent(port: number, suite: string): Promise<number> {
  // s_client must stay until the server closes (-ign_eof; the request makes the backend close):
  // on a bare EOF it would leave before reading the tickets and always count none.
  const out = await run(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-tls1_3", "-ciphersuites", suite, "-msg", "-ign_eof"], 15_000, true, "GET / HTTP/1.0\r\n\r\n");
  return out.split("\n").filter((line) => line.startsWith("<<<") && line.includes("NewSessionTicket")).length;
}

/** Runs a command to completion within `timeoutMs`; returns stdout + stderr, throws on failure. */
function run(command: string[], timeoutMs: number, anyExitCode = false, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (input !== undefined) {
      child.stdin!.on("error", () => {});
      child.stdin!.end(input);
    }
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      if (code === 0 || (anyExitCode && sig === null)) resolve(out);
      else reject(new Error(`${command.join(" ")} ended with ${sig ?? code}:\n${out.slice(-1500)}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// TLS connections from Node

/** A TLS 1.3 connection with exactly one suite offered, no session reuse, no verification. */
export function tlsOpen(port: number, suite: string, timeoutMs = 10_000): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      minVersion: "TLSv1.3",
      maxVersion: "TLSv1.3",
      ciphers: suite,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS connection to port ${port} timed out`));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const negotiated = socket.getCipher().standardName;
      if (negotiated !== suite) {
        socket.destroy();
        reject(new Error(`negotiated ${negotiated}, wanted ${suite}`));
        return;
      }
      resolve(socket);
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Reads until `bytes` bytes have arrived on the socket (or fails after timeoutMs). */
function receive(socket: TLSSocket, bytes: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
    };
    const onData = (d: Buffer): void => {
      got += d.length;
      if (got >= bytes) {
        cleanup();
        if (got > bytes) reject(new Error(`received ${got} bytes, expected ${bytes}`));
        else resolve();
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`connection closed after ${got} of ${bytes} bytes`));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${got} of ${bytes} bytes`));
    }, timeoutMs);
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("error", onError);
  });
}

/** One keep-alive connection asking the backend for BULK transfers through the proxy. */
export class BulkClient {
  private constructor(private readonly socket: TLSSocket) {}

  static async connect(port: number, suite: string): Promise<BulkClient> {
    return new BulkClient(await tlsOpen(port, suite));
  }

  /** Downloads `bytes` bytes (backend → proxy → client); returns the wall seconds it took. */
  async download(bytes: number, timeoutMs = 120_000): Promise<number> {
    const t0 = performance.now();
    const done = receive(this.socket, bytes, timeoutMs);
    this.socket.write(`BULK ${bytes}\n`);
    await done;
    return (performance.now() - t0) / 1000;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Opens `count` TLS connections through the proxy and leaves them idle, each having completed one
 * HOLD/OK exchange with the backend, so both legs of the proxy are established. At most
 * `concurrency` handshakes are in flight at a time.
 */
export async function openIdle(port: number, suite: string, count: number, concurrency = 32, timeoutMs = 120_000): Promise<TLSSocket[]> {
  const sockets: TLSSocket[] = [];
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < count) {
      next++;
      if (Date.now() > deadline) throw new Error(`opened only ${sockets.length} of ${count} connections in ${timeoutMs} ms`);
      const socket = await tlsOpen(port, suite);
      sockets.push(socket);
      const ok = receive(socket, 3, 10_000);
      socket.write("HOLD\n");
      await ok;
    }
  };
  // allSettled: when one fails, the others finish their current connection before all are closed.
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, () => {
    return one().catch((e: unknown) => {
      next = count;
      throw e;
    });
  }));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failure !== undefined) {
    for (const s of sockets) s.destroy();
    throw failure.reason;
  }
  return sockets;
}
