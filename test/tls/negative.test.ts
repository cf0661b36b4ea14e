// Malformed and out-of-order input: each gets the RFC's alert (or a clean wait for more bytes),
// never a trap, a hang or an exception — on both engine variants. ClientHellos are the RFC 8448 §3
// one, taken apart and rebuilt with one defect each.
import { createECDH } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Alert, ErrorCode, NamedGroup } from "../../wasm/abi";
import { TlsSession } from "../../src/tls/session";
import { VARIANTS } from "../helpers/tls";
import {
  connected, helloRecord, parseHello, u16, u24, type Hello, openRecord, RFC_CLIENT_HELLO, RFC_CLIENT_HELLO_RECORD, rfcChoice, rfcSession, RFC_POLICY, sealRecord, settle,
  toServerFlight, trafficKeys, expandLabel,
} from "../helpers/tls_rfc8448";
import { engineFactory } from "../helpers/tls";

const test = suite("tls negative");

const base = (): Hello => parseHello(RFC_CLIENT_HELLO);

async function fresh(variant: "release" | "checked"): Promise<TlsSession> {
  return new TlsSession((await engineFactory(variant)).instantiate(), RFC_POLICY, () => rfcChoice());
}

/** Feeds bytes and returns the alert the engine sent (asserting it is the last thing sent, in plaintext). */
async function alertFor(variant: "release" | "checked", bytes: Uint8Array): Promise<number | null> {
  const s = await fresh(variant);
  s.receive(bytes);
  await settle();
  const st = s.status;
  assert.is(st.error?.code === "SANDBOX_FAULT", false, `sandbox fault: ${st.error?.message}`);
  return st.alertSent;
}

// ---- Tests ----------------------------------------------------------------------------------------------

