// Typed errors of the proxy processes. Callers branch on `code`; the message is for the operator.

export type ProxyErrorCode =
  /** A certificate file could not be read or holds no usable certificate. */
  | "CERT_UNUSABLE"
  /** The configuration asks for something this engine cannot do (TLS 1.2 only, no common group). */
  | "UNSUPPORTED"
  /** A listening socket could not be opened (address in use, permission). */
  | "LISTEN_FAILED"
  /** The key server could not be started. */
  | "KEYSERVER_FAILED"
  /** Switching to network-user / network-group failed. */
  | "PRIVILEGES"
  /** The pid-file could not be written. */
  | "PID_FILE"
  /** Worker processes kept dying during start-up. */
  | "WORKERS_FAILED"
  /** The default (demo) set-up could not create its state directory or certificate. */
  | "DEFAULT_SETUP";

export class ProxyError extends Error {
  constructor(
    readonly code: ProxyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ProxyError";
  }
}
