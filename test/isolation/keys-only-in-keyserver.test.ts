// Isolation test 1 (DESIGN.md invariant 1): no private-key bytes outside the key server.
//
// The memory of the processes is scanned for the key's secret values (RSA d, p, q, dP, dQ, qInv in
// both byte orders, the DER and PEM encodings; see memscan.ts). The scan is done by a separate
// scanner process, because this test process plays the worker's role (it talks to the key server)
// and must never hold the secrets itself, not even as search patterns.
//   - key server: MUST contain the secrets (positive control: else the scan proves nothing);
//   - this process: none of them, but its planted canaries (so its data was read);
//   - an unrelated node process: nothing (negative control for the patterns).
// With the proxy built (dist/tlsbox.mjs or TLSBOX_PROGRAM), the same over a real proxy after real
// TLS handshakes: the supervisor and every worker hold none, its key server holds them.
import { spawn, type ChildProcess } from "node:child_process";
import { constants, randomBytes, verify, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { connect } from "node:tls";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { HandshakeIds, startKeyServer } from "../../src/keyserver/client";
import { SignatureScheme } from "../../wasm/abi";
import { buildKeyServerEntry } from "../keyserver/fixtures";
import { REPO_ROOT } from "../helpers/repo";
import { buildScanner, canaries, foundSummary, makeKeyPair, processTree, runScanner } from "./harness";
import type { ScanReport, TargetReport } from "./scanner";

const test = suite("isolation: keys only in the key server");
const pair = makeKeyPair("rsa2048");
let keyServerScript = "";
let scannerScript = "";

/** Bounds per scanned process: a Node process maps some hundreds of MiB readable. */
const LIMITS = { maxBytes: 2 * 1024 ** 3, maxMs: 8000 };

test.before(async () => {
  [keyServerScript, scannerScript] = await Promise.all([buildKeyServerEntry(pair.dir), buildScanner(pair.dir)]);
});

test.after(() => pair.cleanup());

/** Secret-pattern names (the report also lists the canaries). */
function secretNames(report: ScanReport): string[] {
  return Object.keys(report.patterns).filter((n) => !n.startsWith("canary."));
}

function foundSecrets(report: ScanReport, t: TargetReport): string[] {
  return secretNames(report).filter((n) => (t.found[n] ?? 0) > 0);
}

/** A scan that proves something: it ran, read a real amount of memory and was not cut short. */
function assertComplete(report: ScanReport, name: string): TargetReport {
  const t = report.targets[name];
  assert.ok(t !== undefined && t.error === undefined, `${name}: ${t?.error ?? "not scanned"}`);
  assert.not.ok(t.truncated, `${name}: the scan hit its limits, so absence would mean nothing: ${foundSummary(report, name)}`);
  assert.ok(t.bytesScanned > 16 * 2 ** 20, `${name}: only ${t.bytesScanned} bytes scanned`);
  return t;
}

/** The positive control: the key server holds the RSA private key's core values (p and q, or d). */
function assertHoldsKey(report: ScanReport, name: string): void {
  const t = assertComplete(report, name);
  const has = (field: string) => (t.found[`rsa.${field}`] ?? 0) + (t.found[`rsa.${field}.le`] ?? 0) > 0;
  assert.ok((has("p") && has("q")) || has("d"), `positive control failed, the key server's key was not found: ${foundSummary(report, name)}`);
}

function assertHoldsNoKey(report: ScanReport, name: string): void {
  const t = assertComplete(report, name);
  assert.equal(foundSecrets(report, t), [], `key material outside the key server: ${foundSummary(report, name)}`);
}

/** The signed content of a TLS 1.3 server CertificateVerify (RFC 8446 §4.4.3). */
function certificateVerifyContent(hash: Uint8Array): Buffer {
  return Buffer.concat([Buffer.alloc(64, 0x20), Buffer.from("TLS 1.3, server CertificateVerify"), Buffer.from([0]), hash]);
}

function startIdleNode(): ChildProcess {
  return spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

test("a real key server holds the key after signing; this process and an unrelated one hold none of it", async () => {
  const ks = await startKeyServer({ script: keyServerScript, keys: [{ key: pair.key, cert: pair.cert }], stderr: "pipe", log: () => {} });
  const idle = startIdleNode();
  try {
    // Use the key, as a worker would: CertificateVerify signatures, checked against the certificate.
    const publicKey = new X509Certificate(readFileSync(pair.cert)).publicKey;
    const ids = new HandshakeIds();
    for (let i = 0; i < 4; i++) {
      const hash = randomBytes(32);
      const signature = await ks.sign(0, ids.next(), SignatureScheme.RSA_PSS_RSAE_SHA256, hash);
      const ok = verify("sha256", certificateVerifyContent(hash), { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
      assert.ok(ok, "the key server's signature does not verify");
    }
    const report = await runScanner(scannerScript, {
      key: pair.key,
      targets: [
        { name: "keyserver", pid: ks.pid! },
        { name: "worker-role test process", pid: process.pid },
        { name: "unrelated node", pid: idle.pid! },
      ],
      canaries: canaries(),
      ...LIMITS,
    });
    for (const name of Object.keys(report.targets)) console.log(`  ${foundSummary(report, name)}`);
    assert.ok(secretNames(report).length >= 20, `only ${secretNames(report).length} patterns derived`);
    assertHoldsKey(report, "keyserver");
    assertHoldsNoKey(report, "worker-role test process");
    assertHoldsNoKey(report, "unrelated node");
    // The scan of this process read its heap and its buffers; the others hold no canary.
    const self = report.targets["worker-role test process"];
    assert.ok(self.found["canary.heap"] > 0 && self.found["canary.buffer"] > 0, `canaries not found in this process: ${foundSummary(report, "worker-role test process")}`);
    assert.is(report.targets["unrelated node"].found["canary.heap"], 0);
    assert.is(report.targets.keyserver.found["canary.buffer"], 0);
  } finally {
    await stop(idle);
    await ks.close();
  }
});

// ---- The full version, over the real proxy -------------------------------------------------------

const PROGRAM = process.env.TLSBOX_PROGRAM ?? join(REPO_ROOT, "dist", "tlsbox.mjs");

/** A TCP echo server standing in for the backend. */
async function echoBackend(): Promise<Server> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One TLS 1.3 handshake through the proxy and an echo round trip; resolves with the protocol. */
function handshake(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const message = `hello ${randomBytes(8).toString("hex")}`;
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca, minVersion: "TLSv1.3" }, () => socket.write(message));
    let echoed = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no echo through the proxy within 5 s (got ${JSON.stringify(echoed)})`));
    }, 5000);
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      echoed += d;
      if (echoed === message) {
        clearTimeout(timer);
        const protocol = socket.getProtocol() ?? "?";
        socket.end();
        resolve(protocol);
      }
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Retries `handshake` until the proxy listens (its workers start after the key server). */
async function firstHandshake(port: number, ca: string, proxy: ChildProcess, output: () => string): Promise<string> {
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      return await handshake(port, ca);
    } catch (e) {
      if (proxy.exitCode !== null) throw new Error(`the proxy exited with ${proxy.exitCode}: ${output()}`);
      if (Date.now() > deadline) throw new Error(`the proxy did not serve within 10 s: ${String(e)}: ${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

if (!existsSync(PROGRAM)) {
  console.log(`  (note) ${PROGRAM} does not exist: the proxy test of isolation 1 is not registered; build the program (node build.mjs) or set TLSBOX_PROGRAM`);
} else {
  test("over the real proxy after TLS handshakes: supervisor and workers hold no key, its key server does", async () => {
    const backend = await echoBackend();
    const port = await freePort();
    const backendPort = (backend.address() as AddressInfo).port;
    const args = ["--port", String(port), "--backend", "127.0.0.1", "--backend-port", String(backendPort), "--cert", pair.cert, "--key", pair.key, "--workers", "2"];
    const proxy = spawn(process.execPath, [PROGRAM, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TLSBOX_DRAIN_TIMEOUT: "1" } });
    let output = "";
    proxy.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    proxy.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const ca = readFileSync(pair.cert, "utf8");
    let started: number[] = [];
    try {
      // Several handshakes, so the key server signed and each worker likely served one.
      const protocols = [await firstHandshake(port, ca, proxy, () => output)];
      for (let i = 0; i < 5; i++) protocols.push(await handshake(port, ca));
      assert.ok(protocols.every((p) => p === "TLSv1.3"), protocols.join(","));

      const tree = processTree(proxy.pid!).filter((p) => p.cmdline.startsWith("tlsbox: ") || p.pid === proxy.pid);
      const keyServers = tree.filter((p) => p.cmdline.startsWith("tlsbox: keyserver"));
      const workers = tree.filter((p) => p.cmdline.startsWith("tlsbox: worker"));
      const others = tree.filter((p) => !keyServers.includes(p));
      started = tree.map((p) => p.pid);
      const listing = tree.map((p) => `${p.pid}<-${p.ppid} ${p.cmdline.slice(0, 40)}`).join("; ");
      assert.is(keyServers.length, 1, `one key server expected: ${listing}`);
      assert.ok(workers.length >= 1, `no worker found: ${listing}`);
      assert.ok(others.some((p) => p.pid === proxy.pid), `the supervisor is not in the tree: ${listing}`);

      const report = await runScanner(scannerScript, {
        key: pair.key,
        targets: [
          { name: "keyserver", pid: keyServers[0].pid },
          ...others.map((p) => ({ name: `${p.cmdline.startsWith("tlsbox: ") ? p.cmdline.split(" ").slice(0, 2).join(" ") : "supervisor"} ${p.pid}`, pid: p.pid })),
          { name: "test process (TLS client)", pid: process.pid },
        ],
        canaries: canaries(),
        ...LIMITS,
      }, 60000);
      for (const name of Object.keys(report.targets)) console.log(`  ${foundSummary(report, name)}`);
      assertHoldsKey(report, "keyserver");
      for (const name of Object.keys(report.targets).filter((n) => n !== "keyserver")) assertHoldsNoKey(report, name);
    } finally {
      if (proxy.exitCode === null && proxy.signalCode === null) {
        // SIGTERM lets the supervisor stop its workers and key server; SIGKILL if it does not.
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => proxy.kill("SIGKILL"), 5000);
          proxy.once("exit", () => {
            clearTimeout(force);
            resolve();
          });
          proxy.kill("SIGTERM");
        });
      }
      // Children the supervisor left behind (it was killed, or it is buggy) are ours to end.
      // The title is checked again first, so a pid reused meanwhile is left alone.
      for (const pid of started) {
        try {
          if (readFileSync(`/proc/${pid}/cmdline`, "latin1").startsWith("tlsbox: ")) process.kill(pid, "SIGKILL");
        } catch {
          // Already gone, as it should be.
        }
      }
      await new Promise<void>((resolve) => backend.close(() => resolve()));
    }
  });
}

test.run();
