// Supervises the key-server process, in the manner of Miniflare's runtime supervision: spawn it
// with a control channel (fd 3), wait for its ready frame, turn a failed start into a typed error.
// And the part Miniflare leaves as a TODO: when the process dies, every request in flight fails at
// once with KeyServerError("DIED"), the death is logged, and the process is restarted with
// exponential backoff; requests made meanwhile wait (up to their timeout) for the new one.
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";
import type { Duplex } from "node:stream";
import { KeyServerClient } from "./client";
import { KeyServerError } from "./errors";
import type { KeySpec } from "./keys";
import type { Identity } from "./privileges";
import type { KeyAnnouncement } from "./protocol";

export interface SupervisorOptions extends Identity {
  /** The bundled key-server entry (src/keyserver/main.ts built to .mjs). */
  script: string;
  keys: KeySpec[];
  /** Milliseconds a request may wait for its answer, including waiting for a restart. */
  requestTimeoutMs?: number;
  /** Milliseconds the process has to send its ready frame. */
  startTimeoutMs?: number;
  backoff?: {
    initialMs?: number;
    maxMs?: number;
    /** A process that stayed up this long restarts from the initial delay again. */
    resetAfterMs?: number;
  };
  log?: (line: string) => void;
  /** "pipe": the child's stderr lines go to `log`, prefixed with its pid. */
  stderr?: "inherit" | "pipe";
}

export class KeyServerSupervisor extends EventEmitter {
  private child: ChildProcess | null = null;
  private client: KeyServerClient | null = null;
  private readyAt = 0;
  private attempts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private closing = false;
  /** Key ids, kinds and sizes from the latest ready frame. */
  keys: KeyAnnouncement[] = [];
  /** Successful restarts since start. */
  restarts = 0;
  private readonly log: (line: string) => void;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  }

  /** The pid of the current process, if one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  sign(keyId: number, handshakeId: bigint, scheme: number, transcriptHash: Uint8Array): Promise<Uint8Array> {
    return this.withClient((c) => c.sign(keyId, handshakeId, scheme, transcriptHash));
  }

  signServerKeyExchange(
    keyId: number,
    handshakeId: bigint,
    scheme: number,
    clientRandom: Uint8Array,
    serverRandom: Uint8Array,
    params: Uint8Array,
  ): Promise<Uint8Array> {
    return this.withClient((c) => c.signServerKeyExchange(keyId, handshakeId, scheme, clientRandom, serverRandom, params));
  }

  decryptPremaster(keyId: number, handshakeId: bigint, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.withClient((c) => c.decryptPremaster(keyId, handshakeId, ciphertext));
  }

  ping(): Promise<void> {
    return this.withClient((c) => c.ping());
  }

  /** Runs `fn` on a live client, waiting for a restart if the process is down. */
  private async withClient<T>(fn: (client: KeyServerClient) => Promise<T>): Promise<T> {
    if (this.closing) throw new KeyServerError("CLOSED", "key-server supervisor closed");
    const live = this.client !== null && this.client.failed === null ? this.client : await this.nextClient();
    return fn(live);
  }

  private nextClient(): Promise<KeyServerClient> {
    return new Promise((resolve, reject) => {
      const onReady = (client: KeyServerClient) => {
        clearTimeout(timer);
        this.off("closed", onClosed);
        resolve(client);
      };
      const onClosed = () => {
        clearTimeout(timer);
        this.off("ready", onReady);
        reject(new KeyServerError("CLOSED", "key-server supervisor closed"));
      };
      const timer = setTimeout(() => {
        this.off("ready", onReady);
        this.off("closed", onClosed);
        reject(new KeyServerError("TIMEOUT", `no key server available within ${this.requestTimeoutMs} ms (restarting)`));
      }, this.requestTimeoutMs);
      this.once("ready", onReady);
      this.once("closed", onClosed);
    });
  }

  /** Spawns one process and waits for its ready frame; rejects with START_FAILED. */
  async launch(): Promise<void> {
    const { script, keys, user, group } = this.options;
    const config = JSON.stringify({ keys, user, group });
    const child = spawn(process.execPath, [script, config], {
      stdio: ["ignore", "inherit", this.options.stderr ?? "inherit", "pipe"],
    });
    this.child = child;
    const pid = child.pid;
    if (child.stderr) {
      createInterface({ input: child.stderr }).on("line", (line) => this.log(`[keyserver ${pid}] ${line}`));
    }
    const client = new KeyServerClient(child.stdio[3] as Duplex, { timeoutMs: this.requestTimeoutMs });
    child.on("error", (e) => client.fail(new KeyServerError("DIED", `key server could not be spawned: ${e.message}`)));
    child.on("exit", (code, signal) => this.exited(child, client, code, signal));
    const startTimeoutMs = this.options.startTimeoutMs ?? 10000;
    const timer = setTimeout(
      () => client.fail(new KeyServerError("START_FAILED", `key server (pid ${pid}) sent no ready frame within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    try {
      const ready = await client.ready;
      this.keys = ready.keys;
    } catch (e) {
      child.kill("SIGKILL");
      throw e instanceof KeyServerError ? e : new KeyServerError("START_FAILED", String(e));
    } finally {
      clearTimeout(timer);
    }
    this.client = client;
    this.readyAt = Date.now();
    this.emit("ready", client);
  }

  private exited(child: ChildProcess, client: KeyServerClient, code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    client.fail(new KeyServerError("DIED", `key server (pid ${child.pid}) died (${how})`));
    const wasServing = this.client === client;
    if (wasServing) this.client = null;
    if (this.child === child) this.child = null;
    this.emit("exit", { pid: child.pid, code, signal });
    // A process that never became ready is handled by launch()'s caller.
    if (!wasServing || this.closing) return;
    if (Date.now() - this.readyAt >= (this.options.backoff?.resetAfterMs ?? 30000)) this.attempts = 0;
    this.scheduleRestart(`key server (pid ${child.pid}) exited (${how})`);
  }

  private scheduleRestart(why: string): void {
    const initial = this.options.backoff?.initialMs ?? 100;
    const max = this.options.backoff?.maxMs ?? 10000;
    const delay = Math.min(max, initial * 2 ** this.attempts);
    this.attempts++;
    this.log(`${why}; restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.closing) return;
      this.launch().then(
        () => {
          this.restarts++;
          this.log(`key server restarted (pid ${this.pid})`);
          this.emit("restart", this.pid);
        },
        (e: Error) => {
          if (!this.closing) this.scheduleRestart(`key-server restart failed: ${e.message}`);
        },
      );
    }, delay);
  }

  /** Stops supervising: fails requests in flight with CLOSED and ends the process. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.emit("closed");
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.client?.close();
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill("SIGKILL"), 2000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}

/** Spawns the key server and resolves once it is ready; rejects with KeyServerError("START_FAILED"). */
export async function startKeyServer(options: SupervisorOptions): Promise<KeyServerSupervisor> {
  const supervisor = new KeyServerSupervisor(options);
  await supervisor.launch();
  return supervisor;
}
