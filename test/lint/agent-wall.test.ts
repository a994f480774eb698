/**
 * The walls eslint.config.js holds around src/agent/: the agent code runs in the sandbox and may
 * import only src/protocol/ from the rest of src/; the host imports agent code only through the
 * harness registry. Checked with the project's real ESLint config on small snippets.
 */
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function walled(file: string, from: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import { x } from '${from}';\nexport const y = x;\n`, {
    filePath: resolve(root, file),
  });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the agent wall (no-restricted-imports)', () => {
  it.each([
    ['src/agent/main.ts', '../runs/turn.js'],
    ['src/agent/main.ts', '../../package.json'],
    ['src/agent/mcp/server.ts', '../../store/store.js'],
    ['src/agent/harnesses/claude/harness.ts', '../../../config/load.js'],
    ['src/agent/harnesses/codex/parts.test.ts', '../../../store/group-schema.js'],
  ])('refuses %s importing %s', async (file, from) => {
    expect(await walled(file, from)).toEqual([expect.stringContaining('src/protocol/')]);
  });

  it.each([
    ['src/agent/main.ts', '../protocol/runner-protocol.js'],
    ['src/agent/main.ts', './harnesses/index.js'],
    ['src/agent/mcp/server.ts', '../../protocol/ipc.js'],
    ['src/agent/harnesses/codex/harness.ts', '../../mcp/location.js'],
    ['src/agent/harnesses/claude/harness.ts', '../../../protocol/harness-spec.js'],
    ['src/agent/harnesses/claude/harness.ts', '@anthropic-ai/claude-agent-sdk'],
  ])('lets %s import %s', async (file, from) => {
    expect(await walled(file, from)).toEqual([]);
  });

  it('lets the host import only the harness registry from src/agent/', async () => {
    expect(await walled('src/daemon.ts', './agent/harnesses/index.js')).toEqual([]);
    expect(await walled('src/runs/turn.ts', '../agent/harnesses/claude/harness.js')).toEqual([
      expect.stringContaining('agent/harnesses/index.js'),
    ]);
    expect(await walled('src/runs/turn.ts', '../agent/runner.js')).toHaveLength(1);
  });
});
