// TLS 1.2 interop with Node's own TLS client (OpenSSL, maxVersion 'TLSv1.2'): every ECDHE suite
// with both groups and the matching certificate kind, data both ways byte-exact, extended master
// secret, ALPN and SNI, server cipher order, the TLS 1.3 preference — on both engine variants.
import { randomBytes } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CipherSuite, NamedGroup, SignatureScheme } from "../../wasm/abi";
import { choiceFor, engineFactory, makeCert, startEchoServer, VARIANTS, type TestCert } from "../helpers/tls";
import { TLS12_POLICY, roundTrip12 } from "../helpers/tls12";
import type { TlsPolicy } from "../../src/tls/session";

const test = suite("tls12 interop (node tls.connect, maxVersion TLSv1.2)");

let rsa: TestCert;
let p256: TestCert;
let p384: TestCert;

test.before(() => {
  rsa = makeCert("rsa");
  p256 = makeCert("p256");
  p384 = makeCert("p384");
});

const SUITES: [CipherSuite, string, "rsa" | "ecdsa"][] = [
  [CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "rsa"],
  [CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "rsa"],
  [CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "rsa"],
  [CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "ecdsa"],
  [CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "ecdsa"],
  [CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "ecdsa"],
];

const GROUPS = [[NamedGroup.X25519, "X25519"], [NamedGroup.SECP256R1, "P-256"], [NamedGroup.SECP384R1, "P-384"]] as const;
/** The policy for a group row: P-384 first for its rows, since an ECDSA client also lists P-256. */
const policyFor = (group: NamedGroup) =>
  group === NamedGroup.SECP384R1 ? { ...TLS12_POLICY, groups: [NamedGroup.SECP384R1, NamedGroup.X25519, NamedGroup.SECP256R1] } : TLS12_POLICY;

