// "At most one signature per handshake": the key server remembers which (key id, handshake id)
// pairs it has signed for, in a bounded least-recently-used window, and refuses a second one.
//
// What it protects against: a compromised *sandbox* (the network-facing TLS engine) does not choose
// the handshake id — the worker assigns one per connection and puts it in every request. So a
// sandbox taken over by a hostile client can obtain at most one signature per connection it holds,
// over content the key server built itself (invariant 6); it cannot loop on one connection to
// harvest signatures (for example, to mount a fault or timing attack cheaply).
//
// What it does NOT protect against:
// - a compromised *worker process*: it chooses handshake ids, so it can use a fresh id per request;
//   the limit for that case is the rate of connections, which this window does not bound;
// - reuse after eviction: once a pair leaves the window (WINDOW_SIZE newer signatures later) the
//   same id would be accepted again, so the worker must never reuse ids (it uses a per-process
//   random prefix and a counter);
// - a key-server restart, which empties the window;
// - anything about *what* is signed; that is the purpose binding of the ops themselves.
export const DEFAULT_WINDOW_SIZE = 65536;

export class HandshakeWindow {
  // A Map iterates in insertion order, so its first key is the least recently inserted one.
  private readonly seen = new Map<string, true>();

  constructor(readonly capacity: number = DEFAULT_WINDOW_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`window capacity ${capacity}`);
  }

  /** Records the pair; false if it was already there (the request must be refused). */
  claim(keyId: number, handshakeId: bigint): boolean {
    const key = `${keyId}:${handshakeId}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, true);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
