/**
 * The group setting `mounts`: host folders a group sees at /workspace/extra/<name>. A mount is
 * checked against the mount allowlist when it is set (here), with the same rules the mount
 * policy applies again at every run (src/sandbox/extra-mounts.ts), and stored with its host
 * path resolved through symlinks: a run mounts the folder that was granted, or nothing.
 */
import { homedir } from 'node:os';
import type { Config } from '../config/load.js';
import { defaultAllowlistPath } from '../sandbox/allowlist.js';
import { AllowlistFileError, MountRefusedError } from '../sandbox/errors.js';
import {
  checkExtraMount,
  extraMountContext,
  extraMountTarget,
  nestedNames,
  type ExtraMountConfig,
  type MountRef,
} from '../sandbox/extra-mounts.js';
import type { Group, GroupMount } from '../store/group-schema.js';
import { GroupError } from './errors.js';

/** The mount policy's configuration for an installation. */
export function mountPolicyFor(config: Config, home: string = homedir()): ExtraMountConfig {
  return {
    dataDir: config.paths.home,
    allowlistPath: config.file.sandbox.allowlistPath ?? defaultAllowlistPath(home),
    homeDir: home,
    dbPath: config.paths.db,
  };
}

/** A mount as the policy would decide it at the group's next run. */
export interface MountStatus {
  name: string;
  hostPath: string;
  sandboxPath: string;
  /** As set. */
  readOnly: boolean;
  /** What the next run gets: `refused` fails the run with `error`. */
  mode: 'rw' | 'ro' | 'refused';
  /** Why a read-write mount is read-only now, with the fix. */
  notes: string[];
  error: string | null;
}

/** A changed mount list, ready to store, and what the owner should be told about it. */
export interface CheckedMounts {
  mounts: GroupMount[];
  notes: string[];
}

const refs = (group: string, list: readonly GroupMount[]): MountRef[] =>
  list.map((m) => ({ group, name: m.name, hostPath: m.hostPath }));

const same = (a: GroupMount, b: GroupMount): boolean =>
  a.name === b.name && a.hostPath === b.hostPath && a.readOnly === b.readOnly;

/** A sandbox-layer refusal as the GroupError the CLI and the API report. */
function asGroupError(err: unknown): never {
  if (err instanceof MountRefusedError) throw new GroupError('forbidden', err.message);
  if (err instanceof AllowlistFileError) throw new GroupError('invalid', err.message);
  throw err;
}

/**
 * The mount checks of one installation. `others` lists every group's stored mounts (the
 * nesting rule looks at all of them).
 */
export class GroupMountChecks {
  constructor(
    private readonly policy: ExtraMountConfig | undefined,
    private readonly others: () => Array<{ group: string; mount: GroupMount }>,
  ) {}

  private config(): ExtraMountConfig {
    if (!this.policy)
      throw new GroupError(
        'invalid',
        'mounts cannot be checked here: set them with `clawpod groups mount` or the HTTP API',
      );
    return this.policy;
  }

  /**
   * Checks `next`, the group's whole new list: entries new or changed since `current` against
   * the allowlist and the nesting rule (unchanged ones are checked at each run). Throws
   * GroupError naming the mount, the rule and the fix.
   */
  check(
    group: { folder: string; isMain: boolean },
    current: GroupMount[],
    next: GroupMount[],
  ): CheckedMounts {
    const names = next.map((m) => m.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined)
      throw new GroupError(
        'conflict',
        `mount name "${dup}" is used twice in group "${group.folder}"`,
      );
    const nested = nestedNames(names);
    if (nested)
      throw new GroupError(
        'invalid',
        `mount names "${nested[0]}" and "${nested[1]}" nest (/workspace/extra/${nested[1]} would lie inside /workspace/extra/${nested[0]}): give each a name of its own`,
      );
    const changed = next.filter((m) => !current.some((c) => same(c, m)));
    for (const m of changed) {
      try {
        extraMountTarget(m.name);
      } catch (err) {
        throw new GroupError('invalid', (err as Error).message);
      }
    }
    if (changed.length === 0) return { mounts: next, notes: [] };
    const cfg = this.config();
    try {
      const ctx = extraMountContext(cfg, changed[0]!.hostPath);
      // First resolve each new entry, then check all of them against every other mount.
      const resolved = next.map((m) => {
        if (!changed.includes(m)) return m;
        const r = checkExtraMount(ctx, m, { isMain: group.isMain });
        return { ...m, hostPath: r.hostPath };
      });
      const elsewhere = this.others().filter((o) => o.group !== group.folder);
      const all = [
        ...elsewhere.map((o) => ({
          group: o.group,
          name: o.mount.name,
          hostPath: o.mount.hostPath,
        })),
        ...refs(group.folder, resolved),
      ];
      const writable = [
        ...elsewhere
          .filter((o) => !o.mount.readOnly)
          .map((o) => ({ group: o.group, name: o.mount.name, hostPath: o.mount.hostPath })),
        ...refs(
          group.folder,
          resolved.filter((m) => !m.readOnly),
        ),
      ];
      const notes: string[] = [];
      for (const [i, m] of next.entries()) {
        if (!changed.includes(m)) continue;
        const r = checkExtraMount(ctx, resolved[i]!, {
          isMain: group.isMain,
          writable,
          all,
          group: group.folder,
        });
        const given = m.hostPath;
        if (r.hostPath !== given && r.hostPath !== given.replace(/\/+$/, ''))
          notes.push(
            `Mount "${m.name}": ${given} resolves to ${r.hostPath}; that folder is mounted (a later change of the link does not move it)`,
          );
        notes.push(...r.notes);
      }
      return { mounts: resolved, notes };
    } catch (err) {
      return asGroupError(err);
    }
  }

  /** Each of the group's mounts as its next run would get it. */
  status(group: Group): MountStatus[] {
    if (group.mounts.length === 0) return [];
    const cfg = this.config();
    const writable = this.others()
      .filter((o) => !o.mount.readOnly)
      .map((o) => ({ group: o.group, name: o.mount.name, hostPath: o.mount.hostPath }));
    let ctx: ReturnType<typeof extraMountContext> | null = null;
    let ctxError: string | null = null;
    try {
      ctx = extraMountContext(cfg, group.mounts[0]!.hostPath);
    } catch (err) {
      if (!(err instanceof MountRefusedError || err instanceof AllowlistFileError)) throw err;
      ctxError = err.message;
    }
    return group.mounts.map((m): MountStatus => {
      const base = {
        name: m.name,
        hostPath: m.hostPath,
        sandboxPath: `/workspace/extra/${m.name}`,
        readOnly: m.readOnly,
      };
      if (!ctx) return { ...base, mode: 'refused', notes: [], error: ctxError };
      try {
        const r = checkExtraMount(ctx, m, {
          isMain: group.isMain,
          exact: true,
          writable,
          group: group.folder,
        });
        return { ...base, mode: r.readOnly ? 'ro' : 'rw', notes: r.notes, error: null };
      } catch (err) {
        if (!(err instanceof MountRefusedError || err instanceof AllowlistFileError)) throw err;
        return { ...base, mode: 'refused', notes: [], error: err.message };
      }
    });
  }
}
