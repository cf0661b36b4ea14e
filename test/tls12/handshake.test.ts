// The TLS 1.2 handshake seen from an in-process client (test/helpers/tls12.ts): the downgrade
// sentinel in ServerHello.random, extended master secret required or not, renegotiation_info,
// TLS_FALLBACK_SCSV, the ServerKeyExchange signature through the key operation (and the host's
// check of it), explicit GCM nonces, renegotiation refused — on both engine variants.
import { verify as cryptoVerify, constants, X509Certificate } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Alert, CipherSuite, ErrorCode, KeyOp, SignatureScheme } from "../../wasm/abi";
import { TlsSession, type CertificateChoice, type TlsPolicy } from "../../src/tls/session";
import { choiceFor, engineFactory, makeCert, signServerKeyExchange, VARIANTS, type TestCert } from "../helpers/tls";
import { Client12, hello12, TLS12_POLICY, u16, type Hello12 } from "../helpers/tls12";
import { settle } from "../helpers/tls_rfc8448";
import { Op } from "../../src/keyserver/protocol";

const test = suite("tls12 handshake (in-process client)");

let rsa: TestCert;
let p256: TestCert;
let other: TestCert;

test.before(() => {
  rsa = makeCert("rsa");
  p256 = makeCert("p256");
  other = makeCert("rsa");
});

const DOWNGRD = [0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01];

type Variant = "release" | "checked";

async function newSession(variant: Variant, policy: Partial<TlsPolicy> = TLS12_POLICY, choice: () => CertificateChoice | null = () => choiceFor(rsa)): Promise<TlsSession> {
  return new TlsSession((await engineFactory(variant)).instantiate(), policy, choice);
}

/** Runs a handshake up to the server's flight; returns the client (records pulled). */
async function toServerFlight(session: TlsSession, hello: Hello12 = hello12()): Promise<Client12> {
  const c = new Client12(session, hello);
  c.sendHello();
  await settle();
  c.readServerFlight(c.pull());
  return c;
}

/** A full handshake; returns the client with the server's CCS and Finished checked. */
async function handshake(session: TlsSession, hello: Hello12 = hello12()): Promise<Client12> {
  const c = await toServerFlight(session, hello);
  session.receive(c.finish());
  await settle();
  const recs = c.pull();
  assert.is(recs.length, 2, `server sent ${recs.length} records; error ${session.error?.message}`);
  assert.equal([recs[0].type, ...recs[0].body], [20, 1]);
  const fin = c.open(22, recs[1].body);
  assert.ok(fin !== null, "server Finished does not authenticate");
  assert.equal([...fin!], [...c.finishedMessage("server finished")]);
  if (c.suite !== 0xcca8 && c.suite !== 0xcca9) assert.is(Client12.explicitNonce(recs[1].body), 0n);
  return c;
}

/** The alert the session sent last, from its status. */
async function alertFor(variant: Variant, hello: Hello12, policy: Partial<TlsPolicy> = TLS12_POLICY, choice?: () => CertificateChoice | null): Promise<number | null> {
  const s = await newSession(variant, policy, choice);
  const c = new Client12(s, hello);
  c.sendHello();
  await settle();
  assert.is(s.status.error?.code === "SANDBOX_FAULT", false);
  return s.status.alertSent;
}

const groupList = (groups: number[]): number[] => [...u16(groups.length * 2), ...groups.flatMap(u16)];

const SUITES = [0xc02f, 0xc030, 0xcca8, 0xc02b, 0xc02c, 0xcca9];

