import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import type { Config } from '../config/load.js';
import type { harnessNames } from '../config/schema.js';
import { traversalProblem } from '../sandbox/host-access.js';
import {
  daemonIds,
  deprecatedIdKeys,
  HOST_ID_FILES,
  idRangeCollisions,
  type DaemonIds,
  type HostIdFiles,
} from '../sandbox/sandbox-ids.js';
import { ApiClient } from './api-client.js';

/** One doctor finding. `fail` makes `clawpod doctor` exit 1; `warn` does not. */
export interface CheckResult {
  level: 'ok' | 'warn' | 'fail';
  title: string;
  /** What to do about it (shown for warn and fail). */
  fix?: string;
}

const ok = (title: string): CheckResult => ({ level: 'ok', title });

/** Node.js ≥ 20. */
export function checkNode(versionString = process.versions.node): CheckResult {
  const major = Number(versionString.split('.')[0]);
  return major >= 20
    ? ok(`node ${versionString}`)
    : {
        level: 'fail',
        title: `node ${versionString} is too old (need ≥ 20)`,
        fix: 'install Node.js 20 or newer (https://nodejs.org or your package manager)',
      };
}

/** The data dir exists and is writable (a missing one is created by `clawpod start`). */
export function checkDataDir(home: string): CheckResult {
  if (!existsSync(home)) {
    let parent = dirname(home);
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    try {
      accessSync(parent, constants.W_OK);
      return {
        level: 'warn',
        title: `data dir ${home} does not exist yet`,
        fix: `\`clawpod start\` creates it (or: mkdir -p -m 700 ${home})`,
      };
    } catch {
      return {
        level: 'fail',
        title: `data dir ${home} does not exist and ${parent} is not writable`,
        fix: `set CLAWPOD_HOME to a writable directory, or: sudo install -d -m 700 -o $USER ${home}`,
      };
    }
  }
  if (!statSync(home).isDirectory()) {
    return {
      level: 'fail',
      title: `data dir ${home} is not a directory`,
      fix: 'set CLAWPOD_HOME to a directory (or move that file away)',
    };
  }
  try {
    accessSync(home, constants.W_OK | constants.R_OK);
    return ok(`data dir ${home} is writable`);
  } catch {
    return {
      level: 'fail',
      title: `data dir ${home} is not writable`,
      fix: `chown -R $USER ${home} && chmod 700 ${home} (or set CLAWPOD_HOME)`,
    };
  }
}

/** A file holding secrets must not be readable by others: mode 0600. */
export function checkSecretFileMode(
  file: string,
  what: string,
  missing: CheckResult | null,
): CheckResult | null {
  if (!existsSync(file)) return missing;
  if (process.platform === 'win32') return ok(`${what} ${file} exists`);
  const mode = statSync(file).mode & 0o777;
  if (mode === 0o600 || mode === 0o400) return ok(`${what} ${file} has mode 0${mode.toString(8)}`);
  return {
    level: 'fail',
    title: `${what} ${file} has mode 0${mode.toString(8)} (others may read it)`,
    fix: `chmod 600 ${file}`,
  };
}

type Harness = (typeof harnessNames)[number];

/** Model credentials per harness, read from `config.env` (process env over `.env`). Names only, never values. */
export function checkCredentials(
  env: Readonly<Record<string, string>>,
  used: ReadonlySet<Harness | string>,
  envFile: string,
): CheckResult[] {
  const has = (name: string) => Boolean(env[name]?.trim());
  const out: CheckResult[] = [];
  const claudeVar = ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN'].find(has);
  if (claudeVar) out.push(ok(`claude credentials: ${claudeVar} is set`));
  else {
    out.push({
      level: used.has('claude') ? 'fail' : 'warn',
      title: `claude credentials: neither ANTHROPIC_API_KEY nor CLAUDE_CODE_OAUTH_TOKEN is set${used.has('claude') ? '' : ' (no group uses claude)'}`,
      fix: `add ANTHROPIC_API_KEY=… (or CLAUDE_CODE_OAUTH_TOKEN=… from \`claude setup-token\`) to ${envFile} (chmod 600)`,
    });
  }
  if (has('OPENAI_API_KEY')) out.push(ok('codex credentials: OPENAI_API_KEY is set'));
  else {
    out.push({
      level: used.has('codex') ? 'fail' : 'warn',
      title: `codex credentials: OPENAI_API_KEY is not set${used.has('codex') ? '' : ' (no group uses codex)'}`,
      fix: `add OPENAI_API_KEY=… to ${envFile} (chmod 600)`,
    });
  }
  return out;
}

