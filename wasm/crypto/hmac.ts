// Placeholder: this primitive is being written. It exports nothing yet.
export const hmac_PENDING: i32 = 0;
