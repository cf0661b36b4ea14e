// Limits, each with its own program instance: max-handshake-time, max-children, idle-timeout.
import { connect as netConnect } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cleanup, echoBackend, freePort, makeCert, nodeRoundTrip, rmDir, sleep, startWithConfig, tempDir, within, type Backend, type CertFiles } from "./harness";

const test = suite("proxy limits");

let dir = "";
let cert: CertFiles;
let echo: Backend;

test.before(async () => {
  dir = tempDir();
  cert = makeCert(dir, "limits", ["limits.test"]);
  echo = await echoBackend();
});

test.after(async () => {
  cleanup();
  await echo?.close();
  rmDir(dir);
});

function config(port: number, extra: string): string {
  return `listen 127.0.0.1:${port}\nworkers 1\ncert ${cert.cert}\nkey ${cert.key}\nbackend 127.0.0.1\nbackend-port ${echo.port}\n${extra}\n`;
}

/** An established TLS connection that stays open; resolves once the handshake is done. */
function openClient(port: number): { socket: TLSSocket; secure: Promise<void>; closed: Promise<boolean> } {
  const socket = tlsConnect({ host: "127.0.0.1", port, ca: cert.pem, servername: "limits.test" });
  socket.on("error", () => {});
  const secure = new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
  let ended = false;
  socket.on("end", () => { ended = true; });
  const closed = new Promise<boolean>((resolve) => socket.on("close", () => resolve(ended)));
  return { socket, secure, closed };
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

test("max-handshake-time: a client that never finishes its handshake is cut off; idle-timeout: a silent one is closed cleanly", async () => {
  const port = await freePort();
  const box = await startWithConfig(dir, config(port, "max-handshake-time 1\nidle-timeout 1"));
  try {
    const started = Date.now();
    await within(5000, "silent connection to be closed", new Promise<void>((resolve) => {
      const s = netConnect(port, "127.0.0.1");
      s.on("error", () => {});
      s.on("close", () => resolve());
    }));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 4000, `closed after ${elapsed} ms`);
    await box.waitFor(/ connection .*outcome=handshake-timeout/);
    const ok = await nodeRoundTrip(port, Buffer.from("fine"), { ca: cert.pem, servername: "limits.test", rejectUnauthorized: true });
    assert.is(ok.received.toString(), "fine");

    const c = openClient(port);
    await within(5000, "handshake", c.secure);
    assert.is(await echoOnce(c.socket, "ping"), "ping");
    const idleSince = Date.now();
    const clean = await within(5000, "idle close", c.closed);
    assert.ok(clean, "ended with close_notify / FIN, not a reset");
    assert.ok(Date.now() - idleSince >= 800);
    await box.waitFor(/ connection .*outcome=idle-timeout/);
  } finally {
    await box.stop();
  }
});

test("max-children: a connection beyond the limit waits until one ends", async () => {
  const port = await freePort();
  const box = await startWithConfig(dir, config(port, "max-children 1"));
  try {
    const first = openClient(port);
    await within(5000, "first handshake", first.secure);
    assert.is(await echoOnce(first.socket, "one"), "one");
    const second = openClient(port);
    let secondReady = false;
    void second.secure.then(() => { secondReady = true; });
    await sleep(800);
    assert.is(secondReady, false, "the second connection must wait while the first holds the only slot");
    first.socket.end();
    await within(5000, "second handshake after the first closed", second.secure);
    assert.is(await echoOnce(second.socket, "two"), "two");
    second.socket.end();
    assert.ok(await within(5000, "second close", second.closed));
  } finally {
    await box.stop();
  }
});

test.run();
