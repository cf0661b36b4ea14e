// Rough numbers for the engine (release variant): full handshakes per second (RFC 8448 replay:
// X25519 in the sandbox, RSA-PSS signing and verification by node:crypto on the host, the
// client side by node:crypto in the test) and bulk record throughput per direction.
import { randomBytes } from "node:crypto";
import { connected, sealRecord } from "../helpers/tls_rfc8448";

const N = 200;
let t0 = performance.now();
for (let i = 0; i < N; i++) await connected("release");
let ms = performance.now() - t0;
console.log(`handshakes: ${N} in ${ms.toFixed(0)} ms = ${((N * 1000) / ms).toFixed(0)}/s (host signing and test-side crypto included)`);

const c = await connected("release");
const chunk = randomBytes(16384);
const records = Array.from({ length: 256 }, (_, i) => sealRecord(c.clientAp, i, 23, chunk));
t0 = performance.now();
for (const r of records) {
  c.session.receive(r);
  c.session.read();
}
ms = performance.now() - t0;
console.log(`open (client → backend): ${((256 * 16384) / 1048576 / (ms / 1000)).toFixed(1)} MiB/s, AES-128-GCM, 16 KiB records`);
t0 = performance.now();
for (let i = 0; i < 256; i++) {
  c.session.write(chunk);
  c.session.takeOutgoing();
}
ms = performance.now() - t0;
console.log(`seal (backend → client): ${((256 * 16384) / 1048576 / (ms / 1000)).toFixed(1)} MiB/s, AES-128-GCM, 16 KiB records`);
