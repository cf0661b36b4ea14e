// Interop: Node's own TLS client (OpenSSL) against the engine, through a TCP echo harness.
// Each suite with each group, HelloRetryRequest, ALPN, SNI, RSA (PSS with SHA-256/384/512) and
// ECDSA (P-256, P-384) certificates, and data
// both ways byte-exact up to 1 MiB — on both engine variants.
import { randomBytes } from "node:crypto";
import { connect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CipherSuite, NamedGroup, SignatureScheme } from "../../wasm/abi";
import { choiceFor, engineFactory, makeCert, startEchoServer, VARIANTS, type TestCert } from "../helpers/tls";
import type { TlsPolicy } from "../../src/tls/session";

const test = suite("tls interop (node tls.connect)");

let rsa: TestCert;
let p256: TestCert;
let p384: TestCert;

test.before(() => {
  rsa = makeCert("rsa");
  p256 = makeCert("p256");
  p384 = makeCert("p384");
});

interface Result {
  echoed: Buffer;
  cipher: string;
  alpn: string | false;
  socket: TLSSocket;
}

/** Connects, sends `payload`, reads the echo until the server's close_notify, returns it. */
function roundTrip(port: number, payload: Buffer, options: ConnectionOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let cipher = "";
    let alpn: string | false = false;
    const socket = connect({ host: "127.0.0.1", port, minVersion: "TLSv1.3", rejectUnauthorized: false, ...options }, () => {
      cipher = socket.getCipher()?.standardName ?? "";
      alpn = socket.alpnProtocol ?? false;
      // Write in pieces of varying size, then half-close: the echo ends with close_notify.
      let off = 0;
      let step = 1;
      while (off < payload.length) {
        const n = Math.min(step, payload.length - off);
        socket.write(payload.subarray(off, off + n));
        off += n;
        step = (step * 7 + 13) % 70000 + 1;
      }
      socket.end();
    });
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => {
      resolve({ echoed: Buffer.concat(chunks), cipher, alpn, socket });
    });
    socket.setTimeout(10000, () => socket.destroy(new Error("timeout")));
  });
}

const SUITES: [CipherSuite, string, string][] = [
  [CipherSuite.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"],
  [CipherSuite.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"],
  [CipherSuite.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"],
];

for (const variant of VARIANTS) {
  for (const [code, name, standard] of SUITES) for (const [group, curve] of [[NamedGroup.X25519, "X25519"], [NamedGroup.SECP256R1, "P-256"], [NamedGroup.SECP384R1, "P-384"]] as const) {
    test(`${variant}: ${name}, ${curve}, RSA certificate, 64 KiB echoed`, async () => {
      const h = await startEchoServer(await engineFactory(variant), {}, () => choiceFor(rsa));
      try {
        const payload = randomBytes(65536);
        const r = await roundTrip(h.port, payload, { ciphers: name, ecdhCurve: curve });
        assert.is(r.cipher, standard);
        assert.ok(r.echoed.equals(payload), `echo differs (${r.echoed.length} of ${payload.length} bytes)`);
        await h.idle();
        const st = h.sessions[0].status;
        assert.is(st.cipherSuite, code);
        assert.is(st.group, group);
        assert.is(st.signatureScheme, SignatureScheme.RSA_PSS_RSAE_SHA256);
        assert.is(st.version, 0x0304);
        assert.is(st.helloRetry, false);
        assert.is(st.error, null);
      } finally {
        await h.close();
      }
    });
  }

  test(`${variant}: P-256 key exchange, ECDSA P-256 certificate, SNI and ALPN`, async () => {
    let seenSni: string | null = "unset";
    const h = await startEchoServer(await engineFactory(variant), { alpn: ["h2", "http/1.1"] }, (sni) => {
      seenSni = sni;
      return choiceFor(p256);
    });
    try {
      const payload = randomBytes(4096);
      const r = await roundTrip(h.port, payload, { ecdhCurve: "P-256", servername: "example.test", ALPNProtocols: ["http/1.1", "h2"] });
      assert.ok(r.echoed.equals(payload));
      assert.is(r.alpn, "h2");
      await h.idle();
      const st = h.sessions[0].status;
      assert.is(seenSni, "example.test");
      assert.is(st.sni, "example.test");
      assert.is(st.alpn, "h2");
      assert.is(st.group, NamedGroup.SECP256R1);
      assert.is(st.signatureScheme, SignatureScheme.ECDSA_SECP256R1_SHA256);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: ECDSA P-384 certificate (ecdsa_secp384r1_sha384)`, async () => {
    const h = await startEchoServer(await engineFactory(variant), {}, () => choiceFor(p384));
    try {
      const payload = randomBytes(3000);
      const r = await roundTrip(h.port, payload, {});
      assert.ok(r.echoed.equals(payload));
      await h.idle();
      assert.is(h.sessions[0].status.signatureScheme, SignatureScheme.ECDSA_SECP384R1_SHA384);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: RSA-PSS with SHA-384 and SHA-512 when the client offers only those`, async () => {
    for (const [sigalgs, scheme] of [["rsa_pss_rsae_sha384", SignatureScheme.RSA_PSS_RSAE_SHA384], ["rsa_pss_rsae_sha512", SignatureScheme.RSA_PSS_RSAE_SHA512]] as const) {
      const h = await startEchoServer(await engineFactory(variant), {}, () => choiceFor(rsa));
      try {
        const payload = randomBytes(100);
        const r = await roundTrip(h.port, payload, { sigalgs });
        assert.ok(r.echoed.equals(payload));
        await h.idle();
        assert.is(h.sessions[0].status.signatureScheme, scheme);
      } finally {
        await h.close();
      }
    }
  });

  test(`${variant}: HelloRetryRequest when the client's share is for a group the server does not take`, async () => {
    const policy: Partial<TlsPolicy> = { groups: [NamedGroup.SECP256R1] };
    const h = await startEchoServer(await engineFactory(variant), policy, () => choiceFor(rsa));
    try {
      const payload = randomBytes(1000);
      // OpenSSL sends a key share for the first listed group only.
      const r = await roundTrip(h.port, payload, { ecdhCurve: "X25519:P-256" });
      assert.ok(r.echoed.equals(payload));
      await h.idle();
      const st = h.sessions[0].status;
      assert.is(st.helloRetry, true);
      assert.is(st.group, NamedGroup.SECP256R1);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: 1 MiB both ways, byte-exact, with server cipher order`, async () => {
    const policy: Partial<TlsPolicy> = { serverCipherOrder: true, suites: [CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_128_GCM_SHA256] };
    const h = await startEchoServer(await engineFactory(variant), policy, () => choiceFor(rsa));
    try {
      const payload = randomBytes(1 << 20);
      const r = await roundTrip(h.port, payload, {});
      assert.is(r.cipher, "TLS_CHACHA20_POLY1305_SHA256");
      assert.ok(r.echoed.equals(payload), `echo differs (${r.echoed.length} of ${payload.length} bytes)`);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: ALPN without overlap ends with no_application_protocol`, async () => {
    const h = await startEchoServer(await engineFactory(variant), { alpn: ["h2"] }, () => choiceFor(rsa));
    try {
      let error: Error | null = null;
      await roundTrip(h.port, Buffer.from("x"), { ALPNProtocols: ["http/1.1"] }).catch((e: Error) => { error = e; });
      assert.ok(error !== null, "the client should have failed");
      assert.match(String(error), /no application protocol|alert number 120/i);
      await h.idle();
      assert.is(h.sessions[0].status.alertSent, 120);
    } finally {
      await h.close();
    }
  });
}

test.run();
