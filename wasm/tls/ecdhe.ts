// The ephemeral (EC)DH of both handshakes (RFC 8446 §4.2.8, RFC 8422 §5.4): one fresh key pair per
// handshake in ecdhePriv/ecdhePub, the shared secret into sharedSecret, the private key wiped as soon
// as it has been used. The peer's share is untrusted: each primitive validates it (X25519: RFC 7748
// §6.1's all-zero check; P-256/P-384: uncompressed, coordinates below p, on the curve, not infinity).
import { NamedGroup } from "../abi";
import { wipe } from "../crypto/ct";
import { x25519, x25519_base } from "../crypto/x25519";
import { p256_ecdh, p256_keygen } from "../crypto/p256";
import { p384_ecdh, p384_keygen } from "../crypto/p384";
import { randomFill } from "../sys";
import { ecdhePriv, ecdhePub, sharedSecret, ECDHE_PRIV_CAP, SHARED_SECRET_CAP } from "./state";

/** The groups the engine implements. */
export function knownGroup(g: u32): bool {
  return g == NamedGroup.X25519 || g == NamedGroup.SECP256R1 || g == NamedGroup.SECP384R1;
}

/** The length of a public value of `group` on the wire: 32 (X25519) or an uncompressed point. */
export function shareLength(group: u32): i32 {
  if (group == NamedGroup.X25519) return 32;
  return group == NamedGroup.SECP256R1 ? 65 : 97;
}

/** A fresh key pair for `group`; the public value (shareLength bytes) is at ecdhePub. */
export function ecdheKeygen(group: u32): void {
  if (group == NamedGroup.X25519) {
    randomFill(ecdhePriv, 32);
    x25519_base(ecdhePub, ecdhePriv);
  } else if (group == NamedGroup.SECP256R1) {
    p256_keygen(ecdhePriv, ecdhePub);
  } else {
    p384_keygen(ecdhePriv, ecdhePub);
  }
}

/**
 * The shared secret with the peer's public value (`len` bytes at `peer`) into sharedSecret: its
 * length (32, or 48 for P-384: the x-coordinate, RFC 8446 §7.4.2), or 0 if the peer's value is
 * invalid. The private key is wiped either way: one use per handshake.
 */
export function ecdheShared(group: u32, peer: usize, len: i32): i32 {
  let n = 0;
  if (group == NamedGroup.X25519) {
    n = len == 32 && x25519(sharedSecret, ecdhePriv, peer) != 0 ? 32 : 0;
  } else if (group == NamedGroup.SECP256R1) {
    n = p256_ecdh(sharedSecret, ecdhePriv, peer, len) != 0 ? 32 : 0;
  } else {
    n = p384_ecdh(sharedSecret, ecdhePriv, peer, len) != 0 ? 48 : 0;
  }
  wipe(ecdhePriv, ECDHE_PRIV_CAP);
  if (n == 0) wipe(sharedSecret, SHARED_SECRET_CAP);
  return n;
}
