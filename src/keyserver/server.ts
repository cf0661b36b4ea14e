// The key server's request handling: reads frames from a duplex stream, validates every field,
// performs purpose-bound signing and answers every request with exactly one frame. Nothing a peer
// sends can make it throw: a bad body gets an error frame; a frame length that makes
// resynchronisation impossible closes the stream with a log line.
import type { Duplex } from "node:stream";
import { KeyKind } from "../../wasm/abi";
import { HandshakeWindow } from "./handshakes";
import type { LoadedKey } from "./keys";
import {
  decodeRequest,
  encodeError,
  encodeReady,
  encodeResponse,
  FrameReader,
  Op,
  Status,
  type Request,
} from "./protocol";
import {
  checkServerEcdhParams,
  schemeInfo,
  signContent,
  tls12ServerKeyExchangeContent,
  tls13CertificateVerifyContent,
  verifyContent,
  type SchemeInfo,
} from "./schemes";
import { decryptPremaster, newRejectionSecret } from "./premaster";

export interface KeyServerOptions {
  log?: (line: string) => void;
  /** Pairs remembered by the one-signature-per-handshake rule. */
  windowSize?: number;
  /** Requests being signed or waiting to be written before reading pauses (a peer that never reads answers). */
  maxInFlight?: number;
}

/** How serving a stream ended. */
export type ServeOutcome = "ended" | "framing-error";

/** Counters for logs and tests. */
export interface KeyServerStats {
  requests: number;
  signatures: number;
  errors: number;
  /** Op 3 answers (valid or implicitly rejected: the server does not know which, nor counts it). */
  decryptions: number;
}

function kindName(kind: KeyKind): string {
  return kind === KeyKind.RSA ? "RSA" : kind === KeyKind.ECDSA_P256 ? "EC P-256" : "EC P-384";
}

class Refusal {
  constructor(readonly status: Status, readonly detail: string) {}
}

export class KeyServer {
  private readonly window: HandshakeWindow;
  private readonly log: (line: string) => void;
  private readonly maxInFlight: number;
  readonly stats: KeyServerStats = { requests: 0, signatures: 0, errors: 0, decryptions: 0 };
  private readonly rejectionSecrets = new Map<number, Uint8Array>();

  constructor(private readonly keys: readonly LoadedKey[], options: KeyServerOptions = {}) {
    this.window = new HandshakeWindow(options.windowSize);
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.maxInFlight = options.maxInFlight ?? 1024;
  }

  /** The READY frame: protocol version and, per key id, its kind and size. */
  readyFrame(): Uint8Array {
    return encodeReady(this.keys.map((k, keyId) => ({ keyId, kind: k.kind, bits: k.bits })));
  }

  /** Answers one request body with one complete frame. Never rejects. */
  async handle(body: Uint8Array): Promise<Uint8Array> {
    this.stats.requests++;
    const decoded = decodeRequest(body);
    if (!decoded.ok) {
      this.stats.errors++;
      return encodeError(decoded.rejection.id, decoded.rejection.status, decoded.rejection.detail);
    }
    const request = decoded.request;
    try {
      const payload = await this.perform(request);
      return encodeResponse(request.id, Status.OK, payload);
    } catch (e) {
      this.stats.errors++;
      if (e instanceof Refusal) return encodeError(request.id, e.status, e.detail);
      // An unexpected failure inside node:crypto: the peer learns only that signing failed.
      this.log(`keyserver: request ${request.id} (op ${request.op}) failed: ${e instanceof Error ? e.message : String(e)}`);
      return encodeError(request.id, Status.SIGN_FAILED, "signing failed");
    }
  }

  private async perform(request: Request): Promise<Uint8Array> {
    switch (request.op) {
      case Op.PING:
        return new Uint8Array(0);
      case Op.SIGN_TLS13_CERT_VERIFY: {
        const key = this.key(request.keyId);
        const info = this.scheme(request.scheme, key);
        if (!info.tls13) throw new Refusal(Status.UNKNOWN_SCHEME, `${info.name} is not allowed in TLS 1.3 (RFC 8446 §4.2.3)`);
        return this.signOnce(request.keyId, request.handshakeId, key, info, tls13CertificateVerifyContent(request.transcriptHash));
      }
      case Op.SIGN_TLS12_SERVER_KEY_EXCHANGE: {
        const key = this.key(request.keyId);
        const info = this.scheme(request.scheme, key);
        const problem = checkServerEcdhParams(request.params);
        if (problem !== null) throw new Refusal(Status.BAD_PARAMS, problem);
        const content = tls12ServerKeyExchangeContent(request.clientRandom, request.serverRandom, request.params);
        return this.signOnce(request.keyId, request.handshakeId, key, info, content);
      }
      case Op.RSA_DECRYPT_PREMASTER: {
        const key = this.key(request.keyId);
        if (key.kind !== KeyKind.RSA) throw new Refusal(Status.SCHEME_KEY_MISMATCH, `key ${key.keyFile} (${kindName(key.kind)}) cannot decrypt`);
        // One private-key operation per handshake, whichever it is (handshakes.ts).
        if (!this.window.claim(request.keyId, request.handshakeId)) {
          throw new Refusal(Status.ALREADY_SIGNED, `handshake ${request.handshakeId} already used key ${request.keyId}`);
        }
        // Implicit rejection (premaster.ts): 48 bytes whatever the ciphertext holds; the answer
        // below is the same OK frame for a valid and an invalid one.
        this.stats.decryptions++;
        return decryptPremaster(key.privateKey, key.bits >> 3, this.rejectionSecret(request.keyId), request.ciphertext);
      }
    }
  }

