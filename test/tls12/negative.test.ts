// Malformed and out-of-order TLS 1.2 input: each gets the RFC's alert, never a trap, a hang or an
// exception — on both engine variants. ClientHellos are test/helpers/tls12.ts's OpenSSL-like one
// with one defect each; records and messages come from the in-process client.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Alert, ErrorCode } from "../../wasm/abi";
import { TlsSession, type TlsPolicy } from "../../src/tls/session";
import { choiceFor, engineFactory, makeCert, VARIANTS, type TestCert } from "../helpers/tls";
import { Client12, hello12, helloMessage, record, TLS12_POLICY, u24, type Hello12 } from "../helpers/tls12";
import { settle } from "../helpers/tls_rfc8448";

const test = suite("tls12 negative");

type Variant = "release" | "checked";

let rsa: TestCert;
test.before(() => {
  rsa = makeCert("rsa");
});

async function fresh(variant: Variant, policy: Partial<TlsPolicy> = TLS12_POLICY): Promise<TlsSession> {
  return new TlsSession((await engineFactory(variant)).instantiate(), policy, () => choiceFor(rsa));
}

async function helloAlert(variant: Variant, h: Hello12, policy: Partial<TlsPolicy> = TLS12_POLICY): Promise<number | null> {
  const s = await fresh(variant, policy);
  s.receive(record(22, helloMessage(h), 0x0301));
  await settle();
  assert.is(s.status.error?.code === "SANDBOX_FAULT", false, s.status.error?.message);
  return s.status.alertSent;
}

const withExt = (type: number, body: number[]): Hello12 => hello12({ extensions: [...hello12().extensions!.filter(([t]) => t !== type), [type, body]] });
const without = (type: number): Hello12 => hello12({ extensions: hello12().extensions!.filter(([t]) => t !== type) });

/** A session after the server flight, with the client ready to send its own. */
async function afterServerFlight(variant: Variant): Promise<{ s: TlsSession; c: Client12 }> {
  const s = await fresh(variant);
  const c = new Client12(s, hello12({ suites: [0xc02f] }));
  c.sendHello();
  await settle();
  c.readServerFlight(c.pull());
  assert.is(c.suite, 0xc02f);
  return { s, c };
}

/** Feeds bytes and returns the alert sent (and that the session failed). */
async function feed(s: TlsSession, bytes: Uint8Array): Promise<number | null> {
  s.receive(bytes);
  await settle();
  assert.is(s.status.error?.code === "SANDBOX_FAULT", false, s.status.error?.message);
  return s.status.alertSent;
}

