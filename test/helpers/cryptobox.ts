// The crypto module (build/crypto.{release,checked}.wasm) loaded for tests and benchmarks.
//
// Every primitive is tested through both variants: `release` is what ships, `checked` has
// assertions and bounds checks on. Inputs are copied into the module's IO area by an Arena, which
// can place a buffer at any alignment (the unaligned-buffer tests use `misalign`).
import cryptoChecked from "../../build/crypto.checked.wasm";
import cryptoRelease from "../../build/crypto.release.wasm";
import { Sandbox, SandboxFactory } from "../../src/sandbox/loader";

export type CryptoFn = (...args: number[]) => number;

export interface CryptoBox {
  readonly variant: "release" | "checked";
  readonly sandbox: Sandbox;
  /** The module's exports (the primitives' public API). */
  readonly x: Record<string, CryptoFn>;
  /** A fresh arena over the IO area. */
  arena(): Arena;
}

export class Arena {
  private next: number;
  private readonly end: number;

  constructor(private readonly box: CryptoBox) {
    this.next = box.x.io_ptr();
    this.end = this.next + box.x.io_size();
  }

  /** Reserves `len` bytes at an address ≡ misalign (mod align); the bytes are zeroed. */
  alloc(len: number, align = 16, misalign = 0): number {
    let ptr = Math.ceil(this.next / align) * align + misalign;
    if (ptr < this.next) ptr += align;
    if (ptr + len > this.end) throw new Error(`arena overflow: ${len} bytes at ${ptr}`);
    this.next = ptr + len;
    this.box.sandbox.bytes().fill(0, ptr, ptr + len);
    return ptr;
  }

  /** Copies `bytes` in and returns where they are. */
  put(bytes: Uint8Array, align = 16, misalign = 0): number {
    const ptr = this.alloc(bytes.length, align, misalign);
    this.box.sandbox.bytes().set(bytes, ptr);
    return ptr;
  }

  /** A copy of `len` bytes at `ptr`. */
  read(ptr: number, len: number): Uint8Array {
    return this.box.sandbox.copyOut(ptr, len);
  }
}

async function load(variant: "release" | "checked", wasm: BufferSource): Promise<CryptoBox> {
  const factory = await SandboxFactory.create(wasm);
  const sandbox = factory.instantiate();
  const box: CryptoBox = {
    variant,
    sandbox,
    x: sandbox.exports as unknown as Record<string, CryptoFn>,
    arena: () => new Arena(box),
  };
  return box;
}

/** Both variants, freshly instantiated. */
export async function cryptoBoxes(): Promise<CryptoBox[]> {
  return [await load("release", cryptoRelease), await load("checked", cryptoChecked)];
}

/** Just the release variant (benchmarks). */
export async function releaseCryptoBox(): Promise<CryptoBox> {
  return load("release", cryptoRelease);
}

/** Edge lengths every primitive is tried at (issue 2): block boundaries and record limits. */
export const EDGE_LENGTHS: readonly number[] = [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 16383, 16384, 16385];

/** A deterministic generator for differential tests, so a failure can be replayed. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  const nextWord = (): number => {
    // xorshift32: plenty for generating test inputs.
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  return (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const w = nextWord();
      out[i] = w & 255;
      if (i + 1 < n) out[i + 1] = (w >>> 8) & 255;
      if (i + 2 < n) out[i + 2] = (w >>> 16) & 255;
      if (i + 3 < n) out[i + 3] = w >>> 24;
    }
    return out;
  };
}
