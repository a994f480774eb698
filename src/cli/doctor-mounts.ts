import type { Config } from '../config/load.js';
import { GroupMountChecks, mountPolicyFor } from '../groups/group-mounts.js';
import type { Group } from '../store/group-schema.js';
import type { CheckResult } from './doctor-checks.js';

/**
 * Each group's mounts as its next run would get them: a refused one is a failure (that run
 * fails), a read-write one kept read-only a warning, with the fix. Nothing when no group has
 * mounts.
 */
export function checkGroupMounts(
  config: Config,
  groups: readonly Group[],
  home?: string,
): CheckResult[] {
  const checks = new GroupMountChecks(mountPolicyFor(config, home), () =>
    groups.flatMap((g) => g.mounts.map((mount) => ({ group: g.folder, mount }))),
  );
  const out: CheckResult[] = [];
  for (const g of groups) {
    if (g.mounts.length === 0) continue;
    const status = checks.status(g);
    for (const m of status) {
      if (m.mode === 'refused')
        out.push({
          level: 'fail',
          title: `group ${g.folder}: mount "${m.name}" (${m.hostPath}) is refused, so its runs fail: ${m.error ?? ''}`,
          fix: `fix what the message says, or remove the mount: clawpod groups unmount ${g.folder} ${m.name}`,
        });
      else if (m.notes.length)
        out.push({
          level: 'warn',
          title: `group ${g.folder}: mount "${m.name}" is read-only, read-write was asked`,
          fix: m.notes.join('; '),
        });
    }
    const fine = status.filter((m) => m.mode !== 'refused' && m.notes.length === 0);
    if (fine.length)
      out.push({
        level: 'ok',
        title: `group ${g.folder}: ${fine.map((m) => `${m.sandboxPath} (${m.mode})`).join(', ')}`,
      });
  }
  return out;
}
