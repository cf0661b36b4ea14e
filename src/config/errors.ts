// Typed configuration errors: where (file and line, or command-line argument), which option, what
// is wrong and what to do about it. Every failure of the configuration layer is a ConfigError;
// anything else escaping it is a bug (test/config/garbage.test.ts holds it to that).

/** The pseudo file name of options given as command-line arguments. */
export const COMMAND_LINE = "<command line>";

/** Where an option was written: a config file and 1-based line, or the command line and 1-based argument. */
export interface Location {
  readonly file: string;
  readonly line: number;
}

export type ConfigErrorCode =
  /** The command line is not a sequence of `--name value` pairs (titus exit code 2). */
  | "BAD_ARGUMENTS"
  /** No option of that name exists. */
  | "UNKNOWN_OPTION"
  /** A titus option (or value) tlsbox cannot honour; the message says why. */
  | "REFUSED_OPTION"
  /** The option needs a value and the line or argument gave none. */
  | "MISSING_VALUE"
  /** The value does not parse or is out of range. */
  | "BAD_VALUE"
  /** A global option inside a vhost block, a vhost option at the top level, a CLI flag in a file. */
  | "WRONG_SCOPE"
  /** A line that is not `option value` (control characters, `vhost` with a value, ...). */
  | "BAD_SYNTAX"
  /** A config file or directory could not be read. */
  | "INCLUDE_FAILED"
  /** A config file includes itself, directly or through others. */
  | "INCLUDE_CYCLE"
  /** Includes nested deeper than MAX_INCLUDE_DEPTH. */
  | "INCLUDE_TOO_DEEP"
  /** A vhost lacks a certificate, a key or a backend. */
  | "INCOMPLETE_VHOST"
  /** A vhost can never be chosen: an earlier one matches every connection it would. */
  | "AMBIGUOUS_ROUTE"
  /** Options that contradict each other (both TLS versions off, `groups` with `ecdhcurve`, ...). */
  | "CONFLICT"
  /** Nothing to listen on: no `port` and no `listen ADDRESS:PORT`. */
  | "NO_LISTENER";

/** How a location reads in a message: "tlsbox.conf:12" or "command line, argument 3". */
export function formatLocation(at: Location): string {
  if (at.file === COMMAND_LINE) return at.line > 0 ? `command line, argument ${at.line}` : "command line";
  return at.line > 0 ? `${at.file}:${at.line}` : at.file;
}

export class ConfigError extends Error {
  /** The bare description, without the location prefix that `message` carries. */
  readonly detail: string;

  constructor(
    readonly code: ConfigErrorCode,
    readonly file: string,
    readonly line: number,
    /** The option concerned, or "" when the error is about a line or the config as a whole. */
    readonly option: string,
    detail: string,
  ) {
    super(`${formatLocation({ file, line })}: ${detail}`);
    this.name = "ConfigError";
    this.detail = detail;
  }

  static at(code: ConfigErrorCode, at: Location, option: string, detail: string): ConfigError {
    return new ConfigError(code, at.file, at.line, option, detail);
  }
}

/** Something worth telling the operator that does not stop tlsbox from starting. */
export interface ConfigWarning {
  readonly file: string;
  readonly line: number;
  readonly option: string;
  readonly message: string;
}

/**
 * Thrown by the value parsers of the option table, which know neither file nor line; the parser
 * turns it into a ConfigError at the option's location.
 */
export class ValueError extends Error {
  constructor(
    message: string,
    readonly code: ConfigErrorCode = "BAD_VALUE",
  ) {
    super(message);
    this.name = "ValueError";
  }
}
