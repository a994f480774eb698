import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from '../config/load.js';
import type { Store } from '../store/store.js';
import { GroupError } from './errors.js';
import {
  chatIdSchema,
  folderNameSchema,
  groupSettingsSchema,
  newGroupSchema,
  type Group,
  groupMountSchema,
  MAX_GROUP_MOUNTS,
  type GroupMount,
  type GroupSettings,
  type StoredGroupSettings,
} from '../store/group-schema.js';
import { applyOptionsPatch, optionsPatch } from './harness-options.js';
import { GroupMountChecks, type MountStatus } from './group-mounts.js';
import type { ExtraMountConfig } from '../sandbox/extra-mounts.js';

const MAIN_MEMORY = `# Main\n\nThis is the owner's admin chat. You can manage other groups and tasks from here.\n`;
const GLOBAL_MEMORY = `# Shared knowledge\n\nFacts every group's assistant may read.\n`;

function firstIssue(err: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const i = err.issues[0]!;
  return `${i.path.map(String).join('.') || 'body'}: ${i.message}`;
}

/** Body of `POST /api/groups/:name/mounts` and `clawpod groups mount`: the name defaults to the folder's. */
export const mountRequestSchema = groupMountSchema.extend({
  name: groupMountSchema.shape.name.optional(),
});

/** What `mount` did: the group after it, the mount as its next run gets it, and notes. */
export interface MountResult {
  group: Group;
  mount: MountStatus;
  /** The name was in use: that mount was replaced. */
  replaced: boolean;
  /** For the owner: a link resolved, read-write mounted read-only (with the fix). */
  notes: string[];
}

/**
 * Creating, changing and removing groups, and binding chats — one implementation behind the
 * CLI, the HTTP API and (later) the `register_group` tool. Inputs are validated here.
 */
export class GroupService {
  private readonly listeners: Array<(group: Group) => void> = [];
  private readonly mountChecks: GroupMountChecks;

  /**
   * `mountPolicy`: where the mount allowlist is (mountPolicyFor(config)); without it the
   * `mounts` setting cannot be changed through this service.
   */
  constructor(
    private readonly store: Store,
    private readonly paths: DataPaths,
    private readonly now: () => number = Date.now,
    mountPolicy?: ExtraMountConfig,
  ) {
    this.mountChecks = new GroupMountChecks(mountPolicy, () => store.groups.allMounts());
  }

  /** Calls `fn` with a group after it was added or its settings changed (the daemon reacts). */
  onChange(fn: (group: Group) => void): void {
    this.listeners.push(fn);
  }

  private changed(group: Group): Group {
    for (const fn of this.listeners) fn(group);
    return group;
  }

  /** First start: the global folder and the `main` group bound to `web:main`. Idempotent. */
  ensureMain(): Group {
    this.ensureFolder('global', GLOBAL_MEMORY);
    const existing = this.store.groups.main();
    if (existing) return existing;
    this.store.tx(() => {
      this.store.groups.insert(
        'main',
        { requiresTrigger: false },
        { isMain: true, now: this.now() },
      );
      this.store.groups.bind('web:main', 'main', this.now());
    });
    this.ensureFolder('main', MAIN_MEMORY);
    return this.store.groups.main()!;
  }

  list(): Group[] {
    return this.store.groups.list();
  }

  get(name: string): Group {
    const g = this.store.groups.get(name);
    if (!g) throw new GroupError('not_found', `no group named "${name}" (clawpod groups list)`);
    return g;
  }

  add(input: unknown): Group {
    const parsed = newGroupSchema.safeParse(input);
    if (!parsed.success) throw new GroupError('invalid', firstIssue(parsed.error));
    const { name, chats, ...given } = parsed.data;
    const settings = withOptions(given, {});
    if (this.store.groups.get(name))
      throw new GroupError('conflict', `group "${name}" already exists`);
    if (given.mounts?.length)
      settings.mounts = this.mountChecks.check(
        { folder: name, isMain: false },
        [],
        given.mounts,
      ).mounts;
    this.store.tx(() => {
      this.store.groups.insert(name, settings, { now: this.now() });
      for (const chat of chats) this.bindChecked(chat, name);
    });
    this.ensureFolder(name, `# ${name}\n`);
    return this.changed(this.get(name));
  }

  update(name: string, input: unknown): Group {
    const current = this.get(name);
    const parsed = groupSettingsSchema.safeParse(input);
    if (!parsed.success) throw new GroupError('invalid', firstIssue(parsed.error));
    const settings = withOptions(parsed.data, current.harnessOptions);
    if (parsed.data.mounts !== undefined)
      settings.mounts = this.mountChecks.check(
        current,
        current.mounts,
        parsed.data.mounts ?? [],
      ).mounts;
    this.store.groups.update(name, settings);
    return this.changed(this.get(name));
  }

