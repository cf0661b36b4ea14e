// Placeholder: this primitive is being written. It exports nothing yet.
export const p256_PENDING: i32 = 0;
