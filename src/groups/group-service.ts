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
  type GroupSettings,
  type StoredGroupSettings,
} from '../store/group-schema.js';
import { applyOptionsPatch, optionsPatch } from './harness-options.js';

const MAIN_MEMORY = `# Main\n\nThis is the owner's admin chat. You can manage other groups and tasks from here.\n`;
const GLOBAL_MEMORY = `# Shared knowledge\n\nFacts every group's assistant may read.\n`;

function firstIssue(err: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const i = err.issues[0]!;
  return `${i.path.map(String).join('.') || 'body'}: ${i.message}`;
}

/**
 * Creating, changing and removing groups, and binding chats — one implementation behind the
 * CLI, the HTTP API and (later) the `register_group` tool. Inputs are validated here.
 */
export class GroupService {
  private readonly listeners: Array<(group: Group) => void> = [];

  constructor(
    private readonly store: Store,
    private readonly paths: DataPaths,
    private readonly now: () => number = Date.now,
  ) {}

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
    this.store.groups.update(name, withOptions(parsed.data, current.harnessOptions));
    return this.changed(this.get(name));
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

/** `settings` for the store: the options patch (aliases included) applied to `current`. */
function withOptions(
  settings: GroupSettings,
  current: Group['harnessOptions'],
): StoredGroupSettings {
  const { harnessOptions: _h, effort: _e, agentTeams: _a, provider: _p, ...rest } = settings;
  const patch = optionsPatch(settings);
  return patch ? { ...rest, harnessOptions: applyOptionsPatch(current, patch) } : rest;
}
