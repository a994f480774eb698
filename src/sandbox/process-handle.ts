/**
 * Turns a spawned child process into a SandboxHandle: host-enforced wall time, idempotent kill,
 * and an `exited` promise that always resolves (never rejects).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ExitReason, SandboxExit, SandboxHandle } from './runtime.js';

/** Options of wrapChild. */
export interface WrapOptions {
  /** The host kills the process (SIGKILL) this long after the spawn; reason `wall-time`. */
  wallTimeMs: number;
  /**
   * How to kill, run once (default: SIGKILL to the child). Container runtimes ask the engine
   * first, since killing a CLI client does not stop its container.
   */
  killAction?: () => void;
  /** Classify an exit the host did not cause, e.g. exit 137 inside a container means OOM. */
  classify?: (code: number | null, signal: string | null) => ExitReason | undefined;
}

/** Wrap `child` (spawned with stdio 'pipe') as a SandboxHandle. */
export function wrapChild(child: ChildProcessWithoutNullStreams, opts: WrapOptions): SandboxHandle {
  let reason: ExitReason | undefined;
  let done = false;
  let killed = false;

  // A write after the sandbox died must not crash the daemon with an unhandled EPIPE.
  child.stdin.on('error', () => {});

  const doKill = (why: ExitReason): void => {
    if (done || killed) return;
    killed = true;
    reason = why;
    if (opts.killAction) opts.killAction();
    else child.kill('SIGKILL');
  };

  const timer = setTimeout(() => doKill('wall-time'), opts.wallTimeMs);
  timer.unref();

  const exited = new Promise<SandboxExit>((resolve) => {
    const finish = (exit: SandboxExit): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(exit);
    };
    child.once('exit', (code, signal) => {
      const r = reason ?? opts.classify?.(code, signal);
      finish({ code, signal, ...(r ? { reason: r } : {}) });
    });
    child.on('error', (err) => {
      // Only a failed spawn (no pid) ends the sandbox here; other errors precede 'exit'.
      if (child.pid === undefined) finish({ code: null, signal: null, error: err.message });
    });
  });

  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    kill: () => doKill('killed'),
  };
}

/**
 * The umask a sandboxed process starts with, whatever the daemon's own (which is 077): files an
 * agent creates are shared as usual with whoever may see its mounts (`groups/global` is read by
 * every group through the sandboxes' gid), not private by accident.
 */
export const SANDBOX_UMASK = 0o022;

/** Runs `spawn` (which forks synchronously) with the process umask set to `mask` meanwhile. */
export function spawnWithUmask<T>(mask: number, spawn: () => T): T {
  const previous = process.umask(mask);
  try {
    return spawn();
  } finally {
    process.umask(previous);
  }
}
