// Placeholder: this primitive is being written. It exports nothing yet.
export const aes_PENDING: i32 = 0;
