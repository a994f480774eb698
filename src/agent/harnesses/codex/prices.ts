/**
 * Token prices for the models the codex harness may run, to turn Codex's token counts into a
 * cost (Codex reports none). USD per 1,000,000 tokens at OpenAI's standard tier, as published on
 * developers.openai.com model pages / the pricing page, checked 2026-11. Estimates: the
 * long-context rate (> 272K input tokens in one request), Fast/priority, Batch and Flex tiers
 * cannot be told apart from a turn's totals and are not applied.
 *
 * An unknown model gets no cost (never a guess): add a row when OpenAI publishes one. Custom
 * providers (Ollama, vLLM, OpenRouter…) price differently and get no cost either.
 */
export interface ModelPrice {
  input: number;
  cachedInput: number;
  /** Prompt-cache writes; absent: billed as plain input. */
  cacheWrite?: number;
  output: number;
}

const p = (input: number, cachedInput: number, output: number, cacheWrite?: number): ModelPrice =>
  cacheWrite === undefined
    ? { input, cachedInput, output }
    : { input, cachedInput, output, cacheWrite };

export const CODEX_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-6.2-sol': p(2, 0.1, 10, 2.5),
  'gpt-6.1-sol': p(2, 0.1, 10),
  'gpt-6-sol': p(2, 0.2, 10, 2.5),
  'gpt-6-luna': p(0.1, 0.01, 0.5, 0.125),
  'gpt-6-astra': p(10, 1, 50, 12.5),
  'gpt-5.5': p(5, 0.5, 30),
  'gpt-5.4': p(2.5, 0.25, 15),
  'gpt-5.4-mini': p(0.75, 0.075, 4.5),
  'gpt-5.4-nano': p(0.2, 0.02, 1.25),
  'gpt-5.3-codex': p(1.75, 0.175, 14),
  'gpt-5.2': p(1.75, 0.175, 14),
  'gpt-5.2-codex': p(1.75, 0.175, 14),
  'gpt-5.1': p(1.25, 0.125, 10),
  'gpt-5.1-codex': p(1.25, 0.125, 10),
  'gpt-5': p(1.25, 0.125, 10),
  'gpt-5-codex': p(1.25, 0.125, 10),
  'gpt-5-mini': p(0.25, 0.025, 2),
  'gpt-5-nano': p(0.05, 0.005, 0.4),
};

/** The price row for `model`, also for a dated snapshot (`gpt-5.4-2026-03-05`); else undefined. */
export function priceFor(model: string): ModelPrice | undefined {
  const name = model.trim().toLowerCase();
  return CODEX_PRICES[name] ?? CODEX_PRICES[name.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
}

/** Token counts of one turn, as the OpenAI API counts them. */
export interface TurnTokens {
  /** All input tokens, cached reads and cache writes included. */
  input: number;
  cachedInput: number;
  cacheWrite: number;
  /** Output tokens, reasoning included. */
  output: number;
}

/** USD cost of `tokens` on `model`; undefined when the model has no known price. */
export function costUsd(model: string, tokens: TurnTokens): number | undefined {
  const price = priceFor(model);
  if (!price) return undefined;
  const plain = Math.max(0, tokens.input - tokens.cachedInput - tokens.cacheWrite);
  const usd =
    plain * price.input +
    tokens.cachedInput * price.cachedInput +
    tokens.cacheWrite * (price.cacheWrite ?? price.input) +
    tokens.output * price.output;
  return usd / 1_000_000;
}
