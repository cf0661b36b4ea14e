// Signals and the key server: SIGHUP swaps certificates while a connection stays open, SIGTERM
// drains, and a key server killed under load is restarted with new handshakes succeeding.
// The program is configured on the command line here (titus's options), not with a file.
import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  cleanup, echoBackend, freePort, makeCert, nodeRoundTrip, rmDir, sleep, startTlsbox, tempDir, within, type Backend, type CertFiles,
} from "./harness";

const test = suite("proxy signals and key server");

let dir = "";
let first: CertFiles;
let second: CertFiles;
let echo: Backend;

test.before(async () => {
  dir = tempDir();
  first = makeCert(dir, "first", ["swap.test"]);
  second = makeCert(dir, "second", ["swap.test"], "p256");
  echo = await echoBackend();
});

test.after(async () => {
  cleanup();
  await echo?.close();
  rmDir(dir);
});

/** Live files the program is pointed at; tests copy other certificates over them. */
function liveFiles(from: CertFiles): { cert: string; key: string } {
  const cert = join(dir, "live.cert.pem");
  const key = join(dir, "live.key.pem");
  copyFileSync(from.cert, cert);
  copyFileSync(from.key, key);
  return { cert, key };
}

function args(port: number, files: { cert: string; key: string }, extra: string[] = []): string[] {
  return ["--listen", `127.0.0.1:${port}`, "--cert", files.cert, "--key", files.key, "--backend", "127.0.0.1", "--backend-port", String(echo.port), "--workers", "1", ...extra];
}

interface Open {
  socket: TLSSocket;
  fingerprint: string;
  closed: Promise<boolean>;
}

function open(port: number, ca: string[]): Promise<Open> {
  return within(5000, "handshake", new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "swap.test" }, () => {
      resolve({ socket, fingerprint: socket.getPeerCertificate().fingerprint256, closed });
    });
    let ended = false;
    socket.on("end", () => { ended = true; });
    const closed = new Promise<boolean>((r) => socket.on("close", () => r(ended)));
    socket.on("error", reject);
  }));
}

function echoOnce(socket: TLSSocket, text: string): Promise<string> {
  return within(5000, `echo of ${text}`, new Promise((resolve) => {
    let got = "";
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.off("data", onData);
        resolve(got);
      }
    };
    socket.on("data", onData);
    socket.write(text);
  }));
}

const fingerprintOf = (cert: CertFiles): string => new X509Certificate(cert.pem).fingerprint256;

test("SIGHUP: new connections get the new certificate and key; an open one carries on", async () => {
  const port = await freePort();
  const box = await startTlsbox(args(port, liveFiles(first)));
  try {
    const old = await open(port, [first.pem, second.pem]);
    assert.is(old.fingerprint, fingerprintOf(first));
    assert.is(await echoOnce(old.socket, "before"), "before");
    liveFiles(second);
    const mark = box.lines.length;
    box.signal("SIGHUP");
    await box.waitFor(/ supervisor info: reloaded generation=2/, 10000, mark);
    await box.waitFor(/ worker info: reloaded generation=2/, 10000, mark);
    const fresh = await open(port, [first.pem, second.pem]);
    assert.is(fresh.fingerprint, fingerprintOf(second));
    assert.is(await echoOnce(fresh.socket, "new"), "new");
    assert.is(await echoOnce(old.socket, "after"), "after");
    old.socket.end();
    fresh.socket.end();
    assert.ok(await within(5000, "old closes cleanly", old.closed));
    assert.ok(await within(5000, "new closes cleanly", fresh.closed));

    // A reload that cannot load its certificate keeps the running configuration.
    copyFileSync(second.key, join(dir, "live.cert.pem")); // a key where the certificate should be
    const mark2 = box.lines.length;
    box.signal("SIGHUP");
    await box.waitFor(/reload failed; keeping the running configuration/, 10000, mark2);
    const still = await open(port, [first.pem, second.pem]);
    assert.is(still.fingerprint, fingerprintOf(second));
    still.socket.end();
  } finally {
    await box.stop();
  }
});

test("SIGTERM: stop accepting, let the open connection finish, then exit 0", async () => {
  const port = await freePort();
  const box = await startTlsbox(args(port, liveFiles(first)), { env: { TLSBOX_DRAIN_TIMEOUT: "10" } });
  const c = await open(port, [first.pem]);
  assert.is(await echoOnce(c.socket, "x"), "x");
  box.signal("SIGTERM");
  await box.waitFor(/ worker info: draining open=1/);
  // New connections are refused now...
  const refused = await nodeRoundTrip(port, Buffer.from("late"), { rejectUnauthorized: false }, 5000);
  assert.ok(refused.error !== null, "a new connection during the drain must fail");
  // ...while the open one still works, and its end lets the program exit.
  assert.is(await echoOnce(c.socket, "still"), "still");
  c.socket.end();
  const code = await within(10000, "exit after the drain", box.exited);
  assert.is(code, 0);
  assert.ok(box.lines.some((l) => / supervisor info: stopped/.test(l)));
});

