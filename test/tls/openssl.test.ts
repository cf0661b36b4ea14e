// Interop with the openssl command-line client: KeyUpdate both ways (s_client's `K` asks for one
// back, `k` does not; Node 20's TLSSocket has no KeyUpdate API), SNI-based certificate choice, and
// close_notify — on both engine variants.
import { spawn } from "node:child_process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SignatureScheme } from "../../wasm/abi";
import { choiceFor, engineFactory, makeCert, startEchoServer, VARIANTS, type TestCert } from "../helpers/tls";

const test = suite("tls interop (openssl s_client)");

let rsa: TestCert;
let ec: TestCert;

test.before(() => {
  rsa = makeCert("rsa", "rsa.test");
  ec = makeCert("p256", "ec.test");
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs s_client, feeding `lines` one at a time (its commands must start a read), and returns its output. */
async function sClient(port: number, args: string[], lines: string[]): Promise<string> {
  const child = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_3", "-msg", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d.toString("latin1"); });
  child.stderr.on("data", (d) => { out += d.toString("latin1"); });
  const done = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const deadline = setTimeout(() => child.kill(), 10000);
  for (let i = 0; i < 50 && !out.includes("Verify return code"); i++) await sleep(50);
  for (const line of lines) {
    child.stdin.write(`${line}\n`);
    await sleep(150);
  }
  child.stdin.end();
  await done;
  clearTimeout(deadline);
  return out;
}

for (const variant of VARIANTS) {
  test(`${variant}: KeyUpdate requested and not requested, data echoed across both`, async () => {
    const h = await startEchoServer(await engineFactory(variant), {}, () => choiceFor(rsa));
    try {
      const out = await sClient(h.port, ["-servername", "rsa.test"], ["first-line", "K", "second-line", "k", "third-line"]);
      assert.ok(out.includes("first-line\n") && out.includes("second-line\n") && out.includes("third-line\n"), out.slice(-2000));
      // Two KeyUpdates from the client, one answer from us (to the `K`).
      const sent = out.match(/>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate/g) ?? [];
      const received = out.match(/<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate/g) ?? [];
      assert.is(sent.length, 2, out.slice(-3000));
      assert.is(received.length, 1, out.slice(-3000));
      await h.idle();
      const st = h.sessions[0].status;
      assert.is(st.error, null);
      assert.ok(st.peerClosed && st.localClosed);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: the host picks the certificate by SNI (RSA for one name, ECDSA for another)`, async () => {
    const h = await startEchoServer(await engineFactory(variant), {}, (sni) => (sni === "ec.test" ? choiceFor(ec) : sni === "rsa.test" ? choiceFor(rsa) : null));
    try {
      const a = await sClient(h.port, ["-servername", "ec.test"], ["hello"]);
      assert.match(a, /CN ?= ?ec\.test/);
      assert.match(a, /Peer signature type: ECDSA/);
      const b = await sClient(h.port, ["-servername", "rsa.test"], ["hello"]);
      assert.match(b, /CN ?= ?rsa\.test/);
      assert.match(b, /Peer signature type: RSA-PSS/);
      // No certificate for the name: unrecognized_name (RFC 6066 §3).
      const c = await sClient(h.port, ["-servername", "other.test"], []);
      assert.match(c, /unrecognized name|alert number 112/i);
      await h.idle();
      assert.is(h.sessions[2].status.alertSent, 112);
      assert.is(h.sessions[0].status.signatureScheme, SignatureScheme.ECDSA_SECP256R1_SHA256);
      assert.is(h.sessions[1].status.signatureScheme, SignatureScheme.RSA_PSS_RSAE_SHA256);
    } finally {
      await h.close();
    }
  });
}

test.run();
