// `npm run lab:heartbleed`: the Heartbleed lab (test/lab/heartbleed.ts) as a demonstration —
// builds nothing itself (the npm script builds the lab variant first), runs the attack, prints
// what leaked and checks what did not.
import { findings, hexdump, runHeartbleedLab } from "./heartbleed";

const r = await runHeartbleedLab({ heartbeats: 4 });
const f = findings(r);
console.log("tlsbox Heartbleed lab — engine variant lab-heartbleed (RFC 6520 heartbeat, payload_length unchecked)");
console.log(`two victims connected and sent: ${r.victimSecrets.map((s) => JSON.stringify(s)).join(", ")} (echoed back: ${r.victimEchoesOk})`);
console.log(`attacker: ${r.heartbeats} heartbeats, payload_length 16384, 1-byte payload each`);
console.log(`leaked: ${r.leaked.length} bytes (${r.leaked.length / r.heartbeats} per heartbeat) — first 256 bytes of the first response:`);
console.log(hexdump(r.leaked, 256));
const own = r.leaked.toString("latin1").indexOf(r.attackerPlaintext.slice(0, 40));
if (own >= 0) {
  console.log(`…the attacker's own plaintext, at offset ${own} of the leak:`);
  console.log(hexdump(r.leaked, 64, own - (own % 16)));
}
console.log("");
console.log(`the bug is real (bytes beyond the 1-byte payload came back): ${r.leaked.length > 0 ? "YES" : "NO"}`);
console.log(`the attacker's own plaintext is in the leak (its own sandbox's memory): ${f.ownPlaintextFound ? "yes" : "no"}`);
console.log(`victims' secrets in the leak: ${f.victimSecretsFound.length === 0 ? "NONE" : f.victimSecretsFound.join(", ")}`);
console.log(`private-key secret values in the leak (${r.keySecrets.map((k) => k.name).join(", ")}): ${f.keyValuesFound.length === 0 ? "NONE" : f.keyValuesFound.join(", ")}`);
const contained = r.leaked.length > 0 && f.victimSecretsFound.length === 0 && f.keyValuesFound.length === 0;
console.log(contained ? "=> blast radius: one connection's own sandbox. Contained." : "=> NOT CONTAINED");
process.exitCode = contained ? 0 : 1;
