// Placeholder: this primitive is being written. It exports nothing yet.
export const x25519_PENDING: i32 = 0;
