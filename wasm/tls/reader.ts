// A bounded reader over linear memory, in the style of Go's cryptobyte.String: every read is
// checked against what remains, a failed read poisons the reader (sticky `bad`, nothing left to
// read, so loops over an empty reader end), and `done()` is true only if everything parsed and
// nothing trails. Length-prefixed vectors (RFC 8446 §3.4) become sub-readers.
//
// Readers are unmanaged objects at static addresses (module-level constants) and are reset per
// use: the stub runtime never frees, so parsing must not allocate.

// @ts-ignore: decorator
@unmanaged
export class Reader {
  pos: usize = 0;
  end: usize = 0;
  bad: bool = false;

  reset(ptr: usize, len: usize): Reader {
    this.pos = ptr;
    this.end = ptr + len;
    this.bad = false;
    return this;
  }

  /** Bytes left to read. */
  left(): usize {
    return this.end - this.pos;
  }

  empty(): bool {
    return this.pos >= this.end;
  }

  /** Marks the reader malformed and empties it. */
  fail(): void {
    this.bad = true;
    this.pos = this.end;
  }

  /** True if nothing failed and nothing trails (trailing bytes are a decode_error). */
  done(): bool {
    return !this.bad && this.pos == this.end;
  }

  u8(): u32 {
    if (this.end - this.pos < 1) { this.fail(); return 0; }
    const v = <u32>load<u8>(this.pos);
    this.pos += 1;
    return v;
  }

  u16(): u32 {
    if (this.end - this.pos < 2) { this.fail(); return 0; }
    const v = (<u32>load<u8>(this.pos) << 8) | <u32>load<u8>(this.pos + 1);
    this.pos += 2;
    return v;
  }

  u24(): u32 {
    if (this.end - this.pos < 3) { this.fail(); return 0; }
    const v = (<u32>load<u8>(this.pos) << 16) | (<u32>load<u8>(this.pos + 1) << 8) | <u32>load<u8>(this.pos + 2);
    this.pos += 3;
    return v;
  }

  u32(): u32 {
    const hi = this.u16();
    const lo = this.u16();
    return (hi << 16) | lo;
  }

  /** Skips n bytes and returns where they start (0 after a failure: check `bad`). */
  bytes(n: usize): usize {
    if (this.end - this.pos < n) { this.fail(); return 0; }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  /** A vector with a `width`-byte length prefix (1, 2 or 3) becomes `into`. */
  vec(width: i32, into: Reader): bool {
    let n: u32 = 0;
    if (width == 1) n = this.u8();
    else if (width == 2) n = this.u16();
    else n = this.u24();
    if (this.bad || this.end - this.pos < <usize>n) {
      this.fail();
      into.reset(0, 0);
      into.bad = true;
      return false;
    }
    into.reset(this.pos, n);
    this.pos += n;
    return true;
  }
}
