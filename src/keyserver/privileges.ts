// Dropping root after the keys are loaded: the key files can stay readable by root only, and the
// long-running process that answers requests holds no more privilege than it needs.
import { KeyLoadError } from "./errors";

export interface Identity {
  user?: string | number;
  group?: string | number;
}

/**
 * Switches to `user`/`group` if running as root. Both must be given (a user's primary group is
 * not looked up: naming it keeps the configuration explicit). Not root: nothing to drop, the
 * caller is told so. Throws if the switch did not take or could be undone.
 */
export function dropPrivileges(identity: Identity, log: (line: string) => void): void {
  const { user, group } = identity;
  if (user === undefined && group === undefined) return;
  if (user === undefined || group === undefined) {
    throw new KeyLoadError("BAD_CONFIG", "keyserver user and group must be configured together");
  }
  if (typeof process.getuid !== "function" || typeof process.setuid !== "function") {
    throw new KeyLoadError("BAD_CONFIG", "this platform cannot switch users");
  }
  if (process.getuid() !== 0) {
    log(`keyserver: not started as root (uid ${process.getuid()}): staying uid ${process.getuid()}, not switching to ${user}:${group}`);
    return;
  }
  try {
    // Supplementary groups first (root's would survive setgid), then the group, then the user:
    // after setuid nothing else may be changed.
    process.setgroups!([group]);
    process.setgid!(group);
    process.setuid(user);
  } catch (e) {
    throw new KeyLoadError("BAD_CONFIG", `cannot switch to user ${user}, group ${group}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let regained = false;
  try {
    process.setuid(0);
    regained = true;
  } catch {
    // Expected: an unprivileged process cannot become root again.
  }
  if (regained || process.getuid() === 0 || process.geteuid!() === 0) {
    throw new KeyLoadError("BAD_CONFIG", `still able to act as root after switching to ${user}`);
  }
  log(`keyserver: running as uid ${process.getuid()}, gid ${process.getgid!()}`);
}
