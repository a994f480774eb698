import { Option, type Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { harnessNames, runtimeNames } from '../../config/schema.js';
import { loadConfig, type Config } from '../../config/load.js';
import { mountPolicyFor, type MountStatus } from '../../groups/group-mounts.js';
import { GroupService } from '../../groups/group-service.js';
import { tildePath } from '../../sandbox/extra-mounts.js';
import type { Group } from '../../store/group-schema.js';
import { json, table } from '../format.js';
import { parseGroupSettings, settableKeys } from '../group-settings.js';
import { withLocalStore } from '../local.js';
import { hostPathMessage, hostPathsIn, rewriteCommand } from '../command-paths.js';
import { UsageError } from '../usage-error.js';
import { safeWriteFile } from '../../sandbox/safe-fs.js';

/**
 * Runs `fn` with a GroupService on the installation's DB (not the API): works whether or not
 * the daemon runs. The main group is ensured first, exactly as `clawpod start` does.
 */
async function withGroups<T>(fn: (groups: GroupService, config: Config) => T): Promise<T> {
  const config = loadConfig();
  return withLocalStore(config, { create: true }, (store) => {
    const groups = new GroupService(store, config.paths, undefined, mountPolicyFor(config));
    groups.ensureMain();
    return fn(groups, config);
  });
}

const orDefault = (v: string | null | undefined, fallback: string) => v ?? `(default: ${fallback})`;

/** One mount as its next run gets it, and why (`shown` puts `~` for the home directory). */
export function renderMount(m: MountStatus, shown: (p: string) => string): string[] {
  const mode =
    m.mode === 'refused'
      ? 'REFUSED: the next run fails'
      : m.mode === 'rw'
        ? 'read-write'
        : m.readOnly
          ? 'read-only'
          : 'read-only (read-write asked)';
  return [
    `${m.name}: ${shown(m.hostPath)} -> ${m.sandboxPath} (${mode})`,
    ...m.notes.map((n) => `  ${n}`),
    ...(m.error ? [`  ${m.error}`] : []),
  ];
}

/**
 * Multi-line description of one group; `config` supplies what null settings fall back to,
 * `mounts` the state of its mounts (else they are listed as set).
 */
export function renderGroup(
  g: Group,
  config: Config,
  mounts?: { status: MountStatus[]; shown: (p: string) => string },
): string {
  const mountLines = mounts
    ? mounts.status.flatMap((m) => renderMount(m, mounts.shown))
    : g.mounts.map(
        (m) =>
          `${m.name}: ${m.hostPath} -> /workspace/extra/${m.name} (${m.readOnly ? 'read-only' : 'read-write'})`,
      );
  const limits = Object.entries(g.limits).map(([k, v]) => `${k}=${String(v)}`);
  const trigger =
    g.isMain || !g.requiresTrigger
      ? 'not required'
      : (g.trigger ?? `@${config.file.assistant.name}`);
  return [
    `name:      ${g.folder}${g.isMain ? ' (main)' : ''}`,
    `chats:     ${g.chats.join(', ') || '(none; clawpod groups bind ' + g.folder + ' <chat>)'}`,
    `trigger:   ${trigger}${g.trigger && (g.isMain || !g.requiresTrigger) ? ` (set: ${g.trigger})` : ''}`,
    `harness:   ${orDefault(g.harness, config.file.defaults.harness)}`,
    ...(g.command ? [`command:   ${g.command}`] : []),
    `runtime:   ${orDefault(g.runtime, config.file.runtime)}`,
    `model:     ${orDefault(g.model, config.file.defaults.model ?? 'harness default')}`,
    `limits:    ${limits.length ? limits.join(', ') : '(config defaults)'}`,
    ...Object.entries(g.harnessOptions).map(
      ([harness, options]) =>
        `${`${harness}:`.padEnd(10)} ${Object.entries(options)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(', ')}`,
    ),
    ...mountLines.map((line, i) => `${i === 0 ? 'mounts:' : ''}`.padEnd(11) + line),
    `folder:    ${join(config.paths.groups, g.folder)}`,
  ].join('\n');
}

function renderList(groups: Group[]): string {
  return table(
    ['NAME', 'CHATS', 'TRIGGER', 'HARNESS', 'RUNTIME', 'MODEL'],
    groups.map((g) => [
      g.folder + (g.isMain ? ' (main)' : ''),
      g.chats.join(', ') || '-',
      g.isMain || !g.requiresTrigger ? 'off' : (g.trigger ?? 'default'),
      g.harness ?? 'default',
      g.runtime ?? 'default',
      g.model ?? 'default',
    ]),
  );
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Paths as the owner writes them: `~` for the home directory. */
function mountPolicyShown(config: Config): (p: string) => string {
  const { homeDir } = mountPolicyFor(config);
  return (p) => tildePath(p, homeDir);
}

/** The group's mounts as its next run gets them, for renderGroup. */
function mountView(g: GroupService, config: Config, name: string) {
  return { status: g.mountStatus(name), shown: mountPolicyShown(config) };
}

function hostKind(path: string): 'file' | 'other' | 'missing' {
  try {
    return statSync(path).isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * A command-harness `command` as it will run: inside the sandbox, where host paths do not
 * exist. A host path in it is refused (UsageError saying why), or with `copy` the files are
 * named by their in-sandbox copy and returned for {@link copyIntoGroup}. The `none` runtime
 * runs on the host itself and is left alone.
 */
function checkCommand(
  group: string,
  command: string,
  opts: { copy?: boolean; runtime: string },
): { command: string; copies: string[] } {
  if (opts.runtime === 'none') return { command, copies: [] };
  const uses = hostPathsIn(command, hostKind);
  if (!uses.length) return { command, copies: [] };
  if (!opts.copy || !uses.every((u) => u.hostFile))
    throw new UsageError(hostPathMessage(group, uses));
  const copies = uses.map((u) => u.path);
  return { command: rewriteCommand(command, copies), copies };
}

/** Copies host files into the group folder (never following anything planted there). */
async function copyIntoGroup(groupDir: string, files: string[]): Promise<string[]> {
  const done: string[] = [];
  for (const file of files) {
    const name = file.slice(file.lastIndexOf('/') + 1);
    const executable = (statSync(file).mode & 0o111) !== 0;
    await safeWriteFile(groupDir, name, readFileSync(file), {
      mode: executable ? 0o755 : 0o644,
      inheritOwner: true,
    });
    done.push(
      `copied ${file} to ${join(groupDir, name)} (/workspace/group/${name} in the sandbox)`,
    );
  }
  return done;
}

interface AddOptions {
  copy?: boolean;
  chat: string[];
  trigger?: string | false;
  harness?: string;
  command?: string;
  runtime?: string;
  model?: string;
  json?: boolean;
}

/** `clawpod groups list|show|add|set|mount|unmount|rm|bind|unbind`, straight on the database through GroupService. */
export function registerGroups(program: Command): void {
  const groups = program
    .command('groups')
    .description('list, show, add, change, remove groups and bind chats to them');

  groups
    .command('list', { isDefault: true })
    .description('all groups with their chats and settings')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withGroups((g) => g.list());
      console.log(opts.json ? json(list) : renderList(list));
    });

  groups
    .command('show <name>')
    .description("one group's settings")
    .option('--json', 'print as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const out = await withGroups((g, config) => {
        const group = g.get(name);
        if (opts.json) return json({ ...group, mountStatus: g.mountStatus(name) });
        return renderGroup(group, config, mountView(g, config, name));
      });
      console.log(out);
    });

  groups
    .command('add <name>')
    .description('add a group (a folder name: lowercase letters, digits, - and _)')
    .option('--chat <chat>', 'bind a chat (<channel>:<id>); repeatable', collect, [])
    .option('--trigger <text>', 'trigger text, e.g. @Andy (default: @<assistant name>)')
    .option('--no-trigger', 'answer every message, no trigger needed')
    .addOption(new Option('--harness <harness>', 'agent harness').choices(harnessNames))
    .option(
      '--command <cmd>',
      'shell command for the command harness (runs inside the sandbox, in /workspace/group)',
    )
    .option('--copy', 'copy host files the command names into the group folder and use those')
    .addOption(new Option('--runtime <runtime>', 'sandbox runtime').choices(runtimeNames))
    .option('--model <model>', 'model for the harness')
    .option('--json', 'print the new group as JSON')
    .action(async (name: string, opts: AddOptions) => {
      const input: Record<string, unknown> = { name, chats: opts.chat };
      if (typeof opts.trigger === 'string') input.trigger = opts.trigger;
      if (opts.trigger === false) input.requiresTrigger = false;
      for (const key of ['harness', 'command', 'runtime', 'model'] as const)
        if (opts[key] !== undefined) input[key] = opts[key];
      const out = await withGroups(async (g, config) => {
        const checked = opts.command
          ? checkCommand(name, opts.command, {
              copy: opts.copy,
              runtime: opts.runtime ?? config.file.runtime,
            })
          : { command: undefined, copies: [] };
        if (checked.command !== undefined) input.command = checked.command;
        const group = g.add(input);
        const copied = await copyIntoGroup(join(config.paths.groups, group.folder), checked.copies);
        if (opts.json) return json(group);
        const hint = group.chats.length
          ? ''
          : `\nbind a chat to it: clawpod groups bind ${group.folder} <channel>:<id>`;
        return [
          ...copied,
          `added group ${group.folder}\n${renderGroup(group, config)}${hint}`,
        ].join('\n');
      });
      console.log(out);
    });

  groups
    .command('set <name> <settings...>')
    .description(`change settings: key=value (keys: ${settableKeys.join(', ')}; value null clears)`)
    .option('--copy', 'copy host files a command names into the group folder and use those')
    .option('--json', 'print the changed group as JSON')
    .action(async (name: string, pairs: string[], opts: { json?: boolean; copy?: boolean }) => {
      const { envPatch, ...patch } = parseGroupSettings(pairs);
      const out = await withGroups(async (g, config) => {
        const current = g.get(name);
        let copies: string[] = [];
        if (typeof patch.command === 'string') {
          const runtime = (patch.runtime ?? current.runtime ?? config.file.runtime) as string;
          const checked = checkCommand(name, patch.command, { copy: opts.copy, runtime });
          patch.command = checked.command;
          copies = checked.copies;
        }
        const copied = await copyIntoGroup(join(config.paths.groups, current.folder), copies);
        if (envPatch) {
          const env: Record<string, string> = { ...g.get(name).env, ...patch.env };
          for (const [k, v] of Object.entries(envPatch)) {
            if (v === null) delete env[k];
            else env[k] = v;
          }
          patch.env = env;
        }
        const group = g.update(name, patch);
        return opts.json
          ? json(group)
          : [
              ...copied,
              `updated group ${group.folder}\n${renderGroup(group, config, mountView(g, config, name))}`,
            ].join('\n');
      });
      console.log(out);
    });

  groups
    .command('mount <name> <hostPath>')
    .description(
      'let the group see a host folder at /workspace/extra/<name> (read-only unless --rw); the mount allowlist must allow it',
    )
    .option('--name <name>', 'name under /workspace/extra (default: the folder name)')
    .option(
      '--rw',
      'read-write (the allowlist root must allow it, and nonMainReadOnly: false for groups other than main)',
    )
    .option('--json', 'print the mount as JSON')
    .action(
      async (
        name: string,
        hostPath: string,
        opts: { name?: string; rw?: boolean; json?: boolean },
      ) => {
        const out = await withGroups((g, config) => {
          const r = g.mount(name, {
            hostPath,
            readOnly: !opts.rw,
            ...(opts.name === undefined ? {} : { name: opts.name }),
          });
          if (opts.json) return json({ ...r.mount, replaced: r.replaced, notes: r.notes });
          const shown = mountPolicyShown(config);
          const [first, ...rest] = renderMount(r.mount, shown);
          return [
            `${r.replaced ? 'replaced' : 'added'} mount of group ${name}: ${first}`,
            ...rest,
            // The resolved path, the read-only notes (rest already holds those).
            ...r.notes.filter((n) => !r.mount.notes.includes(n)).map((n) => `  ${n}`),
            "the group's next run has it (a live session restarts with it)",
          ].join('\n');
        });
        console.log(out);
      },
    );

  groups
    .command('unmount <name> <mount>')
    .description("remove a group's mount by its name (the host folder is untouched)")
    .option('--json', 'print the group as JSON')
    .action(async (name: string, mount: string, opts: { json?: boolean }) => {
      const out = await withGroups((g) => {
        const group = g.unmount(name, mount);
        return opts.json
          ? json(group)
          : `removed mount ${mount} from group ${name} (mounts: ${group.mounts.map((m) => m.name).join(', ') || 'none'})`;
      });
      console.log(out);
    });

  groups
    .command('rm <name>')
    .alias('remove')
    .description('remove a group and its chat bindings (its folder and memory stay on disk)')
    .action(async (name: string) => {
      const folder = await withGroups((g, config) => {
        g.remove(name);
        return join(config.paths.groups, name);
      });
      console.log(`removed group ${name} (its folder ${folder} was kept)`);
    });

  groups
    .command('bind <name> <chat>')
    .description('bind another chat (<channel>:<id>) to a group')
    .option('--json', 'print the group as JSON')
    .action(async (name: string, chat: string, opts: { json?: boolean }) => {
      const group = await withGroups((g) => g.bind(name, chat));
      console.log(
        opts.json
          ? json(group)
          : `bound ${chat} to group ${group.folder} (chats: ${group.chats.join(', ')})`,
      );
    });

  groups
    .command('unbind <name> <chat>')
    .description('unbind a chat from a group (its messages stay; later ones are only stored)')
    .option('--json', 'print the group as JSON')
    .action(async (name: string, chat: string, opts: { json?: boolean }) => {
      const group = await withGroups((g) => g.unbind(name, chat));
      console.log(
        opts.json
          ? json(group)
          : `unbound ${chat} from group ${group.folder} (chats: ${group.chats.join(', ') || 'none'})`,
      );
    });
}
