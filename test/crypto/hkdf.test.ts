// HKDF (RFC 5869) and the TLS 1.3 key-schedule helpers (wasm/crypto/hkdf.ts): Wycheproof, the
// RFC 8448 §3 key schedule step by step, and differential tests against node:crypto.
import { createHmac, hkdfSync } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { CryptoBox, cryptoBoxes, EDGE_LENGTHS, seededRandom } from "../helpers/cryptobox";
import { hex, loadVectors, unhex } from "../helpers/repo";

const test = suite("HKDF");
const boxes = await cryptoBoxes();

interface Alg { id: number; name: "sha256" | "sha384" | "sha512"; out: number }
const ALGS: Alg[] = [
  { id: 1, name: "sha256", out: 32 },
  { id: 2, name: "sha384", out: 48 },
  { id: 3, name: "sha512", out: 64 },
];
const SHA256 = ALGS[0];

/** Equal hex strings; on a mismatch, reports the first differing byte instead of uvu's string
 *  diff, which takes minutes on outputs of several kilobytes. */
function sameHex(got: string | null, want: string | null, msg: string): void {
  if (got === want) return;
  if (got === null || want === null) assert.unreachable(`${msg}: got ${got === null ? "failure" : "output"}, want ${want === null ? "failure" : "output"}`);
  let i = 0;
  while (i < got!.length && got![i] === want![i]) i++;
  const at = i & ~1;
  assert.unreachable(`${msg}: ${got!.length / 2} bytes, want ${want!.length / 2}; first difference at byte ${at / 2}: ${got!.slice(at, at + 32)} vs ${want!.slice(at, at + 32)}`);
}

const isTrap = (e: unknown): boolean => e instanceof WebAssembly.RuntimeError;
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));

/** RFC 5869 §2.3 in TypeScript on node's HMAC (node's hkdfSync has no Expand alone, and caps info at 1,024 bytes). */
function refExpand(alg: Alg, prk: Uint8Array, info: Uint8Array, len: number): string {
  const out: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; out.length * alg.out < len; i++) {
    t = createHmac(alg.name, prk).update(t).update(info).update(Uint8Array.of(i)).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, len).toString("hex");
}

/** RFC 8446 §7.1 HkdfLabel. */
function hkdfLabel(len: number, label: Uint8Array, context: Uint8Array): Uint8Array {
  return new Uint8Array([len >> 8, len & 255, 6 + label.length, ...ascii("tls13 "), ...label, context.length, ...context]);
}

/** Extract then Expand in the sandbox; the expand result is `null` when hkdf_expand returned 0. */
function wasmHkdf(box: CryptoBox, alg: Alg, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, len: number, misalign = 0): string | null {
  const a = box.arena();
  const ip = a.put(ikm, 16, misalign);
  const sp = a.put(salt, 16, (misalign + 5) & 15);
  const np = a.put(info, 16, (misalign + 9) & 15);
  const prk = a.alloc(alg.out, 16, (misalign * 3) & 15);
  const out = a.alloc(len, 16, (misalign * 7) & 15);
  box.x.hkdf_extract(alg.id, prk, sp, salt.length, ip, ikm.length);
  const ok = box.x.hkdf_expand(alg.id, out, len, prk, alg.out, np, info.length);
  if (ok === 0) {
    assert.ok(a.read(out, len).every((b) => b === 0), "a failed expand writes nothing");
    return null;
  }
  assert.is(ok, 1);
  return hex(a.read(out, len));
}

function wasmExpandLabel(box: CryptoBox, alg: Alg, secret: Uint8Array, label: Uint8Array, context: Uint8Array, len: number, misalign = 0): string {
  const a = box.arena();
  const sp = a.put(secret, 16, misalign);
  const lp = a.put(label, 16, (misalign + 3) & 15);
  const cp = a.put(context, 16, (misalign + 6) & 15);
  const out = a.alloc(len, 16, (misalign + 11) & 15);
  box.x.hkdf_expand_label(alg.id, out, len, sp, lp, label.length, cp, context.length);
  return hex(a.read(out, len));
}

