import { createInterface } from 'node:readline';
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { encodeEvent, startRequestSchema } from '../protocol/runner-protocol.js';
import { egressEnv } from './egress-bridge.js';
import type { Harness } from './harnesses/harness.js';
import { builtinHarnesses, findHarness } from './harnesses/index.js';
import { AgentRunner } from './runner.js';

/**
 * Entry point inside the sandbox: `node /opt/clawpod/agent/runner.cjs` (this file, bundled).
 * Reads the start request (one JSON line) from stdin, then turn inputs and `close` (see
 * runner-protocol.ts), writes JSONL events to stdout, exits 0 when done.
 */
async function main(): Promise<number> {
  // zod/mini carries no messages of its own: validation errors should say what was expected.
  config(en());
  const lines = createInterface({ input: process.stdin });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  const write = (line: string) => process.stdout.write(line);
  if (first.done) return 2;
  const parsed = startRequestSchema.safeParse(JSON.parse(first.value));
  if (!parsed.success) {
    write(
      JSON.stringify({
        type: 'error',
        message: `bad start request: ${parsed.error.issues[0]?.message}`,
        retryable: false,
      }) + '\n',
    );
    return 2;
  }
  let harness: Harness;
  try {
    const start = parsed.data;
    const entry = findHarness(start.harness);
    if (!entry)
      throw new Error(
        `harness "${start.harness}" is not available in this runner (have: ${builtinHarnesses.map((h) => h.spec.name).join(', ')})`,
      );
    const options = entry.spec.optionsSchema.safeParse(start.harnessOptions ?? {});
    if (!options.success) {
      const issue = options.error.issues[0];
      throw new Error(
        `bad ${start.harness} options: ${issue?.path.map(String).join('.') || 'options'}: ${issue?.message}`,
      );
    }
    // With a proxy: the bridge to the host's egress socket, base URLs and placeholder keys.
    const env = await egressEnv(start.proxy, process.env);
    harness = await (await entry.load()).createHarness(start, env);
  } catch (err) {
    write(
      JSON.stringify({ type: 'error', message: (err as Error).message, retryable: false }) + '\n',
    );
    return 2;
  }
  const runner = new AgentRunner(parsed.data, harness, { write });
  write(encodeEvent({ type: 'ready' }));
  void (async () => {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      runner.line(next.value);
    }
    // When the host closes stdin it is gone: end at once.
    runner.hostGone();
  })();
  await runner.done;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stdout.write(JSON.stringify({ type: 'error', message: String(err) }) + '\n');
    process.exit(1);
  },
);
