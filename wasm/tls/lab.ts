// TEST-ONLY engine variants ("lab" builds, DESIGN.md invariants 4 and 5). NEVER SHIPPED.
//
// The bugs below are planted on purpose, to show what the sandbox contains when the engine is
// wrong. They are switched on by integer constants that build.mjs passes to asc as
// `--use LAB_TRAP=1` (and LAB_SPIN, LAB_HEARTBLEED) only with `node build.mjs --lab`; every other
// build passes them as 0, and the hooks in conn.ts sit under `if (LAB_… != 0)`, which the compiler
// resolves at compile time: the release and checked engines contain none of this code (their
// .wat is byte-identical to a build without this file).
//
//   trap        a decrypted application-data record starting with "TRAP!!!!" executes `unreachable`
//   spin        the same with "SPIN!!!!" enters an endless loop (the lab build adds fuel metering)
//   heartbleed  RFC 6520 heartbeat requests (inner content type 24) are answered echoing
//               payload_length bytes from the payload on, never checked against the record
//               (CVE-2014-0160), capped at one record.
//
// No top-level state here: nothing of this file is compiled unless a hook calls it.
import { Alert, ErrorCode } from "../abi";
import { S, Phase, sendBuf, HEADER, TAG } from "./state";
import { fail, reserveTail, sealInPlace } from "./record";

/** RFC 6520 §3: the heartbeat content type. */
export const LAB_CONTENT_TYPE_HEARTBEAT: u32 = 24;

// "TRAP!!!!" and "SPIN!!!!" read as little-endian u64.
const TRIGGER_TRAP: u64 = 0x2121212150415254;
const TRIGGER_SPIN: u64 = 0x212121214e495053;

/** Hook (conn.ts readApplicationData): a decrypted application-data record of `n` bytes at `body`. */
export function labApplicationData(body: usize, n: i32): void {
  if (n < 8) return;
  const head = load<u64>(body);
  // @ts-ignore: LAB_TRAP is an asc --use constant
  if (LAB_TRAP != 0 && head == TRIGGER_TRAP) unreachable();
  // @ts-ignore: LAB_SPIN is an asc --use constant
  if (LAB_SPIN != 0 && head == TRIGGER_SPIN) {
    // Never ends: the byte it waits for is the 'S' of the trigger, which nothing changes.
    let i: u32 = 0;
    while (load<u8>(body) != 0) {
      i++;
      store<u32>(body + 8, i);
    }
  }
}

/**
 * Hook (conn.ts handleRecord): a decrypted TLS 1.3 record of inner type 24 (heartbeat), `n` bytes
 * at `body`. HeartbeatMessage { u8 type; u16 payload_length; opaque payload[payload_length];
 * opaque padding[>= 16] }. THE BUG: payload_length is trusted.
 */
export function labHeartbeat(body: usize, n: i32): void {
  if (S.phase != Phase.CONNECTED) {
    fail(Alert.UNEXPECTED_MESSAGE, ErrorCode.UNEXPECTED_MESSAGE);
    return;
  }
  if (n < 3) {
    fail(Alert.DECODE_ERROR, ErrorCode.DECODE_ERROR);
    return;
  }
  if (load<u8>(body) != 1) return; // only requests are answered (§4: a response is ignored)
  let len = (<i32>load<u8>(body + 1) << 8) | <i32>load<u8>(body + 2);
  // RFC 6520 §4 says: "If the payload_length of a received HeartbeatMessage is too large, the
  // received HeartbeatMessage MUST be discarded silently" — deliberately NOT done here.
  // The only caps: one record (16 KiB at most) and the end of linear memory (no trap, a leak).
  let max = S.maxSendPlain - 3 - 16;
  if (len > max) len = max;
  const memEnd = <usize>memory.size() << 16;
  if (body + 3 + <usize>len > memEnd) len = <i32>(memEnd - body - 3);
  const msgLen = 3 + len + 16;
  if (!reserveTail(HEADER + msgLen + 1 + TAG)) return;
  const out = sendBuf + <usize>S.sendEnd + HEADER;
  store<u8>(out, 2); // heartbeat_response
  store<u8>(out + 1, <u8>(len >> 8));
  store<u8>(out + 2, <u8>len);
  memory.copy(out + 3, body + 3, len); // the over-read
  memory.fill(out + 3 + <usize>len, 0, 16); // padding
  sealInPlace(LAB_CONTENT_TYPE_HEARTBEAT, msgLen);
}
