// Replays every saved fuzz input — the seed captures, each target's distilled corpus and every
// minimised crasher — against the release and checked engines (the keyserver target's once: it runs
// no engine), and asserts none fails (no trap, no host exception, memory within the cap, protocol
// invariants kept; for the key server: every request answered as the protocol model says, the
// server still signing afterwards). A crasher stays here after the fix as a regression test, like
// s2n-tls's committed corpora.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ENGINE_MODULES } from "../../src/sandbox/modules";
import { VARIANTS } from "../helpers/tls";
import { Op } from "./format";
import { EngineDriver, policyStep } from "./harness";
import { capturedSeeds, ENGINE_TARGETS, makeTarget, savedInputs, TARGET_NAMES, type Target, type TargetName } from "./targets";

const test = suite("fuzz replay");

async function replayAll(target: Target, name: TargetName): Promise<void> {
  for (const { file, input } of [...savedInputs("crashers", name), ...savedInputs("corpus", name)]) {
    const r = await target.run(input);
    assert.is(r.failure, null, `${file}: ${r.failure?.kind}: ${r.failure?.message}`);
  }
}

for (const variant of VARIANTS) {
  test(`${variant}: the captured ClientHellos each get a ServerHello, under TLS 1.3+1.2 and TLS 1.2-only policies`, async () => {
    const driver = await EngineDriver.create(ENGINE_MODULES[variant]);
    const seeds = capturedSeeds();
    assert.ok(seeds.length > 0, "no captures under test/fuzz/corpus/seeds");
    for (const seed of seeds) {
      for (const input of [seed, [policyStep(4), ...seed]]) {
        const r = driver.run(input);
        assert.is(r.failure, null, r.failure?.message);
      }
    }
    // The harness itself: the RFC 8448 flight and the TLS 1.2 handshakes (made by makeTarget) complete.
    const target = await makeTarget("posthandshake", driver);
    const done = await target.run([{ op: Op.SEALED, data: new Uint8Array([23, 1]) }]);
    assert.is(done.failure, null);
    assert.ok(done.handshakeDone, "the replayed RFC handshake completes");
    const t12 = await makeTarget("posthandshake12", driver);
    for (let k = 0; k < 4; k++) {
      const r = await t12.run([{ op: Op.HOST, data: new Uint8Array([0, 0, 0, k]) }, { op: Op.SEALED, data: new Uint8Array([23, 1]) }]);
      assert.is(r.failure, null, r.failure?.message);
      assert.ok(r.handshakeDone, `TLS 1.2 handshake ${k} completes`);
    }
  });

  for (const name of ENGINE_TARGETS) {
    test(`${variant}: ${name} corpus and crashers replay without failure`, async () => {
      const driver = await EngineDriver.create(ENGINE_MODULES[variant]);
      await replayAll(await makeTarget(name, driver), name);
    });
  }
}

for (const name of TARGET_NAMES.filter((n) => !ENGINE_TARGETS.includes(n))) {
  test(`${name} corpus and crashers replay without failure`, async () => {
    const target = await makeTarget(name, null, { coverage: false });
    try {
      for (const seed of target.seeds().slice(0, 8)) {
        const r = await target.run(seed);
        assert.is(r.failure, null, `seed: ${r.failure?.message}`);
      }
      await replayAll(target, name);
    } finally {
      target.close?.();
    }
  });
}

test.run();
