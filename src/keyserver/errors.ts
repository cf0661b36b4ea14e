// Typed errors of the key server and its client. Callers branch on `code`, never on message text;
// the message is for the person reading the log and names the file or request concerned.
import type { Status } from "./protocol";

export type KeyLoadErrorCode =
  /** The key file could not be read (missing, permissions). */
  | "KEY_UNREADABLE"
  /** The certificate file could not be read. */
  | "CERT_UNREADABLE"
  /** The passphrase file could not be read, or is empty. */
  | "PASSPHRASE_UNREADABLE"
  /** The key is encrypted and no passphrase file was configured. */
  | "PASSPHRASE_MISSING"
  /** The passphrase did not decrypt the key. */
  | "PASSPHRASE_WRONG"
  /** The key file holds no private key node:crypto can parse. */
  | "KEY_UNPARSABLE"
  /** The certificate file holds no X.509 certificate. */
  | "CERT_UNPARSABLE"
  /** A key type tlsbox does not sign with (Ed25519, DSA, RSASSA-PSS-only keys, ...). */
  | "KEY_TYPE_UNSUPPORTED"
  /** An RSA key outside 2048–4096 bits. */
  | "KEY_SIZE_UNSUPPORTED"
  /** An EC key on a curve other than P-256 or P-384. */
  | "KEY_CURVE_UNSUPPORTED"
  /** The key is not the private half of the certificate's public key. */
  | "KEY_CERT_MISMATCH"
  /** The configuration given to the key server is not what it expects. */
  | "BAD_CONFIG";

/** A key or certificate that cannot be used; the message names the file(s) and what is wrong. */
export class KeyLoadError extends Error {
  constructor(readonly code: KeyLoadErrorCode, message: string) {
    super(message);
    this.name = "KeyLoadError";
  }
}

export type KeyServerErrorCode =
  /** The key server answered the request with an error status (see `status`). */
  | "REFUSED"
  /** No answer within the request timeout. */
  | "TIMEOUT"
  /** The key-server process died (or its stream closed) with the request in flight. */
  | "DIED"
  /** The client or supervisor was closed by its owner. */
  | "CLOSED"
  /** The key-server process did not start: it reported an error or exited before its ready frame. */
  | "START_FAILED"
  /** The key server sent something that is not a valid answer (a bug or a corrupt stream). */
  | "PROTOCOL"
  /** Too many requests in flight: the caller must shed load rather than queue without bound. */
  | "BUSY"
  /** The caller passed an argument that can never make a valid request (checked before sending). */
  | "BAD_ARGUMENT";

/** A failure seen by the worker-side client. */
export class KeyServerError extends Error {
  constructor(
    readonly code: KeyServerErrorCode,
    message: string,
    /** For REFUSED: the status byte the key server answered. */
    readonly status?: Status,
  ) {
    super(message);
    this.name = "KeyServerError";
  }
}
