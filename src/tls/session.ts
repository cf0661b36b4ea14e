// A TLS 1.3 (and, if the policy allows, TLS 1.2) server connection whose engine runs in its own
// sandbox (DESIGN.md). The session moves bytes between the caller and the engine's buffers, answers
// the engine's two questions (which certificate for this SNI, and a signature: TLS 1.3
// CertificateVerify or TLS 1.2 ServerKeyExchange) asynchronously, and checks every
// signature against the certificate's public key before the engine may send it (a faulty
// RSA-CRT signature leaks the key; s2n's strict async-pkey mode does the same check).
//
// Everything coming out of the sandbox is untrusted: pointers and lengths go through
// Sandbox.region (bounds-checked), and a trap or any exception while calling in fails this
// session only, as a typed error. No method of TlsSession throws.
import type { KeyObject } from "node:crypto";
import { Abi, Alert, ErrorCode, Info, KeyKind, KeyOp, SignatureScheme, Status } from "../../wasm/abi";
import { Sandbox, SandboxFactory, type RandomSource, type SandboxHost, type WasiProvider } from "../sandbox/loader";
import { encodePolicy, type TlsPolicy } from "./policy";
import { checkServerEcdhParams, schemeInfo, tls12ServerKeyExchangeContent, tls13CertificateVerifyContent, verifyContent } from "../keyserver/schemes";

export { encodePolicy, DEFAULT_POLICY, PolicyError, TLS12_SUITES, STATIC_RSA_SUITES, type TlsPolicy } from "./policy";

/** Why a session failed. */
export type TlsErrorCode =
  /** The engine trapped or misbehaved at the boundary (out-of-bounds region, bad ABI version). */
  | "SANDBOX_FAULT"
  /** A call into a fuel-metered engine used up its budget (an endless loop): stopped by a trap. */
  | "RUNAWAY"
  /** The policy was refused by the engine. */
  | "BAD_POLICY"
  /** The engine ended the handshake or connection with an alert (see engineError, alertSent). */
  | "PROTOCOL"
  /** The client sent a fatal alert (see alertReceived). */
  | "PEER_ALERT"
  /** The certificate callback returned nothing, threw, or returned an unusable chain. */
  | "NO_CERTIFICATE"
  /** The signing callback failed or the engine asked for an operation it should not. */
  | "KEY_OP_FAILED"
  /** The signature did not verify against the certificate's public key: never sent. */
  | "BAD_SIGNATURE";

export class TlsSessionError extends Error {
  constructor(
    readonly code: TlsErrorCode,
    message: string,
    /** ErrorCode from the engine (wasm/abi.ts), if it reported one. */
    readonly engineError: number = 0,
  ) {
    super(message);
    this.name = "TlsSessionError";
  }
}

/** The certificate for a connection, chosen by the host after it saw the SNI. */
export interface CertificateChoice {
  /** DER certificates, leaf first. */
  chain: readonly Uint8Array[];
  keyKind: KeyKind;
  /** The leaf's public key: every signature is verified against it before use. */
  publicKey: KeyObject;
  /** Signs a TLS 1.3 server CertificateVerify: the signer builds the signed content from the hash. */
  sign(scheme: SignatureScheme, transcriptHash: Uint8Array): Promise<Uint8Array>;
  /**
   * Signs a TLS 1.2 ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4): the signed content is
   * client_random ‖ server_random ‖ params, where params is one ServerECDHParams (the key server's
   * op 2 takes exactly these fields). Without it, TLS 1.2 handshakes with this certificate fail
   * with KEY_OP_FAILED.
   */
  signServerKeyExchange?(scheme: SignatureScheme, clientRandom: Uint8Array, serverRandom: Uint8Array, params: Uint8Array): Promise<Uint8Array>;
  /**
   * TLS 1.2 static RSA (policy `staticRsa`): decrypts an EncryptedPreMasterSecret, answering 48
   * bytes whatever the ciphertext (the key server's op 3, implicit rejection). Nothing can be
   * verified here: any answer that is not 48 bytes fails the handshake.
   */
  decryptPremaster?(ciphertext: Uint8Array): Promise<Uint8Array>;
}

