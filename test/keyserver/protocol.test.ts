// The frame codec in-process: round trips, strictness (no prefix decodes, trailing bytes refused),
// and tens of thousands of random and mutated bodies, with a seeded generator so a failure
// reproduces.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeReady,
  decodeRequest,
  decodeResponse,
  encodeError,
  encodeReady,
  encodeRequest,
  encodeResponse,
  FrameReader,
  FramingError,
  MAX_BODY,
  MAX_DETAIL,
  Op,
  Status,
  type Request,
} from "../../src/keyserver/protocol";
import { bytes, rng, SAMPLES } from "./frames";

const test = suite("keyserver protocol");

const body = (r: Request) => encodeRequest(r).subarray(4);

test("every request round-trips, and its frame carries its body length", () => {
  for (const r of SAMPLES) {
    const frame = encodeRequest(r);
    assert.is(new DataView(frame.buffer).getUint32(0), frame.length - 4);
    const decoded = decodeRequest(frame.subarray(4));
    assert.ok(decoded.ok, `op ${r.op} did not decode`);
    if (decoded.ok) assert.equal(decoded.request, r);
  }
});

test("no strict prefix of a valid body decodes, and no body with a trailing byte does", () => {
  for (const r of SAMPLES) {
    const b = body(r);
    for (let n = 0; n < b.length; n++) {
      const d = decodeRequest(b.subarray(0, n));
      assert.not.ok(d.ok, `op ${r.op}: prefix of ${n}/${b.length} bytes decoded`);
      if (!d.ok) assert.is(d.rejection.status, Status.MALFORMED);
      if (!d.ok && n >= 4) assert.is(d.rejection.id, r.id, "the answer carries the request id once it is readable");
    }
    const longer = new Uint8Array(b.length + 1);
    longer.set(b);
    const d = decodeRequest(longer);
    assert.ok(!d.ok && d.rejection.status === Status.MALFORMED && d.rejection.detail.includes("trailing"));
  }
});

test("reserved id 0, unknown ops, bad hash lengths and PING with a key id are refused with the right status", () => {
  const zero = body({ op: Op.PING, id: 1, keyId: 0 });
  zero.fill(0, 0, 4);
  assert.equal(decodeRequest(zero), { ok: false, rejection: { id: 0, status: Status.MALFORMED, detail: "request id 0 is reserved for the server" } });
  for (const op of [0, 4, 5, 0x7e, 0x80, 0xff]) {
    const b = body({ op: Op.PING, id: 77, keyId: 0 });
    b[4] = op;
    const d = decodeRequest(b);
    assert.ok(!d.ok && d.rejection.status === Status.UNKNOWN_OP && d.rejection.id === 77, `op ${op}`);
  }
  const hash20 = body({ op: Op.SIGN_TLS13_CERT_VERIFY, id: 3, keyId: 0, handshakeId: 1n, scheme: 0x0804, transcriptHash: bytes(20) });
  const d = decodeRequest(hash20);
  assert.ok(!d.ok && d.rejection.status === Status.BAD_HASH_LENGTH);
  const ping = body({ op: Op.PING, id: 3, keyId: 0 });
  ping[6] = 1;
  assert.ok(!decodeRequest(ping).ok);
});

test("the encoder refuses values the wire cannot carry", () => {
  const bad: Request[] = [
    { op: Op.PING, id: 2 ** 32, keyId: 0 },
    { op: Op.PING, id: -1, keyId: 0 },
    { op: Op.PING, id: 1, keyId: 65536 },
    { op: Op.SIGN_TLS13_CERT_VERIFY, id: 1, keyId: 0, handshakeId: 1n << 64n, scheme: 0x0804, transcriptHash: bytes(32) },
    { op: Op.SIGN_TLS13_CERT_VERIFY, id: 1, keyId: 0, handshakeId: -1n, scheme: 0x0804, transcriptHash: bytes(32) },
    { op: Op.SIGN_TLS13_CERT_VERIFY, id: 1, keyId: 0, handshakeId: 1n, scheme: 0x10000, transcriptHash: bytes(32) },
    { op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, id: 1, keyId: 0, handshakeId: 1n, scheme: 1, clientRandom: bytes(31), serverRandom: bytes(32), params: bytes(4) },
    { op: Op.SIGN_TLS12_SERVER_KEY_EXCHANGE, id: 1, keyId: 0, handshakeId: 1n, scheme: 1, clientRandom: bytes(32), serverRandom: bytes(32), params: bytes(MAX_BODY) },
  ];
  for (const r of bad) assert.throws(() => encodeRequest(r), (e: unknown) => e instanceof RangeError);
});

test("responses, errors and READY round-trip; error details are cut to MAX_DETAIL bytes", () => {
  const r = decodeResponse(encodeResponse(5, Status.OK, bytes(3)).subarray(4));
  assert.equal(r, { id: 5, status: Status.OK, payload: bytes(3) });
  const e = decodeResponse(encodeError(6, Status.UNKNOWN_KEY, "x".repeat(1000)).subarray(4));
  assert.is(e.payload.length, MAX_DETAIL);
  const ready = decodeResponse(encodeReady([{ keyId: 0, kind: 1, bits: 4096 }, { keyId: 1, kind: 3, bits: 384 }]).subarray(4));
  assert.equal(decodeReady(ready.payload), { version: 1, keys: [{ keyId: 0, kind: 1, bits: 4096 }, { keyId: 1, kind: 3, bits: 384 }] });
  assert.throws(() => decodeResponse(new Uint8Array(4)));
  assert.throws(() => decodeReady(Uint8Array.from([1, 2, 0, 0, 1])));
});