  /** Per-key secret of the implicit rejection, made on first use; lives only in this process. */
  private rejectionSecret(keyId: number): Uint8Array {
    let secret = this.rejectionSecrets.get(keyId);
    if (secret === undefined) {
      secret = newRejectionSecret();
      this.rejectionSecrets.set(keyId, secret);
    }
    return secret;
  }

  private key(keyId: number): LoadedKey {
    const key = this.keys[keyId];
    if (key === undefined) throw new Refusal(Status.UNKNOWN_KEY, `no key ${keyId} (${this.keys.length} configured)`);
    return key;
  }

  private scheme(scheme: number, key: LoadedKey): SchemeInfo {
    const info = schemeInfo(scheme);
    if (info === undefined) throw new Refusal(Status.UNKNOWN_SCHEME, `unknown signature scheme 0x${scheme.toString(16).padStart(4, "0")}`);
    if (info.keyKind !== key.kind) throw new Refusal(Status.SCHEME_KEY_MISMATCH, `${info.name} does not fit key ${key.keyFile} (${kindName(key.kind)})`);
    return info;
  }

  private async signOnce(keyId: number, handshakeId: bigint, key: LoadedKey, info: SchemeInfo, content: Uint8Array): Promise<Uint8Array> {
    if (!this.window.claim(keyId, handshakeId)) {
      throw new Refusal(Status.ALREADY_SIGNED, `handshake ${handshakeId} already has a signature from key ${keyId}`);
    }
    const signature = await signContent(key.privateKey, info, content);
    // Strict mode: a signature that does not verify (a fault in RSA-CRT) can reveal the key; it never leaves.
    if (!verifyContent(key.publicKey, info, content, signature)) {
      this.log(`keyserver: a ${info.name} signature by key ${keyId} failed its own verification; withheld`);
      throw new Refusal(Status.SIGN_FAILED, "signature failed verification");
    }
    this.stats.signatures++;
    return signature;
  }

  /**
   * Serves one stream until it ends: READY first, then one answer per request, pipelined (answers
   * go out as they complete; ids pair them). Resolves when the stream is finished.
   */
  serve(stream: Duplex): Promise<ServeOutcome> {
    return new Promise((resolve) => {
      const reader = new FrameReader();
      let inFlight = 0;
      let outcome: ServeOutcome = "ended";
      let closing = false;
      let blocked = false;

      const updateFlow = () => {
        const shouldPause = inFlight >= this.maxInFlight || blocked;
        if (shouldPause && !stream.isPaused()) stream.pause();
        else if (!shouldPause && stream.isPaused() && !closing) stream.resume();
      };
      const send = (frame: Uint8Array) => {
        if (stream.destroyed || stream.writableEnded) return;
        if (!stream.write(frame)) {
          blocked = true;
          updateFlow();
        }
      };
      stream.on("drain", () => {
        blocked = false;
        updateFlow();
      });
      let whenIdle: (() => void) | null = null;
      // Closes our side once every request read so far is answered.
      const closeWhenAnswered = () => {
        closing = true;
        const finish = () => {
          // Flush what is written, then close even if the peer never reads.
          const force = setTimeout(() => stream.destroy(), 1000);
          stream.end(() => {
            clearTimeout(force);
            stream.destroy();
          });
        };
        if (inFlight === 0) finish();
        else whenIdle = finish;
      };
      stream.on("data", (chunk: Buffer) => {
        if (closing) return;
        for (const body of reader.push(chunk)) {
          inFlight++;
          void this.handle(body).then((frame) => {
            inFlight--;
            send(frame);
            if (inFlight === 0 && whenIdle !== null) whenIdle();
            else updateFlow();
          });
        }
        if (reader.error) {
          this.log(`keyserver: closing the stream: ${reader.error.message}; the next frame cannot be found`);
          outcome = "framing-error";
          closeWhenAnswered();
          return;
        }
        updateFlow();
      });
      // A peer that half-closes has sent its last request: finish the answers, then close our side.
      stream.on("end", () => {
        if (!closing) closeWhenAnswered();
      });
      stream.on("error", (e) => this.log(`keyserver: stream error: ${e.message}`));
      stream.on("close", () => resolve(outcome));
      send(this.readyFrame());
    });
  }
}
