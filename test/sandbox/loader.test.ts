import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SandboxError, SandboxFactory, SparePool, type WasiProvider } from "../../src/sandbox/loader";
import { ENGINE_MODULES } from "../../src/sandbox/modules";

const test = suite("sandbox loader");

for (const wasi of ["minimal", "wasmer"] as WasiProvider[]) {
  test(`${wasi} WASI: each instance has its own memory and working randomness`, async () => {
    const factory = await SandboxFactory.create(ENGINE_MODULES.release, { wasi });
    const a = factory.instantiate();
    const b = factory.instantiate();
    assert.is.not(a.bytes().buffer, b.bytes().buffer);
    a.bytes()[100] = 0xab;
    assert.is(b.bytes()[100], 0);
    const draws = new Set<number>();
    for (let i = 0; i < 8; i++) draws.add((a.exports.tlsbox_random_u32 as () => number)());
    assert.ok(draws.size >= 7, `8 random draws gave only ${draws.size} distinct values`);
    a.dispose();
    b.dispose();
  });
}

test("regions named by the sandbox are bounds-checked", async () => {
  const sandbox = (await SandboxFactory.create(ENGINE_MODULES.checked)).instantiate();
  const size = sandbox.bytes().byteLength;
  assert.is(sandbox.region(size - 4, 4).length, 4);
  for (const [ptr, len] of [[size - 3, 4], [-1, 1], [0, -1], [0.5, 1], [2 ** 32, 1]]) {
    assert.throws(() => sandbox.region(ptr, len), (e: unknown) => e instanceof SandboxError && e.code === "OUT_OF_BOUNDS");
  }
});

test("the spare pool hands out distinct, never-used instances and refills itself", async () => {
  const factory = await SandboxFactory.create(ENGINE_MODULES.release);
  const pool = new SparePool(factory, 4);
  pool.fill();
  assert.is(pool.size, 4);
  const taken = [pool.take(), pool.take(), pool.take(), pool.take(), pool.take()];
  assert.is(new Set(taken.map((s) => s.instance)).size, 5);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(pool.size, 4);
  pool.drain();
  assert.is(pool.size, 0);
});

test("a replacement random source feeds random_get (replayed handshakes)", async () => {
  let counter = 0;
  const factory = await SandboxFactory.create(ENGINE_MODULES.release, {
    random: (into) => { for (let i = 0; i < into.length; i++) into[i] = counter++; },
  });
  const draw = factory.instantiate().exports.tlsbox_random_u32 as () => number;
  assert.is(draw(), 0x03020100);
  assert.is(draw(), 0x07060504);
});

test.run();
