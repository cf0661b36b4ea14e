// The Heartbleed lab's blast radius (issue 5, part 5), in the real proxy: the lab program with one
// worker running the TEST-ONLY lab-heartbleed engine, the real key server, a real echo backend.
// The over-read is real — the attacker gets kilobytes of memory it did not send, its own plaintext
// among them — yet none of it is another connection's plaintext or session keys, or a private
// key's bytes, although victims and attacker share the worker process. Needs `node build.mjs --lab`.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { findings, runHeartbleedLab } from "../lab/heartbleed";
import { cleanup, within } from "../proxy/harness";

const test = suite("isolation: Heartbleed blast radius (lab engine, real proxy)");

test.after(() => cleanup()); // anything still running if a step failed half-way

test("the attacker leaks its own sandbox only: no victim secret, no victim session key, no key byte", async () => {
  const t0 = Date.now();
  const r = await within(30000, "the Heartbleed lab", runHeartbleedLab({ heartbeats: 4 }));
  const f = findings(r);
  assert.ok(r.victimEchoesOk, "the victims' connections worked");
  assert.is(r.processes.workers.length, 1, `one worker: ${r.processes.workers}`);
  assert.ok(r.sameWorker, `victims and attacker on the one worker:\n${r.connectionLines.join("\n")}`);
  assert.is(r.connectionLines.length, 3, r.connectionLines.join("\n"));
  assert.ok(r.processes.keyserver !== r.processes.workers[0] && r.processes.keyserver !== r.processes.supervisor);
  // The bug is real: each 1-byte heartbeat brought back far more than it sent.
  assert.ok(r.leaked.length >= r.heartbeats * 16000, `leaked ${r.leaked.length} bytes`);
  assert.ok(f.ownPlaintextFound, "the attacker's own plaintext is in the leak (its sandbox's memory)");
  assert.equal(f.victimSecretsFound, [], "no victim secret leaked");
  assert.ok(r.victimSessionKeys.length >= 2 * 13, `the victims' keylog gave ${r.victimSessionKeys.length} values`);
  assert.equal(f.victimSessionKeysFound, [], "no victim session secret, key or IV leaked");
  assert.is(r.keySecrets.length, 6, "RSA d, p, q, dp, dq, qi from the key file");
  assert.equal(f.keyValuesFound, [], "no private-key value leaked");
  assert.ok(Date.now() - t0 < 30000, `${Date.now() - t0} ms`);
  // Positive control: the same search over a leak with one victim secret, one session value and one
  // key value planted in the middle of real leaked bytes finds exactly those (so "none" above is a
  // result, not a blind search).
  const [secret, session, key] = [r.victimSecrets[1], r.victimSessionKeys[r.victimSessionKeys.length - 1], r.keySecrets[2]];
  const mid = r.leaked.length >> 1;
  const planted = Buffer.concat([r.leaked.subarray(0, mid), Buffer.from(secret), session.bytes, key.bytes.subarray(5, 5 + 16), r.leaked.subarray(mid)]);
  const control = findings({ ...r, leaked: planted });
  assert.equal(control.victimSecretsFound, [secret]);
  assert.equal(control.victimSessionKeysFound, [session.name]);
  assert.equal(control.keyValuesFound, [key.name]);
  console.log(`  leaked ${r.leaked.length} bytes over ${r.heartbeats} heartbeats on worker ${r.processes.workers[0]} (key server ${r.processes.keyserver}); own plaintext: yes; `
    + `own session keys: ${f.attackerSessionKeysFound.length}/${r.attackerSessionKeys.length}; victims' secrets: none; victims' session keys (${r.victimSessionKeys.length}): none; key values (${r.keySecrets.length}): none; ${r.ms} ms`);
});

test.run();
