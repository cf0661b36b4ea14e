// Where the tlsbox program is: TLSBOX_PROGRAM, or the shared build's dist/tlsbox.mjs.
import { join, resolve } from "node:path";
import { REPO_ROOT } from "./repo";

export const PROGRAM: string = process.env.TLSBOX_PROGRAM !== undefined ? resolve(process.env.TLSBOX_PROGRAM) : join(REPO_ROOT, "dist/tlsbox.mjs");
