/**
 * Small process helpers for runtime probes (`bwrap --help`, `podman info`…): find a binary on a
 * search path and run a short command with a timeout, capturing its output.
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Output of a finished probe command. `error` is set when it could not run or timed out. */
export interface ProbeResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/**
 * Absolute path of an executable `name` on `searchPath` (colon-separated), or null. An
 * absolute `name` is returned as is when it is executable.
 */
export function findExecutable(name: string, searchPath: string): string | null {
  const candidates = isAbsolute(name)
    ? [name]
    : searchPath
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** Run `file args` with an empty environment (plus `env`), killing it after `timeoutMs`. */
export function runProbe(
  file: string,
  args: readonly string[],
  opts: { timeoutMs: number; env?: Record<string, string>; uid?: number; gid?: number },
): Promise<ProbeResult> {
  const ids =
    opts.uid !== undefined && opts.gid !== undefined ? { uid: opts.uid, gid: opts.gid } : {};
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        env: opts.env ?? {},
        maxBuffer: 8 << 20,
        cwd: '/',
        ...ids,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
        const why = e.killed ? `timed out after ${opts.timeoutMs} ms` : e.message;
        resolve({ code: null, stdout, stderr, error: why });
      },
    );
  });
}

/** Synchronous variant for one-time feature detection on the spawn path. */
export function runProbeSync(
  file: string,
  args: readonly string[],
  timeoutMs: number,
): ProbeResult {
  const r = spawnSync(file, args, { timeout: timeoutMs, env: {}, encoding: 'utf8' });
  return {
    code: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    ...(r.error ? { error: r.error.message } : {}),
  };
}