export type CertificateSelector = (sni: string | null, clientKeyKinds: number) => CertificateChoice | null | Promise<CertificateChoice | null>;

export interface TlsSessionStatus {
  handshakeDone: boolean;
  peerClosed: boolean;
  localClosed: boolean;
  failed: boolean;
  sni: string | null;
  alpn: string | null;
  version: number;
  cipherSuite: number;
  group: number;
  signatureScheme: number;
  helloRetry: boolean;
  alertSent: number | null;
  alertReceived: number | null;
  engineError: number;
  error: TlsSessionError | null;
  /** TLS 1.2: the extended master secret (RFC 7627) was negotiated. */
  extendedMasterSecret: boolean;
  /** TLS 1.2: renegotiating ClientHellos refused with a no_renegotiation warning. */
  renegotiationsRefused: number;
}

type Fn = (...args: number[]) => number;

/**
 * Fuel for one call into the engine (wasm/transforms/fuel.mjs meters every build the host loads:
 * one unit per loop iteration or recursive call). Normal calls burn at most ~27,000 units (the
 * fuzz harness measured handshakes, P-384 included, and full records); a call that burns
 * 5,000,000 is a runaway, stopped within milliseconds.
 */
export const DEFAULT_FUEL_PER_CALL = 5_000_000;

export interface TlsSessionOptions {
  /** Fuel per call into a metered engine (ignored by engines without metering). */
  fuelPerCall?: number;
}

/** A key operation the engine requested (KeyOp 1: hash; KeyOp 2: the ServerKeyExchange fields). */
interface KeyOpRequest {
  op: number;
  scheme: number;
  hash: Uint8Array;
  clientRandom?: Uint8Array;
  serverRandom?: Uint8Array;
  params?: Uint8Array;
}

const sessions = new WeakMap<Sandbox, TlsSession>();

/** Binds tls_host.key_op_request of each instance to the session that owns it. */
const TLS_HOST: SandboxHost = {
  bind: (current) => ({
    key_op_request(op: number, scheme: number, ptr: number, len: number): void {
      // Called from inside the engine: never throw back into it.
      try {
        sessions.get(current())?.keyOpRequested(op, scheme, ptr, len);
      } catch {
        // The session records its own failures; nothing else to do here.
      }
    },
  }),
};

/** A factory for engine instances whose key-operation import reaches their session. */
export function createTlsSandboxFactory(
  wasm: BufferSource,
  options: { wasi?: WasiProvider; random?: RandomSource } = {},
): Promise<SandboxFactory> {
  return SandboxFactory.create(wasm, { ...options, host: TLS_HOST });
}

// The signed contents and the verification rule are the key server's own (src/keyserver/schemes.ts):
// one rule, applied there before a signature leaves and here before the engine may use it.
export { tls13CertificateVerifyContent as certificateVerifyContent, tls12ServerKeyExchangeContent as serverKeyExchangeContent };

/** Verifies a TLS 1.3 CertificateVerify signature against the certificate's public key. */
export function verifyCertificateVerify(publicKey: KeyObject, scheme: SignatureScheme, transcriptHash: Uint8Array, signature: Uint8Array): boolean {
  const info = schemeInfo(scheme);
  // RFC 8446 §4.2.3: PKCS#1 v1.5 never signs a TLS 1.3 CertificateVerify.
  if (info === undefined || !info.tls13) return false;
  return verifyContent(publicKey, info, tls13CertificateVerifyContent(transcriptHash), signature);
}

/** Verifies a TLS 1.2 ServerKeyExchange signature (PKCS#1 v1.5, PSS with salt = hash length, or DER ECDSA). */
export function verifyServerKeyExchange(
  publicKey: KeyObject, scheme: SignatureScheme, clientRandom: Uint8Array, serverRandom: Uint8Array, params: Uint8Array, signature: Uint8Array,
): boolean {
  const info = schemeInfo(scheme);
  if (info === undefined) return false;
  return verifyContent(publicKey, info, tls12ServerKeyExchangeContent(clientRandom, serverRandom, params), signature);
}

