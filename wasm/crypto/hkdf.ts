// Placeholder: this primitive is being written. It exports nothing yet.
export const hkdf_PENDING: i32 = 0;
