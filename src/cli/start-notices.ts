import { findHarness } from '../agent/harnesses/index.js';
import type { Config } from '../config/load.js';
import { optionsFor } from '../groups/harness-options.js';
import type { HarnessOptions } from '../store/group-schema.js';

/** A group's harness choice, as start needs it. */
interface GroupHarness {
  folder: string;
  harness: string | null;
  harnessOptions: HarnessOptions;
}

/** One thing the first lines of `clawpod start` must tell the owner. */
export interface StartNotice {
  harness: string;
  groups: string[];
  message: string;
}

/** What to run to add each harness's credential (the harness's own problem text says which). */
const HOW_TO_ADD: Record<string, string> = {
  claude:
    '`clawpod secrets set ANTHROPIC_API_KEY` (or CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`)',
  codex: '`clawpod secrets set OPENAI_API_KEY`',
};

/**
 * Model credentials missing for a harness some group uses (the configured default counts for
 * every group without its own): without one the agent cannot answer, so start says so at once
 * and how to add it, instead of leaving the owner to find out from the first reply. The check
 * is each harness's own `credentialProblem` with the group's options (a codex group on a
 * keyless custom provider needs no OpenAI key).
 */
export function missingModelKeys(config: Config, groups: GroupHarness[]): StartNotice[] {
  const byHarness = new Map<string, string[]>();
  for (const g of groups) {
    const name = g.harness ?? config.file.defaults.harness;
    const spec = findHarness(name)?.spec;
    if (!spec) continue;
    const parsed = spec.optionsSchema.safeParse(optionsFor(g, name));
    if (!parsed.success || !spec.credentialProblem(config.env, parsed.data)) continue;
    byHarness.set(name, [...(byHarness.get(name) ?? []), g.folder]);
  }
  return [...byHarness].map(([harness, folders]) => ({
    harness,
    groups: folders,
    message:
      `no model credential: the ${harness} agent cannot answer until you add one. Run \`clawpod setup\`` +
      (HOW_TO_ADD[harness] ? `, or ${HOW_TO_ADD[harness]}` : '') +
      ', then restart clawpod',
  }));
}
