// The host-side session: signatures are verified before use, every failure is a typed value, a
// fault inside the sandbox ends only that session, and steady-state records grow no memory.
import { randomBytes } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Alert, ErrorCode, Info, KeyKind, NamedGroup } from "../../wasm/abi";
import { createTlsSandboxFactory, encodePolicy, PolicyError, TlsSession } from "../../src/tls/session";
import { ENGINE_MODULES } from "../../src/sandbox/modules";
import { engineFactory, makeCert, signCertificateVerify, VARIANTS, type TestCert } from "../helpers/tls";
import { connected, helloRecord, openRecord, parseHello, RFC_CLIENT_HELLO, RFC_CLIENT_HELLO_RECORD, RFC_POLICY, rfcChoice, sealRecord, settle } from "../helpers/tls_rfc8448";

const test = suite("tls session (host side)");

let other: TestCert;
test.before(() => {
  other = makeCert("rsa");
});

for (const variant of VARIANTS) {
  test(`${variant}: a signature that does not verify is never sent (BAD_SIGNATURE, internal_error)`, async () => {
    const s = new TlsSession((await engineFactory(variant)).instantiate(), RFC_POLICY, () => ({
      ...rfcChoice(),
      // A valid signature, but by another key: exactly what a faulty key server might return.
      sign: async (scheme, hash) => signCertificateVerify(other.privateKey, scheme, hash),
    }));
    s.receive(RFC_CLIENT_HELLO_RECORD);
    await settle();
    assert.is(s.error?.code, "BAD_SIGNATURE");
    assert.is(s.status.alertSent, Alert.INTERNAL_ERROR);
    assert.is(s.status.engineError, ErrorCode.KEY_OP_FAILED);
    // Out went the ServerHello and the alert, not the flight: no record carries a signature.
    const out = s.takeOutgoing();
    assert.ok(out.length < 200, `${out.length} bytes sent`);
  });

  test(`${variant}: a signer that throws → KEY_OP_FAILED; no certificate → NO_CERTIFICATE with unrecognized_name`, async () => {
    const s = new TlsSession((await engineFactory(variant)).instantiate(), RFC_POLICY, () => ({
      ...rfcChoice(),
      sign: async () => { throw new Error("key server down"); },
    }));
    s.receive(RFC_CLIENT_HELLO_RECORD);
    await settle();
    assert.is(s.error?.code, "KEY_OP_FAILED");
    assert.is(s.status.alertSent, Alert.INTERNAL_ERROR);
    const t = new TlsSession((await engineFactory(variant)).instantiate(), RFC_POLICY, () => null);
    t.receive(RFC_CLIENT_HELLO_RECORD);
    await settle();
    assert.is(t.error?.code, "NO_CERTIFICATE");
    assert.is(t.status.alertSent, Alert.UNRECOGNIZED_NAME, "the RFC client sent server_name");
    assert.equal([...t.takeOutgoing()], [21, 3, 3, 0, 2, 2, Alert.UNRECOGNIZED_NAME]);
  });

  test(`${variant}: a certificate whose key kind the client cannot verify → handshake_failure`, async () => {
    // The RFC's ClientHello with signature_algorithms reduced to rsa_pss_rsae_sha256; an ECDSA certificate.
    const hello = parseHello(RFC_CLIENT_HELLO);
    hello.extensions = hello.extensions.map(([t, b]) => (t === 13 ? [t, [0, 2, 0x08, 0x04]] : [t, b]));
    const s = new TlsSession((await engineFactory(variant)).instantiate(), RFC_POLICY, () => ({ ...rfcChoice(), keyKind: KeyKind.ECDSA_P256 }));
    s.receive(helloRecord(hello));
    await settle();
    assert.is(s.status.alertSent, Alert.HANDSHAKE_FAILURE);
    assert.is(s.status.engineError, ErrorCode.NO_COMMON_SIGNATURE_SCHEME);
  });

  test(`${variant}: an exception inside the sandbox ends that session only, as a typed error`, async () => {
    let calls = 0;
    const factory = await engineFactory(variant, () => {
      calls++;
      throw new Error("entropy source failed");
    });
    const s = new TlsSession(factory.instantiate(), RFC_POLICY, () => rfcChoice());
    s.receive(RFC_CLIENT_HELLO_RECORD);
    await settle();
    assert.ok(calls > 0);
    assert.is(s.error?.code, "SANDBOX_FAULT");
    assert.ok(s.finished);
    // Nothing throws afterwards; the faulted sandbox is not called again.
    s.receive(RFC_CLIENT_HELLO_RECORD);
    s.write(new Uint8Array(10));
    s.close();
    assert.is(s.read().length, 0);
    assert.is(s.status.failed, true);
    // Another session on the same factory's module is unaffected.
    const ok = await connected(variant);
    assert.ok(ok.session.status.handshakeDone);
  });

  test(`${variant}: a trap while the engine runs (WebAssembly.RuntimeError) is a SANDBOX_FAULT of that session`, async () => {
    // The engine has no reachable trap for well-formed calls, so the trap is injected at the
    // boundary: the instance's tls_recv is replaced by one that runs into `unreachable`.
    const factory = await engineFactory(variant);
    const sandbox = factory.instantiate();
    const real = sandbox.exports;
    const trapModule = new WebAssembly.Module(new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, // type (i32) -> i32
      0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x74, 0x00, 0x00, // func 0, export "t"
      0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b, // body: unreachable
    ]));
    const trap = new WebAssembly.Instance(trapModule).exports.t as (n: number) => number;
    Object.defineProperty(sandbox, "exports", { get: () => ({ ...real, tls_recv: trap }) });
    const s = new TlsSession(sandbox, RFC_POLICY, () => rfcChoice());
    s.receive(RFC_CLIENT_HELLO_RECORD);
    assert.is(s.error?.code, "SANDBOX_FAULT");
    assert.match(s.error?.message ?? "", /trap/);
    assert.ok(s.status.failed);
    s.receive(new Uint8Array(5));
    assert.is(s.takeOutgoing().length, 0);
  });

  test(`${variant}: steady-state records do not grow memory (1 MiB each way)`, async () => {
    const c = await connected(variant);
    const x = (c.session as unknown as { x: Record<string, (f: number) => number> }).x;
    const before = x.tls_info(Info.MEMORY_PAGES);
    assert.ok(before <= 16, `${before} pages`);
    const chunk = randomBytes(16384);
    let seq = 0;
    let outSeq = 0;
    for (let i = 0; i < 64; i++) {
      c.session.receive(sealRecord(c.clientAp, seq++, 23, chunk));
      const plain = c.session.read();
      assert.is(plain.length, chunk.length);
      c.session.write(plain);
      const out = c.session.takeOutgoing();
      const [t, back] = openRecord(c.serverAp, outSeq++, out);
      assert.is(t, 23);
      assert.ok(back.equals(chunk));
    }
    assert.is(x.tls_info(Info.MEMORY_PAGES), before);
  });
}