for (const variant of VARIANTS) {
  for (const [code, name, auth] of SUITES) for (const [group, curve] of GROUPS) {
    test(`${variant}: ${name}, ${curve}: 64 KiB echoed, EMS negotiated`, async () => {
      const cert = auth === "rsa" ? rsa : p256;
      const h = await startEchoServer(await engineFactory(variant), policyFor(group), () => choiceFor(cert));
      try {
        const payload = randomBytes(65536);
        // RFC 8422 §5.1.1: an ECDSA client must list the certificate's curve too (we still pick the row's group first).
        const r = await roundTrip12(h.port, payload, { ciphers: name, ecdhCurve: auth === "ecdsa" && curve !== "P-256" ? `${curve}:P-256` : curve });
        assert.is(r.version, "TLSv1.2");
        assert.is(r.cipher, name);
        assert.ok(r.echoed.equals(payload), `echo differs (${r.echoed.length} of ${payload.length} bytes)`);
        await h.idle();
        const st = h.sessions[0].status;
        assert.is(st.error, null);
        assert.is(st.version, 0x0303);
        assert.is(st.cipherSuite, code);
        assert.is(st.group, group);
        assert.is(st.extendedMasterSecret, true);
      } finally {
        await h.close();
      }
    });
  }

  test(`${variant}: a P-384 ECDSA certificate signs with ecdsa_secp384r1_sha384`, async () => {
    const h = await startEchoServer(await engineFactory(variant), TLS12_POLICY, () => choiceFor(p384));
    try {
      const r = await roundTrip12(h.port, Buffer.from("p384"), { ciphers: "ECDHE-ECDSA-AES256-GCM-SHA384" });
      assert.is(r.echoed.toString(), "p384");
      await h.idle();
      assert.is(h.sessions[0].status.signatureScheme, SignatureScheme.ECDSA_SECP384R1_SHA384);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: RSA signature schemes: PSS preferred, PKCS#1 v1.5 when that is all the client offers`, async () => {
    const h = await startEchoServer(await engineFactory(variant), TLS12_POLICY, () => choiceFor(rsa));
    try {
      await roundTrip12(h.port, Buffer.from("a"), {});
      for (const [sigalgs, scheme] of [
        ["RSA+SHA256", SignatureScheme.RSA_PKCS1_SHA256], ["RSA+SHA384", SignatureScheme.RSA_PKCS1_SHA384],
        ["RSA+SHA512", SignatureScheme.RSA_PKCS1_SHA512], ["rsa_pss_rsae_sha384", SignatureScheme.RSA_PSS_RSAE_SHA384],
      ] as const) {
        const r = await roundTrip12(h.port, Buffer.from(sigalgs), { sigalgs });
        assert.is(r.echoed.toString(), sigalgs);
        await h.idle();
        assert.is(h.sessions[h.sessions.length - 1].status.signatureScheme, scheme, sigalgs);
      }
      assert.is(h.sessions[0].status.signatureScheme, SignatureScheme.RSA_PSS_RSAE_SHA256);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: ALPN and SNI in TLS 1.2`, async () => {
    const h = await startEchoServer(await engineFactory(variant), { ...TLS12_POLICY, alpn: ["h2", "http/1.1"] }, (sni) => (sni === "example.test" ? choiceFor(rsa) : null));
    try {
      const r = await roundTrip12(h.port, Buffer.from("x"), { servername: "example.test", ALPNProtocols: ["http/1.1", "h2"] });
      assert.is(r.alpn, "h2");
      await h.idle();
      assert.is(h.sessions[0].status.sni, "example.test");
      assert.is(h.sessions[0].status.alpn, "h2");
    } finally {
      await h.close();
    }
  });

  test(`${variant}: server cipher order picks our first suite the certificate can serve`, async () => {
    const policy: Partial<TlsPolicy> = {
      ...TLS12_POLICY, serverCipherOrder: true,
      suites: [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256],
    };
    const h = await startEchoServer(await engineFactory(variant), policy, () => choiceFor(rsa));
    try {
      const r = await roundTrip12(h.port, Buffer.from("o"), { ciphers: "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305" });
      assert.is(r.cipher, "ECDHE-RSA-AES256-GCM-SHA384");
    } finally {
      await h.close();
    }
  });

  test(`${variant}: a client offering TLS 1.3 and 1.2 gets TLS 1.3`, async () => {
    const h = await startEchoServer(await engineFactory(variant), TLS12_POLICY, () => choiceFor(rsa));
    try {
      const r = await roundTrip12(h.port, Buffer.from("13"), { maxVersion: "TLSv1.3", minVersion: "TLSv1.2" });
      assert.is(r.version, "TLSv1.3");
    } finally {
      await h.close();
    }
  });

  test(`${variant}: TLS 1.2 off (the default policy): a TLS 1.2-only client gets protocol_version`, async () => {
    const h = await startEchoServer(await engineFactory(variant), {}, () => choiceFor(rsa));
    try {
      const err = await roundTrip12(h.port, Buffer.from("no"), {}).then(() => null, (e: Error) => e);
      assert.ok(err !== null && /protocol version|alert number 70/i.test(err.message), String(err));
      await h.idle();
      assert.is(h.sessions[0].status.alertSent, 70);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: TLS 1.3 off: a TLS 1.3-only client gets protocol_version, a 1.2 client connects (no sentinel)`, async () => {
    const h = await startEchoServer(await engineFactory(variant), { ...TLS12_POLICY, tls13: false }, () => choiceFor(rsa));
    try {
      const err = await roundTrip12(h.port, Buffer.from("no"), { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" }).then(() => null, (e: Error) => e);
      assert.ok(err !== null, "TLS 1.3 connected with TLS 1.3 disabled");
      const r = await roundTrip12(h.port, Buffer.from("yes"), { maxVersion: "TLSv1.3" });
      assert.is(r.version, "TLSv1.2");
      assert.is(r.echoed.toString(), "yes");
    } finally {
      await h.close();
    }
  });

  test(`${variant}: 1 MiB each way in odd-sized writes`, async () => {
    const h = await startEchoServer(await engineFactory(variant), TLS12_POLICY, () => choiceFor(p256));
    try {
      const payload = randomBytes(1 << 20);
      const r = await roundTrip12(h.port, payload, { ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" });
      assert.ok(r.echoed.equals(payload));
    } finally {
      await h.close();
    }
  });
}

test.run();