export class TlsSession {
  /** Called after asynchronous progress (certificate chosen, signature added): pull again. */
  onUpdate: (() => void) | null = null;

  private readonly x: Record<string, Fn>;
  private readonly inQueue: Uint8Array[] = [];
  private readonly plainInQueue: Uint8Array[] = [];
  private readonly outQueue: Uint8Array[] = [];
  private readonly plainOutQueue: Uint8Array[] = [];
  private statusBits = 0;
  private err: TlsSessionError | null = null;
  private certRequested = false;
  private keyOpStarted = false;
  private choice: CertificateChoice | null = null;
  private keyOp: KeyOpRequest | null = null;
  private closeRequested = false;
  private pumping = false;
  private disposed = false;
  /** The sandbox trapped or broke the ABI: never call into it again. */
  private faulted = false;

  /** The metered engine's tlsbox_fuel_left, if it has one (-1 once a call ran out of fuel). */
  private readonly fuelLeft: Fn | null = null;

  constructor(
    private readonly sandbox: Sandbox,
    policy: Partial<TlsPolicy>,
    private readonly selectCertificate: CertificateSelector,
    options: TlsSessionOptions = {},
  ) {
    const raw = sandbox.exports as unknown as Record<string, Fn>;
    this.x = raw;
    // A metered engine: every call from the host starts with a fresh budget (the engine's entry
    // wrappers reset it), so a call that loops forever traps (RUNAWAY) instead of freezing the
    // event loop that carries every session.
    if (typeof raw.tlsbox_set_fuel_per_call === "function" && typeof raw.tlsbox_fuel_left === "function") {
      raw.tlsbox_set_fuel_per_call(Math.min(Math.max(Math.floor(options.fuelPerCall ?? DEFAULT_FUEL_PER_CALL), 1), 0xffffffff));
      this.fuelLeft = raw.tlsbox_fuel_left;
    }
    sessions.set(sandbox, this);
    this.guard(() => {
      if (this.x.tlsbox_abi_version() !== Abi.VERSION) {
        this.setError(new TlsSessionError("SANDBOX_FAULT", "engine ABI version mismatch"));
        this.faulted = true;
        return;
      }
      // Without a per-call budget one endless loop would hold the event loop of every session.
      if (this.fuelLeft === null) {
        this.setError(new TlsSessionError("SANDBOX_FAULT", "engine is not fuel-metered (built without wasm/transforms/fuel.mjs)"));
        this.faulted = true;
        return;
      }
      const blob = encodePolicy(policy);
      if (blob.length > this.x.tls_config_capacity()) {
        this.setError(new TlsSessionError("BAD_POLICY", "policy larger than the engine's buffer"));
        this.faulted = true;
        return;
      }
      this.sandbox.region(this.x.tls_config_ptr(), blob.length).set(blob);
      const code = this.x.tls_configure(blob.length);
      if (code !== ErrorCode.NONE) {
        this.setError(new TlsSessionError("BAD_POLICY", `engine refused the policy (error ${code})`, code));
        this.faulted = true;
      }
    });
  }

  // ---- The caller's side -------------------------------------------------------------------

  /** Bytes received from the client. */
  receive(data: Uint8Array): void {
    if (this.faulted || data.length === 0) return;
    this.inQueue.push(data.slice());
    this.pump();
  }

  /** Bytes to send to the client (empty when none). */
  takeOutgoing(): Uint8Array {
    return concat(this.outQueue.splice(0));
  }

  /** Plaintext from the backend, to be encrypted once the handshake is done. */
  write(plaintext: Uint8Array): void {
    if (this.faulted || this.closeRequested || plaintext.length === 0) return;
    this.plainInQueue.push(plaintext.slice());
    this.pump();
  }

  /** Plaintext received from the client (empty when none). */
  read(): Uint8Array {
    return concat(this.plainOutQueue.splice(0));
  }

