// Placeholder: this primitive is being written. It exports nothing yet.
export const sha2_PENDING: i32 = 0;
