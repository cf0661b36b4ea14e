// A sandbox factory wrapper that keeps every instance it made, for tests that inspect memory.
import type { Sandbox, SandboxFactory } from "../../src/sandbox/loader";

export interface Recording {
  factory: SandboxFactory;
  sandboxes: Sandbox[];
}

export function recording(factory: SandboxFactory): Recording {
  const sandboxes: Sandbox[] = [];
  const wrapped = Object.create(factory) as SandboxFactory;
  wrapped.instantiate = () => {
    const s = factory.instantiate();
    sandboxes.push(s);
    return s;
  };
  return { factory: wrapped, sandboxes };
}

/** 64 KiB pages of an instance's linear memory. */
export const pages = (s: Sandbox): number => s.bytes().byteLength / 65536;
