// TLS 1.2 static RSA key exchange (RFC 5288 TLS_RSA_WITH_AES_128/256_GCM): off by default; with
// the policy flag, the premaster goes to the key operation (KeyOp 3, the key server's op 3, which
// answers 48 bytes whatever the ciphertext). A bad ciphertext is indistinguishable from a good one
// until the client's Finished, which then fails like any wrong key (RFC 5246 §7.4.7.1) — on both variants.
import { randomBytes } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Alert, CipherSuite, ErrorCode } from "../../wasm/abi";
import { TlsSession, type CertificateChoice, type TlsPolicy } from "../../src/tls/session";
import { choiceFor, engineFactory, makeCert, startEchoServer, VARIANTS, type TestCert } from "../helpers/tls";
import { Client12, hello12, runClient, TLS12_POLICY } from "../helpers/tls12";
import { settle } from "../helpers/tls_rfc8448";

const test = suite("tls12 static RSA (policy staticRsa, KeyOp 3)");

const POLICY: Partial<TlsPolicy> = { ...TLS12_POLICY, staticRsa: true };
let rsa: TestCert;
test.before(() => {
  rsa = makeCert("rsa", "rsa.test");
});

for (const variant of VARIANTS) {
  for (const [code, cipher] of [[CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256"], [CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384"]] as const) {
    test(`${variant}: s_client -tls1_2 -cipher ${cipher}: off by default, works with staticRsa`, async () => {
      const off = await startEchoServer(await engineFactory(variant), TLS12_POLICY, () => choiceFor(rsa));
      try {
        const { out } = await runClient("openssl", ["s_client", "-connect", `127.0.0.1:${off.port}`, "-tls1_2", "-cipher", cipher], { ready: "Verify return code" });
        assert.match(out, /handshake failure|alert number 40/i);
      } finally {
        await off.close();
      }
      const h = await startEchoServer(await engineFactory(variant), POLICY, () => choiceFor(rsa));
      try {
        const { out } = await runClient("openssl", ["s_client", "-connect", `127.0.0.1:${h.port}`, "-tls1_2", "-cipher", cipher], { lines: ["static-rsa"], ready: "Verify return code" });
        assert.match(out, new RegExp(`Cipher *: ${cipher}`));
        assert.ok(out.includes("static-rsa\n"), out.slice(-1500));
        await h.idle();
        assert.is(h.sessions[0].status.cipherSuite, code);
        assert.is(h.sessions[0].status.error, null);
      } finally {
        await h.close();
      }
    });
  }

  test(`${variant}: ECDHE is still preferred when the client offers both`, async () => {
    const s = new TlsSession((await engineFactory(variant)).instantiate(), POLICY, () => choiceFor(rsa));
    const c = new Client12(s, hello12({ suites: [0x009c, 0xc02f] }));
    c.sendHello();
    await settle();
    c.readServerFlight(c.pull());
    // Client order by default: the client listed static RSA first, so it gets it; with server order, ECDHE.
    assert.is(c.suite, 0x009c);
    const s2 = new TlsSession((await engineFactory(variant)).instantiate(), { ...POLICY, serverCipherOrder: true }, () => choiceFor(rsa));
    const c2 = new Client12(s2, hello12({ suites: [0x009c, 0xc02f] }));
    c2.sendHello();
    await settle();
    c2.readServerFlight(c2.pull());
    assert.is(c2.suite, 0xc02f);
  });

  test(`${variant}: in-process: good premaster completes; a bad ciphertext fails only at the Finished record (bad_record_mac)`, async () => {
    const decrypted: Uint8Array[] = [];
    const choice = (): CertificateChoice => {
      const base = choiceFor(rsa);
      return { ...base, decryptPremaster: async (ct) => { const p = await base.decryptPremaster!(ct); decrypted.push(p); return p; } };
    };
    const s = new TlsSession((await engineFactory(variant)).instantiate(), POLICY, choice);
    const c = new Client12(s, hello12({ suites: [0x009c] }));
    c.sendHello();
    await settle();
    const msgs = c.readServerFlight(c.pull());
    // ServerHello, Certificate, ServerHelloDone: no ServerKeyExchange (RFC 5246 §7.4.3).
    assert.equal(msgs.map((m) => m.type), [2, 11, 14]);
    s.receive(c.finish());
    await settle();
    await settle();
    assert.is(s.status.handshakeDone, true, s.error?.message);
    assert.is(decrypted.length, 1);
    assert.is(decrypted[0].length, 48);

    for (const bad of [new Uint8Array(randomBytes(256)), new Uint8Array(256)]) {
      const s2 = new TlsSession((await engineFactory(variant)).instantiate(), POLICY, () => choiceFor(rsa));
      const c2 = new Client12(s2, hello12({ suites: [0x009c] }));
      c2.sendHello();
      await settle();
      c2.readServerFlight(c2.pull());
      const cke = c2.clientKeyExchange(bad);
      const fin = c2.finishedMessage();
      s2.receive(new Uint8Array([...cke, 20, 3, 3, 0, 1, 1, ...c2.seal(22, fin)]));
      await settle();
      await settle();
      // Other keys on each side: the client's protected Finished does not even open (bad_record_mac),
      // exactly as with a wrong key of any other origin; no error names the padding.
      assert.is(s2.status.alertSent, Alert.BAD_RECORD_MAC);
      assert.is(s2.status.engineError, ErrorCode.BAD_RECORD_MAC);
    }
  });

  test(`${variant}: a key operation that does not answer 48 bytes fails the handshake (KEY_OP_FAILED)`, async () => {
    const s = new TlsSession((await engineFactory(variant)).instantiate(), POLICY, () => ({ ...choiceFor(rsa), decryptPremaster: async () => new Uint8Array(47) }));
    const c = new Client12(s, hello12({ suites: [0x009c] }));
    c.sendHello();
    await settle();
    c.readServerFlight(c.pull());
    s.receive(c.clientKeyExchange());
    await settle();
    assert.is(s.error?.code, "KEY_OP_FAILED");
    assert.is(s.status.alertSent, Alert.INTERNAL_ERROR);
  });
}

test.run();
