// Captures real ClientHellos for the fuzz seed corpus (test/fuzz/corpus/seeds/*.bin): a loopback TCP
// server records the client's first flight (until one whole handshake message has arrived) and
// hangs up; each client below connects once. Rerun after a client upgrade:
//   npx esbuild test/fuzz/capture.ts --bundle --platform=node --format=esm --outfile=/tmp/capture.mjs && node /tmp/capture.mjs [--only PREFIX]
// Needs openssl, curl, gnutls-cli and chromium (Debian: apt-get install gnutls-bin chromium); a missing
// client is skipped.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";

const OUT = join(process.cwd(), "test", "fuzz", "corpus", "seeds");

/** True once `bytes` hold a complete first handshake message (records of type 22). */
function helloComplete(bytes: Buffer): boolean {
  let p = 0;
  let msg = Buffer.alloc(0);
  while (p + 5 <= bytes.length) {
    const len = bytes.readUInt16BE(p + 3);
    if (p + 5 + len > bytes.length) break;
    if (bytes[p] === 22) msg = Buffer.concat([msg, bytes.subarray(p + 5, p + 5 + len)]);
    p += 5 + len;
    if (msg.length >= 4 && msg.length >= 4 + msg.readUIntBE(1, 3)) return true;
  }
  return false;
}

interface Client {
  name: string;
  command?: string[];
  node?: (port: number) => void;
}

const chromium = (): string[] => ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  `--user-data-dir=${mkdtempSync(join(tmpdir(), "capture-chromium-"))}`, "--host-resolver-rules=MAP localhost 127.0.0.1", "--dump-dom"];
const s = (...args: string[]): string[] => ["openssl", "s_client", "-connect", "PORT", "-servername", "localhost", ...args];
const CLIENTS: Client[] = [
  { name: "openssl-default", command: s() },
  { name: "openssl-tls13-p256", command: s("-tls1_3", "-groups", "P-256") },
  { name: "openssl-tls13-x25519-p256-p384", command: s("-tls1_3", "-groups", "X25519:P-256:P-384") },
  { name: "openssl-tls13-p384-only", command: s("-tls1_3", "-groups", "P-384") },
  { name: "openssl-tls13-chacha", command: s("-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256") },
  { name: "openssl-tls13-aes256", command: s("-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256") },
  { name: "openssl-tls13-alpn", command: s("-tls1_3", "-alpn", "h2,http/1.1") },
  { name: "openssl-tls13-ecdsa-only", command: s("-tls1_3", "-sigalgs", "ECDSA+SHA256:ECDSA+SHA384") },
  { name: "openssl-tls12", command: s("-tls1_2") },
  { name: "openssl-tls12-ecdhe-rsa", command: s("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256") },
  { name: "openssl-noservername", command: ["openssl", "s_client", "-connect", "PORT", "-noservername"] },
  { name: "curl-sni", command: ["curl", "-sk", "--max-time", "3", "--resolve", "localhost:PORTNUM:127.0.0.1", "https://localhost:PORTNUM/"] },
  { name: "curl-ip-tls13", command: ["curl", "-sk", "--max-time", "3", "--tlsv1.3", "https://127.0.0.1:PORTNUM/"] },
  { name: "curl-http1", command: ["curl", "-sk", "--max-time", "3", "--http1.1", "--resolve", "localhost:PORTNUM:127.0.0.1", "https://localhost:PORTNUM/"] },
  { name: "gnutls-default", command: ["gnutls-cli", "--insecure", "--sni-hostname", "localhost", "-p", "PORTNUM", "127.0.0.1"] },
  { name: "gnutls-tls13-only", command: ["gnutls-cli", "--insecure", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "-p", "PORTNUM", "127.0.0.1"] },
  { name: "gnutls-alpn", command: ["gnutls-cli", "--insecure", "--alpn", "h2", "--alpn", "http/1.1", "-p", "PORTNUM", "127.0.0.1"] },
  // Debian's chromium, headless: Chrome's own ClientHello (GREASE, X25519MLKEM768 and X25519 shares, ECH GREASE).
  { name: "chromium-default", command: [...chromium(), "https://localhost:PORTNUM/"] },
  { name: "chromium-tls12", command: [...chromium(), "--ssl-version-max=tls1.2", "https://localhost:PORTNUM/"] },
  { name: "node-default", node: (port) => tlsConnect({ host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false }).on("error", () => {}) },
  { name: "node-alpn-tls13", node: (port) => tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ALPNProtocols: ["h2", "http/1.1"], minVersion: "TLSv1.3", rejectUnauthorized: false }).on("error", () => {}) },
  { name: "node-tls12", node: (port) => tlsConnect({ host: "127.0.0.1", port, servername: "localhost", maxVersion: "TLSv1.2", rejectUnauthorized: false }).on("error", () => {}) },
];

async function captureOne(client: Client): Promise<Buffer | null> {
  let resolveHello: (b: Buffer | null) => void = () => {};
  const hello = new Promise<Buffer | null>((r) => { resolveHello = r; });
  const server = createServer((socket: Socket) => {
    let got = Buffer.alloc(0);
    socket.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (helloComplete(got)) { resolveHello(got); socket.destroy(); }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const timer = setTimeout(() => resolveHello(null), 5000);
  let child: ReturnType<typeof spawn> | null = null;
  if (client.command !== undefined) {
    const [cmd, ...args] = client.command.map((a) => a.replace("PORTNUM", String(port)).replace(/^PORT$/, `127.0.0.1:${port}`));
    child = spawn(cmd, args, { stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", () => resolveHello(null));
  } else client.node?.(port);
  const result = await hello;
  clearTimeout(timer);
  child?.kill();
  server.close();
  return result;
}

// --only PREFIX: capture just the clients whose name starts with PREFIX (the others' files stay).
const onlyArg = process.argv.indexOf("--only");
const only = onlyArg >= 0 ? process.argv[onlyArg + 1] : "";
mkdirSync(OUT, { recursive: true });
for (const client of CLIENTS.filter((c) => c.name.startsWith(only))) {
  const bytes = await captureOne(client);
  if (bytes === null) { console.log(`skipped ${client.name} (client missing or sent no ClientHello)`); continue; }
  writeFileSync(join(OUT, `${client.name}.bin`), bytes);
  console.log(`captured ${client.name}: ${bytes.length} bytes`);
}
process.exit(0);
