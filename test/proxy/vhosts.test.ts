// Routing and log formatting, as units: first match wins, SNI case-insensitive, "" for no SNI,
// local address (IPv4-mapped IPv6 included) and port.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { VhostMatch } from "../../src/config";
import { formatFields } from "../../src/proxy/log";
import { normalizeAddress, VhostTable, type Vhost } from "../../src/proxy/vhosts";

const test = suite("proxy vhost routing");

function vhost(index: number, match: Partial<VhostMatch>): Vhost {
  const full: VhostMatch = { localAddress: null, localPort: null, sniName: null, ...match };
  // Only the match is consulted by routing; the rest is not needed here.
  return { spec: { index, match: full } } as unknown as Vhost;
}

function table(vhosts: Vhost[]): VhostTable {
  const t = Object.create(VhostTable.prototype) as VhostTable;
  Object.defineProperty(t, "vhosts", { value: vhosts });
  return t;
}

const pick = (t: VhostTable, address: string, port: number, sni: string | null) =>
  VhostTable.select(t.candidates(address, port), sni)?.spec.index ?? null;

test("first match wins; SNI compares case-insensitively; \"\" matches only a client without SNI", () => {
  const t = table([
    vhost(0, { sniName: "a.test" }),
    vhost(1, { sniName: "" }),
    vhost(2, { sniName: "b.test", localPort: 443 }),
    vhost(3, {}),
  ]);
  assert.is(pick(t, "127.0.0.1", 443, "a.test"), 0);
  assert.is(pick(t, "127.0.0.1", 443, "A.TeSt"), 0);
  assert.is(pick(t, "127.0.0.1", 443, null), 1);
  assert.is(pick(t, "127.0.0.1", 443, "b.test"), 2);
  assert.is(pick(t, "127.0.0.1", 8443, "b.test"), 3);
  assert.is(pick(t, "127.0.0.1", 8443, "other.test"), 3);
});

test("no match: null (the engine then sends unrecognized_name)", () => {
  const t = table([vhost(0, { sniName: "a.test" }), vhost(1, { sniName: "" })]);
  assert.is(pick(t, "127.0.0.1", 443, "c.test"), null);
  assert.is(pick(t, "127.0.0.1", 443, "a.test."), null);
});

test("local address: exact, IPv4-mapped IPv6 compared as IPv4, IPv6 case-insensitive", () => {
  const t = table([
    vhost(0, { localAddress: "127.0.0.2" }),
    vhost(1, { localAddress: "::1" }),
    vhost(2, { localAddress: "127.0.0.1", localPort: 8443 }),
  ]);
  assert.is(pick(t, "127.0.0.2", 1, null), 0);
  assert.is(pick(t, "::ffff:127.0.0.2", 1, null), 0);
  assert.is(pick(t, "::1", 1, null), 1);
  assert.is(pick(t, "127.0.0.1", 8443, null), 2);
  assert.is(pick(t, "127.0.0.1", 443, null), null);
  assert.is(normalizeAddress("::FFFF:10.0.0.1"), "10.0.0.1");
  assert.is(normalizeAddress("FE80::1"), "fe80::1");
  assert.is(normalizeAddress(undefined), "");
});

test("log fields: quoted when they contain spaces, quotes or '='; null as '-'; no control character gets through", () => {
  assert.is(formatFields({ a: 1, b: "x y", c: null, d: undefined, e: "k=v", f: "" }), 'a=1 b="x y" c=- e="k=v" f=""');
  assert.is(formatFields({ sni: 'evil\n"x\x1b[31m\x9b' }), 'sni="evil\\x0a\\"x\\x1b[31m\\x9b"');
  assert.is(formatFields({ s: "a\\b" }), 's="a\\\\b"');
});

test.run();
