// Placeholder: this primitive is being written. It exports nothing yet.
export const chacha20_PENDING: i32 = 0;
