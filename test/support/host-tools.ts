import { execFileSync } from 'node:child_process';

/** Whether `cmd args` runs and exits 0 here (a tool a test needs is installed and works). */
export function works(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/** Whether bubblewrap works here (the sandbox tests run in it; CI installs it). */
export const hasBwrap = works('bwrap', ['--version']);
