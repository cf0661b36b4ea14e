// Reads titus-style configuration: `--name value` pairs on the command line and `name value` lines
// in config files, both checked against the one option table (options.ts).
//
// File syntax, as titus(8) and titus.cpp define it:
//   - One option per line: the name, whitespace, then the rest of the line is the value (spaces
//     included; leading and trailing whitespace dropped). There is no other quoting: a value of
//     exactly `""` is the empty string (titus uses it for `sni-name ""`), and a `#` after a value
//     is part of the value, so comments go on their own lines.
//   - Blank lines and lines whose first non-blank character is `#` are ignored.
//   - `vhost` alone on a line begins a virtual host. The lines after it that start with a space or a
//     tab are its options; the first line that starts with anything else ends it (blank and comment
//     lines do not). A file's vhost blocks end with the file.
//   - `config FILE` and `config-directory DIR` read more files at that point, in order; a later
//     setting replaces an earlier one, as titus does.
// Deviations from titus, all towards clearer errors: relative paths are resolved against the
// directory of the file naming them (titus used the working directory), include cycles are
// reported instead of recursing forever, and values are validated here instead of at first use.
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { COMMAND_LINE, ConfigError, ValueError, type ConfigErrorCode, type ConfigWarning, type Location } from "./errors";
import { isOptionName, optionSpec, suggestOption, type OptionName, type OptionValue, type ValueContext } from "./options";

export { COMMAND_LINE, ConfigError, formatLocation, type ConfigErrorCode, type ConfigWarning, type Location } from "./errors";

/** Includes nested deeper than this are refused (a cycle is caught before, this bounds the rest). */
export const MAX_INCLUDE_DEPTH = 16;

/** Config files larger than this are refused: a config is a page of text, not a data file. */
export const MAX_FILE_BYTES = 1 << 20;

export interface Setting<T> {
  readonly value: T;
  readonly at: Location;
}

/** The options set in one scope: the top level, or one vhost block. */
export class Scope {
  private readonly values = new Map<OptionName, Setting<unknown>[]>();

  /** The setting in force (the last one given), if any. */
  get<K extends OptionName>(name: K): Setting<OptionValue<K>> | undefined {
    const list = this.values.get(name);
    return list === undefined ? undefined : (list[list.length - 1] as Setting<OptionValue<K>>);
  }

  /** Every setting of a repeatable option, in order. */
  all<K extends OptionName>(name: K): readonly Setting<OptionValue<K>>[] {
    return (this.values.get(name) ?? []) as Setting<OptionValue<K>>[];
  }

  has(name: OptionName): boolean {
    return this.values.has(name);
  }

  /** Option names set here, in table order of first setting. */
  names(): OptionName[] {
    return [...this.values.keys()];
  }

  add(name: OptionName, setting: Setting<unknown>, repeatable: boolean): Setting<unknown> | undefined {
    const list = this.values.get(name);
    if (list === undefined) {
      this.values.set(name, [setting]);
      return undefined;
    }
    const previous = list[list.length - 1];
    if (repeatable) list.push(setting);
    else list[0] = setting;
    return repeatable ? undefined : previous;
  }
}

export interface RawVhost {
  /** The `vhost` line. */
  readonly at: Location;
  readonly scope: Scope;
}

/** Everything read, before defaults and cross-checks (config.ts turns this into a Config). */
export interface RawConfig {
  readonly global: Scope;
  readonly vhosts: RawVhost[];
  /** Config files read, absolute, in the order they were read. */
  readonly files: string[];
  readonly warnings: ConfigWarning[];
  /** `--check` was given. */
  check: boolean;
  /** Where the configuration came from, for errors about it as a whole. */
  origin: Location;
}

export interface ParseOptions {
  /** Directory that command-line paths and display names are relative to (default process.cwd()). */
  readonly cwd?: string;
}

type Target = { readonly kind: "cli" } | { readonly kind: "global" } | { readonly kind: "vhost"; readonly vhost: RawVhost };

const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const BLANK = /^[ \t]*$/;

function describeFsError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ENOENT": return "no such file or directory";
    case "EACCES": case "EPERM": return "permission denied";
    case "EISDIR": return "it is a directory (use config-directory to read a directory)";
    case "ENOTDIR": return "not a directory";
    case "ELOOP": return "too many levels of symbolic links";
    default: return typeof code === "string" ? code : String(error);
  }
}

