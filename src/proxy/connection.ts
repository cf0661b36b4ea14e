// One client connection: a fresh sandbox running the TLS engine, a backend socket, and the pump
// between them. The host never parses TLS: bytes from the client go into the session as they come,
// and what the session hands out goes to the backend (plaintext) or back to the client (records).
//
// Flow control: the backend is written only as fast as it drains (the client socket is paused
// meanwhile), and the client only as fast as it reads (the backend is paused). Half-close crosses
// the proxy: the client's close_notify becomes a FIN to the backend, the backend's FIN becomes a
// close_notify. Everything that goes wrong ends this connection only, with one log line.
import { connect as netConnect, type Socket } from "node:net";
import { groupName, suiteName } from "../config";
import type { Sandbox } from "../sandbox/loader";
import { TlsSession, type CertificateChoice, type TlsSessionError } from "../tls/session";
import type { Fields, Logger } from "./log";
import type { RemoteSigner } from "./signer";
import { normalizeAddress, VhostTable, type Vhost } from "./vhosts";

/** How a connection ended; the last field of its log line. */
export type Outcome =
  /** Both sides closed cleanly. */
  | "ok"
  /** The client went away before the handshake completed. */
  | "client-closed"
  /** The client's socket failed (reset, ...). */
  | "client-error"
  | "handshake-timeout"
  | "idle-timeout"
  /** No vhost matches the local address, port and server name: unrecognized_name was sent. */
  | "no-vhost"
  /** The engine ended the connection with an alert (a protocol violation, no common parameters, ...). */
  | "tls-error"
  /** The client sent a fatal alert. */
  | "client-alert"
  /** The sandbox trapped or broke the ABI; only this connection is affected. */
  | "sandbox-fault"
  /** The signature could not be obtained or did not verify. */
  | "key-error"
  | "backend-unreachable"
  | "backend-error"
  /** Ended by a shutdown whose drain time ran out. */
  | "shutdown";

/** What every connection of a worker shares. */
export interface ConnectionContext {
  readonly table: VhostTable;
  readonly generation: number;
  takeSandbox(): Sandbox;
  readonly signer: RemoteSigner;
  readonly log: Logger;
  /** 0: no limit. */
  readonly handshakeMs: number;
  /** 0: none. */
  readonly idleMs: number;
}

/** Received bytes the engine has not taken yet, beyond which the client is not read. */
const RECEIVE_BACKLOG_LIMIT = 256 * 1024;
/** After we ended the client socket, how long it may take to close before it is destroyed. */
const LINGER_MS = 5000;

const VERSION_NAMES: Record<number, string> = { 0x0303: "TLSv1.2", 0x0304: "TLSv1.3" };

export class Connection {
  private readonly session: TlsSession;
  private readonly candidates: Vhost[];
  private readonly started = Date.now();
  private readonly handshakeId: bigint;
  private backend: Socket | null = null;
  private backendConnected = false;
  private vhost: Vhost | null = null;
  private outcome: Outcome | null = null;
  private detail: string | undefined;
  private bytesUp = 0;
  private bytesDown = 0;
  private handshakeDone = false;
  /** We ended the backend's write side (the client finished sending). */
  private backendEnded = false;
  /** The client sent close_notify. */
  private peerClosed = false;
  /** The client sent its TCP FIN. */
  private clientEnded = false;
  /** The backend socket is closed both ways (or never opened): nothing more can reach it. */
  private backendGone = false;
  /** The server name the engine reported, kept for the log line. */
  private sni: string | null = null;
  /** The backend cannot take more now: the client is not read. */
  private backendFull = false;
  /** The client cannot take more now: the backend is not read. */
  private clientFull = false;
  private ending = false;
  private finished = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  private info: Fields = {};
  /** Read at accept: a closed socket no longer knows its addresses. */
  private readonly clientAddress: string;
  private readonly localAddress: string;

