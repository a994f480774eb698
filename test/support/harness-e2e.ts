import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Daemon } from '../../src/daemon.js';
import { startDaemon, tempHome } from './daemon-harness.js';

import { hasBwrap } from './host-tools.js';

export { hasBwrap };

const root = resolve(import.meta.dirname, '../..');

/**
 * Why the real-harness tests in bubblewrap cannot run on this machine ('' when they can): no
 * bwrap, no built bundle (the sandbox runs dist/agent-bundle/runner.cjs), or — with `codex` —
 * no codex package.
 */
export function harnessSandboxSkip(needs: { codex?: boolean } = {}): string {
  if (!hasBwrap) return 'bubblewrap (bwrap) is not installed';
  if (!existsSync(join(root, 'dist/agent-bundle/runner.cjs')))
    return 'dist/ is not built (npm run build): the sandbox runs dist/agent-bundle/runner.cjs';
  if (needs.codex && !existsSync(join(root, 'node_modules/@openai/codex/package.json')))
    return '@openai/codex is not installed';
  return '';
}

/**
 * A real daemon running `harness` in bubblewrap, with `env` (credentials) in the data dir's
 * `.env` as a user would set them.
 */
export async function bootHarnessDaemon(
  harness: 'claude' | 'codex',
  model: string,
  env: Record<string, string>,
  /** More config.yaml lines. */
  extraConfig = '',
): Promise<{ d: Daemon; home: string }> {
  const home = tempHome(
    `runtime: bubblewrap\ndefaults: { harness: ${harness}, model: ${model}, idleTimeoutMs: 1000 }\n${extraConfig}`,
  );
  writeFileSync(
    join(home, '.env'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return { d: await startDaemon(home, []), home };
}

/**
 * A temp `projects/` folder allowlisted read-write in a mount allowlist of its own (beside it,
 * outside any data dir), with `dirs` made inside it; `config` is the config.yaml line that
 * points the daemon at the allowlist. Remove `base` when done.
 */
export function allowlistedProjects(
  prefix: string,
  dirs: readonly string[],
  allowlist: Record<string, unknown> = {},
): { base: string; projects: string; config: string } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(base, 0o755); // the sandbox uid must reach what it mounts
  const projects = join(base, 'projects');
  for (const d of dirs) mkdirSync(join(projects, d), { recursive: true });
  const file = join(base, 'mount-allowlist.json');
  writeFileSync(
    file,
    JSON.stringify({ allowedRoots: [{ path: projects, allowReadWrite: true }], ...allowlist }),
  );
  return { base, projects, config: `sandbox: { allowlistPath: ${JSON.stringify(file)} }\n` };
}

/**
 * A shell command printing everything a process in the sandbox could read that might hold
 * `key`: env, every /proc environ and cmdline, and files containing it. The key is split so
 * the command itself (in transcripts and cmdlines) never holds it.
 */
export function leakProbe(key: string): string {
  return [
    'echo UID=$(id -u)',
    'echo ENV-START; env',
    'echo SELF-ENVIRON; tr "\\0" "\\n" < /proc/self/environ',
    'echo ALL-ENVIRON; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr "\\0" "\\n" < "$f" 2>/dev/null; done',
    `K1=${key.slice(0, 15)}; K2=${key.slice(15)}`,
    'echo GREP; grep -rIl --exclude-dir=node_modules -e "$K1$K2" /workspace /tmp /etc /run /opt/clawpod 2>/dev/null',
    'echo PROBE-END',
  ].join('; ');
}

/** The folders of clawpod itself a sandbox could see (VIEW_PROBE lists each). */
const VIEW_DIRS = [
  '/opt/clawpod',
  '/opt/clawpod/agent',
  '/opt/clawpod/node_modules',
  '/opt/clawpod/node_modules/@anthropic-ai',
  '/opt/clawpod/node_modules/@openai',
] as const;

/** A shell command printing one `VIEW <dir>: <entries>` line per folder of VIEW_DIRS. */
export const VIEW_PROBE = VIEW_DIRS.map(
  (d) => `echo "VIEW ${d}: $(ls -A ${d} 2>/dev/null | tr '\\n' ' ')"`,
).join('; ');

/** What VIEW_PROBE printed: folder → its entries, sorted (empty when absent). */
export function parseView(output: string): Record<string, string[]> {
  const view: Record<string, string[]> = {};
  for (const m of output.matchAll(/^VIEW (\S+): (.*)$/gm))
    view[m[1]!] = m[2]!.split(/\s+/).filter(Boolean).sort();
  return view;
}
