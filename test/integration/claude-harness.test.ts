/**
 * The claude harness with the REAL Agent SDK and Claude Code binary, outside any sandbox,
 * against the fake Anthropic API on 127.0.0.1 (see test/support/claude-world.ts for why
 * IS_SANDBOX=1 is set when the tests run as root).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeHarness } from '../../src/agent/harnesses/claude/harness.js';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import {
  isToolRound,
  reply,
  startFakeAnthropic,
  toolResults,
  userText,
  type FakeAnthropic,
} from '../fakes/anthropic-server.js';
import { claudeWorld, MCP_MAIN, TEST_MODEL } from '../support/claude-world.js';

let fake: FakeAnthropic;
const harnesses: ClaudeHarness[] = [];
beforeAll(async () => {
  if (!existsSync(MCP_MAIN)) throw new Error(`${MCP_MAIN} is missing: run npm run build first`);
  fake = await startFakeAnthropic();
});
afterAll(() => fake.close());
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
  fake.requests.length = 0;
});

function harness(world: ReturnType<typeof claudeWorld>, over = {}): ClaudeHarness {
  const h = new ClaudeHarness(world.start(over), world.env);
  harnesses.push(h);
  return h;
}

async function collect(it: AsyncIterable<RunnerEvent>): Promise<RunnerEvent[]> {
  const out: RunnerEvent[] = [];
  for await (const ev of it) out.push(ev);
  return out;
}

const never = new AbortController().signal;
/** The turn's outcome events, without the live progress (partial text, tool steps). */
const settled = (evs: RunnerEvent[]) =>
  evs.filter((e) => e.type !== 'partial' && e.type !== 'tool');
const resultOf = (evs: RunnerEvent[]) =>
  evs.find((e): e is Extract<RunnerEvent, { type: 'result' }> => e.type === 'result');

