// Loads a sandbox module once and makes fresh, isolated instances of it.
//
// Every connection gets its own WebAssembly instance: its own linear memory, its own globals, and
// nothing shared with any other connection. The module is compiled once; what a connection pays
// is instantiation, and the SparePool below pays that ahead of demand so the accept path does not.
//
// The module's imports are an allow-list (DESIGN.md invariant 2). The loader hands the instance
// only the allow-listed functions, whatever the WASI provider offers, so a module that grew an
// import nobody reviewed fails to instantiate instead of quietly getting it.
import { init as initWasmerWasi, WASI } from "@wasmer/wasi";
import { webcrypto } from "node:crypto";

/** The WASI functions a tlsbox module may import. Everything else is refused. */
export const ALLOWED_WASI_IMPORTS: readonly string[] = ["random_get", "clock_time_get"];

/** The module name of the host's key-operation imports. */
export const HOST_IMPORT_MODULE = "tls_host";

/**
 * Which WASI implementation backs the allow-listed calls:
 * - "minimal": the host's own two functions (random_get from crypto.getRandomValues, clock_time_get
 *   from the monotonic and real-time clocks). Small enough to audit at a glance.
 * - "wasmer": @wasmer/wasi, configured with no arguments, no environment, no preopened
 *   directories and an empty stdin; only the allow-listed functions of its import object are used.
 */
export type WasiProvider = "minimal" | "wasmer";

/** Host functions given to the instance under `tls_host`, bound per instance. */
export type HostFunctions = Record<string, (...args: number[]) => number | void>;

export class SandboxError extends Error {
  constructor(
    readonly code: "IMPORT_NOT_ALLOWED" | "OUT_OF_BOUNDS" | "BAD_MODULE",
    message: string,
  ) {
    super(message);
    this.name = "SandboxError";
  }
}

/** One live instance and its memory. */
export class Sandbox {
  private cachedView: Uint8Array;

  constructor(
    readonly instance: WebAssembly.Instance,
    private readonly memory: WebAssembly.Memory,
    private readonly release: () => void,
  ) {
    this.cachedView = new Uint8Array(memory.buffer);
  }

  get exports(): WebAssembly.Exports {
    return this.instance.exports;
  }

  /** The instance's whole memory. A memory.grow detaches old views, so never keep this across calls. */
  bytes(): Uint8Array {
    if (this.cachedView.byteLength !== this.memory.buffer.byteLength) {
      this.cachedView = new Uint8Array(this.memory.buffer);
    }
    return this.cachedView;
  }

  /**
   * A region the sandbox named by pointer and length. The sandbox is untrusted: the region is
   * checked against the memory's bounds before anything is read.
   */
  region(ptr: number, len: number): Uint8Array {
    const mem = this.bytes();
    if (!Number.isInteger(ptr) || !Number.isInteger(len) || ptr < 0 || len < 0 || ptr + len > mem.byteLength) {
      throw new SandboxError("OUT_OF_BOUNDS", `sandbox named region [${ptr}, +${len}) outside its ${mem.byteLength}-byte memory`);
    }
    return mem.subarray(ptr, ptr + len);
  }

  /** Copies a region out, so later sandbox activity cannot change what the host holds. */
  copyOut(ptr: number, len: number): Uint8Array {
    return this.region(ptr, len).slice();
  }

  /** Frees what the WASI provider holds for this instance. The memory goes with the last reference. */
  dispose(): void {
    this.release();
  }
}

/** Fills a buffer with random bytes; the default is the host's CSPRNG. */
export type RandomSource = (into: Uint8Array) => void;

const CSPRNG: RandomSource = (into) => {
  // getRandomValues fills at most 65,536 bytes per call.
  for (let off = 0; off < into.length; off += 65536) webcrypto.getRandomValues(into.subarray(off, off + 65536));
};

/** What an instance needs from the host besides WASI; `bind` runs once per instance. */
export interface SandboxHost {
  bind(sandbox: () => Sandbox): HostFunctions;
}

const NO_HOST: SandboxHost = { bind: () => ({}) };

export class SandboxFactory {
  private constructor(
    readonly module: WebAssembly.Module,
    readonly wasi: WasiProvider,
    private readonly host: SandboxHost,
    private readonly random: RandomSource,
  ) {}

  /**
   * Compiles the module once and checks its imports against the allow-list. `random` replaces
   * the CSPRNG behind random_get (tests that replay a recorded handshake; "minimal" WASI only).
   */
  static async create(
    wasm: BufferSource,
    options: { wasi?: WasiProvider; host?: SandboxHost; random?: RandomSource } = {},
  ): Promise<SandboxFactory> {
    const wasi = options.wasi ?? "minimal";
    if (options.random !== undefined && wasi !== "minimal") {
      throw new SandboxError("BAD_MODULE", "a replacement random source needs the minimal WASI provider");
    }
    if (wasi === "wasmer") await initWasmerWasi();
    const module = await WebAssembly.compile(wasm);
    const refused = disallowedImports(module);
    if (refused.length > 0) {
      throw new SandboxError("IMPORT_NOT_ALLOWED", `sandbox module imports ${refused.join(", ")}, which the allow-list does not permit`);
    }
    return new SandboxFactory(module, wasi, options.host ?? NO_HOST, options.random ?? CSPRNG);
  }

