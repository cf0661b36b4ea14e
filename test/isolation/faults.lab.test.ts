// DESIGN.md invariant 5 (faults are contained), at the session level, with the TEST-ONLY lab
// engines (`node build.mjs --lab`): four connections move 1 MiB each, byte-exact, through the TCP
// echo harness while a fifth makes its own sandbox fail —
//   trap: "TRAP!!!!" executes `unreachable`: only that session ends (SANDBOX_FAULT);
//   spin: "SPIN!!!!" loops forever: the fuel budget the session sets before every call stops it
//         (RUNAWAY) within milliseconds, so the event loop every other connection needs is free.
// Each scenario is bounded in time; without its protection it fails (see the report in the PR:
// no fuel → the spin test never finishes; an uncaught trap → the harness process dies).
import { randomBytes } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { choiceFor, makeCert, startEchoServer, type Harness, type TestCert } from "../helpers/tls";
import type { SandboxFactory } from "../../src/sandbox/loader";
import { DEFAULT_FUEL_PER_CALL } from "../../src/tls/session";
import { within } from "../proxy/harness";
import { echo, labFactory, poison } from "./lab";

const test = suite("isolation: faults contained (lab engines)");

let cert: TestCert;
test.before(() => {
  cert = makeCert("p256");
});

const MiB = 1 << 20;

/** The harness's connections: any certificate (the test's own), TLS 1.3. */
const at = (port: number) => ({ port, rejectUnauthorized: false });

async function scenario(kind: "trap" | "spin", trigger: string, expectCode: string): Promise<void> {
  const harness: Harness = await startEchoServer(await labFactory(kind), {}, () => choiceFor(cert));
  const started = Date.now();
  try {
    const payloads = [0, 1, 2, 3].map(() => randomBytes(MiB));
    const victims = payloads.map((p) => echo(at(harness.port), p));
    // The poisoned connection fires while the four transfers are under way.
    const attacker = poison(at(harness.port), trigger, 30);
    const [echoes, cut] = await within(20000, `${kind} scenario`, Promise.all([Promise.all(victims), attacker]));
    await within(5000, "connections closing", harness.idle());
    const elapsed = Date.now() - started;
    for (let i = 0; i < 4; i++) {
      assert.is(echoes[i].length, MiB, `connection ${i} echoed ${echoes[i].length} bytes`);
      assert.ok(echoes[i].equals(payloads[i]), `connection ${i} byte-exact`);
    }
    assert.is(cut.echoed.length, 0, "the poisoned connection got nothing echoed");
    const failed = harness.sessions.filter((s) => s.error !== null);
    assert.is(failed.length, 1, `exactly one session failed: ${failed.map((s) => s.error?.message).join("; ")}`);
    assert.is(failed[0].error!.code, expectCode);
    assert.is(harness.sessions.length, 5);
    console.log(`  [${kind}] poisoned session: ${failed[0].error!.code}: ${failed[0].error!.message}` +
      ` (client saw: ${cut.error ?? "close"}); 4 x 1 MiB byte-exact; ${elapsed} ms`);
  } finally {
    await harness.close();
  }
}

test("trap: one sandbox traps, that session alone ends (SANDBOX_FAULT), four others carry 1 MiB each", async () => {
  await scenario("trap", "TRAP!!!!", "SANDBOX_FAULT");
});

test("spin: one sandbox loops forever, fuel cuts it (RUNAWAY), four others carry 1 MiB each; done in seconds", async () => {
  const t0 = Date.now();
  await scenario("spin", "SPIN!!!!", "RUNAWAY");
  assert.ok(Date.now() - t0 < 20000);
});

/**
 * Wraps a metered factory so every call the session makes into an instance is measured: the fuel
 * it burned (budget − tlsbox_fuel_left() afterwards) and, for a call that trapped, its duration.
 */
function fuelMeter(factory: SandboxFactory): { factory: SandboxFactory; maxNormal: () => number; runaways: number[] } {
  let maxNormal = 0;
  const runaways: number[] = [];
  const wrapped = Object.create(factory) as SandboxFactory;
  wrapped.instantiate = () => {
    const sandbox = factory.instantiate();
    const raw = sandbox.exports as unknown as Record<string, (...a: number[]) => number>;
    const measured: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(raw)) {
      if (typeof f !== "function" || name.startsWith("tlsbox_") && name.includes("fuel")) { measured[name] = f; continue; }
      measured[name] = (...args: number[]) => {
        const t0 = process.hrtime.bigint();
        try {
          const r = f(...args);
          maxNormal = Math.max(maxNormal, DEFAULT_FUEL_PER_CALL - raw.tlsbox_fuel_left());
          return r;
        } catch (e) {
          if (raw.tlsbox_fuel_left() === -1) runaways.push(Number(process.hrtime.bigint() - t0) / 1e6);
          throw e;
        }
      };
    }
    // On the instance itself (the host's imports find their session by this very object).
    Object.defineProperty(sandbox, "exports", { get: () => measured });
    return sandbox;
  };
  return { factory: wrapped, maxNormal: () => maxNormal, runaways };
}

test("spin: fuel per call — normal calls far below the budget, the runaway stopped within milliseconds", async () => {
  const meter = fuelMeter(await labFactory("spin"));
  const harness = await startEchoServer(meter.factory, {}, () => choiceFor(cert));
  try {
    const payload = randomBytes(MiB);
    const back = await within(20000, "metered echo", echo(at(harness.port), payload));
    assert.ok(back.equals(payload));
    const cut = await within(10000, "runaway", poison(at(harness.port), "SPIN!!!!", 0));
    assert.is(cut.echoed.length, 0);
    assert.is(harness.sessions[1].error?.code, "RUNAWAY");
    assert.is(meter.runaways.length, 1);
    assert.ok(meter.maxNormal() < DEFAULT_FUEL_PER_CALL / 50, `max normal call ${meter.maxNormal()}`);
    console.log(`  [spin] fuel: most used by one normal call (handshake + 1 MiB echo) ${meter.maxNormal()} of ${DEFAULT_FUEL_PER_CALL}; ` +
      `the runaway call burned ${DEFAULT_FUEL_PER_CALL} and was stopped after ${meter.runaways[0].toFixed(1)} ms`);
  } finally {
    await harness.close();
  }
});

test("spin: a runaway call is stopped within milliseconds", async () => {
  // One session alone: time from the trigger to the RUNAWAY fault.
  const factory = await labFactory("spin");
  const harness = await startEchoServer(factory, {}, () => choiceFor(cert));
  try {
    const t0 = Date.now();
    const cut = await within(10000, "runaway", poison(at(harness.port), "SPIN!!!!", 0));
    const ms = Date.now() - t0;
    assert.is(harness.sessions[0].error?.code, "RUNAWAY");
    assert.is(cut.echoed.length, 0);
    console.log(`  [spin] connect + handshake + runaway cut: ${ms} ms`);
  } finally {
    await harness.close();
  }
});

test.run();
