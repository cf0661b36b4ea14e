// One logger for every proxy process: a line per event on stderr, `key=value` fields so a line can
// be grepped and parsed, filtered by the configured level. Workers write to the stderr they share
// with the supervisor, so each line names its process.
import type { LogLevel } from "../config";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type Fields = Record<string, string | number | boolean | null | undefined>;

/**
 * Formats fields as `a=1 b=text c="with space"`. Some values come from the network (the server
 * name, the ALPN protocol a client sent): anything but printable ASCII is written as \xNN, so a
 * value can neither break a line nor smuggle terminal escapes into a log.
 */
export function formatFields(fields: Fields): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = value === null ? "-" : String(value);
    parts.push(`${key}=${text === "" || /[^\x21-\x7e]|["=\\]/.test(text) ? quote(text) : text}`);
  }
  return parts.join(" ");
}

function quote(text: string): string {
  const escaped = text.replace(/["\\]/g, "\\$&").replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return `"${escaped}"`;
}

export class Logger {
  constructor(
    /** Names the process in each line: "supervisor", "worker 2", ... */
    readonly who: string,
    public level: LogLevel = "info",
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  log(level: LogLevel, message: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    const extra = formatFields(fields);
    this.write(`tlsbox[${process.pid}] ${this.who} ${level}: ${message}${extra === "" ? "" : ` ${extra}`}`);
  }

  error(message: string, fields?: Fields): void {
    this.log("error", message, fields);
  }

  warn(message: string, fields?: Fields): void {
    this.log("warn", message, fields);
  }

  info(message: string, fields?: Fields): void {
    this.log("info", message, fields);
  }

  debug(message: string, fields?: Fields): void {
    this.log("debug", message, fields);
  }
}
