import type { Prompter } from './prompter.js';
import { storeSecrets, type SetupContext } from './context.js';

/** The model credentials clawpod reads (never passed into a sandbox). */
export const MODEL_VARS = {
  anthropic: 'ANTHROPIC_API_KEY',
  subscription: 'CLAUDE_CODE_OAUTH_TOKEN',
  openai: 'OPENAI_API_KEY',
} as const;
export type ModelChoice = keyof typeof MODEL_VARS;

/** Why a credential looks wrong (a pasted placeholder, a key of the other kind), or undefined. */
export function credentialProblem(kind: ModelChoice, value: string): string | undefined {
  if (!value) return 'paste the value (input is hidden)';
  if (/\s/.test(value)) return 'a key has no spaces: paste it again';
  if (kind === 'openai' && value.startsWith('sk-ant-'))
    return 'that is an Anthropic key, not an OpenAI one';
  if (
    kind !== 'openai' &&
    /^sk-(proj-)?[A-Za-z0-9_-]{20,}$/.test(value) &&
    !value.startsWith('sk-ant-')
  )
    return 'that looks like an OpenAI key, not an Anthropic one';
  return undefined;
}

/** Which model credentials are set now (names only). */
export function modelKeysSet(env: Record<string, string>): string[] {
  return Object.values(MODEL_VARS).filter((v) => env[v]?.trim());
}

/**
 * The model credential: an Anthropic API key, a Claude subscription token (`claude
 * setup-token`) or an OpenAI key for Codex, stored in `.env` (0600). Codex chosen alone
 * becomes the default harness.
 */
export async function modelStep(ui: Prompter, ctx: SetupContext): Promise<void> {
  const set = modelKeysSet(ctx.env);
  if (set.length) ui.ok(`model credentials set: ${set.join(', ')}`);
  for (;;) {
    const choice = await ui.select<ModelChoice | 'done'>(
      set.length ? 'Add or replace a model credential?' : 'Which model should the agents use?',
      [
        ...(set.length ? [{ value: 'done' as const, label: 'Keep what is set' }] : []),
        {
          value: 'anthropic',
          label: 'Claude with an Anthropic API key',
          hint: 'console.anthropic.com → API keys',
        },
        {
          value: 'subscription',
          label: 'Claude with your Claude subscription',
          hint: 'run `claude setup-token` and paste the token',
        },
        { value: 'openai', label: 'Codex with an OpenAI API key', hint: 'platform.openai.com' },
        ...(set.length ? [] : [{ value: 'done' as const, label: 'Skip for now' }]),
      ],
    );
    if (choice === 'done') {
      if (!modelKeysSet(ctx.env).length)
        ui.warn(
          'No model credential: the agent cannot answer yet. Add one later with `clawpod setup` or `clawpod secrets set ANTHROPIC_API_KEY`.',
        );
      return;
    }
    const name = MODEL_VARS[choice];
    const value = await ui.secret({
      message: `${name}:`,
      validate: (v) => credentialProblem(choice, v),
    });
    storeSecrets(ctx, { [name]: value });
    ui.ok(`stored ${name} in ${ctx.paths.envFile} (mode 0600)`);
    if (choice === 'openai' && !ctx.env.ANTHROPIC_API_KEY && !ctx.env.CLAUDE_CODE_OAUTH_TOKEN) {
      if (await ui.confirm('Make Codex the default harness of every group?', true)) {
        ctx.doc.set(['defaults', 'harness'], 'codex');
        ctx.doc.save();
      }
    }
    return;
  }
}