  /** The backend is done sending: close_notify after the queued plaintext. */
  close(): void {
    this.closeRequested = true;
    this.pump();
  }

  /** Bytes received but not yet taken by the engine (to pause reading the socket). */
  get receiveBacklog(): number {
    return this.inQueue.reduce((n, b) => n + b.length, 0);
  }

  get error(): TlsSessionError | null {
    return this.err;
  }

  get status(): TlsSessionStatus {
    const s = this.statusBits;
    const info = (field: Info): number => (this.faulted ? 0 : this.guard(() => this.x.tls_info(field)) ?? 0);
    const alertSent = info(Info.ALERT_SENT);
    const alertReceived = info(Info.ALERT_RECEIVED);
    return {
      handshakeDone: (s & Status.HANDSHAKE_DONE) !== 0,
      peerClosed: (s & Status.PEER_CLOSED) !== 0,
      localClosed: (s & Status.LOCAL_CLOSED) !== 0,
      failed: (s & Status.FAILED) !== 0 || this.err !== null,
      sni: this.readName(this.x.tls_sni_ptr, Info.SNI_LENGTH),
      alpn: this.readName(this.x.tls_alpn_ptr, Info.ALPN_LENGTH),
      version: info(Info.VERSION),
      cipherSuite: info(Info.CIPHER_SUITE),
      group: info(Info.GROUP),
      signatureScheme: info(Info.SIGNATURE_SCHEME),
      helloRetry: info(Info.HELLO_RETRY) === 1,
      alertSent: alertSent >= 0 && alertSent <= 255 ? alertSent : null,
      alertReceived: alertReceived >= 0 && alertReceived <= 255 ? alertReceived : null,
      engineError: info(Info.ERROR),
      error: this.err,
      extendedMasterSecret: info(Info.EXTENDED_MASTER_SECRET) === 1,
      renegotiationsRefused: info(Info.RENEGOTIATIONS_REFUSED),
    };
  }

  /** Releases the sandbox. */
  dispose(): void {
    this.disposed = true;
    sessions.delete(this.sandbox);
    this.sandbox.dispose();
  }

  // ---- Moving bytes ----------------------------------------------------------------------------

  /** Moves everything that can move, until nothing does. */
  private pump(): void {
    if (this.pumping || this.disposed || this.faulted) return;
    this.pumping = true;
    try {
      let moved = true;
      while (moved) {
        moved = false;
        this.statusBits = this.x.tls_status();
        // Network → engine
        while (this.inQueue.length > 0) {
          const window = this.x.tls_recv_window();
          if (window <= 0) break;
          const chunk = this.inQueue[0];
          const n = Math.min(window, chunk.length);
          this.sandbox.region(this.x.tls_recv_ptr(), n).set(chunk.subarray(0, n));
          if (n === chunk.length) this.inQueue.shift();
          else this.inQueue[0] = chunk.subarray(n);
          this.statusBits = this.x.tls_recv(n);
          moved = true;
        }
        // Engine → network
        const pending = this.x.tls_send_pending();
        if (pending > 0) {
          this.outQueue.push(this.sandbox.copyOut(this.x.tls_send_ptr(), pending));
          this.statusBits = this.x.tls_send_ack(pending);
          moved = true;
        }
        // Engine → backend
        const plain = this.x.tls_app_out_pending();
        if (plain > 0) {
          this.plainOutQueue.push(this.sandbox.copyOut(this.x.tls_app_out_ptr(), plain));
          this.statusBits = this.x.tls_app_out_ack(plain);
          moved = true;
        }
        // Backend → engine
        while (this.plainInQueue.length > 0) {
          const window = this.x.tls_app_in_window();
          if (window <= 0) break;
          const ptr = this.x.tls_app_in_ptr();
          const chunk = this.plainInQueue[0];
          const n = Math.min(window, chunk.length);
          this.sandbox.region(ptr, n).set(chunk.subarray(0, n));
          if (n === chunk.length) this.plainInQueue.shift();
          else this.plainInQueue[0] = chunk.subarray(n);
          this.statusBits = this.x.tls_app_in(n);
          moved = true;
        }
        if (this.closeRequested && this.plainInQueue.length === 0 && (this.statusBits & Status.LOCAL_CLOSED) === 0 &&
            (this.statusBits & (Status.HANDSHAKE_DONE | Status.FAILED)) !== 0) {
          this.statusBits = this.x.tls_close();
          moved = true;
        }
        if ((this.statusBits & Status.WANT_CERT) !== 0 && !this.certRequested) {
          this.certRequested = true;
          this.chooseCertificate();
        }
        // TLS 1.2 static RSA: the engine asks for the premaster while reading the client's flight.
        if ((this.statusBits & Status.WANT_KEY_OP) !== 0 && !this.keyOpStarted && this.choice !== null) {
          this.keyOpStarted = true;
          if (this.keyOp === null) {
            this.statusBits = this.x.tls_keyop_done(0);
            this.setError(new TlsSessionError("KEY_OP_FAILED", "engine wants a key operation it never validly requested"));
          } else {
            this.sign(this.choice, this.keyOp);
          }
          moved = true;
        }
      }
      this.statusBits = this.x.tls_status();
      if ((this.statusBits & Status.FAILED) !== 0 && this.err === null) this.noteEngineFailure();
    } catch (e) {
      this.fault(e);
    } finally {
      this.pumping = false;
    }
  }