interface HkdfTest { tcId: number; comment: string; ikm: string; salt: string; info: string; size: number; okm: string; result: string }
interface Rfc8448 {
  keySchedule: Record<string, { salt?: string; ikm?: string; prk?: string; hash?: string; info?: string; secret: string }>;
  trafficKeys: Record<string, { secret: string; keyInfo: string; key: string; ivInfo: string; iv: string }>;
  finished: Record<"server" | "client", { baseKey: string; info: string; finishedKey: string; verifyData: string }>;
  handshakeMessages: Record<string, string>;
}
const rfc8448 = loadVectors<Rfc8448>("rfc8448-simple-1rtt.json");

for (const box of boxes) {
  const v = box.variant;

  for (const alg of ALGS.slice(0, 2)) {
    test(`${v}: Wycheproof hkdf_${alg.name}`, () => {
      const file = loadVectors<{ numberOfTests: number; testGroups: Array<{ tests: HkdfTest[] }> }>(`wycheproof/hkdf_${alg.name}_test.json`);
      let count = 0;
      for (const t of file.testGroups.flatMap((g) => g.tests)) {
        const got = wasmHkdf(box, alg, unhex(t.ikm), unhex(t.salt), unhex(t.info), t.size, t.tcId & 15);
        // Both files hold only valid cases and SizeTooLarge invalid ones; there is nothing
        // "acceptable" to decide, so any other result fails the test.
        if (t.result === "valid") sameHex(got, t.okm, `tcId ${t.tcId} (${t.comment})`);
        else {
          assert.is(t.result, "invalid", `tcId ${t.tcId} result`);
          assert.is(got, null, `tcId ${t.tcId} (${t.comment}) must fail`);
        }
        count++;
      }
      assert.is(count, file.numberOfTests);
    });
  }

  test(`${v}: RFC 8448 §3 key schedule: every Extract and Derive-Secret step`, () => {
    let derives = 0;
    for (const [name, step] of Object.entries(rfc8448.keySchedule)) {
      const a = box.arena();
      const out = a.alloc(32, 16, 1);
      if (step.salt !== undefined) {
        const salt = unhex(step.salt);
        const ikm = unhex(step.ikm!);
        const sp = a.put(salt, 16, 3);
        const ip = a.put(ikm, 16, 5);
        box.x.hkdf_extract(1, out, sp, salt.length, ip, ikm.length);
        assert.is(hex(a.read(out, 32)), step.secret, `${name}: extract`);
        if (/^(00)+$/.test(step.salt)) {
          // RFC 8446 writes this salt as "0": the empty salt must mean HashLen zeros.
          box.x.hkdf_extract(1, out, sp, 0, ip, ikm.length);
          assert.is(hex(a.read(out, 32)), step.secret, `${name}: extract with an empty salt`);
        }
        continue;
      }
      const prk = unhex(step.prk!);
      const info = unhex(step.info!);
      const pp = a.put(prk, 16, 7);
      const np = a.put(info, 16, 2);
      assert.is(box.x.hkdf_expand(1, out, 32, pp, 32, np, info.length), 1);
      assert.is(hex(a.read(out, 32)), step.secret, `${name}: expand with the full HkdfLabel`);
      // Take the HkdfLabel apart and rebuild it through the label API.
      assert.is((info[0] << 8) | info[1], 32, `${name}: length field`);
      const label = info.subarray(3, 3 + info[2]);
      assert.is(Buffer.from(label.subarray(0, 6)).toString("latin1"), "tls13 ", `${name}: prefix`);
      const context = info.subarray(4 + info[2]);
      assert.is(context.length, info[3 + info[2]], `${name}: context length`);
      assert.is(wasmExpandLabel(box, SHA256, prk, label.subarray(6), context, 32, 4), step.secret, `${name}: expand-label`);
      if (context.length === 32) {
        assert.is(hex(context), step.hash, `${name}: context is the transcript hash`);
        // A fresh arena: wasmExpandLabel reused the IO area.
        const b = box.arena();
        const pp2 = b.put(prk, 16, 7);
        const lp = b.put(label.subarray(6), 16, 9);
        const hp = b.put(context, 16, 13);
        const out2 = b.alloc(32, 16, 1);
        box.x.derive_secret(1, out2, pp2, lp, label.length - 6, hp);
        assert.is(hex(b.read(out2, 32)), step.secret, `${name}: derive-secret`);
        derives++;
      }
    }
    assert.is(derives, 8, "derived ×2, c/s hs traffic, c/s ap traffic, exp master, res master");
  });

  test(`${v}: RFC 8448 §3 traffic keys, finished keys and verify_data`, () => {
    for (const [name, tk] of Object.entries(rfc8448.trafficKeys)) {
      const secret = unhex(tk.secret);
      assert.is(hex(hkdfLabel(16, ascii("key"), new Uint8Array(0))), tk.keyInfo, `${name}: key label`);
      assert.is(wasmExpandLabel(box, SHA256, secret, ascii("key"), new Uint8Array(0), 16), tk.key, `${name}: key`);
      assert.is(wasmExpandLabel(box, SHA256, secret, ascii("iv"), new Uint8Array(0), 12), tk.iv, `${name}: iv`);
    }
    // The transcript through CertificateVerify (server Finished) and through the server Finished
    // (client Finished), from a running hash snapshotted with hash_copy.
    const m = rfc8448.handshakeMessages;
    const order = ["clientHello", "serverHello", "encryptedExtensions", "certificate", "certificateVerify", "serverFinished"];
    const a = box.arena();
    const ctx = a.alloc(box.x.hash_ctx_size(), 16, 3);
    const snap = a.alloc(box.x.hash_ctx_size(), 16, 6);
    const th: Record<string, Uint8Array> = {};
    box.x.hash_init(ctx, 1);
    for (const msg of order) {
      const bytes = unhex(m[msg]);
      const p = a.put(bytes, 16, 1);
      box.x.hash_update(ctx, p, bytes.length);
      const o = a.alloc(32);
      box.x.hash_copy(snap, ctx);
      box.x.hash_final(snap, o);
      th[msg] = a.read(o, 32);
    }
    const serverTh = th.certificateVerify;
    const clientTh = th.serverFinished;
    for (const [side, transcript] of [["server", serverTh], ["client", clientTh]] as const) {
      const f = rfc8448.finished[side];
      assert.is(hex(hkdfLabel(32, ascii("finished"), new Uint8Array(0))), f.info);
      const finishedKey = wasmExpandLabel(box, SHA256, unhex(f.baseKey), ascii("finished"), new Uint8Array(0), 32, 8);
      assert.is(finishedKey, f.finishedKey, `${side} finished key`);
      const kp = a.put(unhex(finishedKey));
      const tp = a.put(transcript);
      const o = a.alloc(32);
      box.x.hmac(1, o, kp, 32, tp, 32);
      assert.is(hex(a.read(o, 32)), f.verifyData, `${side} verify_data`);
    }
  });

  test(`${v}: 10,000 random HKDF inputs per algorithm against node:crypto`, () => {
    for (const alg of ALGS) {
      const next = seededRandom(0x4b0f + alg.id);
      const maxOut = 255 * alg.out;
      const cases: Array<[number, number, number, number]> = [];
      for (const len of EDGE_LENGTHS) cases.push([len, 16, 16, 42], [22, len, 10, 42], [22, 13, len, 42]);
      for (const len of [0, 1, alg.out - 1, alg.out, alg.out + 1, 2 * alg.out, maxOut - 1, maxOut]) cases.push([22, 13, 10, len]);
      while (cases.length < 10_000) {
        const r = next(5);
        cases.push([r[0] % 80, r[1] % 80, r[2] % 150, 1 + ((r[3] << 8) | r[4]) % 300]);
      }
      cases.forEach(([ikmLen, saltLen, infoLen, len], i) => {
        const ikm = next(ikmLen);
        const salt = next(saltLen);
        const info = next(infoLen);
        const want =
          infoLen <= 1024 && len > 0
            ? Buffer.from(hkdfSync(alg.name, ikm, salt, info, len)).toString("hex")
            : refExpand(alg, createHmac(alg.name, salt.length > 0 ? salt : new Uint8Array(alg.out)).update(ikm).digest(), info, len);
        sameHex(wasmHkdf(box, alg, ikm, salt, info, len, i & 15), want, `${alg.name} ikm ${ikmLen} salt ${saltLen} info ${infoLen} out ${len} #${i}`);
      });
      // One byte too many fails.
      assert.is(wasmHkdf(box, alg, next(10), next(10), next(10), maxOut + 1), null, `${alg.name} 255·HashLen + 1`);
    }
  });

  test(`${v}: 2,000 random expand-label and derive-secret inputs per algorithm against a reference`, () => {
    for (const alg of ALGS) {
      const next = seededRandom(0x7a6 + alg.id);
      for (let i = 0; i < 2000; i++) {
        const r = next(4);
        const secret = next(alg.out);
        const label = next(i < 2 ? [0, 249][i] : r[0] % 40);
        const context = next(i < 2 ? [255, 0][i] : r[1] % 70);
        const len = i < 2 ? [0, 255 * alg.out][i] : r[2] % 100;
        const want = refExpand(alg, secret, hkdfLabel(len, label, context), len);
        sameHex(wasmExpandLabel(box, alg, secret, label, context, len, i & 15), want, `${alg.name} expand-label #${i}`);
        const transcript = next(alg.out);
        const a = box.arena();
        const sp = a.put(secret, 16, i & 15);
        const lp = a.put(label, 16, 1);
        const hp = a.put(transcript, 16, 2);
        const out = a.alloc(alg.out, 16, 3);
        box.x.derive_secret(alg.id, out, sp, lp, label.length, hp);
        assert.is(hex(a.read(out, alg.out)), refExpand(alg, secret, hkdfLabel(alg.out, label, transcript), alg.out), `${alg.name} derive-secret #${i}`);
      }
    }
  });

  test(`${v}: outputs may overwrite the secret (traffic-secret update) and the context`, () => {
    for (const alg of ALGS) {
      const next = seededRandom(0x0da + alg.id);
      const secret = next(alg.out);
      const transcript = next(alg.out);
      const a = box.arena();
      const sp = a.put(secret);
      const lp = a.put(ascii("traffic upd"));
      box.x.hkdf_expand_label(alg.id, sp, alg.out, sp, lp, 11, sp, 0);
      assert.is(hex(a.read(sp, alg.out)), refExpand(alg, secret, hkdfLabel(alg.out, ascii("traffic upd"), new Uint8Array(0)), alg.out));
      const sp2 = a.put(secret);
      const hp = a.put(transcript);
      box.x.derive_secret(alg.id, hp, sp2, lp, 11, hp);
      assert.is(hex(a.read(hp, alg.out)), refExpand(alg, secret, hkdfLabel(alg.out, ascii("traffic upd"), transcript), alg.out));
      // The output runs past the prk (not into info, which must not overlap it).
      const prk = a.alloc(3 * alg.out);
      box.sandbox.bytes().set(secret, prk);
      const info = a.put(next(30));
      const infoCopy = a.read(info, 30);
      assert.is(box.x.hkdf_expand(alg.id, prk, 3 * alg.out, prk, alg.out, info, 30), 1);
      sameHex(hex(a.read(prk, 3 * alg.out)), refExpand(alg, secret, infoCopy, 3 * alg.out), `${alg.name} expand over the prk`);
      const ikm = a.put(secret);
      box.x.hkdf_extract(alg.id, ikm, ikm, alg.out, ikm, alg.out);
      assert.is(hex(a.read(ikm, alg.out)), createHmac(alg.name, secret).update(secret).digest("hex"), `${alg.name} extract in place`);
    }
  });

  test(`${v}: impossible arguments trap or fail`, () => {
    const a = box.arena();
    const buf = a.alloc(20_000);
    for (const alg of ALGS) {
      assert.throws(() => box.x.hkdf_expand_label(alg.id, buf, 16, buf, buf, 250, buf, 0), isTrap, "label over 249 bytes");
      assert.throws(() => box.x.hkdf_expand_label(alg.id, buf, 16, buf, buf, 5, buf, 256), isTrap, "context over 255 bytes");
      assert.throws(() => box.x.hkdf_expand_label(alg.id, buf, 255 * alg.out + 1, buf, buf, 5, buf, 0), isTrap, "output too long");
    }
    assert.is(box.x.hkdf_expand(0, buf, 16, buf, 32, buf, 0), 0, "unknown algorithm");
    assert.throws(() => box.x.hkdf_expand_label(4, buf, 16, buf, buf, 5, buf, 0), isTrap);
    assert.throws(() => box.x.derive_secret(0, buf, buf, buf, 5, buf), isTrap);
    assert.throws(() => box.x.hkdf_extract(0, buf, buf, 5, buf, 5), isTrap);
  });
}

test.run();
