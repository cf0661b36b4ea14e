// dist/tlsbox, the single executable (Node's single-executable-application support): copied alone
// into an empty directory and run with no Node.js on PATH and no node_modules anywhere near it,
// it must serve TLS exactly as `node dist/tlsbox.mjs` does — supervisor, worker and key server
// are all roles of the one executable.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cleanup, freePort, httpBackend, makeCert, rmDir, run, tempDir, Tlsbox } from "../proxy/harness";
import { REPO_ROOT } from "../helpers/repo";

const EXECUTABLE = process.env.TLSBOX_EXECUTABLE ?? join(REPO_ROOT, "dist/tlsbox");

const test = suite("single executable");

test.after(cleanup);

test("dist/tlsbox runs from an empty directory with no Node.js and no node_modules", async () => {
  assert.ok(existsSync(EXECUTABLE), `${EXECUTABLE} was not built (node build.mjs builds it)`);
  const dir = tempDir();
  let backend: Awaited<ReturnType<typeof httpBackend>> | null = null;
  try {
    const exe = join(dir, "tlsbox");
    copyFileSync(EXECUTABLE, exe);
    chmodSync(exe, 0o755);
    // Nothing to find on PATH: a hidden dependency on `node` or a module would fail here.
    const env = { PATH: "/nonexistent", TLSBOX_DRAIN_TIMEOUT: "2" };

    const version = await new Promise<string>((resolve, reject) => {
      const child = spawn(exe, ["--version"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`--version exited ${code}`))));
    });
    assert.match(version, /^tlsbox \d+\.\d+\.\d+/);

    const cert = makeCert(dir, "site", ["localhost", "127.0.0.1"]);
    backend = await httpBackend("sea");
    const port = await freePort();
    const child = spawn(exe, ["--port", String(port), "--backend", "127.0.0.1", "--backend-port", String(backend.port), "--cert", cert.cert, "--key", cert.key, "--workers", "1"], {
      cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true,
    });
    const box = new Tlsbox(child);
    await box.waitFor(/ listening on=/, 30000);
    const reply = await run("curl", ["-sS", "--max-time", "10", "--cacert", cert.cert, `https://localhost:${port}/from-sea`]);
    assert.is(reply.stdout, "sea GET /from-sea\n", reply.stderr);
    await box.stop();
  } finally {
    await backend?.close();
    rmDir(dir);
  }
});

test.run();
