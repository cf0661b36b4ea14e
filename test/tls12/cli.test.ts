// TLS 1.2 interop with command-line clients: openssl s_client -tls1_2 (each suite and group by its
// -cipher name, renegotiation refused with `R`, TLS_FALLBACK_SCSV), curl --tls-max 1.2 and
// gnutls-cli (its TLS 1.2 priority string) — on both engine variants.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Alert, CipherSuite, NamedGroup } from "../../wasm/abi";
import { choiceFor, engineFactory, makeCert, startEchoServer, VARIANTS, type TestCert } from "../helpers/tls";
import { runClient, startHttpServer, TLS12_POLICY } from "../helpers/tls12";

const test = suite("tls12 interop (openssl s_client, curl, gnutls-cli)");

let rsa: TestCert;
let ec: TestCert;

test.before(() => {
  rsa = makeCert("rsa", "rsa.test");
  ec = makeCert("p256", "ec.test");
});

const select = (sni: string | null) => (sni === "ec.test" ? choiceFor(ec) : choiceFor(rsa));

const sClient = (port: number, args: string[], lines: string[]) =>
  runClient("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_2", "-msg", ...args], { lines, ready: "Verify return code" });

const OPENSSL_SUITES: [CipherSuite, string, string][] = [
  [CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "rsa.test"],
  [CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "rsa.test"],
  [CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "rsa.test"],
  [CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "ec.test"],
  [CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "ec.test"],
  [CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "ec.test"],
];

for (const variant of VARIANTS) {
  for (const [code, cipher, name] of OPENSSL_SUITES) for (const [group, groups] of [[NamedGroup.X25519, "X25519:P-256"], [NamedGroup.SECP256R1, "P-256"], [NamedGroup.SECP384R1, "P-384:P-256"]] as const) {
    test(`${variant}: s_client -tls1_2 -cipher ${cipher} -groups ${groups}`, async () => {
      // P-384 first in the server's order for its row (the client also lists P-256 for the ECDSA certificate).
      const policy = group === NamedGroup.SECP384R1 ? { ...TLS12_POLICY, groups: [NamedGroup.SECP384R1, NamedGroup.SECP256R1, NamedGroup.X25519] } : TLS12_POLICY;
      const h = await startEchoServer(await engineFactory(variant), policy, select);
      try {
        const { out } = await sClient(h.port, ["-servername", name, "-cipher", cipher, "-groups", groups], ["hello-tls12"]);
        assert.match(out, new RegExp(`Protocol *: TLSv1\\.2`));
        assert.match(out, new RegExp(`Cipher *: ${cipher}`));
        assert.match(out, /Extended master secret: yes/);
        assert.match(out, /Secure Renegotiation IS supported/);
        assert.ok(out.includes("hello-tls12\n"), out.slice(-1500));
        await h.idle();
        const st = h.sessions[0].status;
        assert.is(st.error, null);
        assert.is(st.cipherSuite, code);
        assert.is(st.group, group);
        assert.ok(st.peerClosed && st.localClosed);
      } finally {
        await h.close();
      }
    });
  }

  test(`${variant}: renegotiation (s_client R) is refused with a no_renegotiation warning (RFC 5246 §7.2.2)`, async () => {
    const h = await startEchoServer(await engineFactory(variant), TLS12_POLICY, select);
    try {
      const { out } = await sClient(h.port, ["-servername", "rsa.test"], ["before", "R", "after"]);
      assert.ok(out.includes("before\n"), out.slice(-1500));
      assert.match(out, /RENEGOTIATING/);
      assert.match(out, /<<< TLS 1\.2, Alert \[length 0002\], warning no_renegotiation/);
      await h.idle();
      const st = h.sessions[0].status;
      assert.is(st.renegotiationsRefused, 1);
      // OpenSSL gives up on its renegotiation with a fatal handshake_failure of its own.
      assert.ok(st.alertSent === Alert.NO_RENEGOTIATION, `alert sent ${st.alertSent}`);
    } finally {
      await h.close();
    }
  });

  test(`${variant}: s_client -tls1_2 -fallback_scsv gets inappropriate_fallback (RFC 7507 §3)`, async () => {
    const h = await startEchoServer(await engineFactory(variant), TLS12_POLICY, select);
    try {
      const { out } = await sClient(h.port, ["-fallback_scsv"], []);
      assert.match(out, /inappropriate fallback|alert number 86/i);
      await h.idle();
      assert.is(h.sessions[0].status.alertSent, Alert.INAPPROPRIATE_FALLBACK);
      // Control: with TLS 1.3 off, TLS 1.2 is our highest version and the SCSV is no reason to refuse.
      const h2 = await startEchoServer(await engineFactory(variant), { ...TLS12_POLICY, tls13: false }, select);
      try {
        const ok = await sClient(h2.port, ["-fallback_scsv"], ["scsv-ok"]);
        assert.ok(ok.out.includes("scsv-ok\n"), ok.out.slice(-1500));
      } finally {
        await h2.close();
      }
    } finally {
      await h.close();
    }
  });

  test(`${variant}: curl --tls-max 1.2 (ECDHE-RSA and ECDHE-ECDSA)`, async () => {
    const h = await startHttpServer(await engineFactory(variant), TLS12_POLICY, select, "hello from tlsbox\n");
    try {
      for (const name of ["rsa.test", "ec.test"]) {
        const { out, code } = await runClient("curl", ["-sS", "-v", "-k", "--tlsv1.2", "--tls-max", "1.2", "--resolve", `${name}:${h.port}:127.0.0.1`,
          `https://${name}:${h.port}/`]);
        assert.is(code, 0, out);
        assert.match(out, new RegExp(`SSL connection using TLSv1\\.2 / ECDHE-${name === "ec.test" ? "ECDSA" : "RSA"}-AES256-GCM-SHA384`));
        assert.ok(out.includes("hello from tlsbox"), out);
      }
      assert.is(h.sessions[0].status.version, 0x0303);
    } finally {
      await h.close();
    }
  });

  for (const [priority, cipher] of [
    ["NORMAL:-VERS-ALL:+VERS-TLS1.2", "AES-256-GCM"],
    ["NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM", "AES-256-GCM"],
    ["NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+CHACHA20-POLY1305", "CHACHA20-POLY1305"],
    ["NORMAL:-VERS-ALL:+VERS-TLS1.2:-GROUP-ALL:+GROUP-SECP256R1", "AES-256-GCM"],
  ] as const) {
    test(`${variant}: gnutls-cli --priority ${priority}`, async () => {
      const h = await startEchoServer(await engineFactory(variant), TLS12_POLICY, select);
      try {
        const { out } = await runClient("gnutls-cli", ["--insecure", "--priority", priority, "-p", String(h.port), "127.0.0.1"],
          { lines: ["hello-gnutls"], ready: "Handshake was completed", gapMs: 300 });
        const group = priority.includes("SECP256R1") ? "SECP256R1" : "X25519";
        assert.match(out, new RegExp(`\\(TLS1\\.2-X\\.509\\)-\\(ECDHE-${group}\\)-\\(RSA-PSS-RSAE-SHA256\\)-\\(${cipher}\\)`), out.slice(-2000));
        assert.match(out, /Options: extended master secret, safe renegotiation/);
        assert.ok(out.includes("hello-gnutls"), out.slice(-2000));
        await h.idle();
        assert.is(h.sessions[0].status.error, null);
        assert.is(h.sessions[0].status.extendedMasterSecret, true);
      } finally {
        await h.close();
      }
    });
  }
}

test.run();