/** A decoded request must re-encode to exactly the bytes it came from: the decoding is canonical. */
function checkBody(b: Uint8Array, where: string): boolean {
  let d: ReturnType<typeof decodeRequest>;
  try {
    d = decodeRequest(b);
  } catch (e) {
    assert.unreachable(`${where}: decoder threw ${(e as Error).message}`);
    return false;
  }
  if (d.ok) {
    assert.equal(Array.from(body(d.request)), Array.from(b), `${where}: not canonical`);
    return true;
  }
  assert.ok(d.rejection.status >= Status.MALFORMED && d.rejection.status <= Status.BAD_HASH_LENGTH, `${where}: status ${d.rejection.status}`);
  return false;
}

test("20 000 random bodies: the decoder never throws, and whatever it accepts is canonical", () => {
  const seed = 0x5eed1;
  const rand = rng(seed);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    const n = rand(4) === 0 ? rand(8) : rand(140);
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) b[j] = rand(256);
    // Steer a third of them to real ops, so the field decoders are reached, not just UNKNOWN_OP.
    if (n > 4 && rand(3) === 0) b[4] = [1, 2, 3, 0x7f][rand(4)];
    if (checkBody(b, `seed ${seed} case ${i}`)) accepted++;
  }
  assert.ok(accepted >= 0);
});

test("20 000 mutated valid bodies (bit flips, truncations, insertions, length-byte edits) never throw", () => {
  const seed = 0xfa11;
  const rand = rng(seed);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    const b = Array.from(body(SAMPLES[rand(SAMPLES.length)]));
    const edits = 1 + rand(3);
    for (let k = 0; k < edits; k++) {
      switch (rand(5)) {
        case 0: b[rand(b.length)] ^= 1 << rand(8); break;
        case 1: b.length = rand(b.length + 1); break;
        case 2: b.splice(rand(b.length + 1), 0, rand(256)); break;
        case 3: b.splice(rand(b.length + 1), rand(4)); break;
        default: if (b.length > 0) b[rand(b.length)] = [0, 1, 31, 32, 33, 48, 0x7f, 0x80, 0xff][rand(9)];
      }
    }
    if (checkBody(Uint8Array.from(b), `seed ${seed} case ${i}`)) accepted++;
  }
  // Some mutations land in payload bytes (hash, randoms) and stay valid requests.
  assert.ok(accepted > 100, `only ${accepted} mutated bodies still decoded`);
});

test("the frame reader reassembles frames from any chunking, including 1-byte chunks", () => {
  const frames = SAMPLES.map(encodeRequest);
  const stream = Uint8Array.from(frames.flatMap((f) => Array.from(f)));
  const rand = rng(42);
  for (let round = 0; round < 200; round++) {
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = round === 0 ? 1 : 1 + rand(64);
      got.push(...reader.push(stream.subarray(at, at + n)));
      at += n;
    }
    assert.is(got.length, frames.length);
    got.forEach((b, i) => assert.equal(Array.from(b), Array.from(frames[i].subarray(4))));
    assert.is(reader.buffered, 0);
  }
});

test("a frame trickling in one byte per read costs time linear in its size (no quadratic re-joining)", () => {
  const perByte = (size: number) => {
    const frame = new Uint8Array(4 + size);
    new DataView(frame.buffer).setUint32(0, size);
    const reader = new FrameReader();
    const t0 = performance.now();
    let got = 0;
    for (let i = 0; i < frame.length; i++) got += reader.push(frame.subarray(i, i + 1)).length;
    assert.is(got, 1);
    return (performance.now() - t0) / frame.length;
  };
  perByte(8192); // warm-up
  const small = Math.min(perByte(8192), perByte(8192));
  const large = Math.min(perByte(MAX_BODY), perByte(MAX_BODY));
  // Quadratic joining would make the 8× larger frame cost about 8× more per byte.
  assert.ok(large < small * 4, `per byte: ${small.toFixed(5)} ms at 8 KiB, ${large.toFixed(5)} ms at 64 KiB`);
});

test("lengths: 0 and MAX_BODY are frames; MAX_BODY + 1 and 2^32 − 1 are fatal and stay fatal", () => {
  const reader = new FrameReader();
  const zero = reader.push(Uint8Array.from([0, 0, 0, 0]));
  assert.is(zero.length, 1);
  assert.is(zero[0].length, 0);
  const max = new Uint8Array(4 + MAX_BODY);
  new DataView(max.buffer).setUint32(0, MAX_BODY);
  assert.is(reader.push(max)[0].length, MAX_BODY);
  for (const length of [MAX_BODY + 1, 0xffffffff]) {
    const r = new FrameReader();
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, length);
    // The frames before the bad length are still delivered; the reader is dead after it.
    const before = encodeRequest(SAMPLES[5]);
    const got = r.push(Uint8Array.from([...before, ...head]));
    assert.is(got.length, 1);
    assert.ok(r.error instanceof FramingError && r.error.length === length);
    assert.throws(() => r.push(encodeRequest(SAMPLES[0])), (e: unknown) => e instanceof FramingError);
  }
});

test.run();
