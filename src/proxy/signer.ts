// The worker's side of signing: each signature (TLS 1.3 CertificateVerify, TLS 1.2
// ServerKeyExchange) is requested from the supervisor, which forwards it to the key server.
// Requests carry a handshake id the key server uses to sign at most once per handshake.
import { HandshakeIds } from "../keyserver/client";
import type { SignRequest, ToSupervisor } from "./ipc";

export class SignError extends Error {
  constructor(
    readonly code: "TIMEOUT" | "REFUSED" | "DISCONNECTED",
    message: string,
  ) {
    super(message);
    this.name = "SignError";
  }
}

interface Pending {
  resolve: (signature: Uint8Array) => void;
  reject: (error: SignError) => void;
  timer: NodeJS.Timeout;
}

export class RemoteSigner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly ids = new HandshakeIds();

  constructor(
    private readonly send: (message: ToSupervisor) => boolean,
    private readonly timeoutMs = 10000,
  ) {}

  /** A fresh handshake id (u64): one per connection, never reused by this process. */
  handshakeId(): bigint {
    return this.ids.next();
  }

  /** TLS 1.3 CertificateVerify over a transcript hash. */
  sign(generation: number, keyId: number, handshakeId: bigint, scheme: number, hash: Uint8Array): Promise<Uint8Array> {
    return this.request({ op: "cert-verify", generation, keyId, handshakeId: handshakeId.toString(), scheme, hash: b64(hash) });
  }

  /** TLS 1.2 ServerKeyExchange over client_random ‖ server_random ‖ ServerECDHParams. */
  signServerKeyExchange(
    generation: number, keyId: number, handshakeId: bigint, scheme: number, clientRandom: Uint8Array, serverRandom: Uint8Array, params: Uint8Array,
  ): Promise<Uint8Array> {
    return this.request({
      op: "server-key-exchange", generation, keyId, handshakeId: handshakeId.toString(), scheme,
      clientRandom: b64(clientRandom), serverRandom: b64(serverRandom), params: b64(params),
    });
  }

  /** TLS 1.2 static RSA: the premaster secret (48 bytes, implicit rejection in the key server). */
  decryptPremaster(generation: number, keyId: number, handshakeId: bigint, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.request({ op: "premaster", generation, keyId, handshakeId: handshakeId.toString(), scheme: 0, ciphertext: b64(ciphertext) });
  }

  private request(body: SignRequest): Promise<Uint8Array> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignError("TIMEOUT", `no signature within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const sent = this.send({ t: "sign", id, ...body });
      if (!sent) this.answer(id, undefined, "the supervisor is gone");
    });
  }

  /** The supervisor's answer to request `id`. */
  answer(id: number, signature: string | undefined, error: string | undefined): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (signature !== undefined) p.resolve(new Uint8Array(Buffer.from(signature, "base64")));
    else p.reject(new SignError(error === "the supervisor is gone" ? "DISCONNECTED" : "REFUSED", error ?? "no signature"));
  }

  /** The channel closed: everything in flight fails now. */
  failAll(): void {
    for (const id of [...this.pending.keys()]) this.answer(id, undefined, "the supervisor is gone");
  }
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
