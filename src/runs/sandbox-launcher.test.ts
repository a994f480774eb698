import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { builtinHarnesses } from '../agent/harnesses/index.js';
import { loadConfig } from '../config/load.js';
import type { Group } from '../store/group-schema.js';
import { silentLogger } from '../logging/logger.js';
import '../sandbox/index.js';
import { agentMounts } from './sandbox-launch.js';
import { SandboxLauncher } from './sandbox-launcher.js';

const tmp = useTempDirs('clawpod-launcher-');

const group = (over: Partial<Group> = {}): Group => ({
  folder: 'team',
  isMain: false,
  trigger: null,
  requiresTrigger: true,
  harness: null,
  command: null,
  runtime: null,
  model: null,
  limits: {},
  senders: null,
  warm: false,
  threadReplies: false,
  env: {},
  harnessOptions: {},
  delegates: [],
  mounts: [],
  createdAt: 1,
  sandboxSlot: 1,
  chats: [],
  ...over,
});

/** The launchers of every built-in harness, on the `none` runtime, with `env` as config.env. */
async function launchers(env: Record<string, string>, packageRoot?: string) {
  const home = tmp();
  writeFileSync(join(home, 'config.yaml'), 'runtime: none\n');
  const launcher = new SandboxLauncher({
    config: loadConfig({ CLAWPOD_HOME: home, ...env }),
    log: silentLogger(),
    harnesses: builtinHarnesses.map((h) => h.spec),
    ...(packageRoot ? { packageRoot } : {}),
  });
  await launcher.init();
  const byName = new Map(launcher.launchers().map((l) => [l.harness, l]));
  return (harness: string, g: Group) => byName.get(harness)!.problem(g)?.message;
}

describe('SandboxLauncher: what stops a harness before any sandbox starts', () => {
  it('serves every registered harness', async () => {
    const home = tmp();
    writeFileSync(join(home, 'config.yaml'), 'runtime: none\n');
    const launcher = new SandboxLauncher({
      config: loadConfig({ CLAWPOD_HOME: home }),
      log: silentLogger(),
      harnesses: builtinHarnesses.map((h) => h.spec),
    });
    expect(launcher.launchers().map((l) => l.harness)).toEqual(['claude', 'codex', 'command']);
  });

  it("asks each harness's spec about its credential, with the group's options", async () => {
    const none = await launchers({});
    expect(none('claude', group())).toMatch(/ANTHROPIC_API_KEY.*CLAUDE_CODE_OAUTH_TOKEN/);
    expect(none('codex', group())).toMatch(
      /^The Codex agent has no credential. Set OPENAI_API_KEY/,
    );
    // A keyless provider (a local model server) needs no key.
    const keyless = {
      codex: { provider: { name: 'ollama', baseUrl: '/u/v1', envKey: null, wireApi: 'responses' } },
    };
    expect(none('codex', group({ harnessOptions: keyless }))).toBeUndefined();
    expect(none('command', group({ command: 'cat' }))).toBeUndefined();
    expect(none('command', group())).toMatch(/has no command: clawpod groups set team command=/);

    const keys = await launchers({ ANTHROPIC_API_KEY: 'sk-x', OPENAI_API_KEY: 'sk-y' });
    expect(keys('claude', group())).toBeUndefined();
    expect(keys('codex', group())).toBeUndefined();
  });

  it('refuses options its harness does not take (a hand-edited database), naming them', async () => {
    const problem = await launchers({ ANTHROPIC_API_KEY: 'sk-x' });
    expect(problem('claude', group({ harnessOptions: { claude: { effort: 'extreme' } } }))).toMatch(
      /^Group "team" has invalid claude options \(harnessOptions\.claude\.effort: /,
    );
  });

  it('says to build when the runner bundle is missing', async () => {
    const problem = await launchers({ ANTHROPIC_API_KEY: 'sk-x' }, tmp());
    expect(problem('claude', group())).toMatch(/The agent runner is not built .*npm run build/);
  });
});

describe('agentMounts: what a sandbox sees of clawpod', () => {
  it('the bundle folder and the installed packages asked for, read-only; nothing else', () => {
    const root = realpathSync(tmp());
    for (const pkg of ['@acme/sdk', '@acme/sdk-linux-x64', 'other'])
      mkdirSync(join(root, 'node_modules', pkg), { recursive: true });
    mkdirSync(join(root, 'dist', 'agent-bundle'), { recursive: true });
    expect(
      agentMounts(['@acme/sdk', '@acme/sdk-linux-x64', '@acme/sdk-darwin-arm64'], root),
    ).toEqual([
      {
        hostPath: join(root, 'dist/agent-bundle'),
        sandboxPath: '/opt/clawpod/agent',
        readOnly: true,
      },
      {
        hostPath: join(root, 'node_modules/@acme/sdk'),
        sandboxPath: '/opt/clawpod/node_modules/@acme/sdk',
        readOnly: true,
      },
      {
        hostPath: join(root, 'node_modules/@acme/sdk-linux-x64'),
        sandboxPath: '/opt/clawpod/node_modules/@acme/sdk-linux-x64',
        readOnly: true,
      },
    ]);
    expect(agentMounts([], root)).toHaveLength(1);
  });
});
