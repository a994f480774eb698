import { readFileSync } from 'node:fs';
import type { CheckResult } from '../doctor-checks.js';
import { checkNode } from '../doctor-checks.js';
import { checkRuntimes } from '../doctor-runtimes.js';
import type { Prompter } from './prompter.js';

/** Probes the sandbox runtimes as doctor does (injected in tests). */
export type RuntimeProbe = (configured: string, image?: string) => Promise<CheckResult[]>;

/** The `ID`/`ID_LIKE` words of /etc/os-release (empty when unreadable). */
export function osIds(text?: string): string[] {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/etc/os-release', 'utf8');
    } catch {
      return [];
    }
  }
  const ids: string[] = [];
  for (const m of t.matchAll(/^(ID|ID_LIKE)=("?)([^"\n]*)\2$/gm)) ids.push(...m[3]!.split(/\s+/));
  return ids.filter(Boolean);
}

/** The command that installs a sandbox runtime on this system. */
export function installCommand(platform: string = process.platform, ids = osIds()): string {
  if (platform === 'darwin')
    return 'brew install podman && podman machine init && podman machine start';
  const has = (id: string) => ids.includes(id);
  if (has('debian') || has('ubuntu')) return 'sudo apt-get install -y bubblewrap';
  if (has('fedora') || has('rhel') || has('centos')) return 'sudo dnf install -y bubblewrap';
  if (has('arch')) return 'sudo pacman -S --needed bubblewrap';
  if (has('alpine')) return 'sudo apk add bubblewrap';
  if (has('suse') || has('opensuse')) return 'sudo zypper install -y bubblewrap';
  return 'install bubblewrap (bwrap) or podman with your package manager';
}

/** The line of checkRuntimes that says which runtime runs use, if any is usable. */
const chosen = (results: CheckResult[]) => results.find((r) => r.title.startsWith('runs use '));

/**
 * Node and the sandbox runtime: fine, or the failure with the exact install command, then a
 * re-check until a runtime works or the owner goes on without one. Returns whether one works.
 */
export async function runtimeStep(
  ui: Prompter,
  runtime: { configured: string; image?: string },
  probe: RuntimeProbe = checkRuntimes,
): Promise<boolean> {
  const node = checkNode();
  if (node.level === 'ok') ui.ok(node.title);
  else ui.error(`${node.title}\n${node.fix ?? ''}`);
  for (;;) {
    const results = await probe(runtime.configured, runtime.image);
    const use = chosen(results);
    if (use?.level === 'ok') {
      ui.ok(`sandbox: ${use.title}`);
      return true;
    }
    const why = results
      .filter((r) => r.level !== 'ok' && r.fix)
      .map((r) => `${r.title}: ${r.fix}`)
      .join('\n');
    ui.warn(
      `No sandbox runtime works here, so agents cannot run.\n${why}\n\nInstall one:\n  ${installCommand()}`,
    );
    const next = await ui.select('Then:', [
      { value: 'again', label: 'Check again' },
      { value: 'skip', label: 'Go on without a sandbox for now' },
    ]);
    if (next === 'skip') return false;
  }
}
