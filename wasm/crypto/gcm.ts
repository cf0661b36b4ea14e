// Placeholder: this primitive is being written. It exports nothing yet.
export const gcm_PENDING: i32 = 0;
