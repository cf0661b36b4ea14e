// titus's example configuration, started for real. "Adapted to local ports and generated files":
// the ports, the key and certificate paths (generated here) and, since this machine has no such
// accounts, titus's two users (titus → nobody, titus-keys → daemon). Every other line, chroot
// included, is as titus ships it. Started as root, it must also show the privilege drop: workers
// run as network-user and that user cannot open the key file.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { titusExample } from "../helpers/titus-example";
import { cleanup, freePort, httpBackend, makeCert, rmDir, run, startWithConfig, tempDir } from "./harness";

const test = suite("titus's example config");
test.after(cleanup);

/** Worker pids: children of the supervisor titled "tlsbox: worker". */
function workerPids(supervisor: number): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return ppid === supervisor && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "tlsbox: worker";
    } catch {
      return false;
    }
  });
}

/** Whether `uid` can read `path` (a real open, through setpriv). */
function canRead(uid: number, path: string): boolean {
  try {
    execFileSync("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "cat", path], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

if (process.getuid?.() !== 0) {
  console.log("  (note) not root: titus's example drops privileges, so this test needs root (CI runs as root)");
} else {
  test("starts with titus's example config and serves; workers run as network-user and cannot open the key", async () => {
    const dir = tempDir();
    let backend: Awaited<ReturnType<typeof httpBackend>> | null = null;
    try {
      chmodSync(dir, 0o755); // traversable: only the key file's own mode protects it
      for (const sub of ["private", "certs", "empty"]) mkdirSync(join(dir, sub), { mode: 0o755 });
      const made = makeCert(dir, "www", ["www.example.com"]);
      const key = join(dir, "private/www.example.com.key");
      const cert = join(dir, "certs/www.example.com.chained.crt");
      copyFileSync(made.key, key);
      copyFileSync(made.cert, cert);
      chmodSync(key, 0o600);
      chmodSync(cert, 0o644);

      backend = await httpBackend("titus");
      const port = await freePort();
      const adapted = titusExample(dir)
        .replace(/^port\t+443$/m, `port\t\t\t${port}`)
        .replace(/^backend-port\t+8443$/m, `backend-port\t\t${backend.port}`)
        .replace(/^network-user\t+titus$/m, "network-user\t\tnobody")
        .replace(/^keyserver-user\t+titus-keys$/m, "keyserver-user\t\tdaemon");
      for (const line of [`port\t\t\t${port}`, `backend-port\t\t${backend.port}`, "network-user\t\tnobody", "keyserver-user\t\tdaemon", "chroot\t"]) {
        assert.ok(adapted.includes(line), `the adaptation missed: ${line}`);
      }
      const box = await startWithConfig(dir, adapted);
      assert.ok(box.lines.some((l) => /chroot/.test(l) && /sandbox/.test(l)), "the chroot line is reported, not silently ignored");

      const reply = await run("curl", ["-sS", "--max-time", "10", "--cacert", cert, "--resolve", `www.example.com:${port}:127.0.0.1`, `https://www.example.com:${port}/titus`]);
      assert.is(reply.stdout, "titus GET /titus\n", reply.stderr);

      const workers = workerPids(box.pid);
      assert.ok(workers.length >= 1, "no worker process found");
      const nobody = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
      for (const pid of workers) {
        const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];
        assert.is(Number(uid), nobody, `worker ${pid} runs as uid ${uid}`);
      }
      assert.ok(canRead(nobody, cert), "positive control: network-user can read the certificate");
      assert.not.ok(canRead(nobody, key), "network-user can open the key file");
      await box.stop();
    } finally {
      await backend?.close();
      rmDir(dir);
    }
  });
}

test.run();
