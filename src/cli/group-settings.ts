import { harnessNames } from '../config/schema.js';
import type { GroupSettings } from '../store/group-schema.js';
import { UsageError } from './usage-error.js';

type StringKey = 'trigger' | 'harness' | 'command' | 'runtime' | 'model' | 'effort';
type LimitKey = 'memoryMb' | 'cpus' | 'pids' | 'runTimeoutMs';
type BoolKey = 'requiresTrigger' | 'agentTeams' | 'warm' | 'threadReplies';

const stringKeys: Record<string, StringKey> = {
  trigger: 'trigger',
  harness: 'harness',
  command: 'command',
  runtime: 'runtime',
  model: 'model',
  effort: 'effort',
};
/** Boolean settings, under their snake_case and camelCase names. */
const boolKeys: Record<string, BoolKey> = {
  requires_trigger: 'requiresTrigger',
  requiresTrigger: 'requiresTrigger',
  agent_teams: 'agentTeams',
  agentTeams: 'agentTeams',
  warm: 'warm',
  thread_replies: 'threadReplies',
  threadReplies: 'threadReplies',
};
const limitKeys: Record<string, LimitKey> = {
  'limits.memoryMb': 'memoryMb',
  'limits.memory_mb': 'memoryMb',
  'limits.cpus': 'cpus',
  'limits.pids': 'pids',
  'limits.runTimeoutMs': 'runTimeoutMs',
  'limits.run_timeout_ms': 'runTimeoutMs',
};

/** The keys `clawpod groups set` accepts, for help and error messages. */
export const settableKeys = [
  'trigger',
  'requires_trigger',
  'harness',
  'command',
  'runtime',
  'model',
  'effort',
  'agent_teams',
  'warm',
  'thread_replies',
  'env.NAME',
  'senders',
  'delegates',
  'mounts',
  'provider',
  '<harness>.<option>',
  'limits.memoryMb',
  'limits.cpus',
  'limits.pids',
  'limits.runTimeoutMs',
] as const;

/**
 * Turns `key=value` arguments into a settings patch for GroupService.update. Syntax problems
 * (no `=`, unknown key, a non-boolean or non-number where one is needed) throw UsageError; the
 * values themselves are validated by the group schema. `null` clears a setting (for a limit:
 * falls back to the config default). `<harness>.<option>=<value>` sets one of a harness's options
 * (`claude.effort=high`, `codex.provider={…}`): the value is read as JSON when it is JSON, else
 * as a string; `effort`, `agent_teams` and `provider` are the old names, kept as aliases.
 */
export function parseGroupSettings(
  pairs: string[],
): GroupSettings & { envPatch?: Record<string, string | null> } {
  if (!pairs.length)
    throw new UsageError(
      `groups set needs at least one key=value (keys: ${settableKeys.join(', ')})`,
    );
  const out: GroupSettings & { envPatch?: Record<string, string | null> } = {};
  const envPatch: Record<string, string | null> = {};
  const limits: Record<string, number | undefined> = {};
  let anyLimit = false;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new UsageError(`"${pair}" is not key=value (keys: ${settableKeys.join(', ')})`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1);
    const isNull = value.trim() === 'null';
    if (key in stringKeys) {
      // The schema checks the enums and lengths.
      (out as Record<string, unknown>)[stringKeys[key]!] = isNull ? null : value;
    } else if (key in boolKeys) {
      const v = value.trim().toLowerCase();
      if (v !== 'true' && v !== 'false')
        throw new UsageError(`${key} must be true or false, not "${value}"`);
      out[boolKeys[key]!] = v === 'true';
    } else if (key.startsWith('env.')) {
      // One variable per pair, merged into the group's env by the caller; null removes it.
      envPatch[key.slice(4)] = isNull ? null : value;
    } else if (key === 'env' && isNull) {
      out.env = {};
    } else if (key === 'delegates') {
      // A comma-separated list of group folders (delegates=coder,research), or a JSON array.
      const v = value.trim();
      (out as Record<string, unknown>).delegates =
        isNull || v === ''
          ? null
          : v.startsWith('[')
            ? jsonOrText(v)
            : v
                .split(',')
                .map((g) => g.trim())
                .filter(Boolean);
    } else if (key === 'mounts') {
      // The whole list as JSON ('[{"hostPath":"~/projects/app","name":"app","readOnly":false}]')
      // or null for none; `clawpod groups mount` / `unmount` change one at a time.
      try {
        out.mounts = isNull ? null : (JSON.parse(value) as GroupSettings['mounts']);
      } catch {
        throw new UsageError(
          `mounts must be a JSON list or null, not "${value}" (one at a time: clawpod groups mount <group> <hostPath>)`,
        );
      }
    } else if (key === 'senders' || key === 'provider') {
      // JSON values, e.g. senders='{"allow":["tg:1"],"others":"store"}'; the schema checks them.
      try {
        (out as Record<string, unknown>)[key] = isNull ? null : (JSON.parse(value) as unknown);
      } catch {
        throw new UsageError(`${key} must be JSON or null, not "${value}"`);
      }
    } else if (harnessNames.includes(key.split('.')[0]!) && key.includes('.')) {
      // One option of one harness; the harness's optionsSchema checks it.
      const [harness, option] = [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)];
      if (!option) throw new UsageError(`"${key}" names no option (e.g. claude.effort=high)`);
      const options = (out.harnessOptions ??= {});
      options[harness] = { ...options[harness], [option]: isNull ? null : jsonOrText(value) };
    } else if (key in limitKeys) {
      anyLimit = true;
      if (isNull) limits[limitKeys[key]!] = undefined;
      else {
        const n = Number(value);
        if (value.trim() === '' || !Number.isFinite(n))
          throw new UsageError(`${key} must be a number, not "${value}"`);
        limits[limitKeys[key]!] = n;
      }
    } else {
      throw new UsageError(`unknown setting "${key}" (keys: ${settableKeys.join(', ')})`);
    }
  }
  if (anyLimit) out.limits = limits;
  if (Object.keys(envPatch).length) out.envPatch = envPatch;
  return out;
}

/** `value` parsed as JSON (`true`, `3`, `{…}`), or the text itself when it is not JSON. */
function jsonOrText(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
