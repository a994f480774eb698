import type { Config } from '../config/load.js';
import { claudeCredentialProblem } from '../runs/harness-credentials.js';
import { codexCredentialProblem } from '../runs/codex-credentials.js';

/** A group's harness choice, as start needs it. */
interface GroupHarness {
  folder: string;
  harness: string | null;
  provider?: { envKey?: string | null } | null;
}

/** One thing the first lines of `clawpod start` must tell the owner. */
export interface StartNotice {
  harness: 'claude' | 'codex';
  groups: string[];
  message: string;
}

/**
 * Model credentials missing for a harness some group uses (the configured default counts for
 * every group without its own): without one the agent cannot answer, so start says so at once
 * and how to add it, instead of leaving the owner to find out from the first reply.
 */
export function missingModelKeys(config: Config, groups: GroupHarness[]): StartNotice[] {
  const users = { claude: [] as string[], codex: [] as string[] };
  for (const g of groups) {
    const h = g.harness ?? config.file.defaults.harness;
    // A codex group on a keyless custom provider needs no OpenAI key.
    if (h === 'codex' && g.provider && g.provider.envKey === null) continue;
    if (h === 'claude' || h === 'codex') users[h].push(g.folder);
  }
  const out: StartNotice[] = [];
  if (users.claude.length && claudeCredentialProblem(config.env))
    out.push({
      harness: 'claude',
      groups: users.claude,
      message:
        'no model credential: the Claude agent cannot answer until you add one. Run `clawpod setup`, ' +
        'or `clawpod secrets set ANTHROPIC_API_KEY` (or CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`), then restart clawpod',
    });
  if (users.codex.length && codexCredentialProblem(config.env))
    out.push({
      harness: 'codex',
      groups: users.codex,
      message:
        'no model credential: the Codex agent cannot answer until you add one. Run `clawpod setup`, ' +
        'or `clawpod secrets set OPENAI_API_KEY`, then restart clawpod',
    });
  return out;
}
