// The worker-side client of one key-server stream: request ids, pipelining, per-request timeouts,
// and a clean typed failure of every request in flight when the stream dies. The supervisor that
// spawns and restarts the process is in supervisor.ts (re-exported here).
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { KeyServerError } from "./errors";
import {
  decodeReady,
  decodeResponse,
  encodeRequest,
  FrameReader,
  MAX_HANDSHAKE_ID,
  Op,
  PROTOCOL_VERSION,
  SERVER_FRAME_ID,
  Status,
  type Ready,
  type Request,
} from "./protocol";

export { startKeyServer, KeyServerSupervisor, type SupervisorOptions } from "./supervisor";

/**
 * Handshake ids for the one-signature-per-handshake rule: a random 32-bit prefix per process and a
 * 32-bit counter, so ids never repeat within a process and almost surely not across restarts of
 * the worker (see handshakes.ts for why reuse matters).
 */
export class HandshakeIds {
  private readonly prefix = BigInt(randomBytes(4).readUInt32BE(0)) << 32n;
  private counter = 0;

  next(): bigint {
    this.counter = (this.counter + 1) >>> 0;
    return this.prefix | BigInt(this.counter);
  }
}

export interface ClientOptions {
  /** Milliseconds a request may wait for its answer. */
  timeoutMs?: number;
  /** Requests in flight at most; beyond it requests fail with BUSY at once. */
  maxInFlight?: number;
}

/** A request as the caller gives it: the client assigns the id. */
export type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, "id"> : never) : never;

interface Pending {
  resolve: (payload: Uint8Array) => void;
  reject: (error: KeyServerError) => void;
  timer: NodeJS.Timeout;
}

const STATUS_NAMES: Record<number, string> = {
  [Status.MALFORMED]: "MALFORMED",
  [Status.UNKNOWN_OP]: "UNKNOWN_OP",
  [Status.UNKNOWN_KEY]: "UNKNOWN_KEY",
  [Status.UNKNOWN_SCHEME]: "UNKNOWN_SCHEME",
  [Status.SCHEME_KEY_MISMATCH]: "SCHEME_KEY_MISMATCH",
  [Status.BAD_HASH_LENGTH]: "BAD_HASH_LENGTH",
  [Status.BAD_PARAMS]: "BAD_PARAMS",
  [Status.ALREADY_SIGNED]: "ALREADY_SIGNED",
  [Status.NOT_IMPLEMENTED]: "NOT_IMPLEMENTED",
  [Status.SIGN_FAILED]: "SIGN_FAILED",
  [Status.START_FAILED]: "START_FAILED",
};

export function statusName(status: number): string {
  return status === Status.OK ? "OK" : (STATUS_NAMES[status] ?? `status ${status}`);
}

export class KeyServerClient {
  /** Resolves with the server's READY frame; rejects (START_FAILED) if it cannot start. */
  readonly ready: Promise<Ready>;
  private readyResolve!: (ready: Ready) => void;
  private readyReject!: (error: KeyServerError) => void;
  private readonly pending = new Map<number, Pending>();
  private readonly reader = new FrameReader();
  private nextId = 1;
  private failure: KeyServerError | null = null;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;

