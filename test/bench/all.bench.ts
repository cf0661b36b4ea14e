// npm run bench [-- --json] [-- --only NAME[,NAME]]
//
// Every benchmark in one process, one after the other: the crypto primitives (crypto.bench.ts),
// then the TLS engine through the session API (engine.bench.ts). Each module runs on import and
// reads --json and --only itself; with --only, a module with no row asked for prints nothing.
import "./crypto.bench";
import "./engine.bench";