  /** A fresh instance: new memory, new globals, its own WASI state. */
  instantiate(): Sandbox {
    let sandbox: Sandbox | undefined;
    const current = (): Sandbox => {
      if (sandbox === undefined) throw new SandboxError("BAD_MODULE", "sandbox called the host before instantiation finished");
      return sandbox;
    };
    const hostFunctions = withUnboundStubs(this.module, this.host.bind(current));
    if (this.wasi === "wasmer") {
      const wasi = new WASI({ args: [], env: {} });
      const offered = wasi.getImports(this.module) as Record<string, Record<string, unknown>>;
      const instance = new WebAssembly.Instance(this.module, {
        wasi_snapshot_preview1: pick(offered.wasi_snapshot_preview1 ?? {}, ALLOWED_WASI_IMPORTS),
        [HOST_IMPORT_MODULE]: hostFunctions,
      } as WebAssembly.Imports);
      wasi.instantiate(instance);
      sandbox = new Sandbox(instance, memoryOf(instance), () => wasi.free());
    } else {
      const instance = new WebAssembly.Instance(this.module, {
        wasi_snapshot_preview1: minimalWasi(current, this.random),
        [HOST_IMPORT_MODULE]: hostFunctions,
      } as WebAssembly.Imports);
      sandbox = new Sandbox(instance, memoryOf(instance), () => {});
    }
    return sandbox;
  }
}

/** Instances prepared ahead of demand, so a new connection takes one instead of building one. */
export class SparePool {
  private readonly spares: Sandbox[] = [];
  private refillScheduled = false;

  constructor(
    private readonly factory: SandboxFactory,
    readonly target: number,
  ) {
    this.scheduleRefill();
  }

  get size(): number {
    return this.spares.length;
  }

  /** A never-used instance: a spare if one is ready, otherwise one made now. */
  take(): Sandbox {
    const sandbox = this.spares.pop() ?? this.factory.instantiate();
    this.scheduleRefill();
    return sandbox;
  }

  /** Fills the pool now (start-up, tests). */
  fill(): void {
    while (this.spares.length < this.target) this.spares.push(this.factory.instantiate());
  }

  /** Drops the spares (shutdown). */
  drain(): void {
    for (const sandbox of this.spares.splice(0)) sandbox.dispose();
  }

  // One instance per turn of the event loop: refilling never delays I/O by more than one
  // instantiation. (Not unref'd: an unref'd immediate lets the poll phase block, and the pool
  // would then refill only when unrelated I/O happens to wake the loop.)
  private scheduleRefill(): void {
    if (this.refillScheduled || this.spares.length >= this.target) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      if (this.spares.length < this.target) this.spares.push(this.factory.instantiate());
      this.scheduleRefill();
    });
  }
}

/** The imports of `module` that are not on the allow-list, as "module.name". */
export function disallowedImports(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.imports(module)
    .filter((i) => !(i.kind === "function" && ((i.module === "wasi_snapshot_preview1" && ALLOWED_WASI_IMPORTS.includes(i.name)) || i.module === HOST_IMPORT_MODULE)))
    .map((i) => `${i.module}.${i.name}`);
}

/**
 * Every `tls_host` import the module declares must be linked. One the host did not supply (a
 * factory made without a host, as in loader tests) gets a stub that throws if it is ever called:
 * the call traps the instance and ends that one sandbox, rather than silently doing nothing.
 */
function withUnboundStubs(module: WebAssembly.Module, supplied: HostFunctions): HostFunctions {
  const linked: HostFunctions = { ...supplied };
  for (const i of WebAssembly.Module.imports(module)) {
    if (i.module === HOST_IMPORT_MODULE && !(i.name in linked)) {
      linked[i.name] = () => {
        throw new SandboxError("BAD_MODULE", `the sandbox called ${HOST_IMPORT_MODULE}.${i.name}, which this host does not provide`);
      };
    }
  }
  return linked;
}

function memoryOf(instance: WebAssembly.Instance): WebAssembly.Memory {
  const memory = instance.exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new SandboxError("BAD_MODULE", "sandbox module exports no memory");
  return memory;
}

function pick<T>(from: Record<string, T>, names: readonly string[]): Record<string, T> {
  const picked: Record<string, T> = {};
  for (const name of names) if (name in from) picked[name] = from[name];
  return picked;
}

const WASI_ESUCCESS = 0;
const WASI_EFAULT = 21;
const WASI_EINVAL = 28;

/** The two WASI calls tlsbox allows, implemented directly. Arguments come from the sandbox: checked. */
function minimalWasi(current: () => Sandbox, random: RandomSource): Record<string, (...args: never[]) => number> {
  return {
    random_get(ptr: number, len: number): number {
      const mem = current().bytes();
      if (ptr < 0 || len < 0 || ptr + len > mem.byteLength) return WASI_EFAULT;
      random(mem.subarray(ptr, ptr + len));
      return WASI_ESUCCESS;
    },
    clock_time_get(clockId: number, _precision: bigint, timePtr: number): number {
      const mem = current().bytes();
      if (timePtr < 0 || timePtr + 8 > mem.byteLength) return WASI_EFAULT;
      let nanos: bigint;
      if (clockId === 0) nanos = BigInt(Date.now()) * 1_000_000n; // realtime
      else if (clockId === 1) nanos = process.hrtime.bigint(); // monotonic
      else return WASI_EINVAL;
      new DataView(mem.buffer).setBigUint64(timePtr, nanos, true);
      return WASI_ESUCCESS;
    },
  };
}
