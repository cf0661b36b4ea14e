// The default set-up's backend: a small HTTP server in the supervisor process, on 127.0.0.1 and a
// free port, answering every request with a page saying where it came through.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface DemoBackend {
  port: number;
  close(): Promise<void>;
}

export const DEMO_GREETING = "Hello from the tlsbox demo backend.";

export function startDemoBackend(): Promise<DemoBackend> {
  const server: Server = createServer((req, res) => {
    const body = `${DEMO_GREETING}\nYou asked for ${req.method ?? "?"} ${req.url ?? "/"}; TLS was terminated by tlsbox in a WebAssembly sandbox.\n`;
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