  constructor(private readonly stream: Duplex, options: ClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 4096;
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    // Nobody may be waiting on `ready` (a restart nobody asked about); do not let that crash the process.
    this.ready.catch(() => {});
    stream.on("data", (chunk: Buffer) => this.receive(chunk));
    stream.on("error", (e) => this.fail(new KeyServerError("DIED", `key-server stream error: ${e.message}`)));
    stream.on("close", () => this.fail(new KeyServerError("DIED", "key-server stream closed")));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get failed(): KeyServerError | null {
    return this.failure;
  }

  /** TLS 1.3 CertificateVerify signature over the content the key server builds from the transcript hash. */
  sign(keyId: number, handshakeId: bigint, scheme: number, transcriptHash: Uint8Array): Promise<Uint8Array> {
    if (transcriptHash.length !== 32 && transcriptHash.length !== 48) {
      return Promise.reject(new KeyServerError("BAD_ARGUMENT", `transcript hash of ${transcriptHash.length} bytes, need 32 or 48`));
    }
    return this.request({ op: Op.SIGN_TLS13_CERT_VERIFY, keyId, handshakeId, scheme, transcriptHash });
  }

  /** TLS 1.2 ServerKeyExchange signature over client_random ‖ server_random ‖ ServerECDHParams. */
  signServerKeyExchange(
    keyId: number,
    handshakeId: bigint,
    scheme: number,
    clientRandom: Uint8Array,
    serverRandom: Uint8Array,
    params: Uint8Array,
  ): Promise<Uint8Array> {
    return this.request({ op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, keyId, handshakeId, scheme, clientRandom, serverRandom, params });
  }

  /**
   * TLS 1.2 static RSA: the EncryptedPreMasterSecret, decrypted with implicit rejection. The answer
   * is always 48 bytes, the premaster or a value the key server derives from the ciphertext.
   */
  decryptPremaster(keyId: number, handshakeId: bigint, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.request({ op: Op.RSA_DECRYPT_PREMASTER, keyId, handshakeId, ciphertext });
  }

  async ping(): Promise<void> {
    await this.request({ op: Op.PING, keyId: 0 });
  }

  /** Sends one request; resolves with the OK payload, or rejects with a KeyServerError. */
  request(body: RequestBody): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.size >= this.maxInFlight) {
      return Promise.reject(new KeyServerError("BUSY", `${this.pending.size} key-server requests in flight`));
    }
    if ("handshakeId" in body && (body.handshakeId < 0n || body.handshakeId > MAX_HANDSHAKE_ID)) {
      return Promise.reject(new KeyServerError("BAD_ARGUMENT", `handshake id ${body.handshakeId} is not a u64`));
    }
    const id = this.allocateId();
    let frame: Uint8Array;
    try {
      frame = encodeRequest({ ...body, id } as Request);
    } catch (e) {
      return Promise.reject(new KeyServerError("BAD_ARGUMENT", e instanceof Error ? e.message : String(e)));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new KeyServerError("TIMEOUT", `key server did not answer request ${id} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.stream.write(frame);
    });
  }

  /** Ids run 1 … 2^32−1 and wrap, skipping 0 (the server's) and any id still in flight. */
  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private receive(chunk: Buffer): void {
    if (this.failure) return;
    const bodies = this.reader.push(chunk);
    for (const body of bodies) {
      let response;
      try {
        response = decodeResponse(body);
      } catch (e) {
        this.fail(new KeyServerError("PROTOCOL", e instanceof Error ? e.message : String(e)));
        return;
      }
      if (response.id === SERVER_FRAME_ID) {
        this.serverFrame(response.status, response.payload);
        continue;
      }
      const pending = this.pending.get(response.id);
      // An answer to a request that already timed out: nobody waits for it any more.
      if (pending === undefined) continue;
      this.pending.delete(response.id);
      clearTimeout(pending.timer);
      if (response.status === Status.OK) pending.resolve(response.payload);
      else {
        const detail = new TextDecoder().decode(response.payload);
        pending.reject(new KeyServerError("REFUSED", `key server refused request: ${statusName(response.status)}: ${detail}`, response.status));
      }
    }
    if (this.reader.error) this.fail(new KeyServerError("PROTOCOL", `key server sent a bad frame: ${this.reader.error.message}`));
  }

  private serverFrame(status: Status, payload: Uint8Array): void {
    if (status === Status.OK) {
      let ready: Ready;
      try {
        ready = decodeReady(payload);
      } catch (e) {
        this.fail(new KeyServerError("PROTOCOL", e instanceof Error ? e.message : String(e)));
        return;
      }
      if (ready.version !== PROTOCOL_VERSION) {
        this.fail(new KeyServerError("PROTOCOL", `key server speaks protocol ${ready.version}, this client ${PROTOCOL_VERSION}`));
        return;
      }
      this.readyResolve(ready);
    } else if (status === Status.START_FAILED) {
      this.fail(new KeyServerError("START_FAILED", `key server could not start: ${new TextDecoder().decode(payload)}`));
    } else {
      // The server could not read an id from something we sent: a client bug; it is logged by the
      // owner through the failure of whatever request then times out.
      this.fail(new KeyServerError("PROTOCOL", `key server rejected an id-less frame: ${statusName(status)}`));
    }
  }

  /** Fails every request in flight and any later one with `error`, and closes the stream. */
  fail(error: KeyServerError): void {
    if (this.failure) return;
    this.failure = error;
    this.readyReject(error.code === "DIED" ? new KeyServerError("START_FAILED", `key server exited before it was ready (${error.message})`) : error);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
    this.stream.destroy();
  }

  close(): void {
    this.fail(new KeyServerError("CLOSED", "key-server client closed"));
  }
}