for (const variant of VARIANTS) {
  for (const cs of SUITES) for (const group of [0x1d, 0x17]) {
    test(`${variant}: suite 0x${cs.toString(16)}, group 0x${group.toString(16)}: handshake, data both ways, explicit nonces = sequence numbers`, async () => {
      const ecdsa = cs === 0xc02b || cs === 0xc02c || cs === 0xcca9;
      const s = await newSession(variant, TLS12_POLICY, () => choiceFor(ecdsa ? p256 : rsa));
      const h = hello12({ suites: [cs], extensions: hello12().extensions!.map(([t, b]) => (t === 0x0a ? [t, groupList(ecdsa && group !== 0x17 ? [group, 0x17] : [group])] : [t, b])) });
      const c = await handshake(s, h);
      assert.is(c.suite, cs);
      assert.is(c.group, group);
      assert.is(s.status.handshakeDone, true);
      // Client → server.
      s.receive(c.seal(23, Buffer.from("ping")));
      await settle();
      assert.is(Buffer.from(s.read()).toString(), "ping");
      // Server → client, three records: explicit nonces 1, 2, 3 (the Finished had 0).
      for (const word of ["a", "bb", "ccc"]) s.write(Buffer.from(word));
      const recs = c.pull();
      assert.is(recs.length, 3);
      const words = recs.map((r) => c.open(23, r.body)?.toString());
      assert.equal(words, ["a", "bb", "ccc"]);
      if (c.suite !== 0xcca8 && c.suite !== 0xcca9) assert.equal(recs.map((r) => Client12.explicitNonce(r.body)), [1n, 2n, 3n]);
      else assert.equal(recs.map((r) => r.body.length), [17, 18, 19]);
    });
  }

  test(`${variant}: downgrade sentinel (RFC 8446 §4.1.3) in ServerHello.random when TLS 1.3 is enabled, not otherwise`, async () => {
    const c = await toServerFlight(await newSession(variant));
    assert.equal([...c.serverRandom.subarray(24)], DOWNGRD);
    // A client that names TLS 1.2 in supported_versions sees it too.
    const withVersions = hello12({ extensions: [...hello12().extensions!, [0x2b, [2, 3, 3]]] });
    const c2 = await toServerFlight(await newSession(variant), withVersions);
    assert.is(c2.suite !== 0, true);
    assert.equal([...c2.serverRandom.subarray(24)], DOWNGRD);
    // TLS 1.3 off: no sentinel (our highest version is 1.2: nothing was downgraded).
    const c3 = await toServerFlight(await newSession(variant, { ...TLS12_POLICY, tls13: false }));
    assert.is(c3.suite !== 0, true);
    assert.not.equal([...c3.serverRandom.subarray(24)], DOWNGRD);
  });

  test(`${variant}: extended master secret required by default (handshake_failure), optional by policy`, async () => {
    const noEms = hello12({ extensions: hello12().extensions!.filter(([t]) => t !== 0x17) });
    assert.is(await alertFor(variant, noEms), Alert.HANDSHAKE_FAILURE);
    const s = await newSession(variant, { ...TLS12_POLICY, requireExtendedMasterSecret: false });
    const c = await handshake(s, noEms);
    assert.is(c.ems, false);
    assert.is(s.status.extendedMasterSecret, false);
    assert.is(s.status.engineError, ErrorCode.NONE);
    // With EMS: the server echoes the extension and the master secret is the RFC 7627 one (the Finished checked).
    const s2 = await newSession(variant);
    const c2 = await handshake(s2);
    assert.is(c2.ems, true);
    assert.is(s2.status.extendedMasterSecret, true);
  });

  test(`${variant}: renegotiation_info (RFC 5746): empty answer to the extension or the SCSV; non-empty → handshake_failure`, async () => {
    const c = await toServerFlight(await newSession(variant));
    assert.equal([...(c.serverExtensions.get(0xff01) ?? [])], [0]);
    const viaExt = hello12({ suites: [0xc02f], extensions: [...hello12().extensions!, [0xff01, [0]]] });
    const c2 = await toServerFlight(await newSession(variant), viaExt);
    assert.equal([...(c2.serverExtensions.get(0xff01) ?? [])], [0]);
    const neither = hello12({ suites: [0xc02f] });
    const c3 = await toServerFlight(await newSession(variant), neither);
    assert.is(c3.serverExtensions.has(0xff01), false);
    const bad = hello12({ extensions: [...hello12().extensions!, [0xff01, [12, ...new Array(12).fill(7)]]] });
    assert.is(await alertFor(variant, bad), Alert.HANDSHAKE_FAILURE);
  });

  test(`${variant}: TLS_FALLBACK_SCSV (RFC 7507 §3): inappropriate_fallback while TLS 1.3 is enabled`, async () => {
    const h = hello12({ suites: [...hello12().suites, 0x5600] });
    assert.is(await alertFor(variant, h), Alert.INAPPROPRIATE_FALLBACK);
    // With TLS 1.3 off our highest version is the client's: no fallback happened.
    const c = await toServerFlight(await newSession(variant, { ...TLS12_POLICY, tls13: false }), hello12({ suites: [...hello12().suites, 0x5600] }));
    assert.is(c.suite, 0xc02f);
  });

  test(`${variant}: ServerKeyExchange signed through KeyOp 2 over client_random ‖ server_random ‖ params, once`, async () => {
    const calls: { scheme: number; cr: Uint8Array; sr: Uint8Array; params: Uint8Array }[] = [];
    const choice = (): CertificateChoice => ({
      ...choiceFor(rsa),
      signServerKeyExchange: async (scheme, cr, sr, params) => {
        calls.push({ scheme, cr, sr, params });
        return signServerKeyExchange(rsa.privateKey, scheme, Buffer.concat([cr, sr, params]));
      },
    });
    const s = await newSession(variant, TLS12_POLICY, choice);
    const c = await handshake(s);
    assert.is(calls.length, 1);
    assert.equal([...calls[0].cr], [...c.clientRandom]);
    assert.equal([...calls[0].sr], [...c.serverRandom]);
    assert.equal([...calls[0].params], [...c.skeParams]);
    assert.is(c.skeScheme, SignatureScheme.RSA_PSS_RSAE_SHA256);
    // The client's own check (RFC 5246 §7.4.3) against the certificate it received.
    const key = new X509Certificate(Buffer.from(c.certificate)).publicKey;
    const content = Buffer.concat([c.clientRandom, c.serverRandom, c.skeParams]);
    assert.ok(cryptoVerify("sha256", content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, c.skeSignature));
    // The host forwards the engine's op number unchanged to the key server.
    assert.is(Number(KeyOp.SIGN_TLS12_SERVER_KEY_EXCHANGE), Number(Op.SIGN_TLS12_SERVER_KEY_EXCHANGE));
    assert.is(Number(KeyOp.RSA_DECRYPT_PREMASTER), Number(Op.RSA_DECRYPT_PREMASTER));
  });

  test(`${variant}: a ServerKeyExchange signature by another key is never sent (BAD_SIGNATURE)`, async () => {
    const s = await newSession(variant, TLS12_POLICY, () => ({
      ...choiceFor(rsa),
      signServerKeyExchange: async (scheme, cr, sr, params) => signServerKeyExchange(other.privateKey, scheme, Buffer.concat([cr, sr, params])),
    }));
    const c = new Client12(s);
    c.sendHello();
    await settle();
    assert.is(s.error?.code, "BAD_SIGNATURE");
    assert.is(s.status.alertSent, Alert.INTERNAL_ERROR);
    const recs = c.pull();
    // Only the alert: the ServerHello and Certificate wait for the signature, and never go out.
    assert.equal(recs.map((r) => r.type), [21]);
  });

  test(`${variant}: a certificate without a TLS 1.2 signer fails cleanly (KEY_OP_FAILED)`, async () => {
    const s = await newSession(variant, TLS12_POLICY, () => {
      const { signServerKeyExchange: _unused, ...rest } = choiceFor(rsa);
      return rest;
    });
    const c = new Client12(s);
    c.sendHello();
    await settle();
    assert.is(s.error?.code, "KEY_OP_FAILED");
    assert.is(s.status.alertSent, Alert.INTERNAL_ERROR);
  });

  test(`${variant}: PKCS#1 v1.5 when the client offers only that; ECDSA certificates only with ECDHE_ECDSA suites`, async () => {
    const pkcs = hello12({ extensions: hello12().extensions!.map(([t, b]) => (t === 0x0d ? [t, [0, 2, 4, 1]] : [t, b])) });
    const c = await handshake(await newSession(variant), pkcs);
    assert.is(c.skeScheme, SignatureScheme.RSA_PKCS1_SHA256);
    const ecdsaOnly = hello12({ suites: [0xc02b, 0xcca9] });
    const c2 = await handshake(await newSession(variant, TLS12_POLICY, () => choiceFor(p256)), ecdsaOnly);
    assert.is(c2.suite, 0xc02b);
    assert.is(c2.skeScheme, SignatureScheme.ECDSA_SECP256R1_SHA256);
    // An RSA certificate cannot serve ECDHE_ECDSA suites: handshake_failure.
    assert.is(await alertFor(variant, ecdsaOnly, TLS12_POLICY, () => choiceFor(rsa)), Alert.HANDSHAKE_FAILURE);
  });

  test(`${variant}: renegotiation refused: no_renegotiation warnings, data still flows; the fourth attempt is fatal`, async () => {
    const s = await newSession(variant);
    const c = await handshake(s);
    for (let i = 1; i <= 3; i++) {
      s.receive(c.seal(22, new Uint8Array([1, 0, 0, 4, 3, 3, 0, 0])));
      await settle();
      const recs = c.pull();
      assert.is(recs.length, 1);
      assert.equal([...(c.open(21, recs[0].body) ?? [])], [1, Alert.NO_RENEGOTIATION]);
      assert.is(s.status.renegotiationsRefused, i);
      assert.is(s.status.failed, false);
      s.receive(c.seal(23, Buffer.from(`data${i}`)));
      await settle();
      assert.is(Buffer.from(s.read()).toString(), `data${i}`);
    }
    s.receive(c.seal(22, new Uint8Array([1, 0, 0, 4, 3, 3, 0, 0])));
    await settle();
    assert.is(s.status.failed, true);
    assert.is(s.status.alertSent, Alert.HANDSHAKE_FAILURE);
    assert.is(s.status.engineError, ErrorCode.RENEGOTIATION_REFUSED);
  });

  test(`${variant}: TLS 1.2 suites in the policy do nothing while TLS 1.2 is off; TLS 1.3 suites stay TLS 1.3's`, async () => {
    const policy: Partial<TlsPolicy> = { suites: [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256] };
    assert.is(await alertFor(variant, hello12(), policy), Alert.PROTOCOL_VERSION);
    // A TLS 1.2 client cannot get a TLS 1.3 suite: only TLS 1.3 suites in common → handshake_failure.
    assert.is(await alertFor(variant, hello12({ suites: [0x1301, 0xc02f] }), { ...TLS12_POLICY, suites: [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256] }), Alert.HANDSHAKE_FAILURE);
  });
}

test.run();