for (const variant of VARIANTS) {
  test(`${variant}: the RFC ClientHello rebuilt unchanged is accepted (control)`, async () => {
    assert.equal([...helloRecord(base())], [...RFC_CLIENT_HELLO_RECORD]);
    const s = await rfcSession(variant);
    s.receive(helloRecord(base()));
    await settle();
    assert.is(s.status.alertSent, null);
    assert.ok(s.takeOutgoing().length > 0);
  });

  test(`${variant}: a ClientHello truncated at every offset: decode_error (or protocol_version without extensions)`, async () => {
    const body = RFC_CLIENT_HELLO.subarray(4);
    const h = base();
    const endOfCompression = 2 + 32 + 1 + h.sid.length + 2 + h.suites.length + 1 + h.compression.length;
    const factory = await engineFactory(variant);
    for (let i = 0; i < body.length; i++) {
      const msg = [1, ...u24(i), ...body.subarray(0, i)];
      const s = new TlsSession(factory.instantiate(), RFC_POLICY, () => rfcChoice());
      s.receive(new Uint8Array([22, 3, 1, ...u16(msg.length), ...msg]));
      const st = s.status;
      const expected = i === endOfCompression ? Alert.PROTOCOL_VERSION : Alert.DECODE_ERROR;
      assert.is(st.alertSent, expected, `truncated at ${i}: alert ${st.alertSent}, error ${st.error?.message}`);
      // The alert is a plaintext record: 15 03 03 00 02 02 <desc>.
      assert.equal([...s.takeOutgoing()], [21, 3, 3, 0, 2, 2, expected]);
    }
    // The record itself cut short: the engine waits for the rest, sends nothing, does not fail.
    for (let i = 0; i < RFC_CLIENT_HELLO_RECORD.length; i++) {
      const s = new TlsSession(factory.instantiate(), RFC_POLICY, () => rfcChoice());
      s.receive(RFC_CLIENT_HELLO_RECORD.subarray(0, i));
      assert.is(s.status.failed, false);
      assert.is(s.takeOutgoing().length, 0);
    }
  });

  test(`${variant}: the ClientHello one byte per record is accepted`, async () => {
    const s = await rfcSession(variant);
    const msg = RFC_CLIENT_HELLO;
    for (const b of msg) s.receive(new Uint8Array([22, 3, 1, 0, 1, b]));
    await settle();
    assert.is(s.status.alertSent, null);
    assert.ok(s.status.version === 0x0304);
  });

  test(`${variant}: duplicate extension → illegal_parameter`, async () => {
    const h = base();
    h.extensions.push(h.extensions[0]);
    assert.is(await alertFor(variant, helloRecord(h)), Alert.ILLEGAL_PARAMETER);
  });

  test(`${variant}: no TLS 1.3 in supported_versions → protocol_version`, async () => {
    const h = base();
    h.extensions = h.extensions.map(([t, b]) => (t === 43 ? [t, [2, 3, 3]] : [t, b]));
    assert.is(await alertFor(variant, helloRecord(h)), Alert.PROTOCOL_VERSION);
  });

  test(`${variant}: compression methods other than exactly null → illegal_parameter`, async () => {
    const h = base();
    h.compression = [1, 0];
    assert.is(await alertFor(variant, helloRecord(h)), Alert.ILLEGAL_PARAMETER);
  });

  test(`${variant}: no common cipher suite → handshake_failure`, async () => {
    const h = base();
    h.suites = [0x13, 0x05];
    assert.is(await alertFor(variant, helloRecord(h)), Alert.HANDSHAKE_FAILURE);
  });

  test(`${variant}: an X25519 share of 31 bytes → illegal_parameter`, async () => {
    const h = base();
    h.extensions = h.extensions.map(([t, b]) => (t === 51 ? [t, [0, 35, 0, 0x1d, 0, 31, ...b.slice(6, 37)]] : [t, b]));
    assert.is(await alertFor(variant, helloRecord(h)), Alert.ILLEGAL_PARAMETER);
  });

  test(`${variant}: secp384r1 shares: wrong length, compressed, off the curve, x ≥ p → illegal_parameter; a valid one is taken`, async () => {
    const shareOnlyP384 = (point: number[]): Uint8Array => {
      const h = base();
      h.extensions = h.extensions.map(([t, b]) => {
        if (t === 51) return [t, [...u16(4 + point.length), 0, 0x18, ...u16(point.length), ...point]];
        if (t === 10) return [t, [0, 2, 0, 0x18]];
        return [t, b];
      });
      return helloRecord(h);
    };
    const good = [...createECDH("secp384r1").generateKeys()];
    const p = Buffer.from("ff".repeat(32) + "fffffffffffffffeffffffff0000000000000000ffffffff", "hex");
    const cases: [string, number[]][] = [
      ["96 bytes", good.slice(0, 96)],
      ["98 bytes", [...good, 0]],
      ["compressed prefix 02 on 97 bytes", [2, ...good.slice(1)]],
      ["off the curve (y + 1)", [...good.slice(0, 96), (good[96] + 1) & 255]],
      ["x = p", [4, ...p, ...good.slice(49)]],
      ["all zero (infinity has no encoding)", new Array(97).fill(0)],
    ];
    for (const [name, point] of cases) {
      const s = new TlsSession((await engineFactory(variant)).instantiate(), { ...RFC_POLICY, groups: [NamedGroup.SECP384R1] }, () => rfcChoice());
      s.receive(shareOnlyP384(point));
      await settle();
      assert.is(s.status.alertSent, Alert.ILLEGAL_PARAMETER, name);
    }
    // Control: the same ClientHello with the valid point gets a ServerHello with a 97-byte P-384 share.
    const s = new TlsSession((await engineFactory(variant)).instantiate(), { ...RFC_POLICY, groups: [NamedGroup.SECP384R1] }, () => rfcChoice());
    s.receive(shareOnlyP384(good));
    await settle();
    const sh = s.takeOutgoing();
    assert.is(s.status.alertSent, null);
    assert.ok(Buffer.from(sh).includes(Buffer.from([0, 0x33, 0, 101, 0, 0x18, 0, 97, 4])), "ServerHello key_share for secp384r1");
    assert.is(s.status.group, NamedGroup.SECP384R1);
  });

  test(`${variant}: pre_shared_key not last → illegal_parameter; without psk modes → missing_extension`, async () => {
    const psk: [number, number[]] = [41, [0, 7, 0, 1, 0xaa, 0, 0, 0, 0, 0, 33, 32, ...new Array(32).fill(0)]];
    const h = base();
    h.extensions.splice(1, 0, psk);
    assert.is(await alertFor(variant, helloRecord(h)), Alert.ILLEGAL_PARAMETER);
    const h2 = base();
    h2.extensions = h2.extensions.filter(([t]) => t !== 45);
    h2.extensions.push(psk);
    assert.is(await alertFor(variant, helloRecord(h2)), Alert.MISSING_EXTENSION);
  });

  test(`${variant}: signature_algorithms missing → missing_extension`, async () => {
    const h = base();
    h.extensions = h.extensions.filter(([t]) => t !== 13);
    assert.is(await alertFor(variant, helloRecord(h)), Alert.MISSING_EXTENSION);
  });

  test(`${variant}: oversized plaintext record → record_overflow`, async () => {
    const rec = new Uint8Array(5 + 16385);
    rec.set([22, 3, 1, 0x40, 0x01]);
    assert.is(await alertFor(variant, rec.subarray(0, 5)), Alert.RECORD_OVERFLOW);
  });

  test(`${variant}: unknown record type → unexpected_message; CCS before the ClientHello → unexpected_message`, async () => {
    assert.is(await alertFor(variant, new Uint8Array([24, 3, 3, 0, 1, 1])), Alert.UNEXPECTED_MESSAGE);
    assert.is(await alertFor(variant, new Uint8Array([20, 3, 3, 0, 1, 1])), Alert.UNEXPECTED_MESSAGE);
  });

  test(`${variant}: application data before the client Finished → unexpected_message`, async () => {
    const f = await toServerFlight(variant);
    f.session.receive(sealRecord(f.clientHs, 0, 23, new Uint8Array([1, 2, 3])));
    assert.is(f.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
    assert.is(f.session.read().length, 0);
  });

  test(`${variant}: a bad Finished → decrypt_error; a bad record tag → bad_record_mac`, async () => {
    const f = await toServerFlight(variant);
    const bad = Buffer.from(f.clientFinished);
    bad[10] ^= 1;
    f.session.receive(sealRecord(f.clientHs, 0, 22, bad));
    assert.is(f.session.status.alertSent, Alert.DECRYPT_ERROR);
    assert.is(f.session.status.engineError, ErrorCode.BAD_FINISHED);
    // The alert goes out under the server's application key (after our Finished, RFC 8446 §4.4.4).
    const g = await toServerFlight(variant);
    const rec = sealRecord(g.clientHs, 0, 22, g.clientFinished);
    rec[rec.length - 1] ^= 1;
    g.session.receive(rec);
    assert.is(g.session.status.alertSent, Alert.BAD_RECORD_MAC);
    // Everything after a fatal alert is discarded.
    const before = g.session.takeOutgoing().length;
    assert.ok(before > 0);
    g.session.receive(sealRecord(g.clientHs, 0, 22, g.clientFinished));
    assert.is(g.session.takeOutgoing().length, 0);
    assert.is(g.session.status.handshakeDone, false);
  });

  test(`${variant}: one CCS is dropped; a second → unexpected_message; a CCS of value 2 → unexpected_message`, async () => {
    const f = await toServerFlight(variant);
    f.session.receive(new Uint8Array([20, 3, 3, 0, 1, 1]));
    assert.is(f.session.status.failed, false);
    f.session.receive(new Uint8Array([20, 3, 3, 0, 1, 1]));
    assert.is(f.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
    const g = await toServerFlight(variant);
    g.session.receive(new Uint8Array([20, 3, 3, 0, 1, 2]));
    assert.is(g.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
  });

  test(`${variant}: a CCS after the handshake → unexpected_message`, async () => {
    const c = await connected(variant);
    c.session.receive(new Uint8Array([20, 3, 3, 0, 1, 1]));
    assert.is(c.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
  });

  test(`${variant}: protected records: padding accepted, all-zero inner plaintext and oversized → alerts`, async () => {
    const c = await connected(variant);
    c.session.receive(sealRecord(c.clientAp, 0, 23, Buffer.from("padded"), 100));
    c.session.receive(sealRecord(c.clientAp, 1, 23, new Uint8Array(0)));
    assert.is(Buffer.from(c.session.read()).toString(), "padded");
    assert.is(c.session.status.failed, false);
    // An inner plaintext of zeros only (no content type, RFC 8446 §5.4) → unexpected_message.
    const d = await connected(variant);
    d.session.receive(sealRecord(d.clientAp, 0, 0, new Uint8Array(0), 3));
    assert.is(d.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
    const e = await connected(variant);
    e.session.receive(sealRecord(e.clientAp, 0, 23, new Uint8Array(16385)));
    assert.is(e.session.status.alertSent, Alert.RECORD_OVERFLOW);
    const g = await connected(variant);
    const big = new Uint8Array(5 + 16384 + 257);
    big.set([23, 3, 3, (16384 + 257) >> 8, (16384 + 257) & 255]);
    g.session.receive(big);
    assert.is(g.session.status.alertSent, Alert.RECORD_OVERFLOW);
  });

  test(`${variant}: KeyUpdate both ways; update_requested is answered; too many in a row → unexpected_message`, async () => {
    const c = await connected(variant);
    // KeyUpdate(update_requested) under the client's first key.
    c.session.receive(sealRecord(c.clientAp, 0, 22, new Uint8Array([24, 0, 0, 1, 1])));
    const out = c.session.takeOutgoing();
    const [type, ku] = openRecord(c.serverAp, 0, out);
    assert.is(type, 22);
    assert.equal([...ku], [24, 0, 0, 1, 0], "our answer: KeyUpdate(update_not_requested)");
    const clientNext = trafficKeys(expandLabel(c.clientApSecret, "traffic upd", new Uint8Array(0), 32));
    const serverNext = trafficKeys(expandLabel(c.serverApSecret, "traffic upd", new Uint8Array(0), 32));
    c.session.receive(sealRecord(clientNext, 0, 23, Buffer.from("after update")));
    assert.is(Buffer.from(c.session.read()).toString(), "after update");
    c.session.write(Buffer.from("reply"));
    const [t2, reply] = openRecord(serverNext, 0, c.session.takeOutgoing());
    assert.is(t2, 23);
    assert.is(reply.toString(), "reply");
    // The policy allows 32 KeyUpdates in a row; the 33rd without data in between fails.
    const d = await connected(variant);
    let secret = d.clientApSecret;
    for (let i = 0; i < 33; i++) {
      d.session.receive(sealRecord(trafficKeys(secret), 0, 22, new Uint8Array([24, 0, 0, 1, 0])));
      secret = expandLabel(secret, "traffic upd", new Uint8Array(0), 32);
      if (i < 32) assert.is(d.session.status.failed, false, `KeyUpdate ${i + 1}`);
    }
    assert.is(d.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
    assert.is(d.session.status.engineError, ErrorCode.TOO_MANY_KEY_UPDATES);
    // A KeyUpdate with request_update 2 → illegal_parameter.
    const e = await connected(variant);
    e.session.receive(sealRecord(e.clientAp, 0, 22, new Uint8Array([24, 0, 0, 1, 2])));
    assert.is(e.session.status.alertSent, Alert.ILLEGAL_PARAMETER);
  });

  test(`${variant}: declined 0-RTT: records that do not open are skipped up to the limit (RFC 8446 §4.2.10)`, async () => {
    const h = base();
    h.extensions.splice(h.extensions.length - 1, 0, [42, []]);
    const msg = helloRecord(h).subarray(5);
    const junk = (n: number): Uint8Array => new Uint8Array([23, 3, 3, n >> 8, n & 255, ...new Uint8Array(n).fill(0x5a)]);
    // Within the policy's limit (1000 bytes): skipped, then the Finished opens.
    const f = await toServerFlight(variant, msg, { ...RFC_POLICY, maxEarlyData: 1000 });
    f.session.receive(new Uint8Array([20, 3, 3, 0, 1, 1]));
    f.session.receive(junk(400));
    f.session.receive(junk(400));
    assert.is(f.session.status.failed, false);
    f.session.receive(sealRecord(f.clientHs, 0, 22, f.clientFinished));
    assert.ok(f.session.status.handshakeDone, `handshake done (${f.session.error?.message})`);
    // Once a record opened, skipping ends: junk is now bad_record_mac.
    f.session.receive(junk(100));
    assert.is(f.session.status.alertSent, Alert.BAD_RECORD_MAC);
    // Over the limit: bad_record_mac.
    const g = await toServerFlight(variant, msg, { ...RFC_POLICY, maxEarlyData: 1000 });
    g.session.receive(junk(600));
    assert.is(g.session.status.failed, false);
    g.session.receive(junk(600));
    assert.is(g.session.status.alertSent, Alert.BAD_RECORD_MAC);
    // Without early_data in the ClientHello nothing is skipped.
    const k = await toServerFlight(variant);
    k.session.receive(junk(100));
    assert.is(k.session.status.alertSent, Alert.BAD_RECORD_MAC);
  });

  test(`${variant}: record_size_limit (RFC 8449): below 64 → illegal_parameter; 64 → flight records of at most 64 bytes`, async () => {
    const h = base();
    h.extensions = h.extensions.map(([t, b]) => (t === 28 ? [t, [0, 63]] : [t, b]));
    assert.is(await alertFor(variant, helloRecord(h)), Alert.ILLEGAL_PARAMETER);
    h.extensions = h.extensions.map(([t, b]) => (t === 28 ? [t, [0, 64]] : [t, b]));
    const f = await toServerFlight(variant, helloRecord(h).subarray(5));
    assert.ok(f.innerSizes.length > 10, `${f.innerSizes.length} records`);
    assert.ok(f.innerSizes.every((n) => n <= 64), f.innerSizes.join(","));
    // Our EncryptedExtensions announces 2^14 + 1.
    assert.ok(f.flight.subarray(0, 40).includes(Buffer.from("001c00024001", "hex")));
    f.session.receive(sealRecord(f.clientHs, 0, 22, f.clientFinished));
    assert.ok(f.session.status.handshakeDone);
  });

  test(`${variant}: handshake message limits: ClientHello over 16 KiB, Finished of the wrong size, oversized KeyUpdate`, async () => {
    assert.is(await alertFor(variant, new Uint8Array([22, 3, 1, 0, 4, 1, 0, 0x40, 0x01])), Alert.ILLEGAL_PARAMETER);
    const f = await toServerFlight(variant);
    f.session.receive(sealRecord(f.clientHs, 0, 22, new Uint8Array([20, 0, 0, 33, ...new Uint8Array(33)])));
    assert.is(f.session.status.alertSent, Alert.DECODE_ERROR);
    const c = await connected(variant);
    c.session.receive(sealRecord(c.clientAp, 0, 22, new Uint8Array([24, 0, 0, 2, 0, 0])));
    assert.is(c.session.status.alertSent, Alert.DECODE_ERROR);
  });

  test(`${variant}: after the handshake only KeyUpdate is accepted; a Finished must end its record`, async () => {
    const c = await connected(variant);
    c.session.receive(sealRecord(c.clientAp, 0, 22, new Uint8Array([11, 0, 0, 4, 0, 0, 0, 0])));
    assert.is(c.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
    const f = await toServerFlight(variant);
    f.session.receive(sealRecord(f.clientHs, 0, 22, Buffer.concat([f.clientFinished, Buffer.from([24, 0, 0, 1, 0])])));
    assert.is(f.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
    assert.is(f.session.status.engineError, ErrorCode.INTERLEAVED_HANDSHAKE);
  });

  test(`${variant}: the engine rekeys by itself after the policy's record count (RFC 8446 §5.5)`, async () => {
    const c = await connected(variant, { ...RFC_POLICY, rekeyAfterRecords: 3 });
    const out: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      c.session.write(Buffer.from(`record ${i}`));
      out.push(c.session.takeOutgoing());
    }
    const all = Buffer.concat(out);
    const records: Buffer[] = [];
    for (let p = 0; p < all.length; p += 5 + ((all[p + 3] << 8) | all[p + 4])) records.push(all.subarray(p, p + 5 + ((all[p + 3] << 8) | all[p + 4])));
    assert.is(records.length, 6, "five data records and one KeyUpdate");
    for (let i = 0; i < 3; i++) assert.is(openRecord(c.serverAp, i, records[i])[1].toString(), `record ${i}`);
    const [type, ku] = openRecord(c.serverAp, 3, records[3]);
    assert.is(type, 22);
    assert.equal([...ku], [24, 0, 0, 1, 0]);
    const next = trafficKeys(expandLabel(c.serverApSecret, "traffic upd", new Uint8Array(0), 32));
    assert.is(openRecord(next, 0, records[4])[1].toString(), "record 3");
    assert.is(openRecord(next, 1, records[5])[1].toString(), "record 4");
  });

  test(`${variant}: every single-bit flip of the ClientHello record: an alert or a handshake, never a fault`, async () => {
    const factory = await engineFactory(variant);
    const seen = new Set<number | null>();
    for (let i = 0; i < RFC_CLIENT_HELLO_RECORD.length; i++) {
      const bytes = new Uint8Array(RFC_CLIENT_HELLO_RECORD);
      bytes[i] ^= 1 << (i % 8);
      const s = new TlsSession(factory.instantiate(), RFC_POLICY, () => rfcChoice());
      s.receive(bytes);
      await settle();
      const st = s.status;
      assert.is(st.error?.code === "SANDBOX_FAULT", false, `flip at ${i}: ${st.error?.message}`);
      // Either it failed with an alert, it waits for more bytes (a longer record length), or the
      // flip was harmless (random, session id, an ignored extension) and the flight went out.
      const flightOut = s.takeOutgoing().length > 200;
      assert.ok(st.alertSent !== null || flightOut || !st.failed, `flip at ${i}`);
      seen.add(st.alertSent);
    }
    // Control: the flips do reach the checks (several different alerts came back).
    assert.ok(seen.size >= 4, [...seen].join(","));
  });

  test(`${variant}: a fatal alert from the client fails the session without an answer`, async () => {
    const f = await toServerFlight(variant);
    f.session.receive(sealRecord(f.clientHs, 0, 21, new Uint8Array([2, Alert.BAD_CERTIFICATE])));
    const st = f.session.status;
    assert.is(st.alertReceived, Alert.BAD_CERTIFICATE);
    assert.is(st.alertSent, null);
    assert.is(st.error?.code, "PEER_ALERT");
    assert.is(f.session.takeOutgoing().length, 0);
  });

  test(`${variant}: handshake bytes then an alert in the middle of a message → unexpected_message`, async () => {
    const f = await toServerFlight(variant);
    f.session.receive(sealRecord(f.clientHs, 0, 22, f.clientFinished.subarray(0, 10)));
    f.session.receive(sealRecord(f.clientHs, 1, 21, new Uint8Array([1, 0])));
    assert.is(f.session.status.alertSent, Alert.UNEXPECTED_MESSAGE);
  });

  test(`${variant}: HelloRetryRequest for P-256 when the client shared only X25519, then a bad second ClientHello`, async () => {
    const s = new TlsSession((await engineFactory(variant)).instantiate(), { ...RFC_POLICY, groups: [NamedGroup.SECP256R1] }, () => rfcChoice());
    s.receive(RFC_CLIENT_HELLO_RECORD);
    const hrr = s.takeOutgoing();
    assert.is(hrr[0], 22);
    // ServerHello with the HelloRetryRequest random, naming secp256r1 in key_share.
    assert.is(Buffer.from(hrr.subarray(11, 43)).toString("hex"), "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
    assert.ok(Buffer.from(hrr).includes(Buffer.from([0, 0x33, 0, 2, 0, 0x17])));
    assert.is(s.status.helloRetry, true);
    // The same ClientHello again (still only an X25519 share) → illegal_parameter (RFC 8446 §4.2.8).
    s.receive(RFC_CLIENT_HELLO_RECORD);
    assert.is(s.status.alertSent, Alert.ILLEGAL_PARAMETER);
  });
}

test.run();