/** Tries to listen on host:port; resolves null when free, else the error code. */
function tryBind(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** The HTTP port: a clawpod daemon answers there, or the port is free to bind. */
export async function checkPort(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): Promise<CheckResult> {
  const client = ApiClient.fromConfig(config, env);
  const health = await client.probe();
  if (health) return ok(`daemon answering at ${client.baseUrl} (v${health.version})`);
  if (env.CLAWPOD_URL?.trim()) {
    return {
      level: 'warn',
      title: `nothing answers at CLAWPOD_URL=${client.baseUrl}`,
      fix: 'start the daemon there, or unset CLAWPOD_URL to use config.yaml http.host/port',
    };
  }
  const { host, port } = config.file.http;
  if (port === 0)
    return ok('http.port is 0: the daemon picks a free port (the CLI finds it in daemon.json)');
  const err = await tryBind(host, port);
  if (err === null) return ok(`HTTP port ${host}:${port} is free (daemon not running)`);
  if (err === 'EADDRINUSE') {
    return {
      level: 'fail',
      title: `HTTP port ${host}:${port} is in use by another program`,
      fix: `stop that program (see: ss -ltnp 'sport = :${port}') or set http.port in ${config.paths.configFile}`,
    };
  }
  return {
    level: 'fail',
    title: `cannot listen on ${host}:${port} (${err})`,
    fix: `set http.host / http.port in ${config.paths.configFile} to an address of this machine`,
  };
}

/**
 * Who sandboxes run as. Root: each group its own uid from sandbox.uidBase, and the range must
 * be free (fail otherwise, as `start` refuses it). Not root: every sandbox runs as this user,
 * so bubblewrap's process limit (counted per uid) is shared by all groups (warn).
 */
export function checkSandboxIds(
  config: Config,
  daemon: DaemonIds = daemonIds(),
  files: HostIdFiles = HOST_ID_FILES,
): CheckResult[] {
  const { uidBase, uidCount, ...rest } = config.file.sandbox;
  const range = { base: uidBase, count: uidCount };
  const results: CheckResult[] = deprecatedIdKeys(rest).map((w) => ({
    level: 'warn',
    title: w,
    fix: `remove sandbox.uid/sandbox.gid from ${config.paths.configFile}`,
  }));
  const shown = `${uidBase}-${uidBase + uidCount - 1}`;
  if (daemon.uid !== 0) {
    results.push({
      level: 'warn',
      title: `sandboxes run as your uid ${daemon.uid}: all groups share one process limit (bubblewrap counts processes per uid)`,
      fix: 'run the daemon as root (each group then gets its own uid from sandbox.uidBase) or use runtime podman (a pids limit per container)',
    });
    return results;
  }
  const collisions = idRangeCollisions(range, files);
  results.push(
    collisions.length === 0
      ? ok(`sandbox ids ${shown} are free (one uid per group, gid ${uidBase})`)
      : {
          level: 'fail',
          title: `sandbox ids ${shown} are in use: ${collisions.join('; ')}`,
          fix: `set sandbox.uidBase (and sandbox.uidCount) in ${config.paths.configFile} to a free range`,
        },
  );
  // bubblewrap (and none) open their mounts as the group's uid: it must get to the data dir.
  const home = config.paths.home;
  if (['auto', 'bubblewrap', 'none'].includes(config.file.runtime) && existsSync(home)) {
    const problem = traversalProblem(home, uidBase + 1, uidBase);
    if (problem) {
      results.push({
        level: 'warn',
        title: `sandboxes cannot reach the data dir ${home}: ${problem}`,
        fix: `keep CLAWPOD_HOME where every sandbox uid may traverse (e.g. /var/lib/clawpod), or chmod o+x the directory named`,
      });
    }
  }
  return results;
}

/**
 * `main` wakes only for the owner unless its `senders` says otherwise: a chat of another channel
 * bound to main needs the owner's id on that channel in `owner.ids`, or nobody there can wake it.
 */
export function checkOwnerIds(
  config: Config,
  main: { chats: string[]; senders: unknown } | undefined,
): CheckResult[] {
  if (!main || main.senders) return [];
  const ids = config.file.owner.ids;
  const prefix = (id: string) => id.slice(0, id.indexOf(':') + 1);
  const unowned = main.chats.filter(
    (c) => !c.startsWith('web:') && !ids.some((id) => prefix(id) === prefix(c)),
  );
  if (!unowned.length) return [ok('main wakes for the owner on each of its channels')];
  return [
    {
      level: 'warn',
      title: `main is bound to ${unowned.join(', ')} but owner.ids names no sender there: messages in those chats are kept as context and never wake main`,
      fix: `add your sender id on each channel to owner.ids in ${config.paths.configFile} (e.g. owner: { ids: ['${prefix(unowned[0]!)}<your id>'] }; the id is shown as sender_id in \`clawpod logs\` and in the chat's messages), or let others wake main: clawpod groups set main senders='{"allow":"all"}'`,
    },
  ];
}
