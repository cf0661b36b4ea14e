// The connection pump in-process, with the real engine: a sandbox that traps ends only its own
// connection (logged), and flow control holds both ways (a backend that does not read stops the
// client being read, and a client that does not read stops the backend being read).
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Sandbox, type SandboxFactory } from "../../src/sandbox/loader";
import { ENGINE_MODULES } from "../../src/sandbox/modules";
import { createTlsSandboxFactory } from "../../src/tls/session";
import { loadChain } from "../../src/proxy/certs";
import { Connection, type ConnectionContext } from "../../src/proxy/connection";
import type { ToSupervisor } from "../../src/proxy/ipc";
import { Logger } from "../../src/proxy/log";
import { RemoteSigner } from "../../src/proxy/signer";
import { VhostTable } from "../../src/proxy/vhosts";
import { signCertificateVerify } from "../helpers/tls";
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { makeCert, rmDir, sleep, tempDir, within, type CertFiles } from "./harness";

const test = suite("proxy connection (in-process)");

let dir = "";
let cert: CertFiles;
let factory: SandboxFactory;
const lines: string[] = [];

test.before(async () => {
  dir = tempDir();
  cert = makeCert(dir, "conn", ["conn.test"]);
  factory = await createTlsSandboxFactory(ENGINE_MODULES.release);
});

test.after(() => rmDir(dir));

interface Proxy {
  port: number;
  server: Server;
  trapNext: boolean;
  connections: Connection[];
  close(): Promise<void>;
}

/** A listening socket served by Connection, with a signer that signs in-process (as the key server would). */
async function startProxy(backendPort: number): Promise<Proxy> {
  const key = createPrivateKey(readFileSync(cert.key));
  let signer: RemoteSigner;
  const send = (m: ToSupervisor): boolean => {
    if (m.t === "sign" && m.op === "cert-verify") {
      const signature = signCertificateVerify(key, m.scheme, new Uint8Array(Buffer.from(m.hash, "base64")));
      setImmediate(() => signer.answer(m.id, Buffer.from(signature).toString("base64"), undefined));
    }
    return true;
  };
  signer = new RemoteSigner(send);
  const proxy: Proxy = { port: 0, server: null as unknown as Server, trapNext: false, connections: [], close: async () => {} };
  const ctx: ConnectionContext = {
    table: new VhostTable([{
      index: 0, match: { localAddress: null, localPort: null, sniName: null },
      backend: { kind: "tcp", host: "127.0.0.1", port: backendPort }, policy: {}, keyId: 0, cert: loadChain(cert.cert),
    }]),
    generation: 1,
    takeSandbox: () => {
      const real = factory.instantiate();
      if (!proxy.trapNext) return real;
      proxy.trapNext = false;
      // The same engine, except that taking the first network bytes traps, as a memory-safety bug would.
      const exports = {
        ...real.instance.exports,
        tls_recv: () => { throw new WebAssembly.RuntimeError("unreachable (injected by the test)"); },
      };
      return new Sandbox({ exports } as WebAssembly.Instance, real.instance.exports.memory as WebAssembly.Memory, () => {});
    },
    signer,
    log: new Logger("test", "info", (line) => lines.push(line)),
    handshakeMs: 5000,
    idleMs: 0,
  };
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    proxy.connections.push(new Connection(socket, ctx, () => {}));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.server = server;
  proxy.close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return proxy;
}

/** A backend whose sockets the test controls. */
async function controlledBackend(onSocket: (s: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on("error", () => {});
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function client(port: number): Promise<TLSSocket> {
  return within(5000, "handshake", new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca: cert.pem, servername: "conn.test" }, () => resolve(s));
    s.on("error", reject);
  }));
}

test("a sandbox trap ends its own connection only, and is logged", async () => {
  const backend = await controlledBackend((s) => s.pipe(s));
  const proxy = await startProxy(backend.port);
  try {
    const good = await client(proxy.port);
    proxy.trapNext = true;
    const failed = await new Promise<Error | null>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port: proxy.port, ca: cert.pem, servername: "conn.test" }, () => resolve(null));
      s.on("error", (e) => resolve(e));
      s.on("close", () => resolve(new Error("closed")));
    });
    assert.ok(failed !== null, "the trapped connection must not complete its handshake");
    const line = await within(5000, "log line", (async () => {
      for (;;) {
        const found = lines.find((l) => /outcome=sandbox-fault/.test(l));
        if (found !== undefined) return found;
        await sleep(20);
      }
    })());
    assert.match(line, /warn: connection .*error="engine trap: unreachable \(injected by the test\)"/);
    // The other connection carries on.
    const echoed = await within(5000, "echo on the good connection", new Promise<string>((resolve) => {
      good.once("data", (d: Buffer) => resolve(d.toString()));
      good.write("still fine");
    }));
    assert.is(echoed, "still fine");
    good.destroy();
  } finally {
    await proxy.close();
    await backend.close();
  }
});

const BULK = 24 << 20;

test("flow control: a backend that does not read stops the client being read", async () => {
  let backendSocket: Socket | null = null;
  let received = 0;
  const backend = await controlledBackend((s) => {
    backendSocket = s;
    s.pause();
    s.on("data", (d: Buffer) => { received += d.length; });
  });
  const proxy = await startProxy(backend.port);
  try {
    const c = await client(proxy.port);
    c.write(Buffer.alloc(BULK, 1));
    // Long enough for the engine to decrypt most of it, were it given everything.
    await sleep(2000);
    const queued = proxy.connections[0]!.buffered.toBackend;
    assert.ok(queued < 2 << 20, `the proxy queued ${queued} bytes for a backend that does not read`);
    backendSocket!.resume();
    await within(30000, "all bytes to reach the backend", (async () => { while (received < BULK) await sleep(50); })());
    assert.is(received, BULK);
    c.destroy();
  } finally {
    await proxy.close();
    await backend.close();
  }
});

test("flow control: a client that does not read stops the backend being read", async () => {
  let backendSocket: Socket | null = null;
  const backend = await controlledBackend((s) => {
    backendSocket = s;
  });
  const proxy = await startProxy(backend.port);
  try {
    const c = await client(proxy.port);
    c.pause();
    let received = 0;
    c.on("data", (d: Buffer) => { received += d.length; });
    c.write("go");
    await within(5000, "backend connection", (async () => { while (backendSocket === null) await sleep(20); })());
    backendSocket!.write(Buffer.alloc(BULK, 2));
    await sleep(2000);
    const queued = proxy.connections[0]!.buffered.toClient;
    assert.ok(queued < 2 << 20, `the proxy queued ${queued} bytes for a client that does not read`);
    c.resume();
    await within(30000, "all bytes to reach the client", (async () => { while (received < BULK) await sleep(50); })());
    assert.is(received, BULK);
    c.destroy();
  } finally {
    await proxy.close();
    await backend.close();
  }
});

test.run();
