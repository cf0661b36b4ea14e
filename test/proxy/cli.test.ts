// The program's command line: --check, titus's exit codes, the default set-up (`npm start`),
// daemon mode with a pid file.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cleanup, echoBackend, freePort, httpBackend, makeCert, rmDir, run, runProgram, sleep, startTlsbox, tempDir, within, type Backend, type CertFiles } from "./harness";

const test = suite("proxy command line");

let dir = "";
let cert: CertFiles;
let echo: Backend;

test.before(async () => {
  dir = tempDir();
  cert = makeCert(dir, "cli", ["cli.test"]);
  echo = await echoBackend();
});

test.after(async () => {
  cleanup();
  await echo?.close();
  rmDir(dir);
});

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test("--check: a usable configuration exits 0", async () => {
  const file = writeConfig("ok.conf", `port 8443\ncert ${cert.cert}\nkey ${cert.key}\nbackend-port ${echo.port}\n`);
  const r = await runProgram(["--config", file, "--check"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /configuration OK/);
});

test("--check: an unknown option exits 5, naming file, line and option", async () => {
  const file = writeConfig("bad.conf", `port 8443\ncert ${cert.cert}\nkey ${cert.key}\nbackend-port 1\nmax-childen 5\n`);
  const r = await runProgram(["--config", file, "--check"]);
  assert.is(r.code, 5);
  assert.match(r.stderr, /bad\.conf:5/);
  assert.match(r.stderr, /max-childen/);
});

test("bad arguments exit 2", async () => {
  const r = await runProgram(["--port"]);
  assert.is(r.code, 2, r.stderr);
});

test("--check: an unreadable certificate exits 4", async () => {
  const r = await runProgram(["--port", "8443", "--cert", join(dir, "missing.pem"), "--key", cert.key, "--backend-port", "1", "--check"]);
  assert.is(r.code, 4, r.stderr);
  assert.match(r.stderr, /missing\.pem/);
});

test("a key that does not belong to the certificate: the key server refuses it, exit 4", async () => {
  const other = makeCert(dir, "other", ["other.test"]);
  const port = await freePort();
  const r = await runProgram(["--listen", `127.0.0.1:${port}`, "--cert", cert.cert, "--key", other.key, "--backend-port", String(echo.port)]);
  assert.is(r.code, 4, r.stderr);
  assert.match(r.stderr, /cannot start: .*other\.key\.pem/);
});

test("a port in use: exit 3 with a message", async () => {
  const blocker = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
  try {
    const r = await runProgram(["--listen", `127.0.0.1:${port}`, "--cert", cert.cert, "--key", cert.key, "--backend-port", String(echo.port)]);
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, /EADDRINUSE/);
  } finally {
    blocker.close();
  }
});

test("default set-up (npm start): certificate in .tlsbox/, demo backend, the printed curl line works", async () => {
  const cwd = tempDir();
  const port = await freePort();
  try {
    const box = await startTlsbox([], { cwd, env: { TLSBOX_DEMO_PORT: String(port) } });
    try {
      await within(5000, "curl line", (async () => { while (!box.stdout.join("").includes("curl ")) await sleep(50); })());
      const line = /^\s*(curl .*)$/m.exec(box.stdout.join(""))![1]!;
      assert.is(line, `curl --cacert .tlsbox/cert.pem https://localhost:${port}/`);
      const [command, ...rest] = line.split(" ");
      const r = await new Promise<string>((resolve) => {
        resolve(execFileSync(command!, ["-sS", "--max-time", "10", ...rest], { cwd, encoding: "utf8" }));
      });
      assert.match(r, /Hello from the tlsbox demo backend/);
      // The certificate names localhost and 127.0.0.1; the key is private to its owner.
      const san = execFileSync("openssl", ["x509", "-in", join(cwd, ".tlsbox/cert.pem"), "-noout", "-ext", "subjectAltName"], { encoding: "utf8" });
      assert.match(san, /DNS:localhost/);
      assert.match(san, /IP Address:127\.0\.0\.1/);
      assert.is(statSync(join(cwd, ".tlsbox/key.pem")).mode & 0o077, 0);
      const byIp = await run("curl", ["-sS", "--max-time", "10", "--cacert", join(cwd, ".tlsbox/cert.pem"), `https://127.0.0.1:${port}/ip`]);
      assert.match(byIp.stdout, /GET \/ip/);
    } finally {
      assert.is(await box.stop(), 0);
    }
    // A second run keeps the certificate.
    const before = readFileSync(join(cwd, ".tlsbox/cert.pem"), "utf8");
    const again = await startTlsbox([], { cwd, env: { TLSBOX_DEMO_PORT: String(port) } });
    await again.stop();
    assert.is(readFileSync(join(cwd, ".tlsbox/cert.pem"), "utf8"), before);
    assert.not.ok(again.lines.some((l) => /created a self-signed certificate/.test(l)));
  } finally {
    rmDir(cwd);
  }
});

test("daemon yes with pid-file: returns once serving; the pid file names the supervisor; SIGTERM removes it", async () => {
  const port = await freePort();
  const pidFile = join(dir, "tlsbox.pid");
  const web = await httpBackend("daemon");
  const file = writeConfig("daemon.conf", `listen 127.0.0.1:${port}\ndaemon yes\npid-file ${pidFile}\nworkers 1\ncert ${cert.cert}\nkey ${cert.key}\nbackend 127.0.0.1\nbackend-port ${web.port}\n`);
  const r = await runProgram(["--config", file]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /running in the background \(pid \d+\)/);
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  try {
    assert.ok(pid > 0);
    const curl = await run("curl", ["-sS", "--max-time", "10", "--cacert", cert.cert, "--resolve", `cli.test:${port}:127.0.0.1`, `https://cli.test:${port}/`], undefined);
    assert.is(curl.stdout, "daemon GET /\n", curl.stderr);
  } finally {
    process.kill(pid, "SIGTERM");
    await within(10000, "pid file removed", (async () => { while (existsSync(pidFile)) await sleep(50); })());
    await web.close();
  }
});

test.run();