  private noteEngineFailure(): void {
    const code = this.x.tls_info(Info.ERROR);
    const received = this.x.tls_info(Info.ALERT_RECEIVED);
    if (code === ErrorCode.PEER_ALERT) {
      this.err = new TlsSessionError("PEER_ALERT", `client sent alert ${received}`, code);
    } else {
      const sent = this.x.tls_info(Info.ALERT_SENT);
      this.err = new TlsSessionError("PROTOCOL", `engine failed: error ${code}, alert ${sent}`, code);
    }
  }

  // ---- The engine's questions -----------------------------------------------------------------

  private chooseCertificate(): void {
    const sni = this.readName(this.x.tls_sni_ptr, Info.SNI_LENGTH);
    const kinds = this.x.tls_info(Info.CLIENT_KEY_KINDS);
    let answer: CertificateChoice | null | Promise<CertificateChoice | null>;
    try {
      answer = this.selectCertificate(sni, kinds);
    } catch {
      answer = null;
    }
    Promise.resolve(answer).then(
      (choice) => this.resume(() => this.installCertificate(choice)),
      () => this.resume(() => this.installCertificate(null)),
    );
  }

  private installCertificate(choice: CertificateChoice | null): void {
    if (choice === null || choice.chain.length === 0) {
      this.x.tls_set_certificate(0, 0);
      this.setError(new TlsSessionError("NO_CERTIFICATE", "no certificate for this connection", ErrorCode.NO_CERTIFICATE));
      return;
    }
    const total = choice.chain.reduce((n, c) => n + 3 + c.length, 0);
    if (total > this.x.tls_cert_capacity() || choice.chain.some((c) => c.length === 0 || c.length > 0xffffff)) {
      this.x.tls_set_certificate(0, 0);
      this.setError(new TlsSessionError("NO_CERTIFICATE", `certificate chain of ${total} bytes does not fit the engine`));
      return;
    }
    const region = this.sandbox.region(this.x.tls_cert_ptr(), total);
    let off = 0;
    for (const der of choice.chain) {
      region[off] = der.length >>> 16;
      region[off + 1] = (der.length >>> 8) & 255;
      region[off + 2] = der.length & 255;
      region.set(der, off + 3);
      off += 3 + der.length;
    }
    this.choice = choice;
    // The engine calls key_op_request from inside this call (keyOpRequested records it).
    this.statusBits = this.x.tls_set_certificate(total, choice.keyKind);
    const request = this.keyOp;
    if ((this.statusBits & Status.WANT_KEY_OP) !== 0) {
      this.keyOpStarted = true;
      if (request === null) {
        this.x.tls_keyop_done(0);
        this.setError(new TlsSessionError("KEY_OP_FAILED", "engine wants a key operation it never requested"));
        return;
      }
      this.sign(choice, request);
    }
  }

