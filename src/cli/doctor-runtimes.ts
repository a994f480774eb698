import { silentLogger } from '../logging/logger.js';
import { builtinRuntimes } from '../sandbox/index.js';
import { createRuntimes, selectRuntime } from '../sandbox/registry.js';
import type { CheckResult } from './doctor-checks.js';

/**
 * Sandbox runtimes, probed by the sandbox layer itself (the same probe the daemon uses): each
 * runtime's availability with what it enforces here, then the configured choice and why.
 * An unavailable runtime is a warning, unless config names it; no usable sandbox is a failure.
 */
export async function checkRuntimes(configured: string, image?: string): Promise<CheckResult[]> {
  const runtimes = createRuntimes({ logger: silentLogger(), image }, builtinRuntimes);
  const out: CheckResult[] = [];
  for (const [name, rt] of runtimes) {
    if (name === 'none') continue;
    const a = await rt.available();
    if (a.ok)
      out.push({
        level: 'ok',
        title: `sandbox runtime ${name}: ${a.reason}; enforces ${a.enforced.join(', ')}`,
      });
    else
      out.push({
        level: configured === name ? 'fail' : 'warn',
        title: `sandbox runtime ${name} unavailable`,
        fix: a.reason,
      });
  }
  try {
    const { runtime, why } = await selectRuntime(configured, runtimes);
    const level = runtime.name === 'none' ? 'warn' : 'ok';
    const enforced = (await runtime.available()).enforced.join(', ');
    out.push({
      level,
      title: `runs use ${runtime.name} (${why}); enforced: ${enforced}`,
      ...(level === 'warn'
        ? { fix: 'set runtime: auto in config.yaml once a sandbox runtime is installed' }
        : {}),
    });
  } catch (err) {
    out.push({
      level: 'fail',
      title: 'no usable sandbox runtime: agents cannot run',
      fix: (err as Error).message,
    });
  }
  return out;
}
