// `npm start` with no arguments: a working proxy in one step. On first run a self-signed
// certificate goes to .tlsbox/ under the current directory; a demo HTTP backend starts in-process;
// the proxy listens on 127.0.0.1:8443 (TLSBOX_DEMO_PORT overrides, for tests) and prints the curl
// command that reaches the backend through it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { loadConfig, type Config } from "../config";
import { ProxyError } from "../proxy/errors";
import { Supervisor } from "../proxy/supervisor";
import { Logger } from "../proxy/log";
import { startDemoBackend } from "./backend";
import { demoFiles, ensureDemoCertificate } from "./certificate";

export const STATE_DIR = ".tlsbox";
export const DEFAULT_PORT = 8443;

/** The environment value of the role that makes the certificate (see cli.ts). */
export const CERTIFICATE_ROLE = "demo-certificate";

/** Entry of the certificate role: make the files if missing, then exit. */
export async function runCertificateRole(): Promise<number> {
  await ensureDemoCertificate(resolve(STATE_DIR));
  return 0;
}

export async function runDefault(program: string, roleVariable: string): Promise<number> {
  const log = new Logger("supervisor");
  const files = demoFiles(resolve(STATE_DIR));
  const certShown = relative(process.cwd(), files.cert) || files.cert;
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    // The key is generated in a process of its own: this one, the supervisor, never holds it.
    const made = spawnSync(process.execPath, [program], { stdio: "inherit", env: { ...process.env, [roleVariable]: CERTIFICATE_ROLE } });
    if (made.status !== 0 || !existsSync(files.cert)) {
      throw new ProxyError("DEFAULT_SETUP", `could not create the default certificate in ${files.dir} (${made.error?.message ?? `exit ${made.status}`})`);
    }
    log.info("created a self-signed certificate for localhost", { cert: certShown });
  }
  const backend = await startDemoBackend();
  const port = Number(process.env.TLSBOX_DEMO_PORT ?? DEFAULT_PORT);
  const argv = [
    "--listen", `127.0.0.1:${port}`,
    "--cert", files.cert,
    "--key", files.key,
    "--backend", "127.0.0.1",
    "--backend-port", String(backend.port),
    "--workers", "1",
    "--min-spare-children", "2",
  ];
  const load = (): Config => loadConfig(argv);
  const supervisor = new Supervisor({
    reloadConfig: load,
    program,
    log,
    onReady: () => {
      process.stdout.write(
        `tlsbox is running: https://localhost:${port}/ -> demo backend http://127.0.0.1:${backend.port}/\n` +
        `Try it:\n  curl --cacert ${certShown} https://localhost:${port}/\n` +
        `Stop it with Ctrl-C.\n`,
      );
    },
  });
  await supervisor.start(load());
  const code = await supervisor.exited;
  await backend.close();
  return code;
}
