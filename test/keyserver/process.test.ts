// The real key-server process: spawned from the bundled src/keyserver/main.ts, supervised,
// fuzzed through its fd 3, killed mid-load and restarted.
import { spawn, type ChildProcess } from "node:child_process";
import { constants, randomBytes, verify, X509Certificate } from "node:crypto";
import { copyFileSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SignatureScheme } from "../../wasm/abi";
import { KeyServerError } from "../../src/keyserver/errors";
import { HandshakeIds, startKeyServer, type KeyServerSupervisor } from "../../src/keyserver/client";
import { decodeResponse, encodeRequest, FrameReader, Op, SERVER_FRAME_ID, Status, type Request, type Response } from "../../src/keyserver/protocol";
import { buildKeyServerEntry, makeFixtures } from "./fixtures";
import { rng, SAMPLES } from "./frames";

const test = suite("keyserver process");
const f = makeFixtures();
const pairs = [f.rsaPkcs1, f.p256, f.p384];
const certs = pairs.map((p) => new X509Certificate(readFileSync(p.cert)));
let script = "";

test.before(async () => {
  script = await buildKeyServerEntry(f.dir);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cvContent(hash: Uint8Array): Buffer {
  return Buffer.concat([Buffer.alloc(64, 0x20), Buffer.from("TLS 1.3, server CertificateVerify"), Buffer.from([0]), hash]);
}

function verifies(keyId: number, scheme: number, hash: Uint8Array, signature: Uint8Array): boolean {
  const content = cvContent(hash);
  const key = certs[keyId].publicKey;
  if (scheme === SignatureScheme.RSA_PSS_RSAE_SHA256) return verify("sha256", content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
  if (scheme === SignatureScheme.RSA_PSS_RSAE_SHA512) return verify("sha512", content, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, signature);
  if (scheme === SignatureScheme.ECDSA_SECP256R1_SHA256) return verify("sha256", content, key, signature);
  if (scheme === SignatureScheme.ECDSA_SECP384R1_SHA384) return verify("sha384", content, key, signature);
  throw new Error(`scheme ${scheme}`);
}

/** A key server spawned directly, talked to frame by frame (no client library in the way). */
class Raw {
  readonly child: ChildProcess;
  readonly socket: Duplex;
  readonly responses: Response[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly reader = new FrameReader();
  private waiters: Array<() => void> = [];

  constructor(keys = pairs) {
    this.child = spawn(process.execPath, [script, JSON.stringify({ keys })], { stdio: ["ignore", "inherit", "pipe", "pipe"] });
    this.child.stderr!.on("data", (d: Buffer) => this.stderr.push(d.toString()));
    this.socket = this.child.stdio[3] as Duplex;
    this.socket.on("error", () => {});
    this.socket.on("data", (chunk: Buffer) => {
      for (const body of this.reader.push(chunk)) this.responses.push(decodeResponse(body));
      this.waiters.forEach((w) => w());
    });
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Waits until `n` responses arrived (READY included), or fails after `ms`. */
  async until(n: number, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.responses.length < n) {
      if (Date.now() > deadline) throw new Error(`${this.responses.length} of ${n} responses after ${ms} ms`);
      await new Promise<void>((resolve) => {
        this.waiters = [resolve];
        setTimeout(resolve, 50);
      });
    }
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async signOnce(keyId: number, scheme: number, handshakeId: bigint): Promise<void> {
    const hash = randomBytes(32);
    const id = 0x7000_0000 + Number(handshakeId % 1000n);
    const before = this.responses.length;
    this.socket.write(encodeRequest({ op: Op.SIGN_TLS13_CERT_VERIFY, id, keyId, handshakeId, scheme, transcriptHash: hash }));
    await this.until(before + 1);
    const answer = this.responses.find((r, i) => i >= before && r.id === id)!;
    assert.ok(answer, "no answer to the signing request");
    assert.is(answer.status, Status.OK);
    assert.ok(verifies(keyId, scheme, hash, answer.payload), "signature does not verify");
  }

  kill(): void {
    if (this.alive()) this.child.kill("SIGKILL");
  }
}

test("the process announces its keys, sets its title, and every scheme verifies against the certificates", async () => {
  const ks = await startKeyServer({ script, keys: pairs, stderr: "pipe", log: () => {} });
  try {
    assert.equal(ks.keys.map((k) => [k.keyId, k.bits]), [[0, 2048], [1, 256], [2, 384]]);
    const pid = ks.pid!;
    assert.is(readFileSync(`/proc/${pid}/comm`, "utf8").trim(), "tlsbox: keyserv"); // comm keeps 15 bytes
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("tlsbox: keyserver"));
    const cases: Array<[number, number]> = [
      [0, SignatureScheme.RSA_PSS_RSAE_SHA256],
      [0, SignatureScheme.RSA_PSS_RSAE_SHA512],
      [1, SignatureScheme.ECDSA_SECP256R1_SHA256],
      [2, SignatureScheme.ECDSA_SECP384R1_SHA384],
    ];
    // Pipelined: all requests are sent before any answer is read.
    const hashes = cases.map(() => randomBytes(32));
    const signatures = await Promise.all(cases.map(([keyId, scheme], i) => ks.sign(keyId, BigInt(i + 1), scheme, hashes[i])));
    cases.forEach(([keyId, scheme], i) => assert.ok(verifies(keyId, scheme, hashes[i], signatures[i]), `0x${scheme.toString(16)}`));
    // Refusals arrive as typed errors carrying the server's status.
    for (const [keyId, handshake, scheme, status] of [
      [1, 3n, SignatureScheme.ECDSA_SECP256R1_SHA256, Status.ALREADY_SIGNED],
      [0, 100n, SignatureScheme.ECDSA_SECP256R1_SHA256, Status.SCHEME_KEY_MISMATCH],
      [9, 101n, SignatureScheme.RSA_PSS_RSAE_SHA256, Status.UNKNOWN_KEY],
    ] as const) {
      const e = await ks.sign(keyId, handshake, scheme, randomBytes(32)).then(() => null, (err: unknown) => err);
      assert.ok(e instanceof KeyServerError && e.code === "REFUSED" && e.status === status, `key ${keyId}: ${e}`);
    }
    // Arguments that can never be valid are refused before they are sent.
    await ks.sign(0, 1n << 64n, SignatureScheme.RSA_PSS_RSAE_SHA256, randomBytes(32)).then(
      () => assert.unreachable("sent"),
      (e) => assert.is((e as KeyServerError).code, "BAD_ARGUMENT"),
    );
    await ks.sign(0, 5n, SignatureScheme.RSA_PSS_RSAE_SHA256, randomBytes(20)).then(
      () => assert.unreachable("sent"),
      (e) => assert.is((e as KeyServerError).code, "BAD_ARGUMENT"),
    );
  } finally {
    await ks.close();
  }
});

test("started as root with a user and group, it drops to them after loading root-only keys", async () => {
  if (process.getuid?.() !== 0) return; // only meaningful as root
  const ks = await startKeyServer({ script, keys: [f.p256], user: "nobody", group: "nogroup", stderr: "pipe", log: () => {} });
  try {
    const status = readFileSync(`/proc/${ks.pid}/status`, "utf8");
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Groups:\s+65534\s*$/m);
    const hash = randomBytes(32);
    assert.ok(verifies(1, SignatureScheme.ECDSA_SECP256R1_SHA256, hash, await ks.sign(0, 1n, SignatureScheme.ECDSA_SECP256R1_SHA256, hash)));
  } finally {
    await ks.close();
  }
});

test("a key server that cannot load its keys fails to start with a typed error naming the files", async () => {
  const lines: string[] = [];
  const started = Date.now();
  const e = await startKeyServer({ script, keys: [f.p256, { key: f.p384.key, cert: f.p256.cert }], stderr: "pipe", log: (l) => lines.push(l) }).then(
    async (ks) => {
      await ks.close();
      return null;
    },
    (err: unknown) => err,
  );
  assert.ok(e instanceof KeyServerError, String(e));
  assert.is((e as KeyServerError).code, "START_FAILED");
  assert.ok((e as Error).message.includes(`key ${f.p384.key} does not match certificate ${f.p256.cert}`), (e as Error).message);
  await sleep(100); // the child's stderr and its frame travel on different pipes
  assert.ok(lines.some((l) => l.includes("keyserver: cannot start")), lines.join("\n"));
  assert.ok(Date.now() - started < 5000);
});

test("5 000 mutated and random frames: each answered with exactly one frame, and the process still signs", async () => {
  const raw = new Raw();
  try {
    await raw.until(1);
    assert.is(raw.responses[0].id, SERVER_FRAME_ID);
    const seed = 0xbadf00d;
    const rand = rng(seed);
    const count = 5000;
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const sample: Request = { ...SAMPLES[rand(SAMPLES.length)], id: 1 + rand(1000) } as Request;
      let body = Array.from(encodeRequest(sample).subarray(4));
      // One frame in five is random bytes of a random length (up to 300) rather than a mutation.
      if (rand(5) === 0) body = Array.from({ length: rand(300) }, () => rand(256));
      else for (let k = 1 + rand(3); k > 0; k--) {
        switch (rand(4)) {
          case 0: body[rand(body.length)] ^= 1 << rand(8); break;
          case 1: body.length = rand(body.length + 1); break;
          case 2: body.splice(rand(body.length + 1), 0, rand(256)); break;
          default: if (body.length > 0) body[rand(body.length)] = [0, 1, 32, 48, 0xff][rand(5)];
        }
      }
      // The length prefix is kept right, so every frame can be found: each must get its answer.
      const frame = new Uint8Array(4 + body.length);
      new DataView(frame.buffer).setUint32(0, body.length);
      frame.set(body, 4);
      chunks.push(frame);
    }
    // Written in one go and in odd slices, so frames straddle reads.
    const all = Buffer.concat(chunks);
    for (let at = 0; at < all.length; at += 997) raw.socket.write(all.subarray(at, at + 997));
    await raw.until(1 + count, 15000);
    await sleep(50);
    assert.is(raw.responses.length, 1 + count, "a frame got more than one answer");
    const statuses = new Set(raw.responses.map((r) => r.status));
    assert.ok(statuses.has(Status.MALFORMED) && statuses.has(Status.UNKNOWN_OP), [...statuses].join(","));
    assert.ok(raw.alive());
    await raw.signOnce(0, SignatureScheme.RSA_PSS_RSAE_SHA256, 424242n);
    await raw.signOnce(1, SignatureScheme.ECDSA_SECP256R1_SHA256, 424243n);
  } finally {
    raw.kill();
  }
});

test("corrupt length fields: a huge length closes the stream with a log line and a clean exit (65)", async () => {
  for (const length of [0x0001_0001, 0x7fff_ffff, 0xffff_ffff]) {
    const raw = new Raw([f.p256]);
    try {
      await raw.until(1);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(length);
      // A good request first: it is still answered before the stream closes.
      raw.socket.write(encodeRequest({ op: Op.PING, id: 5, keyId: 0 }));
      raw.socket.write(Buffer.concat([head, randomBytes(64)]));
      const exit = await Promise.race([raw.exited, sleep(5000).then(() => null)]);
      assert.equal(exit, { code: 65, signal: null });
      assert.ok(raw.stderr.join("").includes(`frame length ${length} exceeds the maximum`), raw.stderr.join(""));
      assert.ok(raw.responses.some((r) => r.id === 5 && r.status === Status.OK), "the request before the bad frame was not answered");
    } finally {
      raw.kill();
    }
  }
});

test("random byte streams and truncated frames end cleanly (exit 0 or 65), never a crash or a hang", async () => {
  const rand = rng(0x0ddba11);
  for (let round = 0; round < 6; round++) {
    const raw = new Raw([f.p256]);
    try {
      await raw.until(1);
      if (round % 2 === 0) {
        const junk = new Uint8Array(2000 + rand(4000));
        for (let i = 0; i < junk.length; i++) junk[i] = rand(256);
        // Small lengths are likelier in real corruption: sometimes make the first one plausible.
        if (round === 2) junk.set([0, 0, 0, 12]);
        raw.socket.write(junk);
      } else {
        // A request, a truncated frame, then end-of-stream: the request is answered before the
        // process closes its side, the partial frame is dropped, the process exits 0.
        raw.socket.write(encodeRequest({ op: Op.SIGN_TLS13_CERT_VERIFY, id: 77, keyId: 0, handshakeId: 1n, scheme: SignatureScheme.ECDSA_SECP256R1_SHA256, transcriptHash: new Uint8Array(32) }));
        const frame = encodeRequest(SAMPLES[rand(SAMPLES.length)]);
        raw.socket.write(frame.subarray(0, 1 + rand(frame.length - 1)));
      }
      raw.socket.end();
      const exit = await Promise.race([raw.exited, sleep(5000).then(() => null)]);
      assert.ok(exit !== null, `round ${round}: no exit within 5 s`);
      assert.is(exit!.signal, null, `round ${round}: killed by ${exit!.signal}`);
      assert.ok(exit!.code === 0 || exit!.code === 65, `round ${round}: exit code ${exit!.code}\n${raw.stderr.join("")}`);
      assert.not.ok(raw.stderr.join("").includes("fatal"), raw.stderr.join(""));
      if (round % 2 === 1) assert.ok(raw.responses.some((r) => r.id === 77 && r.status === Status.OK), `round ${round}: last request not answered`);
    } finally {
      raw.kill();
    }
  }
});

test("SIGKILL under load: in-flight requests fail with DIED, the supervisor restarts it, new requests succeed", async () => {
  const lines: string[] = [];
  const ks: KeyServerSupervisor = await startKeyServer({
    script, keys: pairs, stderr: "pipe", log: (l) => lines.push(l), backoff: { initialMs: 50 }, requestTimeoutMs: 5000,
  });
  try {
    const firstPid = ks.pid!;
    const outcomes: Array<"ok" | "died"> = [];
    let handshake = 1n;
    const inFlight = Array.from({ length: 400 }, (_, i) => {
      const keyId = i % 2;
      const scheme = keyId === 0 ? SignatureScheme.RSA_PSS_RSAE_SHA256 : SignatureScheme.ECDSA_SECP256R1_SHA256;
      const hash = randomBytes(32);
      return ks.sign(keyId, handshake++, scheme, hash).then(
        (sig) => {
          assert.ok(verifies(keyId, scheme, hash, sig));
          outcomes.push("ok");
        },
        (e) => {
          assert.ok(e instanceof KeyServerError && e.code === "DIED", `unexpected failure: ${e}`);
          outcomes.push("died");
        },
      );
    });
    // Kill once some answers have come back, with most still in flight.
    while (outcomes.length < 5) await sleep(1);
    process.kill(firstPid, "SIGKILL");
    const restarted = new Promise<number>((resolve) => ks.once("restart", resolve));
    await Promise.all(inFlight);
    const died = outcomes.filter((o) => o === "died").length;
    assert.ok(died > 0 && died < 400, `${died} of 400 died`);
    // A request made while the process is down waits for the restart and succeeds.
    const hash = randomBytes(32);
    const late = ks.sign(2, 1n, SignatureScheme.ECDSA_SECP384R1_SHA384, hash);
    const newPid = await restarted;
    assert.is.not(newPid, firstPid);
    assert.ok(verifies(2, SignatureScheme.ECDSA_SECP384R1_SHA384, hash, await late));
    assert.is(ks.restarts, 1);
    assert.ok(lines.some((l) => l.includes(`key server (pid ${firstPid}) exited (signal SIGKILL); restarting in 50 ms`)), lines.join("\n"));
    // The new process has a fresh handshake window; the same handshake id is a new handshake to it.
    const again = randomBytes(32);
    assert.ok(verifies(0, SignatureScheme.RSA_PSS_RSAE_SHA256, again, await ks.sign(0, 1n, SignatureScheme.RSA_PSS_RSAE_SHA256, again)));
  } finally {
    await ks.close();
  }
});

test("restarts that fail back off exponentially, and recover once the key is back", async () => {
  const key = join(f.dir, "moving-p256.key");
  copyFileSync(f.p256.key, key);
  const lines: string[] = [];
  const ks = await startKeyServer({ script, keys: [{ key, cert: f.p256.cert }], stderr: "pipe", log: (l) => lines.push(l), backoff: { initialMs: 20, maxMs: 160 } });
  try {
    renameSync(key, `${key}.away`);
    process.kill(ks.pid!, "SIGKILL");
    const deadline = Date.now() + 5000;
    while (!lines.some((l) => l.includes("restarting in 160 ms")) && Date.now() < deadline) await sleep(10);
    const delays = lines.map((l) => /restarting in (\d+) ms/.exec(l)?.[1]).filter((d) => d !== undefined).map(Number);
    assert.equal(delays.slice(0, 4), [20, 40, 80, 160], lines.join("\n"));
    assert.ok(lines.some((l) => l.includes("key-server restart failed") && l.includes(`cannot read key file ${key}`)), lines.join("\n"));
    renameSync(`${key}.away`, key);
    const hash = randomBytes(32);
    const signature = await ks.sign(0, 1n, SignatureScheme.ECDSA_SECP256R1_SHA256, hash);
    assert.ok(verifies(1, SignatureScheme.ECDSA_SECP256R1_SHA256, hash, signature));
    assert.is(ks.restarts, 1);
  } finally {
    await ks.close();
  }
});

test("handshake ids from HandshakeIds never repeat and share a per-process prefix", () => {
  const ids = new HandshakeIds();
  const drawn = Array.from({ length: 1000 }, () => ids.next());
  assert.is(new Set(drawn).size, 1000);
  assert.is(new Set(drawn.map((h) => h >> 32n)).size, 1);
  assert.is.not(new HandshakeIds().next() >> 32n, drawn[0] >> 32n);
});

test("a stopped key server times requests out with TIMEOUT; after SIGCONT it answers again", async () => {
  const ks = await startKeyServer({ script, keys: [f.p256], requestTimeoutMs: 300, stderr: "pipe", log: () => {} });
  try {
    process.kill(ks.pid!, "SIGSTOP");
    const t0 = Date.now();
    await ks.sign(0, 1n, SignatureScheme.ECDSA_SECP256R1_SHA256, randomBytes(32)).then(
      () => assert.unreachable("answered while stopped"),
      (e) => assert.is((e as KeyServerError).code, "TIMEOUT"),
    );
    assert.ok(Date.now() - t0 < 1000);
    process.kill(ks.pid!, "SIGCONT");
    const hash = randomBytes(32);
    assert.ok(verifies(1, SignatureScheme.ECDSA_SECP256R1_SHA256, hash, await ks.sign(0, 2n, SignatureScheme.ECDSA_SECP256R1_SHA256, hash)));
  } finally {
    await ks.close();
  }
});

test("close() fails what is in flight with CLOSED and ends the process", async () => {
  const ks = await startKeyServer({ script, keys: [f.rsaPkcs1], stderr: "pipe", log: () => {} });
  const pid = ks.pid!;
  const pending = Array.from({ length: 50 }, (_, i) => ks.sign(0, BigInt(i), SignatureScheme.RSA_PSS_RSAE_SHA256, randomBytes(32)).then(() => "ok", (e) => (e as KeyServerError).code));
  await ks.close();
  const codes = await Promise.all(pending);
  assert.ok(codes.every((c) => c === "ok" || c === "CLOSED"), codes.join(","));
  assert.throws(() => process.kill(pid, 0));
  await ks.sign(0, 99n, SignatureScheme.RSA_PSS_RSAE_SHA256, randomBytes(32)).then(
    () => assert.unreachable("signed after close"),
    (e) => assert.is((e as KeyServerError).code, "CLOSED"),
  );
});

test.after(() => f.cleanup());
test.run();
