// The messages between the supervisor and its workers (Node's IPC channel, JSON). Binary fields
// travel as base64. The supervisor is the only process talking to the key server: a worker asks it
// for each signature, which keeps the key server's one stream, its restarts and its generations in
// one place.
import type { Listener, LogLevel, WasiChoice } from "../config";
import type { VhostSpec } from "./vhosts";

/** Everything a worker needs to serve; sent at start and again on every reload. */
export interface WorkerSettings {
  /** Counts reloads: a signature request names the generation whose key ids it uses. */
  generation: number;
  vhosts: VhostSpec[];
  listeners: Listener[];
  /** Connections this worker serves at once (max-children divided among the workers). */
  maxConnections: number;
  /** 0: no limit. */
  maxHandshakeMs: number;
  /** 0: none. */
  idleMs: number;
  /** Sandboxes kept ready (min-spare-children). */
  spares: number;
  wasi: WasiChoice;
  logLevel: LogLevel;
  networkUser: string | null;
  networkGroup: string | null;
  /** How long a graceful shutdown waits for open connections. */
  drainMs: number;
}

/** A signature a worker asks for; binary fields in base64. */
export type SignRequest = { generation: number; keyId: number; handshakeId: string; scheme: number } & (
  | { op: "cert-verify"; hash: string }
  | { op: "server-key-exchange"; clientRandom: string; serverRandom: string; params: string }
  /** TLS 1.2 static RSA: the EncryptedPreMasterSecret; the answer is always 48 bytes. */
  | { op: "premaster"; ciphertext: string }
);

export type ToWorker =
  | { t: "settings"; settings: WorkerSettings }
  | { t: "signed"; id: number; signature?: string; error?: string }
  | { t: "shutdown" };

export type ToSupervisor =
  /** The worker can receive messages now: send it the settings. */
  | { t: "hello" }
  | { t: "listening" }
  | { t: "failed"; code: string; message: string }
  | ({ t: "sign"; id: number } & SignRequest);

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === "object" && m !== null && typeof (m as { t?: unknown }).t === "string";
}

export function isToSupervisor(m: unknown): m is ToSupervisor {
  return typeof m === "object" && m !== null && typeof (m as { t?: unknown }).t === "string";
}
