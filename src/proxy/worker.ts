// A worker process ("tlsbox: worker"): accepts connections on the listening sockets it shares with
// the other workers and serves each in its own sandbox. It holds no private key and reads no key
// file: its certificates and settings arrive from the supervisor, and signatures are requested
// from it. Started as root, it becomes network-user / network-group before anything else.
import { execFileSync } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { SparePool, type SandboxFactory } from "../sandbox/loader";
import { labEngine } from "../sandbox/lab-engines";
import { ENGINE_MODULES } from "../sandbox/modules";
import { createTlsSandboxFactory } from "../tls/session";
import { Connection, type ConnectionContext } from "./connection";
import { ProxyError } from "./errors";
import { isToWorker, type ToSupervisor, type WorkerSettings } from "./ipc";
import { Logger } from "./log";
import { RemoteSigner } from "./signer";
import { VhostTable } from "./vhosts";

/** Accepted connections waiting for a free slot (max-children reached), beyond which new ones are refused. */
const MAX_WAITING = 4096;

export class Worker {
  private readonly log = new Logger(`worker`);
  private readonly signer: RemoteSigner;
  private settings: WorkerSettings | null = null;
  private factory: SandboxFactory | null = null;
  private pool: SparePool | null = null;
  private context: ConnectionContext | null = null;
  private readonly servers: Server[] = [];
  private readonly active = new Set<Connection>();
  private readonly waiting: Socket[] = [];
  private draining = false;

  constructor(send: (message: ToSupervisor) => boolean) {
    this.signer = new RemoteSigner(send);
  }

  private configuring: Promise<void> = Promise.resolve();

  /** Applies settings: the first time sets everything up and listens; later, a reload. */
  configure(settings: WorkerSettings): Promise<void> {
    // One at a time: a reload arriving while the first settings still compile the engine waits.
    this.configuring = this.configuring.then(() => this.apply(settings));
    return this.configuring;
  }

  private async apply(settings: WorkerSettings): Promise<void> {
    const first = this.settings === null;
    this.settings = settings;
    this.log.level = settings.logLevel;
    if (first) {
      dropPrivileges(settings, this.log);
      const lab = labEngine();
      if (lab !== null) this.log.warn("LAB ENGINE: deliberately vulnerable, for the isolation lab only", { engine: lab.name });
      this.factory = await createTlsSandboxFactory(lab?.module ?? ENGINE_MODULES.release, { wasi: settings.wasi });
    }
    if (this.pool === null || this.pool.target !== settings.spares) {
      this.pool?.drain();
      this.pool = new SparePool(this.factory!, settings.spares);
    }
    const pool = this.pool;
    this.context = {
      table: new VhostTable(settings.vhosts),
      generation: settings.generation,
      takeSandbox: () => pool.take(),
      signer: this.signer,
      log: this.log,
      handshakeMs: settings.maxHandshakeMs,
      idleMs: settings.idleMs,
    };
    if (first) {
      await Promise.all(settings.listeners.map((l) => this.listen(l.host, l.port)));
      this.log.info("ready", { listeners: settings.listeners.length, maxConnections: settings.maxConnections, uid: process.getuid?.() });
    } else {
      this.log.info("reloaded", { generation: settings.generation, vhosts: settings.vhosts.length });
      this.admit();
    }
  }

