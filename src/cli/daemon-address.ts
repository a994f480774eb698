import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Where a running daemon listens, written by `clawpod start` to `$CLAWPOD_HOME/daemon.json`
 * (0600) once its server is up and removed when it stops. CLI commands read it, so a daemon
 * started with `--port 7461` (or `http.port: 0`) is found by `status`, `doctor`, `send`…
 */
export const daemonAddressSchema = z.object({
  url: z.string().regex(/^https?:\/\//),
  pid: z.number().int().positive(),
  startedAt: z.number(),
});
export type DaemonAddress = z.infer<typeof daemonAddressSchema>;

/** The address file of a data dir. */
export const addressFile = (home: string): string => join(home, 'daemon.json');

/** The URL clients use for a server bound to `host:port` (a wildcard bind via loopback). */
export function urlFor(host: string, port: number): string {
  let h = host;
  if (h === '0.0.0.0') h = '127.0.0.1';
  if (h === '::') h = '::1';
  return `http://${isIP(h) === 6 ? `[${h}]` : h}:${port}`;
}

/** Writes the address atomically with mode 0600. */
export function writeDaemonAddress(home: string, address: DaemonAddress): void {
  const file = addressFile(home);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(address) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** Removes the address file if it still names `pid` (a newer daemon's file is left alone). */
export function removeDaemonAddress(home: string, pid: number): void {
  const current = readAddressFile(home);
  if (current && current.pid !== pid) return;
  rmSync(addressFile(home), { force: true });
}

function readAddressFile(home: string): DaemonAddress | null {
  try {
    const parsed = daemonAddressSchema.safeParse(
      JSON.parse(readFileSync(addressFile(home), 'utf8')),
    );
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else (a root daemon seen by a user CLI).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The recorded address when its daemon process is still alive; null otherwise (stale file). */
export function readDaemonAddress(home: string): DaemonAddress | null {
  const a = readAddressFile(home);
  return a && alive(a.pid) ? a : null;
}
