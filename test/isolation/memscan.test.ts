// The memory scanner itself: matches across read boundaries are found and counted once, chunk size
// does not change the answer, and the patterns derived from a key are the values that make it up.
// Keys here are throwaway ones made by this file (never the isolation test's key).
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { MIN_PATTERN_BYTES, readMaps, scanProcess, secretPatterns } from "./memscan";

const test = suite("memscan");

/**
 * A child holding `copies` copies of `pattern`, each placed to straddle a 4 KiB page boundary of a
 * page-aligned buffer, so with 4 KiB reads every copy lies across two reads. Resolves once it is
 * in place. Its other copies: the one decoded from argv (and any V8 keeps of the argv text are hex).
 */
async function holder(pattern: Buffer, copies: number): Promise<ChildProcess> {
  const script = `
    const p = Buffer.from(process.argv[1], "hex");
    // An ArrayBuffer this large is page-aligned by the allocator (mmap), so k*4096 are page starts.
    const b = new Uint8Array(new ArrayBuffer(${(copies + 2) * 4096}));
    for (let k = 1; k <= ${copies}; k++) b.set(p, k * 4096 - Math.floor(p.length / 2));
    globalThis.keep = [p, b];
    process.stdout.write("ready\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", script, pattern.toString("hex")], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

test("matches straddling reads are found once each, whatever the chunk size", async () => {
  const pattern = randomBytes(200);
  const absent = randomBytes(64);
  const child = await holder(pattern, 64);
  try {
    const patterns = [
      { name: "held", bytes: pattern },
      { name: "absent", bytes: absent },
    ];
    const small = scanProcess(child.pid!, patterns, { chunkBytes: 4096 });
    const large = scanProcess(child.pid!, patterns, { chunkBytes: 8 * 1024 * 1024 });
    // 64 straddling copies plus the one decoded from argv (V8 may keep a second during start-up).
    assert.ok(small.counts.held >= 65 && small.counts.held <= 67, `held ×${small.counts.held}`);
    assert.is(large.counts.held, small.counts.held, "chunk size changed the count");
    assert.is(small.counts.absent, 0);
    assert.not.ok(small.truncated);
    assert.ok(small.bytesScanned > 16 * 2 ** 20, `${small.bytesScanned} bytes`);
    // Every hit is at a distinct place inside a readable mapping.
    const places = new Set(small.hits.map((h) => `${h.region}+${h.offset}`));
    assert.is(places.size, small.hits.length);
    assert.is(small.hits.length, Math.min(16, small.counts.held));
  } finally {
    await stop(child);
  }
});

test("limits stop the scan and say so", async () => {
  const child = await holder(randomBytes(32), 1);
  try {
    const r = scanProcess(child.pid!, [{ name: "x", bytes: randomBytes(32) }], { maxBytes: 1024 * 1024, chunkBytes: 65536 });
    assert.ok(r.truncated);
    assert.ok(r.bytesScanned <= 1024 * 1024 + 65536, String(r.bytesScanned));
  } finally {
    await stop(child);
  }
});

test("maps are parsed, [vsyscall] included, and unreadable or special regions are skipped", () => {
  const maps = readMaps(process.pid);
  assert.ok(maps.length > 10);
  assert.ok(maps.some((r) => r.path === "[heap]" || r.path === "[stack]"));
  // [vsyscall] lies above 2^53, where a Number cannot hold the address: it reads as Infinity.
  for (const r of maps) assert.ok(r.path === "[vsyscall]" ? r.start === Infinity : r.end > r.start, `${r.start}-${r.end} ${r.path}`);
  const r = scanProcess(process.pid, [{ name: "x", bytes: randomBytes(32) }], { maxBytes: 1 });
  assert.ok(r.skippedRegions >= maps.filter((m) => m.perms[0] !== "r").length);
});

test("a process that is gone cannot be scanned, and a short pattern is refused", async () => {
  const child = await holder(randomBytes(32), 1);
  const pid = child.pid!;
  await stop(child);
  assert.throws(() => scanProcess(pid, [{ name: "x", bytes: randomBytes(32) }]), /ENOENT|ESRCH/);
  assert.throws(() => scanProcess(process.pid, [{ name: "short", bytes: randomBytes(MIN_PATTERN_BYTES - 1) }]), /need 16/);
});

test("RSA patterns: the CRT values in both byte orders, their base64url, the DER and PEM forms", () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const patterns = secretPatterns(pem);
  const byName = new Map(patterns.map((p) => [p.name, p.bytes]));
  const jwk = privateKey.export({ format: "jwk" });
  for (const field of ["d", "p", "q", "dp", "dq", "qi"] as const) {
    const be = Buffer.from(jwk[field]!, "base64url");
    // qInv (or any value) may be a byte or so short; it is still far above the minimum.
    assert.equal(byName.get(`rsa.${field}`), be, field);
    assert.equal(byName.get(`rsa.${field}.le`), Buffer.from(be).reverse(), `${field}.le`);
    assert.equal(byName.get(`rsa.${field}.b64u`), Buffer.from(jwk[field]!), `${field}.b64u`);
  }
  assert.ok(byName.get("rsa.p")!.length >= 127 && byName.get("rsa.q")!.length >= 127);
  const pkcs1 = byName.get("der.pkcs1")!;
  assert.equal(pkcs1, privateKey.export({ type: "pkcs1", format: "der" }));
  assert.ok(pkcs1.indexOf(byName.get("rsa.p")!) > 0, "the DER holds p big-endian");
  assert.ok(byName.get("der.pkcs8")!.indexOf(pkcs1) > 0, "PKCS#8 wraps PKCS#1");
  // PEM lines: two per form, whole lines of the text, and none of the first five, which encode
  // only the public modulus (PKCS#1 DER bytes 12…267) that certificates carry too.
  const fileLines = patterns.filter((p) => p.name.startsWith("pem.file.line"));
  assert.is(fileLines.length, 2);
  for (const { name, bytes } of fileLines) {
    assert.is(bytes.length, 64);
    assert.ok(pem.includes(`\n${bytes.toString("latin1")}\n`), name);
    assert.ok(Number(name.slice("pem.file.line".length)) >= 6, name);
  }
  // The file was PKCS#1 PEM: the traditional export's lines are the same ones, so merged.
  assert.not.ok(patterns.some((p) => p.name.startsWith("pem.pkcs1.")));
  assert.is(patterns.filter((p) => p.name.startsWith("pem.pkcs8.")).length, 2);
  for (const p of patterns) assert.ok(p.bytes.length >= MIN_PATTERN_BYTES, p.name);
  assert.ok(patterns.length >= 24, String(patterns.length));
});

test("EC patterns: the scalar both ways, SEC1 and PKCS#8 DER, PEM lines", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const byName = new Map(secretPatterns(pem).map((p) => [p.name, p.bytes]));
  const d = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  // A scalar with a leading zero byte (1 in 256) is stored minimal: 31 bytes.
  assert.equal(byName.get("ec.d"), d.subarray(d[0] === 0 ? 1 : 0));
  assert.equal(byName.get("ec.d.le"), Buffer.from(byName.get("ec.d")!).reverse());
  assert.ok(byName.get("der.sec1")!.indexOf(byName.get("ec.d")!) > 0);
  assert.ok(byName.has("der.pkcs8"));
  // A P-256 PKCS#8 PEM has 2 full lines (and a short third); d is DER bytes 36…67, so only line
  // 2 holds 16 bytes of it or more.
  assert.equal([...byName.keys()].filter((n) => n.startsWith("pem.file.")), ["pem.file.line2"]);
  // The SEC1 form puts d in its first line.
  assert.ok(byName.has("pem.sec1.line1"));
  assert.throws(() => secretPatterns(generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" })), /ed25519/);
});

test.run();
