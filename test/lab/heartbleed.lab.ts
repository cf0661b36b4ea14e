// `npm run lab:heartbleed`: the Heartbleed lab (test/lab/heartbleed.ts) as a demonstration —
// builds nothing itself (the npm script builds the lab program and engine first), starts the real
// proxy with the vulnerable engine, runs the attack, prints what leaked and checks what did not.
import { findings, hexdump, runHeartbleedLab } from "./heartbleed";

const r = await runHeartbleedLab({ heartbeats: 4 });
const f = findings(r);
const none = (found: string[]): string => (found.length === 0 ? "NONE" : found.join(", "));
console.log("tlsbox Heartbleed lab — the real proxy, engine variant lab-heartbleed (RFC 6520 heartbeat, payload_length unchecked)");
console.log(`processes: supervisor pid ${r.processes.supervisor}, worker pid ${r.processes.workers.join(", ")} (the only one: victims and attacker share it), key server pid ${r.processes.keyserver}`);
console.log(`two victims connected (${r.victimSuites.join(", ")}) and sent: ${r.victimSecrets.map((s) => JSON.stringify(s)).join(", ")} (echoed back: ${r.victimEchoesOk}); still connected during the attack`);
console.log(`attacker: own TLS 1.3 client (X25519, TLS_AES_128_GCM_SHA256), ${r.heartbeats} heartbeats, payload_length 16384, 1-byte payload each`);
console.log(`leaked: ${r.leaked.length} bytes (${Math.round(r.leaked.length / r.heartbeats)} per heartbeat) — first 256 bytes:`);
console.log(hexdump(r.leaked, 256));
const own = r.leaked.toString("latin1").indexOf(r.attackerPlaintext.slice(0, 40));
if (own >= 0) {
  console.log(`…the attacker's own plaintext, at offset ${own} of the leak:`);
  console.log(hexdump(r.leaked, 64, own - (own % 16)));
}
console.log("");
console.log(`the bug is real (bytes beyond the 1-byte payload came back): ${r.leaked.length > 0 ? "YES" : "NO"}`);
console.log(`the attacker's own plaintext is in the leak (its own sandbox's memory): ${f.ownPlaintextFound ? "yes" : "no"}`);
console.log(`the attacker's own session keys in the leak (its own sandbox; informational): ${f.attackerSessionKeysFound.length} of ${r.attackerSessionKeys.length}${f.attackerSessionKeysFound.length > 0 ? ` (${f.attackerSessionKeysFound.join(", ")})` : ""}`);
console.log(`victims' secrets in the leak: ${none(f.victimSecretsFound)}`);
console.log(`victims' session keys in the leak (${r.victimSessionKeys.length} values: handshake/traffic/exporter secrets from Node's keylog, record keys and IVs): ${none(f.victimSessionKeysFound)}`);
console.log(`private-key secret values in the leak (${r.keySecrets.map((k) => k.name).join(", ")}; any 16-byte window): ${none(f.keyValuesFound)}`);
console.log(`connections, all on worker ${r.processes.workers.join(", ")}: ${r.sameWorker ? "yes" : "NO"}`);
for (const l of r.connectionLines) console.log(`  ${l}`);
const contained = r.leaked.length > 0 && f.ownPlaintextFound && f.victimSecretsFound.length === 0 && f.victimSessionKeysFound.length === 0 && f.keyValuesFound.length === 0;
console.log(contained ? `=> blast radius: one connection's own sandbox. Contained. (${r.ms} ms)` : "=> NOT CONTAINED (or the bug did not fire)");
process.exitCode = contained ? 0 : 1;