  private listen(host: string | null, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // pauseOnConnect: no byte is read before the connection has a slot and a sandbox.
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accepted(socket));
      server.once("error", (e: NodeJS.ErrnoException) => {
        reject(new ProxyError("LISTEN_FAILED", `cannot listen on ${host ?? "*"}:${port}: ${e.code ?? e.message}`));
      });
      server.listen(host === null ? { port } : { host, port }, () => {
        server.on("error", (e) => this.log.error("listening socket failed", { error: e.message }));
        this.servers.push(server);
        resolve();
      });
    });
  }

  private accepted(socket: Socket): void {
    socket.on("error", () => {});
    if (this.draining || this.waiting.length >= MAX_WAITING) {
      socket.destroy();
      return;
    }
    this.waiting.push(socket);
    this.admit();
  }

  /** Starts waiting connections while there are free slots. */
  private admit(): void {
    const max = this.settings?.maxConnections ?? 1;
    while (this.waiting.length > 0 && this.active.size < max && this.context !== null) {
      const socket = this.waiting.shift()!;
      if (socket.destroyed) continue;
      try {
        const connection = new Connection(socket, this.context, (c) => {
          this.active.delete(c);
          this.admit();
          if (this.draining && this.active.size === 0) this.exit(0);
        });
        this.active.add(connection);
      } catch (e) {
        // Only a broken engine module or memory exhaustion gets here; this connection is lost, not the worker.
        this.log.error("cannot start a connection", { error: e instanceof Error ? e.message : String(e) });
        socket.destroy();
      }
    }
  }

  /** Graceful shutdown: stop accepting, let open connections finish within the drain time. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    for (const server of this.servers) server.close();
    for (const socket of this.waiting.splice(0)) socket.destroy();
    this.pool?.drain();
    const drainMs = this.settings?.drainMs ?? 0;
    this.log.info("draining", { open: this.active.size, timeoutMs: drainMs });
    if (this.active.size === 0) {
      this.exit(0);
      return;
    }
    setTimeout(() => {
      for (const c of [...this.active]) c.shutdown();
      setTimeout(() => this.exit(0), 100);
    }, drainMs).unref();
  }

  signed(id: number, signature: string | undefined, error: string | undefined): void {
    this.signer.answer(id, signature, error);
  }

  /** The supervisor is gone: nothing may run without it. */
  orphaned(): void {
    this.signer.failAll();
    for (const c of [...this.active]) c.shutdown();
    this.exit(0);
  }

  private exit(code: number): void {
    setImmediate(() => process.exit(code));
  }
}

/** network-user / network-group, when started as root (titus does the same per child). */
function dropPrivileges(settings: WorkerSettings, log: Logger): void {
  const user = settings.networkUser;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    if (user !== null) log.debug("not started as root: network-user not applied", { uid: process.getuid?.() });
    return;
  }
  if (user === null) {
    log.warn("running as root: set network-user (and network-group) so the network-facing workers do not");
    return;
  }
  try {
    const group = settings.networkGroup ?? execFileSync("id", ["-g", user], { encoding: "utf8" }).trim();
    process.setgroups!([group]);
    process.setgid!(/^[0-9]+$/.test(group) ? Number(group) : group);
    process.setuid!(/^[0-9]+$/.test(user) ? Number(user) : user);
  } catch (e) {
    throw new ProxyError("PRIVILEGES", `cannot switch to network-user ${user}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (process.getuid() === 0 || process.geteuid!() === 0) throw new ProxyError("PRIVILEGES", `still root after switching to ${user}`);
  log.debug("privileges dropped", { uid: process.getuid(), gid: process.getgid!() });
}

/** Entry of the worker role: settings and answers come over the IPC channel. */
export function runWorker(): void {
  process.title = "tlsbox: worker";
  const send = (m: ToSupervisor): boolean => {
    if (!process.connected || process.send === undefined) return false;
    return process.send(m);
  };
  const worker = new Worker(send);
  // The supervisor coordinates: a terminal's Ctrl-C reaches the whole process group, so a worker
  // drains on its own too. `once`: a second signal is not swallowed and ends it at once.
  process.once("SIGINT", () => worker.drain());
  process.once("SIGTERM", () => worker.drain());
  // Reload is the supervisor's job (it sends new settings); a hangup must not kill a worker.
  process.on("SIGHUP", () => {});
  process.on("disconnect", () => worker.orphaned());
  process.on("message", (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.t === "settings") {
      worker.configure(m.settings).then(
        () => send({ t: "listening" }),
        (e: unknown) => {
          send({ t: "failed", code: e instanceof ProxyError ? e.code : "INTERNAL", message: e instanceof Error ? e.message : String(e) });
          setTimeout(() => process.exit(1), 100);
        },
      );
    } else if (m.t === "signed") {
      worker.signed(m.id, m.signature, m.error);
    } else if (m.t === "shutdown") {
      worker.drain();
    }
  });
  // Messages that arrive before a listener exists are lost (this module loads asynchronously, after
  // cluster's "online"), so the worker asks for its settings once it can hear the answer.
  send({ t: "hello" });
}