for (const variant of VARIANTS) {
  test(`${variant}: the shipped engine is fuel-metered: a budget too small for a handshake ends it as RUNAWAY, the default completes it`, async () => {
    const factory = await engineFactory(variant);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(ENGINE_MODULES[variant])).map((e) => e.name);
    for (const name of ["tlsbox_set_fuel_per_call", "tlsbox_fuel_left"]) assert.ok(exports.includes(name), name);
    // ~1,000 units cannot cover an X25519 multiplication (255 ladder steps, each with loops).
    const starved = new TlsSession(factory.instantiate(), RFC_POLICY, () => rfcChoice(), { fuelPerCall: 1000 });
    starved.receive(RFC_CLIENT_HELLO_RECORD);
    await settle();
    assert.is(starved.error?.code, "RUNAWAY");
    assert.ok(starved.status.failed);
    const fed = new TlsSession(factory.instantiate(), RFC_POLICY, () => rfcChoice());
    fed.receive(RFC_CLIENT_HELLO_RECORD);
    await settle();
    assert.is(fed.error, null);
    assert.ok(fed.takeOutgoing().length > 500, "ServerHello and the flight");
    // An engine without the per-call budget is refused before it runs anything.
    const unmetered = factory.instantiate();
    const { tlsbox_set_fuel_per_call: _dropped, ...rest } = unmetered.exports as unknown as Record<string, unknown>;
    Object.defineProperty(unmetered, "exports", { value: rest });
    const refused = new TlsSession(unmetered, RFC_POLICY, () => rfcChoice());
    assert.is(refused.error?.code, "SANDBOX_FAULT");
    assert.match(refused.error?.message ?? "", /not fuel-metered/);
  });
}

test("the @wasmer/wasi provider runs the engine too (randomness from its random_get)", async () => {
  const factory = await createTlsSandboxFactory(ENGINE_MODULES.release, { wasi: "wasmer" });
  const s = new TlsSession(factory.instantiate(), RFC_POLICY, () => rfcChoice());
  s.receive(RFC_CLIENT_HELLO_RECORD);
  await settle();
  const out = s.takeOutgoing();
  assert.is(s.error, null);
  assert.is(out[0], 22, "ServerHello record");
  assert.ok(out.length > 500, "ServerHello and the flight");
  assert.is(s.status.group, 0x001d);
});

test("policy encoding: defaults, and refusals as typed errors", () => {
  const blob = encodePolicy({ alpn: ["h2"] });
  assert.equal([...blob], [1, 0, 3, 0x13, 1, 0x13, 2, 0x13, 3, 3, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 3, 2, 0x68, 0x32, 0, 1, 0, 0, 32, 0, 0x80, 0, 0]);
  assert.throws(() => encodePolicy({ rekeyAfterRecords: 0 }), (e: unknown) => e instanceof PolicyError);
  assert.throws(() => encodePolicy({ suites: [] }), (e: unknown) => e instanceof PolicyError);
  assert.throws(() => encodePolicy({ groups: [0x19 as NamedGroup] }), (e: unknown) => e instanceof PolicyError);
  assert.throws(() => encodePolicy({ alpn: [""] }), (e: unknown) => e instanceof PolicyError);
  assert.throws(() => encodePolicy({ maxKeyUpdates: 256 }), (e: unknown) => e instanceof PolicyError);
});

test("the engine refuses a policy it cannot honour (BAD_POLICY), without throwing", async () => {
  const factory = await engineFactory("checked");
  const sandbox = factory.instantiate();
  const x = sandbox.exports as unknown as Record<string, (...a: number[]) => number>;
  // secp521r1 (0x0019) is a real group the engine does not implement: refused, not ignored.
  const blob = new Uint8Array([1, 0, 1, 0x13, 1, 1, 0, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  sandbox.region(x.tls_config_ptr(), blob.length).set(blob);
  assert.is(x.tls_configure(blob.length), ErrorCode.BAD_CONFIG);
  const trailing = new Uint8Array([...encodePolicy({}), 0]);
  sandbox.region(x.tls_config_ptr(), trailing.length).set(trailing);
  assert.is(x.tls_configure(trailing.length), ErrorCode.BAD_CONFIG);
  // Control: the same instance takes a good policy (nothing was configured by the refusals).
  const good = encodePolicy({});
  sandbox.region(x.tls_config_ptr(), good.length).set(good);
  assert.is(x.tls_configure(good.length), ErrorCode.NONE);
});

test.run();
