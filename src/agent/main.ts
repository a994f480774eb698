import { createInterface } from 'node:readline';
import { encodeEvent, startRequestSchema } from '../protocol/runner-protocol.js';
import { egressEnv } from './egress-bridge.js';
import { createHarness } from './harnesses/harness.js';
import { loadHarness } from './harnesses/index.js';
import { AgentRunner } from './runner.js';

/**
 * Entry point inside the sandbox: `node dist/agent/main.js`. Reads the start request (one JSON
 * line) from stdin, then turn inputs and `close` (see runner-protocol.ts), writes JSONL events to
 * stdout, exits 0 when done.
 */
async function main(): Promise<number> {
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
  let harness;
  try {
    // With a proxy: the bridge to the host's egress socket, base URLs and placeholder keys.
    const env = await egressEnv(parsed.data.proxy, process.env);
    await loadHarness(parsed.data.harness);
    harness = createHarness(parsed.data, env);
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
