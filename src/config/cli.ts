// The configuration side of the command line: exit codes (titus's, where they apply) and
// `--check`, which validates a configuration and reports instead of starting anything.
import { loadConfig, type Config } from "./config";
import { ConfigError, formatLocation } from "./errors";
import type { ParseOptions } from "./parse";

/** Process exit codes. The numbers are titus's (titus.cpp `main`). */
export const enum ExitCode {
  OK = 0,
  /** The command line is not `--name value` pairs (titus: "Bad arguments"). */
  BAD_ARGUMENTS = 2,
  /** A system call failed (bind, fork, ...). */
  SYSTEM_ERROR = 3,
  /** The TLS layer failed to initialise (titus: an OpenSSL error; here: engine or certificate loading). */
  TLS_ERROR = 4,
  /** The configuration is invalid: unknown or refused option, bad value, failed cross-check. */
  CONFIG_ERROR = 5,
  /** Connection handlers kept failing at start (titus: too many failed children). */
  TOO_MANY_FAILURES = 7,
  /** The key server died. */
  KEYSERVER_DIED = 8,
}

export function exitCodeFor(error: ConfigError): ExitCode {
  return error.code === "BAD_ARGUMENTS" ? ExitCode.BAD_ARGUMENTS : ExitCode.CONFIG_ERROR;
}

export interface CheckOutput {
  out(line: string): void;
  err(line: string): void;
}

export type ConfigOutcome = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly exitCode: ExitCode };

/**
 * Reads the configuration from the command line. On a ConfigError prints "tlsbox: configuration
 * error: FILE:LINE: ..." and returns the exit code. Warnings are printed either way. With
 * `--check`, a usable configuration prints a one-line summary and the caller should exit 0.
 */
export function readConfiguration(argv: readonly string[], output: CheckOutput, options: ParseOptions = {}): ConfigOutcome {
  let config: Config;
  try {
    config = loadConfig(argv, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.err(`tlsbox: ${error.code === "BAD_ARGUMENTS" ? "bad arguments" : "configuration error"}: ${error.message}`);
    return { ok: false, exitCode: exitCodeFor(error) };
  }
  for (const w of config.warnings) output.err(`tlsbox: warning: ${formatLocation(w)}: ${w.message}`);
  if (config.check) {
    const listeners = config.listeners.map((l) => `${l.host === null ? "*" : l.host.includes(":") ? `[${l.host}]` : l.host}:${l.port}`);
    output.out(`tlsbox: configuration OK: ${config.vhosts.length} vhost${config.vhosts.length === 1 ? "" : "s"}, listening on ${listeners.join(", ")}`);
  }
  return { ok: true, config };
}

/** `tlsbox --check ...`: the exit code of validating the configuration the arguments describe. */
export function checkMain(argv: readonly string[], output: CheckOutput, options: ParseOptions = {}): ExitCode {
  const outcome = readConfiguration(argv.includes("--check") ? argv : [...argv, "--check"], output, options);
  return outcome.ok ? ExitCode.OK : outcome.exitCode;
}