  constructor(
    private readonly client: Socket,
    private readonly ctx: ConnectionContext,
    private readonly onFinished: (connection: Connection, outcome: Outcome) => void,
  ) {
    this.clientAddress = `${normalizeAddress(client.remoteAddress)}:${client.remotePort}`;
    this.localAddress = `${normalizeAddress(client.localAddress)}:${client.localPort}`;
    this.handshakeId = ctx.signer.handshakeId();
    this.candidates = ctx.table.candidates(client.localAddress, client.localPort);
    // The engine takes its policy before the ClientHello, so before the server name is known: the
    // first vhost reachable on this address and port sets it (the supervisor warns when vhosts
    // that can share connections differ in TLS settings).
    const policy = this.candidates[0]?.spec.policy ?? ctx.table.vhosts[0]?.spec.policy ?? {};
    this.session = new TlsSession(ctx.takeSandbox(), policy, (sni) => this.selectCertificate(sni));
    this.session.onUpdate = () => this.flush();

    client.setNoDelay(true);
    client.on("data", (data: Buffer) => {
      this.touch();
      this.session.receive(data);
      this.flush();
    });
    client.on("end", () => this.clientFin());
    client.on("drain", () => {
      this.clientFull = false;
      this.updateFlow();
    });
    client.on("error", (e: NodeJS.ErrnoException) => {
      // A client that sent close_notify may close without waiting for ours (RFC 8446 §6.1): the
      // reset our close_notify then meets is the normal end of such a connection, not a failure.
      const afterClose = this.peerClosed && (e.code === "ECONNRESET" || e.code === "EPIPE");
      if (!afterClose) this.setOutcome("client-error", e.code ?? e.message);
    });
    client.on("close", () => this.finish());
    if (ctx.handshakeMs > 0) {
      this.timers.push(setTimeout(() => {
        if (!this.handshakeDone) this.abort("handshake-timeout", `no completed handshake after ${ctx.handshakeMs} ms`);
      }, ctx.handshakeMs));
    }
    client.resume();
  }

  /** Bytes queued in this process towards each side, not yet taken by the kernel: flow control keeps them bounded. */
  get buffered(): { toBackend: number; toClient: number } {
    return { toBackend: this.backend?.writableLength ?? 0, toClient: this.client.writableLength };
  }

  /** The drain time of a shutdown ran out. */
  shutdown(): void {
    this.abort("shutdown", "drain time ran out");
  }

  // ---- The engine's question: which certificate -----------------------------------------------

  private selectCertificate(sni: string | null): CertificateChoice | null {
    this.sni = sni;
    const vhost = VhostTable.select(this.candidates, sni);
    if (vhost === null) {
      this.setOutcome("no-vhost", `no vhost for server name ${sni === null ? "(none)" : JSON.stringify(sni)}`);
      return null;
    }
    this.vhost = vhost;
    // The backend connects while the handshake finishes (the signature round trip hides it).
    this.connectBackend(vhost);
    const { signer } = this.ctx;
    const generation = this.ctx.generation;
    const keyId = vhost.spec.keyId;
    const handshakeId = this.handshakeId;
    return {
      chain: vhost.chain,
      keyKind: vhost.keyKind,
      publicKey: vhost.publicKey,
      sign: (scheme, hash) => signer.sign(generation, keyId, handshakeId, scheme, hash),
      signServerKeyExchange: (scheme, clientRandom, serverRandom, params) =>
        signer.signServerKeyExchange(generation, keyId, handshakeId, scheme, clientRandom, serverRandom, params),
      decryptPremaster: (ciphertext) => signer.decryptPremaster(generation, keyId, handshakeId, ciphertext),
    };
  }

  // ---- The backend --------------------------------------------------------------------------------

  private connectBackend(vhost: Vhost): void {
    const target = vhost.spec.backend;
    const backend = target.kind === "unix"
      ? netConnect({ path: target.path, allowHalfOpen: true })
      : netConnect({ host: target.host, port: target.port, allowHalfOpen: true });
    this.backend = backend;
    // Nothing goes to the client before its handshake is done.
    backend.pause();
    backend.setNoDelay?.(true);
    backend.on("connect", () => {
      this.backendConnected = true;
    });
    backend.on("data", (data: Buffer) => {
      this.touch();
      this.bytesDown += data.length;
      this.session.write(data);
      this.flush();
    });
    backend.on("drain", () => {
      this.backendFull = false;
      this.updateFlow();
    });
    // The backend finished sending: close_notify to the client once the queued data is out.
    backend.on("end", () => {
      this.session.close();
      this.flush();
    });
    backend.on("error", (e: NodeJS.ErrnoException) => {
      const what = e.code ?? e.message;
      const where = target.kind === "unix" ? target.path : `${target.host}:${target.port}`;
      if (!this.backendConnected) this.setOutcome("backend-unreachable", `${where}: ${what}`);
      else this.setOutcome("backend-error", `${where}: ${what}`);
      // A clean close towards the client: close_notify as soon as the handshake allows it.
      this.session.close();
      this.flush();
    });
    backend.on("close", () => {
      this.backendGone = true;
      this.session.close();
      this.flush();
    });
  }

  // ---- Moving bytes -------------------------------------------------------------------------------

