import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StartRequest } from '../../../protocol/runner-protocol.js';
import { renderConfig, resolveProvider, tomlString, type CodexSetup } from './config.js';
import { classifyFailure, CodexTurnReader } from './events.js';
import { costUsd, priceFor } from './prices.js';
import { ThreadUsageLedger, usageFields } from './usage.js';

const start = (over: Partial<StartRequest> = {}): StartRequest => ({
  type: 'start',
  sessionId: 'ses_1',
  sessionToken: 'token-token-token-token',
  group: 'main',
  isMain: true,
  harness: 'codex',
  command: null,
  model: 'gpt-5.5',
  resumeId: null,
  timezone: 'UTC',
  assistantName: 'Andy',
  ...over,
});

describe('codex config', () => {
  it('escapes TOML strings', () => {
    expect(tomlString('a"b\\c\nd\te\u0001\u007f é')).toBe('"a\\"b\\\\c\\nd\\te\\u0001\\u007f é"');
    expect(tomlString('\uD800x')).toBe('"\uFFFDx"');
  });

  it('points the default provider at OPENAI_BASE_URL (adding /v1 to a bare origin)', () => {
    expect(resolveProvider(start(), {})).toMatchObject({
      baseUrl: 'https://api.openai.com/v1',
      envKey: 'OPENAI_API_KEY',
      isOpenAi: true,
    });
    expect(resolveProvider(start(), { OPENAI_BASE_URL: 'http://127.0.0.1:9/' }).baseUrl).toBe(
      'http://127.0.0.1:9/v1',
    );
    expect(
      resolveProvider(start(), { OPENAI_BASE_URL: 'http://127.0.0.1:9/openai/v1' }).baseUrl,
    ).toBe('http://127.0.0.1:9/openai/v1');
  });

  it('takes a custom provider, resolving a bridge path against OPENAI_BASE_URL', () => {
    const provider = {
      name: 'Ollama',
      baseUrl: '/upstream/ollama',
      envKey: null,
      wireApi: 'responses' as const,
    };
    const env = { OPENAI_BASE_URL: 'http://127.0.0.1:7000/openai/v1' };
    expect(
      resolveProvider(start({ harnessOptions: { provider } }), {
        ...env,
        CLAWPOD_EGRESS_URL: 'http://127.0.0.1:7001',
      }).baseUrl,
    ).toBe('http://127.0.0.1:7001/upstream/ollama');
    expect(resolveProvider(start({ harnessOptions: { provider } }), env)).toEqual({
      name: 'Ollama',
      baseUrl: 'http://127.0.0.1:7000/upstream/ollama',
      envKey: null,
      isOpenAi: false,
    });
    const remote = { ...provider, baseUrl: 'https://openrouter.ai/api/v1/', envKey: 'OR_KEY' };
    expect(resolveProvider(start({ harnessOptions: { provider: remote } }), env)).toMatchObject({
      baseUrl: 'https://openrouter.ai/api/v1',
      envKey: 'OR_KEY',
    });
  });

  it('renders provider, features and the MCP server', () => {
    const setup: CodexSetup = {
      codexHome: '/h',
      model: 'gpt-5.5',
      effort: null,
      provider: {
        name: 'OpenAI',
        baseUrl: 'http://x/v1',
        envKey: 'OPENAI_API_KEY',
        isOpenAi: true,
      },
      mcp: {
        command: '/usr/bin/node',
        args: ['/opt/clawpod/agent/mcp.cjs'],
        ipcDir: '/workspace/ipc',
        sessionToken: 'token-token-token-token',
      },
      instructions: 'be "nice"',
      askBefore: [],
    };
    const text = renderConfig(setup);
    expect(text).toContain('model = "gpt-5.5"\n');
    expect(text).toContain('model_provider = "clawpod"');
    expect(text).toContain(
      '[model_providers.clawpod]\nname = "OpenAI"\nbase_url = "http://x/v1"\nwire_api = "responses"\nenv_key = "OPENAI_API_KEY"',
    );
    expect(text).toContain('[features]\nplugins = false');
    expect(text).toContain('args = ["/opt/clawpod/agent/mcp.cjs"]');
    expect(text).toContain(
      'env = { CLAWPOD_IPC_DIR = "/workspace/ipc", CLAWPOD_SESSION_TOKEN = "token-token-token-token" }',
    );
    expect(text).toContain('developer_instructions = "be \\"nice\\""');
    // A clawpod tool waiting for the owner or a delegate is not cut at Codex's 60 s default.
    expect(text).toContain('default_tools_approval_mode = "approve"\ntool_timeout_sec = 14400\n');
    expect(text).not.toContain('model_reasoning_effort');
    const keyless = renderConfig({
      ...setup,
      model: null,
      provider: { ...setup.provider, envKey: null },
    });
    expect(keyless).not.toContain('env_key');
    expect(keyless).not.toMatch(/^model = /m);
    expect(text).toContain('approval_policy = "never"');
    // Commands to ask about: only the rules file's prompts ask (granular policy).
    const asking = renderConfig({ ...setup, askBefore: ['git push'] });
    expect(asking).toMatch(
      /^approval_policy = \{ granular = \{ sandbox_approval = false, rules = true,/m,
    );
  });
});

describe('codex JSONL', () => {
  it('keeps the last agent message as the reply and thread totals from turn.completed', () => {
    const r = new CodexTurnReader();
    const logs = [
      '{"type":"thread.started","thread_id":"t-1"}',
      '{"type":"item.completed","item":{"id":"i0","type":"error","message":"Model metadata for `x` not found."}}',
      '{"type":"turn.started"}',
      '{"type":"item.completed","item":{"id":"i1","type":"agent_message","text":"Let me look."}}',
      '{"type":"item.completed","item":{"id":"i2","type":"command_execution","command":"secret-ish","exit_code":0,"status":"completed"}}',
      '{"type":"item.completed","item":{"id":"i3","type":"agent_message","text":"Done."}}',
      'not json',
      '{"type":"turn.completed","usage":{"input_tokens":300,"cached_input_tokens":30,"cache_write_input_tokens":0,"output_tokens":60,"reasoning_output_tokens":15}}',
    ].flatMap((l) => r.line(l));
    expect(r.threadId).toBe('t-1');
    expect(r.reply).toBe('Done.');
    expect(r.totals).toEqual({ input: 300, cachedInput: 30, cacheWrite: 0, output: 60 });
    expect(r.strayLines).toBe(1);
    expect(logs.map((l) => l.level)).toEqual(['debug', 'debug', 'debug']);
    expect(JSON.stringify(logs)).not.toContain('secret-ish');
  });

  it('reports turn.failed, with `error` events only as warnings', () => {
    const r = new CodexTurnReader();
    r.line('{"type":"error","message":"Reconnecting... 1/5"}');
    expect(r.failure).toBeNull();
    r.line(
      '{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: Incorrect API key provided., url: http://127.0.0.1:1/v1/responses"}}',
    );
    expect(r.failure).toContain('401');
    expect(r.totals).toBeNull();
  });

  it('classifies failures: key problems and unknown models are not retryable', () => {
    const ctx = { envKey: 'OPENAI_API_KEY', providerName: 'OpenAI', model: 'gpt-x' };
    const c401 = classifyFailure(
      'unexpected status 401 Unauthorized: Incorrect API key provided., url: http://h/v1/responses',
      ctx,
    );
    expect(c401.retryable).toBe(false);
    expect(c401.message).toContain('OPENAI_API_KEY');
    expect(c401.message).not.toContain('url:');
    expect(classifyFailure('Missing environment variable: `OPENAI_API_KEY`.', ctx)).toMatchObject({
      retryable: false,
    });
    expect(
      classifyFailure('unexpected status 404 Not Found: model_not_found', ctx).message,
    ).toContain('"gpt-x"');
    expect(classifyFailure('stream disconnected before completion', ctx).retryable).toBe(true);
  });
});

describe('codex usage and cost', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('turns thread totals into per-turn tokens across runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-usage-'));
    dirs.push(dir);
    const file = join(dir, 'u.json');
    const t = (input: number, output: number) => ({
      input,
      cachedInput: input / 10,
      cacheWrite: 0,
      output,
    });
    expect(await new ThreadUsageLedger(file).turnDelta('a', t(1000, 3))).toEqual(t(1000, 3));
    expect(await new ThreadUsageLedger(file).turnDelta('a', t(3000, 9))).toEqual(t(2000, 6));
    expect(await new ThreadUsageLedger(file).turnDelta('b', t(500, 1))).toEqual(t(500, 1));
    // A smaller total means Codex counted anew: the totals are the turn's.
    expect(await new ThreadUsageLedger(file).turnDelta('a', t(100, 1))).toEqual(t(100, 1));
    writeFileSync(file, '{"a": {"input": "x"}}');
    expect(await new ThreadUsageLedger(file).turnDelta('a', t(100, 1))).toEqual(t(100, 1));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('a.input', 100);
  });

  it('prices known models only, dated snapshots included', () => {
    const tokens = { input: 1_000_000, cachedInput: 200_000, cacheWrite: 0, output: 100_000 };
    // gpt-5.5: 800k × $5 + 200k × $0.50 + 100k × $30 per 1M
    expect(costUsd('gpt-5.5', tokens)).toBeCloseTo(4 + 0.1 + 3, 6);
    expect(priceFor('gpt-5.4-2026-03-05')).toEqual(priceFor('gpt-5.4'));
    expect(costUsd('llama3.2', tokens)).toBeUndefined();
    expect(priceFor('gpt-5.4-pro')).toBeUndefined();
    expect(usageFields(tokens)).toEqual({
      inputTokens: 800_000,
      outputTokens: 100_000,
      cacheReadTokens: 200_000,
      cacheWriteTokens: 0,
    });
  });
});
