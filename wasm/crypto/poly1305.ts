// Placeholder: this primitive is being written. It exports nothing yet.
export const poly1305_PENDING: i32 = 0;
