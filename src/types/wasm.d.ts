// esbuild embeds .wasm files as bytes (build.mjs: loader ".wasm": "binary").
declare module "*.wasm" {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
