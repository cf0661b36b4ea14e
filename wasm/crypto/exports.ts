// Entry point of the crypto-only module (build/crypto.*.wasm): the primitives' public API exactly
// as the TLS engine uses it, for known-answer tests, differential tests and benchmarks. The
// engine compiles the very same sources.
export * from "./ct";
export * from "./sha2";
export * from "./hmac";
export * from "./hkdf";
export * from "./prf";
export * from "./aes";
export * from "./ghash";
export * from "./gcm";
export * from "./chacha20";
export * from "./poly1305";
export * from "./chacha20poly1305";
export * from "./x25519";
export * from "./p256";
export * from "./p384";
export * from "./testio";