  /**
   * Adds a host folder to the group at /workspace/extra/<name> (name: the folder's own name
   * unless given), or replaces the mount of that name. Checked against the mount allowlist now
   * and again at every run; the group's live session restarts with it.
   */
  mount(name: string, input: unknown): MountResult {
    const current = this.get(name);
    const parsed = mountRequestSchema.safeParse(input);
    if (!parsed.success) throw new GroupError('invalid', firstIssue(parsed.error));
    const { hostPath, readOnly } = parsed.data;
    const mountName = parsed.data.name ?? folderName(hostPath);
    const entry: GroupMount = { name: mountName, hostPath, readOnly };
    const replaced = current.mounts.some((m) => m.name === mountName);
    const next = replaced
      ? current.mounts.map((m) => (m.name === mountName ? entry : m))
      : [...current.mounts, entry];
    if (next.length > MAX_GROUP_MOUNTS)
      throw new GroupError('invalid', `a group has at most ${MAX_GROUP_MOUNTS} mounts`);
    const checked = this.mountChecks.check(current, current.mounts, next);
    this.store.groups.update(name, { mounts: checked.mounts });
    const group = this.changed(this.get(name));
    const mount = this.mountChecks.status(group).find((m) => m.name === mountName)!;
    return { group, mount, replaced, notes: checked.notes };
  }

  /** Removes the group's mount `mountName` (the host folder is untouched). */
  unmount(name: string, mountName: string): Group {
    const current = this.get(name);
    if (!current.mounts.some((m) => m.name === mountName))
      throw new GroupError(
        'not_found',
        `group "${name}" has no mount named "${mountName}" (mounts: ${current.mounts.map((m) => m.name).join(', ') || 'none'})`,
      );
    this.store.groups.update(name, { mounts: current.mounts.filter((m) => m.name !== mountName) });
    return this.changed(this.get(name));
  }

  /** The group's mounts as its next run would get them (the allowlist read now). */
  mountStatus(name: string): MountStatus[] {
    return this.mountChecks.status(this.get(name));
  }

  /** Removes a group and its bindings; its folder stays on disk (memory is never deleted). */
  remove(name: string): void {
    const g = this.get(name);
    if (g.isMain) throw new GroupError('forbidden', 'the main group cannot be removed');
    this.store.groups.remove(name);
  }

  bind(name: string, chat: string): Group {
    this.get(name);
    this.store.tx(() => this.bindChecked(chat, name));
    return this.get(name);
  }

  /** Unbinds a chat from a group (its messages stay; later ones are kept for discovery). */
  unbind(name: string, chat: string): Group {
    const g = this.get(name);
    if (!g.chats.includes(chat))
      throw new GroupError('not_found', `chat ${chat} is not bound to group "${name}"`);
    this.store.groups.unbind(chat);
    return this.get(name);
  }

  private bindChecked(chat: string, name: string): void {
    const parsed = chatIdSchema.safeParse(chat);
    if (!parsed.success)
      throw new GroupError('invalid', `chat "${chat}": ${parsed.error.issues[0]!.message}`);
    const owner = this.store.groups.groupForChat(chat);
    if (owner && owner.folder !== name) {
      throw new GroupError(
        'conflict',
        `chat ${chat} is bound to group "${owner.folder}"; unbind it there first (clawpod groups unbind ${owner.folder} ${chat})`,
      );
    }
    // A newly bound chat starts from now: what it said while unbound stays history.
    if (!owner) this.store.cursors.skipToLatest(chat);
    this.store.groups.bind(chat, name, this.now());
  }

  private ensureFolder(name: string, memory: string): void {
    if (name !== 'global') folderNameSchema.parse(name);
    const dir = join(this.paths.groups, name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'CLAUDE.md');
    if (!existsSync(file)) writeFileSync(file, memory);
  }
}

/** The last component of a host path (`~/projects/app/` → `app`), the default mount name. */
function folderName(hostPath: string): string {
  const parts = hostPath.split('/').filter((p) => p && p !== '~');
  const last = parts.at(-1);
  if (!last || last === '.' || last === '..')
    throw new GroupError('invalid', `give the mount a name: "${hostPath}" has no folder name`);
  return last;
}

/** `settings` for the store: the options patch (aliases included) applied to `current`. */
function withOptions(
  settings: GroupSettings,
  current: Group['harnessOptions'],
): StoredGroupSettings {
  const { harnessOptions: _h, effort: _e, agentTeams: _a, provider: _p, ...rest } = settings;
  const patch = optionsPatch(settings);
  return patch ? { ...rest, harnessOptions: applyOptionsPatch(current, patch) } : rest;
}