function shorten(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

class Parser {
  readonly raw: RawConfig;
  private readonly cwd: string;
  /** Real paths of the files being read, outermost first: a file already here is a cycle. */
  private readonly stack: string[] = [];
  /** The same files as displayed, for the cycle message. */
  private readonly shown: string[] = [];

  constructor(options: ParseOptions) {
    this.cwd = resolve(options.cwd ?? process.cwd());
    this.raw = { global: new Scope(), vhosts: [], files: [], warnings: [], check: false, origin: { file: COMMAND_LINE, line: 0 } };
  }

  /** A path as messages show it: relative to the working directory when inside it. */
  display(path: string): string {
    const rel = relative(this.cwd, path);
    return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
  }

  args(argv: readonly string[]): void {
    const ctx: ValueContext = { baseDir: this.cwd };
    for (let i = 0; i < argv.length; i++) {
      const at: Location = { file: COMMAND_LINE, line: i + 1 };
      const arg = argv[i]!;
      if (arg === "--check") {
        this.raw.check = true;
        continue;
      }
      if (!arg.startsWith("--") || arg.length === 2) {
        throw ConfigError.at("BAD_ARGUMENTS", at, "", `unexpected argument '${shorten(arg)}': options are given as '--name value' pairs`);
      }
      const name = arg.slice(2);
      if (name.includes("=")) {
        const bare = name.slice(0, name.indexOf("="));
        throw ConfigError.at("BAD_ARGUMENTS", at, bare, `write '--${shorten(bare)} VALUE' as two arguments, without '='`);
      }
      if (i + 1 >= argv.length) {
        throw ConfigError.at("BAD_ARGUMENTS", at, name, `option '--${shorten(name)}' needs a value`);
      }
      const value = argv[++i]!;
      if (CONTROL.test(value)) throw ConfigError.at("BAD_SYNTAX", at, name, `the value of '--${shorten(name)}' contains a control character`);
      const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, "");
      this.apply(name, trimmed, trimmed !== "", at, ctx, { kind: "cli" });
    }
  }

  /** Reads a config file named at `from` (a `config` line, an argument, or the caller). */
  file(path: string, from: Location): void {
    const shown = this.display(path);
    if (this.stack.length >= MAX_INCLUDE_DEPTH) {
      throw ConfigError.at("INCLUDE_TOO_DEEP", from, "config", `config files nest more than ${MAX_INCLUDE_DEPTH} deep (at '${shown}')`);
    }
    let real = path;
    try { real = realpathSync(path); } catch { /* reported by the read below */ }
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw ConfigError.at("INCLUDE_FAILED", from, "config", `cannot read config file '${shown}': ${describeFsError(error)}`);
    }
    if (bytes.length > MAX_FILE_BYTES) {
      throw ConfigError.at("INCLUDE_FAILED", from, "config", `config file '${shown}' is larger than ${MAX_FILE_BYTES} bytes; is it really a config file?`);
    }
    this.text(bytes.toString("utf8"), path, real, from);
  }

  /** Parses config text as the file `path` (which need not exist: tests and stdin). */
  text(text: string, path: string, real: string, from: Location): void {
    const shown = this.display(path);
    const cycle = this.stack.indexOf(real);
    if (cycle >= 0) {
      const chain = [...this.shown.slice(cycle), shown].join(" -> ");
      throw ConfigError.at("INCLUDE_CYCLE", from, "config", `config files include each other in a cycle: ${chain}`);
    }
    this.stack.push(real);
    this.shown.push(shown);
    this.raw.files.push(path);
    const ctx: ValueContext = { baseDir: dirname(path) };
    const lines = text.replace(/^\uFEFF/, "").split("\n");
    let vhost: RawVhost | null = null;
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n]!.replace(/\r$/, "");
      const at: Location = { file: shown, line: n + 1 };
      if (BLANK.test(line)) continue;
      if (CONTROL.test(line)) {
        const bad = line.codePointAt(line.search(CONTROL))!;
        throw ConfigError.at("BAD_SYNTAX", at, "", `line contains control character 0x${bad.toString(16).padStart(2, "0")}${bad === 0 ? " (is this a binary file?)" : ""}`);
      }
      const indented = line[0] === " " || line[0] === "\t";
      const body = line.replace(/^[ \t]+/, "");
      if (body[0] === "#") continue;
      if (!indented) vhost = null;
      const name = /^[^ \t]+/.exec(body)![0];
      const value = body.slice(name.length).replace(/^[ \t]+|[ \t]+$/g, "");
      if (name === "vhost") {
        if (vhost !== null) {
          throw ConfigError.at("BAD_SYNTAX", at, "vhost", "a vhost block cannot contain 'vhost': start the next vhost at the beginning of a line");
        }
        if (value !== "") {
          throw ConfigError.at("BAD_SYNTAX", at, "vhost", `'vhost' stands alone on its line; put '${shorten(value)}' on the next line, indented`);
        }
        vhost = { at, scope: new Scope() };
        this.raw.vhosts.push(vhost);
        continue;
      }
      this.apply(name, value, value !== "", at, ctx, vhost === null ? { kind: "global" } : { kind: "vhost", vhost });
    }
    this.stack.pop();
    this.shown.pop();
  }

  private directory(path: string, from: Location): void {
    const shown = this.display(path);
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch (error) {
      throw ConfigError.at("INCLUDE_FAILED", from, "config-directory", `cannot read config directory '${shown}': ${describeFsError(error)}`);
    }
    const names = entries.filter((e) => !e.name.startsWith(".")).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of names) {
      if (entry.isDirectory()) {
        this.warn(from, "config-directory", `skipped subdirectory '${this.display(join(path, entry.name))}' (config-directory does not recurse)`);
        continue;
      }
      this.file(join(path, entry.name), from);
    }
  }

  private warn(at: Location, option: string, message: string): void {
    this.raw.warnings.push({ file: at.file, line: at.line, option, message });
  }

  private apply(name: string, value: string, hasValue: boolean, at: Location, ctx: ValueContext, target: Target): void {
    const fail = (code: ConfigErrorCode, message: string): never => {
      throw ConfigError.at(code, at, name, message);
    };
    if (!isOptionName(name)) {
      const suggestion = suggestOption(name);
      const where = target.kind === "vhost" ? " in vhost block" : "";
      return fail("UNKNOWN_OPTION", `unknown option '${shorten(name)}'${where}${suggestion !== undefined ? ` (did you mean '${suggestion}'?)` : ""}`);
    }
    const spec = optionSpec(name);
    if (spec.cliFlag === true) {
      return fail(target.kind === "cli" ? "BAD_ARGUMENTS" : "WRONG_SCOPE", `'${name}' is a command-line flag without a value: --${name}`);
    }
    if (name === "vhost") {
      return fail("WRONG_SCOPE", "vhost blocks can only be written in a config file (as in titus); put them in a file and pass --config FILE");
    }
    if (target.kind === "vhost" && spec.scope === "global") {
      return fail("WRONG_SCOPE", `option '${name}' is global and cannot be set inside a vhost block; write it unindented, outside the block`);
    }
    if (target.kind !== "vhost" && spec.scope === "vhost") {
      return fail("WRONG_SCOPE", target.kind === "cli"
        ? `option '${name}' belongs in a vhost block, which only a config file can hold`
        : `option '${name}' only means something inside a vhost block: start one with a line 'vhost' and indent '${name}' below it`);
    }
    const refused = spec.refused;
    if (refused !== undefined && refused.accepts === undefined) {
      return fail("REFUSED_OPTION", `option '${name}' is not supported by tlsbox: ${refused.reason}`);
    }
    if (!hasValue) {
      return fail("MISSING_VALUE", `option '${name}' needs a value: ${name} ${spec.value}`);
    }
    let parsed: unknown;
    try {
      parsed = spec.parse(value === '""' ? "" : value, ctx);
    } catch (error) {
      if (error instanceof ValueError) return fail(error.code, `bad value for '${name}': ${error.message}`);
      throw error;
    }
    if (refused?.accepts !== undefined && !refused.accepts(parsed)) {
      return fail("REFUSED_OPTION", `'${name} ${shorten(value)}' is not supported by tlsbox: ${refused.reason}${refused.harmless !== undefined ? ` (only '${name} ${refused.harmless}' is accepted)` : ""}`);
    }
    if (name === "config") return this.file(parsed as string, at);
    if (name === "config-directory") return this.directory(parsed as string, at);
    const scope = target.kind === "vhost" ? target.vhost.scope : this.raw.global;
    const previous = scope.add(name, { value: parsed, at }, spec.repeatable === true);
    if (previous !== undefined && previous.at.file === at.file && at.file !== COMMAND_LINE) {
      this.warn(at, name, `'${name}' is set again; this replaces the value from line ${previous.at.line}`);
    }
  }
}

/** Parses command-line arguments (without the node and script names). */
export function parseArgs(argv: readonly string[], options: ParseOptions = {}): RawConfig {
  const parser = new Parser(options);
  parser.args(argv);
  return parser.raw;
}

/** Parses one config file, as `--config PATH` would. */
export function parseConfigFile(path: string, options: ParseOptions = {}): RawConfig {
  const parser = new Parser(options);
  const absolute = resolve(options.cwd ?? process.cwd(), path);
  parser.raw.origin = { file: parser.display(absolute), line: 0 };
  parser.file(absolute, parser.raw.origin);
  return parser.raw;
}

/** Parses config text as if read from `file` (relative paths and includes resolve beside it). */
export function parseConfigText(text: string, file: string, options: ParseOptions = {}): RawConfig {
  const parser = new Parser(options);
  const absolute = resolve(options.cwd ?? process.cwd(), file);
  parser.raw.origin = { file: parser.display(absolute), line: 0 };
  parser.text(text, absolute, absolute, parser.raw.origin);
  return parser.raw;
}
