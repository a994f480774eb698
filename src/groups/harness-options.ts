import { builtinHarnesses, findHarness } from '../agent/harnesses/index.js';
import { GroupError } from './errors.js';
import type { GroupSettings, HarnessOptions } from '../store/group-schema.js';

/**
 * Group settings that were top-level keys before options moved into `harnessOptions`, and the
 * harnesses each one now sets (`effort` applied to both harnesses that read it). Kept as
 * aliases so `clawpod groups set main effort=high` and old API clients still work. Frozen: a new
 * harness option is reached through `harnessOptions.<harness>` (CLI `<harness>.<option>=`).
 */
export const LEGACY_OPTION_KEYS = {
  effort: ['claude', 'codex'],
  agentTeams: ['claude'],
  provider: ['codex'],
} as const satisfies Record<string, readonly string[]>;

type Patch = NonNullable<GroupSettings['harnessOptions']>;

/** The options patch a settings change asks for: `harnessOptions` with the aliases folded in. */
export function optionsPatch(settings: GroupSettings): Patch | undefined {
  const patch: Patch = { ...settings.harnessOptions };
  let any = settings.harnessOptions !== undefined;
  for (const [key, harnesses] of Object.entries(LEGACY_OPTION_KEYS)) {
    const value = settings[key as keyof typeof LEGACY_OPTION_KEYS];
    if (value === undefined) continue;
    any = true;
    for (const h of harnesses) {
      // An alias never overrides the same option given explicitly in harnessOptions.
      const block = patch[h];
      if (block === null) continue;
      if (block && key in block) continue;
      // `agentTeams: false` was the old way to turn teams off: the option's absence.
      patch[h] = { ...block, [key]: key === 'agentTeams' && value === false ? null : value };
    }
  }
  return any ? patch : undefined;
}

/**
 * `current` with `patch` applied (per harness: a JSON merge patch, null removes), each changed
 * harness's block checked by its optionsSchema. Throws GroupError('invalid') naming the option
 * and what it expects, or an unknown harness.
 */
export function applyOptionsPatch(current: HarnessOptions, patch: Patch): HarnessOptions {
  const next: HarnessOptions = { ...current };
  for (const [name, block] of Object.entries(patch)) {
    const entry = findHarness(name);
    if (!entry) {
      const have = builtinHarnesses.map((h) => h.spec.name).join(', ');
      throw new GroupError(
        'invalid',
        `harnessOptions.${name}: no harness "${name}" (have: ${have})`,
      );
    }
    if (block === null) {
      delete next[name];
      continue;
    }
    const merged: Record<string, unknown> = { ...next[name] };
    for (const [k, v] of Object.entries(block)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    const parsed = entry.spec.optionsSchema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = ['harnessOptions', name, ...issue.path.map(String)].join('.');
      throw new GroupError('invalid', `${where}: ${issue.message}`);
    }
    const value = parsed.data as Record<string, unknown>;
    if (Object.keys(value).length) next[name] = value;
    else delete next[name];
  }
  return next;
}

/** The options of `harness` in `group` (an empty object when it has none). */
export function optionsFor(
  group: { harnessOptions: HarnessOptions },
  harness: string,
): Record<string, unknown> {
  return group.harnessOptions[harness] ?? {};
}