  /**
   * The import: the engine asks for a signature or a premaster decryption. Only records it, after checking that the request
   * is one the engine may make (one per handshake; the scheme suits the key; the data has the
   * shape of its op). Anything else is ignored, and the engine's WANT_KEY_OP then fails the session.
   */
  keyOpRequested(op: number, scheme: number, ptr: number, len: number): void {
    if (this.keyOp !== null || this.choice === null) return;
    if (op === KeyOp.RSA_DECRYPT_PREMASTER) {
      // An RSA ciphertext of 2048 to 4096 bits (the key server's key sizes).
      if (this.choice.keyKind !== KeyKind.RSA || scheme !== 0 || len < 256 || len > 512) return;
      this.keyOp = { op, scheme, hash: this.sandbox.copyOut(ptr, len) };
      return;
    }
    const info = schemeInfo(scheme);
    if (info === undefined || info.keyKind !== this.choice.keyKind) return;
    if (op === KeyOp.SIGN_TLS13_SERVER_CERT_VERIFY) {
      if (!info.tls13 || !(len === 32 || len === 48 || len === 64)) return;
      this.keyOp = { op, scheme, hash: this.sandbox.copyOut(ptr, len) };
    } else if (op === KeyOp.SIGN_TLS12_SERVER_KEY_EXCHANGE) {
      // client_random ‖ server_random ‖ ServerECDHParams: 4 + 32 (x25519) to 4 + 97 (secp384r1);
      // checkServerEcdhParams then requires exactly one well-formed ServerECDHParams.
      if (len < 64 + 4 + 32 || len > 64 + 4 + 97) return;
      const data = this.sandbox.copyOut(ptr, len);
      const params = data.subarray(64);
      if (checkServerEcdhParams(params) !== null) return;
      this.keyOp = { op, scheme, hash: new Uint8Array(0), clientRandom: data.slice(0, 32), serverRandom: data.slice(32, 64), params: params.slice() };
    }
  }

  private sign(choice: CertificateChoice, request: KeyOpRequest): void {
    let promise: Promise<Uint8Array>;
    try {
      if (request.op === KeyOp.RSA_DECRYPT_PREMASTER) {
        if (choice.decryptPremaster === undefined) throw new Error("the certificate has no TLS 1.2 premaster decrypter");
        promise = Promise.resolve(choice.decryptPremaster(request.hash));
      } else if (request.op === KeyOp.SIGN_TLS12_SERVER_KEY_EXCHANGE) {
        if (choice.signServerKeyExchange === undefined) throw new Error("the certificate has no TLS 1.2 ServerKeyExchange signer");
        promise = Promise.resolve(choice.signServerKeyExchange(request.scheme, request.clientRandom!, request.serverRandom!, request.params!));
      } else {
        promise = Promise.resolve(choice.sign(request.scheme, request.hash));
      }
    } catch (e) {
      promise = Promise.reject(e);
    }
    promise.then(
      (signature) => this.resume(() => this.finishKeyOp(choice, request, signature)),
      (e) => this.resume(() => {
        this.x.tls_keyop_done(0);
        this.setError(new TlsSessionError("KEY_OP_FAILED", `signing failed: ${e instanceof Error ? e.message : String(e)}`));
      }),
    );
  }

