// Placeholder: this primitive is being written. It exports nothing yet.
export const prf_PENDING: i32 = 0;