describe('claude harness (real Claude Code, fake model)', () => {
  it('answers a text turn with text, then a result carrying session, tokens and cost', async () => {
    const world = claudeWorld(fake.url);
    writeFileSync(join(world.group, 'CLAUDE.md'), 'GROUP-MEMORY: the owner likes tea\n');
    writeFileSync(join(world.global, 'CLAUDE.md'), 'GLOBAL-MEMORY: shared facts\n');
    mkdirSync(join(world.group, '.claude/skills/groupskill'), { recursive: true });
    writeFileSync(
      join(world.group, '.claude/skills/groupskill/SKILL.md'),
      '---\nname: groupskill\ndescription: GROUP-SKILL-DESC\n---\nbody\n',
    );
    mkdirSync(join(world.global, '.claude/skills/globalskill'), { recursive: true });
    writeFileSync(
      join(world.global, '.claude/skills/globalskill/SKILL.md'),
      '---\nname: globalskill\ndescription: GLOBAL-SKILL-DESC\n---\nbody\n',
    );
    fake.setScript(() =>
      reply.text('Hello from the fake model', {
        input_tokens: 120,
        output_tokens: 30,
        cache_read_input_tokens: 7,
        cache_creation_input_tokens: 5,
      }),
    );
    const evs = await collect(harness(world).turn('hi there', null, never));
    expect(evs.filter((e) => e.type === 'message')).toEqual([
      { type: 'message', text: 'Hello from the fake model' },
    ]);
    // The text streamed as it was written (partials), before its message; joined, the same text.
    const firstMessage = evs.findIndex((e) => e.type === 'message');
    const partials = evs.slice(0, firstMessage).filter((e) => e.type === 'partial');
    expect(partials.length).toBeGreaterThan(0);
    expect(partials.map((e) => (e as { text: string }).text).join('')).toBe(
      'Hello from the fake model',
    );
    const result = resultOf(evs);
    expect(result?.resumeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result?.usage).toMatchObject({
      inputTokens: 120,
      outputTokens: 30,
      cacheReadTokens: 7,
      cacheWriteTokens: 5,
    });
    expect(result?.usage?.costUsd).toBeGreaterThan(0);

    const [req] = fake.messages();
    expect(req?.query).toBe('?beta=true');
    expect(req?.headers['x-api-key']).toBe('sk-ant-test-harness-key-0001');
    const body = req!.body!;
    expect(body.model).toBe(TEST_MODEL);
    const tools = (body.tools ?? []).map((t) => t.name);
    // clawpod's MCP tools reach the request (alwaysLoad), Claude Code's own schedulers do not.
    expect(tools).toEqual(
      expect.arrayContaining([
        'mcp__clawpod__send_message',
        'mcp__clawpod__schedule_task',
        'Bash',
        'Write',
      ]),
    );
    for (const t of ['CronCreate', 'CronDelete', 'CronList', 'ScheduleWakeup', 'RemoteTrigger']) {
      expect(JSON.stringify(body)).not.toContain(`"${t}"`);
    }
    const all = JSON.stringify(body);
    expect(all).toContain('clawpod');
    expect(all).toContain('schedule_task');
    expect(all).toContain('<internal>');
    expect(all).toContain('GROUP-MEMORY: the owner likes tea');
    expect(all).toContain('GLOBAL-MEMORY: shared facts');
    expect(all).toContain('GROUP-SKILL-DESC');
    expect(all).toContain('GLOBAL-SKILL-DESC');
  });

  it('runs tools: Write creates a file in the group folder, send_message goes over IPC', async () => {
    const world = claudeWorld(fake.url);
    const host = world.answerIpc((op) =>
      op === 'approve_tool' ? { behavior: 'allow' } : { delivered: true, chat: 'web:main' },
    );
    fake.setScript((req) => {
      if (!isToolRound(req))
        return reply.tool('Write', {
          file_path: join(world.group, 'notes/out.txt'),
          content: 'written by the agent\n',
        });
      const last = toolResults(req).join('\n');
      if (!last.includes('delivered'))
        return reply.tool('mcp__clawpod__send_message', { text: 'progress: file written' });
      return reply.text('all done');
    });
    const evs = await collect(harness(world).turn('write the file', null, never));
    host.stop();
    expect(settled(evs).map((e) => e.type)).toEqual(['message', 'result']);
    // Live progress: a tool event per tool call, with what it does, before the reply's text.
    expect(evs.filter((e) => e.type === 'tool')).toEqual([
      { type: 'tool', name: 'Write', summary: join(world.group, 'notes/out.txt') },
      { type: 'tool', name: 'mcp__clawpod__send_message', summary: 'progress: file written' },
    ]);
    expect(readFileSync(join(world.group, 'notes/out.txt'), 'utf8')).toBe('written by the agent\n');
    // Write asked the host first (approve_tool); clawpod's own tool went straight to its op.
    expect(host.requests).toEqual([
      expect.objectContaining({
        op: 'approve_tool',
        args: {
          tool: 'Write',
          input: {
            file_path: join(world.group, 'notes/out.txt'),
            content: 'written by the agent\n',
          },
        },
      }),
      expect.objectContaining({ op: 'send_message', args: { text: 'progress: file written' } }),
    ]);
    // The model saw the host's real answer as the tool result.
    expect(toolResults(fake.messages().at(-1)!.body!).join('')).toContain('"delivered": true');
    expect(resultOf(evs)?.usage?.inputTokens).toBe(300); // three model calls of 100
  });

  it('reports usage for a turn that says nothing (tool-only)', async () => {
    const world = claudeWorld(fake.url);
    const host = world.answerIpc();
    fake.setScript((req) =>
      isToolRound(req)
        ? { content: [], usage: { input_tokens: 50, output_tokens: 1 } }
        : reply.tool('Bash', { command: 'true', description: 'nothing' }),
    );
    const evs = await collect(harness(world).turn('do it quietly', null, never));
    host.stop();
    expect(settled(evs).map((e) => e.type)).toEqual(['result']);
    // 100 for the tool call, 50 for each empty answer (Claude Code may nudge the model once more).
    const calls = fake.messages().length;
    expect(resultOf(evs)?.usage?.inputTokens).toBe(100 + 50 * (calls - 1));
    expect(resultOf(evs)?.usage?.costUsd).toBeGreaterThan(0);
  });

  it('continues the session: warm in the same process, and resumed by a new process', async () => {
    const world = claudeWorld(fake.url);
    fake.setScript((_req, n) => reply.text(`answer ${n}`));
    const h = harness(world);
    const first = await collect(h.turn('FIRST-PROMPT', null, never));
    const sid = resultOf(first)!.resumeId!;
    const second = await collect(h.turn('SECOND-PROMPT', sid, never));
    expect(resultOf(second)?.resumeId).toBe(sid);
    expect(userText(fake.messages().at(-1)!.body!)).toContain('FIRST-PROMPT');
    h.close();

    // A later run: a new harness resumes the stored session id.
    const third = await collect(harness(world).turn('THIRD-PROMPT', sid, never));
    expect(resultOf(third)?.resumeId).toBe(sid);
    const seen = fake.messages().at(-1)!.body!;
    expect(userText(seen)).toContain('FIRST-PROMPT');
    expect(userText(seen)).toContain('SECOND-PROMPT');
    const firstAnswer = (first.find((e) => e.type === 'message') as { text: string }).text;
    expect(JSON.stringify(seen.messages)).toContain(firstAnswer);
    // Each turn is charged once, though Claude Code's totals are cumulative over the session.
    for (const evs of [first, second, third])
      expect(resultOf(evs)?.usage).toMatchObject({ inputTokens: 100, outputTokens: 20 });
    expect(resultOf(third)?.usage?.costUsd).toBeCloseTo(resultOf(first)!.usage!.costUsd!, 9);
  });

  it('starts fresh once, with a log note, when the stored session no longer exists', async () => {
    const world = claudeWorld(fake.url);
    fake.setScript(() => reply.text('fresh answer'));
    const gone = '0f0f0f0f-0000-4000-8000-000000000000';
    const evs = await collect(harness(world).turn('hello again', gone, never));
    expect(evs[0]).toMatchObject({ type: 'log', level: 'warn' });
    expect((evs[0] as { msg: string }).msg).toContain(gone);
    expect(settled(evs.slice(1)).map((e) => e.type)).toEqual(['message', 'result']);
    expect(resultOf(evs)?.resumeId).not.toBe(gone);
    expect(fake.messages()).toHaveLength(1);
  });

  it('reports a refused credential (401) at once, not retryable, naming the variables', async () => {
    const world = claudeWorld(fake.url);
    fake.setScript(() => reply.error(401, 'authentication_error', 'invalid x-api-key'));
    const t0 = Date.now();
    const evs = await collect(harness(world).turn('hi', null, never));
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(evs).toHaveLength(1);
    const err = evs[0] as Extract<RunnerEvent, { type: 'error' }>;
    expect(err).toMatchObject({ type: 'error', retryable: false });
    expect(err.message).toContain('ANTHROPIC_API_KEY');
    expect(err.message).toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(err.message).not.toContain('sk-ant-test-harness-key-0001');
    // Claude Code was stopped, not left retrying the dead credential in the background.
    await new Promise((r) => setTimeout(r, 1200));
    expect(fake.messages()).toHaveLength(1);
  });

  it('fails without starting Claude Code when no credential is set', async () => {
    const world = claudeWorld(fake.url, { ANTHROPIC_API_KEY: undefined });
    const evs = await collect(harness(world).turn('hi', null, never));
    expect(evs).toEqual([expect.objectContaining({ type: 'error', retryable: false })]);
    expect((evs[0] as { message: string }).message).toMatch(
      /ANTHROPIC_API_KEY.*CLAUDE_CODE_OAUTH_TOKEN/,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('sends an OAuth token as a Bearer token', async () => {
    const world = claudeWorld(fake.url, {
      ANTHROPIC_API_KEY: undefined,
      CLAUDE_CODE_OAUTH_TOKEN: 'oauth-test-token-0002',
    });
    fake.setScript(() => reply.text('ok'));
    const evs = await collect(harness(world).turn('hi', null, never));
    expect(resultOf(evs)).toBeDefined();
    expect(fake.messages()[0]?.headers.authorization).toBe('Bearer oauth-test-token-0002');
    expect(fake.messages()[0]?.headers['x-api-key']).toBeUndefined();
  });

  it('archives the transcript into conversations/ before compacting', async () => {
    const world = claudeWorld(fake.url);
    fake.setScript((req) =>
      userText(req).includes('summar') && !req.tools?.length
        ? reply.text('<summary>we talked</summary>')
        : reply.text('REMEMBER-THIS-ANSWER'),
    );
    const h = harness(world);
    const first = await collect(h.turn('ARCHIVE-ME please', null, never));
    const compact = await collect(h.turn('/compact', resultOf(first)!.resumeId!, never));
    expect(compact.find((e) => e.type === 'log')).toMatchObject({ level: 'info' });
    expect(resultOf(compact)).toBeDefined();
    const files = readdirSync(join(world.group, 'conversations'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.md$/);
    const md = readFileSync(join(world.group, 'conversations', files[0]!), 'utf8');
    expect(md).toContain('ARCHIVE-ME please');
    expect(md).toContain('REMEMBER-THIS-ANSWER');
  });

  it('stops a turn when the signal aborts', async () => {
    const world = claudeWorld(fake.url);
    fake.setScript(() => new Promise<never>(() => undefined)); // the model never answers
    const ac = new AbortController();
    const pending = collect(harness(world).turn('hi', null, ac.signal));
    await fake.nextRequest();
    const t0 = Date.now();
    ac.abort();
    const evs = await pending;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(evs.at(-1)).toMatchObject({ type: 'error' });
    expect(resultOf(evs)).toBeUndefined();
  });
});
