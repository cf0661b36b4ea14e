// The supervisor ("tlsbox: supervisor"): reads the configuration and the (public) certificates,
// starts the key server and the workers, relays the workers' signature requests to the key server,
// and handles signals: SIGHUP reloads configuration, certificates and keys without touching
// established connections; SIGTERM / SIGINT stop accepting and drain.
//
// Workers are Node cluster workers in SCHED_NONE mode: the supervisor binds each listening socket
// (as root if need be, before any worker drops privileges) and every worker accepts on it directly;
// the supervisor never accepts a connection itself. cluster.fork runs process.execPath with this
// program and `--role worker`, so it works the same when the program is a single executable.
import cluster, { type Worker as ClusterWorker } from "node:cluster";
import { rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { ExitCode, formatLocation, type Config } from "../config";
import { KeyServerError } from "../keyserver/errors";
import { startKeyServer, type KeyServerSupervisor } from "../keyserver/client";
import type { KeySpec } from "../keyserver/keys";
import { loadChain } from "./certs";
import { ProxyError } from "./errors";
import { isToSupervisor, type ToSupervisor, type ToWorker, type WorkerSettings } from "./ipc";
import { Logger } from "./log";
import { describeVhost, enginePolicy, type VhostSpec } from "./vhosts";

/** The environment variable naming the internal role of a process this program starts. */
export const ROLE_VARIABLE = "TLSBOX_ROLE";

/** A configuration in force: its settings for the workers and the key server holding its keys. */
interface Generation {
  readonly number: number;
  readonly config: Config;
  readonly settings: WorkerSettings;
  readonly keys: KeyServerSupervisor;
}

export interface SupervisorOptions {
  /** Reads the configuration again (SIGHUP); throws ConfigError or ProxyError. */
  reloadConfig: () => Config;
  /** The path of this program, which the key server is started from. */
  program: string;
  /** Called once every worker listens. */
  onReady?: (config: Config) => void;
  log?: Logger;
}

/** The seconds a graceful shutdown waits for open connections (TLSBOX_DRAIN_TIMEOUT, default 30). */
export function drainTimeoutMs(): number {
  const raw = process.env.TLSBOX_DRAIN_TIMEOUT;
  const seconds = raw !== undefined && /^[0-9]+(\.[0-9]+)?$/.test(raw) ? Number(raw) : 30;
  return Math.round(seconds * 1000);
}

/** Resolves the vhosts' certificates and keys: the workers' settings and the key server's key list. */
export function prepare(config: Config, generation: number, warnings: string[] = []): { settings: WorkerSettings; keys: KeySpec[] } {
  const keys: KeySpec[] = [];
  const vhosts: VhostSpec[] = config.vhosts.map((v) => {
    const where = describeVhost(v);
    let keyId = keys.findIndex((k) => k.key === v.key && k.cert === v.cert);
    if (keyId < 0) keyId = keys.push({ key: v.key, cert: v.cert }) - 1;
    return { index: v.index, match: v.match, backend: v.backend, policy: enginePolicy(v.tls, where), keyId, cert: loadChain(v.cert) };
  });
  for (const v of config.vhosts) {
    const first = config.vhosts.find((u) => sharesConnections(u, v));
    if (first !== undefined && first !== v && JSON.stringify(vhosts[first.index]!.policy) !== JSON.stringify(vhosts[v.index]!.policy)) {
      warnings.push(`${describeVhost(v)} has TLS settings (ciphers, groups, ALPN) different from ${describeVhost(first)}, which can receive the same connections: the engine fixes them before it sees the server name, so ${describeVhost(first)}'s apply`);
    }
  }
  if (keys.length > 255) throw new ProxyError("UNSUPPORTED", `${keys.length} distinct keys; the key server holds at most 255`);
  const workers = workerCount(config);
  return {
    keys,
    settings: {
      generation,
      vhosts,
      listeners: [...config.listeners],
      maxConnections: Math.max(1, Math.floor(config.maxChildren / workers)),
      maxHandshakeMs: config.maxHandshakeTime * 1000,
      idleMs: config.idleTimeout * 1000,
      spares: config.minSpareChildren,
      wasi: config.wasi,
      logLevel: config.logLevel,
      networkUser: config.networkUser,
      networkGroup: config.networkGroup,
      drainMs: drainTimeoutMs(),
    },
  };
}

/** Two vhosts can be offered the same connection when their local address and port can coincide. */
function sharesConnections(a: Config["vhosts"][number], b: Config["vhosts"][number]): boolean {
  const same = <T>(x: T | null, y: T | null) => x === null || y === null || x === y;
  return same(a.match.localAddress, b.match.localAddress) && same(a.match.localPort, b.match.localPort);
}

export function workerCount(config: Config): number {
  return config.workers === "auto" ? availableParallelism() : config.workers;
}

/** The exit code for a start-up failure. */
export function exitCodeOf(e: unknown): ExitCode {
  if (e instanceof ProxyError) {
    switch (e.code) {
      case "LISTEN_FAILED":
      case "PRIVILEGES":
      case "PID_FILE":
        return ExitCode.SYSTEM_ERROR;
      case "WORKERS_FAILED":
        return ExitCode.TOO_MANY_FAILURES;
      case "UNSUPPORTED":
        return ExitCode.CONFIG_ERROR;
      default:
        return ExitCode.TLS_ERROR;
    }
  }
  if (e instanceof KeyServerError) return ExitCode.TLS_ERROR;
  return ExitCode.SYSTEM_ERROR;
}

/** Restarting a worker that died waits this long, doubling per failure in a row, up to the maximum. */
const RESPAWN_INITIAL_MS = 250;
const RESPAWN_MAX_MS = 30000;
/** A retired generation's key server stays this long after a reload, for handshakes in flight. */
const RETIRE_GRACE_MS = 15000;

export class Supervisor {
  private readonly log: Logger;
  private current: Generation | null = null;
  private readonly generations = new Map<number, Generation>();
  private readonly workers = new Set<ClusterWorker>();
  private readonly listening = new Set<ClusterWorker>();
  private respawnFailures = 0;
  private shuttingDown = false;
  private reloading = false;
  private reloadAgain = false;
  private ready = false;
  private exitResolve!: (code: number) => void;
  /** Resolves with the process exit code once the supervisor has stopped. */
  readonly exited = new Promise<number>((resolve) => { this.exitResolve = resolve; });
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** The first settings and key server while they start (before `current` exists). */
  private bootSettings: WorkerSettings | null = null;
  private bootKeys: Promise<KeyServerSupervisor> | null = null;
  /** Key servers being closed on purpose (a retired generation). */
  private readonly closingKeys = new WeakSet<KeyServerSupervisor>();
  /** Called when the last worker has exited during a shutdown. */
  private allWorkersGone: (() => void) | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.log = options.log ?? new Logger("supervisor");
  }

  /** Starts the key server and the workers; resolves once every worker listens. Throws on failure. */
  async start(config: Config): Promise<void> {
    process.title = "tlsbox: supervisor";
    this.log.level = config.logLevel;
    // The key-server supervisor spawns `process.execPath PROGRAM CONFIG-JSON` with our environment
    // and takes no extra arguments: this variable is how the program knows to be the key server
    // (workers get their own value from cluster.fork).
    process.env[ROLE_VARIABLE] = "keyserver";
    const { settings, keys: keySpecs } = this.prepare(config, 1);
    this.bootSettings = settings;

    // The key server and the workers start side by side: neither needs the other to get ready.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: this.options.program, args: ["--role", "worker"] });
    const count = workerCount(config);
    const started = new Promise<void>((resolve, reject) => { this.startWaiter = { resolve, reject }; });
    for (let i = 0; i < count; i++) this.spawnWorker();
    this.bootKeys = this.startKeys(config, keySpecs, 1);
    const [keys, workers] = await Promise.allSettled([this.bootKeys, started]);
    this.bootKeys = null;
    if (keys.status === "rejected" || workers.status === "rejected") {
      if (keys.status === "fulfilled") await keys.value.close();
      await this.stopAll();
      throw keys.status === "rejected" ? keys.reason : (workers as PromiseRejectedResult).reason;
    }
    const generation: Generation = { number: 1, config, settings, keys: keys.value };
    this.current = generation;
    this.generations.set(1, generation);
    if (config.pidFile !== null) {
      try {
        writeFileSync(config.pidFile, `${process.pid}\n`);
      } catch (e) {
        await this.stopAll();
        throw new ProxyError("PID_FILE", `cannot write pid-file ${config.pidFile}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.ready = true;
    this.installSignals();
    const listeners = config.listeners.map((l) => `${l.host === null ? "*" : l.host.includes(":") ? `[${l.host}]` : l.host}:${l.port}`);
    this.log.info("listening", { on: listeners.join(","), workers: count, vhosts: config.vhosts.length, keyserver: generation.keys.pid });
    this.options.onReady?.(config);
  }

  /** prepare(), with its warnings logged. */
  private prepare(config: Config, number: number): ReturnType<typeof prepare> {
    const warnings: string[] = [];
    const prepared = prepare(config, number, warnings);
    for (const w of warnings) this.log.warn(w);
    return prepared;
  }

  private async newGeneration(config: Config, number: number): Promise<Generation> {
    const { settings, keys: keySpecs } = this.prepare(config, number);
    return { number, config, settings, keys: await this.startKeys(config, keySpecs, number) };
  }

  private async startKeys(config: Config, keySpecs: KeySpec[], number: number): Promise<KeyServerSupervisor> {
    const keys = await startKeyServer({
      script: this.options.program,
      keys: keySpecs,
      ...(config.keyserverUser !== null ? { user: config.keyserverUser } : {}),
      ...(config.keyserverGroup !== null ? { group: config.keyserverGroup } : {}),
      stderr: "pipe",
      log: (line) => this.log.info(line),
    });
    keys.on("restart", (pid: number) => this.log.info("keyserver restarted", { pid, generation: number }));
    keys.on("exit", (e: { pid: number; code: number | null; signal: string | null }) => {
      // Deaths we did not cause: ours (shutdown, a retired generation) are not news.
      if (!this.shuttingDown && !this.closingKeys.has(keys)) this.log.warn("keyserver exited", { pid: e.pid, code: e.code, signal: e.signal });
    });
    this.log.info("keyserver started", { pid: keys.pid, keys: keySpecs.length, generation: number });
    return keys;
  }

  // ---- Workers --------------------------------------------------------------------------------

  private spawnWorker(): void {
    const worker = cluster.fork({ [ROLE_VARIABLE]: "worker" });
    this.workers.add(worker);
    worker.on("message", (m: unknown) => {
      if (isToSupervisor(m)) this.fromWorker(worker, m);
    });
    worker.on("exit", (code, signal) => this.workerExited(worker, code, signal));
  }

  private sendTo(worker: ClusterWorker, message: ToWorker): void {
    if (!worker.isConnected()) return;
    try {
      worker.send(message);
    } catch {
      // The worker is going away; its exit is handled.
    }
  }

  private fromWorker(worker: ClusterWorker, m: ToSupervisor): void {
    switch (m.t) {
      case "hello":
        this.sendTo(worker, { t: "settings", settings: this.current?.settings ?? this.bootSettings! });
        return;
      case "listening":
        if (this.listening.has(worker)) return;
        this.listening.add(worker);
        this.respawnFailures = 0;
        if (this.startWaiter !== null && this.listening.size >= this.workers.size) {
          this.startWaiter.resolve();
          this.startWaiter = null;
        }
        return;
      case "failed":
        this.log.error("worker failed", { pid: worker.process.pid, error: m.message });
        if (this.startWaiter !== null) {
          this.startWaiter.reject(new ProxyError(m.code === "LISTEN_FAILED" || m.code === "PRIVILEGES" ? m.code : "WORKERS_FAILED", m.message));
          this.startWaiter = null;
        }
        return;
      case "sign":
        this.relaySign(worker, m);
        return;
    }
  }

  /** A worker's signature request, checked (a worker is less trusted than we are) and forwarded. */
  private relaySign(worker: ClusterWorker, m: Extract<ToSupervisor, { t: "sign" }>): void {
    const answer = (signature?: Uint8Array, error?: string) =>
      this.sendTo(worker, { t: "signed", id: m.id, ...(signature !== undefined ? { signature: Buffer.from(signature).toString("base64") } : { error: error ?? "failed" }) });
    const generation = this.generations.get(m.generation);
    // A connection accepted while the first key server still starts waits for it.
    const keyServer = generation !== undefined ? Promise.resolve(generation.keys) : m.generation === 1 ? this.bootKeys : null;
    if (keyServer === null) {
      answer(undefined, `configuration generation ${m.generation} is retired`);
      return;
    }
    const bytes = (field: unknown): Uint8Array => {
      if (typeof field !== "string") throw new Error("malformed");
      return new Uint8Array(Buffer.from(field, "base64"));
    };
    let signing: Promise<Uint8Array>;
    try {
      if (!Number.isInteger(m.keyId) || !Number.isInteger(m.scheme)) throw new Error("malformed");
      const handshakeId = BigInt(m.handshakeId);
      // The key server validates every field again; this only keeps garbage off its stream.
      if (m.op === "cert-verify") {
        const hash = bytes(m.hash);
        signing = keyServer.then((k) => k.sign(m.keyId, handshakeId, m.scheme, hash));
      } else if (m.op === "premaster") {
        const ciphertext = bytes(m.ciphertext);
        signing = keyServer.then((k) => k.decryptPremaster(m.keyId, handshakeId, ciphertext));
      } else if (m.op === "server-key-exchange") {
        const [clientRandom, serverRandom, params] = [bytes(m.clientRandom), bytes(m.serverRandom), bytes(m.params)];
        signing = keyServer.then((k) => k.signServerKeyExchange(m.keyId, handshakeId, m.scheme, clientRandom, serverRandom, params));
      } else {
        throw new Error("malformed");
      }
    } catch {
      answer(undefined, "malformed signature request");
      return;
    }
    signing.then(
      (signature) => answer(signature),
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        this.log.warn("signature failed", { error: message });
        answer(undefined, message);
      },
    );
  }

  private workerExited(worker: ClusterWorker, code: number | null, signal: string | null): void {
    this.workers.delete(worker);
    const wasListening = this.listening.delete(worker);
    if (this.shuttingDown) {
      if (this.workers.size === 0) this.allWorkersGone?.();
      return;
    }
    if (this.startWaiter !== null) {
      this.startWaiter.reject(new ProxyError("WORKERS_FAILED", `worker ${worker.process.pid} exited during start-up (code ${code}, signal ${signal})`));
      this.startWaiter = null;
      return;
    }
    if (!this.ready) return;
    this.log.warn("worker exited; restarting it", { pid: worker.process.pid, code, signal, wasListening });
    const delay = Math.min(RESPAWN_MAX_MS, RESPAWN_INITIAL_MS * 2 ** this.respawnFailures);
    this.respawnFailures++;
    setTimeout(() => {
      if (!this.shuttingDown) this.spawnWorker();
    }, delay);
  }

  // ---- Signals ------------------------------------------------------------------------------------

  private installSignals(): void {
    // `once`: a second SIGTERM / SIGINT is not swallowed; it ends the process at once.
    process.once("SIGTERM", () => void this.shutdown("SIGTERM"));
    process.once("SIGINT", () => void this.shutdown("SIGINT"));
    process.on("SIGHUP", () => void this.reload());
  }

  /** SIGHUP: configuration, certificates and keys again; established connections keep theirs. */
  async reload(): Promise<void> {
    if (this.shuttingDown) return;
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = true;
    try {
      const old = this.current!;
      let config: Config;
      try {
        config = this.options.reloadConfig();
      } catch (e) {
        this.log.error("reload failed; keeping the running configuration", { error: e instanceof Error ? e.message : String(e) });
        return;
      }
      for (const w of config.warnings) this.log.warn(`${formatLocation(w)}: ${w.message}`);
      let generation: Generation;
      try {
        generation = await this.newGeneration(config, old.number + 1);
      } catch (e) {
        this.log.error("reload failed; keeping the running configuration", { error: e instanceof Error ? e.message : String(e) });
        return;
      }
      if (JSON.stringify(config.listeners) !== JSON.stringify(old.config.listeners) || workerCount(config) !== workerCount(old.config)) {
        this.log.warn("listening addresses and the number of workers change only with a restart; keeping the current ones");
        generation.settings.listeners = old.settings.listeners;
      }
      this.current = generation;
      this.generations.set(generation.number, generation);
      this.log.level = config.logLevel;
      for (const worker of this.workers) this.sendTo(worker, { t: "settings", settings: generation.settings });
      this.log.info("reloaded", { generation: generation.number, vhosts: config.vhosts.length, keyserver: generation.keys.pid });
      // Handshakes that started before the reload still sign with the old keys for a while.
      setTimeout(() => {
        this.generations.delete(old.number);
        this.closingKeys.add(old.keys);
        void old.keys.close();
      }, RETIRE_GRACE_MS).unref();
    } finally {
      this.reloading = false;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        void this.reload();
      }
    }
  }

  /** SIGTERM / SIGINT: workers stop accepting and drain; then the key servers stop. */
  async shutdown(signal: string): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const drainMs = this.current?.settings.drainMs ?? drainTimeoutMs();
    this.log.info("shutting down", { signal, workers: this.workers.size, drainMs });
    for (const worker of this.workers) this.sendTo(worker, { t: "shutdown" });
    await this.waitForWorkers(drainMs + 5000);
    await this.stopAll();
    this.log.info("stopped");
    this.exitResolve(ExitCode.OK);
  }

  private waitForWorkers(timeoutMs: number): Promise<void> {
    if (this.workers.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const worker of this.workers) worker.process.kill("SIGKILL");
        resolve();
      }, timeoutMs);
      this.allWorkersGone = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends every worker and key server (start-up failure or the end of a shutdown). */
  private async stopAll(): Promise<void> {
    this.shuttingDown = true;
    for (const worker of this.workers) worker.process.kill("SIGKILL");
    await Promise.all([...this.generations.values()].map((g) => g.keys.close()));
    const pidFile = this.current?.config.pidFile ?? null;
    if (pidFile !== null && this.ready) rmSync(pidFile, { force: true });
  }
}
