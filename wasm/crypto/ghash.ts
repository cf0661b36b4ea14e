// Placeholder: this primitive is being written. It exports nothing yet.
export const ghash_PENDING: i32 = 0;