  private flush(): void {
    if (this.finished) return;
    const session = this.session;
    const plain = session.read();
    if (plain.length > 0) {
      this.bytesUp += plain.length;
      const backend = this.backend;
      if (backend !== null && !this.backendEnded && !backend.destroyed && !backend.write(plain)) this.backendFull = true;
    }
    const records = session.takeOutgoing();
    if (records.length > 0 && !this.client.destroyed && !this.client.writableEnded) {
      if (!this.client.write(records)) this.clientFull = true;
    }
    const st = session.status;
    if (st.handshakeDone && !this.handshakeDone) {
      this.handshakeDone = true;
      // Until now max-handshake-time applied; from now on, idle-timeout.
      if (this.ctx.idleMs > 0) {
        this.idleTimer = setTimeout(() => this.idle(), this.ctx.idleMs);
        this.timers.push(this.idleTimer);
      }
      this.info = {
        sni: st.sni,
        version: VERSION_NAMES[st.version] ?? st.version,
        suite: suiteName(st.cipherSuite),
        group: groupName(st.group),
        alpn: st.alpn,
      };
    }
    // The client's close_notify: the backend gets its FIN after the plaintext written above.
    if (st.peerClosed) this.peerClosed = true;
    if (st.peerClosed && !this.backendEnded) this.endBackend();
    if (st.failed && session.error !== null) this.noteSessionError(session.error);
    // Done once our close_notify is out and the client can send nothing more, or nothing more it
    // sends could be delivered.
    const closedBoth = st.localClosed && (st.peerClosed || this.clientEnded || this.backendGone);
    if (!this.ending && (st.failed || closedBoth)) {
      this.ending = true;
      // After a failure the alert (if any) was written above; nothing more will flow.
      if (st.failed) this.backend?.destroy();
      this.client.end();
      this.timers.push(setTimeout(() => this.client.destroy(), LINGER_MS));
    }
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.finished) return;
    const readClient = !this.backendFull && this.session.receiveBacklog < RECEIVE_BACKLOG_LIMIT;
    if (readClient) this.client.resume();
    else this.client.pause();
    const backend = this.backend;
    if (backend !== null && !backend.destroyed) {
      if (this.handshakeDone && !this.clientFull) backend.resume();
      else backend.pause();
    }
  }

  private endBackend(): void {
    this.backendEnded = true;
    if (this.backend !== null && !this.backend.destroyed) this.backend.end();
    else this.session.close();
  }

  /** TCP FIN from the client. Without close_notify first it is a truncation; the backend learns of it the same way. */
  private clientFin(): void {
    this.clientEnded = true;
    if (!this.handshakeDone) {
      this.abort("client-closed", "closed before the handshake completed");
      return;
    }
    if (!this.backendEnded) this.endBackend();
    this.flush();
  }

  private touch(): void {
    this.idleTimer?.refresh();
  }

  private idle(): void {
    this.setOutcome("idle-timeout", `no data for ${this.ctx.idleMs} ms`);
    this.session.close();
    this.flush();
    this.backend?.destroy();
    if (!this.ending) {
      this.ending = true;
      this.client.end();
      this.timers.push(setTimeout(() => this.client.destroy(), LINGER_MS));
    }
  }

  // ---- Ending -------------------------------------------------------------------------------------

  private noteSessionError(error: TlsSessionError): void {
    switch (error.code) {
      case "SANDBOX_FAULT": this.setOutcome("sandbox-fault", error.message); break;
      case "PEER_ALERT": this.setOutcome("client-alert", error.message); break;
      case "KEY_OP_FAILED":
      case "BAD_SIGNATURE": this.setOutcome("key-error", error.message); break;
      case "NO_CERTIFICATE": this.setOutcome("no-vhost", error.message); break;
      default:
        // A metered engine that ran out of fuel (an endless loop) was stopped by a trap, too.
        this.setOutcome((error.code as string) === "RUNAWAY" ? "sandbox-fault" : "tls-error", error.message);
    }
  }

  private setOutcome(outcome: Outcome, detail?: string): void {
    if (this.outcome !== null) return;
    this.outcome = outcome;
    this.detail = detail;
  }

  private abort(outcome: Outcome, detail: string): void {
    this.setOutcome(outcome, detail);
    this.backend?.destroy();
    this.client.destroy();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const t of this.timers) clearTimeout(t);
    this.backend?.destroy();
    const st = this.session.status;
    if (st.failed && this.session.error !== null) this.noteSessionError(this.session.error);
    this.session.dispose();
    const outcome: Outcome = this.outcome ?? (this.handshakeDone ? "ok" : "client-closed");
    const fields: Fields = {
      client: this.clientAddress,
      local: this.localAddress,
      vhost: this.vhost === null ? null : this.vhost.spec.index + 1,
      sni: this.sni ?? st.sni ?? null,
      ...this.info,
      up: this.bytesUp,
      down: this.bytesDown,
      ms: Date.now() - this.started,
      outcome,
      error: this.detail,
    };
    const serious = outcome === "sandbox-fault" || outcome === "key-error" || outcome === "backend-unreachable" || outcome === "backend-error";
    this.ctx.log.log(serious ? "warn" : "info", "connection", fields);
    this.onFinished(this, outcome);
  }
}
