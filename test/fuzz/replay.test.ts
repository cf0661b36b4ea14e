// Replays every saved fuzz input — the seed captures, each target's distilled corpus and every
// minimised crasher — against the release and checked engines, and asserts none fails (no trap, no
// host exception, memory within the cap, protocol invariants kept). A crasher stays here after the
// fix as a regression test, like s2n-tls's committed corpora.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ENGINE_MODULES } from "../../src/sandbox/modules";
import { VARIANTS } from "../helpers/tls";
import { Op } from "./format";
import { EngineDriver } from "./harness";
import { capturedSeeds, makeTarget, savedInputs, TARGET_NAMES } from "./targets";

const test = suite("fuzz replay");

for (const variant of VARIANTS) {
  test(`${variant}: the captured ClientHellos each get a ServerHello`, async () => {
    const driver = await EngineDriver.create(ENGINE_MODULES[variant]);
    const seeds = capturedSeeds();
    assert.ok(seeds.length > 0, "no captures under test/fuzz/corpus/seeds");
    for (const seed of seeds) {
      const r = driver.run(seed);
      assert.is(r.failure, null, r.failure?.message);
    }
    // The harness itself: the RFC 8448 flight completes a handshake.
    const target = makeTarget("posthandshake", driver);
    const done = target.run([{ op: Op.SEALED, data: new Uint8Array([23, 1]) }]);
    assert.is(done.failure, null);
    assert.ok(done.handshakeDone, "the replayed RFC handshake completes");
  });

  for (const name of TARGET_NAMES) {
    test(`${variant}: ${name} corpus and crashers replay without failure`, async () => {
      const driver = await EngineDriver.create(ENGINE_MODULES[variant]);
      const target = makeTarget(name, driver);
      for (const { file, input } of [...savedInputs("crashers", name), ...savedInputs("corpus", name)]) {
        const r = target.run(input);
        assert.is(r.failure, null, `${file}: ${r.failure?.kind}: ${r.failure?.message}`);
      }
    });
  }
}

test.run();