  private finishKeyOp(choice: CertificateChoice, request: KeyOpRequest, signature: Uint8Array): void {
    if (request.op === KeyOp.RSA_DECRYPT_PREMASTER) {
      // RFC 5246 §7.4.7.1: 48 bytes, always (the key server's implicit rejection guarantees it).
      if (!(signature instanceof Uint8Array) || signature.length !== 48) {
        this.x.tls_keyop_done(0);
        this.setError(new TlsSessionError("KEY_OP_FAILED", "premaster decryption did not answer 48 bytes"));
        return;
      }
      this.sandbox.region(this.x.tls_keyop_ptr(), 48).set(signature);
      this.statusBits = this.x.tls_keyop_done(48);
      return;
    }
    const valid = (): boolean => request.op === KeyOp.SIGN_TLS12_SERVER_KEY_EXCHANGE
      ? verifyServerKeyExchange(choice.publicKey, request.scheme, request.clientRandom!, request.serverRandom!, request.params!, signature)
      : verifyCertificateVerify(choice.publicKey, request.scheme, request.hash, signature);
    if (!(signature instanceof Uint8Array) || signature.length === 0 || signature.length > this.x.tls_keyop_capacity() || !valid()) {
      this.x.tls_keyop_done(0);
      this.setError(new TlsSessionError("BAD_SIGNATURE", "the signature does not verify against the certificate; not sent"));
      return;
    }
    this.sandbox.region(this.x.tls_keyop_ptr(), signature.length).set(signature);
    this.statusBits = this.x.tls_keyop_done(signature.length);
  }

  /** Runs an asynchronous continuation against the engine, then pumps and tells the caller. */
  private resume(step: () => void): void {
    if (this.disposed) return;
    if (!this.faulted) this.guard(step);
    // Whatever happened, flush what the engine queued (an alert, or the server flight).
    this.pump();
    this.onUpdate?.();
  }

  // ---- Helpers -----------------------------------------------------------------------------------

  private readName(ptrFn: Fn, lengthField: Info): string | null {
    if (this.faulted) return null;
    return this.guard(() => {
      const len = this.x.tls_info(lengthField);
      if (len <= 0 || len > 255) return null;
      return Buffer.from(this.sandbox.region(ptrFn(), len)).toString("latin1");
    }) ?? null;
  }

  /** Calls into the sandbox; a trap or any exception fails this session only. */
  private guard<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      this.fault(e);
      return undefined;
    }
  }

  /** A trap (WebAssembly.RuntimeError) or an out-of-bounds region: this session is over. */
  private fault(e: unknown): void {
    this.faulted = true;
    if (e instanceof WebAssembly.RuntimeError && this.fuelLeft !== null && this.runOutOfFuel()) {
      this.err = new TlsSessionError("RUNAWAY", `engine call ran out of fuel (an endless loop?): ${e.message}`);
      return;
    }
    const what = e instanceof WebAssembly.RuntimeError ? "trap" : "fault";
    this.err = new TlsSessionError("SANDBOX_FAULT", `engine ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  private runOutOfFuel(): boolean {
    try {
      return this.fuelLeft?.() === -1;
    } catch {
      return false;
    }
  }

  /** True once the session can make no more progress: failed, faulted, or closed both ways. */
  get finished(): boolean {
    const s = this.statusBits;
    return this.faulted || (s & Status.FAILED) !== 0 || ((s & Status.PEER_CLOSED) !== 0 && (s & Status.LOCAL_CLOSED) !== 0);
  }

  private setError(e: TlsSessionError): void {
    if (this.err === null) this.err = e;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  return new Uint8Array(Buffer.concat(chunks));
}

/** Alert numbers by name, for messages and tests. */
export const ALERT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries({
    close_notify: Alert.CLOSE_NOTIFY, unexpected_message: Alert.UNEXPECTED_MESSAGE, bad_record_mac: Alert.BAD_RECORD_MAC,
    record_overflow: Alert.RECORD_OVERFLOW, handshake_failure: Alert.HANDSHAKE_FAILURE, illegal_parameter: Alert.ILLEGAL_PARAMETER,
    decode_error: Alert.DECODE_ERROR, decrypt_error: Alert.DECRYPT_ERROR, protocol_version: Alert.PROTOCOL_VERSION,
    internal_error: Alert.INTERNAL_ERROR, missing_extension: Alert.MISSING_EXTENSION, unrecognized_name: Alert.UNRECOGNIZED_NAME,
    no_application_protocol: Alert.NO_APPLICATION_PROTOCOL, inappropriate_fallback: Alert.INAPPROPRIATE_FALLBACK,
    no_renegotiation: Alert.NO_RENEGOTIATION,
  }).map(([name, code]) => [code, name]),
);
