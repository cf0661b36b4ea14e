// The Heartbleed lab's blast radius (issue 5, part 5): with the TEST-ONLY lab-heartbleed engine,
// the over-read is real — the attacker gets kilobytes of memory it did not send — yet none of it
// is another connection's secret or a private key's bytes. Needs `node build.mjs --lab`.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { findings, runHeartbleedLab } from "../lab/heartbleed";

const test = suite("isolation: Heartbleed blast radius (lab engine)");

test("the attacker leaks its own sandbox only: no victim secret, no key byte", async () => {
  const t0 = Date.now();
  const r = await runHeartbleedLab({ heartbeats: 4 });
  const f = findings(r);
  assert.ok(r.victimEchoesOk, "the victims' connections worked");
  // The bug is real: each 1-byte heartbeat brought back far more than it sent.
  assert.ok(r.leaked.length >= r.heartbeats * 16000, `leaked ${r.leaked.length} bytes`);
  assert.ok(f.ownPlaintextFound, "the attacker's own plaintext is in the leak (its sandbox's memory)");
  assert.equal(f.victimSecretsFound, [], "no victim secret leaked");
  assert.equal(f.keyValuesFound, [], "no private-key value leaked");
  assert.ok(Date.now() - t0 < 30000);
  console.log(`  leaked ${r.leaked.length} bytes over ${r.heartbeats} heartbeats; own plaintext: yes; victims' secrets: none; key values (${r.keySecrets.length}): none`);
});

test.run();