for (const variant of VARIANTS) {
  test(`${variant}: a TLS 1.2 ClientHello truncated at every offset: decode_error`, async () => {
    const full = helloMessage(hello12());
    const body = full.subarray(4);
    const factory = await engineFactory(variant);
    for (let i = 0; i < body.length; i++) {
      const msg = [1, ...u24(i), ...body.subarray(0, i)];
      const s = new TlsSession(factory.instantiate(), TLS12_POLICY, () => choiceFor(rsa));
      s.receive(record(22, msg, 0x0301));
      const h = hello12();
      const endOfCompression = 2 + 32 + 1 + h.sessionId.length + 2 + h.suites.length * 2 + 1 + h.compression.length;
      // Cut right after the compression methods: a valid hello without extensions, so without EMS.
      const expected = i === endOfCompression ? Alert.HANDSHAKE_FAILURE : Alert.DECODE_ERROR;
      assert.is(s.status.alertSent, expected, `truncated at ${i}: alert ${s.status.alertSent}`);
    }
  });

  test(`${variant}: ClientHellos with one defect each`, async () => {
    const cases: [string, Hello12, number, Partial<TlsPolicy>?][] = [
      ["no suite in common", hello12({ suites: [0x009c, 0x003c] }), Alert.HANDSHAKE_FAILURE],
      ["only TLS 1.3 suites", hello12({ suites: [0x1301, 0x1302] }), Alert.HANDSHAKE_FAILURE],
      ["compression without null (RFC 5246 §7.4.1.2)", hello12({ compression: [1] }), Alert.ILLEGAL_PARAMETER],
      ["legacy_version TLS 1.1, no supported_versions", hello12({ legacyVersion: 0x0302 }), Alert.PROTOCOL_VERSION],
      ["supported_versions without 1.2 or 1.3", withExt(0x2b, [2, 3, 2]), Alert.PROTOCOL_VERSION],
      ["TLS 1.2 off by policy", hello12(), Alert.PROTOCOL_VERSION, {}],
      ["no signature_algorithms (SHA-1 by default, RFC 5246 §7.4.1.4.1)", without(0x0d), Alert.HANDSHAKE_FAILURE],
      ["signature_algorithms without RSA schemes for the RSA certificate", withExt(0x0d, [0, 2, 4, 3]), Alert.HANDSHAKE_FAILURE],
      ["no supported_groups", without(0x0a), Alert.HANDSHAKE_FAILURE],
      ["only secp521r1 (not implemented)", withExt(0x0a, [0, 2, 0, 0x19]), Alert.HANDSHAKE_FAILURE],
      ["ec_point_formats without uncompressed (RFC 8422 §5.1.2)", withExt(0x0b, [1, 1]), Alert.ILLEGAL_PARAMETER],
      ["ec_point_formats empty list", withExt(0x0b, [0]), Alert.DECODE_ERROR],
      ["extended_master_secret with a body", withExt(0x17, [0]), Alert.DECODE_ERROR],
      ["no extended_master_secret (RFC 7627 §5.3, required)", without(0x17), Alert.HANDSHAKE_FAILURE],
      ["renegotiation_info not empty (RFC 5746 §3.6)", withExt(0xff01, [1, 9]), Alert.HANDSHAKE_FAILURE],
      ["renegotiation_info with a bad length", withExt(0xff01, [3, 9]), Alert.DECODE_ERROR],
      ["duplicate extension", hello12({ extensions: [...hello12().extensions!, [0x17, []]] }), Alert.ILLEGAL_PARAMETER],
      ["TLS_FALLBACK_SCSV (RFC 7507)", hello12({ suites: [0xc02f, 0x5600] }), Alert.INAPPROPRIATE_FALLBACK],
      ["ALPN with no protocol in common", withExt(0x10, [0, 4, 3, 0x66, 0x6f, 0x6f]), Alert.NO_APPLICATION_PROTOCOL, { ...TLS12_POLICY, alpn: ["h2"] }],
      ["odd-length cipher_suites", hello12({ suites: [] }), Alert.DECODE_ERROR],
    ];
    for (const [name, h, alert, policy] of cases) {
      let hello = h;
      if (name === "odd-length cipher_suites") {
        const msg = helloMessage(hello12());
        // Rewrite the suites vector as 3 bytes (odd): decode_error.
        const at = 4 + 2 + 32 + 1;
        const bad = [...msg.subarray(0, at), 0, 3, 0xc0, 0x2f, 0x00, ...msg.subarray(at + 2 + 14)];
        const len = bad.length - 4;
        bad[1] = len >> 16; bad[2] = (len >> 8) & 255; bad[3] = len & 255;
        const s = await fresh(variant);
        s.receive(record(22, bad, 0x0301));
        assert.is(s.status.alertSent, alert, name);
        continue;
      }
      assert.is(await helloAlert(variant, hello, policy ?? TLS12_POLICY), alert, name);
    }
  });

  test(`${variant}: ClientKeyExchange defects`, async () => {
    const cases: [string, number[], number][] = [
      ["length byte larger than the body", [16, 0, 0, 33, 33, ...new Array(32).fill(9)], Alert.DECODE_ERROR],
      ["empty", [16, 0, 0, 0], Alert.DECODE_ERROR],
      ["31-byte X25519 point", [16, 0, 0, 32, 31, ...new Array(31).fill(9)], Alert.ILLEGAL_PARAMETER],
      ["all-zero X25519 point (low order, RFC 7748 §6.1)", [16, 0, 0, 33, 32, ...new Array(32).fill(0)], Alert.ILLEGAL_PARAMETER],
      ["a 66-byte point for X25519", [16, 0, 0, 67, 66, ...new Array(66).fill(4)], Alert.ILLEGAL_PARAMETER],
      ["longer than any ClientKeyExchange (2 + 512 bytes)", [16, ...u24(515), ...new Array(515).fill(4)], Alert.DECODE_ERROR],
    ];
    for (const [name, msg, alert] of cases) {
      const { s } = await afterServerFlight(variant);
      assert.is(await feed(s, record(22, msg)), alert, name);
    }
  });

  test(`${variant}: ChangeCipherSpec and Finished out of order or wrong`, async () => {
    {
      // CCS before ClientKeyExchange.
      const { s } = await afterServerFlight(variant);
      assert.is(await feed(s, record(20, [1])), Alert.UNEXPECTED_MESSAGE);
    }
    {
      // A CCS of the wrong byte.
      const { s, c } = await afterServerFlight(variant);
      s.receive(c.clientKeyExchange());
      assert.is(await feed(s, record(20, [2])), Alert.UNEXPECTED_MESSAGE);
    }
    {
      // Finished in plaintext (no CCS): unexpected.
      const { s, c } = await afterServerFlight(variant);
      s.receive(c.clientKeyExchange());
      assert.is(await feed(s, record(22, c.finishedMessage())), Alert.UNEXPECTED_MESSAGE);
    }
    {
      // A wrong verify_data: decrypt_error (RFC 5246 §7.4.9), compared in constant time.
      const { s, c } = await afterServerFlight(variant);
      s.receive(c.clientKeyExchange());
      s.receive(record(20, [1]));
      const fin = c.finishedMessage();
      fin[15] ^= 1;
      assert.is(await feed(s, c.seal(22, fin)), Alert.DECRYPT_ERROR);
      assert.is(s.status.engineError, ErrorCode.BAD_FINISHED);
    }
    {
      // A Finished of 13 bytes: decode_error.
      const { s, c } = await afterServerFlight(variant);
      s.receive(c.clientKeyExchange());
      s.receive(record(20, [1]));
      assert.is(await feed(s, c.seal(22, new Uint8Array([20, 0, 0, 13, ...new Array(13).fill(1)]))), Alert.DECODE_ERROR);
    }
    {
      // Application data before Finished.
      const { s, c } = await afterServerFlight(variant);
      s.receive(c.clientKeyExchange());
      s.receive(record(20, [1]));
      assert.is(await feed(s, c.seal(23, Buffer.from("early"))), Alert.UNEXPECTED_MESSAGE);
    }
    {
      // Plaintext application data before the handshake.
      const { s } = await afterServerFlight(variant);
      assert.is(await feed(s, record(23, [1, 2, 3])), Alert.UNEXPECTED_MESSAGE);
    }
    {
      // A second ClientKeyExchange.
      const { s, c } = await afterServerFlight(variant);
      const cke = c.clientKeyExchange();
      s.receive(cke);
      assert.is(await feed(s, cke), Alert.UNEXPECTED_MESSAGE);
    }
  });

  test(`${variant}: protected records that do not open: bad_record_mac`, async () => {
    const mutations: [string, (r: Uint8Array) => Uint8Array][] = [
      ["flipped tag bit", (r) => { const x = r.slice(); x[x.length - 1] ^= 1; return x; }],
      ["flipped explicit nonce", (r) => { const x = r.slice(); x[5] ^= 1; return x; }],
      ["flipped ciphertext", (r) => { const x = r.slice(); x[5 + 8] ^= 0x80; return x; }],
      ["type changed (AAD)", (r) => { const x = r.slice(); x[0] = 21; return x; }],
      ["shorter than explicit nonce + tag", (r) => record(r[0], r.subarray(5, 5 + 23))],
    ];
    for (const [name, mutate] of mutations) {
      const { s, c } = await afterServerFlight(variant);
      s.receive(c.clientKeyExchange());
      s.receive(record(20, [1]));
      const fin = c.finishedMessage();
      const sealed = c.seal(22, fin);
      const alert = await feed(s, mutate(sealed));
      assert.is(alert, Alert.BAD_RECORD_MAC, name);
    }
  });

  test(`${variant}: after the handshake: a second CCS, a replayed record, a HelloRequest from the client`, async () => {
    const run = async (): Promise<{ s: TlsSession; c: Client12 }> => {
      const { s, c } = await afterServerFlight(variant);
      s.receive(c.finish());
      await settle();
      c.pull();
      assert.is(s.status.handshakeDone, true);
      return { s, c };
    };
    {
      const { s } = await run();
      assert.is(await feed(s, record(20, [1])), Alert.UNEXPECTED_MESSAGE);
    }
    {
      const { s, c } = await run();
      const data = c.seal(23, Buffer.from("once"));
      s.receive(data);
      // The same record again: its sequence number is spent, so its AAD no longer matches.
      assert.is(await feed(s, data), Alert.BAD_RECORD_MAC);
    }
    {
      const { s, c } = await run();
      assert.is(await feed(s, c.seal(22, new Uint8Array([0, 0, 0, 0]))), Alert.UNEXPECTED_MESSAGE);
    }
    {
      // An alert of 3 bytes: decode_error.
      const { s, c } = await run();
      assert.is(await feed(s, c.seal(21, new Uint8Array([1, 0, 0]))), Alert.DECODE_ERROR);
    }
  });

  test(`${variant}: random bytes after the ClientHello never trap`, async () => {
    const factory = await engineFactory(variant);
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 255;
    };
    for (let i = 0; i < 60; i++) {
      const s = new TlsSession(factory.instantiate(), TLS12_POLICY, () => choiceFor(rsa));
      const c = new Client12(s, hello12({ suites: [0xc02f] }));
      c.sendHello();
      await settle();
      c.readServerFlight(c.pull());
      const type = [20, 21, 22, 23][i % 4];
      const len = rnd() % 80;
      s.receive(record(type, Array.from({ length: len }, rnd)));
      await settle();
      assert.is(s.status.error?.code === "SANDBOX_FAULT", false, s.status.error?.message);
    }
  });
}

test.run();
