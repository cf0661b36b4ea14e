// RFC 8448 §5 ("HelloRetryRequest") replayed through the engine, on both variants.
//
// The RFC server prefers P-256 and the client's first ClientHello carries only an X25519 share:
// here the policy offers secp256r1 alone, so the engine must ask again. The test host replays the
// trace's randomness (server random, then the P-256 private key, drawn by p256_keygen).
// What matches the RFC byte for byte: the ServerHello record (after the second ClientHello).
// What differs, and why: the RFC's HelloRetryRequest carries a cookie (RFC 8446 §4.2.2); tlsbox
// sends none (it keeps no state it would need the client to return), so our HelloRetryRequest is
// the RFC's minus that extension, and from there on the transcript differs. The handshake secret
// does not depend on the transcript, so the test takes the RFC's handshake and master secrets and
// derives the traffic secrets over our transcript (message_hash(ClientHello1) ‖ our HRR ‖
// ClientHello2 ‖ ServerHello ...): the flight must open under them, EncryptedExtensions must be
// the RFC's minus supported_groups (as in §3), the Certificate must be the RFC's, and the
// handshake must complete with a client Finished made from the RFC's secrets.
import { createHmac } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CipherSuite, NamedGroup, SignatureScheme } from "../../wasm/abi";
import { TlsSession, verifyCertificateVerify } from "../../src/tls/session";
import { hex, loadVectors, unhex } from "../helpers/repo";
import { engineFactory, VARIANTS } from "../helpers/tls";
import { expandLabel, openRecord, rfcChoice, RFC_PUBLIC_KEY, sealRecord, settle, sha256, trafficKeys } from "../helpers/tls_rfc8448";

const v = loadVectors("rfc8448-hello-retry-request.json");
const test = suite("RFC 8448 §5 HelloRetryRequest");

const m = v.handshakeMessages;
const rec = (i: number): Uint8Array => unhex(v.records[i].completeRecord);

/** A handshake message with the extension of `type` removed (lengths fixed up). */
function withoutExtension(msg: Uint8Array, type: number): Uint8Array {
  // ServerHello: type(1) len(3) version(2) random(32) sid(1+n) suite(2) comp(1) exts(2+n)
  let p = 4 + 2 + 32;
  p += 1 + msg[p];
  p += 3;
  const head = [...msg.subarray(0, p)];
  const end = p + 2 + ((msg[p] << 8) | msg[p + 1]);
  p += 2;
  const exts: number[] = [];
  while (p < end) {
    const t = (msg[p] << 8) | msg[p + 1];
    const n = (msg[p + 2] << 8) | msg[p + 3];
    if (t !== type) exts.push(...msg.subarray(p, p + 4 + n));
    p += 4 + n;
  }
  const body = [...head.slice(4), exts.length >> 8, exts.length & 255, ...exts];
  return new Uint8Array([msg[0], body.length >> 16, (body.length >> 8) & 255, body.length & 255, ...body]);
}

for (const variant of VARIANTS) {
  test(`${variant}: HelloRetryRequest, second ClientHello, ServerHello and flight against RFC 8448 §5`, async () => {
    const draws = [unhex(m.serverHello).subarray(6, 38), unhex(v.server.p256PrivateKey)];
    const drawn: number[] = [];
    const factory = await engineFactory(variant, (into) => {
      const next = draws.shift();
      if (next === undefined || next.length !== into.length) throw new Error(`unexpected draw of ${into.length} bytes`);
      into.set(next);
      drawn.push(into.length);
    });
    const session = new TlsSession(factory.instantiate(), {
      suites: [CipherSuite.TLS_AES_128_GCM_SHA256], groups: [NamedGroup.SECP256R1],
    }, () => rfcChoice());
    session.receive(rec(0));
    const hrrRecord = session.takeOutgoing();
    const hrr = hrrRecord.subarray(5);
    const rfcHrr = unhex(m.helloRetryRequest);
    assert.is(hex(hrr), hex(withoutExtension(rfcHrr, 44)), "the RFC's HelloRetryRequest without the cookie");
    assert.is(hex(hrrRecord.subarray(0, 5)), `16030300${hex(new Uint8Array([hrr.length]))}`);
    assert.is(drawn.length, 0, "no randomness drawn for a HelloRetryRequest");
    session.receive(rec(2));
    await settle();
    assert.equal(drawn, [32, 32]);
    assert.ok(session.status.helloRetry);
    const out = session.takeOutgoing();
    const sh = rec(3);
    assert.is(hex(out.subarray(0, sh.length)), hex(sh), "ServerHello record, byte for byte");

    // Traffic secrets over our transcript, from the RFC's handshake secret.
    const ch1 = unhex(m.clientHello1);
    const ch2 = unhex(m.clientHello2);
    const messageHash = Buffer.concat([Buffer.from([254, 0, 0, 32]), sha256(ch1)]);
    const thSh = sha256(messageHash, hrr, ch2, sh.subarray(5));
    const hs = unhex(v.keySchedule.handshakeSecret.secret);
    const sHs = expandLabel(hs, "s hs traffic", thSh, 32);
    const cHs = expandLabel(hs, "c hs traffic", thSh, 32);
    const [type, flight] = openRecord(trafficKeys(sHs), 0, out.subarray(sh.length));
    assert.is(type, 22);
    const ee = flight.subarray(0, 16);
    assert.is(hex(ee), "0800000c000a001c0002400100000000", "the RFC's EncryptedExtensions without supported_groups");
    const cert = unhex(m.certificate);
    assert.is(hex(flight.subarray(16, 16 + cert.length)), m.certificate);
    const cvAt = 16 + cert.length;
    const cv = flight.subarray(cvAt, cvAt + 4 + 0x84);
    const thCert = sha256(messageHash, hrr, ch2, sh.subarray(5), ee, cert);
    assert.ok(verifyCertificateVerify(RFC_PUBLIC_KEY, SignatureScheme.RSA_PSS_RSAE_SHA256, thCert, cv.subarray(8)));
    const fin = flight.subarray(cvAt + cv.length);
    const thCv = sha256(messageHash, hrr, ch2, sh.subarray(5), flight.subarray(0, cvAt + cv.length));
    const serverFinishedKey = expandLabel(sHs, "finished", new Uint8Array(0), 32);
    assert.is(hex(fin), "14000020" + hex(createHmac("sha256", serverFinishedKey).update(thCv).digest()));

    // The client Finished from the RFC-derived client handshake secret; then close_notify both ways.
    const thFin = sha256(messageHash, hrr, ch2, sh.subarray(5), flight);
    const clientFinishedKey = expandLabel(cHs, "finished", new Uint8Array(0), 32);
    const clientFin = Buffer.concat([Buffer.from("14000020", "hex"), createHmac("sha256", clientFinishedKey).update(thFin).digest()]);
    session.receive(sealRecord(trafficKeys(cHs), 0, 22, clientFin));
    assert.ok(session.status.handshakeDone, `handshake done (${session.error?.message})`);
    const master = unhex(v.keySchedule.masterSecret.secret);
    const cAp = trafficKeys(expandLabel(master, "c ap traffic", thFin, 32));
    const sAp = trafficKeys(expandLabel(master, "s ap traffic", thFin, 32));
    session.receive(sealRecord(cAp, 0, 21, unhex("0100")));
    session.close();
    const [t, alert] = openRecord(sAp, 0, session.takeOutgoing());
    assert.is(t, 21);
    assert.is(hex(alert), "0100");
    const st = session.status;
    assert.ok(st.peerClosed && st.localClosed && !st.failed);
    assert.is(st.group, NamedGroup.SECP256R1);
  });
}

test.run();