test("SIGTERM: the drain time runs out, open connections are cut, exit 0", async () => {
  const port = await freePort();
  const box = await startTlsbox(args(port, liveFiles(first)), { env: { TLSBOX_DRAIN_TIMEOUT: "1" } });
  const c = await open(port, [first.pem]);
  const started = Date.now();
  box.signal("SIGTERM");
  const code = await within(10000, "exit after the drain time", box.exited);
  assert.is(code, 0);
  assert.ok(Date.now() - started >= 900);
  await within(5000, "client sees the close", c.closed);
  assert.ok(box.lines.some((l) => / connection .*outcome=shutdown/.test(l)));
});

test("Ctrl-C (SIGINT to the process group) drains; a second one ends every process at once", async () => {
  const port = await freePort();
  const box = await startTlsbox(args(port, liveFiles(first)), { env: { TLSBOX_DRAIN_TIMEOUT: "30" } });
  const c = await open(port, [first.pem]);
  process.kill(-box.pid, "SIGINT");
  await box.waitFor(/ worker info: draining open=1/);
  assert.is(await echoOnce(c.socket, "draining"), "draining");
  process.kill(-box.pid, "SIGINT");
  await within(3000, "the supervisor to die of the second SIGINT", box.exited);
  assert.is(box.child.signalCode, "SIGINT");
  // Workers die of it too; the key server (which ignores SIGINT) ends with its supervisor's stream.
  await within(5000, "the whole process group to be gone", (async () => {
    for (;;) {
      try {
        process.kill(-box.pid, 0);
      } catch {
        return;
      }
      await sleep(50);
    }
  })());
  await within(5000, "the client to see the end", c.closed);
});

test("key server killed mid-load: restarted, new handshakes succeed; a worker killed: restarted too", async () => {
  const port = await freePort();
  const box = await startTlsbox(args(port, liveFiles(first)));
  try {
    const pid = Number(/keyserver started pid=(\d+)/.exec(await box.waitFor(/keyserver started pid=\d+/))![1]);
    let stop = false;
    let attempts = 0;
    // Load: several clients handshaking in a loop while the key server dies.
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (!stop) {
        attempts++;
        await nodeRoundTrip(port, Buffer.from("load"), { ca: first.pem, servername: "swap.test" }, 10000);
      }
    }));
    await sleep(500);
    process.kill(pid, "SIGKILL");
    await box.waitFor(/keyserver restarted pid=\d+/, 15000);
    stop = true;
    await within(20000, "load to stop", load);
    assert.ok(attempts > 4, `only ${attempts} handshakes attempted`);
    for (let i = 0; i < 5; i++) {
      const r = await nodeRoundTrip(port, Buffer.from(`after ${i}`), { ca: first.pem, servername: "swap.test", rejectUnauthorized: true });
      assert.is(r.error, null);
      assert.is(r.received.toString(), `after ${i}`);
    }
    assert.ok(box.lines.some((l) => /keyserver exited .*signal=SIGKILL/.test(l)));

    const workerPid = Number(/tlsbox\[(\d+)\] worker info: ready/.exec(await box.waitFor(/ worker info: ready/))![1]);
    const mark = box.lines.length;
    process.kill(workerPid, "SIGKILL");
    await box.waitFor(/ supervisor warn: worker exited; restarting it/, 5000, mark);
    await box.waitFor(/ worker info: ready/, 10000, mark);
    const r = await nodeRoundTrip(port, Buffer.from("again"), { ca: first.pem, servername: "swap.test", rejectUnauthorized: true });
    assert.is(r.received.toString(), "again");
  } finally {
    await box.stop();
  }
});

test("started as root with network-user: workers run as that user", async () => {
  if (process.getuid?.() !== 0) {
    console.log("  (not root: privilege drop not exercised)");
    return;
  }
  const port = await freePort();
  const box = await startTlsbox(args(port, liveFiles(first), ["--network-user", "nobody", "--network-group", "nogroup"]));
  try {
    const line = await box.waitFor(/ worker info: ready/);
    const pid = Number(/tlsbox\[(\d+)\]/.exec(line)![1]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const uid = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!;
    const nobody = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
    assert.equal([Number(uid[1]), Number(uid[2]), Number(uid[3])], [nobody, nobody, nobody]);
    assert.match(line, new RegExp(`uid=${nobody}`));
    const r = await nodeRoundTrip(port, Buffer.from("as nobody"), { ca: first.pem, servername: "swap.test", rejectUnauthorized: true });
    assert.is(r.received.toString(), "as nobody");
  } finally {
    await box.stop();
  }
});

test.run();
