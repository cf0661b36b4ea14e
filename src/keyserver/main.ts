// Entry point of the key-server process. The parent spawns it as
//   spawn(process.execPath, [main.mjs, JSON.stringify(config)], {stdio: ['ignore', 'inherit', 'inherit', 'pipe']})
// and talks to it over fd 3 (a socket pair). The configuration holds file paths only: the key
// server reads the keys itself, so no key material ever passes through the parent.
//
// Exit codes: 0 the stream ended (the parent closed it or died), 65 the peer broke the framing,
// 78 the configuration or a key could not be used (after a START_FAILED frame).
import { Socket } from "node:net";
import { KeyLoadError } from "./errors";
import { loadKeys, type KeySpec, type LoadedKey } from "./keys";
import { dropPrivileges, type Identity } from "./privileges";
import { encodeError, SERVER_FRAME_ID, Status } from "./protocol";
import { KeyServer } from "./server";

export const EXIT_STREAM_ENDED = 0;
export const EXIT_FRAMING = 65;
export const EXIT_CONFIG = 78;

interface Config extends Identity {
  keys: KeySpec[];
}

function parseConfig(text: string | undefined): Config {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? "");
  } catch {
    throw new KeyLoadError("BAD_CONFIG", "the key server expects its configuration as JSON in argv[2]");
  }
  const config = raw as Partial<Config>;
  const isPath = (v: unknown) => typeof v === "string" && v.length > 0;
  if (typeof raw !== "object" || raw === null || !Array.isArray(config.keys)) {
    throw new KeyLoadError("BAD_CONFIG", "configuration has no keys array");
  }
  for (const [i, k] of config.keys.entries()) {
    if (typeof k !== "object" || k === null || !isPath(k.key) || !isPath(k.cert) || !(k.passphraseFile === undefined || isPath(k.passphraseFile))) {
      throw new KeyLoadError("BAD_CONFIG", `key ${i}: need {key, cert[, passphraseFile]} file paths`);
    }
  }
  return config as Config;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  process.title = "tlsbox: keyserver";
  // Half-open allowed: a parent that ends its side after a last request still gets the answer.
  const stream = new Socket({ fd: 3, readable: true, writable: true, allowHalfOpen: true });
  let keys: LoadedKey[];
  try {
    const config = parseConfig(process.argv[2]);
    keys = loadKeys(config.keys);
    dropPrivileges(config, log);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log(`keyserver: cannot start: ${message}`);
    await new Promise<void>((resolve) => stream.end(encodeError(SERVER_FRAME_ID, Status.START_FAILED, message), resolve));
    return EXIT_CONFIG;
  }
  const server = new KeyServer(keys, { log });
  log(`keyserver: pid ${process.pid} serving ${keys.length} key(s)`);
  const outcome = await server.serve(stream);
  const { requests, signatures, errors } = server.stats;
  log(`keyserver: stream ${outcome}: ${requests} requests, ${signatures} signatures, ${errors} refused`);
  return outcome === "framing-error" ? EXIT_FRAMING : EXIT_STREAM_ENDED;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    // A bug, not a peer's doing: say so and exit non-zero so the supervisor restarts us.
    log(`keyserver: fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(70);
  },
);
