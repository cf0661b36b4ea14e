// DESIGN.md invariant 4 (bounded sandbox), at the session level, with the release engine: input
// built to make the engine hold or do ever more — a ClientHello declaring a 16 MB handshake
// message, an endless stream of 1-byte handshake fragments, 10,000 KeyUpdates after the
// handshake — is each cut off with a named alert, and the instance's linear memory stays under
// its cap (build.mjs: the engine's maximumPages) the whole time.
import { connect as netConnect } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Sandbox } from "../../src/sandbox/loader";
import { ALERT_NAMES } from "../../src/tls/session";
import { choiceFor, engineFactory, makeCert, startEchoServer, type TestCert } from "../helpers/tls";
import { connected, expandLabel, sealRecord, trafficKeys } from "../helpers/tls_rfc8448";
import { pages, recording } from "./recording";

const test = suite("isolation: bounded sandbox (release engine)");

/** build.mjs MODULES: the engine's linear memory is capped at 16 pages of 64 KiB. */
const ENGINE_MAX_PAGES = 16;

let cert: TestCert;
test.before(() => {
  cert = makeCert("p256");
});

interface Cut {
  /** The alert description the server sent (plaintext alert record), or null. */
  alert: number | null;
  /** Bytes the client managed to write before the server closed. */
  written: number;
  /** Most pages the instance had while the attack ran. */
  maxPages: number;
  sandbox: Sandbox;
}

/**
 * Opens a raw TCP connection to an echo harness over a recording release factory, writes `first`,
 * then `more()` chunks as long as the server keeps the connection open (up to `limit` bytes),
 * sampling the instance's memory after every write.
 */
async function attack(first: Buffer, more: () => Buffer, limit: number): Promise<Cut> {
  const rec = recording(await engineFactory("release"));
  const harness = await startEchoServer(rec.factory, {}, () => choiceFor(cert));
  try {
    return await new Promise<Cut>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("server never cut the connection")), 15000);
      const socket = netConnect(harness.port, "127.0.0.1");
      const got: Buffer[] = [];
      let written = 0;
      let maxPages = 0;
      let closed = false;
      const sample = (): void => {
        for (const s of rec.sandboxes) maxPages = Math.max(maxPages, pages(s));
      };
      const pumpMore = (): void => {
        while (!closed && written < limit) {
          sample();
          const chunk = more();
          written += chunk.length;
          if (!socket.write(chunk)) {
            socket.once("drain", () => setImmediate(pumpMore));
            return;
          }
          // Let the server read between writes.
          setImmediate(pumpMore);
          return;
        }
      };
      socket.on("connect", () => {
        socket.write(first);
        written += first.length;
        pumpMore();
      });
      socket.on("data", (d: Buffer) => got.push(d));
      socket.on("error", () => {});
      socket.on("close", () => {
        closed = true;
        clearTimeout(timer);
        sample();
        const all = Buffer.concat(got);
        // The server's answer before any key: a plaintext alert record 21 03 03 00 02 level desc.
        const at = all.indexOf(Buffer.from([21, 3, 3, 0, 2]));
        resolve({ alert: at >= 0 ? all[at + 6] : null, written, maxPages, sandbox: rec.sandboxes[0] });
      });
    });
  } finally {
    await harness.close();
  }
}

test("a ClientHello declaring a 16 MB handshake message is refused at once", async () => {
  // Handshake header: client_hello, length 0xFFFFFF; then body bytes that never add up.
  const first = Buffer.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]);
  const filler = Buffer.concat([Buffer.from([22, 3, 1, 0x40, 0]), Buffer.alloc(0x4000, 0x41)]);
  const cut = await attack(first, () => filler, 16 << 20);
  assert.ok(cut.alert !== null, "an alert was sent");
  assert.is(ALERT_NAMES[cut.alert!], "illegal_parameter");
  assert.ok(cut.maxPages <= ENGINE_MAX_PAGES, `${cut.maxPages} pages`);
  console.log(`  16 MB ClientHello: alert ${ALERT_NAMES[cut.alert!]} (${cut.alert}); client wrote ${cut.written} bytes before the close; memory ${cut.maxPages} pages (cap ${ENGINE_MAX_PAGES})`);
});

test("endless 1-byte handshake fragments are cut off", async () => {
  // client_hello declaring 16,384 bytes, every byte in its own record, then more forever.
  const oneByte = (b: number): Buffer => Buffer.from([22, 3, 1, 0, 1, b]);
  const first = Buffer.concat([1, 0, 0x40, 0].map(oneByte));
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => oneByte(0)));
  const cut = await attack(first, () => batch, 6 * 1_000_000);
  assert.ok(cut.alert !== null, "an alert was sent");
  const name = ALERT_NAMES[cut.alert!];
  assert.ok(name === "decode_error" || name === "illegal_parameter" || name === "protocol_version" || name === "unexpected_message", name);
  assert.ok(cut.maxPages <= ENGINE_MAX_PAGES, `${cut.maxPages} pages`);
  console.log(`  1-byte fragments: alert ${name} (${cut.alert}); client wrote ${cut.written} bytes (${Math.floor(cut.written / 6)} records) before the close; memory ${cut.maxPages} pages (cap ${ENGINE_MAX_PAGES})`);
});

test("10,000 KeyUpdates after the handshake are cut off", async () => {
  const c = await connected("release");
  const sandbox = (c.session as unknown as { sandbox: Sandbox }).sandbox;
  let secret = c.clientApSecret;
  let keys = c.clientAp;
  let accepted = 0;
  let maxPages = pages(sandbox);
  // KeyUpdate, update_not_requested (RFC 8446 §4.6.3), each under the next client key.
  const keyUpdate = Buffer.from([24, 0, 0, 1, 0]);
  for (let i = 0; i < 10000; i++) {
    c.session.receive(sealRecord(keys, 0, 22, keyUpdate));
    maxPages = Math.max(maxPages, pages(sandbox));
    if (c.session.status.failed) break;
    accepted++;
    secret = expandLabel(secret, "traffic upd", new Uint8Array(0), 32);
    keys = trafficKeys(secret);
  }
  const st = c.session.status;
  assert.ok(st.failed, "the session failed");
  assert.ok(st.alertSent !== null);
  const name = ALERT_NAMES[st.alertSent!];
  assert.is(name, "unexpected_message");
  assert.is(c.session.error?.code, "PROTOCOL");
  assert.ok(maxPages <= ENGINE_MAX_PAGES, `${maxPages} pages`);
  console.log(`  KeyUpdate flood: ${accepted} accepted, then alert ${name} (${st.alertSent}), ${c.session.error?.message}; memory ${maxPages} pages (cap ${ENGINE_MAX_PAGES})`);
  c.session.dispose();
});

test.run();
